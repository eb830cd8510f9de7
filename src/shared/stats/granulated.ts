/**
 * Granulated Kendall Ψ (Jiang et al. 2019, "Fantastic Generalization Measures and Where to Find
 * Them", §4.2 / eq. 4). For each axis i, the runs are grouped by the values of every other axis (and
 * by a replicate key such as the seed); in each group τ-b(x, y) is computed over the runs, which then
 * differ only in axis i; m_i = mean of the group τs; Ψ = mean of m_i over the axes.
 *
 * Here, below `src/shared/`, because the dashboard page computes Ψ from the sweep rows it has
 * (`src/shared/sweep-psi.ts`); the study's reports use it through `src/study/stats/`.
 */
import { StatsError, checkPaired, checkSample } from './errors';
import { kendallTau } from './kendall';
import { at } from '../checked';

export interface GranulatedAxis {
  /** Axis name (shown in reports). */
  readonly name: string;
  /** The run's value on this axis, as a string key (equal strings = equal values). */
  readonly values: readonly string[];
}

export interface GranulatedOptions {
  /**
   * A key per run that is part of every group key but is not an axis (the seed): runs of different
   * replicates never share a group, so every group is one controlled comparison and the replicates
   * multiply the groups. Default: none.
   */
  readonly replicate?: readonly string[];
}

export interface GranulatedGroup {
  /** The values of the other axes (and the replicate) that define the group, joined for display. */
  readonly key: string;
  readonly n: number;
  readonly tau: number;
}

export interface GranulatedAxisResult {
  readonly name: string;
  /** Distinct values of the axis among the runs. */
  readonly levels: number;
  /** 'used': m_i defined; 'single-valued': one value only; 'no-groups': no group with a defined τ. */
  readonly status: 'used' | 'single-valued' | 'no-groups';
  /** Groups whose τ entered the mean, and the runs in them. */
  readonly groups: number;
  readonly runs: number;
  /** Groups left out: fewer than two runs, or τ undefined (x or y constant in the group). */
  readonly skippedGroups: number;
  /** m_i: mean τ over the groups (NaN unless `status === 'used'`). */
  readonly tau: number;
  readonly perGroup: readonly GranulatedGroup[];
}

export interface GranulatedResult {
  /** Ψ: mean of m_i over the used axes (NaN when none is used). */
  readonly psi: number;
  readonly axes: readonly GranulatedAxisResult[];
}

const SEP = '\u0000';

/**
 * Granulated Kendall coefficient of x and y over the given axes (Jiang et al. 2019). Groups need at
 * least two runs and a defined τ-b (neither x nor y constant within the group); others are skipped
 * and counted. Groups are visited in order of first appearance, so the result is deterministic.
 */
export function granulatedKendall(x: readonly number[], y: readonly number[], axes: readonly GranulatedAxis[], options: GranulatedOptions = {}): GranulatedResult {
  const fn = 'granulatedKendall';
  const xs = checkSample(fn, 'x', x, 0);
  const ys = checkSample(fn, 'y', y, 0);
  checkPaired(fn, xs, ys);
  const n = xs.length;
  for (const a of axes) {
    if (a.values.length !== n) throw new StatsError('length-mismatch', `${fn}: axis ${a.name} has ${a.values.length} values for ${n} runs`);
  }
  const rep = options.replicate;
  if (rep !== undefined && rep.length !== n) throw new StatsError('length-mismatch', `${fn}: replicate has ${rep.length} values for ${n} runs`);
  const results: GranulatedAxisResult[] = axes.map((axis, ai) => {
    const levels = new Set(axis.values).size;
    if (levels < 2) return { name: axis.name, levels, status: 'single-valued', groups: 0, runs: 0, skippedGroups: 0, tau: NaN, perGroup: [] };
    const groups = new Map<string, number[]>();
    for (let r = 0; r < n; r++) {
      const parts = axes.filter((_, j) => j !== ai).map((o) => o.values[r]);
      if (rep !== undefined) parts.push(rep[r]);
      const key = parts.join(SEP);
      const g = groups.get(key);
      if (g) g.push(r);
      else groups.set(key, [r]);
    }
    const perGroup: GranulatedGroup[] = [];
    let skipped = 0;
    for (const [key, idx] of groups) {
      if (idx.length < 2) {
        skipped++;
        continue;
      }
      try {
        const t = kendallTau(idx.map((i) => at(xs, i)), idx.map((i) => at(ys, i))).tau;
        perGroup.push({ key: key.split(SEP).join(', '), n: idx.length, tau: t });
      } catch (e) {
        if (!(e instanceof StatsError)) throw e;
        skipped++;
      }
    }
    if (perGroup.length === 0) return { name: axis.name, levels, status: 'no-groups', groups: 0, runs: 0, skippedGroups: skipped, tau: NaN, perGroup };
    const tau = perGroup.reduce((s, g) => s + g.tau, 0) / perGroup.length;
    return { name: axis.name, levels, status: 'used', groups: perGroup.length, runs: perGroup.reduce((s, g) => s + g.n, 0), skippedGroups: skipped, tau, perGroup };
  });
  const used = results.filter((a) => a.status === 'used');
  const psi = used.length === 0 ? NaN : used.reduce((s, a) => s + a.tau, 0) / used.length;
  return { psi, axes: results };
}

