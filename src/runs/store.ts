/**
 * Run folders: the one writer and the one reader (CLI `runs`, the extension's Runs view and past
 * runs, the sweep view and the report all read runs through `readRun`/`listRuns`).
 * Each run is a new folder `<runsDir>/<runId>/` holding:
 * - `run.json`     written once at start: id, name, source file, start time, host, pid;
 * - `config.json`  the resolved experiment, written once at start;
 * - `metrics.jsonl` the trainer's protocol messages, one JSON object per line, append-only, flushed
 *                  at least once a second (and on every epoch, alert, done or error);
 * - `summary.json` written once at the end (finished, stopped or failed);
 * - `heartbeat`    an empty file whose modification time the trainer refreshes every
 *                  HEARTBEAT_MS while it runs.
 * Nothing is ever overwritten: a run id is unique and its folder is created exclusively. A run with
 * no summary is `running` while its heartbeat is fresh, else `killed` (on the run's own host a dead
 * pid means killed at once; a live pid alone never means running: pids are reused).
 * A folder whose files cannot be read as a run is `corrupt`, with the reason, and still listed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BackendName, ExperimentConfig } from '../shared/experiment';
import * as os from 'node:os';
import { readRunSummary, readTrainerMessage, type RunSummary, type RunSummaryOnWire, type TrainerToHost } from '../shared/protocol';
import { GRADFLOW_VERSION } from '../shared/version';
import { divergedNets, statusOfSummary, type RunStatus } from './status';
import { isRecord } from '../shared/guards';

export type { RunStatus } from './status';

/** How often a live trainer refreshes its run's heartbeat. */
export const HEARTBEAT_MS = 5_000;
/**
 * A run without a summary whose heartbeat is older than this is `killed`. Generous against a busy
 * machine and against a shared filesystem's attribute cache (NFS caches mtimes for up to 60 s).
 * `GRADFLOW_RUN_STALE_S` overrides it.
 */
export function runStaleMs(): number {
  return envSecondsMs('GRADFLOW_RUN_STALE_S', 90_000);
}

/** A limit in milliseconds: the environment variable `name` (seconds, > 0) when set, else `fallbackMs`. */
export function envSecondsMs(name: string, fallbackMs: number): number {
  const env = Number(process.env[name]);
  return Number.isFinite(env) && env > 0 ? env * 1000 : fallbackMs;
}

export interface RunHeader {
  runId: string;
  name: string;
  sourceFile?: string;
  startedAt: string;
  pid: number;
  /** Host the trainer ran on (absent in runs made before hosts were recorded). */
  host?: string;
  /** Sweep run id (stable hash of the resolved config) when the run belongs to a sweep. */
  configId?: string;
  /** Gradflow version that made the run (absent in runs made before versions were recorded). */
  gradflowVersion?: string;
}

export interface RunRecord extends RunHeader {
  runDir: string;
  status: RunStatus;
  backend?: BackendName;
  endedAt?: string;
  /** Why it stopped, failed or is corrupt. */
  reason?: string;
  /** Nets that diverged (status `diverged`). */
  diverged?: string[];
}

const FLUSH_INTERVAL_MS = 500;

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'run';
}

/** `20261126-081500-fmnist-scsdc-a1b2`: sortable by start time, unique by the random suffix. */
export function newRunId(name: string, now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${slug(name)}-${randomBytes(2).toString('hex')}`;
}

/**
 * A write to a run folder failed (disk full, quota, I/O error, read-only remount). The message
 * names the cause, the file and the run folder: "no space left on device while writing
 * metrics.jsonl, run folder …".
 */
export class RunWriteError extends Error {
  override readonly name = 'RunWriteError';
  constructor(
    readonly code: string | undefined,
    readonly file: string,
    readonly runDir: string,
  ) {
    super(`${errnoWords(code)} while writing ${file}, run folder ${runDir}`);
  }
}

/**
 * Bytes set aside in each run folder (the file `.reserve`) while the run writes: when a write fails
 * for lack of space the reserve is deleted, which frees room for the error line and summary.json,
 * so a run that filled the disk still ends `failed` with its reason. Deleted when the run ends.
 */
export const RESERVE_BYTES = 64 * 1024;
const RESERVE_FILE = '.reserve';

/**
 * Writes one run folder. All writes are appends or create-exclusive. A write error never escapes
 * as an exception from the flush timer: the first one is kept in `failure` (the trainer ends the
 * run as failed with it), metrics.jsonl is cut back to its last complete line, and the writer
 * keeps trying later lines (the error line, the summary) in case room was freed.
 */
export class RunWriter {
  readonly runId: string;
  readonly runDir: string;
  private readonly fd: number;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly heartbeatFile: string;
  private lastBeat: number;
  /** Bytes of metrics.jsonl that are complete lines. */
  private committed = 0;
  private failed: RunWriteError | undefined;

  private constructor(runId: string, runDir: string) {
    this.runId = runId;
    this.runDir = runDir;
    this.fd = fs.openSync(path.join(runDir, 'metrics.jsonl'), 'ax');
    this.heartbeatFile = path.join(runDir, 'heartbeat');
    fs.closeSync(fs.openSync(this.heartbeatFile, 'wx'));
    this.lastBeat = Date.now();
    this.timer = setInterval(() => {
      this.flush();
      if (Date.now() - this.lastBeat >= HEARTBEAT_MS) this.beat();
    }, FLUSH_INTERVAL_MS);
    // The timer must not keep a finished trainer alive.
    this.timer.unref();
  }

  static create(runsDir: string, config: ExperimentConfig, opts: { sourceFile?: string; configId?: string } = {}): RunWriter {
    makeFolder(runsDir, 'runs folder');
    for (let attempt = 0; ; attempt++) {
      const runId = newRunId(config.name);
      const runDir = path.join(runsDir, runId);
      try {
        fs.mkdirSync(runDir); // exclusive: fails if it exists
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' && attempt < 20) continue;
        if (code === 'EEXIST') throw e;
        throw new Error(`cannot create the run folder ${runDir}: ${errnoWords(code)}`);
      }
      const header: RunHeader = {
        runId,
        name: config.name,
        startedAt: new Date().toISOString(),
        pid: process.pid,
        host: os.hostname(),
        gradflowVersion: GRADFLOW_VERSION,
        ...(opts.sourceFile !== undefined ? { sourceFile: opts.sourceFile } : {}),
        ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
      };
      let file = RESERVE_FILE;
      try {
        fs.writeFileSync(path.join(runDir, RESERVE_FILE), Buffer.alloc(RESERVE_BYTES), { flag: 'wx' });
        file = 'run.json';
        writeExclusive(path.join(runDir, 'run.json'), header);
        file = 'config.json';
        writeExclusive(path.join(runDir, 'config.json'), config);
        file = 'metrics.jsonl';
        return new RunWriter(runId, runDir);
      } catch (e) {
        // Nothing was measured yet: a half-made folder would only be listed as corrupt.
        fs.rmSync(runDir, { recursive: true, force: true });
        throw new RunWriteError((e as NodeJS.ErrnoException).code, file, runDir);
      }
    }
  }

  /** The first write error of this run, if any (the trainer ends the run as failed with it). */
  get failure(): RunWriteError | undefined {
    return this.failed;
  }

  /** Queue one protocol message; important messages flush immediately. Never throws. */
  append(msg: TrainerToHost): void {
    if (this.closed) return;
    this.pending.push(JSON.stringify(msg));
    if (msg.type !== 'step' && msg.type !== 'log') this.flush();
  }

  /** Refresh the heartbeat (the file's mtime); a failure to do so is not worth a run. */
  beat(): void {
    this.lastBeat = Date.now();
    try {
      const now = new Date();
      fs.utimesSync(this.heartbeatFile, now, now);
    } catch {
      /* the folder went away or the disk is full: the reader will call the run killed */
    }
  }

  /**
   * Write the queued lines. Never throws: on a write error the lines of this batch that were
   * written whole are kept, a partial line is cut off (ftruncate to the last newline), and the
   * error is kept in `failure`.
   */
  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    const buf = Buffer.from(this.pending.join('\n') + '\n', 'utf8');
    this.pending = [];
    let written = 0;
    try {
      // writeSync may write fewer bytes than asked (a disk filling up): loop until all or an error.
      while (written < buf.length) written += fs.writeSync(this.fd, buf, written, buf.length - written, this.committed + written);
      this.committed += written;
    } catch (e) {
      const lastNewline = buf.subarray(0, written).lastIndexOf(0x0a);
      this.committed += lastNewline + 1; // 0 when no line of the batch was written whole
      this.fail(e, 'metrics.jsonl');
      try {
        fs.ftruncateSync(this.fd, this.committed);
      } catch {
        /* the last complete line is still known: readers stop at a torn last line and say so */
      }
    }
  }

  private fail(e: unknown, file: string): void {
    this.failed ??= new RunWriteError((e as NodeJS.ErrnoException).code, file, this.runDir);
    // Room for the error line and the summary.
    this.dropReserve();
  }

  private dropReserve(): void {
    try {
      fs.rmSync(path.join(this.runDir, RESERVE_FILE), { force: true });
    } catch {
      /* nothing more to free */
    }
  }

  /**
   * Write the summary (once) and close the log. Throws `RunWriteError` when summary.json cannot be
   * written (a partial one is removed: the run then reads as killed, its log says why).
   */
  finish(summary: RunSummary): void {
    this.flush();
    this.dropReserve();
    const file = path.join(this.runDir, 'summary.json');
    try {
      writeExclusive(file, summary);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') fs.rmSync(file, { force: true });
      this.close();
      throw new RunWriteError((e as NodeJS.ErrnoException).code, 'summary.json', this.runDir);
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.dropReserve();
    fs.closeSync(this.fd);
  }
}

/** What an errno code means, in words for a message. */
export function errnoWords(code: string | undefined): string {
  switch (code) {
    case 'EROFS':
      return 'read-only file system';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'EIO':
      return 'input/output error';
    case 'EFBIG':
      return 'file too large for the file system';
    default:
      return code ?? 'unknown error';
  }
}

/** How to get runs written elsewhere. */
const RUNS_DIR_FIX = 'set run.runs_dir (or the gradflow.runsDir setting) to a writable folder';

/**
 * `mkdir -p` with a clear error: the folder, what it is for, and the cause. Node reports a
 * read-only file system as `ENOENT` for recursive mkdir, so the cause is found by asking the
 * nearest existing parent whether it can be written.
 */
export function makeFolder(dir: string, what: string, fix = RUNS_DIR_FIX): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    let existing = path.resolve(dir);
    while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
    let cause = code;
    if (code === 'ENOENT' || code === undefined) {
      try {
        fs.accessSync(existing, fs.constants.W_OK);
      } catch (a) {
        cause = (a as NodeJS.ErrnoException).code ?? cause;
      }
    }
    const where = existing !== path.resolve(dir) ? ` (${existing} cannot be written)` : '';
    throw new Error(`cannot create the ${what} ${dir}: ${errnoWords(cause)}${cause === 'EROFS' || cause === 'EACCES' || cause === 'EPERM' ? where : ''}${fix !== '' ? `; ${fix}` : ''}`);
  }
}

function writeExclusive(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n', { flag: 'wx' });
}

type JsonRead = { ok: true; value: unknown } | { ok: false; missing: boolean; reason: string };

function readJsonFile(file: string): JsonRead {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, missing: code === 'ENOENT' || code === 'ENOTDIR', reason: `${path.basename(file)}: cannot read (${code ?? (e as Error).message})` };
  }
  if (text.trim() === '') return { ok: false, missing: false, reason: `${path.basename(file)} is empty` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, missing: false, reason: `${path.basename(file)} is cut or not JSON (${(e as Error).message})` };
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Milliseconds since the file was last modified, or undefined when it does not exist. */
function ageMs(file: string): number | undefined {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

export interface MetricsLog {
  messages: TrainerToHost[];
  /** Lines that were not a trainer message (a partial last line of a killed trainer, damage). */
  skipped: number;
  /** 1-based number of the first skipped line. */
  firstSkippedLine?: number;
}

/**
 * Parse a run's metrics log. A line that is not a trainer message (a partial last line left by a
 * killed trainer, or damage in the middle) is skipped and counted; the rest is kept.
 */
export function readMetricsLog(runDir: string): MetricsLog {
  let text: string;
  try {
    text = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');
  } catch {
    return { messages: [], skipped: 0 };
  }
  const lines = text.split('\n');
  const messages: TrainerToHost[] = [];
  let skipped = 0;
  let firstSkippedLine: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    const message = readTrainerMessage(value); // null (JSON's NaN) decoded back to NaN
    if (message !== undefined) messages.push(message);
    else {
      skipped++;
      firstSkippedLine ??= i + 1;
    }
  }
  return { messages, skipped, ...(firstSkippedLine !== undefined ? { firstSkippedLine } : {}) };
}

/** The trainer messages of a run's log (unreadable lines skipped; `readMetricsLog` counts them). */
export function readMetrics(runDir: string): TrainerToHost[] {
  return readMetricsLog(runDir).messages;
}

/** The last `n` log and error lines of a run's log, oldest first (for a failed run's report). */
export function logTail(runDir: string, n = 20): string[] {
  const out: string[] = [];
  for (const m of readMetrics(runDir)) {
    if (m.type === 'log') out.push(`${m.level === 'info' ? '' : `${m.level}: `}${m.message}`);
    else if (m.type === 'error') out.push(`error: ${m.message}`);
  }
  return out.slice(-n);
}

const HEADER_FIELDS: ReadonlyArray<[keyof RunHeader, 'string' | 'number', boolean]> = [
  ['runId', 'string', true],
  ['name', 'string', true],
  ['startedAt', 'string', true],
  ['pid', 'number', true],
  ['host', 'string', false],
  ['sourceFile', 'string', false],
  ['configId', 'string', false],
  ['gradflowVersion', 'string', false],
];

/** Check run.json field by field; returns the header and what is wrong with it. */
function checkHeader(raw: unknown, runDir: string): { header: RunHeader; problems: string[] } {
  const problems: string[] = [];
  const folder = path.basename(runDir);
  let startedAt = '';
  try {
    startedAt = fs.statSync(runDir).mtime.toISOString();
  } catch {
    /* keep '' */
  }
  const fallback: RunHeader = { runId: folder, name: folder, startedAt, pid: 0 };
  if (!isRecord(raw)) return { header: fallback, problems: ['run.json is not an object'] };
  const out: Record<string, unknown> = { ...fallback };
  for (const [key, type, required] of HEADER_FIELDS) {
    const v = raw[key];
    if (v === undefined) {
      if (required) problems.push(`run.json has no ${key}`);
      continue;
    }
    if (typeof v !== type || (type === 'string' && v === '')) {
      problems.push(`run.json ${key} is not a ${type === 'string' ? 'non-empty string' : type} (found ${JSON.stringify(v)?.slice(0, 40)})`);
      continue;
    }
    out[key] = v;
  }
  return { header: out as unknown as RunHeader, problems };
}

/** Check the summary fields the status and the lists use; returns what is wrong. */
function checkSummary(raw: unknown): string[] {
  if (!isRecord(raw)) return ['summary.json is not an object'];
  const problems: string[] = [];
  for (const k of ['finished', 'stopped'] as const) if (typeof raw[k] !== 'boolean') problems.push(`summary.json ${k} is not true/false (found ${JSON.stringify(raw[k])?.slice(0, 40)})`);
  if (!Array.isArray(raw.nets)) problems.push('summary.json nets is not a list');
  else if (!raw.nets.every((n) => isRecord(n) && typeof n.net === 'string' && (n.diverged === undefined || isRecord(n.diverged))))
    problems.push('summary.json nets has an entry without a net name');
  if (raw.endedAt !== undefined && typeof raw.endedAt !== 'string') problems.push('summary.json endedAt is not a string');
  if (raw.reason !== undefined && typeof raw.reason !== 'string') problems.push('summary.json reason is not a string');
  if (raw.backend !== undefined && typeof raw.backend !== 'string') problems.push('summary.json backend is not a string');
  return problems;
}

/**
 * Read one run folder. Undefined when it is not a run folder (no run.json); otherwise a record,
 * `corrupt` (with the reason) when its files cannot be trusted. Never throws.
 */
export function readRun(runDir: string): RunRecord | undefined {
  const head = readJsonFile(path.join(runDir, 'run.json'));
  if (!head.ok && head.missing) return undefined;
  const { header, problems } = head.ok ? checkHeader(head.value, runDir) : checkHeader({}, runDir);
  if (!head.ok) problems.splice(0, problems.length, head.reason);
  const sum = readJsonFile(path.join(runDir, 'summary.json'));
  let status: RunStatus;
  let summary: RunSummary | undefined;
  if (sum.ok) {
    problems.push(...checkSummary(sum.value));
    if (problems.length === 0) summary = readRunSummary(sum.value as RunSummaryOnWire); // nulls (JSON's NaN) back to NaN
  } else if (!sum.missing) problems.push(sum.reason);
  let reason: string | undefined;
  if (problems.length > 0) {
    status = 'corrupt';
    reason = problems.join('; ');
  } else if (summary) {
    status = statusOfSummary(summary);
    reason = summary.reason;
  } else {
    status = liveness(runDir, header);
  }
  let backend: BackendName | undefined = summary?.backend;
  if (!backend) {
    // The `ready` message names the backend (the first lines of the log).
    const first = readFirstLine(path.join(runDir, 'metrics.jsonl'));
    if (first) {
      try {
        const m = JSON.parse(first) as unknown;
        if (isRecord(m) && m.type === 'ready' && typeof m.backend === 'string') backend = m.backend as BackendName;
      } catch {
        /* partial first line: no backend known */
      }
    }
  }
  const diverged = summary ? divergedNets(summary) : [];
  return {
    ...header,
    runDir,
    status,
    ...(backend ? { backend } : {}),
    ...(summary && typeof summary.endedAt === 'string' ? { endedAt: summary.endedAt } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(diverged.length > 0 ? { diverged } : {}),
  };
}

/** A run without a summary: running while its heartbeat is fresh and (on this host) its pid lives. */
function liveness(runDir: string, header: RunHeader): 'running' | 'killed' {
  const beat = ageMs(path.join(runDir, 'heartbeat'));
  const sameHost = header.host === undefined || header.host === os.hostname();
  if (beat === undefined) {
    // A run made before heartbeats: the pid is all there is.
    return sameHost && header.pid > 0 && pidAlive(header.pid) ? 'running' : 'killed';
  }
  if (beat > runStaleMs()) return 'killed';
  if (sameHost && !(header.pid > 0 && pidAlive(header.pid))) return 'killed';
  return 'running';
}

function readFirstLine(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const s = buf.subarray(0, n).toString('utf8');
    const nl = s.indexOf('\n');
    return nl >= 0 ? s.slice(0, nl) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Runs under a folder, newest first. */
export function listRuns(runsDir: string): RunRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(runsDir);
  } catch {
    return [];
  }
  const runs: RunRecord[] = [];
  for (const n of names) {
    const r = readRun(path.join(runsDir, n));
    if (r) runs.push(r);
  }
  return runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
}

/** A run's summary when it is readable and well-formed (see `readRun` for why it is not). */
export function readSummary(runDir: string): RunSummary | undefined {
  const r = readJsonFile(path.join(runDir, 'summary.json'));
  return r.ok && checkSummary(r.value).length === 0 ? readRunSummary(r.value as RunSummaryOnWire) : undefined;
}
