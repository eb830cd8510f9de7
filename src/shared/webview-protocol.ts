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

export type HostToPage =
  | InitNotification
  | RunAddedNotification
  | RunSetupNotification
  | SeriesNotification
  | EpochNotification
  | FlowPointNotification
  | AlertNotification
  | RunStatusNotification
  | FocusRunNotification;

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

export type PageToHost = ReadyCommand | RevealAlertCommand | ExportCsvCommand | SavePngCommand | SelectRunCommand;

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
  epoch: isCount,
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

const isDashboardModel = isShape<DashboardModel>({
  runs: isArrayOf(isRunState),
  focusRunId: (v): v is string | null => v === null || isNonEmptyString(v),
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
  return { runs: [], focusRunId: null };
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
      return msg.model;
    case 'runAdded': {
      const i = model.runs.findIndex((r) => r.meta.runId === msg.run.meta.runId);
      if (i >= 0) model.runs[i] = msg.run;
      else model.runs.push(msg.run);
      return model;
    }
    case 'focusRun':
      model.focusRunId = msg.runId;
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
