/**
 * The EGF early warning, measured (docs/study.md §5, issue 22): from the first k % of training of
 * each run of a sweep, predict (a) whether the sparse net beats its dense twin at the end and
 * (b) the rank of its final test accuracy, from early EGF₁/EGF₂ and their trend, against baselines
 * (early loss, early accuracy, raw ‖g‖₂). Leave-one-configuration-out fits; AUC and Kendall τ with
 * cluster-bootstrap intervals; a verdict on whether EGF adds over early loss.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bootstrapIndices, quantile } from '../stats';
import { expandClusters } from '../stats/correlation';
import { configurationKey } from '../report/correlation';
import type { Cell, Column, SweepRow, Table } from '../report/types';
import { fitLogistic, fitRidge, leaveOneGroupOut, leavePairOut, pairwiseMetric } from './model';
import { at } from '../../shared/checked';

/** The early windows, as fractions of a run's training steps. */
export const EARLY_FRACTIONS = [0.05, 0.1, 0.2] as const;

/** Early features of one net: levels over the second half of the window, trends second half vs first. */
export interface EarlyFeatures {
  /** Mean training-batch loss and accuracy over the second half of the window. */
  loss: number;
  accuracy: number;
  /** Mean raw ‖g‖₂, EGF₁, EGF₂ over the measured steps of the second half. */
  g2: number;
  egf1: number;
  egf2: number;
  /** ln(mean of the second half) − ln(mean of the first half). */
  egf1Trend: number;
  egf2Trend: number;
}

/** One run as the early warning sees it. */
export interface EarlyRun {
  runId: string;
  /** Configuration key: the grid point without the seed (the unit left out, and resampled). */
  configuration: string;
  /** Final test accuracy of each net. */
  finalSparse: number;
  finalDense: number;
  /** Per early fraction (EARLY_FRACTIONS order): both nets' features, or undefined when not measurable. */
  early: Array<{ sparse: EarlyFeatures; dense: EarlyFeatures } | undefined>;
}

interface StepPoint {
  step: number;
  loss: number;
  accuracy: number;
  g2: number;
  egf1: number;
  egf2: number;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const meanOf = (xs: readonly number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Features of the steps 1..w of one net (w ≥ 2); NaN where a half has no measured norm. */
export function windowFeatures(points: readonly StepPoint[], w: number): EarlyFeatures {
  const half = w / 2;
  const first = points.filter((p) => p.step >= 1 && p.step <= half);
  const second = points.filter((p) => p.step > half && p.step <= w);
  const measured = (ps: readonly StepPoint[], k: 'g2' | 'egf1' | 'egf2'): number => meanOf(ps.map((p) => p[k]).filter(Number.isFinite));
  const trend = (k: 'egf1' | 'egf2'): number => Math.log(measured(second, k)) - Math.log(measured(first, k));
  return {
    loss: meanOf(second.map((p) => p.loss)),
    accuracy: meanOf(second.map((p) => p.accuracy)),
    g2: measured(second, 'g2'),
    egf1: measured(second, 'egf1'),
    egf2: measured(second, 'egf2'),
    egf1Trend: trend('egf1'),
    egf2Trend: trend('egf2'),
  };
}

/**
 * The step records (`{"type":"step"}`) of a run's metrics.jsonl up to `maxStep`, per net. Reads the
 * file line by line and stops once both nets are past `maxStep` (the log is in step order), so only
 * the early part of a long log is read. Unreadable lines are skipped (a torn last line is normal).
 */
export function readEarlySteps(runDir: string, maxStep: number): { sparse: StepPoint[]; dense: StepPoint[] } {
  const out = { sparse: [] as StepPoint[], dense: [] as StepPoint[] };
  let fd: number;
  try {
    fd = fs.openSync(path.join(runDir, 'metrics.jsonl'), 'r');
  } catch {
    return out;
  }
  const past = { sparse: false, dense: false };
  const buf = Buffer.alloc(1 << 16);
  let carry = '';
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const lines = (carry + buf.subarray(0, n).toString('utf8')).split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"type":"step"')) continue;
        let m: unknown;
        try {
          m = (JSON.parse(line) as { metrics?: unknown }).metrics;
        } catch {
          continue;
        }
        if (typeof m !== 'object' || m === null) continue;
        const r = m as Record<string, unknown>;
        const net = r.net;
        if (net !== 'sparse' && net !== 'dense') continue;
        const step = num(r.step);
        if (step > maxStep) {
          past[net] = true;
          continue;
        }
        out[net].push({ step, loss: num(r.loss), accuracy: num(r.accuracy), g2: num(r.g2), egf1: num(r.egf1), egf2: num(r.egf2) });
      }
      if (past.sparse && past.dense) break;
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/** The early-warning view of a report row: its run folder's early steps, its final accuracies. */
export function earlyRun(row: SweepRow, runDir: string): EarlyRun | undefined {
  const s = row.nets.sparse;
  const d = row.nets.dense;
  if (!s || !d) return undefined;
  const total = Math.max(s.steps, d.steps);
  const windows = EARLY_FRACTIONS.map((f) => Math.max(2, Math.round(f * total)));
  const steps = readEarlySteps(runDir, Math.max(...windows));
  const early = windows.map((w) => {
    const sparse = windowFeatures(steps.sparse, w);
    const dense = windowFeatures(steps.dense, w);
    return Object.values(sparse).every(Number.isFinite) && Object.values(dense).every(Number.isFinite) ? { sparse, dense } : undefined;
  });
  return { runId: row.runId, configuration: configurationKey(row), finalSparse: s.final.test.accuracy, finalDense: d.final.test.accuracy, early };
}

// -------------------------------------------------------------------------------------------------
// Predictors

export type PredictorKey = 'loss' | 'accuracy' | 'g2' | 'egf' | 'loss+egf';
export interface Predictor {
  key: PredictorKey;
  label: string;
  /** The feature row of a net's early features. */
  features: (f: EarlyFeatures) => number[];
}
/** Flow measures enter on a log scale (they span orders of magnitude). */
export const PREDICTORS: readonly Predictor[] = [
  { key: 'loss', label: 'early loss', features: (f) => [f.loss] },
  { key: 'accuracy', label: 'early accuracy', features: (f) => [f.accuracy] },
  { key: 'g2', label: 'early ||g||_2', features: (f) => [Math.log(f.g2)] },
  { key: 'egf', label: 'early EGF_1, EGF_2 + trends', features: (f) => [Math.log(f.egf1), Math.log(f.egf2), f.egf1Trend, f.egf2Trend] },
  { key: 'loss+egf', label: 'early loss + EGF', features: (f) => [f.loss, Math.log(f.egf1), Math.log(f.egf2), f.egf1Trend, f.egf2Trend] },
];

export type Task = 'beats' | 'rank';

/**
 * Feature rows of the usable runs for a task at one window: (a) `beats`: sparse features minus
 * dense features (the flow measures' logs: a log ratio); (b) `rank`: the sparse net's own features.
 */
function featureRows(runs: readonly EarlyRun[], k: number, task: Task, p: Predictor): number[][] {
  return runs.map((r) => {
    const e = r.early[k];
    if (!e) throw new Error('featureRows: run without early features');
    const fs_ = p.features(e.sparse);
    if (task === 'rank') return fs_;
    const fd = p.features(e.dense);
    return fs_.map((v, j) => v - at(fd, j));
  });
}

export interface EarlyOptions {
  resamples?: number;
  seed?: number;
  level?: number;
}
/** Fewer resamples than the report's 2000: every resample refits every model (leave-pair-out). */
export const DEFAULT_EARLY = { resamples: 200, seed: 13, level: 0.95 } as const;

export interface Interval {
  value: number;
  low: number;
  high: number;
}

export interface EarlyCell {
  fraction: number;
  task: Task;
  /** Runs and configurations used (runs with measurable early features and a finite target). */
  n: number;
  configurations: number;
  /** Positives of the `beats` task (sparse beat dense). */
  positives?: number;
  /** Per predictor: AUC (beats) or Kendall τ of prediction vs final accuracy (rank), with interval. */
  metrics: Array<{ key: PredictorKey; label: string } & Interval>;
  /** (loss + EGF) − (loss alone): the paired difference, with interval, and the verdict's wider interval. */
  added: Interval & { lowAdjusted: number; highAdjusted: number };
  /** Resamples dropped (a single class, or a constant column: the metric undefined). */
  dropped: number;
  resamples: number;
  /** Leave-one-configuration-out scores per predictor (row order of `runIds`), for the predictions table; the metrics use leave-pair-out comparisons. */
  runIds: string[];
  scores: Record<PredictorKey, number[]>;
  targets: number[];
  na?: string;
}

/** Number of (window, task) comparisons the verdict is adjusted for (Bonferroni). */
export const VERDICT_COMPARISONS = EARLY_FRACTIONS.length * 2;

/** Evaluates every predictor on one window and task. */
export function evaluateCell(runs: readonly EarlyRun[], k: number, task: Task, options: EarlyOptions = {}): EarlyCell {
  const fraction = EARLY_FRACTIONS[k] ?? NaN;
  const used = runs.filter((r) => r.early[k] !== undefined && (task === 'beats' || Number.isFinite(r.finalSparse)));
  // A net whose final accuracy is not finite (diverged) has not beaten its twin; a finite sparse net beats a NaN dense one.
  const targets = used.map((r) => (task === 'beats' ? (Number.isFinite(r.finalSparse) && (!Number.isFinite(r.finalDense) || r.finalSparse > r.finalDense) ? 1 : 0) : r.finalSparse));
  const groups = used.map((r) => r.configuration);
  const configurations = new Set(groups).size;
  const base = { fraction, task, n: used.length, configurations, ...(task === 'beats' ? { positives: targets.filter((t) => t === 1).length } : {}), runIds: used.map((r) => r.runId), targets };
  const empty = (na: string): EarlyCell => ({ ...base, metrics: [], added: { value: NaN, low: NaN, high: NaN, lowAdjusted: NaN, highAdjusted: NaN }, dropped: 0, resamples: 0, scores: {} as Record<PredictorKey, number[]>, na });
  if (configurations < 3) return empty(`too few configurations (${configurations}) to leave one out`);
  if (task === 'beats' && (base.positives === 0 || base.positives === used.length)) return empty(`every sparse net ${base.positives === 0 ? 'lost to' : 'beat'} its twin: nothing to predict`);
  const fit = task === 'beats' ? fitLogistic : fitRidge;
  const scores = {} as Record<PredictorKey, number[]>;
  const pairScores = {} as Record<PredictorKey, number[][]>;
  const features = {} as Record<PredictorKey, number[][]>;
  for (const p of PREDICTORS) {
    const X = featureRows(used, k, task, p);
    features[p.key] = X;
    scores[p.key] = leaveOneGroupOut(X, targets, groups, fit);
    pairScores[p.key] = leavePairOut(X, targets, groups, fit);
  }
  const metric = task === 'beats' ? 'auc' : 'tau';
  // Cluster bootstrap over configurations, the models refitted on every resample (leave-pair-out
  // within it; a configuration drawn twice is left out with all its copies): the interval carries
  // the fits' variability, which for a weak predictor is most of it.
  const members: number[][] = [];
  const index = new Map<string, number>();
  groups.forEach((g, i) => {
    let c = index.get(g);
    if (c === undefined) {
      c = members.length;
      index.set(g, c);
      members.push([]);
    }
    at(members, c).push(i);
  });
  const draws = bootstrapIndices(members.length, options.resamples ?? DEFAULT_EARLY.resamples, options.seed ?? DEFAULT_EARLY.seed);
  const boot: number[][] = PREDICTORS.map(() => []);
  const diff: number[] = [];
  let dropped = 0;
  const lossAt = PREDICTORS.findIndex((p) => p.key === 'loss');
  const bothAt = PREDICTORS.findIndex((p) => p.key === 'loss+egf');
  for (const d of draws) {
    if (new Set(d).size < 3) {
      // Leave-pair-out needs a third configuration to fit on.
      dropped++;
      continue;
    }
    const idx = expandClusters(d, members);
    const yr = Array.from(idx, (i) => at(targets, i));
    const gr = Array.from(idx, (i) => at(groups, i));
    const own = Int32Array.from(yr, (_, i) => i);
    const m = PREDICTORS.map((p) => {
      const X = features[p.key];
      return pairwiseMetric(leavePairOut(Array.from(idx, (i) => at(X, i)), yr, gr, fit), yr, own, metric);
    });
    if (m.some(Number.isNaN)) {
      dropped++;
      continue;
    }
    m.forEach((v, j) => at(boot, j).push(v));
    diff.push(at(m, bothAt) - at(m, lossAt));
  }
  const level = options.level ?? DEFAULT_EARLY.level;
  const alpha = (1 - level) / 2;
  const interval = (value: number, xs: number[], a = alpha): Interval => {
    const sorted = xs.slice().sort((x, y) => x - y);
    return { value, low: quantile(sorted, a), high: quantile(sorted, 1 - a) };
  };
  const all = Int32Array.from(targets, (_, i) => i);
  const full = PREDICTORS.map((p) => pairwiseMetric(pairScores[p.key], targets, all, metric));
  const added = interval(at(full, bothAt) - at(full, lossAt), diff);
  const adjusted = interval(added.value, diff, alpha / VERDICT_COMPARISONS);
  return {
    ...base,
    metrics: PREDICTORS.map((p, j) => ({ key: p.key, label: p.label, ...interval(at(full, j), at(boot, j)) })),
    added: { ...added, lowAdjusted: adjusted.low, highAdjusted: adjusted.high },
    dropped,
    resamples: draws.length - dropped,
    scores,
  };
}

/** Every window × task. */
export function evaluateEarlyWarning(runs: readonly EarlyRun[], options: EarlyOptions = {}): EarlyCell[] {
  const out: EarlyCell[] = [];
  for (const task of ['beats', 'rank'] as const) for (let k = 0; k < EARLY_FRACTIONS.length; k++) out.push(evaluateCell(runs, k, task, options));
  return out;
}

/** The verdict: yes iff some (window, task)'s Bonferroni-adjusted interval for the gain lies above 0. */
export function earlyVerdict(cells: readonly EarlyCell[], level: number = DEFAULT_EARLY.level): string {
  const pct = (x: number): string => `${Math.round(x * 1000) / 10} %`;
  const usable = cells.filter((c) => c.na === undefined && c.resamples > 0);
  const parts = usable.map((c) => `${c.task === 'beats' ? 'ΔAUC' : 'Δτ'} at ${pct(c.fraction)} ${fmt(c.added.value)} [${fmt(c.added.lowAdjusted)}, ${fmt(c.added.highAdjusted)}]`);
  const yes = usable.some((c) => c.added.lowAdjusted > 0);
  const adjLevel = 1 - (1 - level) / VERDICT_COMPARISONS;
  return `EGF adds over early loss: ${yes ? 'yes' : 'no'} (${usable.length === 0 ? 'nothing measurable' : `${pct(adjLevel)} intervals, Bonferroni over ${VERDICT_COMPARISONS} comparisons: ${parts.join('; ')}`})`;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? (v >= 0 ? '+' : '') + v.toFixed(3) : 'n/a';
}

// -------------------------------------------------------------------------------------------------
// Tables

const text = (key: string, label = key): Column => ({ key, label, format: 'text' });
const fixed = (key: string, label: string): Column => ({ key, label, format: 'fixed', digits: 3 });
const int = (key: string, label: string): Column => ({ key, label, format: 'int' });

/** The result table (one row per window × task × predictor, plus the gain row) and the per-run predictions table. */
export function earlyWarningTables(cells: readonly EarlyCell[], options: EarlyOptions = {}, excluded: string[] = []): [Table, Table] {
  const level = options.level ?? DEFAULT_EARLY.level;
  const pct = `${Math.round(level * 1000) / 10} %`;
  const rows: Cell[][] = [];
  const notes: string[] = [];
  for (const c of cells) {
    const task = c.task === 'beats' ? '(a) sparse beats dense: AUC' : '(b) final accuracy rank: Kendall τ';
    const window = `${Math.round(c.fraction * 100)} %`;
    if (c.na !== undefined) {
      rows.push([task, window, 'all', c.n, c.configurations, 'n/a', 'n/a', 'n/a']);
      notes.push(`${task}, first ${window}: n/a — ${c.na}.`);
      continue;
    }
    for (const m of c.metrics) rows.push([task, window, m.label, c.n, c.configurations, m.value, m.low, m.high]);
    rows.push([task, window, 'gain: (loss + EGF) − loss', c.n, c.configurations, c.added.value, c.added.low, c.added.high]);
    if (c.dropped > 0) notes.push(`${task}, first ${window}: ${c.dropped} of ${c.dropped + c.resamples} resamples dropped (one class only, a constant prediction, or fewer than 3 distinct configurations).`);
    if (c.positives !== undefined) notes.push(`${task}, first ${window}: ${c.positives} of ${c.n} sparse nets beat their dense twin at the end.`);
  }
  const resamples = options.resamples ?? DEFAULT_EARLY.resamples;
  const seed = options.seed ?? DEFAULT_EARLY.seed;
  const table: Table = {
    id: 'early-warning',
    title: 'EGF early warning: predicting the end of training from its first k %',
    columns: [text('task'), text('window', 'first k % of steps'), text('predictor'), int('n', 'runs'), int('configurations', 'configurations'), fixed('value', 'AUC / τ'), fixed('ci_low', `${pct} CI low`), fixed('ci_high', `${pct} CI high`)],
    rows,
    notes: [
      'Features over the first k % of a run\'s training steps, from its metrics log: levels = means over the second half of the window (training-batch loss and accuracy; raw ||g||_2, EGF_1 and EGF_2 on the steps where norms were measured), trends = ln(mean of the second half) − ln(mean of the first half) of EGF_1 and EGF_2. Flow levels enter as logs.',
      '(a) Whether the sparse net ends with a higher test accuracy than its dense twin, from the sparse-minus-dense features (ridge logistic regression, λ = 1 on standardised features); AUC = the share of (beat, lost) pairs of runs ordered correctly by the held-out scores, ties ½ (Mann–Whitney U / n₁n₂). (b) The final test accuracy of the sparse net from its own features (ridge least squares, λ = 1); Kendall τ-b of the held-out predictions with the final accuracies, pair by pair. A constant or useless predictor has AUC 0.5, τ 0.',
      'Held out by configuration (the grid point without the seed): two runs are compared by a model fitted without either run\'s configuration (leave-pair-of-configurations-out; runs of one configuration by the model that left it out). Pooling plain leave-one-configuration-out scores instead would bias a useless predictor below AUC 0.5 / τ 0 (Airola et al. 2011). Intervals: cluster bootstrap over configurations with every model refitted on every resample (the same way, leave-pair-out within the resample), ' + `${resamples} resamples, Mulberry32 seed ${seed}, percentile ${pct}.`,
      `Gain: the paired difference of the metric of early loss + EGF and of early loss alone on the same resamples. ${earlyVerdict(cells, level)}.`,
      ...(excluded.length > 0 ? [`Left out: ${excluded.join('; ')}.`] : []),
      ...notes,
    ],
  };
  const pred: Cell[][] = [];
  for (const c of cells) {
    if (c.na !== undefined) continue;
    c.runIds.forEach((id, i) => pred.push([c.task, Math.round(c.fraction * 100), id, at(c.targets, i), ...PREDICTORS.map((p) => at(c.scores[p.key], i))]));
  }
  const predictions: Table = {
    id: 'early-warning-predictions',
    title: 'EGF early warning: held-out predictions per run',
    columns: [text('task'), int('window_pct', 'first k %'), text('run'), { key: 'target', label: 'target', format: 'sig', digits: 4 }, ...PREDICTORS.map((p): Column => ({ key: `score_${p.key}`, label: p.label, format: 'sig', digits: 4 }))],
    rows: pred,
    notes: ['Target: 1 if the sparse net beat its twin (task beats), or the sparse net\'s final test accuracy (task rank). Scores: leave-one-configuration-out, the fitted linear combination of the features without intercept (only their order matters); the metrics of the main table compare pairs by leave-pair-out fits instead.'],
  };
  return [table, predictions];
}
