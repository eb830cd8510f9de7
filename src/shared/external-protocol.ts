/**
 * Script ↔ host protocol: a training script in another language (the Python client,
 * `clients/python/gradflow/`) that an experiment file names as its `trainer:` (docs/torch.md).
 *
 * Transport: the host spawns `trainer.command` (argv, never a shell) in its own process group with
 * fd 3 = script → host and fd 4 = host → script, one JSON object per line (UTF-8, `\n`). The
 * script learns the descriptors from `GRADFLOW_FD_OUT` / `GRADFLOW_FD_IN` and the protocol major
 * version from `GRADFLOW_PROTOCOL`; without them it is not under Gradflow.
 *
 * Sequence: script → `hello`; host → `start` (the resolved experiment, snake_case as in the file,
 * `trainer.args` verbatim, the run folder); script → one `ready` naming every net it will report,
 * then `step` / `epoch` / `flow` / `mask-update` / `log` interleaved, then exactly one `done` or
 * `error`. Host → `stop` at any time (end the loop, send `done` with `stopped: true`, exit); EOF on
 * fd 4 means the host is gone (stop at once).
 *
 * The shapes mirror the engine's (`protocol.ts`): a script sends measurements, never alerts, flow
 * measures the host could not check, or summaries: the host computes the gradient-flow measures
 * from the per-layer norms, the alerts (the engine's rules) and the run summary. Every message is
 * checked by `parseScriptLine` (shape) and by the host (sequence, net names, layer counts); the
 * first one refused ends the run as failed with the reason.
 */
import { isRecord } from './guards';
import { MASK_UPDATE_METHODS, type MaskUpdateMethod, type NetRole } from './experiment';

/** Major version of this protocol: the script's `hello` must carry it. */
export const EXTERNAL_PROTOCOL_VERSION = 1;

/** File descriptors of the two pipes, as the script sees them (also in its environment). */
export const SCRIPT_FD_OUT = 3;
export const SCRIPT_FD_IN = 4;

/** Environment the host sets for the script. */
export const SCRIPT_ENV = {
  protocol: 'GRADFLOW_PROTOCOL',
  fdOut: 'GRADFLOW_FD_OUT',
  fdIn: 'GRADFLOW_FD_IN',
} as const;

/** Longest line accepted from a script (bytes as read, characters once decoded; newline excluded): a longer one is refused. */
export const MAX_SCRIPT_LINE_BYTES = 4 * 1024 * 1024;

/** Weight layers per net accepted from a script. */
export const MAX_SCRIPT_LAYERS = 10_000;

/**
 * A measured number on the wire: a finite number; `null`, `"NaN"`, `"Infinity"` or `"-Infinity"`
 * for a non-finite one (Python's default `json.dumps` output, bare `NaN` / `Infinity`, is accepted
 * too). Decoded to a JS number (NaN / ±Infinity) by `parseScriptLine`.
 */
export type WireNumber = number | null | 'NaN' | 'Infinity' | '-Infinity';

// ---------------------------------------------------------------------------------------------
// script → host (as decoded: every measured number a JS number, NaN/±Infinity included)

export interface ScriptHello {
  type: 'hello';
  /** Must equal EXTERNAL_PROTOCOL_VERSION. */
  protocolVersion: number;
  /** Who speaks (recorded in the run log): `{ name: 'gradflow-python', version: '0.1.0' }`. */
  client: { name: string; version: string };
  /** The script's own pid, if it wants to say (informational). */
  pid?: number;
}

/** One weight layer of a net, as the script declares it in `ready`. */
export interface ScriptLayer {
  name: string;
  /** Inputs per output unit (a conv layer: in_channels · kh · kw). */
  fanIn: number;
  /** Output units (a conv layer: out_channels). */
  fanOut: number;
  /** Active (unmasked) weights; = total for a dense layer. */
  active: number;
  /** Weights in the kernel. */
  total: number;
  /** Output units with no active incoming weight (default 0). */
  deadUnits?: number;
}

export interface ScriptNet {
  net: NetRole;
  /** Display width (default: the first layer's fanOut). */
  width?: number;
  layers: ScriptLayer[];
}

export interface ScriptReady {
  type: 'ready';
  /** Every net the script reports, once each (one net, or an SC-SDC pair: sparse and dense). */
  nets: ScriptNet[];
  /** Optimizer steps per epoch and in the whole run, when known (progress, the flow schedule). */
  stepsPerEpoch?: number;
  totalSteps?: number;
  /** Where it trains, free text (`cpu`, `cuda:0`): recorded in the run log. */
  device?: string;
  dataset?: { name: string; train?: number; validation?: number; test?: number };
}

/** Gradient norms of one weight layer at one step: raw = dL/dW, masked = g ⊙ m (method.md §3). */
export interface ScriptLayerNorms {
  raw: { l1: number; l2: number };
  masked: { l1: number; l2: number };
}

/**
 * The four flow measures, optional in `step` and `flow`: the host computes them from `layers`;
 * when a script sends them too they must agree to 1e-6 relative (a check of the client).
 */
export interface ScriptFlowMeasures {
  egf1?: number;
  egf2?: number;
  g1?: number;
  g2?: number;
}

export interface ScriptStep {
  type: 'step';
  metrics: {
    net: NetRole;
    /** Global step, 1 for the first update, increasing per net. */
    step: number;
    /** 0-based epoch of the step. */
    epoch: number;
    loss: number;
    /** Batch accuracy 0..1 (default NaN: not measured). */
    accuracy?: number;
    /** One entry per declared weight layer, first to output; [] when norms were not measured this step. */
    layers: ScriptLayerNorms[];
  } & ScriptFlowMeasures;
}

export interface ScriptSplit {
  loss: number;
  accuracy: number;
}

export interface ScriptEpoch {
  type: 'epoch';
  metrics: {
    net: NetRole;
    /** Epochs completed (1 after the first). */
    epoch: number;
    /** Global step at the end of the epoch. */
    step: number;
    train: ScriptSplit;
    /** Absent = not measured (NaN). */
    validation?: ScriptSplit;
    test?: ScriptSplit;
    /** Seconds since the net started training (default: measured by the host since `ready`). */
    elapsed?: number;
  };
}

/** One of the 11 evaluation points of method.md §3 (schedule: docs/torch.md). */
export interface ScriptFlow {
  type: 'flow';
  point: {
    net: NetRole;
    /** 0..10. */
    index: number;
    /** Epoch position (0 = before the first update; fractional for runs under 10 epochs). */
    epoch: number;
    /** One entry per declared weight layer (non-empty). */
    layers: ScriptLayerNorms[];
  } & ScriptFlowMeasures;
}

export interface ScriptMaskUpdateLayer {
  /** Weight layer index (0-based, in the `ready` order). */
  layer: number;
  dropped: number;
  grown: number;
  /** Of the grown, weights dropped and grown back in this same update (default 0). */
  regrown?: number;
  /** Active weights after the update. */
  active: number;
  /** Share of the initial mask's active positions still active, 0..1. */
  overlap: number;
}

export interface ScriptMaskUpdate {
  type: 'mask-update';
  update: {
    net: NetRole;
    step: number;
    epoch: number;
    method: MaskUpdateMethod;
    /** Share of each layer's active weights replaced (default: Σ dropped / Σ active before). */
    fraction?: number;
    layers: ScriptMaskUpdateLayer[];
  };
}

export interface ScriptLog {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface ScriptDone {
  type: 'done';
  /** True when it ended early because of a `stop`. */
  stopped?: boolean;
  /** Why it ended early, if it did. */
  reason?: string;
}

export interface ScriptError {
  type: 'error';
  message: string;
  /** The traceback, shown in the dashboard and kept in the run log. */
  traceback?: string;
  /** A dotted snake_case key of the experiment file at fault (`training.learning_rate`), if known. */
  key?: string;
}

export type ScriptToHost =
  | ScriptHello
  | ScriptReady
  | ScriptStep
  | ScriptEpoch
  | ScriptFlow
  | ScriptMaskUpdate
  | ScriptLog
  | ScriptDone
  | ScriptError;

// ---------------------------------------------------------------------------------------------
// host → script

export interface ScriptStart {
  type: 'start';
  protocolVersion: number;
  /**
   * The resolved experiment: every default applied, sweep values set, snake_case keys as in the
   * file (`training.learning_rate`); `trainer.args` exactly as written. Paths are absolute.
   */
  config: Record<string, unknown>;
  /** The run folder the host writes (the script may put its own files, e.g. checkpoints, under it). */
  runId: string;
  runDir: string;
  sourceFile?: string;
  /** Sweep config id, when the run belongs to a sweep. */
  configId?: string;
}

export interface ScriptStop {
  type: 'stop';
  reason: string;
}

export type HostToScript = ScriptStart | ScriptStop;

// ---------------------------------------------------------------------------------------------
// Decoding and shape checks (sequence and cross-message checks are the host's: external-trainer.ts)

export type ParseResult = { ok: true; message: ScriptToHost } | { ok: false; reason: string };

class Refused extends Error {}

const WIRE_NON_FINITE: ReadonlyMap<unknown, number> = new Map([['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]]);

function show(v: unknown): string {
  if (typeof v === 'number') return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function fail(at: string, expected: string, v: unknown): never {
  throw new Refused(`${at}: expected ${expected}, found ${v === undefined ? 'nothing' : show(v)}`);
}

function rec(v: unknown, at: string): Record<string, unknown> {
  if (!isRecord(v)) fail(at, 'an object', v);
  return v;
}

/** A measured number: finite, or null / 'NaN' / '±Infinity' → NaN / ±Infinity. */
function measured(v: unknown, at: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === null) return NaN;
  const nonFinite = WIRE_NON_FINITE.get(v);
  if (nonFinite !== undefined) return nonFinite;
  return fail(at, "a number (null, 'NaN', 'Infinity' or '-Infinity' when not finite)", v);
}

function optMeasured(v: unknown, at: string): number | undefined {
  return v === undefined ? undefined : measured(v, at);
}

function finite(v: unknown, at: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return fail(at, 'a finite number', v);
}

function count(v: unknown, at: string, min = 0): number {
  if (Number.isSafeInteger(v) && (v as number) >= min) return v as number;
  return fail(at, `an integer ≥ ${min}`, v);
}

function str(v: unknown, at: string, maxLen = 100_000): string {
  if (typeof v !== 'string') fail(at, 'a string', v);
  if (v.length > maxLen) fail(at, `a string of at most ${maxLen} characters`, `${v.slice(0, 20)}… (${v.length} characters)`);
  return v;
}

function role(v: unknown, at: string): NetRole {
  if (v === 'sparse' || v === 'dense') return v;
  return fail(at, "'sparse' or 'dense'", v);
}

function arr(v: unknown, at: string, max: number): unknown[] {
  if (!Array.isArray(v)) fail(at, 'an array', v);
  if (v.length > max) fail(at, `at most ${max} entries`, `${v.length} entries`);
  return v;
}

function norms(v: unknown, at: string): ScriptLayerNorms {
  const o = rec(v, at);
  const pair = (p: unknown, a: string): { l1: number; l2: number } => {
    const r = rec(p, a);
    const l1 = measured(r.l1, `${a}.l1`);
    const l2 = measured(r.l2, `${a}.l2`);
    if (l1 < 0) fail(`${a}.l1`, 'a norm ≥ 0', l1);
    if (l2 < 0) fail(`${a}.l2`, 'a norm ≥ 0', l2);
    return { l1, l2 };
  };
  return { raw: pair(o.raw, `${at}.raw`), masked: pair(o.masked, `${at}.masked`) };
}

function flowMeasures(o: Record<string, unknown>, at: string): ScriptFlowMeasures {
  const out: ScriptFlowMeasures = {};
  for (const k of ['egf1', 'egf2', 'g1', 'g2'] as const) {
    const x = optMeasured(o[k], `${at}.${k}`);
    if (x !== undefined) out[k] = x;
  }
  return out;
}

function split(v: unknown, at: string): ScriptSplit {
  const o = rec(v, at);
  return { loss: measured(o.loss, `${at}.loss`), accuracy: measured(o.accuracy, `${at}.accuracy`) };
}

function decode(m: Record<string, unknown>): ScriptToHost {
  const type = m.type;
  switch (type) {
    case 'hello': {
      const c = rec(m.client, 'client');
      return {
        type,
        protocolVersion: count(m.protocolVersion, 'protocolVersion'),
        client: { name: str(c.name, 'client.name', 200), version: str(c.version, 'client.version', 200) },
        ...(m.pid !== undefined ? { pid: count(m.pid, 'pid') } : {}),
      };
    }
    case 'ready': {
      const nets = arr(m.nets, 'nets', 2).map((n, i): ScriptNet => {
        const o = rec(n, `nets[${i}]`);
        const layers = arr(o.layers, `nets[${i}].layers`, MAX_SCRIPT_LAYERS).map((l, j): ScriptLayer => {
          const at = `nets[${i}].layers[${j}]`;
          const x = rec(l, at);
          const total = count(x.total, `${at}.total`, 1);
          const active = count(x.active, `${at}.active`);
          if (active > total) fail(`${at}.active`, `at most total (${total})`, active);
          const fanIn = count(x.fanIn, `${at}.fanIn`, 1);
          const fanOut = count(x.fanOut, `${at}.fanOut`, 1);
          return {
            name: str(x.name, `${at}.name`, 200),
            fanIn,
            fanOut,
            active,
            total,
            ...(x.deadUnits !== undefined ? { deadUnits: count(x.deadUnits, `${at}.deadUnits`) } : {}),
          };
        });
        if (layers.length === 0) fail(`nets[${i}].layers`, 'at least one weight layer', []);
        return { net: role(o.net, `nets[${i}].net`), ...(o.width !== undefined ? { width: count(o.width, `nets[${i}].width`, 1) } : {}), layers };
      });
      if (nets.length === 0) fail('nets', 'one or two nets', []);
      const [first, second] = nets;
      if (nets.length === 2 && first && second && first.net === second.net) fail('nets[1].net', `a net other than '${first.net}'`, second.net);
      const d = m.dataset === undefined ? undefined : rec(m.dataset, 'dataset');
      return {
        type,
        nets,
        ...(m.stepsPerEpoch !== undefined ? { stepsPerEpoch: count(m.stepsPerEpoch, 'stepsPerEpoch', 1) } : {}),
        ...(m.totalSteps !== undefined ? { totalSteps: count(m.totalSteps, 'totalSteps') } : {}),
        ...(m.device !== undefined ? { device: str(m.device, 'device', 200) } : {}),
        ...(d !== undefined
          ? {
              dataset: {
                name: str(d.name, 'dataset.name', 200),
                ...(d.train !== undefined ? { train: count(d.train, 'dataset.train') } : {}),
                ...(d.validation !== undefined ? { validation: count(d.validation, 'dataset.validation') } : {}),
                ...(d.test !== undefined ? { test: count(d.test, 'dataset.test') } : {}),
              },
            }
          : {}),
      };
    }
    case 'step': {
      const o = rec(m.metrics, 'metrics');
      const accuracy = optMeasured(o.accuracy, 'metrics.accuracy');
      return {
        type,
        metrics: {
          net: role(o.net, 'metrics.net'),
          step: count(o.step, 'metrics.step', 1),
          epoch: count(o.epoch, 'metrics.epoch'),
          loss: measured(o.loss, 'metrics.loss'),
          ...(accuracy !== undefined ? { accuracy } : {}),
          layers: arr(o.layers, 'metrics.layers', MAX_SCRIPT_LAYERS).map((l, j) => norms(l, `metrics.layers[${j}]`)),
          ...flowMeasures(o, 'metrics'),
        },
      };
    }
    case 'epoch': {
      const o = rec(m.metrics, 'metrics');
      return {
        type,
        metrics: {
          net: role(o.net, 'metrics.net'),
          epoch: count(o.epoch, 'metrics.epoch', 1),
          step: count(o.step, 'metrics.step'),
          train: split(o.train, 'metrics.train'),
          ...(o.validation !== undefined ? { validation: split(o.validation, 'metrics.validation') } : {}),
          ...(o.test !== undefined ? { test: split(o.test, 'metrics.test') } : {}),
          ...(o.elapsed !== undefined ? { elapsed: finite(o.elapsed, 'metrics.elapsed') } : {}),
        },
      };
    }
    case 'flow': {
      const o = rec(m.point, 'point');
      const index = count(o.index, 'point.index');
      if (index > 10) fail('point.index', 'an index 0..10', index);
      const epoch = finite(o.epoch, 'point.epoch');
      if (epoch < 0) fail('point.epoch', 'an epoch position ≥ 0', epoch);
      const layers = arr(o.layers, 'point.layers', MAX_SCRIPT_LAYERS).map((l, j) => norms(l, `point.layers[${j}]`));
      if (layers.length === 0) fail('point.layers', 'the norms of every weight layer', []);
      return { type, point: { net: role(o.net, 'point.net'), index, epoch, layers, ...flowMeasures(o, 'point') } };
    }
    case 'mask-update': {
      const o = rec(m.update, 'update');
      const method = o.method;
      if (typeof method !== 'string' || !(MASK_UPDATE_METHODS as readonly string[]).includes(method)) fail('update.method', MASK_UPDATE_METHODS.map((x) => `'${x}'`).join(', '), method);
      const layers = arr(o.layers, 'update.layers', MAX_SCRIPT_LAYERS).map((l, j): ScriptMaskUpdateLayer => {
        const at = `update.layers[${j}]`;
        const x = rec(l, at);
        const overlap = finite(x.overlap, `${at}.overlap`);
        if (overlap < 0 || overlap > 1) fail(`${at}.overlap`, 'a share 0..1', overlap);
        return {
          layer: count(x.layer, `${at}.layer`),
          dropped: count(x.dropped, `${at}.dropped`),
          grown: count(x.grown, `${at}.grown`),
          ...(x.regrown !== undefined ? { regrown: count(x.regrown, `${at}.regrown`) } : {}),
          active: count(x.active, `${at}.active`),
          overlap,
        };
      });
      const fraction = o.fraction === undefined ? undefined : finite(o.fraction, 'update.fraction');
      if (fraction !== undefined && (fraction < 0 || fraction > 1)) fail('update.fraction', 'a share 0..1', fraction);
      return {
        type,
        update: {
          net: role(o.net, 'update.net'),
          step: count(o.step, 'update.step'),
          epoch: count(o.epoch, 'update.epoch'),
          method: method as MaskUpdateMethod,
          ...(fraction !== undefined ? { fraction } : {}),
          layers,
        },
      };
    }
    case 'log': {
      const level = m.level;
      if (level !== 'info' && level !== 'warn' && level !== 'error') fail('level', "'info', 'warn' or 'error'", level);
      return { type, level, message: str(m.message, 'message') };
    }
    case 'done': {
      if (m.stopped !== undefined && typeof m.stopped !== 'boolean') fail('stopped', 'true or false', m.stopped);
      return {
        type,
        ...(m.stopped !== undefined ? { stopped: m.stopped as boolean } : {}),
        ...(m.reason !== undefined ? { reason: str(m.reason, 'reason', 10_000) } : {}),
      };
    }
    case 'error':
      return {
        type,
        message: str(m.message, 'message', 10_000),
        ...(m.traceback !== undefined ? { traceback: str(m.traceback, 'traceback') } : {}),
        ...(m.key !== undefined ? { key: str(m.key, 'key', 200) } : {}),
      };
    case 'alert':
      throw new Refused("a script never sends 'alert': Gradflow computes alerts from the measurements (docs/torch.md)");
    default:
      return fail('type', "one of 'hello', 'ready', 'step', 'epoch', 'flow', 'mask-update', 'log', 'done', 'error'", type);
  }
}

/** Bare NaN / Infinity / -Infinity tokens (outside strings), as Python's `json.dumps` writes them, made strings. */
function quoteBareNonFinite(line: string): string {
  return line.replace(/"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/g, (whole: string, bare: string | undefined) => (bare !== undefined ? `"${bare}"` : whole));
}

/**
 * One line from a script, decoded and shape-checked. Refused (with the reason) when it is not a
 * JSON object, is too long, or a field is missing or of the wrong kind; extra fields are tolerated.
 */
export function parseScriptLine(line: string): ParseResult {
  if (line.length > MAX_SCRIPT_LINE_BYTES) return { ok: false, reason: `a line longer than ${MAX_SCRIPT_LINE_BYTES} characters` };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    try {
      value = JSON.parse(quoteBareNonFinite(line));
    } catch (e) {
      return { ok: false, reason: `not JSON (${e instanceof Error ? e.message : String(e)})` };
    }
  }
  if (!isRecord(value)) return { ok: false, reason: `expected a JSON object with a 'type', found ${show(value)}` };
  try {
    return { ok: true, message: decode(value) };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, reason: `'${typeof value.type === 'string' ? value.type.slice(0, 40) : '?'}' message: ${e.message}` };
    throw e;
  }
}
