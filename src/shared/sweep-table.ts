/**
 * The sweep table's columns, cell values, display text, sorting, filtering and CSV. Pure and
 * DOM-free, shared by the page (what it shows) and the host (what it exports), so an export is
 * exactly the table the user looked at: same rows, same order.
 *
 * Cell values: a number (NaN = the metric was non-finite: the net diverged), a string, a boolean,
 * or undefined (no value: the run has not finished, or the run has no such net or axis).
 */
import type {
  PointValue,
  SortDirection,
  SweepNetResult,
  SweepRow,
  SweepRowStatus,
  SweepTableView,
} from './webview-protocol';
import { SWEEP_ROW_STATUSES } from './webview-protocol';

export type CellValue = number | string | boolean | undefined;

export type ColumnKind = 'axis' | 'status' | 'accuracy' | 'accuracyDiff' | 'loss' | 'egf';

export interface SweepColumn {
  /** Stable id: `axis:<key>` for grid axes, otherwise the metric name. Used in `SweepTableView.sort`. */
  id: string;
  /** Header text. */
  label: string;
  /** Header tooltip: what the column holds. */
  title: string;
  /** CSV header (machine-friendly). */
  csv: string;
  kind: ColumnKind;
  /** Right-aligned in the table. */
  numeric: boolean;
}

type NetKey = 'sparse' | 'dense';
type MetricKey = keyof SweepNetResult;

interface MetricColumn extends SweepColumn {
  net: NetKey;
  metric: MetricKey;
}

function metricColumn(net: NetKey, metric: MetricKey, label: string, title: string, csv: string, kind: ColumnKind): MetricColumn {
  return { id: `${net}.${metric}`, label, title, csv, kind, numeric: true, net, metric };
}

/** The fixed columns after the axes, in display order. */
const METRIC_COLUMNS: readonly MetricColumn[] = [
  metricColumn('sparse', 'testAccuracy', 'sparse acc', 'Final test accuracy of the sparse net', 'sparse_test_accuracy', 'accuracy'),
  metricColumn('dense', 'testAccuracy', 'dense acc', 'Final test accuracy of the dense net', 'dense_test_accuracy', 'accuracy'),
];
const DIFF_COLUMN: SweepColumn = {
  id: 'accuracyDiff',
  label: 'Δ acc',
  title: 'Sparse − dense test accuracy, in percentage points (positive: the sparse net won)',
  csv: 'accuracy_diff',
  kind: 'accuracyDiff',
  numeric: true,
};
const LATER_METRIC_COLUMNS: readonly MetricColumn[] = [
  metricColumn('sparse', 'testLoss', 'sparse loss', 'Final test loss of the sparse net', 'sparse_test_loss', 'loss'),
  metricColumn('dense', 'testLoss', 'dense loss', 'Final test loss of the dense net', 'dense_test_loss', 'loss'),
  metricColumn('sparse', 'egf1', 'sparse EGF₁', '11-point average EGF₁ of the sparse net (method.md §3)', 'sparse_egf1', 'egf'),
  metricColumn('sparse', 'egf2', 'sparse EGF₂', '11-point average EGF₂ of the sparse net (method.md §3)', 'sparse_egf2', 'egf'),
  metricColumn('dense', 'egf1', 'dense EGF₁', '11-point average EGF₁ of the dense net (method.md §3)', 'dense_egf1', 'egf'),
  metricColumn('dense', 'egf2', 'dense EGF₂', '11-point average EGF₂ of the dense net (method.md §3)', 'dense_egf2', 'egf'),
];
const STATUS_COLUMN: SweepColumn = {
  id: 'status',
  label: 'status',
  title: 'pending, running (with progress), finished, stopped or failed',
  csv: 'status',
  kind: 'status',
  numeric: false,
};

export const SEED_AXIS = 'training.seed';

/**
 * Header of an axis: the last part of its key (`sparsity.dense_width` → `dense_width`), which keeps
 * a 4-axis table readable in an editor-width panel; the full key when two axes share that last
 * part. The header tooltip and the CSV always have the full key.
 */
export function axisLabel(key: string, axes: readonly string[] = [key]): string {
  if (key === SEED_AXIS) return 'seed';
  const last = (k: string): string => k.slice(k.lastIndexOf('.') + 1);
  const short = last(key);
  return axes.filter((k) => last(k) === short).length > 1 ? key : short;
}

/** Columns of a sweep: its axes (file order), status, then the metrics. */
export function sweepColumns(axes: readonly string[]): SweepColumn[] {
  return [
    ...axes.map((key): SweepColumn => ({
      id: `axis:${key}`,
      label: axisLabel(key, axes),
      title: `Sweep axis ${key}`,
      csv: key,
      kind: 'axis',
      numeric: false,
    })),
    STATUS_COLUMN,
    ...METRIC_COLUMNS,
    DIFF_COLUMN,
    ...LATER_METRIC_COLUMNS,
  ];
}

function metric(v: number | null | undefined): number | undefined {
  if (v === undefined) return undefined;
  return v === null ? NaN : v;
}

function pointCell(v: PointValue | undefined): CellValue {
  return v === null ? undefined : v;
}

/** Sparse − dense final test accuracy; NaN when either net diverged, undefined without both nets. */
export function accuracyDiff(row: SweepRow): number | undefined {
  if (row.sparse === null || row.dense === null) return undefined;
  const s = row.sparse.testAccuracy;
  const d = row.dense.testAccuracy;
  return s === null || d === null ? NaN : s - d;
}

export function cellValue(row: SweepRow, column: SweepColumn): CellValue {
  if (column.kind === 'axis') return pointCell(row.point[column.id.slice('axis:'.length)]);
  if (column.kind === 'status') return row.status;
  if (column.kind === 'accuracyDiff') return accuracyDiff(row);
  const m = column as MetricColumn;
  const net = row[m.net];
  return net === null ? undefined : metric(net[m.metric]);
}

// ---------------------------------------------------------------------------------------------
// Display

/** Significant-figure formatting for losses and norms spanning many orders of magnitude. */
function sig(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

/** The status cell's text: `running 42%` while a run reports progress. */
export function statusText(row: SweepRow): string {
  if (row.status === 'running' && row.progress !== null) return `running ${Math.floor(row.progress * 100)}%`;
  return row.status;
}

/** What a cell shows. The text filter matches this text, so what you see is what you can find. */
export function cellText(row: SweepRow, column: SweepColumn): string {
  if (column.kind === 'status') return statusText(row);
  const v = cellValue(row, column);
  if (v === undefined) return '—';
  if (typeof v === 'boolean' || typeof v === 'string') return String(v);
  if (Number.isNaN(v)) return 'NaN';
  switch (column.kind) {
    case 'accuracy':
      return `${(v * 100).toFixed(2)}%`;
    case 'accuracyDiff': {
      const pp = v * 100;
      // Rounding to 0.00 keeps its sign out: "−0.00" would claim a direction the data does not have.
      const text = Math.abs(pp).toFixed(2);
      return text === '0.00' ? '0.00 pp' : `${pp > 0 ? '+' : '−'}${text} pp`;
    }
    case 'loss':
    case 'egf':
      return sig(v);
    case 'axis':
      return String(v);
    default:
      return String(v);
  }
}

// ---------------------------------------------------------------------------------------------
// Sorting

const STATUS_RANK: Record<SweepRowStatus, number> = { running: 0, pending: 1, finished: 2, stopped: 3, failed: 4 };

/** Missing and NaN sort last in both directions: a diverged run is not "the best" or "the worst". */
function isMissing(v: CellValue): boolean {
  return v === undefined || (typeof v === 'number' && Number.isNaN(v));
}

/** Mixed-type axes (rare: `[0.1, auto]`): numbers, then booleans, then strings. */
function typeRank(v: number | string | boolean): number {
  return typeof v === 'number' ? 0 : typeof v === 'boolean' ? 1 : 2;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function compareValues(a: number | string | boolean, b: number | string | boolean): number {
  const ta = typeRank(a);
  const tb = typeRank(b);
  if (ta !== tb) return ta - tb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return collator.compare(String(a), String(b));
}

/**
 * Rows sorted by one column (a new array; the input is not touched). Numbers compare numerically,
 * strings naturally (`w2` before `w10`); missing and NaN go last whichever the direction; ties keep
 * sweep.json order in both directions (stable, not reversed). Status sorts running (by progress,
 * furthest first), pending, finished, stopped, failed. An unknown column leaves the order.
 */
export function sortRows(rows: readonly SweepRow[], columns: readonly SweepColumn[], sort: SweepTableView['sort']): SweepRow[] {
  const indexed = rows.map((row, i) => ({ row, i }));
  const column = sort ? columns.find((c) => c.id === sort.column) : undefined;
  if (!sort || !column) return indexed.map((e) => e.row);
  const sign = sort.direction === 'asc' ? 1 : -1;
  const key = (row: SweepRow): CellValue => cellValue(row, column);
  indexed.sort((x, y) => {
    let c: number;
    if (column.kind === 'status') {
      c = STATUS_RANK[x.row.status] - STATUS_RANK[y.row.status];
      if (c === 0 && x.row.status === 'running') c = (y.row.progress ?? -1) - (x.row.progress ?? -1);
      c *= sign;
    } else {
      const a = key(x.row);
      const b = key(y.row);
      const ma = isMissing(a);
      const mb = isMissing(b);
      if (ma || mb) c = ma === mb ? 0 : ma ? 1 : -1;
      else c = sign * compareValues(a as number | string | boolean, b as number | string | boolean);
    }
    return c !== 0 ? c : x.i - y.i;
  });
  return indexed.map((e) => e.row);
}

/** Clicking a header: a new column sorts ascending; the same column toggles asc ↔ desc. */
export function nextSort(current: SweepTableView['sort'], column: string): { column: string; direction: SortDirection } {
  if (current && current.column === column) return { column, direction: current.direction === 'asc' ? 'desc' : 'asc' };
  return { column, direction: 'asc' };
}

// ---------------------------------------------------------------------------------------------
// Filtering

/** Lower-cased terms of the filter text. */
export function filterTerms(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter((t) => t.length > 0);
}

/** A row is shown when its status is selected and every term occurs in at least one cell's text. */
export function rowMatches(row: SweepRow, columns: readonly SweepColumn[], terms: readonly string[], statuses: ReadonlySet<SweepRowStatus>): boolean {
  if (!statuses.has(row.status)) return false;
  if (terms.length === 0) return true;
  const cells = columns.map((c) => cellText(row, c).toLowerCase());
  return terms.every((t) => cells.some((c) => c.includes(t)));
}

/** Filter then sort, as the table shows them. */
export function visibleRows(rows: readonly SweepRow[], columns: readonly SweepColumn[], view: SweepTableView): SweepRow[] {
  const terms = filterTerms(view.text);
  const statuses = new Set(view.statuses);
  return sortRows(rows.filter((r) => rowMatches(r, columns, terms, statuses)), columns, view.sort);
}

/** The default view: sweep.json order, everything shown. */
export function defaultView(): SweepTableView {
  return { sort: null, text: '', statuses: [...SWEEP_ROW_STATUSES] };
}

/** Rows per status, for the status filter's counts. */
export function statusCounts(rows: readonly SweepRow[]): Record<SweepRowStatus, number> {
  const out: Record<SweepRowStatus, number> = { pending: 0, running: 0, finished: 0, stopped: 0, failed: 0 };
  for (const r of rows) out[r.status]++;
  return out;
}

// ---------------------------------------------------------------------------------------------
// CSV

/** RFC 4180: quote a field when it holds a separator, a quote, a line break or edge spaces. */
function csvField(s: string): string {
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Raw value for the CSV: full precision, `NaN` for a diverged metric, empty when there is none. */
function csvValue(row: SweepRow, column: SweepColumn): string {
  if (column.kind === 'status') return row.status;
  const v = cellValue(row, column);
  if (v === undefined) return '';
  return String(v);
}

/**
 * The table as CSV: `config_id`, `run_id`, the columns (axes under their file keys), `progress`
 * (0..1 while running) and `message`. Accuracies are fractions and the difference is sparse −
 * dense as a fraction (the table shows percent and percentage points).
 */
export function sweepCsv(rows: readonly SweepRow[], axes: readonly string[], view: SweepTableView): string {
  const columns = sweepColumns(axes);
  const header = ['config_id', 'run_id', ...columns.map((c) => c.csv), 'progress', 'message'];
  let out = header.map(csvField).join(',') + '\n';
  for (const row of visibleRows(rows, columns, view)) {
    const fields = [
      row.configId,
      row.runId ?? '',
      ...columns.map((c) => csvValue(row, c)),
      row.progress === null ? '' : String(row.progress),
      row.message ?? '',
    ];
    out += fields.map(csvField).join(',') + '\n';
  }
  return out;
}
