/**
 * A local sweep that outlives the window that started it: its scheduler runs in a detached process
 * (`gradflow sweep-host`, its own session and process group), and the sweep folder is the channel.
 *
 * One session of a sweep (one press of Run Sweep) is a set of files under `<sweep>/host/`, all named
 * by the session id the starter chose:
 *
 * | file | written by | holds |
 * |---|---|---|
 * | `<id>.plan.json` | the starter, before the host starts | the plan: name, folder, every configuration (resolved), workers, backend |
 * | `<id>.events.jsonl` | the host, append-only | one `SweepHostRecord` per line: every scheduler event, then exactly one `done` |
 * | `<id>.json` | the host, replaced every `HEARTBEAT_MS` | pid, host name, start and heartbeat times (is the host alive?) |
 * | `<id>.cancel.json` | whoever cancels, create-exclusive | who asked; the host stops starting runs and asks running ones to stop (`by: 'sweep'`) |
 * | `<id>.log` | the host's stdout and stderr | its notes and its trainers' stderr |
 *
 * A follower (the extension, this window or the next one after a reload) reads the events from the
 * start, so a window that reattaches rebuilds the sweep view and the counters from the same lines.
 * The runs themselves are ordinary run folders in the sweep folder, followed as any run.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendPreference } from '../shared/experiment';
import { isRecord } from '../shared/guards';
import { readRunSummary, type RunSummaryOnWire } from '../shared/protocol';
import { emptyCounts, localExecutor, runSweep, writeFileAtomic, type SweepCounts, type SweepEvent, type SweepPlan } from './sweep';
import { makeFolder } from './store';

/** Sub-folder of a sweep folder with its hosted sessions. */
export const SWEEP_HOST_DIR = 'host';
/** How often a host rewrites its heartbeat and looks for a cancel request. */
export const HEARTBEAT_MS = 1000;
/** A host on another machine whose heartbeat is older than this is taken for dead. */
export const HEARTBEAT_STALE_MS = 30_000;
/** A session whose host has not written its first heartbeat this long after its plan is taken for dead. */
export const START_GRACE_MS = 60_000;
/** A line longer than this is not a record (skipped). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** What the starter hands the host. */
export interface HostedSweepPlan {
  plan: SweepPlan;
  workers?: number;
  backend?: BackendPreference;
}

/** Who cancelled a hosted sweep (the `<id>.cancel.json`). */
export interface SweepCancelRequest {
  by: 'vscode' | 'signal' | 'cli';
  at: string;
  host: string;
  pid: number;
}

/** One line of `<id>.events.jsonl`. */
export type SweepHostRecord =
  | { kind: 'event'; event: SweepEvent }
  | { kind: 'done'; counts: SweepCounts; cancelled: boolean; error?: string; at: string };

/** The heartbeat file. */
export interface SweepHostBeat {
  pid: number;
  host: string;
  startedAt: string;
  heartbeatAt: string;
}

export interface SweepSessionFiles {
  dir: string;
  id: string;
  plan: string;
  events: string;
  beat: string;
  cancel: string;
  log: string;
}

/** The files of session `id` of the sweep in `sweepDir`. */
export function sessionFiles(sweepDir: string, id: string): SweepSessionFiles {
  if (!/^[A-Za-z0-9._-]{1,80}$/.test(id)) throw new Error(`not a sweep session id: ${JSON.stringify(id)}`);
  const dir = path.join(sweepDir, SWEEP_HOST_DIR);
  const at = (suffix: string): string => path.join(dir, `${id}${suffix}`);
  return { dir, id, plan: at('.plan.json'), events: at('.events.jsonl'), beat: at('.json'), cancel: at('.cancel.json'), log: at('.log') };
}

/** A new session id: sortable by time, unique per starter. */
export function newSessionId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Writes the plan of a new session (before its host starts); returns its files. */
export function writeSessionPlan(hosted: HostedSweepPlan, id = newSessionId()): SweepSessionFiles {
  const files = sessionFiles(hosted.plan.dir, id);
  makeFolder(hosted.plan.dir, 'sweep folder');
  makeFolder(files.dir, 'sweep host folder');
  writeFileAtomic(files.plan, JSON.stringify(hosted) + '\n');
  return files;
}

/** Reads a session's plan (what `gradflow sweep-host` is started with). */
export function readSessionPlan(file: string): HostedSweepPlan {
  const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!isRecord(v) || !isRecord(v.plan) || typeof v.plan.name !== 'string' || typeof v.plan.dir !== 'string' || !Array.isArray(v.plan.runs))
    throw new Error(`${file}: not a sweep host plan (expected {plan: {name, dir, runs}})`);
  for (const [i, r] of (v.plan.runs as unknown[]).entries()) {
    if (!isRecord(r) || typeof r.id !== 'string' || !isRecord(r.config) || !isRecord(r.point)) throw new Error(`${file}: run ${i} is not {id, config, point}`);
  }
  return v as unknown as HostedSweepPlan;
}

/** Asks the session's host to cancel (create-exclusive: the first request is the one kept). True when this call recorded it. */
export function requestSweepCancel(files: SweepSessionFiles, by: SweepCancelRequest['by']): boolean {
  const req: SweepCancelRequest = { by, at: new Date().toISOString(), host: os.hostname(), pid: process.pid };
  try {
    fs.writeFileSync(files.cancel, JSON.stringify(req) + '\n', { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

export function readSweepCancel(files: SweepSessionFiles): SweepCancelRequest | undefined {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(files.cancel, 'utf8'));
    if (isRecord(v) && (v.by === 'vscode' || v.by === 'signal' || v.by === 'cli') && typeof v.at === 'string')
      return { by: v.by, at: v.at, host: typeof v.host === 'string' ? v.host : '', pid: typeof v.pid === 'number' ? v.pid : 0 };
  } catch {
    /* absent, or being written */
  }
  return undefined;
}

function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readBeat(files: SweepSessionFiles): SweepHostBeat | undefined {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(files.beat, 'utf8'));
    if (isRecord(v) && typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.startedAt === 'string' && typeof v.heartbeatAt === 'string')
      return { pid: v.pid, host: v.host, startedAt: v.startedAt, heartbeatAt: v.heartbeatAt };
  } catch {
    /* absent or being replaced */
  }
  return undefined;
}

/** Whether the session's events end with `done`: the last non-empty line is looked at. */
function hasDone(files: SweepSessionFiles): boolean {
  let fd: number;
  try {
    fd = fs.openSync(files.events, 'r');
  } catch {
    return false;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const n = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, size - n);
    const lines = buf.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    const last = lines[lines.length - 1];
    return last !== undefined && /^\{"kind":"done"/.test(last);
  } finally {
    fs.closeSync(fd);
  }
}

export type SessionState = 'starting' | 'live' | 'ended' | 'dead';

/**
 * Where a session is: `ended` (its events end with `done`), `live` (its host runs: on this machine
 * its pid is alive; elsewhere its heartbeat is fresh), `starting` (a plan and no heartbeat yet, for
 * `START_GRACE_MS`), or `dead` (its host went without writing `done`).
 */
export function sessionState(files: SweepSessionFiles, now = Date.now()): SessionState {
  if (hasDone(files)) return 'ended';
  const beat = readBeat(files);
  if (beat === undefined) {
    let planAt: number;
    try {
      planAt = fs.statSync(files.plan).mtimeMs;
    } catch {
      return 'dead';
    }
    return now - planAt < START_GRACE_MS ? 'starting' : 'dead';
  }
  if (beat.host === os.hostname()) return pidAlive(beat.pid) ? 'live' : hasDone(files) ? 'ended' : 'dead';
  return now - Date.parse(beat.heartbeatAt) < HEARTBEAT_STALE_MS ? 'live' : 'dead';
}

/** The sessions of a sweep folder, oldest first (ids sort by time). */
export function listSessions(sweepDir: string): SweepSessionFiles[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(sweepDir, SWEEP_HOST_DIR));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.plan.json'))
    .map((n) => n.slice(0, -'.plan.json'.length))
    .filter((id) => /^[A-Za-z0-9._-]{1,80}$/.test(id))
    .sort()
    .map((id) => sessionFiles(sweepDir, id));
}

/** The sessions whose host is running (or about to), for a window that reattaches. */
export function liveSessions(sweepDir: string, now = Date.now()): SweepSessionFiles[] {
  return listSessions(sweepDir).filter((f) => {
    const s = sessionState(f, now);
    return s === 'live' || s === 'starting';
  });
}

/** A record read back from JSON: a summary's nulls (JSON's NaN) back to NaN. */
export function readHostRecord(v: unknown): SweepHostRecord | undefined {
  if (!isRecord(v)) return undefined;
  if (v.kind === 'done' && isRecord(v.counts) && typeof v.cancelled === 'boolean') {
    const counts = { ...emptyCounts(), ...(v.counts as Partial<SweepCounts>) };
    return { kind: 'done', counts, cancelled: v.cancelled, at: typeof v.at === 'string' ? v.at : '', ...(typeof v.error === 'string' ? { error: v.error } : {}) };
  }
  if (v.kind !== 'event' || !isRecord(v.event) || typeof v.event.type !== 'string') return undefined;
  const e = v.event as unknown as SweepEvent;
  if (e.type === 'end' && e.summary !== undefined) return { kind: 'event', event: { ...e, summary: readRunSummary(e.summary as unknown as RunSummaryOnWire) } };
  return { kind: 'event', event: e };
}

export interface HostSweepOptions {
  trainerPath: string;
  /** The session's files (its plan already written). */
  files: SweepSessionFiles;
  note?(line: string): void;
  heartbeatMs?: number;
}

/**
 * The host's work: run the plan with the local executor, append every event to the session's log,
 * keep the heartbeat, honour a cancel request (and SIGTERM / SIGINT, recorded as one), and end with
 * one `done` record. Resolves with the counts.
 */
export async function hostSweep(opts: HostSweepOptions): Promise<{ counts: SweepCounts; cancelled: boolean }> {
  const { files } = opts;
  const note = opts.note ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const hosted = readSessionPlan(files.plan);
  const startedAt = new Date().toISOString();
  const fd = fs.openSync(files.events, 'a');
  const append = (r: SweepHostRecord): void => {
    fs.writeSync(fd, JSON.stringify(r) + '\n');
  };
  const beat = (): void => {
    const b: SweepHostBeat = { pid: process.pid, host: os.hostname(), startedAt, heartbeatAt: new Date().toISOString() };
    try {
      writeFileAtomic(files.beat, JSON.stringify(b) + '\n');
    } catch (e) {
      note(`gradflow sweep-host: heartbeat not written: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  beat();
  let cancelled = false;
  let handle: ReturnType<typeof runSweep> | undefined;
  const cancel = (why: string): void => {
    if (cancelled) return;
    cancelled = true;
    append({ kind: 'event', event: { type: 'log', message: why } });
    handle?.stop();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    requestSweepCancel(files, 'signal');
    cancel(`cancelled by ${signal}: no more runs are started; running ones stop after their step`);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => undefined); // detached: a hang-up is not a request to stop
  const timer = setInterval(() => {
    beat();
    const req = readSweepCancel(files);
    if (req !== undefined) cancel(`cancelled (${req.by === 'vscode' ? 'Cancel in VS Code' : req.by}): no more runs are started; running ones stop after their step`);
  }, opts.heartbeatMs ?? HEARTBEAT_MS);
  try {
    const executor = localExecutor({
      trainerPath: opts.trainerPath,
      ...(hosted.workers !== undefined ? { workers: hosted.workers } : {}),
      ...(hosted.backend !== undefined ? { backend: hosted.backend } : {}),
      onStderr: (id, line) => note(`[${id}] ${line}`),
    });
    handle = runSweep(hosted.plan, executor, (event) => append({ kind: 'event', event }));
    // A cancel asked before the scheduler existed.
    if (readSweepCancel(files) !== undefined) cancel('cancelled before the first run: no runs are started');
    const counts = await handle.done;
    append({ kind: 'done', counts, cancelled, at: new Date().toISOString() });
    return { counts, cancelled };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    append({ kind: 'done', counts: emptyCounts(), cancelled, error, at: new Date().toISOString() });
    throw e;
  } finally {
    clearInterval(timer);
    beat();
    fs.closeSync(fd);
  }
}

export interface SweepHostEvents {
  record(r: SweepHostRecord): void;
  /** The host went without writing `done` (killed, machine restarted): called once, after the last record. */
  dead?(): void;
  error?(e: unknown): void;
}

/**
 * Follows a session's events from the first line: every record in order, until `done` (or the host
 * is found dead). Polls; `dispose` ends it (the host goes on).
 */
export class SweepSessionFollower {
  private offset = 0;
  private carry = '';
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;
  private lastState = 0;

  constructor(
    readonly files: SweepSessionFiles,
    private readonly events: SweepHostEvents,
    private readonly pollMs = 250,
    private readonly stateMs = 1000,
  ) {}

  start(): void {
    this.tick();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.disposed) return;
    try {
      if (this.readNew()) return;
      const now = Date.now();
      if (now - this.lastState >= this.stateMs) {
        this.lastState = now;
        if (sessionState(this.files, now) === 'dead') {
          // The last lines may have landed meanwhile.
          if (this.readNew()) return;
          this.disposed = true;
          this.events.dead?.();
          return;
        }
      }
    } catch (e) {
      this.events.error?.(e);
    }
    this.timer = setTimeout(() => this.tick(), this.pollMs);
  }

  /** Reads and emits the new complete lines; true once `done` was emitted (following ends). */
  private readNew(): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.files.events, 'r');
    } catch {
      return false;
    }
    let text = '';
    try {
      const buf = Buffer.alloc(1024 * 1024);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
        if (n === 0) break;
        this.offset += n;
        text += buf.subarray(0, n).toString('utf8');
      }
    } finally {
      fs.closeSync(fd);
    }
    if (text === '') return false;
    const lines = (this.carry + text).split('\n');
    this.carry = lines.pop() ?? '';
    if (this.carry.length > MAX_LINE_BYTES) this.carry = '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let r: SweepHostRecord | undefined;
      try {
        r = readHostRecord(JSON.parse(line));
      } catch {
        r = undefined;
      }
      if (r === undefined) continue;
      this.events.record(r);
      if (r.kind === 'done') {
        this.disposed = true;
        return true;
      }
    }
    return false;
  }
}

export interface StartSweepHostOptions {
  /** The node binary (the extension's runtime; Electron's own binary runs as Node). */
  nodePath: string;
  /** `dist/cli.js`. */
  cliPath: string;
  files: SweepSessionFiles;
  cwd: string;
  /** Extra environment (dataset cache, the runtime's variables). */
  env?: Record<string, string>;
}

/**
 * Starts `gradflow sweep-host` for a session whose plan is written: in its own session and process
 * group (`detached`), no IPC channel, stdout and stderr appended to the session's log file, not
 * waited for (`unref`). Returns its pid (undefined when it could not be spawned: the log says why).
 */
export function startSweepHost(opts: StartSweepHostOptions): number | undefined {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(opts.env ?? {}) };
  if (process.versions.electron !== undefined || /electron|code/i.test(path.basename(opts.nodePath))) env.ELECTRON_RUN_AS_NODE = '1';
  const log = fs.openSync(opts.files.log, 'a');
  try {
    const child = spawn(opts.nodePath, [opts.cliPath, 'sweep-host', opts.files.plan], { cwd: opts.cwd, env, detached: true, stdio: ['ignore', log, log] });
    child.on('error', (e) => {
      try {
        fs.appendFileSync(opts.files.log, `could not start the sweep host: ${e.message}\n`);
      } catch {
        /* the folder went away */
      }
    });
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(log);
  }
}
