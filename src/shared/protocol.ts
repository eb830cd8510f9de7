/**
 * Trainer ↔ host protocol. The trainer (`src/trainer/main.ts`) is a separate Node process; the host
 * is the CLI or the VS Code extension. Messages travel over Node's IPC channel (`child_process.fork`)
 * or, with `--stdio`, as one JSON object per line. Every message is plain JSON (numbers, strings,
 * arrays): metrics are resolved to numbers before they leave the training loop.
 *
 * Sequence: trainer → `hello`; host → `start`; trainer → `ready` per net, then `step` / `epoch` /
 * `alert` / `log` interleaved, then exactly one of `done` or `error`. Host → `stop` at any time;
 * the trainer honours it within one step and still sends `done` (with `stopped: true`).
 */
import { isRecord } from './guards';
import type { BackendName, BackendPreference, ExperimentConfig, MaskUpdateMethod, NetRole, PruningMethod, PruningScope } from './experiment';

/** Bump on any incompatible change; the host refuses a trainer with another major version. */
export const PROTOCOL_VERSION = 1;

/**
 * What trained a run: a TensorFlow.js backend of the built-in engine, or `external` for a script
 * named by the experiment file's `trainer:` (docs/torch.md; its device is in the run log).
 */
export type RunBackend = BackendName | 'external';

// ---------------------------------------------------------------------------------------------
// Metrics (also the records of a run's metrics.jsonl)

/** L1 and L2 norms of one gradient tensor. */
export interface NormPair {
  l1: number;
  l2: number;
}

/** One weight layer's gradient at one step. */
export interface LayerStep {
  /** Active (unmasked) weights in the kernel. */
  active: number;
  /** Norms of the raw gradient dL/dW (pruned positions included). */
  raw: NormPair;
  /** Norms of the masked gradient g ⊙ m: what the optimizer sees (after coupled L2, see method.md §3). */
  masked: NormPair;
}

/** Gradient-flow measures of method.md §3 for one step or one evaluation point. */
export interface FlowMeasures {
  /** (1/L) Σ_n ||g^n ⊙ m^n||_1 */
  egf1: number;
  /** (1/L) Σ_n ||g^n ⊙ m^n||_2 */
  egf2: number;
  /** ||g||_1 of all raw (unmasked) kernel gradients concatenated. */
  g1: number;
  /** ||g||_2 of all raw kernel gradients concatenated. */
  g2: number;
}

export interface StepMetrics extends FlowMeasures {
  net: NetRole;
  /** Global step, starting at 1 for the first update. */
  step: number;
  /** 0-based epoch this step belongs to. */
  epoch: number;
  loss: number;
  /** Accuracy on this batch, 0..1. */
  accuracy: number;
  /**
   * One entry per weight layer (first to output). Empty when norms were skipped this step
   * (`monitoring.every`); the four flow measures are then NaN, which JSON carries as null.
   */
  layers: LayerStep[];
}

export interface SplitMetrics {
  loss: number;
  accuracy: number;
}

export interface EpochMetrics {
  net: NetRole;
  /** Epochs completed (1 after the first epoch). */
  epoch: number;
  step: number;
  train: SplitMetrics;
  validation: SplitMetrics;
  test: SplitMetrics;
  /** Seconds since the net started training. */
  elapsed: number;
}

/** One of the 11 evenly spaced EGF evaluation points (method.md §3). */
export interface FlowPoint extends FlowMeasures {
  net: NetRole;
  /** Epoch position at which it was measured (0 = before the first update; fractional for runs under 10 epochs). */
  epoch: number;
  /** Index 0..10 of the point. */
  index: number;
}

export interface LayerInfo {
  /** Display name, e.g. `dense1` … `output`. */
  name: string;
  fanIn: number;
  fanOut: number;
  /** Active weights in the kernel (k_l). */
  active: number;
  total: number;
  density: number;
  /** Units of this layer's output with no active incoming weight. */
  deadUnits: number;
  /**
   * How the layer's products ran (engine.sparse_kernels): `dense` = TF.js products over the whole
   * kernel, `sparse` = the sparse kernels over the active weights. Absent in runs recorded before it.
   */
  path?: 'dense' | 'sparse';
}

/** How a sparse net's masks were chosen (docs/pruning.md). */
export interface PruningInfo {
  method: PruningMethod;
  scope: PruningScope;
  /**
   * True when every layer has SC-SDC's active count, so the pair is matched layer by layer; false
   * with a `global` scope, where the criterion chose the per-layer counts and only the total matches.
   */
  scsdcPerLayer: boolean;
}

/** One layer's part of a dynamic-sparsity mask update (docs/pruning.md). */
export interface MaskUpdateLayer {
  /** Weight layer index (0-based). */
  layer: number;
  dropped: number;
  grown: number;
  /** Of the grown: weights dropped and grown back in this same update (they keep value and optimizer state). */
  regrown: number;
  /** Active weights after the update (constant for SET / RigL, decreasing under gmp). */
  active: number;
  /** Share of the initial mask's active positions still active (1 = the mask has not moved). */
  overlap: number;
}

/** A mask update of one net at iteration `step` (SET, RigL, gradual magnitude pruning: docs/pruning.md). */
export interface MaskUpdate {
  net: NetRole;
  step: number;
  /** 0-based epoch of the step. */
  epoch: number;
  method: MaskUpdateMethod;
  /** Share of each layer's active weights replaced (after the schedule). */
  fraction: number;
  /** Masked layers only. */
  layers: MaskUpdateLayer[];
}

export interface NetInfo {
  net: NetRole;
  /** MLP: hidden units per layer; conv nets: the widest layer's output channels (see widthOf). */
  width: number;
  /** What `width` counts: `channels` for conv nets; absent = hidden units (MLPs, and runs recorded before it). */
  widthOf?: 'units' | 'channels';
  layers: LayerInfo[];
  /** Trainable parameters counted as SC-SDC counts them: active kernel weights only. */
  activeWeights: number;
  /** Sparse net only: how its masks were chosen. */
  pruning?: PruningInfo;
  /**
   * Which steps carry the net's raw norms (‖g‖₁ / ‖g‖₂ and its masked layers' raw L1 / L2):
   * norm-collecting steps that are multiples of these (1 = every one; `engine.raw_l1_every` /
   * `raw_l2_every` as resolved for this net). Other steps carry them as NaN (null), by design. The
   * 11 flow points always carry them. Absent in runs recorded before it (read as 1).
   */
  rawEvery?: RawEvery;
}

/** Steps between a net's raw L1 and raw L2 norms (NetInfo.rawEvery). */
export interface RawEvery {
  l1: number;
  l2: number;
}

/** Every alert kind, once: guards, the remedy table and the page all read this list. */
export const ALERT_KINDS = ['nan', 'explosion', 'collapse', 'collapse-at-mask', 'mask-integrity'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  net: NetRole;
  kind: AlertKind;
  /** 0 for alerts raised at mask time. */
  step: number;
  /** Index of the weight layer (0-based), or -1 when the whole network is concerned. */
  layer: number;
  /** The measured value that triggered the alert (NaN is sent as the string 'NaN'). */
  value: number | 'NaN' | 'Infinity' | '-Infinity';
  /** Human-readable: what happened, at which step and layer, with the value. */
  message: string;
  severity: 'error' | 'warning';
  /**
   * The setting most responsible, as a dotted snake_case key of the experiment file
   * (`training.learning_rate`), from the remedy table (`src/config/remedies.ts`). Absent in run
   * logs written before alerts carried it.
   */
  key?: string;
}

export interface NetSummary {
  net: NetRole;
  steps: number;
  epochs: number;
  final: { train: SplitMetrics; validation: SplitMetrics; test: SplitMetrics };
  /** The 11-point average of method.md §3 (over the points measured, if the run stopped early). */
  flowAverage: FlowMeasures;
  flowPoints: FlowPoint[];
  layers: LayerInfo[];
  /** Mean ms per training step (all work of the step, including norm collection). */
  msPerStep: number;
  /**
   * Bytes the net holds at the end of the run: `parameters` (weights as stored — with their pruned
   * zeros on the dense path, active only on the sparse path — plus biases, BN and activation
   * parameters), `index` (masks, or the sparse index) and `optimizer` (optimizer state). Absent in
   * runs recorded before it.
   */
  memoryBytes?: { parameters: number; index: number; optimizer: number };
  /** As NetInfo.rawEvery: which steps carried the raw norms. Absent in runs recorded before it. */
  rawEvery?: RawEvery;
  /**
   * Set when the net produced a non-finite loss or gradient under `monitoring.on_nan: stop`: it
   * stopped training at that step (its twin went on). `final` holds the numbers of the weights it
   * diverged with; its flow points stop there too.
   */
  diverged?: { step: number; reason: string };
}

export interface RunSummary {
  runId: string;
  runDir: string;
  backend: RunBackend;
  /** The run went to its end: every epoch, or until every net diverged (see NetSummary.diverged). */
  finished: boolean;
  /** Ended early by a stop request (Ctrl-C, the editor's Stop, a sweep being interrupted). */
  stopped: boolean;
  /** Why training ended early or a net diverged, if so. */
  reason?: string;
  nets: NetSummary[];
  alerts: Alert[];
  startedAt: string;
  endedAt: string;
}

// ---------------------------------------------------------------------------------------------
// Messages

/** trainer → host, first message: who it is. */
export interface HelloMessage {
  type: 'hello';
  protocolVersion: number;
  pid: number;
}

/** host → trainer: the experiment to run. */
export interface StartMessage {
  type: 'start';
  protocolVersion: number;
  config: ExperimentConfig;
  /** Experiment file the config came from (recorded in the run folder). */
  sourceFile?: string;
  backend?: BackendPreference;
  /** Stable id of the resolved config when the run belongs to a sweep (recorded in run.json). */
  configId?: string;
}

/** host → trainer: finish the current step, write the summary, send `done`, exit. */
export interface StopMessage {
  type: 'stop';
}

/** trainer → host: data loaded, networks built, run folder created. Once per run. */
export interface ReadyMessage {
  type: 'ready';
  runId: string;
  runDir: string;
  backend: RunBackend;
  nets: NetInfo[];
  stepsPerEpoch: number;
  totalSteps: number;
  dataset: { name: string; train: number; validation: number; test: number; source: string };
}

/** Counters and indices: always finite integers, so JSON carries them as numbers. */
type CountKey = 'step' | 'epoch' | 'index' | 'active' | 'steps' | 'epochs';

/**
 * A measurement as JSON carries it: `JSON.stringify` turns NaN and ±Infinity into null, so every
 * measured number (loss, accuracy, norms, flow measures, elapsed) arrives as `number | null`;
 * counters (`CountKey`) stay numbers. The trainer sends the engine's types (a number is a valid
 * `number | null`); `readTrainerMessage` turns null back into NaN, the engine's own "not a finite
 * number", so every host consumer sees the values the engine computed (NaN prints as "NaN").
 */
export type OnWire<T> = T extends number
  ? number | null
  : T extends readonly (infer U)[]
    ? OnWire<U>[]
    : T extends object
      ? { [K in keyof T]: K extends CountKey ? T[K] : OnWire<T[K]> }
      : T;

export interface StepMessage {
  type: 'step';
  metrics: StepMetrics;
}

export interface EpochMessage {
  type: 'epoch';
  metrics: EpochMetrics;
}

export interface FlowPointMessage {
  type: 'flow';
  point: FlowPoint;
}

/** trainer → host: the sparse net's masks moved (dynamic sparse training). */
export interface MaskUpdateMessage {
  type: 'mask-update';
  update: MaskUpdate;
}

export interface AlertMessage {
  type: 'alert';
  alert: Alert;
}

/** What a trainer is doing before `ready` (the dashboard's "starting" state shows it). */
export const START_PHASES = ['backend', 'data', 'model'] as const;
export type StartPhase = (typeof START_PHASES)[number];

export interface LogMessage {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
  /** Set on the lines that start a start-up phase; `message` then says what is being loaded. */
  phase?: StartPhase;
}

export interface DoneMessage {
  type: 'done';
  summary: RunSummary;
}

/** trainer → host: the run could not start or failed. `key` names the config key at fault, if any. */
export interface ErrorMessage {
  type: 'error';
  message: string;
  key?: string;
  /** Run folder, if one was created before the failure (its log keeps what was measured). */
  runDir?: string;
  stack?: string;
}

export type TrainerToHost =
  | HelloMessage
  | ReadyMessage
  | StepMessage
  | EpochMessage
  | FlowPointMessage
  | MaskUpdateMessage
  | AlertMessage
  | LogMessage
  | DoneMessage
  | ErrorMessage;

export type HostToTrainer = StartMessage | StopMessage;

const TRAINER_TYPES: ReadonlySet<string> = new Set<TrainerToHost['type']>([
  'hello', 'ready', 'step', 'epoch', 'flow', 'mask-update', 'alert', 'log', 'done', 'error',
]);
const HOST_TYPES: ReadonlySet<string> = new Set<HostToTrainer['type']>(['start', 'stop']);


/** A trainer message as it arrives over JSON (IPC or a `metrics.jsonl` line): measured numbers may be null. */
export type TrainerToHostOnWire =
  | Exclude<TrainerToHost, StepMessage | EpochMessage | FlowPointMessage | DoneMessage>
  | { type: 'step'; metrics: OnWire<StepMetrics> }
  | { type: 'epoch'; metrics: OnWire<EpochMetrics> }
  | { type: 'flow'; point: OnWire<FlowPoint> }
  | { type: 'done'; summary: RunSummaryOnWire };

/** A run summary as JSON carries it (the `done` message, a run's `summary.json`): net measurements may be null. */
export type RunSummaryOnWire = Omit<RunSummary, 'nets'> & { nets: OnWire<NetSummary>[] };

/** null (what JSON made of NaN/±Infinity) → NaN, recursively. */
function nullToNaN<T>(v: OnWire<T> | T): T {
  if (v === null) return NaN as T;
  if (Array.isArray(v)) return v.map((x: unknown) => nullToNaN(x)) as T;
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = nullToNaN(x);
    return out as T;
  }
  return v as T;
}

/**
 * A message from the trainer, decoded: the type tag checked (as `isTrainerMessage`), and the
 * measured numbers that JSON turned into null turned back into NaN. Undefined for anything else.
 */
export function readTrainerMessage(v: unknown): TrainerToHost | undefined {
  if (!isTrainerMessage(v)) return undefined;
  const m = v as TrainerToHostOnWire;
  switch (m.type) {
    case 'step':
      return { type: 'step', metrics: nullToNaN<StepMetrics>(m.metrics) };
    case 'epoch':
      return { type: 'epoch', metrics: nullToNaN<EpochMetrics>(m.metrics) };
    case 'flow':
      return { type: 'flow', point: nullToNaN<FlowPoint>(m.point) };
    case 'done':
      return { type: 'done', summary: readRunSummary(m.summary) };
    default:
      return m;
  }
}

/**
 * A run summary read from JSON (the `done` message or `summary.json`, shape already checked), with
 * the nets' measured numbers that JSON turned into null turned back into NaN.
 */
export function readRunSummary(s: RunSummaryOnWire): RunSummary {
  return { ...s, nets: s.nets.map(readNetSummary) };
}

/** One net of a summary read from JSON: nulls back to NaN; `diverged: null` (written for a net that never hit NaN/Inf) is "absent", not a NaN. */
export function readNetSummary(n: OnWire<NetSummary>): NetSummary {
  const { diverged, ...rest } = n as OnWire<NetSummary> & { diverged?: NetSummary['diverged'] | null };
  const out = nullToNaN<NetSummary>(rest as OnWire<NetSummary>);
  return diverged === null || diverged === undefined ? out : { ...out, diverged };
}

/** Shallow guard for messages arriving from the trainer (they come from our own process, so the type tag is checked, not every field). */
export function isTrainerMessage(v: unknown): v is TrainerToHost {
  return isRecord(v) && typeof v.type === 'string' && TRAINER_TYPES.has(v.type);
}

export function isHostMessage(v: unknown): v is HostToTrainer {
  if (!isRecord(v) || typeof v.type !== 'string' || !HOST_TYPES.has(v.type)) return false;
  if (v.type === 'start') return typeof v.protocolVersion === 'number' && isRecord(v.config);
  return true;
}

/** JSON cannot carry NaN/Infinity; alerts send them as strings. */
export function encodeNumber(x: number): Alert['value'] {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}

export function decodeNumber(v: Alert['value']): number {
  return typeof v === 'number' ? v : Number(v);
}

