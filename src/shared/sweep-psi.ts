/**
 * The granulated Kendall coefficient Ψ (Jiang et al. 2019; docs/statistics.md) of each gradient-flow
 * measure, for the sweep view: the same axes, groups and statistic as the report's
 * `correlation-granulated-*` table, computed from the rows the page already has. Pure and DOM-free.
 */
import { granulatedKendall, type GranulatedAxis } from './stats/granulated';
import type { PointValue, SweepNetResult, SweepRow } from './webview-protocol';
import { at } from './checked';

export const PSI_SEED_KEY = 'training.seed';

/** A sweep axis: one grid key, or the keys of a linked item (values that always move together). */
export interface AxisGroup {
  name: string;
  keys: string[];
}

/** A grid value as a grouping key: strings as they are, anything else as JSON. */
export function axisValueKey(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v ?? null);
}

/**
 * Axes of a set of grid points: every key except the seed, in first-seen order. Keys whose values
 * determine each other one-to-one over the points form one axis named `a + b` (a `sweep.linked`
 * item, or axes the points never vary apart); keys with one value are returned in `single`.
 */
export function sweepAxisGroups(points: ReadonlyArray<Readonly<Record<string, unknown>>>): { axes: AxisGroup[]; single: string[] } {
  const keys: string[] = [];
  for (const p of points) for (const k of Object.keys(p)) if (k !== PSI_SEED_KEY && !keys.includes(k)) keys.push(k);
  const value = (p: Readonly<Record<string, unknown>>, k: string): string => axisValueKey(p[k]);
  const single = keys.filter((k) => new Set(points.map((p) => value(p, k))).size < 2);
  const bijective = (a: string, b: string): boolean => {
    const ab = new Map<string, string>();
    const ba = new Map<string, string>();
    for (const p of points) {
      const va = value(p, a);
      const vb = value(p, b);
      if ((ab.has(va) && ab.get(va) !== vb) || (ba.has(vb) && ba.get(vb) !== va)) return false;
      ab.set(va, vb);
      ba.set(vb, va);
    }
    return true;
  };
  const axes: AxisGroup[] = [];
  for (const k of keys) {
    if (single.includes(k)) continue;
    const joined = axes.find((a) => bijective(at(a.keys, 0), k));
    if (joined) joined.keys.push(k);
    else axes.push({ name: k, keys: [k] });
  }
  for (const a of axes) a.name = a.keys.join(' + ');
  return { axes, single };
}

/** Per-run values of an axis (a linked axis joins its keys' values). */
export function axisValues(points: ReadonlyArray<Readonly<Record<string, unknown>>>, axis: AxisGroup): string[] {
  return points.map((p) => axis.keys.map((k) => axisValueKey(p[k])).join(' / '));
}

export type PsiMeasure = 'g1' | 'g2' | 'egf1' | 'egf2';
export const PSI_MEASURES: ReadonlyArray<{ key: PsiMeasure; label: string }> = [
  { key: 'g1', label: '‖g‖₁' },
  { key: 'g2', label: '‖g‖₂' },
  { key: 'egf1', label: 'EGF₁' },
  { key: 'egf2', label: 'EGF₂' },
];
export type PsiTarget = 'testLoss' | 'testAccuracy';

export interface PsiRow {
  net: 'sparse' | 'dense';
  target: PsiTarget;
  /** Runs that entered (finished, every measure and both targets finite). */
  runs: number;
  /** Ψ per measure; NaN when no axis has a group with a defined τ. */
  psi: Record<PsiMeasure, number>;
  /** Axes that contributed to Ψ (per measure; the same for all unless a measure is constant in some group). */
  axes: number;
}

function usable(r: SweepNetResult | null): r is { [K in keyof SweepNetResult]: number } {
  return r !== null && Object.values(r).every((v) => typeof v === 'number' && Number.isFinite(v));
}

/**
 * Ψ of every measure against test loss and test accuracy, sparse and dense nets apart, over the
 * finished rows (seeds as replicates, as in the report). Nets without a usable result are left out.
 */
export function sweepPsi(rows: readonly SweepRow[]): PsiRow[] {
  const out: PsiRow[] = [];
  for (const net of ['sparse', 'dense'] as const) {
    const runs = rows.filter((r) => r.status === 'finished' && usable(r[net]));
    if (runs.length < 2) continue;
    const points = runs.map((r) => r.point as Record<string, PointValue>);
    const { axes } = sweepAxisGroups(points);
    const gAxes: GranulatedAxis[] = axes.map((a) => ({ name: a.name, values: axisValues(points, a) }));
    const replicate = points.map((p) => axisValueKey(p[PSI_SEED_KEY]));
    for (const target of ['testLoss', 'testAccuracy'] as const) {
      const psi = {} as Record<PsiMeasure, number>;
      let used = 0;
      for (const m of PSI_MEASURES) {
        const res = runs.map((r) => r[net] as { [K in keyof SweepNetResult]: number });
        const g = granulatedKendall(res.map((v) => v[m.key]), res.map((v) => v[target]), gAxes, { replicate });
        psi[m.key] = g.psi;
        used = Math.max(used, g.axes.filter((a) => a.status === 'used').length);
      }
      out.push({ net, target, runs: runs.length, psi, axes: used });
    }
  }
  return out;
}

/** What the sweep view draws: one line per net and target, a cell per measure (signed, 3 decimals, 'n/a'). */
export interface PsiDisplay {
  /** Caption: what Ψ is and over which runs. */
  caption: string;
  header: string[];
  rows: Array<{ label: string; cells: Array<{ text: string; title: string }> }>;
  /** Shown instead of the table when no Ψ can be computed yet. */
  empty?: string;
}

const TARGET_LABEL: Record<PsiTarget, string> = { testLoss: 'test loss', testAccuracy: 'test accuracy' };

export function psiDisplay(rows: readonly SweepRow[]): PsiDisplay {
  const psi = sweepPsi(rows);
  const header = ['net · target', ...PSI_MEASURES.map((m) => m.label)];
  const caption =
    'Granulated Kendall Ψ (Jiang et al. 2019): τ between a measure and the target within groups of finished runs that differ in one axis only (same seed), averaged per axis, then over the axes. Signed: Ψ > 0 with test loss means more flow, higher loss. The report (gradflow report) has the per-axis values, density-controlled τ and bootstrap intervals.';
  const out: PsiDisplay = {
    caption,
    header,
    rows: psi.map((p) => ({
      label: `${p.net} · ${TARGET_LABEL[p.target]}`,
      cells: PSI_MEASURES.map((m) => {
        const v = p.psi[m.key];
        const ok = Number.isFinite(v);
        const text = ok ? (Math.abs(v) < 0.0005 ? '0.000' : v.toFixed(3)) : 'n/a';
        return {
          text,
          title: ok
            ? `Ψ of ${m.label} vs ${TARGET_LABEL[p.target]}, ${p.net} nets: ${v.toFixed(4)} over ${p.runs} finished runs, ${p.axes} axis(es)`
            : `No group of ${p.net} runs that differ in one axis only has a defined τ yet`,
        };
      }),
    })),
  };
  if (out.rows.length === 0) out.empty = 'Granulated Kendall Ψ: appears once two finished runs differ in one sweep axis only.';
  return out;
}
