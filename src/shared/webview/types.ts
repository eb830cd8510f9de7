/**
 * Extension host ↔ dashboard webview protocol: the message and data shapes (no code but constants).
 * Guards are in `./guards.ts`, the reducer in `./reducer.ts`; `../webview-protocol.ts` re-exports
 * all three and documents the transport and sequence.
 *
 * JSON has no NaN/Infinity, so every metric that can be non-finite is typed `number | null` here
 * (null = "not a finite number"); alert values keep the trainer protocol's string encoding.
 */
import type { MaskUpdateMethod, NetRole } from '../experiment';
import type { Alert, NetInfo } from '../protocol';
import { RUN_STATUSES, type RunStatus } from '../run-status';

export { RUN_STATUSES, type RunStatus };


/** Bump on any incompatible change; page and host refuse each other on a mismatch. */
export const WEBVIEW_PROTOCOL_VERSION = 2;

// ---------------------------------------------------------------------------------------------
// Data shapes

export const NET_ROLES = ['sparse', 'dense'] as const;

/** What a CSV export contains. */
export const CSV_KINDS = ['steps', 'layers', 'epochs', 'alerts', 'masks'] as const;
export type CsvKind = (typeof CSV_KINDS)[number];

/** Most log lines a failed run carries to the page (`RunMeta.logTail`). */
export const MAX_LOG_TAIL = 40;

/**
 * A run as the page lists it. `status` is the one run status (`../run-status.ts`): `starting` while
 * the host has launched the trainer but it has not reported its run yet (`message` says what it is
 * doing).
 */
export interface RunMeta {
  runId: string;
  title: string;
  sourceFile?: string;
  backend?: string;
  /** ISO start time (run.json `startedAt`; for a live run, when the host registered it). */
  startedAt?: string;
  status: RunStatus;
  /** With status `diverged`: the nets that hit NaN/Inf. */
  diverged?: NetRole[];
  /** Why the run failed, stopped early or is corrupt, if known. */
  message?: string;
  /** Failed, killed or corrupt runs: the last lines of the trainer's log (oldest first, ≤ MAX_LOG_TAIL). */
  logTail?: string[];
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

/** One layer's part of a mask update (the trainer's `MaskUpdateLayer`). */
export interface MaskLayerChange {
  /** Weight layer index (0-based). */
  layer: number;
  dropped: number;
  grown: number;
  /** Of the grown: weights dropped and grown back in the same update. */
  regrown: number;
  /** Active weights after the update. */
  active: number;
  /** Share of the initial mask's active positions still active (1: not moved); null if not a finite number. */
  overlap: number | null;
}

/** A dynamic-sparsity mask update of one net, after the optimizer step of `step` (docs/pruning.md). */
export interface MaskUpdatePoint {
  step: number;
  epoch: number;
  method: MaskUpdateMethod;
  /** Share of each layer's active weights replaced (after the schedule); null if not a finite number. */
  fraction: number | null;
  /** Masked layers only. */
  layers: MaskLayerChange[];
}

export interface NetState {
  net: NetRole;
  series: StepSeries;
  epochs: EpochPoint[];
  flowPoints: FlowPointData[];
  /** Mask updates in step order (empty without `sparsity.dynamic`). */
  maskUpdates: MaskUpdatePoint[];
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

/**
 * `running`/`stopped`/`finished`: run by this window (the run-status words, src/shared/run-status.ts:
 * one vocabulary everywhere); `recorded`: opened from disk.
 */
export const SWEEP_STATUSES = ['running', 'stopped', 'finished', 'recorded'] as const;
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
  /** 11-point averages of the raw (unmasked) gradient norms ‖g‖₁, ‖g‖₂: the sweep view's Ψ needs all four measures. */
  g1: number | null;
  g2: number | null;
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

/** A saved chart arrives as `canvas.toDataURL('image/png')`. */
export const PNG_DATA_URL_PREFIX = 'data:image/png;base64,';

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

/** The net's masks moved (dynamic sparse training): appended to `NetState.maskUpdates`. */
export interface MaskUpdateNotification {
  type: 'maskUpdate';
  runId: string;
  net: NetRole;
  update: MaskUpdatePoint;
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
  /** Replaces `RunMeta.diverged` (absent: none). */
  diverged?: NetRole[];
  /** Replaces `RunMeta.logTail` (absent: none). */
  logTail?: string[];
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

/**
 * A run entry is gone: the provisional entry of a starting run (id `starting-…`), replaced by the
 * real run once the trainer named it (`replacedBy`, already added). The page follows the focus.
 */
export interface RunRemovedNotification {
  type: 'runRemoved';
  runId: string;
  replacedBy?: string;
}

export type HostToPage =
  | InitNotification
  | RunRemovedNotification
  | RunAddedNotification
  | RunSetupNotification
  | SeriesNotification
  | EpochNotification
  | FlowPointNotification
  | MaskUpdateNotification
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
