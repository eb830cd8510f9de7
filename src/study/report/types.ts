/**
 * Types shared by the sweep report: what is loaded from a sweep folder (`SweepResults`), the
 * renderer-independent tables and plots built from it, and the report error.
 */
import type { ExperimentConfig } from '../../shared/experiment';
import type { Alert, NetSummary } from '../../shared/protocol';

// -------------------------------------------------------------------------------------------------
// Loaded data

/** One finished configuration of a sweep: the newest finished run of its config id. */
export interface SweepRow {
  /** Stable id of the resolved configuration (sweep.json `runs[].id`, run.json `configId`). */
  configId: string;
  /** Run folder name and path of the run that was read. */
  runId: string;
  runDir: string;
  /** Grid point from sweep.json: axis key (as written in the file, dotted snake_case) → value, plus `training.seed`. */
  point: Record<string, unknown>;
  config: ExperimentConfig;
  /** The nets the run trained (both for an SC-SDC pair). Non-finite metrics are stored as NaN. */
  nets: { sparse?: NetSummary; dense?: NetSummary };
  /** The run's alerts (summary.json `alerts`; empty when the summary has none). */
  alerts: Alert[];
}

export interface SweepResults {
  /** Absolute path of the sweep folder. */
  dir: string;
  name: string;
  sourceFile?: string;
  /** Configurations in sweep.json. */
  planned: number;
  /** One row per planned configuration that has a finished run, in sweep.json order. */
  rows: SweepRow[];
  /** Planned configurations without a finished run (killed, failed, stopped or not started). */
  unfinished: Array<{ id: string; point: Record<string, unknown> }>;
  /** Finished runs whose config id is not in sweep.json (left from an earlier grid); not reported. */
  orphaned: string[];
  /**
   * Damaged run folders left out of the report, each named with the reason (a missing or unreadable
   * config.json or summary.json, a summary without a metric the tables need, a corrupt folder).
   * A configuration whose every run is damaged is also in `unfinished`; `configId` is absent when
   * the folder's run.json is too damaged to say.
   */
  skipped: Array<{ configId?: string; runId: string; runDir: string; reason: string }>;
}

export type ReportErrorCode = 'not-a-sweep' | 'no-finished-runs' | 'missing-metric' | 'bad-run';

/** Why a sweep folder cannot be reported; `run` names the run folder at fault, `metric` the missing field. */
export class ReportError extends Error {
  readonly code: ReportErrorCode;
  readonly run?: string;
  readonly metric?: string;
  constructor(code: ReportErrorCode, message: string, where: { run?: string; metric?: string } = {}) {
    super(message);
    this.name = 'ReportError';
    this.code = code;
    if (where.run !== undefined) this.run = where.run;
    if (where.metric !== undefined) this.metric = where.metric;
  }
}

// -------------------------------------------------------------------------------------------------
// Tables

/**
 * How a column's numbers are written (CSV always writes full precision):
 * - `text`: strings as they are;
 * - `int`: integers;
 * - `fixed`: `digits` decimals;
 * - `sig`: `digits` significant digits (gradient norms span orders of magnitude);
 * - `p`: a p-value: 4 decimals, scientific below 0.001.
 */
export type ColumnFormat = 'text' | 'int' | 'fixed' | 'sig' | 'p';

export interface Column {
  /** Machine name (CSV header). */
  key: string;
  /** Human header (Markdown, LaTeX). */
  label: string;
  format: ColumnFormat;
  /** Decimals (`fixed`) or significant digits (`sig`); default 4. */
  digits?: number;
  /**
   * A one-sided p-value of H1 sparse > dense: rendered with the shading of docs/study.md
   * (LaTeX \cellcolor, Markdown significance marks).
   */
  shade?: boolean;
  /** Long text (notes, settings): a fixed-width wrapping column in LaTeX, so the table fits the page. */
  wrap?: boolean;
}

/** A cell: a number, or a string (labels, and 'n/a' where a statistic is undefined — the reason is in the notes). */
export type Cell = number | string;

export interface Table {
  /** File name stem of the table's .csv/.tex, unique within a report. */
  id: string;
  title: string;
  columns: Column[];
  rows: Cell[][];
  /** Sentences printed under the table: what the numbers are, and why cells are 'n/a'. */
  notes: string[];
}

// -------------------------------------------------------------------------------------------------
// Plots

export interface PlotPoint {
  x: number;
  mean: number;
  /** Sample standard deviation (n − 1); NaN when n = 1 (no error bar drawn). */
  std: number;
  min: number;
  max: number;
  n: number;
}

export interface PlotSeries {
  name: string;
  /** Which net the series shows; sets its colour and marker. */
  net: 'sparse' | 'dense';
  points: PlotPoint[];
}

export interface Plot {
  /** File name stem of the plot's .svg/.png, unique within a report. */
  id: string;
  title: string;
  /** Smaller second heading (the grid setting the plot shows); wrapped in the SVG. */
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: PlotSeries[];
  /** Sentences under the plot in report.md (what the error bars are). */
  notes: string[];
}

// -------------------------------------------------------------------------------------------------
// Options

/** Tests for the sparse-vs-dense tables. `wilcoxon` is the paper's (method.md §4); the others are options. */
export type SignificanceTest = 'wilcoxon' | 'paired-t' | 'mann-whitney';

export interface TableOptions {
  /** Resamples of the paired bootstrap of |τ| differences (default 2000). */
  bootstrapResamples?: number;
  /** Seed of the bootstrap resampler (default 13): the same seed gives the same report. */
  bootstrapSeed?: number;
  /** Confidence level of the bootstrap intervals (default 0.95). */
  confidence?: number;
  /** Resampling unit of the bootstrap (default `auto`: configurations when seeds repeat, else runs). */
  bootstrapUnit?: 'auto' | 'run' | 'configuration';
  /** Keep blown-up nets in the correlation tables (default false: left out, counted and listed). */
  includeBlownUp?: boolean;
  /** Which sparse-vs-dense tests to tabulate (each gets its own tables). Default `['wilcoxon']`. */
  tests?: SignificanceTest[];
  /**
   * Smallest number of usable pairs (for Wilcoxon: non-zero differences) for which a p-value is
   * shown; below it the cell is 'n/a'. Default 5: with n ≤ 4 the smallest attainable one-sided exact
   * Wilcoxon p-value is 1/2^n ≥ 0.0625, so the test cannot reject at the 5 % level whatever the data.
   */
  minPairs?: number;
  /** Family-wise level for Holm's rejections (the adjusted p-values do not depend on it). Default 0.05. */
  alpha?: number;
}

export type ReportFormat = 'md' | 'csv' | 'tex' | 'svg' | 'png';
export const REPORT_FORMATS: readonly ReportFormat[] = ['md', 'csv', 'tex', 'svg', 'png'];

export interface ReportTables {
  tables: Table[];
  plots: Plot[];
}
