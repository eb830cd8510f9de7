/**
 * Sweeps: the plan (one sweep folder `<runsDir>/sweep-<name>/` holding sweep.json and the runs), and
 * the scheduler, which writes the manifest, leaves out configurations that already have a complete
 * run (resumable) and hands the rest to an executor: `local` (a pool of trainer processes here,
 * below) or `slurm` (one job array, slurm.ts). Either way a configuration is claimed (claims.ts)
 * before it trains, so concurrent schedulers never train one twice. Old run folders are never touched.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendPreference, ExperimentConfig } from '../shared/experiment';
import type { RunSummary } from '../shared/protocol';
import { GRADFLOW_VERSION } from '../shared/version';
import { boundedSlug } from '../shared/text';
import { tryClaim, type Claim } from './claims';
import { startRun, type RunOutcome, type RunSession } from './session';
import { isComplete, stoppedReason, type RunStatus } from './status';
import { listRuns, makeFolder, readStopRequest, requestStop, watchStopRequest, type RunRecord } from './store';
import { BoundedReadError, MAX_MANIFEST_BYTES, readBoundedText } from '../shared/bounded-read';

export interface PlannedRun {
  id: string;
  config: ExperimentConfig;
  /** The grid point: axis key → value, plus `seed`. */
  point: Record<string, unknown>;
}

export interface SweepPlan {
  name: string;
  sourceFile?: string;
  /** Folder holding the sweep's runs and its manifest. */
  dir: string;
  runs: PlannedRun[];
}

export interface SweepManifest {
  name: string;
  sourceFile?: string;
  createdAt: string;
  runs: Array<{ id: string; point: Record<string, unknown> }>;
}

/** The sweep's folder name part: bounded in bytes (a 300-character name must not hit ENAMETOOLONG). */
function slug(s: string): string {
  return boundedSlug(s, 120, 'sweep');
}

/** Put every run of the sweep under `<runsDir>/sweep-<name>/`. */
export function planSweep(name: string, runs: PlannedRun[], runsDir: string, sourceFile?: string): SweepPlan {
  if (runs.length === 0) throw new Error(`sweep '${name}' has no runs: give at least one value per axis and one seed`);
  const dir = path.join(runsDir, `sweep-${slug(name)}`);
  const placed = runs.map((r) => ({ ...r, config: { ...r.config, run: { ...r.config.run, runsDir: dir } } }));
  return { name, dir, runs: placed, ...(sourceFile !== undefined ? { sourceFile } : {}) };
}

/** Replace a file atomically (write a temporary file beside it, then rename). */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${os.hostname()}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Manifest is derived data (the plan); it is replaced atomically when the file's grid changes. */
export function writeManifest(plan: SweepPlan): void {
  makeFolder(plan.dir, 'sweep folder');
  const manifest: SweepManifest = {
    name: plan.name,
    ...(plan.sourceFile !== undefined ? { sourceFile: plan.sourceFile } : {}),
    createdAt: new Date().toISOString(),
    runs: plan.runs.map((r) => ({ id: r.id, point: r.point })),
  };
  writeFileAtomic(path.join(plan.dir, 'sweep.json'), JSON.stringify(manifest, null, 2) + '\n');
}

export function readManifest(dir: string): SweepManifest {
  const file = path.join(dir, 'sweep.json');
  try {
    return JSON.parse(readBoundedText(file, { maxBytes: MAX_MANIFEST_BYTES, what: 'sweep manifest' })) as SweepManifest;
  } catch (e) {
    if (e instanceof BoundedReadError && e.problem === 'too-large') throw e;
    throw new Error(`${file}: not a sweep folder (${e instanceof BoundedReadError ? (e.code ?? e.problem) : ((e as NodeJS.ErrnoException).code ?? (e as Error).message)})`);
  }
}

/** Runs of a sweep folder by configuration id, newest first. */
export function runsByConfig(dir: string): Map<string, RunRecord[]> {
  const out = new Map<string, RunRecord[]>();
  for (const r of listRuns(dir)) {
    if (r.configId === undefined) continue;
    const list = out.get(r.configId);
    if (list) list.push(r);
    else out.set(r.configId, [r]);
  }
  return out;
}

/**
 * The complete run (finished, or trained to the end with a diverged net) of each configuration id,
 * if any (the newest when there are several). A sweep does not redo these.
 */
export function finishedRuns(dir: string): Map<string, RunRecord> {
  const out = new Map<string, RunRecord>();
  for (const r of listRuns(dir)) {
    if (r.configId && isComplete(r.status) && !out.has(r.configId)) out.set(r.configId, r);
  }
  return out;
}

/** Whether a configuration has a complete run now (re-checked after claiming it). */
export function hasCompleteRun(dir: string, configId: string): boolean {
  return listRuns(dir).some((r) => r.configId === configId && isComplete(r.status));
}

/** Finished runs made by a Gradflow version other than this one, counted by version. */
export function otherVersions(finished: ReadonlyMap<string, RunRecord>): Array<{ version: string; runs: number }> {
  const versions = new Map<string, number>();
  for (const r of finished.values()) {
    const v = r.gradflowVersion ?? 'unknown';
    if (v !== GRADFLOW_VERSION) versions.set(v, (versions.get(v) ?? 0) + 1);
  }
  return [...versions].map(([version, runs]) => ({ version, runs }));
}

export type SweepEvent =
  | {
      type: 'plan';
      total: number;
      skipped: number;
      toRun: number;
      workers: number;
      /** Skipped (finished) runs made by another Gradflow version: their numbers may differ from what this version computes. */
      otherVersions: Array<{ version: string; runs: number }>;
    }
  | { type: 'start'; id: string; point: Record<string, unknown> }
  | { type: 'progress'; id: string; step: number; totalSteps: number }
  | { type: 'end'; id: string; status: RunStatus; summary?: RunSummary; error?: string; runDir?: string }
  /** Another scheduler holds the configuration's claim (or finished it meanwhile): not run here. */
  | { type: 'busy'; id: string; holder: string }
  | { type: 'log'; message: string }
  /** A Slurm array task's state changed (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, …). */
  | { type: 'slurm'; id: string; state: string; task: string };

export interface SweepCounts {
  finished: number;
  diverged: number;
  failed: number;
  stopped: number;
  killed: number;
  /** Complete before this sweep started. */
  skipped: number;
  /** Held or completed by another scheduler meanwhile. */
  busy: number;
}

export interface SweepHandle {
  /** Stop starting runs and ask running trainers to stop after their current step. */
  stop(): void;
  done: Promise<SweepCounts>;
}

export function emptyCounts(skipped = 0): SweepCounts {
  return { finished: 0, diverged: 0, failed: 0, stopped: 0, killed: 0, skipped, busy: 0 };
}

/**
 * What became of a sweep's configurations, for the CLI's last line and the extension's message:
 * `4 finished, 1 diverged, 2 skipped (done before), 1 stopped, 0 failed` (killed runs count as failed).
 */
export function countsText(counts: SweepCounts): string {
  const parts = [`${counts.finished} finished`];
  if (counts.diverged > 0) parts.push(`${counts.diverged} diverged`);
  parts.push(`${counts.skipped} skipped (done before)`);
  if (counts.busy > 0) parts.push(`${counts.busy} left to another scheduler`);
  parts.push(`${counts.stopped} stopped`, `${counts.failed + counts.killed} failed`);
  return parts.join(', ');
}

/** Add one ended run to the counts. */
export function countEnd(counts: SweepCounts, status: RunStatus): void {
  switch (status) {
    case 'finished':
    case 'diverged':
    case 'failed':
    case 'stopped':
    case 'killed':
      counts[status]++;
      return;
    case 'corrupt':
    case 'starting':
    case 'running':
      counts.failed++;
      return;
    default: {
      const never: never = status;
      return never;
    }
  }
}

/**
 * Configurations handed out one at a time (a streamed sweep): `take` resolves the next one not yet
 * complete, or undefined when there are no more (or the sweep stopped). `toRun` is the estimate
 * shown in the plan event.
 */
export interface RunSource {
  take(): Promise<PlannedRun | undefined>;
  toRun: number;
}

/** What an executor is given: the plan, the configurations to run, and where to report. */
export interface ExecutorContext {
  plan: SweepPlan;
  queue: PlannedRun[];
  skipped: number;
  onEvent(e: SweepEvent): void;
  /** When set, runs come from here (one at a time) and `queue` is empty: see `runStreamedSweep`. */
  source?: RunSource;
}

export interface SweepExecutor {
  readonly name: string;
  /** Worker count shown in the plan event (the pool size, or the array's parallelism). */
  parallelism(queueLength: number): number;
  start(ctx: ExecutorContext): SweepHandle;
}

/**
 * The scheduler: write the manifest, plan what is left, and hand it to the executor. `onEvent`
 * hears a `plan` event first, then the executor's events.
 */
export function runSweep(plan: SweepPlan, executor: SweepExecutor, onEvent: (e: SweepEvent) => void): SweepHandle {
  writeManifest(plan);
  const done = finishedRuns(plan.dir);
  const queue = plan.runs.filter((r) => !done.has(r.id));
  const skipped = plan.runs.length - queue.length;
  onEvent({
    type: 'plan',
    total: plan.runs.length,
    skipped,
    toRun: queue.length,
    workers: executor.parallelism(queue.length),
    otherVersions: otherVersions(done),
  });
  return executor.start({ plan, queue, skipped, onEvent });
}

/**
 * A sweep too big to plan before its first run: its runs are generated when they are needed. `runs`
 * starts a fresh pass over them, in plan order with the plan's ids (`iterateSweep`); it is called
 * twice, once for the manifest and once for the workers.
 */
export interface StreamedSweep {
  name: string;
  sourceFile?: string;
  dir: string;
  /** Runs in the plan (points × seeds), counted without generating any. */
  total: number;
  runs(): Iterable<PlannedRun>;
}

/** Put a streamed sweep's runs under `<runsDir>/sweep-<name>/`, as `planSweep` does. */
export function planStreamedSweep(name: string, total: number, runs: () => Iterable<PlannedRun>, runsDir: string, sourceFile?: string): StreamedSweep {
  if (total === 0) throw new Error(`sweep '${name}' has no runs: give at least one value per axis and one seed`);
  const dir = path.join(runsDir, `sweep-${slug(name)}`);
  function* placed(pass: Iterable<PlannedRun>): Generator<PlannedRun, void, undefined> {
    for (const r of pass) yield { ...r, config: { ...r.config, run: { ...r.config.run, runsDir: dir } } };
  }
  return { name, dir, total, runs: () => placed(runs()), ...(sourceFile !== undefined ? { sourceFile } : {}) };
}

/** How long a streamed pass works before letting the event loop run (trainer messages, signals). */
const SLICE_MS = 50;
const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The manifest of a streamed sweep, written as its runs are generated (ids and points only, never
 * configurations) into a temporary file that replaces sweep.json when the pass is complete, so a
 * reader sees the previous manifest or the whole new one, never a part. Same JSON as `writeManifest`.
 * Works in slices of `SLICE_MS`, so the workers' trainers are served meanwhile.
 */
export async function writeManifestStreamed(sweep: StreamedSweep, aborted: () => boolean = () => false): Promise<number> {
  makeFolder(sweep.dir, 'sweep folder');
  const file = path.join(sweep.dir, 'sweep.json');
  const tmp = `${file}.${os.hostname()}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  let count = 0;
  try {
    const head = { name: sweep.name, ...(sweep.sourceFile !== undefined ? { sourceFile: sweep.sourceFile } : {}), createdAt: new Date().toISOString() };
    fs.writeSync(fd, JSON.stringify(head).slice(0, -1) + ',"runs":[');
    let chunk: string[] = [];
    let slice = Date.now();
    for (const r of sweep.runs()) {
      chunk.push(`${count === 0 ? '' : ','}\n${JSON.stringify({ id: r.id, point: r.point })}`);
      count++;
      if (chunk.length >= 1000) {
        fs.writeSync(fd, chunk.join(''));
        chunk = [];
      }
      if (Date.now() - slice >= SLICE_MS) {
        await nextTick();
        if (aborted()) throw new Error('aborted');
        slice = Date.now();
      }
    }
    fs.writeSync(fd, chunk.join('') + '\n]}\n');
    fs.closeSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.renameSync(tmp, file);
  return count;
}

/**
 * The scheduler for a streamed sweep (local executor): the first run starts after generating one
 * point's runs, whatever the grid's size, and memory does not grow with it. The configurations that
 * already have a complete run (the skip set) are read from the run folders, which are bounded by what
 * is on disk; the plan event's `skipped` is their count (exact when the folder holds only this
 * grid's runs), the final counts' `skipped` is exact. The manifest is written alongside
 * (`writeManifestStreamed`); `done` waits for it, also after `stop`, so a stopped sweep still has its
 * plan. A combination found invalid on the way (`ConfigError` from the generator) stops the sweep:
 * no new runs, running trainers asked to stop, then `done` rejects with that error.
 */
export function runStreamedSweep(sweep: StreamedSweep, executor: SweepExecutor, onEvent: (e: SweepEvent) => void): SweepHandle {
  if (executor.name !== 'local') throw new Error(`a streamed sweep runs on the local executor only, not ${executor.name}`);
  makeFolder(sweep.dir, 'sweep folder');
  const finished = finishedRuns(sweep.dir);
  let failure: Error | undefined;
  let stopped = false;
  let skipped = 0;
  const it = sweep.runs()[Symbol.iterator]();
  let exhausted = false;
  const ref: { handle?: SweepHandle } = {};
  const fail = (e: unknown): void => {
    failure ??= e instanceof Error ? e : new Error(`the sweep's plan failed: ${JSON.stringify(e)}`);
    exhausted = true;
    ref.handle?.stop();
  };
  const source: RunSource = {
    toRun: Math.max(0, sweep.total - finished.size),
    take: async () => {
      let slice = Date.now();
      while (!exhausted && !stopped) {
        let next: IteratorResult<PlannedRun, unknown>;
        try {
          next = it.next();
        } catch (e) {
          fail(e);
          return undefined;
        }
        if (next.done === true) {
          exhausted = true;
          return undefined;
        }
        if (!finished.has(next.value.id)) return next.value;
        skipped++;
        // A resumed sweep may skip many finished runs in a row: let the event loop breathe.
        if (Date.now() - slice >= SLICE_MS) {
          await nextTick();
          slice = Date.now();
        }
      }
      return undefined;
    },
  };
  const manifest = writeManifestStreamed(sweep, () => failure !== undefined).catch((e: unknown) => fail(e));
  const plan: SweepPlan = { name: sweep.name, dir: sweep.dir, runs: [], ...(sweep.sourceFile !== undefined ? { sourceFile: sweep.sourceFile } : {}) };
  onEvent({
    type: 'plan',
    total: sweep.total,
    skipped: sweep.total - source.toRun,
    toRun: source.toRun,
    workers: executor.parallelism(source.toRun),
    otherVersions: otherVersions(finished),
  });
  const inner = executor.start({ plan, queue: [], skipped: 0, onEvent, source });
  ref.handle = inner;
  return {
    stop: () => {
      stopped = true;
      inner.stop();
    },
    done: inner.done.then(async (counts) => {
      await manifest;
      if (failure !== undefined) throw failure;
      return { ...counts, skipped };
    }),
  };
}

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
}

/** Who holds a claim, for the claim file: `local host:pid`. */
export function localHolder(): string {
  return `local ${os.hostname()}:${process.pid}`;
}

/**
 * Starts one configuration's trainer. The default starts it with `startRun`; the extension passes
 * its own (the same session, wired to its dashboard).
 */
export type Launcher = (run: PlannedRun) => RunSession | undefined;

export interface LocalExecutorOptions {
  trainerPath: string;
  workers?: number | undefined;
  backend?: BackendPreference | undefined;
  /** Replaces the default launch (which uses `trainerPath` and `backend`). */
  launch?: Launcher;
  /** The default launch's trainers' stderr lines, by configuration id (dropped when unset). */
  onStderr?(id: string, line: string): void;
}

/**
 * Claim a configuration, train it in a session and release the claim; the shared body of a local
 * worker and of a Slurm task. Returns undefined when the configuration is claimed elsewhere or
 * already complete.
 */
export async function claimAndRun(
  dir: string,
  run: PlannedRun,
  holder: string,
  launch: Launcher,
  hooks: { onSession?(s: RunSession): void; log?(message: string): void } = {},
): Promise<{ outcome: RunOutcome | undefined; claim: Claim } | { busy: string }> {
  const claim = tryClaim(dir, run.id, holder, hooks.log);
  if (claim === undefined) return { busy: 'claimed by another scheduler' };
  // Between our plan and our claim another scheduler may have finished it: check again.
  if (hasCompleteRun(dir, run.id)) {
    claim.release();
    return { busy: 'finished by another scheduler' };
  }
  try {
    const session = launch(run);
    if (session === undefined) return { outcome: undefined, claim };
    hooks.onSession?.(session);
    const outcome = await session.ended;
    return { outcome, claim };
  } finally {
    claim.release();
  }
}

/** Records in a run folder that the sweep asked the run to stop (the first request is the one kept). */
function recordSweepStop(runDir: string, log: (message: string) => void): void {
  try {
    requestStop(runDir, { by: 'sweep' });
  } catch (e) {
    log(`could not record the stop request in ${runDir}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function localExecutor(opts: LocalExecutorOptions): SweepExecutor {
  const launch: Launcher =
    opts.launch ??
    ((r) => {
      const s = startRun({
        trainerPath: opts.trainerPath,
        config: r.config,
        configId: r.id,
        backend: opts.backend,
      });
      const onStderr = opts.onStderr;
      if (onStderr !== undefined) s.handle.onStderr((line) => onStderr(r.id, line));
      return s;
    });
  const parallelism = (n: number): number => Math.max(1, Math.min(opts.workers ?? defaultWorkers(), n || 1));
  return {
    name: 'local',
    parallelism,
    start: ({ plan, queue, skipped, onEvent, source }) => {
      let stopping = false;
      const live = new Set<RunSession>();
      const counts = emptyCounts(skipped);
      const pending = [...queue];
      const take = source ? () => source.take() : () => Promise.resolve(pending.shift());
      const planned = source ? source.toRun : queue.length;
      const holder = localHolder();
      const runOne = async (r: PlannedRun): Promise<void> => {
        let started = false;
        const result = await claimAndRun(plan.dir, r, holder, launch, {
          log: (message) => onEvent({ type: 'log', message }),
          onSession: (s) => {
            started = true;
            live.add(s);
            if (stopping) s.stop();
            onEvent({ type: 'start', id: r.id, point: r.point });
            let reported = 0;
            s.onMessage((m) => {
              // A stop asked through the run folder (Stop in VS Code on this run) stops it too.
              if (m.type === 'ready') {
                // Stopped before its folder existed: recorded now, so the run says the sweep asked.
                if (stopping) recordSweepStop(m.runDir, (message) => onEvent({ type: 'log', message }));
                const unwatch = watchStopRequest(m.runDir, () => s.stop());
                void s.ended.then(unwatch);
              }
              if (m.type !== 'step' || s.step <= reported) return;
              reported = s.step;
              onEvent({ type: 'progress', id: r.id, step: s.step, totalSteps: s.totalSteps });
            });
            void s.ended.then(() => live.delete(s));
          },
        });
        if ('busy' in result) {
          counts.busy++;
          onEvent({ type: 'busy', id: r.id, holder: result.busy });
          return;
        }
        const o = result.outcome;
        if (o === undefined) {
          counts.failed++;
          if (!started) onEvent({ type: 'start', id: r.id, point: r.point });
          onEvent({ type: 'end', id: r.id, status: 'failed', error: 'the trainer could not start' });
          return;
        }
        countEnd(counts, o.status);
        // A stopped run's row says who asked (the request in its folder), not only "stopped by request".
        const summary = o.summary !== undefined && o.status === 'stopped' && o.runDir !== undefined ? { ...o.summary, reason: stoppedReason(o.summary.reason, readStopRequest(o.runDir)) } : o.summary;
        onEvent({ type: 'end', id: r.id, status: o.status, ...(summary ? { summary } : {}), ...(o.error !== undefined ? { error: o.error } : {}), ...(o.runDir !== undefined ? { runDir: o.runDir } : {}) });
      };
      const worker = async (): Promise<void> => {
        for (;;) {
          if (stopping) return;
          const next = await take();
          if (!next || stopping) return;
          await runOne(next);
        }
      };
      return {
        stop: () => {
          stopping = true;
          for (const s of live) {
            // Recorded in the run folder first: the run then says it stopped because the sweep was cancelled
            // (a run without its folder yet records it when the folder exists: on its `ready`).
            if (s.runDir !== undefined) recordSweepStop(s.runDir, (message) => onEvent({ type: 'log', message }));
            s.stop();
          }
        },
        done: Promise.all(Array.from({ length: parallelism(planned) }, () => worker())).then(() => counts),
      };
    },
  };
}
