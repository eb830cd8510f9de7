/**
 * Run folders. Each run is a new folder `<runsDir>/<runId>/` holding:
 * - `run.json`     written once at start: id, name, source file, start time, pid, backend;
 * - `config.json`  the resolved experiment, written once at start;
 * - `metrics.jsonl` the trainer's protocol messages, one JSON object per line, append-only, flushed
 *                  at least once a second (and on every epoch, alert, done or error);
 * - `summary.json` written once at the end (finished, stopped or failed).
 * Nothing is ever overwritten: a run id is unique and its folder is created exclusively. A run
 * whose trainer was killed has no summary; its status is read as `killed` once its pid is gone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BackendName, ExperimentConfig } from '../shared/experiment';
import type { RunSummary, TrainerToHost } from '../shared/protocol';
import { GRADFLOW_VERSION } from '../shared/version';

export type RunStatus = 'running' | 'finished' | 'stopped' | 'failed' | 'killed';

export interface RunHeader {
  runId: string;
  name: string;
  sourceFile?: string;
  startedAt: string;
  pid: number;
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
  reason?: string;
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

/** Writes one run folder. All writes are appends or create-exclusive. */
export class RunWriter {
  readonly runId: string;
  readonly runDir: string;
  private readonly fd: number;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(runId: string, runDir: string) {
    this.runId = runId;
    this.runDir = runDir;
    this.fd = fs.openSync(path.join(runDir, 'metrics.jsonl'), 'ax');
    this.timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
    // The timer must not keep a finished trainer alive.
    this.timer.unref();
  }

  static create(runsDir: string, config: ExperimentConfig, opts: { sourceFile?: string; configId?: string } = {}): RunWriter {
    fs.mkdirSync(runsDir, { recursive: true });
    for (let attempt = 0; ; attempt++) {
      const runId = newRunId(config.name);
      const runDir = path.join(runsDir, runId);
      try {
        fs.mkdirSync(runDir); // exclusive: fails if it exists
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 20) continue;
        throw e;
      }
      const header: RunHeader = {
        runId,
        name: config.name,
        startedAt: new Date().toISOString(),
        pid: process.pid,
        gradflowVersion: GRADFLOW_VERSION,
        ...(opts.sourceFile !== undefined ? { sourceFile: opts.sourceFile } : {}),
        ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
      };
      writeExclusive(path.join(runDir, 'run.json'), header);
      writeExclusive(path.join(runDir, 'config.json'), config);
      return new RunWriter(runId, runDir);
    }
  }

  /** Queue one protocol message; important messages flush immediately. */
  append(msg: TrainerToHost): void {
    if (this.closed) return;
    this.pending.push(JSON.stringify(msg));
    if (msg.type !== 'step' && msg.type !== 'log') this.flush();
  }

  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    fs.writeSync(this.fd, text);
  }

  /** Write the summary (once) and close the log. */
  finish(summary: RunSummary): void {
    this.flush();
    writeExclusive(path.join(this.runDir, 'summary.json'), summary);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    fs.closeSync(this.fd);
  }
}

function writeExclusive(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n', { flag: 'wx' });
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
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

/**
 * Parse a run's metrics log. A trainer killed mid-write can leave a partial last line; it is
 * skipped (and only it: a bad line in the middle is reported, because that is not a crash artefact).
 */
export function readMetrics(runDir: string): TrainerToHost[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  const out: TrainerToHost[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as TrainerToHost);
    } catch (e) {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!isLast) throw new Error(`${path.join(runDir, 'metrics.jsonl')}:${i + 1}: unreadable line: ${(e as Error).message}`);
    }
  }
  return out;
}

export function readRun(runDir: string): RunRecord | undefined {
  const header = readJson<RunHeader>(path.join(runDir, 'run.json'));
  if (!header) return undefined;
  const summary = readJson<RunSummary>(path.join(runDir, 'summary.json'));
  let status: RunStatus;
  if (summary) status = summary.finished ? 'finished' : summary.stopped ? 'stopped' : 'failed';
  else status = pidAlive(header.pid) ? 'running' : 'killed';
  let backend: BackendName | undefined = summary?.backend;
  if (!backend) {
    // The `ready` message is the first line of the log and names the backend.
    const first = readFirstLine(path.join(runDir, 'metrics.jsonl'));
    if (first) {
      try {
        const m = JSON.parse(first) as TrainerToHost;
        if (m.type === 'ready') backend = m.backend;
      } catch {
        /* partial first line: no backend known */
      }
    }
  }
  return {
    ...header,
    runDir,
    status,
    ...(backend ? { backend } : {}),
    ...(summary ? { endedAt: summary.endedAt } : {}),
    ...(summary?.reason ? { reason: summary.reason } : {}),
  };
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

export function readSummary(runDir: string): RunSummary | undefined {
  return readJson<RunSummary>(path.join(runDir, 'summary.json'));
}
