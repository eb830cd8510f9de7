/**
 * Extension host ↔ dashboard webview protocol. Imported by both sides: the host
 * (`src/extension/dashboard/`) and the page (`webview/`), so each message is declared once.
 *
 * Transport: `webview.postMessage` / `acquireVsCodeApi().postMessage`, which serialise as JSON.
 * JSON has no NaN/Infinity, so every metric that can be non-finite is typed `number | null` here
 * (null = "not a finite number"); alert values keep the trainer protocol's string encoding.
 *
 * Trust: the page validates every message it receives (`isHostToPage`), the host validates every
 * message from the page (`isPageToHost`). The guards check every field, not just the tag: a page
 * that was reloaded from an older bundle, or a bug on either side, must not crash the other.
 *
 * Sequence: page → `ready` (also after every reload: VS Code destroys hidden webviews because we do
 * not rely on `retainContextWhenHidden`); host → `init` with the full replay state; then host →
 * incremental notifications at most 4 times per second. Page → commands at any time.
 *
 * Sweeps (the Sweep tab) ride on the same sequence: `init` carries them, `sweepAdded` / `sweepRow` /
 * `sweepStatus` update them (rows coalesced per drain like step series), `focusSweep` shows one;
 * the page answers with `selectSweep`, `openSweepRun` and `exportSweepCsv`. The sweep fields of
 * `init` are optional so a newer page still reads an older host (no protocol version bump).
 *
 * `applyNotification` is the single reducer the page uses to fold notifications into its model.
 * It lives here (pure, DOM-free) so the host tests can prove that replaying a snapshot equals
 * applying the incremental stream.
 */
import type { NetRole } from './experiment';
import type { Alert, AlertKind, LayerInfo, NetInfo } from './protocol';

/** Bump on any incompatible change; page and host refuse each other on a mismatch. */
export const WEBVIEW_PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Data shapes

export const RUN_STATUSES = ['running', 'done', 'failed', 'stopped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const NET_ROLES = ['sparse', 'dense'] as const;

export const ALERT_KINDS = ['nan', 'explosion', 'collapse', 'collapse-at-mask', 'mask-integrity'] as const;

/** What a CSV export contains. */
export const CSV_KINDS = ['steps', 'layers', 'epochs', 'alerts'] as const;
export type CsvKind = (typeof CSV_KINDS)[number];

export interface RunMeta {
  runId: string;
  title: string;
  sourceFile?: string;
  backend?: string;
  status: RunStatus;
  /** Why the run failed or stopped early, if known. */
  message?: string;
}

/** From the trainer's `ready` message: the shape of the run. */
export interface RunSetup {
  backend: string;
  totalSteps: number;
  stepsPerEpoch: number;
  dataset: { name: string; train: number; validation: number; test: number; source: string };
  nets: NetInfo[];
}

/**
 * A (decimated) series over steps: parallel arrays, compact in JSON. `x` is the step (ascending);
 * `y` is null where the value was NaN or ±Infinity, which chart.js draws as a gap.
 */
export interface Points {
  x: number[];
  y: (number | null)[];
}

/** Step-level series of one net, decimated by the host to a bounded number of points. */
export interface StepSeries {
  /** Last step received (full resolution). */
  lastStep: number;
  /** Steps received (full resolution), so the page can say "2,000 of 100,000 points". */
  count: number;
  loss: Points;
  accuracy: Points;
  /** Flow measures exist only on steps where norms were collected (`monitoring.every`). */
  egf1: Points;
  egf2: Points;
  g1: Points;
  g2: Points;
  /** Masked L2 norm of each weight layer (index = layer). */
  layerL2: Points[];
  /** Active weights per layer at the last step with norms (a mask leak changes it). */
  active: number[];
}

export interface SplitPoint {
  loss: number | null;
  accuracy: number | null;
}

export interface EpochPoint {
  epoch: number;
  step: number;
  elapsed: number;
  train: SplitPoint;
  validation: SplitPoint;
  test: SplitPoint;
}

/** One of the 11 EGF evaluation points. */
export interface FlowPointData {
  index: number;
  epoch: number;
  egf1: number | null;
  egf2: number | null;
  g1: number | null;
  g2: number | null;
}

export interface NetState {
  net: NetRole;
  series: StepSeries;
  epochs: EpochPoint[];
  flowPoints: FlowPointData[];
}

export interface RunState {
  meta: RunMeta;
  setup: RunSetup | null;
  /** In arrival order: `sparse` first for a pair. */
  nets: NetState[];
  /** Index in this array is the `alertIndex` of `revealAlert`. */
  alerts: Alert[];
}

/** What the page holds, and what `init` replays. */
export interface DashboardModel {
  runs: RunState[];
  /** Run the host wants shown (set by `createOrShow({ runId })`); the page may keep its own choice. */
  focusRunId: string | null;
  /**
   * Sweeps known to the host (run in this window or opened from disk). Optional on the wire, absent
   * meaning none: a page from a newer bundle can then still read an older host's `init` (the page
   * is loaded from disk, so after an update without a window reload the page is newer than the host).
   */
  sweeps?: SweepModel[];
  /** Sweep the page should show; null or absent: the run view. */
  focusSweepId?: string | null;
}

// ---------------------------------------------------------------------------------------------
// Sweep view shapes

/** Status of one planned configuration of a sweep (a killed run counts as failed). */
export const SWEEP_ROW_STATUSES = ['pending', 'running', 'finished', 'stopped', 'failed'] as const;
export type SweepRowStatus = (typeof SWEEP_ROW_STATUSES)[number];

/** `running`/`stopped`/`done`: run by this window; `recorded`: opened from disk. */
export const SWEEP_STATUSES = ['running', 'stopped', 'done', 'recorded'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];

/** A grid-point value as the page sees it; arrays and objects are sent as their JSON text. */
export type PointValue = string | number | boolean | null;

/** Final results of one net of a finished run; null = the value was NaN or ±Infinity (diverged). */
export interface SweepNetResult {
  testAccuracy: number | null;
  testLoss: number | null;
  /** 11-point averages (method.md §3, `NetSummary.flowAverage`). */
  egf1: number | null;
  egf2: number | null;
}

/** One planned configuration (one row of the sweep table). */
export interface SweepRow {
  /** Stable id of the resolved configuration (sweep.json `runs[].id`). */
  configId: string;
  /** Grid point: axis key (dotted snake_case, as in the file) → value, plus `training.seed`. */
  point: Record<string, PointValue>;
  status: SweepRowStatus;
  /** Fraction of steps done (0..1) while running, when known; null otherwise. */
  progress: number | null;
  /** The run shown for this configuration (newest finished, else newest); null before it starts. */
  runId: string | null;
  /** Why the run failed or stopped early, if known. */
  message?: string;
  /** Only for a finished run that trained that net (a `method: none` run has no sparse net). */
  sparse: SweepNetResult | null;
  dense: SweepNetResult | null;
}

export interface SweepInfo {
  /** The sweep folder's absolute path: unique, and what `gradflow report` takes. */
  sweepId: string;
  name: string;
  sourceFile?: string;
  /** sweep.json `createdAt` (ISO time), or '' when the manifest does not say. */
  createdAt: string;
  status: SweepStatus;
  /** Grid axes in file order (union of the point keys), `training.seed` last. */
  axes: string[];
  message?: string;
}

export interface SweepModel {
  info: SweepInfo;
  /** In sweep.json order. */
  rows: SweepRow[];
}

/** Longest filter text the host accepts (the page's input enforces it too). */
export const MAX_FILTER_LENGTH = 1000;

export const SORT_DIRECTIONS = ['asc', 'desc'] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];

/** What the sweep table shows: the host applies the same view to its CSV export. */
export interface SweepTableView {
  /** Column id (`sweep-table.ts`), or null for sweep.json order. */
  sort: { column: string; direction: SortDirection } | null;
  /** Free text: every whitespace-separated term must occur in some cell (case-insensitive). */
  text: string;
  /** Row statuses shown. */
  statuses: SweepRowStatus[];
}

// ---------------------------------------------------------------------------------------------
// Host → page notifications

/** Full state: sent in answer to every `ready` (first load, and each reload after a tab switch). */
export interface InitNotification {
  type: 'init';
  protocolVersion: number;
  model: DashboardModel;
}

/** A run was registered (before its trainer said `ready`). */
export interface RunAddedNotification {
  type: 'runAdded';
  run: RunState;
}

/** The trainer reported the run's shape. */
export interface RunSetupNotification {
  type: 'runSetup';
  runId: string;
  setup: RunSetup;
}

/** Replaces one net's decimated step series (decimation buckets move as a run grows, so a replace is the honest update). */
export interface SeriesNotification {
  type: 'series';
  runId: string;
  net: NetRole;
  series: StepSeries;
}

export interface EpochNotification {
  type: 'epoch';
  runId: string;
  net: NetRole;
  point: EpochPoint;
}

export interface FlowPointNotification {
  type: 'flowPoint';
  runId: string;
  net: NetRole;
  point: FlowPointData;
}

export interface AlertNotification {
  type: 'alert';
  runId: string;
  /** Position in the run's alert list; the page appends only when it equals its list length. */
  index: number;
  alert: Alert;
}

export interface RunStatusNotification {
  type: 'runStatus';
  runId: string;
  status: RunStatus;
  message?: string;
}

/** Host asks the page to show a run (e.g. "Show dashboard" on a run in the tree). */
export interface FocusRunNotification {
  type: 'focusRun';
  runId: string;
}

/** A sweep was registered or reloaded: the page replaces its copy whole. */
export interface SweepAddedNotification {
  type: 'sweepAdded';
  sweep: SweepModel;
}

/** One configuration changed (started, progressed, ended): replaces the row with its `configId`. */
export interface SweepRowNotification {
  type: 'sweepRow';
  sweepId: string;
  row: SweepRow;
}

export interface SweepStatusNotification {
  type: 'sweepStatus';
  sweepId: string;
  status: SweepStatus;
  message?: string;
}

/** Host asks the page to show a sweep (Run Sweep, Open Sweep). */
export interface FocusSweepNotification {
  type: 'focusSweep';
  sweepId: string;
}

export type HostToPage =
  | InitNotification
  | RunAddedNotification
  | RunSetupNotification
  | SeriesNotification
  | EpochNotification
  | FlowPointNotification
  | AlertNotification
  | RunStatusNotification
  | FocusRunNotification
  | SweepAddedNotification
  | SweepRowNotification
  | SweepStatusNotification
  | FocusSweepNotification;

// ---------------------------------------------------------------------------------------------
// Page → host commands

/** The page's script is running and listening; the host answers with `init`. */
export interface ReadyCommand {
  type: 'ready';
  protocolVersion: number;
}

/** User clicked an alert: jump to the experiment-file line responsible. */
export interface RevealAlertCommand {
  type: 'revealAlert';
  runId: string;
  alertIndex: number;
}

/** Export data as CSV; the host owns the full-resolution data and the save dialog. */
export interface ExportCsvCommand {
  type: 'exportCsv';
  runId: string;
  what: CsvKind;
}

/** Save a chart; `dataUrl` is `canvas.toDataURL('image/png')`. */
export interface SavePngCommand {
  type: 'savePng';
  name: string;
  dataUrl: string;
}

/** User picked a run in the selector (the host remembers it for the next `init`). */
export interface SelectRunCommand {
  type: 'selectRun';
  runId: string;
}

/** The user switched the page to a sweep (null: back to the run view); remembered for the next `init`. */
export interface SelectSweepCommand {
  type: 'selectSweep';
  sweepId: string | null;
}

/**
 * User clicked a row of the sweep table: show that configuration's run. By configuration, not run
 * id, because a past sweep's runs are not loaded until asked for and only the host knows the folder.
 */
export interface OpenSweepRunCommand {
  type: 'openSweepRun';
  sweepId: string;
  configId: string;
}

/** Export the sweep table as CSV, as the page shows it (its sort and filters). */
export interface ExportSweepCsvCommand {
  type: 'exportSweepCsv';
  sweepId: string;
  view: SweepTableView;
}

export type PageToHost =
  | ReadyCommand
  | RevealAlertCommand
  | ExportCsvCommand
  | SavePngCommand
  | SelectRunCommand
  | SelectSweepCommand
  | OpenSweepRunCommand
  | ExportSweepCsvCommand;

// ---------------------------------------------------------------------------------------------
// Validation. Small combinators keep each guard a readable list of its fields.

type Guard<T> = (v: unknown) => v is T;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isString: Guard<string> = (v): v is string => typeof v === 'string';
const isNonEmptyString: Guard<string> = (v): v is string => typeof v === 'string' && v.length > 0;
/** Finite number: NaN/Infinity are never valid where this is used. */
const isNum: Guard<number> = (v): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount: Guard<number> = (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isMetric: Guard<number | null> = (v): v is number | null => v === null || isNum(v);

function isOneOf<T extends string>(values: readonly T[]): Guard<T> {
  return (v): v is T => typeof v === 'string' && (values as readonly string[]).includes(v);
}
function isArrayOf<T>(item: Guard<T>): Guard<T[]> {
  return (v): v is T[] => Array.isArray(v) && v.every((e) => item(e));
}
function isOptional<T>(g: Guard<T>): Guard<T | undefined> {
  return (v): v is T | undefined => v === undefined || g(v);
}
/** Every listed field passes its guard. Extra fields are tolerated (forward compatible within a version). */
function isShape<T>(fields: { [K in keyof T]-?: Guard<T[K]> }): Guard<T> {
  const entries = Object.entries(fields) as [string, Guard<unknown>][];
  return (v): v is T => isRecord(v) && entries.every(([k, g]) => g(v[k]));
}

export const isRunStatus = isOneOf(RUN_STATUSES);
export const isNetRole: Guard<NetRole> = isOneOf(NET_ROLES);
export const isCsvKind = isOneOf(CSV_KINDS);
const isAlertKind: Guard<AlertKind> = isOneOf(ALERT_KINDS);

const isRunMeta = isShape<RunMeta>({
  runId: isNonEmptyString,
  title: isString,
  sourceFile: isOptional(isString),
  backend: isOptional(isString),
  status: isRunStatus,
  message: isOptional(isString),
});

const isLayerInfo = isShape<LayerInfo>({
  name: isString,
  fanIn: isCount,
  fanOut: isCount,
  active: isCount,
  total: isCount,
  density: (v): v is number => isNum(v) && v >= 0 && v <= 1,
  deadUnits: isCount,
});

const isNetInfo = isShape<NetInfo>({
  net: isNetRole,
  width: isCount,
  layers: isArrayOf(isLayerInfo),
  activeWeights: isCount,
});

const isRunSetup = isShape<RunSetup>({
  backend: isString,
  totalSteps: isCount,
  stepsPerEpoch: isCount,
  dataset: isShape<RunSetup['dataset']>({
    name: isString,
    train: isCount,
    validation: isCount,
    test: isCount,
    source: isString,
  }),
  nets: isArrayOf(isNetInfo),
});

export const isPoints: Guard<Points> = (v): v is Points =>
  isRecord(v) &&
  isArrayOf(isNum)(v.x) &&
  isArrayOf(isMetric)(v.y) &&
  v.x.length === v.y.length;

const isStepSeries = isShape<StepSeries>({
  lastStep: isCount,
  count: isCount,
  loss: isPoints,
  accuracy: isPoints,
  egf1: isPoints,
  egf2: isPoints,
  g1: isPoints,
  g2: isPoints,
  layerL2: isArrayOf(isPoints),
  active: isArrayOf(isCount),
});

const isSplitPoint = isShape<SplitPoint>({ loss: isMetric, accuracy: isMetric });

const isEpochPoint = isShape<EpochPoint>({
  epoch: isCount,
  step: isCount,
  elapsed: (v): v is number => isNum(v) && v >= 0,
  train: isSplitPoint,
  validation: isSplitPoint,
  test: isSplitPoint,
});

const isFlowPointData = isShape<FlowPointData>({
  index: isCount,
  // Fractional for runs under 10 epochs (points at steps round(k·T/10)).
  epoch: (v): v is number => isNum(v) && v >= 0,
  egf1: isMetric,
  egf2: isMetric,
  g1: isMetric,
  g2: isMetric,
});

const isNetState = isShape<NetState>({
  net: isNetRole,
  series: isStepSeries,
  epochs: isArrayOf(isEpochPoint),
  flowPoints: isArrayOf(isFlowPointData),
});

export const isAlert = isShape<Alert>({
  net: isNetRole,
  kind: isAlertKind,
  step: isCount,
  layer: (v): v is number => Number.isSafeInteger(v) && (v as number) >= -1,
  value: (v): v is Alert['value'] => isNum(v) || v === 'NaN' || v === 'Infinity' || v === '-Infinity',
  message: isString,
  severity: isOneOf(['error', 'warning'] as const),
});

const isRunState = isShape<RunState>({
  meta: isRunMeta,
  setup: (v): v is RunSetup | null => v === null || isRunSetup(v),
  nets: isArrayOf(isNetState),
  alerts: isArrayOf(isAlert),
});

const isPointValue: Guard<PointValue> = (v): v is PointValue =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || isNum(v);

/** A plain record (no prototype tricks) whose every value passes `value`. */
function isRecordOf<T>(value: Guard<T>): Guard<Record<string, T>> {
  return (v): v is Record<string, T> => isRecord(v) && Object.keys(v).every((k) => k !== '__proto__' && value(v[k]));
}

export const isSweepRowStatus = isOneOf(SWEEP_ROW_STATUSES);
export const isSweepStatus = isOneOf(SWEEP_STATUSES);
const isFraction: Guard<number> = (v): v is number => isNum(v) && v >= 0 && v <= 1;

const isSweepNetResult = isShape<SweepNetResult>({
  testAccuracy: isMetric,
  testLoss: isMetric,
  egf1: isMetric,
  egf2: isMetric,
});

const isSweepRow = isShape<SweepRow>({
  configId: isNonEmptyString,
  point: isRecordOf(isPointValue),
  status: isSweepRowStatus,
  progress: (v): v is number | null => v === null || isFraction(v),
  runId: (v): v is string | null => v === null || isNonEmptyString(v),
  message: isOptional(isString),
  sparse: (v): v is SweepNetResult | null => v === null || isSweepNetResult(v),
  dense: (v): v is SweepNetResult | null => v === null || isSweepNetResult(v),
});

const isSweepInfo = isShape<SweepInfo>({
  sweepId: isNonEmptyString,
  name: isString,
  sourceFile: isOptional(isString),
  createdAt: isString,
  status: isSweepStatus,
  axes: isArrayOf(isNonEmptyString),
  message: isOptional(isString),
});

const isSweepModel: Guard<SweepModel> = (v): v is SweepModel => {
  if (!isShape<SweepModel>({ info: isSweepInfo, rows: isArrayOf(isSweepRow) })(v)) return false;
  // Rows are addressed by configId (`sweepRow`, `openSweepRun`): a duplicate would make that ambiguous.
  return new Set(v.rows.map((r) => r.configId)).size === v.rows.length;
};

export const isSweepTableView = isShape<SweepTableView>({
  sort: (v): v is SweepTableView['sort'] =>
    v === null || isShape<{ column: string; direction: SortDirection }>({ column: isNonEmptyString, direction: isOneOf(SORT_DIRECTIONS) })(v),
  text: (v): v is string => typeof v === 'string' && v.length <= MAX_FILTER_LENGTH,
  statuses: (v): v is SweepRowStatus[] => isArrayOf(isSweepRowStatus)(v) && new Set(v).size === v.length,
});

const isDashboardModel = isShape<DashboardModel>({
  runs: isArrayOf(isRunState),
  focusRunId: (v): v is string | null => v === null || isNonEmptyString(v),
  sweeps: isOptional(isArrayOf(isSweepModel)),
  focusSweepId: (v): v is string | null | undefined => v === undefined || v === null || isNonEmptyString(v),
});

const lit = <T extends string>(t: T): Guard<T> => (v): v is T => v === t;

const hostGuards: { [K in HostToPage['type']]: Guard<Extract<HostToPage, { type: K }>> } = {
  init: isShape<InitNotification>({ type: lit('init'), protocolVersion: isCount, model: isDashboardModel }),
  runAdded: isShape<RunAddedNotification>({ type: lit('runAdded'), run: isRunState }),
  runSetup: isShape<RunSetupNotification>({ type: lit('runSetup'), runId: isNonEmptyString, setup: isRunSetup }),
  series: isShape<SeriesNotification>({
    type: lit('series'),
    runId: isNonEmptyString,
    net: isNetRole,
    series: isStepSeries,
  }),
  epoch: isShape<EpochNotification>({ type: lit('epoch'), runId: isNonEmptyString, net: isNetRole, point: isEpochPoint }),
  flowPoint: isShape<FlowPointNotification>({
    type: lit('flowPoint'),
    runId: isNonEmptyString,
    net: isNetRole,
    point: isFlowPointData,
  }),
  alert: isShape<AlertNotification>({ type: lit('alert'), runId: isNonEmptyString, index: isCount, alert: isAlert }),
  runStatus: isShape<RunStatusNotification>({
    type: lit('runStatus'),
    runId: isNonEmptyString,
    status: isRunStatus,
    message: isOptional(isString),
  }),
  focusRun: isShape<FocusRunNotification>({ type: lit('focusRun'), runId: isNonEmptyString }),
  sweepAdded: isShape<SweepAddedNotification>({ type: lit('sweepAdded'), sweep: isSweepModel }),
  sweepRow: isShape<SweepRowNotification>({ type: lit('sweepRow'), sweepId: isNonEmptyString, row: isSweepRow }),
  sweepStatus: isShape<SweepStatusNotification>({
    type: lit('sweepStatus'),
    sweepId: isNonEmptyString,
    status: isSweepStatus,
    message: isOptional(isString),
  }),
  focusSweep: isShape<FocusSweepNotification>({ type: lit('focusSweep'), sweepId: isNonEmptyString }),
};

export const PNG_DATA_URL_PREFIX = 'data:image/png;base64,';

/** PNG file names are chosen by the page but end up in a save dialog: keep them plain. */
const isSafeName: Guard<string> = (v): v is string =>
  typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/.test(v);

const pageGuards: { [K in PageToHost['type']]: Guard<Extract<PageToHost, { type: K }>> } = {
  ready: isShape<ReadyCommand>({ type: lit('ready'), protocolVersion: isCount }),
  revealAlert: isShape<RevealAlertCommand>({ type: lit('revealAlert'), runId: isNonEmptyString, alertIndex: isCount }),
  exportCsv: isShape<ExportCsvCommand>({ type: lit('exportCsv'), runId: isNonEmptyString, what: isCsvKind }),
  savePng: isShape<SavePngCommand>({
    type: lit('savePng'),
    name: isSafeName,
    dataUrl: (v): v is string => typeof v === 'string' && v.startsWith(PNG_DATA_URL_PREFIX),
  }),
  selectRun: isShape<SelectRunCommand>({ type: lit('selectRun'), runId: isNonEmptyString }),
  selectSweep: isShape<SelectSweepCommand>({
    type: lit('selectSweep'),
    sweepId: (v): v is string | null => v === null || isNonEmptyString(v),
  }),
  openSweepRun: isShape<OpenSweepRunCommand>({ type: lit('openSweepRun'), sweepId: isNonEmptyString, configId: isNonEmptyString }),
  exportSweepCsv: isShape<ExportSweepCsvCommand>({ type: lit('exportSweepCsv'), sweepId: isNonEmptyString, view: isSweepTableView }),
};


function hasKey<T extends object>(o: T, k: string): k is Extract<keyof T, string> {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** Validates a message from the host, every field. The page ignores (and logs) anything else. */
export function isHostToPage(v: unknown): v is HostToPage {
  if (!isRecord(v) || typeof v.type !== 'string' || !hasKey(hostGuards, v.type)) return false;
  return (hostGuards[v.type] as Guard<HostToPage>)(v);
}

/** Validates a message from the page, every field. The host ignores (and logs) anything else. */
export function isPageToHost(v: unknown): v is PageToHost {
  if (!isRecord(v) || typeof v.type !== 'string' || !hasKey(pageGuards, v.type)) return false;
  return (pageGuards[v.type] as Guard<PageToHost>)(v);
}

// ---------------------------------------------------------------------------------------------
// Reducer shared by the page (live model) and the host tests (replay == incremental).

export function emptyModel(): DashboardModel {
  return { runs: [], focusRunId: null, sweeps: [], focusSweepId: null };
}

export function findSweep(model: DashboardModel, sweepId: string): SweepModel | undefined {
  return model.sweeps?.find((s) => s.info.sweepId === sweepId);
}

export function emptySeries(): StepSeries {
  const p = (): Points => ({ x: [], y: [] });
  return { lastStep: 0, count: 0, loss: p(), accuracy: p(), egf1: p(), egf2: p(), g1: p(), g2: p(), layerL2: [], active: [] };
}

export function findRun(model: DashboardModel, runId: string): RunState | undefined {
  return model.runs.find((r) => r.meta.runId === runId);
}

function netOf(run: RunState, net: NetRole): NetState {
  let n = run.nets.find((s) => s.net === net);
  if (!n) {
    n = { net, series: emptySeries(), epochs: [], flowPoints: [] };
    run.nets.push(n);
  }
  return n;
}

/**
 * Folds one notification into the model (mutating it; the page redraws from it) and returns the
 * model, which is a new object only for `init`. Notifications for unknown runs are dropped: the
 * host always sends `runAdded` first, so one arriving out of order means a stale message.
 */
export function applyNotification(model: DashboardModel, msg: HostToPage): DashboardModel {
  switch (msg.type) {
    case 'init':
      // An older host sends no sweep fields: normalise, so the rest of the page never sees them absent.
      return { ...msg.model, sweeps: msg.model.sweeps ?? [], focusSweepId: msg.model.focusSweepId ?? null };
    case 'sweepAdded': {
      const sweeps = (model.sweeps ??= []);
      const i = sweeps.findIndex((s) => s.info.sweepId === msg.sweep.info.sweepId);
      if (i >= 0) sweeps[i] = msg.sweep;
      else sweeps.push(msg.sweep);
      return model;
    }
    case 'sweepRow': {
      // A row of an unknown sweep or configuration is stale (the sweep was re-planned): drop it.
      const sweep = findSweep(model, msg.sweepId);
      const i = sweep ? sweep.rows.findIndex((r) => r.configId === msg.row.configId) : -1;
      if (sweep && i >= 0) sweep.rows[i] = msg.row;
      return model;
    }
    case 'sweepStatus': {
      const sweep = findSweep(model, msg.sweepId);
      if (sweep) {
        sweep.info.status = msg.status;
        if (msg.message !== undefined) sweep.info.message = msg.message;
      }
      return model;
    }
    case 'focusSweep':
      model.focusSweepId = msg.sweepId;
      return model;
    case 'runAdded': {
      const i = model.runs.findIndex((r) => r.meta.runId === msg.run.meta.runId);
      if (i >= 0) model.runs[i] = msg.run;
      else model.runs.push(msg.run);
      return model;
    }
    case 'focusRun':
      model.focusRunId = msg.runId;
      // Showing a run leaves the sweep view.
      model.focusSweepId = null;
      return model;
    default:
      break;
  }
  const run = findRun(model, msg.runId);
  if (!run) return model;
  switch (msg.type) {
    case 'runSetup':
      run.setup = msg.setup;
      for (const n of msg.setup.nets) netOf(run, n.net);
      break;
    case 'series':
      netOf(run, msg.net).series = msg.series;
      break;
    case 'epoch':
      netOf(run, msg.net).epochs.push(msg.point);
      break;
    case 'flowPoint':
      netOf(run, msg.net).flowPoints.push(msg.point);
      break;
    case 'alert':
      // Index check makes a duplicated or reordered alert harmless instead of shifting every index.
      if (msg.index === run.alerts.length) run.alerts.push(msg.alert);
      break;
    case 'runStatus':
      run.meta.status = msg.status;
      if (msg.message !== undefined) run.meta.message = msg.message;
      break;
    default: {
      const never: never = msg;
      return never;
    }
  }
  return model;
}

/** Non-finite metrics travel as null (JSON has no NaN). */
export function toMetric(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
