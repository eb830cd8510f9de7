/**
 * Correlation tables a reviewer would accept (issue 13, docs/statistics.md "Correlation beyond a
 * pooled τ"): for each gradient-flow measure against test loss and test accuracy, sparse and dense
 * nets apart, one dataset at a time:
 *
 * - granulated Kendall (Jiang et al. 2019): per sweep axis, τ within each group of runs agreeing on
 *   every other axis and on the seed, averaged over the groups; Ψ = mean over the axes;
 * - density-controlled: τ within each density level (averaged), the partial τ given the density
 *   level, and each measure's and each target's own τ with the density level;
 * - signs: whether a measure's τ has the same sign in every subset;
 * - a seeded paired bootstrap over runs of |τ_m| − |τ_best|, pooled and partial.
 *
 * Pure functions over `SweepRow`s (whatever the run-folder reader returns).
 */
import { architectureOf, type NetRole } from '../../shared/experiment';
import type { FlowMeasures, NetSummary } from '../../shared/protocol';
import {
  StatsError,
  bootstrapAbsTauDifferences,
  granulatedKendall,
  kendallTau,
  partialKendall,
  withinLevelKendall,
  type BootstrapResult,
  type GranulatedAxis,
  type GranulatedResult,
} from '../stats';
import { axisValueKey, axisValues, sweepAxisGroups, type AxisGroup } from '../../shared/sweep-psi';
import { MEASURES, slug } from './labels';
import { blownUpReason, type BlownUpNet } from './blowup';
import { NA, NETS, byDataset, fixedColumn, intColumn, num, plural, textColumn } from './common';
import type { Cell, Column, SweepRow, Table } from './types';
import { at } from '../../shared/checked';
export const SEED_KEY = 'training.seed';

export type Target = 'loss' | 'accuracy';
export const TARGETS: ReadonlyArray<{ key: Target; label: string }> = [
  { key: 'loss', label: 'test loss' },
  { key: 'accuracy', label: 'test acc.' },
];

/** net, measure, target: the first three columns of the per-measure tables. */
const LEAD_COLUMNS: readonly Column[] = [textColumn('net'), textColumn('measure'), textColumn('target')];

/** A τ (or a difference of τs): three decimals. */
function tauColumn(key: string, label: string): Column {
  return fixedColumn(key, label, 3);
}

function targetLabel(key: Target): string {
  return TARGETS.find((t) => t.key === key)?.label ?? key;
}

export interface CorrelationOptions {
  /** Bootstrap resamples (default 2000). */
  bootstrapResamples?: number;
  /** Seed of the bootstrap's resampler (default 13). */
  bootstrapSeed?: number;
  /** Confidence level of the bootstrap intervals (default 0.95). */
  confidence?: number;
  /**
   * Resampling unit of the bootstrap: `run`, `configuration` (a cluster bootstrap: all seeds of a
   * grid point together), or `auto` (default): `configuration` when some configuration has more
   * than one run, else `run`.
   */
  bootstrapUnit?: BootstrapUnit;
  /** Keep blown-up nets (blowup.ts) in the correlation tables (default false: left out and listed). */
  includeBlownUp?: boolean;
}

export type BootstrapUnit = 'auto' | 'run' | 'configuration';
export const BOOTSTRAP_UNITS: readonly BootstrapUnit[] = ['auto', 'run', 'configuration'];

export const DEFAULT_BOOTSTRAP = { resamples: 2000, seed: 13, confidence: 0.95, unit: 'auto' } as const;

/**
 * When a statistic is shown at all (docs/statistics.md, "Minimum n"):
 * - `minRuns`: a τ (pooled, within-density mean, partial) needs at least 5 runs: with n ≤ 4 the
 *   exact two-sided p of τ is at least 2/4! = 0.083, and a partial τ of ±1 is common by chance;
 * - `minUnits`: a bootstrap needs at least 8 resampling units (runs, or configurations for the
 *   cluster bootstrap): with k units there are only C(2k − 1, k) distinct resamples (126 at k = 5,
 *   6,435 at k = 8), and the percentile interval of a rank statistic is then made of a few values;
 * - `maxDegenerateShare`: a bootstrap cell is withheld when more than 10 % of its resamples were
 *   degenerate (a τ undefined on them) and dropped: the interval would describe a conditioned
 *   resampling distribution, not the sampling variability.
 */
export const MIN_N = { minRuns: 5, minUnits: 8, maxDegenerateShare: 0.1 } as const;

/** The cell text that replaces a statistic computed on too few runs. */
export function tooFew(n: number, unit = 'runs'): string {
  return `too few ${unit} (n = ${n})`;
}

// -------------------------------------------------------------------------------------------------
// Runs and axes

/** One net of one run, as the correlation statistics see it. */
export interface CorrelationRun {
  row: SweepRow;
  net: NetSummary;
  measures: FlowMeasures;
  loss: number;
  accuracy: number;
  /** Density level of the run's SC-SDC pair (the same for both nets): h_D/h_S, or a conv net's ρ (`densityLevel`). */
  density: number | undefined;
  seed: string;
}

/** A sweep axis: one grid key, or several keys whose values always move together (a `sweep.linked` item). */
export type SweepAxis = AxisGroup;

/**
 * The density level of a run (method.md §5): h_D/h_S for an MLP; for a conv net its ρ
 * (`sparsity.density`, which a WRN's `dense_widen_factor` resolves to as k_D/k). 1 for an unpruned
 * net (it is its own twin); undefined when a pruned run has no level.
 */
export function densityLevel(row: SweepRow): number | undefined {
  if (architectureOf(row.config.model) !== 'mlp') return row.config.sparsity.density ?? (row.config.sparsity.method === 'none' ? 1 : undefined);
  const hD = row.config.sparsity.denseWidth;
  if (hD === undefined) return row.config.sparsity.method === 'none' ? 1 : undefined;
  return hD / row.config.model.width;
}

/**
 * Nets of `net` role whose four measures, test loss and test accuracy are finite and that are not
 * blown up (unless `includeBlownUp`); the non-finite ones counted in `excluded`, the blown-up ones
 * listed in `blownUp`.
 */
export function correlationRuns(rows: readonly SweepRow[], net: NetRole, options: Pick<CorrelationOptions, 'includeBlownUp'> = {}): { runs: CorrelationRun[]; excluded: number; blownUp: BlownUpNet[] } {
  const runs: CorrelationRun[] = [];
  const blownUp: BlownUpNet[] = [];
  let excluded = 0;
  for (const row of rows) {
    const n = row.nets[net];
    if (!n) continue;
    const ok = Number.isFinite(n.final.test.loss) && Number.isFinite(n.final.test.accuracy) && MEASURES.every((m) => Number.isFinite(n.flowAverage[m.key]));
    if (!ok) {
      excluded++;
      continue;
    }
    const why = blownUpReason(row, net);
    if (why !== undefined) {
      blownUp.push({ row, net, reason: why });
      if (options.includeBlownUp !== true) continue;
    }
    runs.push({
      row,
      net: n,
      measures: n.flowAverage,
      loss: n.final.test.loss,
      accuracy: n.final.test.accuracy,
      density: densityLevel(row),
      seed: row.point[SEED_KEY] === undefined ? String(row.config.training.seed) : axisValueKey(row.point[SEED_KEY]),
    });
  }
  return { runs, excluded, blownUp };
}

/** A configuration's key: its grid point without the seed (the cluster of the cluster bootstrap). */
export function configurationKey(row: SweepRow): string {
  const entries = Object.entries(row.point).filter(([k]) => k !== SEED_KEY).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

/**
 * The sweep's axes (`sweepAxisGroups` of src/shared/sweep-psi.ts, shared with the sweep view): every
 * grid key except the seed; keys whose values determine each other one-to-one (a `sweep.linked`
 * item) are one axis `a + b`; keys with a single value are returned in `single`.
 */
export function sweepAxes(rows: readonly SweepRow[]): { axes: SweepAxis[]; single: string[] } {
  return sweepAxisGroups(rows.map((r) => r.point));
}

function axisValuesOf(runs: readonly CorrelationRun[], axis: SweepAxis): string[] {
  return axisValues(runs.map((r) => r.row.point), axis);
}

// -------------------------------------------------------------------------------------------------
// Granulated Kendall

export interface GranulatedCell {
  net: NetRole;
  measure: keyof FlowMeasures;
  target: Target;
  result: GranulatedResult;
}

/** Granulated Kendall of every measure against both targets, per net; seeds are the replicate key. */
export function granulatedCells(rows: readonly SweepRow[], options: Pick<CorrelationOptions, 'includeBlownUp'> = {}): { cells: GranulatedCell[]; axes: SweepAxis[]; single: string[] } {
  const { axes, single } = sweepAxes(rows);
  const cells: GranulatedCell[] = [];
  for (const net of NETS) {
    const { runs } = correlationRuns(rows, net, options);
    if (runs.length === 0) continue;
    const gAxes: GranulatedAxis[] = axes.map((a) => ({ name: a.name, values: axisValuesOf(runs, a) }));
    const replicate = runs.map((r) => r.seed);
    for (const m of MEASURES) {
      for (const t of TARGETS) {
        const x = runs.map((r) => r.measures[m.key]);
        const y = runs.map((r) => r[t.key]);
        cells.push({ net, measure: m.key, target: t.key, result: granulatedKendall(x, y, gAxes, { replicate }) });
      }
    }
  }
  return { cells, axes, single };
}

/** Short header of an axis: the last part of each key. */
function axisShort(axis: SweepAxis): string {
  return axis.keys.map((k) => k.slice(k.lastIndexOf('.') + 1)).join(' + ');
}

function measureLabel(key: keyof FlowMeasures): string {
  return MEASURES.find((m) => m.key === key)?.label ?? key;
}

function range(vs: readonly number[]): Cell {
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  return lo === hi ? lo : `${lo}–${hi}`;
}

function granulatedTables(granulated: ReturnType<typeof granulatedCells>, idSuffix: string, titleSuffix: string): Table[] {
  const { cells, axes, single } = granulated;
  if (cells.length === 0) return [];
  const columns: Column[] = [
    ...LEAD_COLUMNS,
    ...axes.map((a) => tauColumn(`tau_${slug(a.name)}`, `τ̄ ${axisShort(a)}`)),
    tauColumn('psi', 'Ψ'),
    tauColumn('abs_psi', '|Ψ|'),
  ];
  const out: Cell[][] = cells.map((c) => [
    c.net,
    measureLabel(c.measure),
    targetLabel(c.target),
    ...c.result.axes.map((a) => num(a.tau)),
    num(c.result.psi),
    num(Math.abs(c.result.psi)),
  ]);
  const notes = [
    'Granulated Kendall coefficient (Jiang et al. 2019): for each sweep axis, the runs are grouped by the values of every other axis and by the seed (seeds are replicates: each seed gives its own groups, so every group compares runs that differ only in that axis); τ-b between the measure and the target within each group, averaged over the groups (τ̄). Ψ is the mean of τ̄ over the axes. Signed: τ̄ > 0 with test loss means more flow goes with higher loss.',
    'A pooled τ can be dominated by one axis (for SC-SDC, the density level); Ψ weights every axis equally.',
  ];
  if (single.length > 0) notes.push(`Skipped, one value only: ${single.join(', ')}.`);
  const largest: string[] = [];
  for (const net of NETS) {
    for (const t of TARGETS) {
      const mine = cells.filter((c) => c.net === net && c.target === t.key && Number.isFinite(c.result.psi));
      if (mine.length === 0) continue;
      const top = mine.reduce((a, b) => (Math.abs(b.result.psi) > Math.abs(a.result.psi) ? b : a));
      largest.push(`${net} vs ${t.label} ${measureLabel(top.measure)} (Ψ = ${top.result.psi.toFixed(3)})`);
    }
  }
  if (largest.length > 0) notes.push(`Largest |Ψ|: ${largest.join('; ')}. No uncertainty is attached to Ψ here; the bootstrap table below gives intervals for the pooled and density-controlled τ.`);
  const used = at(cells, 0).result.axes.filter((a) => a.status !== 'used').map((a) => a.name);
  if (used.length > 0) notes.push(`No group with two or more runs and a defined τ: ${used.join(', ')} (n/a).`);
  const axesTable: Table = {
    id: `correlation-granulated-axes${idSuffix}`,
    title: `Granulated Kendall: groups per axis${titleSuffix}`,
    columns: [
      textColumn('net'),
      textColumn('axis'),
      intColumn('levels', 'values'),
      intColumn('groups'),
      intColumn('runs', 'runs in groups'),
      intColumn('skipped_groups', 'groups skipped'),
    ],
    rows: NETS.flatMap((net) => {
      const mine = cells.filter((c) => c.net === net);
      if (mine.length === 0) return [];
      return axes.map((a, i) => {
        const rs = mine.map((c) => at(c.result.axes, i));
        return [net, a.name, at(rs, 0).levels, range(rs.map((r) => r.groups)), range(rs.map((r) => r.runs)), range(rs.map((r) => r.skippedGroups))];
      });
    }),
    notes: [
      'A group is the set of runs sharing the values of every other axis and the seed. Groups with one run, or in which the measure or the target is constant (τ undefined), are skipped; a range a–b means the count differs between measures/targets.',
      ...(single.length > 0 ? [`Axes with one value, skipped: ${single.join(', ')}.`] : []),
    ],
  };
  return [
    { id: `correlation-granulated${idSuffix}`, title: `Granulated Kendall coefficient Ψ${titleSuffix}`, columns, rows: out, notes },
    axesTable,
  ];
}

// -------------------------------------------------------------------------------------------------
// Density-controlled

export interface DensityCell {
  net: NetRole;
  measure: keyof FlowMeasures;
  target: Target;
  n: number;
  pooled: number;
  within: number;
  levels: number;
  partial: number;
  /** τ(measure, density) and τ(target, density). */
  measureDensity: number;
  targetDensity: number;
  perLevel: Array<{ level: string; n: number; tau: number }>;
  /** Why `partial` is NaN. */
  partialNa?: string;
}

function tauOrNaN(x: readonly number[], y: readonly number[]): number {
  try {
    return kendallTau(x, y).tau;
  } catch (e) {
    if (e instanceof StatsError) return NaN;
    throw e;
  }
}

function levelLabel(d: number): string {
  return String(Number(d.toPrecision(6)));
}

export function densityCells(rows: readonly SweepRow[], options: Pick<CorrelationOptions, 'includeBlownUp'> = {}): { cells: DensityCell[]; withoutDensity: number } {
  const cells: DensityCell[] = [];
  let withoutDensity = 0;
  for (const net of NETS) {
    const all = correlationRuns(rows, net, options).runs;
    const runs = all.filter((r) => r.density !== undefined);
    withoutDensity += all.length - runs.length;
    if (runs.length < 2) continue;
    const z = runs.map((r) => r.density as number);
    const levels = z.map(levelLabel);
    for (const m of MEASURES) {
      const x = runs.map((r) => r.measures[m.key]);
      const measureDensity = tauOrNaN(x, z);
      for (const t of TARGETS) {
        const y = runs.map((r) => r[t.key]);
        const pooled = tauOrNaN(x, y);
        const targetDensity = tauOrNaN(y, z);
        const w = withinLevelKendall(x, y, levels);
        let partial = NaN;
        let partialNa: string | undefined;
        try {
          partial = partialKendall(pooled, measureDensity, targetDensity);
        } catch (e) {
          if (!(e instanceof StatsError)) throw e;
          partialNa = e.message;
        }
        if (Number.isNaN(measureDensity) || Number.isNaN(targetDensity) || Number.isNaN(pooled)) partialNa = 'a τ is undefined (a constant measure, target or density level)';
        cells.push({
          net, measure: m.key, target: t.key, n: runs.length, pooled, within: w.tau, levels: w.perLevel.length, partial, measureDensity, targetDensity, perLevel: w.perLevel,
          ...(partialNa !== undefined ? { partialNa } : {}),
        });
      }
    }
  }
  return { cells, withoutDensity };
}

function densityTable(rows: readonly SweepRow[], options: CorrelationOptions, idSuffix: string, titleSuffix: string, conv: boolean): { table?: Table; cells: DensityCell[] } {
  const { cells, withoutDensity } = densityCells(rows, options);
  if (cells.length === 0) return { cells };
  const columns: Column[] = [
    ...LEAD_COLUMNS,
    intColumn('n'),
    tauColumn('tau_pooled', 'τ pooled'),
    tauColumn('abs_tau_pooled', '|τ| pooled'),
    tauColumn('tau_within', 'τ̄ within density'),
    tauColumn('abs_tau_within', '|τ̄| within'),
    tauColumn('tau_partial', 'τ·density'),
    tauColumn('abs_tau_partial', '|τ·density|'),
    tauColumn('tau_measure_density', 'τ(measure, density)'),
    tauColumn('tau_target_density', 'τ(target, density)'),
  ];
  const levelCount = new Set(cells.flatMap((c) => c.perLevel.map((l) => l.level))).size;
  const notes = [
    `Density level = ${conv ? 'ρ (sparsity.density, or dense_widen_factor / widen_factor for a WRN: the dense twin has every channel count × ρ; 1 for an unpruned net' : 'h_D/h_S (sparsity.dense_width / model.width'}; the dense twin carries its sparse twin's level). τ̄ within density: τ-b within each of the ${plural(levelCount, 'density level')}, averaged. τ·density: Kendall's partial τ given the density level, (τ_xy − τ_xz τ_yz)/√((1 − τ_xz²)(1 − τ_yz²)), x = measure, y = target, z = density level. τ(measure, density): how much of the measure is the density level itself.`,
    'When |τ·density| and |τ̄ within| are much smaller than the pooled |τ|, the pooled correlation comes mostly through the density level.',
  ];
  if (withoutDensity > 0) notes.push(`${plural(withoutDensity, 'net')} without ${conv ? 'sparsity.density' : 'sparsity.dense_width'} left out.`);
  if (cells.some((c) => c.n < MIN_N.minRuns)) notes.push(`Fewer than ${MIN_N.minRuns} runs: no τ is shown ("too few runs"); with n ≤ 4 the exact two-sided p of a τ cannot fall below 0.083 (docs/statistics.md, "Minimum n").`);
  const naPartial = cells.filter((c) => c.partialNa !== undefined);
  if (naPartial.length > 0) notes.push(`τ·density n/a: ${[...new Set(naPartial.map((c) => `${c.net} ${measureLabel(c.measure)} (${c.partialNa})`))].join('; ')}.`);
  return {
    cells,
    table: {
      id: `correlation-density${idSuffix}`,
      title: `Density-controlled Kendall τ${titleSuffix}`,
      columns,
      rows: cells.map((c) => c.n < MIN_N.minRuns ? [c.net, measureLabel(c.measure), targetLabel(c.target), c.n, ...Array<Cell>(8).fill(tooFew(c.n))] : [
        c.net,
        measureLabel(c.measure),
        targetLabel(c.target),
        c.n,
        num(c.pooled),
        num(Math.abs(c.pooled)),
        num(c.within),
        num(Math.abs(c.within)),
        num(c.partial),
        num(Math.abs(c.partial)),
        num(c.measureDensity),
        num(c.targetDensity),
      ]),
      notes,
    },
  };
}

// -------------------------------------------------------------------------------------------------
// Signs

function signsTable(granulated: readonly GranulatedCell[], axes: readonly SweepAxis[], density: readonly DensityCell[], idSuffix: string, titleSuffix: string): Table | undefined {
  const rowsOut: Cell[][] = [];
  const lines: string[] = [];
  for (const net of NETS) {
    for (const m of MEASURES) {
      for (const t of TARGETS) {
        const subsets: Array<[string, number]> = [];
        const d = density.find((c) => c.net === net && c.measure === m.key && c.target === t.key);
        const g = granulated.find((c) => c.net === net && c.measure === m.key && c.target === t.key);
        // Subsets of fewer than MIN_N.minRuns runs have no sign worth counting (their τ is mostly noise).
        if (d && d.n >= MIN_N.minRuns) subsets.push(['pooled', d.pooled], ['partial given density', d.partial]);
        if (d) for (const l of d.perLevel) if (l.n >= MIN_N.minRuns) subsets.push([`density ${l.level}`, l.tau]);
        if (g) g.result.axes.forEach((a, i) => subsets.push([`axis ${axisShort(at(axes, i))}`, a.tau]));
        const defined = subsets.filter(([, v]) => Number.isFinite(v));
        if (defined.length === 0) continue;
        const plus = defined.filter(([, v]) => v > 0).map(([s]) => s);
        const minus = defined.filter(([, v]) => v < 0).map(([s]) => s);
        const zero = defined.filter(([, v]) => v === 0).map(([s]) => s);
        const zeros = zero.length > 0 ? ` (τ = 0 in ${zero.join(', ')})` : '';
        let verdict: string;
        if (plus.length > 0 && minus.length > 0) verdict = `differs: + in ${plus.join(', ')}; − in ${minus.join(', ')}${zeros}`;
        else if (plus.length > 0) verdict = `agrees: + in all ${plus.length} with a sign${zeros}`;
        else if (minus.length > 0) verdict = `agrees: − in all ${minus.length} with a sign${zeros}`;
        else verdict = 'no sign: τ = 0 in every subset';
        rowsOut.push([net, m.label, t.label, defined.length, plus.length, minus.length, verdict]);
        lines.push(`${net} ${m.label} vs ${t.label}: sign ${verdict}.`);
      }
    }
  }
  if (rowsOut.length === 0) return undefined;
  return {
    id: `correlation-signs${idSuffix}`,
    title: `Does the sign of τ agree across subsets?${titleSuffix}`,
    columns: [
      ...LEAD_COLUMNS,
      intColumn('subsets'),
      intColumn('positive', '+'),
      intColumn('negative', '−'),
      textColumn('verdict', 'sign', true),
    ],
    rows: rowsOut,
    notes: [
      `Subsets: the pooled τ, the partial τ given the density level, τ within each density level, and the granulated τ̄ of each axis; a pooled, partial or within-level τ on fewer than ${MIN_N.minRuns} runs is not counted. A sign that changes between subsets is a hint that the measure tracks different things in different regimes, not evidence of it: a τ on a few runs changes sign by chance (with no association, a τ on 5 runs has a standard deviation of about 0.41), so read flips together with the bootstrap intervals.`,
    ],
  };
}

// -------------------------------------------------------------------------------------------------
// Bootstrap

export interface BootstrapCell {
  net: NetRole;
  target: Target;
  statistic: 'pooled' | 'partial';
  n: number;
  /** Resampling unit actually used, and the number of units (runs, or configurations). */
  unit: 'run' | 'configuration';
  units: number;
  result?: BootstrapResult;
  na?: string;
  /** Set when the result exists but is not shown: too few units, or too many degenerate resamples. */
  withheld?: string;
}

/** The resampling unit `auto` resolves to: configurations when some configuration has more than one run. */
export function resolveBootstrapUnit(rows: readonly SweepRow[], unit: BootstrapUnit = 'auto'): 'run' | 'configuration' {
  if (unit !== 'auto') return unit;
  const keys = rows.map(configurationKey);
  return new Set(keys).size < keys.length ? 'configuration' : 'run';
}

export function bootstrapCells(rows: readonly SweepRow[], options: CorrelationOptions = {}): BootstrapCell[] {
  const out: BootstrapCell[] = [];
  for (const net of NETS) {
    const { runs } = correlationRuns(rows, net, options);
    if (runs.length < 2) continue;
    const withDensity = runs.filter((r) => r.density !== undefined);
    for (const t of TARGETS) {
      for (const statistic of ['pooled', 'partial'] as const) {
        const rs = statistic === 'pooled' ? runs : withDensity;
        if (statistic === 'partial' && new Set(rs.map((r) => r.density)).size < 2) continue;
        const unit = resolveBootstrapUnit(rs.map((r) => r.row), options.bootstrapUnit ?? DEFAULT_BOOTSTRAP.unit);
        const clusters = unit === 'configuration' ? rs.map((r) => configurationKey(r.row)) : undefined;
        const units = clusters === undefined ? rs.length : new Set(clusters).size;
        const cell: BootstrapCell = { net, target: t.key, statistic, n: rs.length, unit, units };
        if (units < MIN_N.minUnits) {
          cell.withheld = tooFew(units, unit === 'run' ? 'runs' : 'configurations');
          out.push(cell);
          continue;
        }
        try {
          cell.result = bootstrapAbsTauDifferences(
            MEASURES.map((m) => rs.map((r) => r.measures[m.key])),
            rs.map((r) => r[t.key]),
            {
              resamples: options.bootstrapResamples ?? DEFAULT_BOOTSTRAP.resamples,
              seed: options.bootstrapSeed ?? DEFAULT_BOOTSTRAP.seed,
              level: options.confidence ?? DEFAULT_BOOTSTRAP.confidence,
              ...(statistic === 'partial' ? { control: rs.map((r) => r.density as number) } : {}),
              ...(clusters !== undefined ? { clusters } : {}),
            },
          );
          const withheld = degenerateWithheld(cell.result);
          if (withheld !== undefined) cell.withheld = withheld;
        } catch (e) {
          if (!(e instanceof StatsError)) throw e;
          cell.na = e.message;
        }
        out.push(cell);
      }
    }
  }
  return out;
}

/**
 * Why a bootstrap result is withheld for its degenerate resamples: their share is past
 * `MIN_N.maxDegenerateShare` (strictly: exactly 10 % is shown); undefined when it is shown.
 */
export function degenerateWithheld(r: Pick<BootstrapResult, 'degenerateShare'>): string | undefined {
  if (!(r.degenerateShare > MIN_N.maxDegenerateShare)) return undefined;
  return `withheld: ${pctText(r.degenerateShare)} of resamples degenerate (> ${pctText(MIN_N.maxDegenerateShare)})`;
}

function pctText(share: number): string {
  return `${Math.round(share * 1000) / 10} %`;
}

/** The sentence about the best measure of a bootstrap cell. */
export function bestVerdict(r: BootstrapResult): string {
  const label = (i: number): string => at(MEASURES, i).label;
  if (r.verdict === 'best') return `best: ${label(r.best)} (every other measure's interval for Δ|τ| lies below 0)`;
  return `top measures indistinguishable: ${r.tied.map(label).join(', ')} (the interval for Δ|τ| against ${label(r.best)} contains 0)`;
}

function bootstrapTable(rows: readonly SweepRow[], options: CorrelationOptions, idSuffix: string, titleSuffix: string): Table | undefined {
  const cells = bootstrapCells(rows, options);
  if (cells.length === 0) return undefined;
  const level = options.confidence ?? DEFAULT_BOOTSTRAP.confidence;
  const pct = `${Math.round(level * 1000) / 10} %`;
  const rowsOut: Cell[][] = [];
  const verdicts: string[] = [];
  const drops: string[] = [];
  for (const c of cells) {
    const statLabel = c.statistic === 'pooled' ? 'τ pooled' : 'τ·density';
    const target = targetLabel(c.target);
    const lead: Cell[] = [c.net, target, statLabel];
    if (!c.result || c.withheld !== undefined) {
      const text = c.withheld ?? NA;
      const share = c.result ? c.result.degenerateShare : NA;
      rowsOut.push([...lead, NA, c.n, c.unit, c.units, share, text, text, text, text, text, text]);
      verdicts.push(`${c.net}, ${target}, ${statLabel}: ${c.withheld ?? `n/a — ${c.na ?? ''}`}.`);
      continue;
    }
    const r = c.result;
    r.measures.forEach((m, i) => {
      const isBest = i === r.best;
      const status = isBest ? (r.verdict === 'best' ? 'best' : 'largest |τ|, not separable') : m.high < 0 ? 'below the best' : 'indistinguishable from the best';
      rowsOut.push([...lead, at(MEASURES, i).label, c.n, c.unit, c.units, r.degenerateShare, m.tau, m.abs, isBest ? NA : m.meanDiff, isBest ? NA : m.se, isBest ? NA : m.low, isBest ? NA : m.high, status]);
    });
    verdicts.push(`${c.net}, ${target}, ${statLabel}: ${bestVerdict(r)}.`);
    if (r.dropped > 0) drops.push(`${c.net}, ${target}, ${statLabel}: ${r.dropped} of ${r.dropped + r.resamples}`);
  }
  const resamples = options.bootstrapResamples ?? DEFAULT_BOOTSTRAP.resamples;
  const seed = options.bootstrapSeed ?? DEFAULT_BOOTSTRAP.seed;
  const units = [...new Set(cells.map((c) => c.unit))];
  const unitNote = units.includes('configuration')
    ? 'Resampling unit: the configuration (a cluster bootstrap: a resample draws as many configurations as there are, with replacement, and takes all seeds of each drawn configuration together), because seeds repeat: runs of one configuration are not independent. For a fixed grid the interval describes the variability over seeds and over the grid\'s configurations treated as a sample from similar configurations; it is not a statement about other grids.'
    : 'Resampling unit: the run (every configuration has one run).';
  return {
    id: `correlation-bootstrap${idSuffix}`,
    title: `Which measure is best? Paired bootstrap of |τ| differences${titleSuffix}`,
    columns: [
      textColumn('net'),
      textColumn('target'),
      textColumn('statistic'),
      textColumn('measure'),
      intColumn('n'),
      textColumn('unit'),
      intColumn('units'),
      fixedColumn('degenerate_share', 'degenerate share', 3),
      tauColumn('tau', 'τ'),
      tauColumn('abs_tau', '|τ|'),
      tauColumn('mean_diff', 'Δ|τ| vs best (mean)'),
      tauColumn('se_diff', 'SE Δ|τ|'),
      tauColumn('ci_low', `${pct} CI low`),
      tauColumn('ci_high', `${pct} CI high`),
      textColumn('status'),
    ],
    rows: rowsOut,
    notes: [
      `Paired bootstrap: ${resamples} resamples with replacement (Mulberry32, seed ${seed}; the same resamples for every measure), |τ| of each measure on each resample (τ-b; τ·density: the partial τ given the density level); Δ|τ| = |τ_m| − |τ_best| per resample, best = the largest |τ| on all runs; SE Δ|τ| = the standard deviation of Δ|τ| over the resamples (the standard error of the paired difference, not of one τ); ${pct} percentile intervals. A measure is called best only when every other measure's interval lies below 0.`,
      unitNote,
      `A cell is withheld with fewer than ${MIN_N.minUnits} resampling units, or when more than ${pctText(MIN_N.maxDegenerateShare)} of its resamples were degenerate (a τ undefined on them, dropped for every measure) (docs/statistics.md, "Minimum n").`,
      ...verdicts,
      ...(drops.length > 0 ? [`Resamples dropped because a τ was undefined on them (a constant column): ${drops.join('; ')}.`] : []),
    ],
  };
}

// -------------------------------------------------------------------------------------------------

/** Granulated, density-controlled, signs and bootstrap tables, per dataset, in that order. */
export function robustCorrelationTables(rows: readonly SweepRow[], options: CorrelationOptions = {}): Table[] {
  const { bootstrapResamples: b, bootstrapSeed: seed, confidence } = options;
  if (b !== undefined && !(Number.isInteger(b) && b >= 1)) throw new Error(`bootstrapResamples must be a positive integer, got ${b}`);
  if (seed !== undefined && !Number.isInteger(seed)) throw new Error(`bootstrapSeed must be an integer, got ${seed}`);
  if (confidence !== undefined && !(confidence > 0 && confidence < 1)) throw new Error(`confidence must be in (0, 1), got ${confidence}`);
  const tables: Table[] = [];
  for (const g of byDataset(rows)) {
    const granulated = granulatedCells(g.rows, options);
    tables.push(...granulatedTables(granulated, g.idSuffix, g.titleSuffix));
    const dens = densityTable(g.rows, options, g.idSuffix, g.titleSuffix, g.conv);
    if (dens.table) tables.push(dens.table);
    const signs = signsTable(granulated.cells, granulated.axes, dens.cells, g.idSuffix, g.titleSuffix);
    if (signs) tables.push(signs);
    const boot = bootstrapTable(g.rows, options, g.idSuffix, g.titleSuffix);
    if (boot) tables.push(boot);
  }
  return tables;
}

/** Ψ per net, measure and target for one dataset's rows (the sweep view's column). */
export interface PsiSummary {
  net: NetRole;
  measure: keyof FlowMeasures;
  target: Target;
  psi: number;
  axes: number;
}

export function granulatedSummary(rows: readonly SweepRow[]): PsiSummary[] {
  return granulatedCells(rows).cells.map((c) => ({ net: c.net, measure: c.measure, target: c.target, psi: c.result.psi, axes: c.result.axes.filter((a) => a.status === 'used').length }));
}
