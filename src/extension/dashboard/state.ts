/**
 * The dashboard's data, owned by the extension host. Pure (no `vscode` import) so it is tested in
 * plain Node.
 *
 * Why the host keeps it: the webview is destroyed whenever its tab is hidden (we do not rely on
 * `retainContextWhenHidden`, which costs memory per panel and still loses state on reload), so the
 * host must be able to replay everything (`snapshot()`). It keeps every step at full resolution
 * (for CSV export) and sends the page decimated series only (≤ `maxPoints` per series).
 *
 * Updates are pulled, not pushed: `apply` only records and marks what changed; the panel calls
 * `drainUpdates()` on its own schedule (≤ 4 per second), which collapses a burst of steps into one
 * `series` notification per net.
 */
import type { RunRecord } from '../../runs/store';
import type { NetRole } from '../../shared/experiment';
import type { Alert, EpochMetrics, FlowPoint, LayerStep, MaskUpdate, SplitMetrics, StepMetrics, TrainerToHost } from '../../shared/protocol';
import { encodeNumber } from '../../shared/protocol';
import { divergedNets, isFailure, statusOfSummary } from '../../shared/run-status';
import { runTitle } from '../../runs/status';
import {
  MAX_LOG_TAIL,
  isNetRole,
  toMetric,
  type CsvKind,
  type DashboardModel,
  type EpochPoint,
  type FlowPointData,
  type HostToPage,
  type MaskUpdatePoint,
  type NetState,
  type RunMeta,
  type RunSetup,
  type RunState,
  type RunStatus,
  type StepSeries,
  type SweepStatus,
  type SweepTableView,
} from '../../shared/webview-protocol';
import { DEFAULT_MAX_POINTS, decimate } from './decimate';
import type { SweepState, SweepStateEvent } from './sweep-state';
import { at } from '../../shared/checked';

/**
 * A run as registered: its meta's identity and status fields (a new run without `startedAt` is
 * stamped with the time it is added) and, with status `diverged`, the nets that hit NaN/Inf.
 */
export type RunInfo = Pick<RunMeta, 'runId' | 'title' | 'sourceFile' | 'backend' | 'startedAt' | 'status'> & { diverged?: readonly string[] };

/** A recorded run (a run folder) as the dashboard registers it. */
export function runInfoOf(r: Pick<RunRecord, 'runId' | 'name' | 'configId' | 'startedAt' | 'status' | 'diverged' | 'sourceFile' | 'backend'>): RunInfo {
  return {
    runId: r.runId,
    title: runTitle(r),
    startedAt: r.startedAt,
    status: r.status,
    ...(r.diverged !== undefined ? { diverged: r.diverged } : {}),
    ...(r.sourceFile !== undefined ? { sourceFile: r.sourceFile } : {}),
    ...(r.backend !== undefined ? { backend: r.backend } : {}),
  };
}

/** What `setStatus` may say besides the status and its message. */
export interface StatusDetail {
  /** With status `diverged`: the nets that hit NaN/Inf. */
  diverged?: readonly string[];
  /** More log lines to append to the run's log before its tail is taken (e.g. the trainer's last stderr lines). */
  log?: readonly string[];
}

export interface DashboardStateOptions {
  /** Cap per series sent to the page (default 2,000). */
  maxPoints?: number;
}

export interface Disposable {
  dispose(): void;
}

/** Per-layer columns, aligned with `NetStore.flowStep` (NaN pads a layer missing from a step). */
interface LayerColumns {
  active: number[];
  rawL1: number[];
  rawL2: number[];
  maskedL1: number[];
  maskedL2: number[];
}

/** Full-resolution columns of one net. Plain arrays: 100,000 steps × ~10 columns is a few MB. */
class NetStore {
  readonly step: number[] = [];
  readonly epoch: number[] = [];
  readonly loss: number[] = [];
  readonly accuracy: number[] = [];
  /** Steps at which norms were collected (`monitoring.every`); the flow columns align with it. */
  readonly flowStep: number[] = [];
  readonly egf1: number[] = [];
  readonly egf2: number[] = [];
  readonly g1: number[] = [];
  readonly g2: number[] = [];
  /**
   * Which steps carry raw norms (the net's `rawEvery` from `ready`; 1 for runs recorded before it):
   * the ‖g‖ series hold only those steps, so the chart draws its line through them. A step that
   * carries the norm and has NaN there stays a gap (a divergence); a step that does not carry it is
   * no point at all, never a gap or a zero that would read as a collapse.
   */
  rawEvery = { l1: 1, l2: 1 };
  private readonly g1Carried = { step: [] as number[], value: [] as number[] };
  private readonly g2Carried = { step: [] as number[], value: [] as number[] };
  readonly layers: LayerColumns[] = [];
  readonly epochs: EpochMetrics[] = [];
  readonly flowPoints: FlowPoint[] = [];
  readonly maskUpdates: MaskUpdate[] = [];

  constructor(readonly net: NetRole) {}

  addStep(m: StepMetrics): void {
    this.step.push(m.step);
    this.epoch.push(m.epoch);
    this.loss.push(m.loss);
    this.accuracy.push(m.accuracy);
    // With no layers the trainer skipped the norms this step and sends zeros: not a measurement.
    if (m.layers.length === 0) return;
    const row = this.flowStep.length;
    this.flowStep.push(m.step);
    this.egf1.push(m.egf1);
    this.egf2.push(m.egf2);
    this.g1.push(m.g1);
    this.g2.push(m.g2);
    if (m.step % this.rawEvery.l1 === 0) {
      this.g1Carried.step.push(m.step);
      this.g1Carried.value.push(m.g1);
    }
    if (m.step % this.rawEvery.l2 === 0) {
      this.g2Carried.step.push(m.step);
      this.g2Carried.value.push(m.g2);
    }
    const count = Math.max(this.layers.length, m.layers.length);
    for (let l = 0; l < count; l++) {
      let cols = this.layers[l];
      if (!cols) {
        // A layer appearing late: pad its earlier rows so every column stays aligned with flowStep.
        const pad = (): number[] => new Array<number>(row).fill(NaN);
        cols = { active: pad(), rawL1: pad(), rawL2: pad(), maskedL1: pad(), maskedL2: pad() };
        this.layers[l] = cols;
      }
      const ls: LayerStep | undefined = m.layers[l];
      cols.active.push(ls ? ls.active : NaN);
      cols.rawL1.push(ls ? ls.raw.l1 : NaN);
      cols.rawL2.push(ls ? ls.raw.l2 : NaN);
      cols.maskedL1.push(ls ? ls.masked.l1 : NaN);
      cols.maskedL2.push(ls ? ls.masked.l2 : NaN);
    }
  }

  series(maxPoints: number): StepSeries {
    const last = this.flowStep.length - 1;
    return {
      lastStep: this.step.length > 0 ? at(this.step, this.step.length - 1) : 0,
      count: this.step.length,
      loss: decimate(this.step, this.loss, maxPoints),
      accuracy: decimate(this.step, this.accuracy, maxPoints),
      egf1: decimate(this.flowStep, this.egf1, maxPoints),
      egf2: decimate(this.flowStep, this.egf2, maxPoints),
      g1: decimate(this.g1Carried.step, this.g1Carried.value, maxPoints),
      g2: decimate(this.g2Carried.step, this.g2Carried.value, maxPoints),
      layerL2: this.layers.map((c) => decimate(this.flowStep, c.maskedL2, maxPoints)),
      active: this.layers.map((c) => {
        const a = last >= 0 ? at(c.active, last) : NaN;
        return Number.isSafeInteger(a) && a >= 0 ? a : 0;
      }),
    };
  }

  state(maxPoints: number): NetState {
    return {
      net: this.net,
      series: this.series(maxPoints),
      epochs: this.epochs.map(toEpochPoint),
      flowPoints: this.flowPoints.map(toFlowPointData),
      maskUpdates: this.maskUpdates.map(toMaskUpdatePoint),
    };
  }
}

interface RunStore {
  meta: RunMeta;
  setup: RunSetup | null;
  nets: NetStore[];
  alerts: Alert[];
  /** The last lines of the trainer's log (its `log` and `error` messages), oldest first, ≤ MAX_LOG_TAIL. */
  log: string[];
}

/** The nets of a `diverged` status the page may name (sparse / dense), in the order given. */
function netRoles(nets: readonly string[] | undefined): NetRole[] {
  return (nets ?? []).filter(isNetRole);
}

/** Appends lines to a run's log tail, keeping the last MAX_LOG_TAIL. */
function appendLog(run: RunStore, lines: readonly string[]): void {
  run.log.push(...lines);
  if (run.log.length > MAX_LOG_TAIL) run.log.splice(0, run.log.length - MAX_LOG_TAIL);
}

/** Sets a run's status fields; the log tail travels only with a failure (failed, killed, corrupt). */
function setStatusFields(run: RunStore, status: RunStatus, message: string | undefined, diverged: readonly string[] | undefined): void {
  run.meta.status = status;
  if (message !== undefined) run.meta.message = message;
  const nets = status === 'diverged' ? netRoles(diverged) : [];
  if (nets.length > 0) run.meta.diverged = nets;
  else delete run.meta.diverged;
  if (isFailure(status) && run.log.length > 0) run.meta.logTail = [...run.log];
  else delete run.meta.logTail;
}

function split(s: SplitMetrics): EpochPoint['train'] {
  return { loss: toMetric(s.loss), accuracy: toMetric(s.accuracy) };
}

function toEpochPoint(m: EpochMetrics): EpochPoint {
  return {
    epoch: m.epoch,
    step: m.step,
    elapsed: Number.isFinite(m.elapsed) && m.elapsed >= 0 ? m.elapsed : 0,
    train: split(m.train),
    validation: split(m.validation),
    test: split(m.test),
  };
}

function toFlowPointData(p: FlowPoint): FlowPointData {
  return { index: p.index, epoch: p.epoch, egf1: toMetric(p.egf1), egf2: toMetric(p.egf2), g1: toMetric(p.g1), g2: toMetric(p.g2) };
}

/** A share in [0, 1] for the page; anything else (NaN on the wire, a stray value) is null. */
function share(x: number | null): number | null {
  return x !== null && Number.isFinite(x) && x >= 0 && x <= 1 ? x : null;
}

function toMaskUpdatePoint(u: MaskUpdate): MaskUpdatePoint {
  return {
    step: u.step,
    epoch: u.epoch,
    method: u.method,
    fraction: share(u.fraction),
    layers: u.layers.map((l) => ({ layer: l.layer, dropped: l.dropped, grown: l.grown, regrown: l.regrown, active: l.active, overlap: share(l.overlap) })),
  };
}

/** The trainer encodes non-finite alert values as strings; a stray raw NaN is normalised the same way. */
function normaliseAlert(a: Alert): Alert {
  return { ...a, value: typeof a.value === 'number' ? encodeNumber(a.value) : a.value };
}

function copySetup(s: RunSetup): RunSetup {
  return {
    ...s,
    dataset: { ...s.dataset },
    nets: s.nets.map((n) => ({ ...n, layers: n.layers.map((l) => ({ ...l })) })),
  };
}

/** RFC 4180: quote a field when it holds a separator, a quote, a line break or edge spaces. */
function csvField(v: string | number): string {
  const s = typeof v === 'number' ? String(v) : v;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvLine(fields: (string | number)[]): string {
  return fields.map(csvField).join(',') + '\n';
}

export class DashboardState {
  private readonly runs = new Map<string, RunStore>();
  private readonly maxPoints: number;
  private focusRunId: string | null = null;
  /** Notifications in order (run added, setup, epoch, alert, status); series are derived at drain time. */
  private queue: HostToPage[] = [];
  /** `runId\0net` of nets whose step series changed since the last drain. */
  private dirtySeries = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private readonly sweeps = new Map<string, SweepState>();
  /** Runs registered by `addLazyRun` whose metrics are not read yet. */
  private readonly lazy = new Map<string, () => void>();
  /** Sweep the page should show (null: the run view). */
  private focusSweepId: string | null = null;
  /**
   * `sweepId\0configId` of sweep rows changed since the last drain: a running sweep reports every
   * step of every run, so rows are sent at drain time, once each, like step series.
   */
  private dirtyRows = new Set<string>();

  constructor(opts: DashboardStateOptions = {}) {
    this.maxPoints = opts.maxPoints ?? DEFAULT_MAX_POINTS;
  }

  /** Called after any change; the panel uses it to schedule a throttled flush. */
  onDidChange(listener: () => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /**
   * Registers a recorded run by its meta only; `load` replays its metrics the first time it is shown
   * (focused by the host or picked in the page). After a window reload the dashboard lists every
   * recorded run the Runs view lists without reading all their logs up front. No-op for a known run.
   */
  addLazyRun(info: RunInfo, load: () => void): void {
    if (this.runs.has(info.runId)) return;
    this.addRun(info);
    this.lazy.set(info.runId, load);
  }

  /** Loads a lazily registered run: its entry is dropped and `load` adds it again, complete. */
  private ensureLoaded(runId: string): void {
    const load = this.lazy.get(runId);
    if (load === undefined) return;
    this.lazy.delete(runId);
    const order = [...this.runs.keys()];
    const placeholder = this.runs.get(runId);
    this.runs.delete(runId);
    try {
      load();
    } finally {
      // A loader that failed half-way must not lose the entry the page shows.
      if (!this.runs.has(runId) && placeholder !== undefined) this.runs.set(runId, placeholder);
      // Keep the run where it was listed (the page replaces it in place).
      const entries = new Map(this.runs);
      this.runs.clear();
      for (const k of order) {
        const v = entries.get(k);
        if (v !== undefined) this.runs.set(k, v);
        entries.delete(k);
      }
      for (const [k, v] of entries) this.runs.set(k, v);
    }
  }

  /** Registers a run (or refreshes its title/status if it exists). */
  addRun(info: RunInfo): void {
    const existing = this.runs.get(info.runId);
    const startedAt = info.startedAt ?? existing?.meta.startedAt ?? new Date().toISOString();
    const meta: RunMeta = { runId: info.runId, title: info.title, startedAt, status: info.status };
    if (info.sourceFile !== undefined) meta.sourceFile = info.sourceFile;
    if (info.backend !== undefined) meta.backend = info.backend;
    let run = existing;
    if (run) {
      if (run.meta.message !== undefined) meta.message = run.meta.message;
      run.meta = meta;
    } else {
      run = { meta, setup: null, nets: [], alerts: [], log: [] };
      this.runs.set(info.runId, run);
    }
    setStatusFields(run, info.status, undefined, info.diverged);
    // A full run state, so the page can take it whether or not it knew the run; its series are current.
    this.queue.push({ type: 'runAdded', run: this.runState(run) });
    for (const n of run.nets) this.dirtySeries.delete(`${info.runId}\0${n.net}`);
    this.changed();
  }

  hasRun(runId: string): boolean {
    return this.runs.has(runId);
  }

  runIds(): string[] {
    return [...this.runs.keys()];
  }

  /** Meta of a run (title, source file, status), for the extension's own use. */
  getRun(runId: string): RunMeta | undefined {
    const r = this.runs.get(runId);
    return r ? { ...r.meta } : undefined;
  }

  /** The alert the page refers to by index in `revealAlert`. */
  getAlert(runId: string, alertIndex: number): Alert | undefined {
    return this.runs.get(runId)?.alerts[alertIndex];
  }

  /**
   * Status changes that do not come from the trainer's own `done` / `error` (a crash, a kill, a run
   * read back from its folder). `detail.diverged` names the diverged nets; `detail.log` adds lines
   * to the run's log (a failure carries its tail to the page).
   */
  setStatus(runId: string, status: RunStatus, message?: string, detail: StatusDetail = {}): void {
    const run = this.runs.get(runId);
    if (!run) return;
    if (detail.log !== undefined) appendLog(run, detail.log);
    setStatusFields(run, status, message, detail.diverged);
    const { meta } = run;
    this.queue.push({
      type: 'runStatus',
      runId,
      status,
      ...(message !== undefined ? { message } : {}),
      ...(meta.diverged !== undefined ? { diverged: [...meta.diverged] } : {}),
      ...(meta.logTail !== undefined ? { logTail: [...meta.logTail] } : {}),
    });
    this.changed();
  }

  /**
   * Drops a run entry: the provisional entry of a starting run once the trainer has named the real
   * run (`replacedBy`, which must be added first). The focus follows to the replacement.
   */
  removeRun(runId: string, replacedBy?: string): void {
    this.lazy.delete(runId); // a lazily listed run must not be loaded again over its replacement
    if (!this.runs.delete(runId)) return;
    for (const k of this.dirtySeries) if (k.startsWith(`${runId}\0`)) this.dirtySeries.delete(k);
    const to = replacedBy !== undefined && this.runs.has(replacedBy) ? replacedBy : undefined;
    if (this.focusRunId === runId) this.focusRunId = to ?? null;
    this.queue.push(to !== undefined ? { type: 'runRemoved', runId, replacedBy: to } : { type: 'runRemoved', runId });
    this.changed();
  }

  /** Ask the page to show this run (next `init` and, if open, at once). */
  focus(runId: string): void {
    if (!this.runs.has(runId)) return;
    this.ensureLoaded(runId);
    this.focusRunId = runId;
    this.focusSweepId = null; // as the page's reducer does: showing a run leaves the sweep view
    this.queue.push({ type: 'focusRun', runId });
    this.changed();
  }

  /** The user picked a run in the page: remember it for the next replay without echoing it back. */
  selectRun(runId: string): void {
    if (!this.runs.has(runId)) return;
    this.ensureLoaded(runId);
    this.focusRunId = runId;
    this.focusSweepId = null;
  }

  // -------------------------------------------------------------------------------------------
  // Sweeps

  /**
   * Registers a sweep, or replaces the one with the same id (a re-planned or re-read folder). The
   * state object is kept and later changed through `applySweepEvent` / `setSweepStatus`.
   */
  addSweep(sweep: SweepState): void {
    this.sweeps.set(sweep.sweepId, sweep);
    const prefix = `${sweep.sweepId}\0`;
    for (const k of this.dirtyRows) if (k.startsWith(prefix)) this.dirtyRows.delete(k);
    this.queue.push({ type: 'sweepAdded', sweep: sweep.model() });
    this.changed();
  }

  hasSweep(sweepId: string): boolean {
    return this.sweeps.has(sweepId);
  }

  sweepIds(): string[] {
    return [...this.sweeps.keys()];
  }

  /** Name and status of a sweep, for the extension's own use. */
  getSweep(sweepId: string): { name: string; status: SweepStatus } | undefined {
    const s = this.sweeps.get(sweepId);
    return s ? { name: s.name, status: s.status } : undefined;
  }

  /** Folds a sweep runner event into its sweep; events of unknown sweeps are dropped. */
  applySweepEvent(sweepId: string, e: SweepStateEvent): void {
    const sweep = this.sweeps.get(sweepId);
    if (!sweep) return;
    const changed = sweep.apply(e);
    if (changed.length === 0) return;
    for (const id of changed) this.dirtyRows.add(`${sweepId}\0${id}`);
    this.changed();
  }

  setSweepStatus(sweepId: string, status: SweepStatus, message?: string): void {
    const sweep = this.sweeps.get(sweepId);
    if (!sweep) return;
    sweep.setStatus(status, message);
    this.queue.push(message !== undefined ? { type: 'sweepStatus', sweepId, status, message } : { type: 'sweepStatus', sweepId, status });
    this.changed();
  }

  /** Ask the page to show this sweep (next `init` and, if open, at once). */
  focusSweep(sweepId: string): void {
    if (!this.sweeps.has(sweepId)) return;
    this.focusSweepId = sweepId;
    this.queue.push({ type: 'focusSweep', sweepId });
    this.changed();
  }

  /** The user switched the page to a sweep, or (null) back to the runs: remembered for the next replay. */
  selectSweep(sweepId: string | null): void {
    if (sweepId === null || this.sweeps.has(sweepId)) this.focusSweepId = sweepId;
  }

  /** The run a sweep row shows and its folder (null while only the live trainer knows it). */
  sweepRun(sweepId: string, configId: string): { runId: string; runDir: string | null } | undefined {
    return this.sweeps.get(sweepId)?.runOf(configId);
  }

  /** The sweep table as CSV, filtered and sorted as the page shows it. */
  sweepCsv(sweepId: string, view: SweepTableView): string {
    const sweep = this.sweeps.get(sweepId);
    if (!sweep) throw new Error(`no sweep ${sweepId}`);
    return sweep.csv(view);
  }

  /** Folds one trainer message into the run. Unknown runs are registered on the fly, so no data is dropped. */
  apply(runId: string, msg: TrainerToHost): void {
    let run = this.runs.get(runId);
    if (!run) {
      this.addRun({ runId, title: runId, status: 'running' });
      run = this.runs.get(runId) as RunStore;
    }
    switch (msg.type) {
      case 'hello':
        return;
      case 'log':
        // Kept for a failure's log tail (the output channel, owned by the run manager, shows them all).
        appendLog(run, [`${msg.level === 'info' ? '' : `${msg.level}: `}${msg.message}`]);
        return;
      case 'ready': {
        const setup: RunSetup = {
          backend: msg.backend,
          totalSteps: msg.totalSteps,
          stepsPerEpoch: msg.stepsPerEpoch,
          dataset: { ...msg.dataset },
          nets: msg.nets,
        };
        run.setup = copySetup(setup);
        for (const n of msg.nets) this.net(run, n.net).rawEvery = { l1: n.rawEvery?.l1 ?? 1, l2: n.rawEvery?.l2 ?? 1 };
        this.queue.push({ type: 'runSetup', runId, setup: copySetup(setup) });
        break;
      }
      case 'step': {
        this.net(run, msg.metrics.net).addStep(msg.metrics);
        this.dirtySeries.add(`${runId}\0${msg.metrics.net}`);
        break;
      }
      case 'epoch': {
        this.net(run, msg.metrics.net).epochs.push(msg.metrics);
        this.queue.push({ type: 'epoch', runId, net: msg.metrics.net, point: toEpochPoint(msg.metrics) });
        break;
      }
      case 'flow': {
        this.net(run, msg.point.net).flowPoints.push(msg.point);
        this.queue.push({ type: 'flowPoint', runId, net: msg.point.net, point: toFlowPointData(msg.point) });
        break;
      }
      case 'alert': {
        const alert = normaliseAlert(msg.alert);
        run.alerts.push(alert);
        this.queue.push({ type: 'alert', runId, index: run.alerts.length - 1, alert: { ...alert } });
        break;
      }
      case 'done': {
        const s = msg.summary;
        this.setStatus(runId, statusOfSummary(s), s.reason, { diverged: divergedNets(s) });
        return;
      }
      case 'error': {
        const stack = (msg.stack ?? '').split('\n').slice(1, 9).filter((l) => l.trim() !== '');
        this.setStatus(runId, 'failed', msg.message, { log: [`error: ${msg.message}`, ...stack] });
        return;
      }
      case 'mask-update': {
        this.net(run, msg.update.net).maskUpdates.push(msg.update);
        this.queue.push({ type: 'maskUpdate', runId, net: msg.update.net, update: toMaskUpdatePoint(msg.update) });
        break;
      }
      default: {
        const never: never = msg;
        return never;
      }
    }
    this.changed();
  }

  /**
   * The run the page will show when it loads, by the page's own rule (webview/main.ts): the focused
   * run, else the last one; undefined when it will show a sweep or there is no run. For the host's
   * first view of the page (html.ts `bootView`).
   */
  shownRun(): { runs: RunMeta[]; shown: RunMeta } | undefined {
    if (this.focusSweepId !== null || this.runs.size === 0) return undefined;
    const runs = [...this.runs.values()].map((r) => ({ ...r.meta }));
    const focused = this.focusRunId !== null ? runs.find((m) => m.runId === this.focusRunId) : undefined;
    return { runs, shown: focused ?? at(runs, runs.length - 1) };
  }

  /** Everything, for `init` after the page (re)loads. Fresh objects: the caller may keep or mutate them. */
  snapshot(): DashboardModel {
    return {
      runs: [...this.runs.values()].map((r) => this.runState(r)),
      focusRunId: this.focusRunId,
      sweeps: [...this.sweeps.values()].map((s) => s.model()),
      focusSweepId: this.focusSweepId,
    };
  }

  /**
   * Notifications since the last drain, in an order the page can apply: discrete events first
   * (a run is always added before anything refers to it), then one `series` per changed net.
   * A caller that replays `snapshot()` should drain and discard first, since the snapshot has it all.
   */
  drainUpdates(): HostToPage[] {
    const out = this.queue;
    this.queue = [];
    for (const key of this.dirtySeries) {
      const [runId, net] = key.split('\0') as [string, NetRole];
      const store = this.runs.get(runId)?.nets.find((n) => n.net === net);
      if (store) out.push({ type: 'series', runId, net, series: store.series(this.maxPoints) });
    }
    this.dirtySeries.clear();
    for (const key of this.dirtyRows) {
      const [sweepId, configId] = key.split('\0') as [string, string];
      const row = this.sweeps.get(sweepId)?.row(configId);
      if (row) out.push({ type: 'sweepRow', sweepId, row });
    }
    this.dirtyRows.clear();
    return out;
  }

  hasPendingUpdates(): boolean {
    return this.queue.length > 0 || this.dirtySeries.size > 0 || this.dirtyRows.size > 0;
  }

  /** Full-resolution export. Numbers are written with `String(x)` (shortest round-trip; NaN/Infinity by name). */
  toCsv(runId: string, what: CsvKind): string {
    const run = this.runs.get(runId);
    if (!run) throw new Error(`no run ${runId}`);
    let out = '';
    switch (what) {
      case 'steps':
        out += csvLine(['net', 'step', 'epoch', 'loss', 'accuracy', 'egf1', 'egf2', 'g1', 'g2']);
        for (const n of run.nets) {
          let f = 0; // walks flowStep alongside step (both ascending)
          for (let i = 0; i < n.step.length; i++) {
            const hasFlow = f < n.flowStep.length && n.flowStep[f] === n.step[i];
            const flow: (string | number)[] = hasFlow ? [at(n.egf1, f), at(n.egf2, f), at(n.g1, f), at(n.g2, f)] : ['', '', '', ''];
            if (hasFlow) f++;
            out += csvLine([n.net, at(n.step, i), at(n.epoch, i), at(n.loss, i), at(n.accuracy, i), ...flow]);
          }
        }
        break;
      case 'layers':
        out += csvLine(['net', 'step', 'layer', 'name', 'active', 'raw_l1', 'raw_l2', 'masked_l1', 'masked_l2']);
        for (const n of run.nets) {
          const names = run.setup?.nets.find((s) => s.net === n.net)?.layers.map((l) => l.name) ?? [];
          for (let r = 0; r < n.flowStep.length; r++) {
            n.layers.forEach((c, l) => {
              out += csvLine([n.net, at(n.flowStep, r), l, names[l] ?? '', at(c.active, r), at(c.rawL1, r), at(c.rawL2, r), at(c.maskedL1, r), at(c.maskedL2, r)]);
            });
          }
        }
        break;
      case 'epochs':
        out += csvLine([
          'net', 'epoch', 'step', 'train_loss', 'train_accuracy', 'validation_loss', 'validation_accuracy',
          'test_loss', 'test_accuracy', 'elapsed_s',
        ]);
        for (const n of run.nets) {
          for (const e of n.epochs) {
            out += csvLine([
              n.net, e.epoch, e.step, e.train.loss, e.train.accuracy, e.validation.loss, e.validation.accuracy,
              e.test.loss, e.test.accuracy, e.elapsed,
            ]);
          }
        }
        break;
      case 'masks':
        out += csvLine(['net', 'step', 'epoch', 'method', 'fraction', 'layer', 'name', 'dropped', 'grown', 'regrown', 'active', 'overlap']);
        for (const n of run.nets) {
          const names = run.setup?.nets.find((s) => s.net === n.net)?.layers.map((l) => l.name) ?? [];
          for (const u of n.maskUpdates) {
            for (const l of u.layers) {
              out += csvLine([n.net, u.step, u.epoch, u.method, u.fraction, l.layer, names[l.layer] ?? '', l.dropped, l.grown, l.regrown, l.active, l.overlap]);
            }
          }
        }
        break;
      case 'alerts':
        out += csvLine(['net', 'kind', 'severity', 'step', 'layer', 'value', 'message']);
        for (const a of run.alerts) out += csvLine([a.net, a.kind, a.severity, a.step, a.layer, a.value, a.message]);
        break;
      default: {
        const never: never = what;
        throw new Error(`unknown CSV kind ${String(never)}`);
      }
    }
    return out;
  }

  private net(run: RunStore, net: NetRole): NetStore {
    let n = run.nets.find((s) => s.net === net);
    if (!n) {
      n = new NetStore(net);
      run.nets.push(n);
    }
    return n;
  }

  private runState(r: RunStore): RunState {
    const meta: RunMeta = { ...r.meta };
    if (meta.diverged !== undefined) meta.diverged = [...meta.diverged];
    if (meta.logTail !== undefined) meta.logTail = [...meta.logTail];
    return {
      meta,
      setup: r.setup ? copySetup(r.setup) : null,
      nets: r.nets.map((n) => n.state(this.maxPoints)),
      alerts: r.alerts.map((a) => ({ ...a })),
    };
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // A failing listener (a disposed panel) must not stop the trainer's message handling.
      }
    }
  }
}
