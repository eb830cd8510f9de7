/**
 * Validation of every extension host ↔ webview message, field by field. The page validates what it
 * receives (`isHostToPage`), the host what the page sends (`isPageToHost`): a page reloaded from an
 * older bundle, or a bug on either side, must not crash the other.
 */
import { MASK_UPDATE_METHODS, PRUNING_METHODS, PRUNING_SCOPES, type NetRole } from '../experiment';
import type { Alert, AlertKind, LayerInfo, NetInfo, PruningInfo, RawEvery } from '../protocol';
import { ALERT_KINDS } from '../protocol';
import {
  hasKey,
  isArrayOf,
  isCount,
  isMetric,
  isNonEmptyString,
  isNum,
  isOneOf,
  isOptional,
  isRecord,
  isRecordOf,
  isShape,
  isString,
  lit,
  type Guard,
} from '../guards';
import {
  CSV_KINDS,
  MAX_FILTER_LENGTH,
  MAX_LOG_TAIL,
  NET_ROLES,
  PNG_DATA_URL_PREFIX,
  RUN_STATUSES,
  SORT_DIRECTIONS,
  SWEEP_ROW_STATUSES,
  SWEEP_STATUSES,
  type DashboardModel,
  type EpochNotification,
  type EpochPoint,
  type ExportCsvCommand,
  type ExportSweepCsvCommand,
  type FlowPointData,
  type FlowPointNotification,
  type FocusRunNotification,
  type FocusSweepNotification,
  type HostToPage,
  type InitNotification,
  type MaskLayerChange,
  type MaskUpdateNotification,
  type MaskUpdatePoint,
  type NetState,
  type OpenSweepRunCommand,
  type PageToHost,
  type PointValue,
  type Points,
  type ReadyCommand,
  type RevealAlertCommand,
  type RunAddedNotification,
  type RunMeta,
  type RunSetup,
  type RunSetupNotification,
  type RunState,
  type RunRemovedNotification,
  type RunStatusNotification,
  type SavePngCommand,
  type SelectRunCommand,
  type SelectSweepCommand,
  type SeriesNotification,
  type SortDirection,
  type SplitPoint,
  type StepSeries,
  type SweepAddedNotification,
  type SweepInfo,
  type SweepModel,
  type SweepNetResult,
  type SweepRow,
  type SweepRowNotification,
  type SweepRowStatus,
  type SweepStatusNotification,
  type SweepTableView,
  type AlertNotification,
} from './types';


export const isRunStatus = isOneOf(RUN_STATUSES);
export const isNetRole: Guard<NetRole> = isOneOf(NET_ROLES);
export const isCsvKind = isOneOf(CSV_KINDS);
const isAlertKind: Guard<AlertKind> = isOneOf(ALERT_KINDS);

const isLogTail: Guard<string[]> = (v): v is string[] => isArrayOf(isString)(v) && v.length <= MAX_LOG_TAIL;

/** The status fields a run's meta and a `runStatus` notification share. */
const statusFields = {
  status: isRunStatus,
  message: isOptional(isString),
  diverged: isOptional(isArrayOf(isNetRole)),
  logTail: isOptional(isLogTail),
};

const isRunMeta = isShape<RunMeta>({
  runId: isNonEmptyString,
  title: isString,
  sourceFile: isOptional(isString),
  backend: isOptional(isString),
  startedAt: isOptional(isString),
  ...statusFields,
});

const isLayerInfo = isShape<LayerInfo>({
  name: isString,
  fanIn: isCount,
  fanOut: isCount,
  active: isCount,
  total: isCount,
  density: (v): v is number => isNum(v) && v >= 0 && v <= 1,
  deadUnits: isCount,
  path: isOptional(isOneOf(['dense', 'sparse'] as const)),
});

const isPruningInfo = isShape<PruningInfo>({
  method: isOneOf(PRUNING_METHODS),
  scope: isOneOf(PRUNING_SCOPES),
  scsdcPerLayer: (v): v is boolean => typeof v === 'boolean',
});

const isStepCount: Guard<number> = (v): v is number => isCount(v) && v >= 1;

const isNetInfo = isShape<NetInfo>({
  net: isNetRole,
  width: isCount,
  widthOf: isOptional(isOneOf(['units', 'channels'] as const)),
  layers: isArrayOf(isLayerInfo),
  activeWeights: isCount,
  pruning: isOptional(isPruningInfo),
  rawEvery: isOptional(isShape<RawEvery>({ l1: isStepCount, l2: isStepCount })),
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

const isShare: Guard<number | null> = (v): v is number | null => v === null || (isNum(v) && v >= 0 && v <= 1);

const isMaskUpdatePoint = isShape<MaskUpdatePoint>({
  step: isCount,
  epoch: isCount,
  method: isOneOf(MASK_UPDATE_METHODS),
  fraction: isShare,
  layers: isArrayOf(
    isShape<MaskLayerChange>({ layer: isCount, dropped: isCount, grown: isCount, regrown: isCount, active: isCount, overlap: isShare }),
  ),
});

const isNetState = isShape<NetState>({
  net: isNetRole,
  series: isStepSeries,
  epochs: isArrayOf(isEpochPoint),
  flowPoints: isArrayOf(isFlowPointData),
  maskUpdates: isArrayOf(isMaskUpdatePoint),
});

export const isAlert = isShape<Alert>({
  net: isNetRole,
  kind: isAlertKind,
  step: isCount,
  layer: (v): v is number => Number.isSafeInteger(v) && (v as number) >= -1,
  value: (v): v is Alert['value'] => isNum(v) || v === 'NaN' || v === 'Infinity' || v === '-Infinity',
  message: isString,
  severity: isOneOf(['error', 'warning'] as const),
  key: isOptional(isNonEmptyString),
});

const isRunState = isShape<RunState>({
  meta: isRunMeta,
  setup: (v): v is RunSetup | null => v === null || isRunSetup(v),
  nets: isArrayOf(isNetState),
  alerts: isArrayOf(isAlert),
});

const isPointValue: Guard<PointValue> = (v): v is PointValue =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || isNum(v);

export const isSweepRowStatus = isOneOf(SWEEP_ROW_STATUSES);
export const isSweepStatus = isOneOf(SWEEP_STATUSES);
const isFraction: Guard<number> = (v): v is number => isNum(v) && v >= 0 && v <= 1;

const isSweepNetResult = isShape<SweepNetResult>({
  testAccuracy: isMetric,
  testLoss: isMetric,
  egf1: isMetric,
  egf2: isMetric,
  g1: isMetric,
  g2: isMetric,
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

/** A notification about one net of a run: `{ type, runId, net, [field]: payload }`. */
function netNotification<T extends SeriesNotification | EpochNotification | FlowPointNotification | MaskUpdateNotification>(
  type: T['type'],
  field: Exclude<keyof T, 'type' | 'runId' | 'net'>,
  payload: Guard<unknown>,
): Guard<T> {
  return (v): v is T => isRecord(v) && v.type === type && isNonEmptyString(v.runId) && isNetRole(v.net) && payload(v[field as string]);
}

const hostGuards: { [K in HostToPage['type']]: Guard<Extract<HostToPage, { type: K }>> } = {
  init: isShape<InitNotification>({ type: lit('init'), protocolVersion: isCount, model: isDashboardModel }),
  runAdded: isShape<RunAddedNotification>({ type: lit('runAdded'), run: isRunState }),
  runSetup: isShape<RunSetupNotification>({ type: lit('runSetup'), runId: isNonEmptyString, setup: isRunSetup }),
  series: netNotification<SeriesNotification>('series', 'series', isStepSeries),
  epoch: netNotification<EpochNotification>('epoch', 'point', isEpochPoint),
  flowPoint: netNotification<FlowPointNotification>('flowPoint', 'point', isFlowPointData),
  maskUpdate: netNotification<MaskUpdateNotification>('maskUpdate', 'update', isMaskUpdatePoint),
  alert: isShape<AlertNotification>({ type: lit('alert'), runId: isNonEmptyString, index: isCount, alert: isAlert }),
  runStatus: isShape<RunStatusNotification>({ type: lit('runStatus'), runId: isNonEmptyString, ...statusFields }),
  focusRun: isShape<FocusRunNotification>({ type: lit('focusRun'), runId: isNonEmptyString }),
  runRemoved: isShape<RunRemovedNotification>({ type: lit('runRemoved'), runId: isNonEmptyString, replacedBy: isOptional(isNonEmptyString) }),
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
