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
 *                  HEARTBEAT_MS while it runs;
 * - `stop-request.json` the one file a host may write into the folder, create-exclusive (the first
 *                  request wins): who or what asked the run to stop (`requestStop`). The run's host
 *                  (the extension's supervisor, `gradflow run`) watches for it and stops the trainer;
 *                  readers fold it into a `stopped` run's reason.
 * Nothing is ever overwritten: a run id is unique and its folder is created exclusively. A run with
 * no summary is `running` while its heartbeat is fresh, else `killed` (on the run's own host a dead
 * pid means killed at once; a live pid alone never means running: pids are reused). The rule is
 * `statusWithoutSummary` in status.ts.
 * A folder whose files cannot be read as a run is `corrupt`, with the reason, and still listed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ExperimentConfig } from '../shared/experiment';
import * as os from 'node:os';
import { isTrainerMessage, readRunSummary, readTrainerMessage, type RunBackend, type RunSummary, type RunSummaryOnWire, type TrainerToHost } from '../shared/protocol';
import { GRADFLOW_VERSION } from '../shared/version';
import { divergedNets, isStopSource, statusOfSummary, statusWithoutSummary, stopSourceText, stoppedReason, type RunStatus, type StopRequest } from './status';
import { isRecord } from '../shared/guards';
import { grouped } from '../config/limits';
import { humanBytes, MAX_RUN_JSON_BYTES, readBoundedText, BoundedReadError } from '../shared/bounded-read';
import { at } from '../shared/checked';

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
  /**
   * Id of the launch that started the trainer (`GRADFLOW_LAUNCH_ID` in its environment): the
   * extension tells its own runs from runs it should follow by it.
   */
  launchId?: string;
}

export interface RunRecord extends RunHeader {
  runDir: string;
  status: RunStatus;
  backend?: RunBackend;
  endedAt?: string;
  /** Why it stopped, failed or is corrupt. */
  reason?: string;
  /** Nets that diverged (status `diverged`). */
  diverged?: string[];
  /** Status `stopped`: who or what asked (`Stop in VS Code`, `Ctrl-C in the terminal`, `Slurm CANCELLED`), when recorded. */
  stoppedBy?: string;
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
      const launchId = launchIdOf(process.env);
      const header: RunHeader = {
        runId,
        name: config.name,
        startedAt: new Date().toISOString(),
        pid: process.pid,
        host: os.hostname(),
        gradflowVersion: GRADFLOW_VERSION,
        ...(opts.sourceFile !== undefined ? { sourceFile: opts.sourceFile } : {}),
        ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
        ...(launchId !== undefined ? { launchId } : {}),
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
      // `diverged` is written for every net (null: it never hit NaN/Inf), so readers need not guess.
      writeExclusive(file, { ...summary, nets: summary.nets.map((n) => ({ ...n, diverged: n.diverged ?? null })) });
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

let tmpCounter = 0;

/**
 * Create `file` holding `value` as JSON, never replacing one that exists (throws EEXIST) and never
 * seen half-written: a reader polling the folder (the Runs view, a window following the run) would
 * otherwise find an empty summary.json between its creation and its write, and call the run
 * corrupt. The text goes to a temporary file beside it, which is hard-linked into place (atomic, and
 * refused when the name exists); where the file system has no hard links, an exclusive create.
 */
function writeExclusive(file: string, value: unknown): void {
  const text = JSON.stringify(value, null, 2) + '\n';
  const tmp = `${file}.${os.hostname()}.${process.pid}.${tmpCounter++}.tmp`;
  try {
    fs.writeFileSync(tmp, text, { flag: 'wx' });
    try {
      fs.linkSync(tmp, file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
      fs.writeFileSync(file, text, { flag: 'wx' });
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

type JsonRead = { ok: true; value: unknown } | { ok: false; missing: boolean; reason: string };

function readJsonFile(file: string): JsonRead {
  let text: string;
  const name = path.basename(file);
  try {
    text = readBoundedText(file, { maxBytes: MAX_RUN_JSON_BYTES, what: name, why: 'a real one is a few kB' });
  } catch (e) {
    if (!(e instanceof BoundedReadError)) throw e;
    if (e.problem === 'missing') return { ok: false, missing: true, reason: `${name}: missing` };
    if (e.problem === 'too-large') return { ok: false, missing: false, reason: `${name} is ${humanBytes(e.size ?? 0)}, more than the ${humanBytes(MAX_RUN_JSON_BYTES)} a run file may have: not read` };
    return { ok: false, missing: false, reason: `${name}: cannot read (${e.problem === 'not-a-file' ? 'not a regular file' : (e.code ?? e.message)})` };
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

/**
 * Bounds of a metrics log as read (docs/limits.md). The file itself has no size limit (a long run
 * writes what it measures); it is read line by line in chunks of `LOG_CHUNK_BYTES`, and what is
 * kept in memory is bounded: per net a decimated series of at most `LOG_KEEP_STEPS` steps (every
 * k-th, k doubling as the log grows) plus the last `LOG_KEEP_LAST_STEPS` steps, and at most
 * `LOG_KEEP_OTHER` other messages (epochs, flow points, alerts, logs, …; a real run has a few
 * thousand). A line longer than `MAX_METRICS_LINE_BYTES` is skipped without being held whole.
 */
export const LOG_CHUNK_BYTES = 1024 * 1024;
export const MAX_METRICS_LINE_BYTES = 4 * 1024 * 1024;
export const LOG_KEEP_STEPS = 20_000;
export const LOG_KEEP_LAST_STEPS = 2_000;
export const LOG_KEEP_OTHER = 200_000;

export interface MetricsLog {
  /** The messages kept, in file order (all of them unless `omittedSteps`/`omittedOther` say otherwise). */
  messages: TrainerToHost[];
  /** Lines that were not a trainer message (damage, a line past MAX_METRICS_LINE_BYTES, a torn last line). */
  skipped: number;
  /** 1-based number of the first skipped line. */
  firstSkippedLine?: number;
  /** The file does not end with a newline: its last line is partial (a trainer killed mid-write); counted in `skipped`. */
  tornLastLine: boolean;
  /** Lines read (non-empty) and bytes read. */
  lines: number;
  bytes: number;
  /** Step messages left out to bound memory (a decimated series and the last steps are kept). */
  omittedSteps: number;
  /** Other messages left out past LOG_KEEP_OTHER. */
  omittedOther: number;
  /** Keep every `stepStride`-th step of each net (1: all), besides the last LOG_KEEP_LAST_STEPS. */
  stepStride: number;
}

/** Bounds for one read (tests use small ones; defaults above). */
export interface LogBounds {
  keepSteps?: number;
  keepLastSteps?: number;
  keepOther?: number;
  maxLineBytes?: number;
}

/**
 * One net's steps: every `stride`-th (stride doubling when full) and the last few, with their order
 * in the file. Steps are kept as their line's text (one string each) and parsed and decoded again
 * only at the end: most steps of a huge log are dropped, and decoding each (NaN from null, a deep
 * copy) or keeping its object graph alive (garbage-collector work) cost more than the parse itself.
 */
class StepKeeper {
  stride = 1;
  private seen = 0;
  private sampled: Array<[number, string, number]> = []; // [order, line, index among this net's steps]
  private last: Array<[number, string]> = [];
  private lastStart = 0;

  constructor(
    private readonly keep: number,
    private readonly keepLast: number,
  ) {}

  add(order: number, text: string): void {
    const i = this.seen++;
    if (i % this.stride === 0) {
      this.sampled.push([order, text, i]);
      if (this.sampled.length > this.keep) {
        this.stride *= 2;
        this.sampled = this.sampled.filter(([, , k]) => k % this.stride === 0);
      }
    }
    if (this.keepLast === 0) return;
    // A ring of the last steps (compacted when it doubles, so adding stays O(1) amortised).
    this.last.push([order, text]);
    if (this.last.length - this.lastStart > this.keepLast) this.lastStart++;
    if (this.lastStart > this.keepLast) {
      this.last = this.last.slice(this.lastStart);
      this.lastStart = 0;
    }
  }

  kept(): Array<[number, TrainerToHost]> {
    const byOrder = new Map<number, string>();
    for (const [o, t] of this.sampled) byOrder.set(o, t);
    for (let k = this.lastStart; k < this.last.length; k++) byOrder.set(at(this.last, k)[0], at(this.last, k)[1]);
    const out: Array<[number, TrainerToHost]> = [];
    for (const [o, t] of byOrder) {
      const m = readTrainerMessage(JSON.parse(t)); // checked when the line was read: never undefined here
      if (m !== undefined) out.push([o, m]);
    }
    return out;
  }

  get total(): number {
    return this.seen;
  }
}

/**
 * Parses a metrics log fed in chunks of bytes (any split), keeping bounded memory. Used by the
 * synchronous and the asynchronous reader alike.
 */
export class MetricsLogParser {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private discarding = false;
  private lineNo = 0;
  private order = 0;
  private lines = 0;
  private bytes = 0;
  private skipped = 0;
  private firstSkippedLine: number | undefined;
  private readonly steps = new Map<string, StepKeeper>();
  private other: Array<[number, TrainerToHost]> = [];
  private omittedOther = 0;
  private readonly keepSteps: number;
  private readonly keepLastSteps: number;
  private readonly keepOther: number;
  private readonly maxLineBytes: number;

  constructor(bounds: LogBounds = {}) {
    this.keepSteps = bounds.keepSteps ?? LOG_KEEP_STEPS;
    this.keepLastSteps = bounds.keepLastSteps ?? LOG_KEEP_LAST_STEPS;
    this.keepOther = bounds.keepOther ?? LOG_KEEP_OTHER;
    this.maxLineBytes = bounds.maxLineBytes ?? MAX_METRICS_LINE_BYTES;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      if (this.carryBytes === 0 && !this.discarding && nl - start <= this.maxLineBytes) this.endLine(chunk.subarray(start, nl));
      else {
        this.takePart(chunk.subarray(start, nl));
        this.endLine();
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.takePart(chunk.subarray(start));
  }

  /** The log read so far; `eof`: the rest of the file (a line without its newline) is a torn last line. */
  end(): MetricsLog {
    let torn = false;
    if (this.carryBytes > 0 || this.discarding) {
      // A last line without its newline: kept when it is a whole message (only the newline is
      // missing), else it is the partial line of a trainer stopped mid-write.
      const rest = Buffer.concat(this.carry).toString('utf8');
      const whole = !this.discarding && readTrainerMessage(parseOrUndefined(rest)) !== undefined;
      if (whole) this.endLine();
      else {
        if (this.discarding || rest.trim() !== '') {
          torn = true;
          this.lineNo++;
          this.lines++;
          this.skip();
        }
        this.carry = [];
        this.carryBytes = 0;
        this.discarding = false;
      }
    }
    const kept: Array<[number, TrainerToHost]> = [...this.other];
    let stepTotal = 0;
    let stride = 1;
    for (const k of this.steps.values()) {
      kept.push(...k.kept());
      stepTotal += k.total;
      stride = Math.max(stride, k.stride);
    }
    kept.sort((x, y) => x[0] - y[0]);
    const stepsKept = kept.length - this.other.length;
    return {
      messages: kept.map(([, m]) => m),
      skipped: this.skipped,
      ...(this.firstSkippedLine !== undefined ? { firstSkippedLine: this.firstSkippedLine } : {}),
      tornLastLine: torn,
      lines: this.lines,
      bytes: this.bytes,
      omittedSteps: stepTotal - stepsKept,
      omittedOther: this.omittedOther,
      stepStride: stride,
    };
  }

  private takePart(part: Buffer): void {
    if (this.discarding || part.length === 0) return;
    if (this.carryBytes + part.length > this.maxLineBytes) {
      // Too long to be a trainer message: drop it as it streams by, count it at its end.
      this.discarding = true;
      this.carry = [];
      this.carryBytes = 0;
      return;
    }
    // Copied: the chunk's buffer is reused by the reader.
    this.carry.push(Buffer.from(part));
    this.carryBytes += part.length;
  }

  /** A line ends: `whole` is the line when it lay in one chunk, else the carried parts are. */
  private endLine(whole?: Buffer): void {
    this.lineNo++;
    if (this.discarding) {
      this.discarding = false;
      this.lines++;
      this.skip();
      return;
    }
    const text = whole !== undefined ? whole.toString('utf8') : this.carry.length === 1 ? at(this.carry, 0).toString('utf8') : Buffer.concat(this.carry).toString('utf8');
    this.carry = [];
    this.carryBytes = 0;
    if (text.trim() === '') return;
    this.lines++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!isTrainerMessage(value)) {
      this.skip();
      return;
    }
    const order = this.order++;
    if (value.type === 'step') {
      let k = this.steps.get(value.metrics.net);
      if (!k) {
        k = new StepKeeper(this.keepSteps, this.keepLastSteps);
        this.steps.set(value.metrics.net, k);
      }
      k.add(order, text);
      return;
    }
    const message = readTrainerMessage(value); // null (JSON's NaN) decoded back to NaN
    if (message === undefined) {
      this.skip();
      return;
    }
    if (this.other.length < this.keepOther || message.type === 'done' || message.type === 'error' || message.type === 'ready') {
      this.other.push([order, message]);
    } else this.omittedOther++;
  }

  private skip(): void {
    this.skipped++;
    this.firstSkippedLine ??= this.lineNo;
  }
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function emptyLog(): MetricsLog {
  return { messages: [], skipped: 0, tornLastLine: false, lines: 0, bytes: 0, omittedSteps: 0, omittedOther: 0, stepStride: 1 };
}

/**
 * Read a run's metrics log line by line with bounded memory (see `LOG_KEEP_STEPS`). A line that is
 * not a trainer message (a partial last line left by a killed trainer, or damage in the middle) is
 * skipped and counted; what was left out to bound memory is counted too. A missing log is empty.
 */
export function readMetricsLog(runDir: string, bounds: LogBounds = {}): MetricsLog {
  let fd: number;
  try {
    fd = fs.openSync(path.join(runDir, 'metrics.jsonl'), fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch {
    return emptyLog();
  }
  const parser = new MetricsLogParser(bounds);
  try {
    if (!fs.fstatSync(fd).isFile()) return emptyLog();
    const buf = Buffer.alloc(LOG_CHUNK_BYTES);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      parser.push(buf.subarray(0, n));
    }
  } catch {
    /* an I/O error part-way: what was read is kept */
  } finally {
    fs.closeSync(fd);
  }
  return parser.end();
}

/**
 * `readMetricsLog` without blocking the event loop between chunks, reporting progress
 * (`onProgress(bytesRead, totalBytes)`) for a log a user waits on; `cancelled()` stops early (what
 * was read is returned).
 */
export async function readMetricsLogAsync(
  runDir: string,
  opts: LogBounds & { onProgress?: (read: number, total: number) => void; cancelled?: () => boolean } = {},
): Promise<MetricsLog> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(path.join(runDir, 'metrics.jsonl'), fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch {
    return emptyLog();
  }
  const parser = new MetricsLogParser(opts);
  try {
    const st = await handle.stat();
    if (!st.isFile()) return emptyLog();
    const buf = Buffer.alloc(LOG_CHUNK_BYTES);
    let read = 0;
    for (;;) {
      if (opts.cancelled?.() === true) break;
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      read += bytesRead;
      parser.push(buf.subarray(0, bytesRead));
      opts.onProgress?.(read, st.size);
    }
  } catch {
    /* an I/O error part-way: what was read is kept */
  } finally {
    await handle.close();
  }
  return parser.end();
}

/** What a log read left out, in one sentence for a status line or a report; undefined when nothing. */
export function logOmissions(log: MetricsLog): string | undefined {
  const parts: string[] = [];
  if (log.skipped > 0) {
    const torn = log.tornLastLine ? (log.skipped === 1 ? ' (the last line is partial: the trainer stopped mid-write)' : '; the last line is partial') : '';
    parts.push(`${log.skipped} unreadable line(s) in metrics.jsonl skipped (first: line ${log.firstSkippedLine ?? '?'})${torn}`);
  }
  if (log.omittedSteps > 0) {
    parts.push(`a large log (${grouped(log.lines)} lines, ${humanBytes(log.bytes)}): the charts show one step in ${log.stepStride} and the last steps in full; ${grouped(log.omittedSteps)} steps left out`);
  }
  if (log.omittedOther > 0) parts.push(`${log.omittedOther} epoch/flow/log message(s) past the first ${LOG_KEEP_OTHER} left out`);
  return parts.length > 0 ? parts.join('; ') : undefined;
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
  ['launchId', 'string', false],
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
  else if (!raw.nets.every((n) => isRecord(n) && typeof n.net === 'string' && (n.diverged === undefined || n.diverged === null || isRecord(n.diverged))))
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
  return readRunFolder(runDir, true);
}

function readRunFolder(runDir: string, again: boolean): RunRecord | undefined {
  const head = readJsonFile(path.join(runDir, 'run.json'));
  if (!head.ok && head.missing) {
    // A folder with a run's other files but no run.json is a damaged run, listed with the reason.
    const files = ['config.json', 'metrics.jsonl', 'summary.json'].filter((f) => fs.existsSync(path.join(runDir, f)));
    if (files.length === 0) return undefined;
    // A run being created writes run.json before its other files (RunWriter.create), so run.json
    // can appear between the read above and this listing: then the run is being made, not damaged.
    if (again && fs.existsSync(path.join(runDir, 'run.json'))) return readRunFolder(runDir, false);
    const { header } = checkHeader({}, runDir);
    return { ...header, runDir, status: 'corrupt', reason: `run.json is missing (the folder has ${files.join(', ')})` };
  }
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
  let stopRequest: StopRequest | undefined;
  if (problems.length > 0) {
    status = 'corrupt';
    reason = problems.join('; ');
  } else if (summary) {
    status = statusOfSummary(summary);
    reason = summary.reason;
    if (status === 'stopped') {
      stopRequest = readStopRequest(runDir);
      reason = stoppedReason(summary.reason, stopRequest);
    }
  } else {
    status = liveness(runDir, header);
  }
  let backend: RunBackend | undefined = summary?.backend;
  if (!backend) {
    // The `ready` message names the backend (the first lines of the log).
    const first = readFirstLine(path.join(runDir, 'metrics.jsonl'));
    if (first) {
      try {
        const m = JSON.parse(first) as unknown;
        if (isRecord(m) && m.type === 'ready' && typeof m.backend === 'string') backend = m.backend as RunBackend;
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
    ...(stopRequest !== undefined ? { stoppedBy: stopSourceText(stopRequest) } : {}),
  };
}

/** A run without a summary: running while its heartbeat is fresh and (on this host) its pid lives (status.ts). */
function liveness(runDir: string, header: RunHeader): 'running' | 'killed' {
  const sameHost = header.host === undefined || header.host === os.hostname();
  return statusWithoutSummary({
    heartbeatAgeMs: ageMs(path.join(runDir, 'heartbeat')),
    sameHost,
    pidAlive: sameHost && header.pid > 0 && pidAlive(header.pid),
    staleMs: runStaleMs(),
  });
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

/** The launch id a host gives its trainer (`GRADFLOW_LAUNCH_ID`), recorded in run.json. */
export const LAUNCH_ID_ENV = 'GRADFLOW_LAUNCH_ID';

function launchIdOf(env: NodeJS.ProcessEnv): string | undefined {
  const v = env[LAUNCH_ID_ENV];
  return v !== undefined && /^[A-Za-z0-9._-]{1,64}$/.test(v) ? v : undefined;
}

/** The file of a run folder that records who asked the run to stop. */
export const STOP_REQUEST_FILE = 'stop-request.json';

/**
 * Ask a run to stop by recording who asks in its folder (create-exclusive: the first request is the
 * one kept). The run's host (the extension's supervisor, `gradflow run`) sees it within
 * `STOP_POLL_MS` and stops the trainer after its current step. True when this call recorded the
 * request, false when one was there already. Throws `RunWriteError` when the folder cannot be written.
 */
export function requestStop(runDir: string, request: Omit<StopRequest, 'at' | 'host' | 'pid'> & Partial<Pick<StopRequest, 'at'>>): boolean {
  const record: StopRequest = { at: new Date().toISOString(), host: os.hostname(), pid: process.pid, ...request };
  try {
    writeExclusive(path.join(runDir, STOP_REQUEST_FILE), record);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw new RunWriteError(code, STOP_REQUEST_FILE, runDir);
  }
}

/** The stop request recorded in a run folder, if any (a malformed one reads as none). */
export function readStopRequest(runDir: string): StopRequest | undefined {
  const r = readJsonFile(path.join(runDir, STOP_REQUEST_FILE));
  if (!r.ok || !isRecord(r.value)) return undefined;
  const v = r.value;
  if (!isStopSource(v.by) || typeof v.at !== 'string') return undefined;
  return {
    by: v.by,
    at: v.at,
    ...(typeof v.detail === 'string' && v.detail !== '' ? { detail: v.detail.slice(0, 200) } : {}),
    ...(typeof v.host === 'string' ? { host: v.host } : {}),
    ...(typeof v.pid === 'number' ? { pid: v.pid } : {}),
  };
}

/** How often a run's host looks for a stop request. */
export const STOP_POLL_MS = 250;

/**
 * Call `onRequest` once when a stop request appears in `runDir` (polled: a stat every
 * `STOP_POLL_MS`, which works on shared file systems where change events do not). Returns the
 * function that stops watching.
 */
export function watchStopRequest(runDir: string, onRequest: (r: StopRequest) => void, pollMs = STOP_POLL_MS): () => void {
  const file = path.join(runDir, STOP_REQUEST_FILE);
  let done = false;
  const timer = setInterval(() => {
    if (done || !fs.existsSync(file)) return;
    // A request being written may not be complete yet: read it on a later tick.
    const r = readStopRequest(runDir);
    if (r === undefined) return;
    done = true;
    clearInterval(timer);
    onRequest(r);
  }, pollMs);
  timer.unref();
  return () => {
    done = true;
    clearInterval(timer);
  };
}
