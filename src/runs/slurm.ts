/**
 * The Slurm executor: a sweep's unfinished configurations become ONE job array. Task i runs the
 * i-th configuration of a batch file frozen at submission (`gradflow sweep-task SWEEP_DIR i --batch
 * FILE`), claims it (claims.ts) and trains it like a local worker would. Everything lives in the
 * sweep folder, which must be on storage the submit host and the nodes share:
 *
 *   sweep.json                   the manifest (as for a local sweep)
 *   slurm/batch-<stamp>.json     the configurations of one submission, in array-index order
 *   slurm/batch-<stamp>.sh       the batch script
 *   slurm/jobs.jsonl             one line per submission: job id, batch file, task count
 *   slurm/logs/<job>_<i>.log     each task's stdout and stderr
 *   slurm/tasks/<job>_<i>.json   what each task ended with (status, run folder, error)
 *
 * Slurm is asked through its commands only (sbatch, squeue, scontrol, scancel, sinfo); `sacct`
 * is not used because it needs slurmdbd, which many clusters (and the test cluster) lack.
 */
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendPreference } from '../shared/experiment';
import { logText, shellWord, slurmJobName, terminalText } from '../shared/sanitize';
import { claimState } from './claims';
import { startRun } from './session';
import { isComplete, stoppedReason, type RunStatus, type StopRequest } from './status';
import { listRuns, readStopRequest, readSummary, requestStop, watchStopRequest, type RunRecord } from './store';
import { BoundedReadError, readBoundedText } from '../shared/bounded-read';
import { at } from '../shared/checked';

/** `slurm/jobs.jsonl`: one line of about 300 bytes per submission; 16 MiB is ~50,000 submissions. */
export const MAX_JOBS_FILE_BYTES = 16 * 1024 * 1024;
/** A batch file holds every configuration of one array (at most 100,000, a few kB each). */
export const MAX_BATCH_FILE_BYTES = 512 * 1024 * 1024;
/** A task record (`slurm/tasks/<job>_<index>.json`) is a few hundred bytes. */
export const MAX_TASK_RECORD_BYTES = 1024 * 1024;
/** Only the end of a task log is read for its tail. */
export const TASK_LOG_TAIL_BYTES = 64 * 1024;
import {
  claimAndRun,
  countEnd,
  emptyCounts,
  runsByConfig,
  writeFileAtomic,
  type PlannedRun,
  type SweepEvent,
  type SweepCounts,
  type SweepExecutor,
  type SweepHandle,
} from './sweep';

/** What the sbatch of a sweep's job array asks for, as a user sets it (unset: Slurm's defaults). */
export interface SlurmRequest {
  partition?: string;
  /** The array's `%N`: at most N tasks at once. */
  maxParallel?: number;
  /** sbatch --time, e.g. `1:00:00`. */
  time?: string;
  cpusPerTask?: number;
  /** sbatch --mem, e.g. `4G`. */
  mem?: string;
  /** Passed to sbatch as they are. */
  sbatchArgs: string[];
}

export interface SlurmOptions {
  partition?: string | undefined;
  /** The array's `%N`: at most N tasks at once. */
  maxParallel?: number | undefined;
  /** sbatch --time, e.g. `1:00:00`. */
  time?: string | undefined;
  cpusPerTask?: number | undefined;
  /** sbatch --mem, e.g. `4G`. */
  mem?: string | undefined;
  /** Passed to sbatch as they are (repeatable `--sbatch-arg`). */
  sbatchArgs?: string[];
  backend?: BackendPreference | undefined;
  /** Node executable and CLI bundle the tasks run (default: this process's). */
  nodePath?: string;
  cliPath: string;
  /** Follow the array until it ends (`--wait`); otherwise return once it is submitted. */
  wait: boolean;
  /** Poll interval while following (ms). */
  pollMs?: number;
  /** Who submits, recorded with the job: `vscode` arrays are followed again by a reloaded window. */
  from?: 'vscode';
}

export class SlurmError extends Error {}

export interface BatchTask {
  id: string;
  point: Record<string, unknown>;
  config: PlannedRun['config'];
}

export interface BatchFile {
  createdAt: string;
  sourceFile?: string;
  backend?: BackendPreference;
  tasks: BatchTask[];
}

export interface JobRecord {
  jobId: string;
  batch: string;
  tasks: number;
  submittedAt: string;
  /** Submitted by Run Sweep in VS Code (absent: the CLI, or a version before this field). */
  from?: 'vscode';
  /** The array's `%N`, when one was given. */
  maxParallel?: number;
}

export interface TaskRecord {
  jobId: string;
  index: number;
  configId: string;
  status: RunStatus | 'busy';
  runDir?: string;
  error?: string;
  endedAt: string;
}

interface Cmd {
  status: number | null;
  stdout: string;
  stderr: string;
  missing: boolean;
}

function run(cmd: string, args: string[], timeoutMs = 30_000): Cmd {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  const missing = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error && !missing ? r.error.message : ''), missing };
}

/** `run` without blocking the caller: for what the extension host asks of Slurm (squeue, scancel). */
function runAsync(cmd: string, args: string[], timeoutMs = 30_000): Promise<Cmd> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: unknown }) | null;
      const missing = e !== null && e.code === 'ENOENT';
      const status = e === null ? 0 : typeof e.code === 'number' ? e.code : null;
      resolve({ status, stdout, stderr: stderr + (e !== null && status === null && !missing ? e.message : ''), missing });
    });
  });
}

export function slurmDir(sweepDir: string): string {
  return path.join(sweepDir, 'slurm');
}

/** Checks made before anything is submitted: Slurm present, partition known, array not too large. */
export function preflight(count: number, opts: Pick<SlurmOptions, 'partition'>): void {
  const v = run('sbatch', ['--version']);
  if (v.missing) throw new SlurmError('sbatch is not on PATH: run this on a login node of a Slurm cluster (or start a local one with scripts/setup-slurm.sh); nothing was submitted');
  if (v.status !== 0) throw new SlurmError(`sbatch --version failed: ${v.stderr.trim()}; nothing was submitted`);
  const parts = run('sinfo', ['-h', '-o', '%P']);
  if (parts.status !== 0) throw new SlurmError(`sinfo cannot reach the cluster: ${parts.stderr.trim() || `exit ${parts.status}`}; nothing was submitted`);
  const names = parts.stdout.split('\n').map((s) => s.trim().replace(/\*$/, '')).filter((s) => s !== '');
  if (opts.partition !== undefined && !names.includes(opts.partition))
    throw new SlurmError(`unknown partition '${terminalText(opts.partition)}': this cluster has ${names.map(terminalText).join(', ') || 'none'}; nothing was submitted`);
  const max = maxArraySize();
  if (max !== undefined && count > max)
    throw new SlurmError(
      `the sweep needs an array of ${count} tasks but this cluster's MaxArraySize is ${max}: split the sweep (fewer seeds or axis values per file) or ask the admins to raise MaxArraySize; nothing was submitted`,
    );
}

/** The cluster's MaxArraySize (array indices must stay below it), if scontrol says. */
export function maxArraySize(): number | undefined {
  const c = run('scontrol', ['show', 'config']);
  const m = /^MaxArraySize\s*=\s*(\d+)/m.exec(c.stdout);
  return m ? Number(m[1]) : undefined;
}

/** Each task's log, relative to the sweep folder (sbatch --chdir): `%A` job id, `%a` task index. */
export const SLURM_LOG_PATTERN = 'slurm/logs/%A_%a.log';

/**
 * The batch script of a submission. It holds no user text: no experiment name, no comment made
 * from one (a newline there used to become a shell line, and `#SBATCH` a directive). Its only
 * variable parts are four absolute paths — the Node executable, the CLI bundle, the sweep folder
 * and the batch file — each one single-quoted shell word (`shellWord`), so spaces, quotes, `$`,
 * backticks and newlines in a folder name are data.
 */
export function batchScript(node: string, cliPath: string, sweepDir: string, batchFile: string): string {
  return [
    '#!/bin/sh',
    '# gradflow sweep: array task i trains configuration i of the batch file below.',
    `exec ${shellWord(node)} ${shellWord(cliPath)} sweep-task ${shellWord(sweepDir)} "$SLURM_ARRAY_TASK_ID" --batch ${shellWord(batchFile)}`,
    '',
  ].join('\n');
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-') + '-' + Math.random().toString(16).slice(2, 6);
}

export function readJobs(sweepDir: string): JobRecord[] {
  let text: string;
  try {
    text = readBoundedText(path.join(slurmDir(sweepDir), 'jobs.jsonl'), { maxBytes: MAX_JOBS_FILE_BYTES, what: 'Slurm job list', why: 'a line per submission, about 300 bytes each' });
  } catch (e) {
    if (e instanceof BoundedReadError && e.problem === 'too-large') throw new SlurmError(e.message);
    return [];
  }
  const out: JobRecord[] = [];
  for (const line of text.split('\n')) {
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      // A job id is digits (what sbatch --parsable printed): anything else in a copied or edited
      // jobs.jsonl would reach squeue/scancel as an option (`--user=…` cancels every job of a user).
      if (typeof v.jobId === 'string' && /^\d+$/.test(v.jobId) && typeof v.batch === 'string' && typeof v.tasks === 'number')
        out.push({
          jobId: v.jobId,
          batch: v.batch,
          tasks: v.tasks,
          submittedAt: typeof v.submittedAt === 'string' ? v.submittedAt : '',
          ...(v.from === 'vscode' ? { from: 'vscode' as const } : {}),
          ...(typeof v.maxParallel === 'number' && Number.isInteger(v.maxParallel) && v.maxParallel > 0 ? { maxParallel: v.maxParallel } : {}),
        });
    } catch {
      /* blank or cut line */
    }
  }
  return out;
}

export function readBatch(file: string): BatchFile {
  let v: unknown;
  try {
    v = JSON.parse(readBoundedText(file, { maxBytes: MAX_BATCH_FILE_BYTES, what: 'batch file', why: 'at most 100,000 configurations of a few kB' }));
  } catch (e) {
    if (e instanceof BoundedReadError) throw new SlurmError(e.problem === 'too-large' ? e.message : `${file}: cannot read the batch file (${e.code ?? e.problem})`);
    throw new SlurmError(`${file}: cannot read the batch file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const b = v as Partial<BatchFile>;
  if (typeof v !== 'object' || v === null || !Array.isArray(b.tasks)) throw new SlurmError(`${file}: not a batch file (no tasks)`);
  return v as BatchFile;
}

/** Write the batch and its script, submit one array, record the job. Returns the job record. */
export function submitArray(sweepDir: string, name: string, queue: readonly PlannedRun[], sourceFile: string | undefined, opts: SlurmOptions): JobRecord {
  const sdir = slurmDir(sweepDir);
  fs.mkdirSync(path.join(sdir, 'logs'), { recursive: true });
  fs.mkdirSync(path.join(sdir, 'tasks'), { recursive: true });
  const id = stamp();
  const batchFile = path.join(sdir, `batch-${id}.json`);
  const batch: BatchFile = {
    createdAt: new Date().toISOString(),
    ...(sourceFile !== undefined ? { sourceFile } : {}),
    ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
    tasks: queue.map((r) => ({ id: r.id, point: r.point, config: r.config })),
  };
  writeFileAtomic(batchFile, JSON.stringify(batch) + '\n');
  const script = path.join(sdir, `batch-${id}.sh`);
  const node = opts.nodePath ?? process.execPath;
  fs.writeFileSync(script, batchScript(node, opts.cliPath, sweepDir, batchFile), { mode: 0o755 });
  const array = `0-${queue.length - 1}${opts.maxParallel !== undefined ? `%${opts.maxParallel}` : ''}`;
  // Every element is one argv entry (no shell). User text reaches sbatch only as the job name,
  // filtered by slurmJobName; the log path is relative to --chdir, so no folder name (which may
  // hold `%` or `\`, Slurm's file-name pattern characters) is in the pattern.
  const args = [
    '--parsable',
    `--array=${array}`,
    `--job-name=${slurmJobName(name)}`,
    `--output=${SLURM_LOG_PATTERN}`,
    `--chdir=${sweepDir}`,
    ...(opts.partition !== undefined ? [`--partition=${opts.partition}`] : []),
    ...(opts.time !== undefined ? [`--time=${opts.time}`] : []),
    ...(opts.cpusPerTask !== undefined ? [`--cpus-per-task=${opts.cpusPerTask}`] : []),
    ...(opts.mem !== undefined ? [`--mem=${opts.mem}`] : []),
    ...(opts.sbatchArgs ?? []),
    script,
  ];
  const r = run('sbatch', args, 60_000);
  if (r.status !== 0) throw new SlurmError(`sbatch refused the array: ${r.stderr.trim() || `exit ${r.status}`}`);
  const jobId = at(r.stdout.trim().split(';'), 0);
  if (!/^\d+$/.test(jobId)) throw new SlurmError(`sbatch printed '${r.stdout.trim()}', not a job id`);
  const rec: JobRecord = {
    jobId,
    batch: batchFile,
    tasks: queue.length,
    submittedAt: new Date().toISOString(),
    ...(opts.from !== undefined ? { from: opts.from } : {}),
    ...(opts.maxParallel !== undefined ? { maxParallel: opts.maxParallel } : {}),
  };
  fs.appendFileSync(path.join(sdir, 'jobs.jsonl'), JSON.stringify(rec) + '\n');
  return rec;
}

/** Slurm states in which a task is over. */
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'REVOKED', 'SPECIAL_EXIT']);

export function isTerminalState(state: string): boolean {
  return TERMINAL.has(state);
}

/**
 * Task states of an array job from `squeue` (pending tasks expanded). `undefined` when the
 * controller cannot be reached (e.g. restarting); an empty map when it no longer knows the job.
 */
export function arrayStates(jobId: string): Map<number, string> | undefined {
  const r = run('squeue', squeueArgs(jobId), 15_000);
  const states = squeueAnswer(jobId, r.status, r.stdout, r.stderr);
  return typeof states === 'string' ? undefined : states;
}

function squeueArgs(jobId: string): string[] {
  return ['-h', '-r', '-t', 'all', '-j', jobId, '-o', '%i|%T'];
}

/** squeue's answer about one array: its tasks' states, or why Slurm could not be asked. */
function squeueAnswer(jobId: string, status: number | null, stdout: string, stderr: string): Map<number, string> | string {
  if (status !== 0) {
    // One job id that the controller no longer knows (MinJobAge passed): nothing of it is live.
    if (/invalid job id/i.test(stderr)) return new Map();
    return `squeue failed: ${stderr.trim() || `exit ${status ?? 'by timeout'}`}`;
  }
  const out = new Map<number, string>();
  for (const line of stdout.split('\n')) {
    const [id, state] = line.trim().split('|');
    const m = /^(\d+)_(\d+)$/.exec(id ?? '');
    if (m && m[1] === jobId && state) out.set(Number(m[2]), state);
  }
  return out;
}

/**
 * `arrayStates` without blocking the caller (the extension host asks on activation): the task
 * states, or a sentence saying why Slurm could not be asked (squeue missing, controller unreachable).
 */
export async function arrayStatesAsync(jobId: string, timeoutMs = 15_000): Promise<Map<number, string> | string> {
  const r = await runAsync('squeue', squeueArgs(jobId), timeoutMs);
  return r.missing ? 'squeue is not on PATH' : squeueAnswer(jobId, r.status, r.stdout, r.stderr);
}

export function readTaskRecord(sweepDir: string, jobId: string, index: number): TaskRecord | undefined {
  try {
    // Past its bound (damaged or planted) it is treated as unreadable: no record.
    return JSON.parse(readBoundedText(path.join(slurmDir(sweepDir), 'tasks', `${jobId}_${index}.json`), { maxBytes: MAX_TASK_RECORD_BYTES, what: 'task record' })) as TaskRecord;
  } catch {
    return undefined;
  }
}

export function taskLog(sweepDir: string, jobId: string, index: number): string {
  return path.join(slurmDir(sweepDir), 'logs', `${jobId}_${index}.log`);
}

/**
 * Last `n` non-empty lines of a task's log, from its last `TASK_LOG_TAIL_BYTES` only (a log can be
 * any size; the first line of the window, probably cut, is dropped when the window does not start
 * the file).
 */
export function logTailOf(file: string, n = 12): string[] {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch {
    return [];
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return [];
    const start = Math.max(0, st.size - TASK_LOG_TAIL_BYTES);
    const buf = Buffer.alloc(st.size - start);
    let got = 0;
    while (got < buf.length) {
      const k = fs.readSync(fd, buf, got, buf.length - got, start + got);
      if (k === 0) break;
      got += k;
    }
    const lines = buf.subarray(0, got).toString('utf8').split('\n');
    if (start > 0) lines.shift();
    return lines.filter((l) => l.trim() !== '').slice(-n);
  } catch {
    return [];
  } finally {
    fs.closeSync(fd);
  }
}

export interface TaskView {
  jobId: string;
  index: number;
  configId: string;
  point: Record<string, unknown>;
  /** Slurm's state (`PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, …), or `UNKNOWN` once Slurm forgot it. */
  slurmState: string;
  /** The newest run of the configuration, if any. */
  run?: RunRecord;
  /** The configuration has a complete run (by this array or any other scheduler). */
  complete: boolean;
  /** Step progress (0..1) of a running run, when known. */
  progress?: number;
  record?: TaskRecord;
  logFile: string;
}

/** Latest step and total steps of a run in progress, from the tail of its log. */
export function runProgress(runDir: string): number | undefined {
  const file = path.join(runDir, 'metrics.jsonl');
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 64 * 1024));
    fs.readSync(fd, head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(size, 16 * 1024));
    fs.readSync(fd, tail, 0, tail.length, size - tail.length);
    const total = /"type":"ready".*?"totalSteps":(\d+)/.exec(head.toString('utf8'));
    const steps = [...tail.toString('utf8').matchAll(/"type":"step","metrics":\{"step":(\d+)/g)];
    if (!total) return undefined;
    const last = steps.length > 0 ? Number(at(steps, steps.length - 1)[1]) : 0;
    return Math.min(1, last / Number(total[1]));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Every task of a submission with its Slurm state, run and result. `states` undefined: cluster unreachable. */
export function viewJob(sweepDir: string, job: JobRecord, states: Map<number, string> | undefined, byConfig = runsByConfig(sweepDir)): TaskView[] {
  const batch = readBatch(job.batch);
  return batch.tasks.map((t, index) => {
    const runs = byConfig.get(t.id) ?? [];
    const complete = runs.find((r) => isComplete(r.status));
    const newest = complete ?? runs[0];
    const record = readTaskRecord(sweepDir, job.jobId, index);
    let slurmState = states?.get(index);
    if (slurmState === undefined) {
      // Slurm forgot the task (MinJobAge) or cannot be asked: say what the folder knows.
      if (states === undefined) slurmState = 'UNREACHABLE';
      else if (record !== undefined) slurmState = record.status === 'failed' || record.status === 'killed' ? 'FAILED' : 'COMPLETED';
      // Slurm drops a pending array task that is cancelled: its siblings are listed, it is not.
      else if (states.size > 0 && runs.length === 0) slurmState = 'CANCELLED';
      else slurmState = 'UNKNOWN';
    }
    const progress = newest && newest.status === 'running' ? runProgress(newest.runDir) : undefined;
    return {
      jobId: job.jobId,
      index,
      configId: t.id,
      point: t.point,
      slurmState,
      ...(newest ? { run: newest } : {}),
      complete: complete !== undefined,
      ...(progress !== undefined ? { progress } : {}),
      ...(record ? { record } : {}),
      logFile: taskLog(sweepDir, job.jobId, index),
    };
  });
}

/** Cancel every submission of a sweep that Slurm still runs or holds. Returns the job ids cancelled. */
/** scancel a sweep's arrays that are not over (asked of squeue first); the job ids cancelled. */
export async function cancelSweep(sweepDir: string): Promise<string[]> {
  const jobs = readJobs(sweepDir);
  const live: string[] = [];
  for (const j of jobs) {
    const states = await arrayStatesAsync(j.jobId);
    if (typeof states === 'string' || [...states.values()].some((s) => !isTerminalState(s))) live.push(j.jobId);
  }
  if (live.length === 0) return [];
  const r = await runAsync('scancel', live);
  if (r.missing) throw new SlurmError('scancel is not on PATH: run this on a login node of the cluster');
  if (r.status !== 0) throw new SlurmError(`scancel ${live.join(' ')} failed: ${r.stderr.trim()}`);
  return live;
}

/** Configurations a live claim holds right now (a running task of an earlier array, a local sweep). */
export function heldElsewhere(sweepDir: string, ids: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const id of ids) if (claimState(sweepDir, id).kind === 'held') out.add(id);
  return out;
}

export function slurmExecutor(opts: SlurmOptions): SweepExecutor & { submitted?: JobRecord } {
  const exec: SweepExecutor & { submitted?: JobRecord } = {
    name: 'slurm',
    parallelism: (n) => Math.max(1, Math.min(opts.maxParallel ?? n, n || 1)),
    start: ({ plan, queue, skipped, onEvent }): SweepHandle => {
      const counts = emptyCounts(skipped);
      const held = heldElsewhere(plan.dir, queue.map((r) => r.id));
      const toSubmit = queue.filter((r) => !held.has(r.id));
      for (const id of held) {
        counts.busy++;
        onEvent({ type: 'busy', id, holder: 'held by a running scheduler (an earlier array or a local sweep)' });
      }
      if (toSubmit.length === 0) return { stop: () => undefined, done: Promise.resolve(counts) };
      preflight(toSubmit.length, opts);
      const job = submitArray(plan.dir, plan.name, toSubmit, plan.sourceFile, opts);
      exec.submitted = job;
      onEvent({ type: 'log', message: `submitted job array ${job.jobId} (${job.tasks} task${job.tasks === 1 ? '' : 's'}${opts.maxParallel !== undefined ? `, at most ${opts.maxParallel} at once` : ''}); logs in ${path.join(slurmDir(plan.dir), 'logs')}` });
      if (!opts.wait) return { stop: () => undefined, done: Promise.resolve(counts) };
      let stopped = false;
      const done = followJob(plan.dir, job, opts.pollMs ?? 1000, onEvent, () => stopped).then((views) => countViews(counts, views));
      return {
        // Stopping the follower leaves the array running (it belongs to the cluster now); `sweep --cancel DIR` cancels it.
        stop: () => {
          stopped = true;
        },
        done,
      };
    },
  };
  return exec;
}

/** Add what became of each task of a followed array to the counts (the sweep's closing message). */
export function countViews(counts: SweepCounts, views: readonly TaskView[]): SweepCounts {
  for (const v of views) {
    if (v.record?.status === 'busy') counts.busy++;
    else if (v.complete && v.run) countEnd(counts, v.run.status);
    else if (v.slurmState === 'CANCELLED') counts.stopped++;
    else countEnd(counts, v.run?.status === 'stopped' ? 'stopped' : v.run?.status === 'killed' ? 'killed' : 'failed');
  }
  return counts;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Follow an array until every task is over, turning folder and squeue changes into sweep events.
 * A controller that cannot be reached (restarting) is waited for. Resolves with the final views.
 */
export async function followJob(sweepDir: string, job: JobRecord, pollMs: number, onEvent: (e: SweepEvent) => void, stopped: () => boolean): Promise<TaskView[]> {
  const started = new Set<number>();
  const ended = new Set<number>();
  const lastProgress = new Map<number, number>();
  const lastState = new Map<number, string>();
  for (;;) {
    // Asked without blocking: the follower runs in the extension host, where a synchronous squeue
    // (up to its 15 s timeout on a busy controller) would freeze every other extension each poll.
    const answer = await arrayStatesAsync(job.jobId);
    const states = typeof answer === 'string' ? undefined : answer;
    const views = viewJob(sweepDir, job, states);
    for (const v of views) {
      const running = v.slurmState === 'RUNNING' || v.run?.status === 'running';
      const over = states !== undefined && (isTerminalState(v.slurmState) || v.slurmState === 'UNKNOWN') && v.run?.status !== 'running';
      // `start` first: it begins the configuration's row afresh, so the Slurm state that comes with
      // it (RUNNING) must follow it, not be wiped by it.
      if ((running || over) && !started.has(v.index) && v.record?.status !== 'busy') {
        started.add(v.index);
        onEvent({ type: 'start', id: v.configId, point: v.point });
      }
      if (states !== undefined && lastState.get(v.index) !== v.slurmState) {
        lastState.set(v.index, v.slurmState);
        onEvent({ type: 'slurm', id: v.configId, state: v.slurmState, task: `${job.jobId}_${v.index}` });
      }
      if (running && v.progress !== undefined && v.run && v.progress !== lastProgress.get(v.index)) {
        lastProgress.set(v.index, v.progress);
        onEvent({ type: 'progress', id: v.configId, step: v.progress, totalSteps: 1 });
      }
      if (over && !ended.has(v.index)) {
        ended.add(v.index);
        if (v.record?.status === 'busy') {
          onEvent({ type: 'busy', id: v.configId, holder: v.record.error ?? 'claimed by another scheduler' });
          continue;
        }
        const status: RunStatus = v.complete && v.run ? v.run.status : v.slurmState === 'CANCELLED' ? 'stopped' : (v.run?.status ?? 'failed');
        const tail = logTailOf(v.logFile, 6);
        const error = v.complete ? undefined : `Slurm ${v.slurmState}${v.record?.error ? `: ${v.record.error.split('\n')[0]}` : ''}${tail.length > 0 ? `\n${tail.join('\n')}` : ''}`;
        let summary = v.run !== undefined && (isComplete(v.run.status) || v.run.status === 'stopped' || v.run.status === 'failed') ? readSummary(v.run.runDir) : undefined;
        // A stopped task says who or what stopped it: Slurm's state when Slurm ended it, else the request in its folder.
        if (summary !== undefined && v.run?.status === 'stopped') summary = { ...summary, reason: stoppedReason(summary.reason, stopCause(v.slurmState, readStopRequest(v.run.runDir))) };
        onEvent({
          type: 'end',
          id: v.configId,
          status: isComplete(status) || status === 'stopped' || status === 'killed' || status === 'failed' ? status : 'failed',
          ...(summary !== undefined ? { summary } : {}),
          ...(error !== undefined ? { error } : {}),
        });
      }
    }
    if (states !== undefined && views.every((v) => ended.has(v.index))) return views;
    if (stopped()) return views;
    await sleep(pollMs);
  }
}

/** Slurm states in which Slurm itself ended a task (its SIGTERM is then the stop request). */
const SLURM_ENDED = new Set(['CANCELLED', 'TIMEOUT', 'PREEMPTED', 'DEADLINE', 'NODE_FAIL', 'REVOKED']);

/**
 * Who stopped a task's run: Slurm, by its state, when Slurm ended the task and the request in the run
 * folder is Slurm's own SIGTERM (or none); else the request recorded in the folder.
 */
export function stopCause(slurmState: string, request: StopRequest | undefined): Pick<StopRequest, 'by' | 'detail'> | undefined {
  const state = at(slurmState.split(' '), 0);
  if (SLURM_ENDED.has(state) && (request === undefined || request.by === 'slurm')) return { by: 'slurm', detail: state };
  return request;
}

/** This task's own Slurm state (`scontrol show job`), e.g. CANCELLED once scancel was asked; undefined when unknown. */
function ownJobState(): string | undefined {
  const id = process.env.SLURM_JOB_ID;
  if (id === undefined || !/^\d+$/.test(id)) return undefined;
  const r = run('scontrol', ['show', 'job', '-o', id], 5000);
  return r.status === 0 ? /\bJobState=(\S+)/.exec(r.stdout)?.[1] : undefined;
}

/**
 * `gradflow sweep-task SWEEP_DIR i --batch FILE`: the body of array task i on a node. Claims the
 * configuration, trains it, records the result; the exit code tells Slurm (0 trained or left to
 * another holder, 1 failed or killed).
 */
export async function sweepTask(sweepDir: string, index: number, batchFile: string, trainerPath: string, out: NodeJS.WritableStream): Promise<number> {
  const batch = readBatch(batchFile);
  const task = batch.tasks[index];
  if (task === undefined) throw new SlurmError(`${batchFile} has ${batch.tasks.length} tasks; there is no task ${index}`);
  const jobId = process.env.SLURM_ARRAY_JOB_ID ?? process.env.SLURM_JOB_ID ?? 'nojob';
  const holder = `slurm ${jobId}_${index}`;
  // One line per message in the task log: names, paths and trainer output are user text (logText).
  const say = (s: string): void => void out.write(`${new Date().toISOString()} ${logText(s)}\n`);
  say(`task ${index}: configuration ${task.id} ${JSON.stringify(task.point)}`);
  let session: ReturnType<typeof startRun> | undefined;
  // scancel and preemption send SIGTERM to the whole step: stop the trainer cleanly (it writes a
  // `stopped` summary) and release the claim, rather than dying with it held.
  const onTerm = (): void => {
    say('SIGTERM: stopping the trainer after its current step');
    session?.stop();
    // Recorded in the run folder: Slurm's state says why (CANCELLED by scancel, TIMEOUT, PREEMPTED).
    if (session?.runDir !== undefined) {
      const state = ownJobState();
      try {
        requestStop(session.runDir, { by: 'slurm', detail: state !== undefined && state !== 'RUNNING' && state !== 'COMPLETING' ? state : 'SIGTERM' });
      } catch (e) {
        say(`could not record the stop request: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  const result = await claimAndRun(
    sweepDir,
    { id: task.id, point: task.point, config: task.config },
    holder,
    (r) =>
      startRun({
        trainerPath,
        config: r.config,
        configId: r.id,
        ...(batch.sourceFile !== undefined ? { sourceFile: batch.sourceFile } : {}),
        ...(batch.backend !== undefined ? { backend: batch.backend } : {}),
      }),
    {
      log: say,
      onSession: (s) => {
        session = s;
        s.handle.onStderr((line) => say(`[trainer] ${line}`));
        s.onMessage((m) => {
          if (m.type === 'ready') {
            // A stop asked through the run folder (Stop in VS Code on this task's run) stops it too.
            const unwatch = watchStopRequest(m.runDir, (r) => {
              say(`stop requested in the run folder (${r.by}): stopping the trainer after its current step`);
              s.stop();
            });
            void s.ended.then(unwatch);
          }
          if (m.type === 'ready') say(`run ${m.runId} in ${m.runDir}: ${m.totalSteps} steps on ${m.backend}`);
          else if (m.type === 'epoch') say(`epoch ${m.metrics.epoch} ${m.metrics.net}: test acc ${(100 * m.metrics.test.accuracy).toFixed(2)}%`);
          else if (m.type === 'log' && m.level !== 'info') say(`${m.level}: ${m.message}`);
          else if (m.type === 'error') say(`error: ${m.message}`);
        });
      },
    },
  );
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onTerm);
  let record: TaskRecord;
  if ('busy' in result) {
    say(`configuration ${task.id} is ${result.busy}: nothing to do`);
    record = { jobId, index, configId: task.id, status: 'busy', error: result.busy, endedAt: new Date().toISOString() };
  } else {
    const o = result.outcome;
    const status: RunStatus = o?.status ?? 'failed';
    say(`configuration ${task.id}: ${status}${o?.error !== undefined ? `: ${o.error.split('\n')[0]}` : ''}`);
    record = {
      jobId,
      index,
      configId: task.id,
      status,
      ...(o?.runDir !== undefined ? { runDir: o.runDir } : {}),
      ...(o?.error !== undefined ? { error: o.error } : o === undefined ? { error: 'the trainer could not start' } : {}),
      endedAt: new Date().toISOString(),
    };
  }
  try {
    fs.mkdirSync(path.join(slurmDir(sweepDir), 'tasks'), { recursive: true });
    writeFileAtomic(path.join(slurmDir(sweepDir), 'tasks', `${jobId}_${index}.json`), JSON.stringify(record) + '\n');
  } catch (e) {
    say(`could not record the task's result: ${(e as Error).message}`);
  }
  return record.status === 'failed' || record.status === 'killed' || record.status === 'corrupt' ? 1 : 0;
}

/** Runs of a sweep folder that never finished among the planned configurations. */
export function unfinishedConfigs(sweepDir: string, planned: readonly string[]): string[] {
  const done = new Set(listRuns(sweepDir).filter((r) => r.configId !== undefined && isComplete(r.status)).map((r) => r.configId));
  return planned.filter((id) => !done.has(id));
}
