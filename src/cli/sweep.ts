/**
 * `gradflow sweep FILE`: expand the file's sweep and run it — in a local worker pool, or as one Slurm
 * job array (`--executor slurm`) — with one progress bar over runs. `--status DIR` / `--cancel DIR`
 * follow up on a Slurm sweep from any shell; `sweep-task` is what an array task runs.
 */
import * as path from 'node:path';
import type { BackendPreference, ExperimentConfig } from '../shared/experiment';
import type { SweepSpec } from '../config';
import { expandSweep, iterateSweep, sweepRunCount } from '../config';
import { grouped, MAX_SLURM_SWEEP_RUNS, STREAM_ABOVE_RUNS } from '../config/limits';
import { countsText, localExecutor, planStreamedSweep, planSweep, readManifest, runStreamedSweep, runSweep, type StreamedSweep, type SweepEvent, type SweepExecutor, type SweepPlan } from '../runs/sweep';
import { cancelSweep, logTailOf, readJobs, arrayStates, slurmExecutor, sweepTask, viewJob, SlurmError, unfinishedConfigs, type SlurmOptions } from '../runs/slurm';
import { isFailure, statusLabel } from '../runs/status';
import { bar, formatDuration, metricCell, pct, table } from './format';
import { GRADFLOW_VERSION } from '../shared/version';
import { CliUsageError } from './load';
import { stripControl } from '../shared/text';
import { terminalText } from '../shared/sanitize';
import { at } from '../shared/checked';

export const EXECUTORS = ['local', 'slurm'] as const;
export type Executor = (typeof EXECUTORS)[number];

export { MAX_SLURM_SWEEP_RUNS, STREAM_ABOVE_RUNS } from '../config/limits';
/** At most this many ids are listed in "not finished"; the rest are counted. */
const MAX_LISTED_IDS = 50;

export interface SweepCliOptions {
  trainerPath: string;
  workers?: number | undefined;
  backend?: BackendPreference | undefined;
  err: NodeJS.WritableStream;
  out: NodeJS.WritableStream;
  json: boolean;
  executor: Executor;
  wait: boolean;
  slurm: Omit<SlurmOptions, 'wait' | 'backend'>;
}

export async function sweepCommand(config: ExperimentConfig, spec: SweepSpec, sourceFile: string, opts: SweepCliOptions): Promise<number> {
  const err = opts.err;
  const tty = 'isTTY' in err && err.isTTY === true;
  // Planning resolves and checks every point before the first run starts; a big sweep takes a
  // while, so it says so (a line on a terminal, a line every 15 s otherwise) instead of going quiet.
  const total0 = sweepRunCount(spec);
  if (opts.executor === 'slurm' && total0 > MAX_SLURM_SWEEP_RUNS)
    throw new CliUsageError(
      `sweep ${terminalText(config.name)} has ${grouped(total0)} runs, more than the ${grouped(MAX_SLURM_SWEEP_RUNS)} the Slurm executor accepts (it writes every configuration into one batch file, planned before submitting): split the sweep, or run it with --executor local, which streams it`,
    );
  if (opts.executor === 'local' && total0 > STREAM_ABOVE_RUNS)
    return runSweepCli(spec, opts, planStreamedSweep(config.name, total0, () => iterateSweep(config, spec), config.run.runsDir, sourceFile));
  const planStart = Date.now();
  let lastPlanDraw = planStart;
  let planDrawn = false;
  const runs = expandSweep(config, spec, (done, points) => {
    const now = Date.now();
    // A line when the interval has passed; the last point only closes a progress already shown.
    if (now - lastPlanDraw < (tty ? 200 : 15_000) && !(done === points && planDrawn)) return;
    lastPlanDraw = now;
    planDrawn = true;
    const text = `planning sweep ${stripControl(config.name)}: point ${grouped(done)} of ${grouped(points)} (${grouped(total0)} runs with the seeds) checked, ${formatDuration((now - planStart) / 1000)}`;
    err.write(tty ? `\r\x1b[K${text}` : `${text}\n`);
  });
  if (tty && planDrawn) err.write('\r\x1b[K');
  return runSweepCli(spec, opts, planSweep(config.name, runs, config.run.runsDir, sourceFile));
}

async function runSweepCli(spec: SweepSpec, opts: SweepCliOptions, plan: SweepPlan | StreamedSweep): Promise<number> {
  const err = opts.err;
  const tty = 'isTTY' in err && err.isTTY === true;
  const started = Date.now();
  let total = 0;
  let ended = 0;
  let toRun = 0;
  const progress = new Map<string, number>();
  const failures: Array<{ id: string; status: string; error?: string }> = [];
  const line = (): string => {
    const partial = [...progress.values()].reduce((a, b) => a + b, 0);
    const frac = toRun > 0 ? (ended + partial) / toRun : 1;
    const elapsed = (Date.now() - started) / 1000;
    const eta = frac > 0 ? (elapsed / frac) * (1 - frac) : NaN;
    return `|${bar(frac, 24)}| ${ended}/${toRun} runs (${total - toRun} already done) ${progress.size} running, ETA ${formatDuration(eta)}`;
  };
  let lastDraw = 0;
  const draw = (force = false): void => {
    const now = Date.now();
    if (!force && now - lastDraw < (tty ? 200 : 15_000)) return;
    lastDraw = now;
    err.write(tty ? '\r\x1b[K' + line() : line() + '\n');
  };
  const say = (s: string): void => {
    err.write((tty ? '\r\x1b[K' : '') + stripControl(s, { keepNewlines: true }) + '\n');
    draw(true);
  };

  let executor: SweepExecutor;
  if (opts.executor === 'slurm') {
    executor = slurmExecutor({ ...opts.slurm, wait: opts.wait, backend: opts.backend });
  } else {
    if (opts.slurm.partition !== undefined || opts.slurm.maxParallel !== undefined || (opts.slurm.sbatchArgs ?? []).length > 0)
      throw new CliUsageError('--partition, --max-parallel and --sbatch-arg need --executor slurm');
    executor = localExecutor({
      trainerPath: opts.trainerPath,
      workers: opts.workers ?? spec.workers,
      backend: opts.backend,
    });
  }
  const onEvent = (e: SweepEvent): void => {
    if (opts.json) opts.out.write(JSON.stringify(e) + '\n');
    switch (e.type) {
      case 'plan':
        total = e.total;
        toRun = e.toRun;
        say(
          `sweep ${terminalText(plan.name)}: ${e.total} runs, ${e.skipped} already finished, ${e.toRun} to run ${executor.name === 'slurm' ? `as a Slurm array (${e.workers} at once)` : `on ${e.workers} worker(s)`}; folder ${terminalText(plan.dir)}`,
        );
        for (const o of e.otherVersions)
          say(`note: ${o.runs} of the finished runs were made by gradflow ${o.version}, not ${GRADFLOW_VERSION}; they are reused (delete their folders to redo them)`);
        break;
      case 'start':
        progress.set(e.id, 0);
        draw();
        break;
      case 'progress':
        progress.set(e.id, e.totalSteps > 0 ? e.step / e.totalSteps : 0);
        draw();
        break;
      case 'end': {
        progress.delete(e.id);
        ended++;
        const accs = e.summary?.nets.map((n) => `${n.net} ${pct(n.final.test.accuracy)} EGF₂ ${metricCell(n.flowAverage.egf2, 3)}`).join(', ') ?? '';
        say(`${statusLabel(e.status).padEnd(8)} ${e.id} ${accs}${e.error ? ` — ${terminalText(at(e.error.split('\n'), 0))}` : ''}`);
        if (isFailure(e.status) || e.status === 'stopped') failures.push({ id: e.id, status: e.status, ...(e.error !== undefined ? { error: e.error } : {}) });
        break;
      }
      case 'busy':
        progress.delete(e.id);
        ended++;
        say(`busy     ${e.id} — ${terminalText(e.holder)}: not run here`);
        break;
      case 'log':
        say(e.message);
        break;
      case 'slurm':
        break;
    }
  };
  let handle;
  try {
    handle = 'total' in plan ? runStreamedSweep(plan, executor, onEvent) : runSweep(plan, executor, onEvent);
  } catch (e) {
    if (e instanceof SlurmError) {
      if (tty) err.write('\r\x1b[K');
      throw new CliUsageError(e.message);
    }
    throw e;
  }
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (executor.name === 'slurm') say(`no longer following; the array keeps running. Later: gradflow sweep --status ${terminalText(plan.dir)} (or --cancel)`);
    else say(interrupts === 1 ? 'stopping: running trainers finish their step; finished runs are kept. Re-run to resume.' : 'still stopping…');
    handle.stop();
  };
  process.on('SIGINT', onSigint);
  const counts = await handle.done;
  process.off('SIGINT', onSigint);
  if (tty) err.write('\r\x1b[K');
  if (executor.name === 'slurm' && !opts.wait) {
    opts.out.write(`sweep ${terminalText(plan.name)}: submitted; follow it with: gradflow sweep --status ${terminalText(plan.dir)}\n`);
    return 0;
  }
  opts.out.write(`sweep ${terminalText(plan.name)}: ${countsText(counts)}\n`);
  for (const f of failures) {
    opts.out.write(`\n${f.status} ${f.id}${f.error ? `:\n${indent(f.error)}` : ''}\n`);
  }
  const never = unfinishedConfigs(plan.dir, 'total' in plan ? readManifest(plan.dir).runs.map((r) => r.id) : plan.runs.map((r) => r.id));
  if (never.length > 0 && counts.busy === 0) opts.out.write(`\nnot finished (${never.length}): ${listIds(never)}\nre-run the same command to run only these\n`);
  opts.out.write(`report: gradflow report ${terminalText(plan.dir)}\n`);
  if (interrupts > 0) return 130;
  return counts.failed + counts.killed > 0 ? 1 : 0;
}

function listIds(ids: readonly string[]): string {
  return ids.length > MAX_LISTED_IDS ? `${ids.slice(0, MAX_LISTED_IDS).join(', ')}, … (${grouped(ids.length - MAX_LISTED_IDS)} more)` : ids.join(', ');
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${terminalText(l)}`)
    .join('\n');
}

/** `gradflow sweep --status DIR`: each array task's Slurm state and run status; failures with their log tail. */
export function sweepStatusCommand(dir: string, opts: { out: NodeJS.WritableStream; json: boolean }): number {
  let manifest;
  try {
    manifest = readManifest(dir);
  } catch (e) {
    throw new CliUsageError((e as Error).message);
  }
  const jobs = readJobs(dir);
  if (jobs.length === 0) throw new CliUsageError(`${terminalText(dir)}: no Slurm submission recorded (slurm/jobs.jsonl); was it run with --executor slurm?`);
  const rows: string[][] = [];
  const problems: string[] = [];
  const views = jobs.flatMap((j) => viewJob(dir, j, arrayStates(j.jobId)));
  if (opts.json) {
    for (const v of views) opts.out.write(JSON.stringify({ jobId: v.jobId, index: v.index, configId: v.configId, slurmState: v.slurmState, run: v.run?.status ?? null, runDir: v.run?.runDir ?? null, complete: v.complete }) + '\n');
    return 0;
  }
  for (const v of views) {
    const runText = v.run ? statusLabel(v.run.status, v.run.diverged) : '—';
    rows.push([`${v.jobId}_${v.index}`, v.configId, v.slurmState, runText, v.progress !== undefined ? `${Math.round(100 * v.progress)}%` : '']);
    const bad = ['FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL'].includes(v.slurmState) || (v.run !== undefined && isFailure(v.run.status));
    if (bad && !v.complete) {
      const tail = logTailOf(v.logFile, 8);
      problems.push(`${v.jobId}_${v.index} (${v.configId}) ${v.slurmState}${v.record?.error ? `: ${terminalText(at(v.record.error.split('\n'), 0))}` : ''}\n${tail.length > 0 ? indent(tail.join('\n')) : `    (no log: ${terminalText(v.logFile)})`}`);
    }
  }
  opts.out.write(table(['task', 'configuration', 'slurm', 'run', 'progress'], rows) + '\n');
  const never = unfinishedConfigs(
    dir,
    manifest.runs.map((r) => r.id),
  );
  opts.out.write(`\n${manifest.runs.length - never.length} of ${manifest.runs.length} configurations finished\n`);
  if (problems.length > 0) opts.out.write(`\n${problems.join('\n\n')}\n`);
  if (never.length > 0) opts.out.write(`\nnot finished: ${never.join(', ')}\n`);
  return 0;
}

export async function sweepCancelCommand(dir: string, opts: { out: NodeJS.WritableStream }): Promise<number> {
  try {
    readManifest(dir);
  } catch (e) {
    throw new CliUsageError((e as Error).message);
  }
  let cancelled: string[];
  try {
    cancelled = await cancelSweep(dir);
  } catch (e) {
    if (e instanceof SlurmError) throw new CliUsageError(e.message);
    throw e;
  }
  opts.out.write(cancelled.length > 0 ? `cancelled job ${cancelled.join(', ')} (finished runs are kept; re-run the sweep to resume)\n` : `nothing to cancel in ${terminalText(dir)}\n`);
  return 0;
}

export async function sweepTaskCommand(dir: string, index: number, batch: string, trainerPath: string, out: NodeJS.WritableStream): Promise<number> {
  try {
    return await sweepTask(dir, index, path.resolve(batch), trainerPath, out);
  } catch (e) {
    if (e instanceof SlurmError) throw new CliUsageError(e.message);
    throw e;
  }
}
