/**
 * The report's tables and plots: pure functions over the rows of `loadSweepResults`.
 *
 * - correlation: Kendall τ-b between each gradient-flow measure (11-point average) and the final
 *   test loss / accuracy, per dataset and net (method.md §4);
 * - significance: sparse vs dense on test accuracy, one-sided (H1 sparse > dense), per cell of
 *   optimizer × regulariser and optimizer × activation, pairs = the two nets of one run, Holm over
 *   the cells of a table;
 * - width: test accuracy and average EGF against the dense width level, across seeds.
 *
 * Every table is split by dataset: pooling datasets would mix accuracies on different scales.
 */
import { architectureOf, type NetRole } from '../../shared/experiment';
import type { FlowMeasures, NetSummary } from '../../shared/protocol';
import { holm, kendallTau, mannWhitneyU, pairedTTest, wilcoxon } from '../stats';
import { NA, NETS, byDataset, groupBy, mean, plural, reason } from './common';
import { MIN_N, correlationRuns, tooFew } from './correlation';
import { blownUpNote } from './blowup';
import { MEASURES, compareActivations, compareOptimizers, compareRegularisers, regulariserLabel } from './labels';
import type {
  Cell,
  Column,
  Plot,
  PlotPoint,
  PlotSeries,
  ReportTables,
  SignificanceTest,
  SweepRow,
  Table,
  TableOptions,
} from './types';
import { at } from '../../shared/checked';


/** Wilcoxon settings of method.md §4 (exact up to n = 25, tie- and continuity-corrected normal approximation above). */
export const WILCOXON_OPTIONS = { alternative: 'greater', zeroMethod: 'wilcox', correction: true, exactMaxN: 25 } as const;

// -------------------------------------------------------------------------------------------------
// Correlation

/**
 * Kendall τ-b of each measure against final test loss and test accuracy, for the sparse and the
 * dense nets separately, one table per dataset. A net enters only if its four measures, its loss and
 * its accuracy are all finite (a diverged net is left out and counted in the notes).
 */
export function correlationTables(rows: readonly SweepRow[], options: Pick<TableOptions, 'includeBlownUp'> = {}): Table[] {
  const tables: Table[] = [];
  for (const g of byDataset(rows)) {
    const columns: Column[] = [
      { key: 'net', label: 'net', format: 'text' },
      { key: 'measure', label: 'measure', format: 'text' },
      { key: 'n', label: 'n', format: 'int' },
      { key: 'tau_loss', label: 'τ (test loss)', format: 'fixed', digits: 3 },
      { key: 'abs_tau_loss', label: '|τ| (test loss)', format: 'fixed', digits: 3 },
      { key: 'p_loss', label: 'p (test loss)', format: 'p' },
      { key: 'tau_accuracy', label: 'τ (test acc.)', format: 'fixed', digits: 3 },
      { key: 'abs_tau_accuracy', label: '|τ| (test acc.)', format: 'fixed', digits: 3 },
      { key: 'p_accuracy', label: 'p (test acc.)', format: 'p' },
    ];
    const out: Cell[][] = [];
    const notes: string[] = [
      'Kendall τ-b (ties handled) between the 11-point average of each measure and the final test loss / accuracy; two-sided p, exact permutation distribution without ties for n ≤ 33, otherwise the tie-corrected normal approximation (docs/statistics.md).',
      '|τ| is the magnitude the paper tabulates; τ keeps the direction (when loss and accuracy agree, a measure\'s τ with loss and its τ with accuracy have opposite signs).',
    ];
    const best: string[] = [];
    const naNotes = new Map<string, string[]>();
    for (const net of NETS) {
      const nets = g.rows.map((r) => r.nets[net]).filter((n): n is NetSummary => n !== undefined);
      if (nets.length === 0) continue;
      const picked = correlationRuns(g.rows, net, options);
      const usable = picked.runs.map((r) => r.net);
      if (picked.excluded > 0) {
        notes.push(`${net}: ${plural(picked.excluded, 'run')} left out because a measure, the test loss or the test accuracy is not finite (diverged).`);
      }
      const blown = blownUpNote(picked.blownUp, options.includeBlownUp === true ? 'kept (--include-blown-up)' : 'left out (docs/study.md, "Blown-up nets")');
      if (blown !== undefined) notes.push(`${net}: ${blown}`);
      if (usable.length < MIN_N.minRuns) {
        out.push(...MEASURES.map((m): Cell[] => [net, m.label, usable.length, ...Array<Cell>(6).fill(tooFew(usable.length))]));
        notes.push(`${net}: fewer than ${MIN_N.minRuns} runs, no τ shown (docs/statistics.md, "Minimum n").`);
        continue;
      }
      const loss = usable.map((n) => n.final.test.loss);
      const acc = usable.map((n) => n.final.test.accuracy);
      let bestLoss: { label: string; abs: number } | undefined;
      for (const m of MEASURES) {
        const x = usable.map((n) => n.flowAverage[m.key]);
        const cells: Cell[] = [net, m.label, usable.length];
        for (const [targetName, y] of [['test loss', loss], ['test accuracy', acc]] as const) {
          try {
            const r = kendallTau(x, y);
            cells.push(r.tau, Math.abs(r.tau), r.pValue);
            if (targetName === 'test loss' && (!bestLoss || Math.abs(r.tau) > bestLoss.abs)) bestLoss = { label: m.label, abs: Math.abs(r.tau) };
          } catch (e) {
            cells.push(NA, NA, NA);
            // One note per net and reason: a constant target makes all four measures n/a at once.
            const why = `${net}: n/a — ${reason(e)}`;
            naNotes.set(why, [...(naNotes.get(why) ?? []), `${m.label} vs ${targetName}`]);
          }
        }
        out.push(cells);
      }
      if (bestLoss) best.push(`${net} ${bestLoss.label} (|τ| = ${bestLoss.abs.toFixed(3)})`);
    }
    for (const [why, items] of naNotes) notes.push(`${why} (${items.join(', ')}).`);
    if (best.length > 0) notes.push(`Largest |τ| with test loss: ${best.join('; ')}. The paper finds an EGF variant best for sparse nets (method.md §7). Whether the largest |τ| is separable from the others, and how much of it is the density level, is in the granulated, density-controlled and bootstrap tables below.`);
    tables.push({ id: `correlation${g.idSuffix}`, title: `Gradient flow vs test performance: Kendall τ-b${g.titleSuffix}`, columns, rows: out, notes });
  }
  return tables;
}

// -------------------------------------------------------------------------------------------------
// Significance (SC-SDC)

export interface CellResult {
  /** Pairs (runs with both nets and finite test accuracies) in the cell. */
  n: number;
  /** Observations the test actually used (Wilcoxon: non-zero differences; others: n). */
  used: number;
  statistic: number;
  pValue: number;
  effect: number;
  /** Mean of sparse − dense test accuracy. */
  meanDifference: number;
  method: string;
  /** Why the cell is n/a (then the numbers above are NaN). */
  na?: string;
}

interface TestSpec {
  name: string;
  idPart: string;
  statisticLabel: string;
  effectLabel: string;
  description: string;
  run(sparse: number[], dense: number[], minPairs: number): Omit<CellResult, 'n' | 'meanDifference'>;
}

const naResult = (used: number, why: string): Omit<CellResult, 'n' | 'meanDifference'> => ({
  used,
  statistic: NaN,
  pValue: NaN,
  effect: NaN,
  method: '',
  na: why,
});

const TESTS: Record<SignificanceTest, TestSpec> = {
  wilcoxon: {
    name: 'Wilcoxon signed-rank',
    idPart: 'wilcoxon',
    statisticLabel: 'R+',
    effectLabel: 'rank-biserial r',
    description:
      "One-sided paired Wilcoxon signed-rank test, H1: sparse > dense on final test accuracy, pairs = the sparse and dense net of the same run; zero differences dropped (zero_method 'wilcox'); exact null distribution when n ≤ 25 with no ties, otherwise the normal approximation with tie and continuity correction. Effect size: matched-pairs rank-biserial r = (R+ − R−)/(R+ + R−), > 0 when sparse tends to win.",
    run(sparse, dense, minPairs) {
      const nonZero = sparse.filter((s, i) => s - at(dense, i) !== 0).length;
      if (sparse.length > 0 && nonZero === 0) return naResult(0, `all ${sparse.length} differences are zero (sparse and dense reached the same test accuracy in every pair)`);
      if (nonZero < minPairs) {
        return naResult(nonZero, `${plural(nonZero, 'non-zero difference')}, fewer than ${minPairs}: the smallest attainable p is 1/2^${nonZero} = ${(1 / 2 ** nonZero).toPrecision(3)}`);
      }
      try {
        const r = wilcoxon(sparse, dense, WILCOXON_OPTIONS);
        return { used: r.nRanked, statistic: r.statistic, pValue: r.pValue, effect: r.rankBiserial, method: r.method };
      } catch (e) {
        return naResult(nonZero, reason(e));
      }
    },
  },
  'paired-t': {
    name: 'paired t-test',
    idPart: 'paired-t',
    statisticLabel: 't',
    effectLabel: "Cohen's d_z",
    description: "One-sided paired t-test, H1: mean(sparse − dense test accuracy) > 0, pairs = the two nets of the same run. Effect size: Cohen's d_z = mean/sd of the differences.",
    run(sparse, dense, minPairs) {
      if (sparse.length < minPairs) return naResult(sparse.length, `${plural(sparse.length, 'pair')}, fewer than ${minPairs}`);
      try {
        const r = pairedTTest(sparse, dense, { alternative: 'greater' });
        return { used: sparse.length, statistic: r.statistic, pValue: r.pValue, effect: r.cohensDz, method: `t(${r.df})` };
      } catch (e) {
        return naResult(sparse.length, reason(e));
      }
    },
  },
  'mann-whitney': {
    name: 'Mann-Whitney U',
    idPart: 'mann-whitney',
    statisticLabel: 'U',
    effectLabel: 'rank-biserial r',
    description:
      'One-sided Mann-Whitney U test, H1: sparse test accuracies tend to exceed dense ones, treating the two nets of a cell as independent samples (ignores the pairing). Effect size: rank-biserial r = 2·P(sparse > dense) − 1.',
    run(sparse, dense, minPairs) {
      if (sparse.length < minPairs) return naResult(sparse.length, `${plural(sparse.length, 'run')} per net, fewer than ${minPairs}`);
      try {
        const r = mannWhitneyU(sparse, dense, { alternative: 'greater' });
        return { used: sparse.length, statistic: r.statistic, pValue: r.pValue, effect: r.rankBiserial, method: r.method };
      } catch (e) {
        return naResult(sparse.length, reason(e));
      }
    },
  },
};

/** Names, labels and description of a sparse-vs-dense test (for the tables of other modules). */
export function significanceTestInfo(test: SignificanceTest): Pick<TestSpec, 'name' | 'statisticLabel' | 'effectLabel' | 'description'> {
  const { name, statisticLabel, effectLabel, description } = TESTS[test];
  return { name, statisticLabel, effectLabel, description };
}

/** Runs one sparse-vs-dense test on paired final test accuracies (n/a with the reason when it cannot). */
export function sparseVsDense(test: SignificanceTest, sparse: number[], dense: number[], minPairs: number): Omit<CellResult, 'n' | 'meanDifference'> {
  if (sparse.length === 0) return naResult(0, 'no run has both nets with a finite test accuracy');
  return TESTS[test].run(sparse, dense, minPairs);
}

export type SignificanceAxis = 'regulariser' | 'activation';

const AXES: Record<SignificanceAxis, { of(row: SweepRow): string; compare(a: string, b: string): number }> = {
  regulariser: { of: (r) => regulariserLabel(r.config), compare: compareRegularisers },
  activation: { of: (r) => r.config.model.activation, compare: compareActivations },
};

/** The pairs of one table cell: sparse and dense final test accuracy of each run, in row order. */
export interface CellPairs {
  optimizer: string;
  column: string;
  sparse: number[];
  dense: number[];
}

/** Cells of optimizer × `axis`, each collecting the runs' pairs across all other axes. */
export function collectPairs(rows: readonly SweepRow[], axis: SignificanceAxis): CellPairs[] {
  const cells = new Map<string, CellPairs>();
  for (const r of rows) {
    const s = r.nets.sparse?.final.test.accuracy;
    const d = r.nets.dense?.final.test.accuracy;
    const optimizer = r.config.training.optimizer;
    const column = AXES[axis].of(r);
    const key = `${optimizer}\u0000${column}`;
    let cell = cells.get(key);
    if (!cell) {
      cell = { optimizer, column, sparse: [], dense: [] };
      cells.set(key, cell);
    }
    if (s !== undefined && d !== undefined && Number.isFinite(s) && Number.isFinite(d)) {
      cell.sparse.push(s);
      cell.dense.push(d);
    }
  }
  return [...cells.values()];
}

/** Runs the test on every cell of optimizer × `axis` (no Holm). */
export function significanceCells(rows: readonly SweepRow[], axis: SignificanceAxis, test: SignificanceTest = 'wilcoxon', minPairs = 5): Array<CellPairs & CellResult> {
  return collectPairs(rows, axis).map((c) => {
    const base = { ...c, n: c.sparse.length, meanDifference: mean(c.sparse.map((s, i) => s - at(c.dense, i))) };
    if (c.sparse.length === 0) return { ...base, ...naResult(0, 'no run of this cell has both nets with a finite test accuracy') };
    return { ...base, ...sparseVsDense(test, c.sparse, c.dense, minPairs) };
  });
}

const SIGNIFICANCE_MARK_NOTE =
  'Shading (p of H1 sparse > dense): LaTeX cells run from green (p = 0) through white (p = 0.5) to red (p = 1); in Markdown `*` p ≤ 0.05, `**` p ≤ 0.01, `***` p ≤ 0.001, `(d)` p ≥ 0.95 (the data lean towards dense ≥ sparse; that is not a test of it).';

/**
 * For one dataset, one axis and one test: the paper-style matrix of p-values (optimizer rows ×
 * axis columns), the same matrix Holm-adjusted over all its non-n/a cells, and a long table with
 * n, statistic, effect size, mean difference and the reason of every n/a.
 */
function significanceFor(rows: readonly SweepRow[], axis: SignificanceAxis, test: SignificanceTest, opts: ReturnType<typeof resolveOptions>, idSuffix: string, titleSuffix: string): Table[] {
  const spec = TESTS[test];
  const cells = significanceCells(rows, axis, test, opts.minPairs);
  const optimizers = [...new Set(cells.map((c) => c.optimizer))].sort(compareOptimizers);
  const columnsPresent = [...new Set(cells.map((c) => c.column))].sort(AXES[axis].compare);
  const withP = cells.filter((c) => c.na === undefined);
  const adjusted = new Map<(typeof cells)[number], { p: number; reject: boolean }>();
  if (withP.length > 0) {
    const h = holm(withP.map((c) => c.pValue), opts.alpha);
    withP.forEach((c, i) => adjusted.set(c, { p: at(h.adjusted, i), reject: at(h.reject, i) }));
  }
  const find = (o: string, col: string): ((typeof cells)[number]) | undefined => cells.find((c) => c.optimizer === o && c.column === col);

  const matrixColumns: Column[] = [
    { key: 'optimizer', label: 'optimizer', format: 'text' },
    ...columnsPresent.map((col): Column => ({ key: col, label: col, format: 'p', shade: true })),
  ];
  const matrix = (value: (c: (typeof cells)[number]) => Cell): Cell[][] =>
    optimizers.map((o) => [o, ...columnsPresent.map((col) => {
      const c = find(o, col);
      return c ? value(c) : NA;
    })]);
  const naNotes: string[] = [];
  for (const o of optimizers) {
    for (const col of columnsPresent) {
      const c = find(o, col);
      if (!c) naNotes.push(`${o} × ${col}: n/a — no run has this combination.`);
      else if (c.na !== undefined) naNotes.push(`${o} × ${col}: n/a — ${c.na}.`);
    }
  }
  const excluded = rows.filter((r) => {
    const s = r.nets.sparse?.final.test.accuracy;
    const d = r.nets.dense?.final.test.accuracy;
    return s === undefined || d === undefined || !Number.isFinite(s) || !Number.isFinite(d);
  }).length;
  const commonNotes = [spec.description];
  if (excluded > 0) commonNotes.push(`${plural(excluded, 'run')} without both nets or with a non-finite test accuracy left out.`);
  const axisTitle = `optimizer × ${axis}`;
  const idBase = `sig-${spec.idPart}-optimizer-x-${axis}${idSuffix}`;

  const pTable: Table = {
    id: idBase,
    title: `Sparse > dense (${spec.name}, one-sided p): ${axisTitle}${titleSuffix}`,
    columns: matrixColumns,
    rows: matrix((c) => (c.na === undefined ? c.pValue : NA)),
    notes: [...commonNotes, SIGNIFICANCE_MARK_NOTE, ...naNotes],
  };
  const holmTable: Table = {
    id: `${idBase}-holm`,
    title: `Sparse > dense (${spec.name}), Holm-adjusted p over the ${plural(withP.length, 'cell')} of the table: ${axisTitle}${titleSuffix}`,
    columns: matrixColumns,
    rows: matrix((c) => adjusted.get(c)?.p ?? NA),
    notes: [
      `Holm step-down adjustment over the ${plural(withP.length, 'non-n/a cell')} of the ${axisTitle} table (family-wise error rate); a cell is significant at α = ${opts.alpha} iff its adjusted p ≤ α.`,
      SIGNIFICANCE_MARK_NOTE,
    ],
  };
  const ordered = optimizers.flatMap((o) => columnsPresent.map((col) => find(o, col)).filter((c): c is (typeof cells)[number] => c !== undefined));
  const detail: Table = {
    id: `${idBase}-detail`,
    title: `Sparse > dense (${spec.name}), per cell: ${axisTitle}${titleSuffix}`,
    columns: [
      { key: 'optimizer', label: 'optimizer', format: 'text' },
      { key: axis, label: axis, format: 'text' },
      { key: 'n', label: 'n pairs', format: 'int' },
      { key: 'used', label: test === 'wilcoxon' ? 'n ≠ 0' : 'n used', format: 'int' },
      { key: 'mean_diff', label: 'mean Δacc (sparse − dense)', format: 'fixed', digits: 4 },
      { key: 'statistic', label: spec.statisticLabel, format: 'sig', digits: 4 },
      { key: 'p', label: 'p', format: 'p', shade: true },
      { key: 'p_holm', label: 'p (Holm)', format: 'p', shade: true },
      { key: 'effect', label: spec.effectLabel, format: 'fixed', digits: 3 },
      { key: 'method', label: 'method', format: 'text' },
      { key: 'note', label: 'note', format: 'text', wrap: true },
    ],
    rows: ordered.map((c) => {
      const a = adjusted.get(c);
      const num = (v: number): Cell => (c.na === undefined ? v : NA);
      return [
        c.optimizer,
        c.column,
        c.n,
        c.used,
        c.n > 0 ? c.meanDifference : NA,
        num(c.statistic),
        num(c.pValue),
        a ? a.p : NA,
        num(c.effect),
        c.na === undefined ? c.method : NA,
        c.na ?? (a?.reject ? `significant at α = ${opts.alpha} after Holm` : ''),
      ];
    }),
    notes: commonNotes,
  };
  return [pTable, holmTable, detail];
}

export function significanceTables(rows: readonly SweepRow[], options: TableOptions = {}): Table[] {
  const opts = resolveOptions(options);
  const out: Table[] = [];
  for (const g of byDataset(rows)) {
    for (const test of opts.tests) {
      for (const axis of ['regulariser', 'activation'] as const) out.push(...significanceFor(g.rows, axis, test, opts, g.idSuffix, g.titleSuffix));
    }
  }
  return out;
}

export function resolveOptions(o: TableOptions): Required<Pick<TableOptions, 'tests' | 'minPairs' | 'alpha'>> {
  const tests = o.tests ?? ['wilcoxon'];
  for (const t of tests) if (!(t in TESTS)) throw new Error(`unknown significance test '${t}': expected one of ${Object.keys(TESTS).join(', ')}`);
  const minPairs = o.minPairs ?? 5;
  if (!Number.isInteger(minPairs) || minPairs < 1) throw new Error(`minPairs must be a positive integer, got ${minPairs}`);
  const alpha = o.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new Error(`alpha must be in (0, 1), got ${alpha}`);
  return { tests: [...new Set(tests)], minPairs, alpha };
}

// -------------------------------------------------------------------------------------------------
// Width

/** Point keys that are not "settings" of the width table: the seed (aggregated over), the dataset and architecture (split by) and the width or density itself (the x axis). */
const NOT_SETTING = new Set(['training.seed', 'dataset.name', 'model.architecture', 'sparsity.dense_width', 'sparsity.density', 'sparsity.denseWidth', 'sparsity.dense_widen_factor']);

/** `key=value, …` of the grid axes other than seed, dataset and width: runs that differ only by seed and width share a setting. */
export function settingLabel(point: Record<string, unknown>): string {
  return Object.entries(point)
    .filter(([k]) => !NOT_SETTING.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

/**
 * The width level of a run. MLP: the dense width h_D (`sparsity.dense_width`), or the width of an
 * unpruned (method none) net. Conv net: the density ρ of its pair (`sparsity.density`; a WRN's
 * `dense_widen_factor` resolves to k_D/k), 1 for an unpruned net (it has the designed channels, the
 * twin at ρ = 1). Undefined for a pruned run without a level.
 */
export function widthLevel(row: SweepRow): number | undefined {
  if (architectureOf(row.config.model) !== 'mlp') return row.config.sparsity.density ?? (row.config.sparsity.method === 'none' ? 1 : undefined);
  if (row.config.sparsity.denseWidth !== undefined) return row.config.sparsity.denseWidth;
  return row.config.sparsity.method === 'none' ? row.config.model.width : undefined;
}

export interface Stats {
  n: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** Mean, sample standard deviation (n − 1; NaN for n < 2), min and max. */
export function describe(xs: readonly number[]): Stats {
  const n = xs.length;
  const m = mean(xs);
  const std = n < 2 ? NaN : Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (n - 1));
  return { n, mean: m, std, min: n ? Math.min(...xs) : NaN, max: n ? Math.max(...xs) : NaN };
}

type WidthMetric = 'accuracy' | keyof Pick<FlowMeasures, 'egf1' | 'egf2'>;
const WIDTH_METRICS: ReadonlyArray<{ key: WidthMetric; label: string; short: string; of(n: NetSummary): number; format: Column['format'] }> = [
  { key: 'accuracy', label: 'final test accuracy', short: 'acc', of: (n) => n.final.test.accuracy, format: 'fixed' },
  { key: 'egf1', label: 'average EGF_1 (11 points)', short: 'EGF_1', of: (n) => n.flowAverage.egf1, format: 'sig' },
  { key: 'egf2', label: 'average EGF_2 (11 points)', short: 'EGF_2', of: (n) => n.flowAverage.egf2, format: 'sig' },
];

interface WidthGroup {
  setting: string;
  net: NetRole;
  width: number;
  stats: Record<WidthMetric, Stats>;
}

function widthGroups(rows: readonly SweepRow[], notes: string[], conv: boolean): WidthGroup[] {
  const noWidth = rows.filter((r) => widthLevel(r) === undefined).length;
  if (noWidth > 0) notes.push(`${plural(noWidth, 'run')} without ${conv ? 'sparsity.density' : 'sparsity.dense_width'} left out.`);
  const out: WidthGroup[] = [];
  const settings = groupBy(rows.filter((r) => widthLevel(r) !== undefined), (r) => settingLabel(r.point));
  let dropped = 0;
  for (const [setting, rs] of settings) {
    for (const net of NETS) {
      const byWidth = groupBy(rs.filter((r) => r.nets[net] !== undefined), (r) => String(widthLevel(r)));
      const widths = [...byWidth.keys()].map(Number).sort((a, b) => a - b);
      for (const w of widths) {
        const nets = (byWidth.get(String(w)) ?? []).map((r) => r.nets[net] as NetSummary);
        const stats = {} as Record<WidthMetric, Stats>;
        for (const m of WIDTH_METRICS) {
          const xs = nets.map(m.of);
          const finite = xs.filter(Number.isFinite);
          dropped += xs.length - finite.length;
          stats[m.key] = describe(finite);
        }
        out.push({ setting, net, width: w, stats });
      }
    }
  }
  if (dropped > 0) notes.push(`${plural(dropped, 'non-finite value')} (diverged nets) left out of the statistics.`);
  return out;
}

export function widthTablesAndPlots(rows: readonly SweepRow[]): ReportTables {
  const tables: Table[] = [];
  const plots: Plot[] = [];
  for (const g of byDataset(rows)) {
    const notes: string[] = [
      g.conv
        ? `Density ρ = the level of the SC-SDC pair (sparsity.density, or dense_widen_factor / widen_factor for a WRN): the dense twin is the ${g.architecture} with every channel count × ρ, rounded, and its sparse twin keeps the same weights per layer; an unpruned net is at ρ = 1. Statistics over the runs that differ only by seed (and by axes not in the grid): mean, sample standard deviation (n − 1; n/a for one run), min, max.`
        : 'Width = the dense width level h_D (sparsity.dense_width): the dense net\'s width and the capacity level of its sparse twin. Statistics over the runs that differ only by seed (and by axes not in the grid): mean, sample standard deviation (n − 1; n/a for one run), min, max.',
    ];
    const groups = widthGroups(g.rows, notes, g.conv);
    const fmt = (v: number): Cell => (Number.isFinite(v) ? v : NA);
    const columns: Column[] = [
      { key: 'setting', label: 'setting', format: 'text', wrap: true },
      { key: 'net', label: 'net', format: 'text' },
      g.conv ? { key: 'density', label: 'density ρ', format: 'sig', digits: 4 } : { key: 'width', label: 'width h_D', format: 'int' },
      { key: 'n', label: 'n', format: 'int' },
    ];
    for (const m of WIDTH_METRICS) {
      for (const s of ['mean', 'std', 'min', 'max'] as const) columns.push({ key: `${m.key}_${s}`, label: `${m.short} ${s}`, format: m.format, digits: 4 });
    }
    tables.push({
      id: `width${g.idSuffix}`,
      title: `Test accuracy and average EGF against ${g.conv ? 'density' : 'width'}${g.titleSuffix}`,
      columns,
      rows: groups.map((wg) => [
        wg.setting || 'all runs',
        wg.net,
        wg.width,
        wg.stats.accuracy.n,
        ...WIDTH_METRICS.flatMap((m) => {
          const s = wg.stats[m.key];
          return [fmt(s.mean), fmt(s.std), fmt(s.min), fmt(s.max)];
        }),
      ]),
      notes,
    });
    const settings = [...new Set(groups.map((wg) => wg.setting))];
    settings.forEach((setting, si) => {
      const settingId = settings.length > 1 ? `-s${si + 1}` : '';
      for (const m of WIDTH_METRICS) {
        const series: PlotSeries[] = NETS.map((net) => ({
          name: net,
          net,
          points: groups
            .filter((wg) => wg.setting === setting && wg.net === net && wg.stats[m.key].n > 0)
            .map((wg): PlotPoint => ({ x: wg.width, ...wg.stats[m.key] })),
        })).filter((s) => s.points.length > 0);
        if (series.length === 0) continue;
        plots.push({
          id: `width${g.idSuffix}${settingId}-${m.key}`,
          title: `${m.label} vs ${g.conv ? 'density' : 'width'}${g.titleSuffix}`,
          ...(setting ? { subtitle: setting } : {}),
          xLabel: g.conv ? 'density ρ (dense twin: channels × ρ)' : 'dense width h_D',
          yLabel: m.label,
          series,
          notes: ['Points: mean over seeds; error bars: ± one sample standard deviation (none for a single run).'],
        });
      }
    });
  }
  return { tables, plots };
}
