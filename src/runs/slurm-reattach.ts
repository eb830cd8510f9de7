/**
 * Which Slurm sweeps a window follows again when it starts (issue 23: a reload must not lose the
 * sweep view, its progress and its Cancel). A Slurm sweep belongs to the cluster, not to the window
 * that submitted it; what the window lost is only its following. On activation the extension looks,
 * in the sweep folders of its runs folders, for job arrays that
 *
 * - were submitted by Run Sweep in VS Code (`from: vscode` in `slurm/jobs.jsonl`; an array submitted
 *   with `gradflow sweep --executor slurm` in a terminal is the terminal's to follow, as a local CLI
 *   sweep is), and
 * - are live: Slurm (squeue) still lists a task of the array in a state that is not over (PENDING,
 *   RUNNING, COMPLETING, SUSPENDED, …).
 *
 * An array whose every task recorded its end (`slurm/tasks/<job>_<i>.json`) is over without asking
 * Slurm; one that Slurm no longer knows (past `MinJobAge`), or whose tasks are all in a final state,
 * is over too: a sweep that ended while no window was open is not announced again (the same rule as
 * a local sweep whose scheduler wrote its `done`). When Slurm cannot be asked (squeue missing, the
 * controller unreachable) nothing is followed and the caller is told why.
 *
 * `followSlurmSweep` then turns the live arrays into the same sweep events as the in-window Slurm
 * executor (`followJob`), beginning with a `plan` rebuilt from the folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { arrayStatesAsync, countViews, followJob, isTerminalState, readBatch, readJobs, slurmDir, type JobRecord } from './slurm';
import { emptyCounts, finishedRuns, otherVersions, readManifest, type SweepEvent, type SweepHandle } from './sweep';
import type { RunRecord } from './store';

/** What squeue said about one array: its tasks' states by index, or why it could not be asked. */
export type SlurmAnswer = Map<number, string> | string;

/** Asks Slurm about one array (the real one: `arrayStatesAsync`). */
export type AskSlurm = (jobId: string) => Promise<SlurmAnswer>;

export interface LiveSlurmSweep {
  /** The sweep folder, absolute (the sweep view's id). */
  dir: string;
  name: string;
  sourceFile?: string;
  /** Its live arrays submitted from VS Code, in submission order. */
  jobs: JobRecord[];
}

export interface SlurmSweepScan {
  live: LiveSlurmSweep[];
  /** Arrays that might be live but Slurm could not be asked about (and why). */
  notAsked: Array<{ dir: string; jobId: string; why: string }>;
  /** Sweep folders that could not be read (and why). */
  errors: Array<{ dir: string; error: string }>;
}

/** Every task of the array recorded its end (`slurm/tasks/<job>_<i>.json`): over, whatever Slurm says. */
export function everyTaskRecorded(sweepDir: string, job: JobRecord): boolean {
  const tasks = path.join(slurmDir(sweepDir), 'tasks');
  for (let i = 0; i < job.tasks; i++) if (!fs.existsSync(path.join(tasks, `${job.jobId}_${i}.json`))) return false;
  return true;
}

/** The arrays of a sweep folder that may be followed again: submitted from VS Code, not every task recorded over. */
export function candidateJobs(sweepDir: string): JobRecord[] {
  return readJobs(sweepDir).filter((j) => j.from === 'vscode' && !everyTaskRecorded(sweepDir, j));
}

/** Live by Slurm's answer: some task of the array is in a state that is not over. An empty answer (Slurm forgot the job) is over. */
export function arrayIsLive(states: ReadonlyMap<number, string>): boolean {
  for (const s of states.values()) if (!isTerminalState(s)) return true;
  return false;
}

/** The sweep folders (`sweep-*`) of these runs folders, absolute, each once. */
export function sweepFolders(runsDirs: readonly string[]): string[] {
  const out = new Set<string>();
  for (const runsDir of runsDirs) {
    let names: string[];
    try {
      names = fs.readdirSync(runsDir).filter((n) => n.startsWith('sweep-'));
    } catch {
      continue;
    }
    for (const n of names.sort()) out.add(path.resolve(runsDir, n));
  }
  return [...out];
}

/**
 * The Slurm sweeps of these runs folders to follow again: each folder with at least one live array
 * submitted from VS Code. `skip`: folders already followed (by this window). Slurm is asked once per
 * candidate array; once it cannot be asked, it is not asked again in this scan (each try may wait for
 * squeue's timeout).
 */
export async function findLiveSlurmSweeps(runsDirs: readonly string[], opts: { ask?: AskSlurm; skip?: (dir: string) => boolean } = {}): Promise<SlurmSweepScan> {
  const ask = opts.ask ?? ((jobId: string) => arrayStatesAsync(jobId));
  const scan: SlurmSweepScan = { live: [], notAsked: [], errors: [] };
  let cannotAsk: string | undefined;
  for (const dir of sweepFolders(runsDirs)) {
    if (opts.skip?.(dir) === true) continue;
    let candidates: JobRecord[];
    try {
      candidates = candidateJobs(dir);
    } catch (e) {
      scan.errors.push({ dir, error: e instanceof Error ? e.message : String(e) });
      continue;
    }
    const live: JobRecord[] = [];
    for (const job of candidates) {
      const answer = cannotAsk ?? (await ask(job.jobId));
      if (typeof answer === 'string') {
        cannotAsk = answer;
        scan.notAsked.push({ dir, jobId: job.jobId, why: answer });
      } else if (arrayIsLive(answer)) live.push(job);
    }
    if (live.length === 0) continue;
    let name = path.basename(dir).replace(/^sweep-/, '');
    let sourceFile: string | undefined;
    try {
      const m = readManifest(dir);
      if (typeof m.name === 'string') name = m.name;
      if (typeof m.sourceFile === 'string') sourceFile = m.sourceFile;
    } catch {
      // No readable manifest: the folder's name names it (the sweep view will say what it lacks).
    }
    scan.live.push({ dir, name, jobs: live, ...(sourceFile !== undefined ? { sourceFile } : {}) });
  }
  return scan;
}

/**
 * The `plan` event of a sweep followed again, rebuilt from its folder: `toRun` the live arrays'
 * tasks; of the manifest's other configurations, those with a complete run count as skipped (done
 * before), the rest as left to another scheduler (`busy`). `workers`: the arrays' `%N` (or their
 * size). Throws when a batch file cannot be read.
 */
export function reattachPlan(sweep: LiveSlurmSweep): { event: Extract<SweepEvent, { type: 'plan' }>; busy: number } {
  const inArrays = new Set<string>();
  let toRun = 0;
  let workers = 0;
  for (const job of sweep.jobs) {
    const batch = readBatch(job.batch);
    for (const t of batch.tasks) inArrays.add(t.id);
    toRun += batch.tasks.length;
    workers += Math.min(job.maxParallel ?? batch.tasks.length, batch.tasks.length);
  }
  let total = toRun;
  let busy = 0;
  const earlier = new Map<string, RunRecord>();
  try {
    const manifest = readManifest(sweep.dir);
    const finished = finishedRuns(sweep.dir);
    total = Math.max(toRun, manifest.runs.length);
    for (const r of manifest.runs) {
      if (inArrays.has(r.id)) continue;
      const done = finished.get(r.id);
      if (done !== undefined) earlier.set(r.id, done);
      else busy++;
    }
  } catch {
    // No readable manifest: the arrays are the whole sweep.
  }
  return { event: { type: 'plan', total, skipped: earlier.size, toRun, workers: Math.max(1, workers), otherVersions: otherVersions(earlier) }, busy };
}

/**
 * Follow a sweep's live arrays as the in-window executor does (`followJob`), after the `plan` of
 * `reattachPlan`. Resolves with the counts once Slurm has ended every task, or at `stop` (following
 * ends; the arrays go on). Throws when a batch file cannot be read.
 */
export function followSlurmSweep(sweep: LiveSlurmSweep, pollMs: number, onEvent: (e: SweepEvent) => void): SweepHandle {
  const { event, busy } = reattachPlan(sweep);
  onEvent(event);
  const counts = emptyCounts(event.skipped);
  counts.busy += busy;
  let stopped = false;
  const done = Promise.all(sweep.jobs.map((job) => followJob(sweep.dir, job, pollMs, onEvent, () => stopped))).then((all) => {
    for (const views of all) countViews(counts, views);
    return counts;
  });
  return {
    stop: () => {
      stopped = true;
    },
    done,
  };
}
