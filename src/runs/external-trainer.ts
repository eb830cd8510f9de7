/**
 * A training script as the trainer (docs/torch.md): the experiment file's `trainer.command` is
 * started as an argument list (never a shell) in its own process group, speaks the script protocol
 * (`src/shared/external-protocol.ts`) over fd 3 / fd 4, and is seen by every host through the same
 * `TrainerHandle` as the engine's trainer, so `gradflow run`, the extension, sweeps and Slurm tasks
 * need no other code path (`startRun` dispatches).
 *
 * What the engine's trainer does for itself, the host does here for the script: it writes the run
 * folder (`RunWriter`: config, append-only metrics.jsonl, summary, heartbeat), checks every message
 * (the first refused one ends the run as failed with the reason, everything before it kept),
 * computes the flow measures from the per-layer norms, the alerts with the engine's rules
 * (`AlertTracker`, `maskAlerts`, the remedy table's primary key), the divergence of each net and
 * the run summary (final metrics, the 11-point average).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { ExperimentConfig, NetRole } from '../shared/experiment';
import {
  EXTERNAL_PROTOCOL_VERSION,
  MAX_SCRIPT_LINE_BYTES,
  SCRIPT_ENV,
  SCRIPT_FD_IN,
  SCRIPT_FD_OUT,
  parseScriptLine,
  type HostToScript,
  type ScriptFlowMeasures,
  type ScriptLayerNorms,
  type ScriptReady,
  type ScriptToHost,
} from '../shared/external-protocol';
import {
  PROTOCOL_VERSION,
  type Alert,
  type AlertKind,
  type EpochMetrics,
  type FlowMeasures,
  type FlowPoint,
  type LayerInfo,
  type LayerStep,
  type NetInfo,
  type NetSummary,
  type RunSummary,
  type SplitMetrics,
  type TrainerToHost,
} from '../shared/protocol';
import { AlertTracker, maskAlerts } from '../engine/alerts';
import { combineFlow, meanFlow } from '../shared/flow-measures';
import { primaryKey } from '../config/remedies';
import { snakeizeKeys } from '../config/resolve';
import { envSecondsMs, RunWriter } from './store';
import { startupDeadlineMs, type StartTrainerOptions, type TrainerExit, type TrainerHandle } from './trainer-client';
import { at } from '../shared/checked';

const STDERR_TAIL = 30;
/** Output lines of the script kept before the run folder exists (start-up chatter). */
const EARLY_LINES = 200;

/** After `stop`, how long a script may take to end before SIGTERM (`GRADFLOW_STOP_GRACE_S`, default 10 s). */
export function stopGraceMs(): number {
  return envSecondsMs('GRADFLOW_STOP_GRACE_S', 10_000);
}

/** After SIGTERM, how long before SIGKILL. */
const TERM_GRACE_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// The numbers the host computes (method.md §3), kept pure for the tests.

/** Flow measures from per-layer norms (method.md §3, the engine's definition); NaN for all four with no layer. */
export function flowOfLayers(layers: readonly ScriptLayerNorms[]): FlowMeasures {
  return combineFlow(layers, NaN);
}

/** The mean over flow points (the engine's meanFlow); NaN for all four with none. */
export function meanOfFlow(points: readonly FlowMeasures[]): FlowMeasures {
  return meanFlow(points, NaN);
}

/** Values a script sent for the flow measures that disagree with `computed` beyond 1e-6 relative. */
export function flowDisagreement(sent: ScriptFlowMeasures, computed: FlowMeasures): string | undefined {
  for (const k of ['egf1', 'egf2', 'g1', 'g2'] as const) {
    const s = sent[k];
    if (s === undefined) continue;
    const c = computed[k];
    if (Number.isNaN(s) && Number.isNaN(c)) continue;
    if (s === c) continue;
    const scale = Math.max(Math.abs(s), Math.abs(c));
    if (!(Math.abs(s - c) <= 1e-6 * scale)) return `${k} ${s} disagrees with ${c} computed from its layers (1e-6 relative)`;
  }
  return undefined;
}

/** The first non-finite number of a step: its loss, else the first layer norm that is not finite. */
export function firstNonFinite(loss: number, layers: readonly ScriptLayerNorms[]): { where: 'loss' | number; value: number } | undefined {
  if (!Number.isFinite(loss)) return { where: 'loss', value: loss };
  for (let l = 0; l < layers.length; l++) {
    const n = at(layers, l);
    for (const v of [n.raw.l1, n.raw.l2, n.masked.l1, n.masked.l2]) if (!Number.isFinite(v)) return { where: l, value: v };
  }
  return undefined;
}

/** The resolved experiment as the script receives it: snake_case as in the file, `trainer.args` as written. */
export function scriptConfig(config: ExperimentConfig): Record<string, unknown> {
  const out = snakeizeKeys(config) as Record<string, unknown>;
  if (config.trainer?.args !== undefined) (out.trainer as Record<string, unknown>).args = JSON.parse(JSON.stringify(config.trainer.args)) as unknown;
  return out;
}

/** `['python3', 'train.py']` as a reader sees it in a message. */
function argvText(argv: readonly string[]): string {
  return JSON.stringify(argv);
}

// ---------------------------------------------------------------------------------------------

interface NetState {
  info: NetInfo;
  tracker: AlertTracker;
  /** Active weights per layer now (mask updates move them). */
  active: number[];
  lastStep: number;
  epochs: number;
  final: { train: SplitMetrics; validation: SplitMetrics; test: SplitMetrics };
  flowPoints: FlowPoint[];
  firstStepAt?: number;
  lastStepAt?: number;
  diverged?: { step: number; reason: string };
}

const NAN_SPLIT: SplitMetrics = { loss: NaN, accuracy: NaN };

/** Splits a byte stream into lines; a line over the limit is reported once instead of being buffered. */
function lineReader(stream: Readable, max: number, onLine: (line: string) => void, onTooLong: () => void): void {
  let buf = '';
  let over = false;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (over) {
        over = false; // the rest of the too-long line
        continue;
      }
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (buf.length > max) {
      buf = '';
      if (!over) onTooLong();
      over = true;
    }
  });
  stream.on('end', () => {
    if (buf.length > 0 && !over) onLine(buf);
    buf = '';
  });
  stream.on('error', () => undefined);
}

/** Signal a whole process group; false when it no longer exists. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function startExternalTrainer(opts: StartTrainerOptions): TrainerHandle {
  const config = opts.config;
  const trainer = config.trainer;
  if (trainer === undefined) throw new Error('startExternalTrainer: the experiment has no trainer section');
  const [program, ...args] = trainer.command;
  if (program === undefined) throw new Error('startExternalTrainer: trainer.command is empty (it needs at least the program to run)');

  const messageListeners: Array<(m: TrainerToHost) => void> = [];
  const stderrListeners: Array<(line: string) => void> = [];
  const tail: string[] = [];
  const early: TrainerToHost[] = [];
  let writer: RunWriter | undefined;
  let phase: 'spawned' | 'started' | 'ready' | 'ended' = 'spawned';
  let ended = false; // a `done` or `error` was delivered to the host
  let lineNo = 0;
  const nets = new Map<NetRole, NetState>();
  const alerts: Alert[] = [];
  const kinds = new Set<AlertKind>();
  const startedAt = new Date().toISOString();
  let readyAt = Date.now();
  /** Why the host asked the script to stop, if it did. */
  let stopReason: string | undefined;
  /** The host stopped the script because every net diverged (the run still counts as run to its end). */
  let stoppedForDivergence = false;
  /** `kill()` was called: the run ends killed, without a summary, as an engine run killed. */
  let killedByHost = false;
  let termTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    [SCRIPT_ENV.protocol]: String(EXTERNAL_PROTOCOL_VERSION),
    [SCRIPT_ENV.fdOut]: String(SCRIPT_FD_OUT),
    [SCRIPT_ENV.fdIn]: String(SCRIPT_FD_IN),
    PYTHONUNBUFFERED: '1',
  };
  delete env.ELECTRON_RUN_AS_NODE;
  const child: ChildProcess = spawn(program, args, {
    cwd: trainer.cwd,
    env,
    detached: true, // its own process group: Stop ends the script and everything it started
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    shell: false,
    windowsHide: true,
  });
  const pid = child.pid;
  const fromScript = child.stdio[SCRIPT_FD_OUT] as Readable | null;
  const toScript = child.stdio[SCRIPT_FD_IN] as Writable | null;
  toScript?.on('error', () => undefined); // the script closed its end or is gone: nothing to tell it

  const record = (m: TrainerToHost): void => {
    if (writer) writer.append(m);
    else if (early.length < EARLY_LINES) early.push(m);
  };
  const emit = (m: TrainerToHost): void => {
    if (m.type === 'done' || m.type === 'error') {
      if (ended) return;
      ended = true;
      phase = 'ended';
    }
    for (const cb of messageListeners) cb(m);
  };
  /** Recorded in the run log and delivered to the host. */
  const publish = (m: TrainerToHost): void => {
    record(m);
    emit(m);
  };
  const send = (m: HostToScript): void => {
    if (toScript && !toScript.destroyed && toScript.writable) toScript.write(JSON.stringify(m) + '\n');
  };

  const clearTimers = (): void => {
    if (termTimer) clearTimeout(termTimer);
    if (killTimer) clearTimeout(killTimer);
    termTimer = killTimer = undefined;
  };
  /** SIGTERM to the group after `afterMs`, SIGKILL TERM_GRACE_MS later (each only if it still runs). */
  const endGroup = (afterMs: number): void => {
    if (termTimer || killTimer) return;
    termTimer = setTimeout(() => {
      termTimer = undefined;
      if (signalGroup(pid, 'SIGTERM')) {
        killTimer = setTimeout(() => {
          killTimer = undefined;
          signalGroup(pid, 'SIGKILL');
        }, TERM_GRACE_MS);
      }
    }, afterMs);
  };

  const lastOutput = (n = 8): string => tail.slice(-n).join('\n');

  // --- summary -------------------------------------------------------------------------------

  const netSummaries = (): NetSummary[] =>
    [...nets.values()].map((s) => ({
      net: s.info.net,
      steps: s.lastStep,
      epochs: s.epochs,
      final: s.final,
      flowAverage: meanOfFlow(s.flowPoints),
      flowPoints: s.flowPoints,
      layers: s.info.layers.map((l, i) => ({ ...l, active: at(s.active, i), density: at(s.active, i) / l.total })),
      msPerStep: s.firstStepAt !== undefined && s.lastStepAt !== undefined && s.lastStep > 0 ? (s.lastStepAt - readyAt) / s.lastStep : 0,
      ...(s.diverged ? { diverged: s.diverged } : {}),
    }));

  const summaryOf = (finished: boolean, stopped: boolean, reason: string | undefined): RunSummary => ({
    runId: writer?.runId ?? '',
    runDir: writer?.runDir ?? '',
    backend: 'external',
    finished,
    stopped,
    ...(reason !== undefined ? { reason } : {}),
    nets: netSummaries(),
    alerts: [...alerts],
    startedAt,
    endedAt: new Date().toISOString(),
  });

  /**
   * The summary to write once the script has exited and its pipes are drained (so every line it
   * printed is in the log first): set by `done` and by a failure.
   */
  let pendingSummary: RunSummary | undefined;
  /** The process has exited (a failure decided later is the exit itself, not the host's). */
  let exitedYet = false;
  /** The host ended the run as failed and then ended the script: its signal is the host's doing, not a kill. */
  let failedByHost = false;

  /** Write summary.json; a failure to write it is said (the run then has none and reads as killed). */
  const writeSummary = (summary: RunSummary): boolean => {
    if (!writer) return false;
    try {
      writer.finish(summary);
      return true;
    } catch (e) {
      const message = `${e instanceof Error ? e.message : String(e)}: the run has no summary.json`;
      for (const cb of stderrListeners) cb(`gradflow: ${message}`);
      return false;
    }
  };

  /** End the run as failed: error to the host, a failed summary (what was measured kept), the group ended. */
  const failRun = (message: string, extra: { key?: string; stack?: string } = {}, graceMs = 0): void => {
    if (ended) return;
    const err: TrainerToHost = {
      type: 'error',
      message,
      ...(extra.key !== undefined ? { key: extra.key } : {}),
      ...(writer ? { runDir: writer.runDir } : {}),
      ...(extra.stack !== undefined ? { stack: extra.stack } : {}),
    };
    record(err);
    if (writer) pendingSummary = summaryOf(false, false, message);
    if (!exitedYet) failedByHost = true;
    emit(err);
    endGroup(graceMs);
  };

  const refuse = (reason: string): void => {
    failRun(`the trainer script sent a message Gradflow refuses (line ${lineNo} of its protocol pipe): ${reason}`, {}, 0);
  };

  // --- alerts and divergence -------------------------------------------------------------------

  const raise = (raw: Alert | undefined): void => {
    if (!raw) return;
    const key = raw.key ?? primaryKey(raw, config, kinds);
    const a: Alert = key !== undefined ? { ...raw, key } : raw;
    kinds.add(a.kind);
    alerts.push(a);
    publish({ type: 'alert', alert: a });
  };

  const requestStop = (reason: string): void => {
    if (stopReason !== undefined || ended) return;
    stopReason = reason;
    if (phase === 'spawned') {
      // Not yet talking: nothing to ask, end it.
      endGroup(0);
      return;
    }
    send({ type: 'stop', reason });
    endGroup(stopGraceMs());
  };

  const diverge = (s: NetState, step: number, where: 'loss' | number): void => {
    if (s.diverged) return;
    const what = where === 'loss' ? 'loss' : `gradient (${s.info.layers[where]?.name ?? where})`;
    const cont = config.monitoring.onNan !== 'stop';
    s.diverged = { step, reason: `non-finite ${what} in the ${s.info.net} net at step ${step}${cont ? ' (monitoring.on_nan: continue, it trained on)' : ''}` };
    if (cont) return;
    publish({ type: 'log', level: 'warn', message: `${s.diverged.reason}: that net is diverged (monitoring.on_nan: stop)` });
    if ([...nets.values()].every((n) => n.diverged !== undefined)) {
      stoppedForDivergence = true;
      requestStop('every net diverged (monitoring.on_nan: stop)');
    }
  };

  // --- messages --------------------------------------------------------------------------------

  const netOf = (net: NetRole, what: string): NetState | undefined => {
    const s = nets.get(net);
    if (!s) refuse(`${what} of net '${net}', which its 'ready' did not declare (declared: ${[...nets.keys()].join(', ') || 'none'})`);
    return s;
  };

  const layerCount = (s: NetState, n: number, what: string, allowEmpty: boolean): boolean => {
    const L = s.info.layers.length;
    if (n === L || (allowEmpty && n === 0)) return true;
    refuse(`${what} has ${n} layer entries, the ${s.info.net} net declared ${L} weight layers${allowEmpty ? ' (or send none)' : ''}`);
    return false;
  };

  const onReady = (m: ScriptReady): void => {
    const infos: NetInfo[] = m.nets.map((n) => {
      const layers: LayerInfo[] = n.layers.map((l) => ({
        name: l.name,
        fanIn: l.fanIn,
        fanOut: l.fanOut,
        active: l.active,
        total: l.total,
        density: l.active / l.total,
        deadUnits: l.deadUnits ?? 0,
      }));
      return { net: n.net, width: n.width ?? at(n.layers, 0).fanOut, layers, activeWeights: layers.reduce((a, l) => a + l.active, 0) };
    });
    for (const info of infos) {
      nets.set(info.net, {
        info,
        tracker: new AlertTracker(info.net, { explosion: config.monitoring.explosion, collapse: config.monitoring.collapse }, info.layers.map((l) => l.name)),
        active: info.layers.map((l) => l.active),
        lastStep: 0,
        epochs: 0,
        final: { train: NAN_SPLIT, validation: NAN_SPLIT, test: NAN_SPLIT },
        flowPoints: [],
      });
    }
    readyAt = Date.now();
    const stepsPerEpoch = m.stepsPerEpoch ?? 0;
    const totalSteps = m.totalSteps ?? stepsPerEpoch * config.training.epochs;
    const d = m.dataset;
    publish({
      type: 'ready',
      runId: writer?.runId ?? '',
      runDir: writer?.runDir ?? '',
      backend: 'external',
      nets: infos,
      stepsPerEpoch,
      totalSteps,
      dataset: {
        name: d?.name ?? config.dataset.name,
        train: d?.train ?? 0,
        validation: d?.validation ?? 0,
        test: d?.test ?? 0,
        source: `the trainer script ${argvText(trainer.command)}`,
      },
    });
    if (m.device !== undefined) publish({ type: 'log', level: 'info', message: `trainer script device: ${m.device}` });
    // Layer collapse at mask time, from what the script declared (empty layers, units with no input).
    for (const info of infos) {
      if (!info.layers.some((l) => l.active < l.total)) continue;
      maskAlerts(info.net, info.layers, { reachable: [], brokenLayer: -1, noOutgoing: [] }).forEach(raise);
    }
  };

  const onMessage = (m: ScriptToHost): void => {
    if (phase === 'ended') return;
    if (phase === 'spawned' && m.type !== 'hello') return refuse(`expected 'hello' first, found '${m.type}'`);
    switch (m.type) {
      case 'hello': {
        if (phase !== 'spawned') return refuse("a second 'hello'");
        if (m.protocolVersion !== EXTERNAL_PROTOCOL_VERSION) {
          return failRun(`the trainer script speaks protocol ${m.protocolVersion}, this Gradflow ${EXTERNAL_PROTOCOL_VERSION}: update its client (docs/torch.md)`, { key: 'trainer.command' });
        }
        try {
          writer = RunWriter.create(config.run.runsDir, config, {
            ...(opts.sourceFile !== undefined ? { sourceFile: opts.sourceFile } : {}),
            ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
          });
        } catch (e) {
          return failRun(e instanceof Error ? e.message : String(e), { key: 'run.runs_dir' });
        }
        for (const x of early.splice(0)) writer.append(x);
        phase = 'started';
        emit({ type: 'hello', protocolVersion: PROTOCOL_VERSION, pid: pid ?? 0 });
        publish({
          type: 'log',
          level: 'info',
          message: `trainer script ${argvText(trainer.command)} in ${trainer.cwd} (pid ${pid ?? '?'}, process group ${pid ?? '?'}), client ${m.client.name} ${m.client.version}`,
        });
        send({
          type: 'start',
          protocolVersion: EXTERNAL_PROTOCOL_VERSION,
          config: scriptConfig(config),
          runId: writer.runId,
          runDir: writer.runDir,
          ...(opts.sourceFile !== undefined ? { sourceFile: opts.sourceFile } : {}),
          ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
        });
        return;
      }
      case 'ready':
        if (phase !== 'started') return refuse("a second 'ready'");
        phase = 'ready';
        return onReady(m);
      case 'log':
        return publish({ type: 'log', level: m.level, message: m.message });
      case 'error':
        return failRun(`the trainer script failed: ${m.message}`, {
          ...(m.key !== undefined ? { key: m.key } : {}),
          ...(m.traceback !== undefined ? { stack: m.traceback } : {}),
        }, stopGraceMs());
      case 'done': {
        if (phase !== 'ready') return refuse("'done' before 'ready' (a run reports its nets first)");
        const finished = stoppedForDivergence || (m.stopped !== true && stopReason === undefined);
        const stopped = !finished;
        const diverged = [...nets.values()].flatMap((s) => (s.diverged && config.monitoring.onNan === 'stop' ? [s.diverged.reason] : []));
        const reason = stopped ? (m.reason ?? stopReason ?? 'stopped by the script') : diverged.length > 0 ? diverged.join('; ') : m.reason;
        const summary = summaryOf(finished, stopped, reason);
        pendingSummary = summary;
        emit({ type: 'done', summary });
        // A script that lingers after `done` is ended like one that ignores `stop`.
        endGroup(stopGraceMs());
        return;
      }
      default:
        break;
    }
    // Measurements: after `ready`, of a declared net.
    if (phase !== 'ready') return refuse(`'${m.type}' before 'ready' (a run reports its nets first)`);
    switch (m.type) {
      case 'step': {
        const x = m.metrics;
        const s = netOf(x.net, "'step'");
        if (!s || !layerCount(s, x.layers.length, `'step' ${x.step}`, true)) return;
        if (x.step <= s.lastStep) return refuse(`'step' ${x.step} of the ${x.net} net after step ${s.lastStep} (steps increase per net)`);
        const fm = flowOfLayers(x.layers);
        const bad = flowDisagreement(x, fm);
        if (bad) return refuse(`'step' ${x.step}: ${bad}`);
        const now = Date.now();
        s.firstStepAt ??= now;
        s.lastStepAt = now;
        s.lastStep = x.step;
        const layers: LayerStep[] = x.layers.map((l, i) => ({ active: at(s.active, i), raw: l.raw, masked: l.masked }));
        publish({ type: 'step', metrics: { net: x.net, step: x.step, epoch: x.epoch, loss: x.loss, accuracy: x.accuracy ?? NaN, layers, ...fm } });
        if (layers.length > 0) s.tracker.observe(x.step, layers).forEach(raise);
        const nf = firstNonFinite(x.loss, x.layers);
        if (nf) {
          raise(s.tracker.nonFinite(x.step, nf.where, nf.value));
          diverge(s, x.step, nf.where);
        }
        return;
      }
      case 'epoch': {
        const x = m.metrics;
        const s = netOf(x.net, "'epoch'");
        if (!s) return;
        if (x.epoch <= s.epochs) return refuse(`'epoch' ${x.epoch} of the ${x.net} net after epoch ${s.epochs} (epochs increase per net)`);
        const metrics: EpochMetrics = {
          net: x.net,
          epoch: x.epoch,
          step: x.step,
          train: x.train,
          validation: x.validation ?? NAN_SPLIT,
          test: x.test ?? NAN_SPLIT,
          elapsed: x.elapsed ?? (Date.now() - readyAt) / 1000,
        };
        s.epochs = x.epoch;
        s.final = { train: metrics.train, validation: metrics.validation, test: metrics.test };
        publish({ type: 'epoch', metrics });
        return;
      }
      case 'flow': {
        const x = m.point;
        const s = netOf(x.net, "'flow'");
        if (!s || !layerCount(s, x.layers.length, `'flow' point ${x.index}`, false)) return;
        if (s.flowPoints.some((p) => p.index === x.index)) return refuse(`'flow' point ${x.index} of the ${x.net} net a second time`);
        const fm = flowOfLayers(x.layers);
        const bad = flowDisagreement(x, fm);
        if (bad) return refuse(`'flow' point ${x.index}: ${bad}`);
        const point: FlowPoint = { net: x.net, epoch: x.epoch, index: x.index, ...fm };
        s.flowPoints.push(point);
        publish({ type: 'flow', point });
        return;
      }
      case 'mask-update': {
        const x = m.update;
        const s = netOf(x.net, "'mask-update'");
        if (!s) return;
        const L = s.info.layers.length;
        let dropped = 0;
        let before = 0;
        for (const l of x.layers) {
          if (l.layer >= L) return refuse(`'mask-update' names layer ${l.layer}, the ${x.net} net declared ${L} weight layers`);
          if (l.active > at(s.info.layers, l.layer).total) return refuse(`'mask-update' layer ${l.layer}: ${l.active} active weights of ${at(s.info.layers, l.layer).total}`);
          dropped += l.dropped;
          before += at(s.active, l.layer);
        }
        for (const l of x.layers) s.active[l.layer] = l.active;
        publish({
          type: 'mask-update',
          update: {
            net: x.net,
            step: x.step,
            epoch: x.epoch,
            method: x.method,
            fraction: x.fraction ?? (before > 0 ? dropped / before : 0),
            layers: x.layers.map((l) => ({ layer: l.layer, dropped: l.dropped, grown: l.grown, regrown: l.regrown ?? 0, active: l.active, overlap: l.overlap })),
          },
        });
        return;
      }
    }
  };

  // --- wiring ----------------------------------------------------------------------------------

  const deadline = opts.startupDeadlineMs ?? startupDeadlineMs();
  const startupTimer = setTimeout(() => {
    if (phase !== 'spawned' || ended) return;
    const last = lastOutput();
    failRun(
      `the trainer script ${argvText(trainer.command)} sent no 'hello' within ${Math.round(deadline / 1000)} s of starting (start-up deadline; GRADFLOW_STARTUP_TIMEOUT_S sets it): it was ended. Does it use the Gradflow client (docs/torch.md)?${last ? ` Last output:\n${last}` : ''}`,
      { key: 'trainer.command' },
    );
    signalGroup(pid, 'SIGKILL');
  }, deadline);
  startupTimer.unref();

  if (fromScript) {
    lineReader(
      fromScript,
      MAX_SCRIPT_LINE_BYTES,
      (line) => {
        lineNo++;
        if (line.trim() === '') return;
        const r = parseScriptLine(line);
        if (!r.ok) return refuse(r.reason);
        onMessage(r.message);
      },
      () => {
        lineNo++;
        refuse(`a line longer than ${MAX_SCRIPT_LINE_BYTES} bytes`);
      },
    );
  }
  const output = (stream: Readable | null, level: 'info' | 'warn'): void => {
    if (!stream) return;
    lineReader(
      stream,
      64 * 1024,
      (line) => {
        if (level === 'warn') {
          tail.push(line);
          if (tail.length > STDERR_TAIL) tail.shift();
        }
        record({ type: 'log', level, message: `[script ${level === 'warn' ? 'stderr' : 'stdout'}] ${line}` });
        for (const cb of stderrListeners) cb(line);
      },
      () => undefined,
    );
  };
  output(child.stdout, 'info');
  output(child.stderr, 'warn');

  const exited = new Promise<TrainerExit>((resolve) => {
    let settled = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(startupTimer);
      clearTimers();
      if (!ended && killedByHost) {
        const err: TrainerToHost = { type: 'error', message: `the trainer script was killed (${exitSignal ?? 'SIGKILL'}) on request`, ...(writer ? { runDir: writer.runDir } : {}) };
        record(err);
        emit(err);
      } else if (!ended) {
        if (stopReason !== undefined && phase !== 'spawned' && writer) {
          // Stopped, but the script ended without `done` (it ignored `stop` and was terminated, or died).
          const how = exitSignal ? `was ended (${exitSignal})` : `exited with code ${exitCode}`;
          const summary = summaryOf(stoppedForDivergence, !stoppedForDivergence, `${stopReason}; the script ${how} without sending 'done'`);
          pendingSummary = summary;
          emit({ type: 'done', summary });
        } else {
          const how = exitSignal ? `was killed (${exitSignal})` : `exited with code ${exitCode}`;
          const when = phase === 'spawned' ? "before saying 'hello'" : 'before finishing';
          const last = lastOutput();
          failRun(`the trainer script ${how} ${when}${last ? `; last output:\n${last}` : ''}`, tail.length > 0 ? { stack: tail.join('\n') } : {});
        }
      }
      if (pendingSummary) writeSummary(pendingSummary);
      writer?.close();
      resolve({ code: exitCode, signal: failedByHost ? null : exitSignal, stderrTail: [...tail] });
    };
    child.on('exit', (code, signal) => {
      exitedYet = true;
      exitCode = code;
      exitSignal = signal;
      // What it left behind in its group (data-loader workers, …) goes with it; then the pipes close.
      signalGroup(pid, 'SIGKILL');
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      exitCode ??= code;
      exitSignal ??= signal;
      finish();
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (pid !== undefined) return; // started: 'exit' / 'close' tell the rest
      tail.push(err.message);
      failRun(
        `cannot start the trainer script ${argvText(trainer.command)} in ${trainer.cwd}: ${err.code === 'ENOENT' ? `'${program}' was not found (not on PATH, or the folder does not exist)` : err.message}`,
        { key: 'trainer.command' },
      );
      finish();
    });
  });

  return {
    pid,
    onMessage: (cb) => void messageListeners.push(cb),
    onStderr: (cb) => void stderrListeners.push(cb),
    stop: () => requestStop('stopped by request'),
    kill: () => {
      killedByHost = true;
      clearTimers();
      signalGroup(pid, 'SIGKILL');
    },
    exited,
  };
}
