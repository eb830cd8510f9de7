/**
 * Starts, tracks and stops runs of experiment files. Several runs may go at once (each its own
 * process). A run started here is not a child of the window: it runs under a detached supervisor
 * (`gradflow supervise`, src/cli/supervise.ts) that outlives a window reload; a run this window did
 * not start (a window before a reload, the CLI, another window) is followed from its run folder
 * (follow.ts). Either way every trainer message goes through the same handler: folded into the
 * dashboard state, alerts to the language server (which shows them on the file), logs to the
 * Gradflow output channel; a run that fails, crashes or is killed is reported with its reason.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { parseExperiment } from '../../config/parse';
import { expandSweep, sweepRunCount } from '../../config/sweep';
import { ConfigError, formatIssue, type ParseResult, type SweepSpec } from '../../config/types';
import type { TrainerExit, TrainerHandle } from '../../runs/trainer-client';
import { startRun, type RunOutcome, type RunSession } from '../../runs/session';
import { divergedNets, isFailure, isLive, metricText, statusLabel, statusOfSummary, runTitle, type RunStatus } from '../../runs/status';
import { LAUNCH_ID_ENV, readRun, readSummary, requestStop, type RunRecord } from '../../runs/store';
import { RunFollower } from './follow';
import { readRunConfig } from './past-runs';
import type { ExperimentConfig } from '../../shared/experiment';
import type { RunSummary, TrainerToHost } from '../../shared/protocol';
import { countEnd, countsText, emptyCounts, planSweep, runSweep as scheduleSweep, type PlannedRun, type SweepCounts, type SweepEvent, type SweepExecutor, type SweepHandle, type SweepPlan } from '../../runs/sweep';
import { listRuns } from '../../runs/store';
import { liveSessions, readSessionPlan, requestSweepCancel, startSweepHost, SweepSessionFollower, writeSessionPlan, type SweepSessionFiles } from '../../runs/sweep-host';
import { cancelSweep, slurmExecutor } from '../../runs/slurm';
import { findLiveSlurmSweeps, followSlurmSweep } from '../../runs/slurm-reattach';
import { GRADFLOW_VERSION } from '../../shared/version';
import { tooLargeMessage } from '../../shared/bounded-read';
import { MAX_EXPERIMENT_FILE_BYTES } from '../../config/read-file';
import { editorSweepRefusal } from '../sweep-size';
import { loadSweepFolder, type DashboardState } from '../dashboard';
import type { GradflowConfig, SlurmSettings } from '../config';
import { resolveNodeRuntime, type NodeRuntime } from '../node-runtime';
import { showProblemsOf } from '../problems';
import { defaultRunsDir, settingsLayer, withRuntimeBackend } from '../run-settings';
import type { RunReport } from '../../shared/lsp-protocol';
import { RUN_TEXTS_KEY, baselineText, runTextsOf } from '../restore-diagnostics';
import { runEndNotice } from '../run-end';
import { Throttle } from '../throttle';
import { UPDATE_INTERVAL_MS } from '../dashboard/pump';
import { logText } from '../../shared/sanitize';
import { at } from '../../shared/checked';

/** A live run's status: the one run status (runs/status.ts). */
export type LiveStatus = RunStatus;

/** How many recent EGF_2 values a run keeps for the Runs view sparkline. */
const EGF_HISTORY = 48;
/** After a stop request, how long a trainer gets to finish its step and write its summary. */
const STOP_GRACE_MS = 10_000;
/** After Cancel on a Slurm sweep, how long the view keeps following the arrays while Slurm ends them (its KillWait is 30 s by default). */
const SLURM_CANCEL_FOLLOW_MS = 90_000;

export interface LiveRun {
  /** Local id, known before the trainer names the run. */
  readonly key: string;
  runId?: string;
  runDir?: string;
  readonly name: string;
  readonly uri: vscode.Uri;
  readonly config: ExperimentConfig;
  status: LiveStatus;
  backend?: string;
  step: number;
  totalSteps: number;
  /** Recent EGF_2 of the sparse net (the only net of a single run), oldest first. */
  egf2: number[];
  layerNames: string[];
  startedAt: Date;
  sweep?: string;
  /** Sweep folder (the dashboard's sweep id) and configuration id, for a run of a sweep. */
  sweepId?: string;
  configId?: string;
  summary?: RunSummary;
  error?: string;
  exit?: TrainerExit;
  /** A run this window started: its supervisor's channel (absent for a run followed from its folder). */
  readonly handle?: TrainerHandle;
  readonly session?: RunSession;
  /** A run this window follows from its folder (started by a window before a reload, the CLI, …). */
  follower?: RunFollower | undefined;
  /** The launch id this window gave its supervisor (recorded in run.json), for a run it started. */
  readonly launchId?: string;
  /** Host and trainer pid of a followed run (from run.json): a Stop that is not honoured in time kills it. */
  trainer?: { host?: string; pid: number };
  /** Status `stopped`: who or what asked (from its folder's stop request). */
  stoppedBy?: string;
  /** Has this run's end been told (ended promise resolved, notification shown)? */
  over: boolean;
  /** No notification at its end (a sweep's run). */
  readonly quiet: boolean;
  /** A followed run whose folder names no experiment file: its alerts have no file to go on. */
  readonly noSource?: boolean;
  stopRequested: boolean;
  killedByUs: boolean;
  /** Dashboard id of the provisional "starting" entry shown until the trainer names the run. */
  startingId?: string | undefined;
  readonly ended: Promise<RunOutcome>;
}

/** What `run` and `runSweep` resolve with: the one run outcome (runs/session.ts). */
export type { RunOutcome };

export interface RunManagerDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  config: GradflowConfig;
  dashboard: DashboardState;
  /** Opens (or reveals) the dashboard beside the editor on a run. */
  showDashboard(runId: string): void;
  /** Opens (or reveals) the dashboard on a sweep's table. */
  showSweep(sweepId: string): void;
  /** Sends a run event on an experiment file to the language server, which shows it on the file (diagnostics, quick fixes). */
  report(report: RunReport): Promise<void>;
  /** Makes the runs' datasets available (download with progress); false = do not start. */
  ensureData?(configs: readonly ExperimentConfig[]): Promise<boolean>;
  /** Extra environment for every trainer (dataset cache folder, mirror). */
  trainerEnv?(): Record<string, string>;
  /** This workspace's extension state (Show Problems remembers what it did to the Problems view). */
  workspaceState?: vscode.Memento;
}

/** A sweep being run by this window: its plan, its runs, and the progress notification's counters. */
interface SweepProgress {
  readonly plan: SweepPlan;
  /** The sweep folder, absolute: the dashboard's sweep id. */
  readonly sweepId: string;
  readonly outcomes: RunOutcome[];
  /** Runs this window launched (local pool). */
  readonly started: LiveRun[];
  total: number;
  ended: number;
  /** Updates the progress notification (set once it is shown). */
  report(message: string, increment?: number): void;
  /** Hosted (local) sweep: configuration ids whose run this window follows, and when each was last looked for. */
  readonly adopted?: Map<string, number>;
}

interface Prepared {
  uri: vscode.Uri;
  file: string;
  text: string;
  parsed: ParseResult;
  config: ExperimentConfig;
  runtime: NodeRuntime;
  sweep?: SweepSpec;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export class RunManager implements vscode.Disposable {
  private readonly runs = new Map<string, LiveRun>();
  private nextKey = 1;
  private readonly changed = new vscode.EventEmitter<LiveRun | undefined>();
  /** Fires when a run starts, progresses, or ends (the Runs view throttles its refresh). */
  readonly onDidChange = this.changed.event;

  /** The last run's outcome, kept until the next run starts (a timed status-bar message vanished). */
  private outcomeItem: vscode.StatusBarItem | undefined;

  constructor(private readonly deps: RunManagerDeps) {}

  private showOutcome(text: string, tooltip: string): void {
    this.outcomeItem ??= vscode.window.createStatusBarItem('gradflow.lastRun', vscode.StatusBarAlignment.Left, 0);
    this.outcomeItem.name = 'Gradflow: last run';
    this.outcomeItem.text = text;
    this.outcomeItem.tooltip = tooltip;
    this.outcomeItem.command = 'workbench.view.extension.gradflow';
    this.outcomeItem.show();
  }

  /** Live runs and the runs that ended in this session, newest first. */
  list(): LiveRun[] {
    return [...this.runs.values()].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  }

  running(): LiveRun[] {
    return this.list().filter((r) => isLive(r.status));
  }

  byRunId(runId: string): LiveRun | undefined {
    return [...this.runs.values()].find((r) => r.runId === runId);
  }

  byKey(key: string): LiveRun | undefined {
    return this.runs.get(key);
  }

  private readonly extraRunsDirs = new Set<string>();

  /** A runs folder found in the workspace (a run appeared in it): listed from now on. */
  addRunsDir(dir: string): void {
    this.extraRunsDirs.add(dir);
  }

  /** Runs folders this session knows about (for the Runs view and Open Past Run). */
  runsDirs(): string[] {
    const dirs = new Set<string>(this.extraRunsDirs);
    for (const f of vscode.workspace.workspaceFolders ?? []) dirs.add(defaultRunsDir(this.deps.config.runsDir, f.uri.fsPath, f.uri.fsPath));
    for (const r of this.runs.values()) dirs.add(r.config.run.runsDir);
    return [...dirs];
  }

  /** Run one experiment file; resolves when the run has ended (undefined when it could not start). */
  async run(uri: vscode.Uri): Promise<RunOutcome | undefined> {
    // The dashboard opens first, on a provisional "starting" entry, before the file is parsed, the
    // dataset checked and the trainer spawned (issue 11: visible within a second of Run).
    const startingId = this.openStarting(uri);
    const prep = await this.prepare(uri);
    if (prep === undefined) {
      // Nothing starts (the file has problems, or is not on disk): the message said why.
      if (startingId !== undefined) this.deps.dashboard.removeRun(startingId);
      return undefined;
    }
    if (startingId !== undefined) this.deps.dashboard.addRun({ runId: startingId, title: prep.config.name, sourceFile: prep.file, status: 'starting' });
    if (this.deps.ensureData !== undefined) {
      if (startingId !== undefined) this.deps.dashboard.setStatus(startingId, 'starting', 'checking the dataset');
      if (!(await this.deps.ensureData([prep.config]))) {
        if (startingId !== undefined) this.deps.dashboard.setStatus(startingId, 'failed', 'not started: the dataset is not available (see the message)');
        return undefined;
      }
    }
    this.resetDiagnostics(uri);
    this.outcomeItem?.hide(); // a new run: the last one's outcome goes
    const run = this.launch(prep, prep.config, startingId !== undefined ? { startingId } : {});
    if (run === undefined) {
      if (startingId !== undefined) this.deps.dashboard.setStatus(startingId, 'failed', 'not started: the trainer could not be launched (see the message)');
      return undefined;
    }
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Gradflow: ${run.name}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => this.stop(run));
        let reported = 0;
        // The trainer reports every step of every net; the notification is redrawn ≤ 4 times a second.
        const show = new Throttle(() => {
          const pct = Math.min(100, (100 * run.step) / run.totalSteps);
          const egf = run.egf2.length > 0 ? ` · EGF₂ ${at(run.egf2, run.egf2.length - 1).toPrecision(3)}` : '';
          progress.report({ increment: pct - reported, message: `step ${run.step}/${run.totalSteps}${egf}` });
          reported = pct;
        }, UPDATE_INTERVAL_MS);
        const sub = this.onDidChange((r) => {
          if (r === run && run.totalSteps > 0) show.call();
        });
        try {
          await run.ended;
        } finally {
          sub.dispose();
          show.dispose();
        }
      },
    );
    return run.ended;
  }

  /** Run every configuration of the file's `sweep` (resumable: finished configurations are skipped). */
  async runSweep(uri: vscode.Uri): Promise<RunOutcome[]> {
    const prep = await this.prepare(uri);
    if (prep === undefined) return [];
    if (prep.sweep === undefined) {
      void vscode.window.showWarningMessage(`Gradflow: ${path.basename(prep.file)} has no sweep section; running it as a single experiment.`);
      const one = await this.run(uri);
      return one !== undefined ? [one] : [];
    }
    const planned = this.expandSweepOf(prep, prep.sweep);
    if (planned === undefined) return [];
    if (this.deps.ensureData !== undefined && !(await this.deps.ensureData(planned.map((r) => r.config)))) return [];
    const plan = planSweep(prep.config.name, planned, prep.config.run.runsDir, prep.file);
    this.resetDiagnostics(uri);
    const sweep: SweepProgress = { plan, sweepId: path.resolve(plan.dir), outcomes: [], started: [], total: 0, ended: 0, report: () => undefined, adopted: new Map() };
    const settings = this.deps.config.sweepSettings(uri);
    // On Slurm: one job array, followed live (runs/slurm.ts); Cancel runs scancel. Otherwise the one
    // sweep scheduler (runs/sweep.ts) with the local pool.
    const slurm = settings.executor === 'slurm' ? this.slurmSweepExecutor(prep, settings.slurm) : undefined;
    // Local: the scheduler runs detached (gradflow sweep-host), so the sweep outlives this window.
    // Slurm: the array is the cluster's; a window after a reload follows it again (reattachSlurmSweeps).
    const end = slurm !== undefined ? await this.followSlurm(sweep, (onEvent) => scheduleSweep(plan, slurm, onEvent), 'start') : await this.hostSweep(prep, prep.sweep, sweep);
    if (end !== undefined) this.tellSweepEnd(plan.name, end);
    return sweep.outcomes;
  }

  /** The sweep's configurations, or undefined (said to the user) when it cannot be expanded. */
  private expandSweepOf(prep: Prepared, spec: SweepSpec): PlannedRun[] | undefined {
    const refusal = editorSweepRefusal(sweepRunCount(spec), path.basename(prep.file));
    if (refusal !== undefined) {
      this.deps.log.error(`sweep of ${logText(prep.file)}: ${refusal}`);
      void vscode.window.showErrorMessage(`Gradflow: ${refusal}.`);
      return undefined;
    }
    try {
      return expandSweep(prep.config, spec).map((r) => ({ id: r.id, config: r.config, point: r.point }));
    } catch (e) {
      const message = e instanceof ConfigError ? e.issues.map((i) => i.message).join('; ') : e instanceof Error ? e.message : String(e);
      this.deps.log.error(`sweep of ${logText(prep.file)}: ${message}`);
      void vscode.window.showErrorMessage(`Gradflow: the sweep cannot run: ${message}`);
      return undefined;
    }
  }

  /** A Slurm job array for the sweep, with the `gradflow.sweep.slurm.*` settings. */
  private slurmSweepExecutor(prep: Prepared, settings: SlurmSettings): SweepExecutor {
    return slurmExecutor({
      cliPath: vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'cli.js').fsPath,
      nodePath: prep.runtime.nodePath,
      wait: true,
      pollMs: 1000,
      // Recorded with the job: a window after a reload follows the arrays Run Sweep submitted.
      from: 'vscode',
      ...settings,
    });
  }

  /**
   * A local sweep: its plan is written into the sweep folder and its scheduler started detached
   * (`gradflow sweep-host`, its own process group), so that a window reload does not end it; this
   * window (and the next one, `reattachSweeps`) follows it from its events file.
   */
  private async hostSweep(prep: Prepared, spec: SweepSpec, sweep: SweepProgress): Promise<{ counts: SweepCounts; cancelled: boolean } | undefined> {
    const cliPath = vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'cli.js').fsPath;
    const trainerPath = vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'trainer.js').fsPath;
    for (const bundle of [trainerPath, cliPath]) {
      if (!fs.existsSync(bundle)) {
        void this.errorWithLog(`Gradflow: the ${path.basename(bundle, '.js')} bundle is missing (${bundle}); reinstall the extension or run npm run build.`);
        return undefined;
      }
    }
    let files: SweepSessionFiles;
    let pid: number | undefined;
    try {
      files = writeSessionPlan({ plan: sweep.plan, ...(spec.workers !== undefined ? { workers: spec.workers } : {}) });
      pid = startSweepHost({ nodePath: prep.runtime.nodePath, cliPath, files, cwd: path.dirname(prep.file), env: { ...(this.deps.trainerEnv?.() ?? {}), ...prep.runtime.env } });
    } catch (e) {
      void this.errorWithLog(`Gradflow: the sweep cannot start: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    this.deps.log.info(`sweep ${logText(sweep.plan.name)}: scheduler started detached (gradflow sweep-host, pid ${pid ?? '?'}), session ${files.id}; its log: ${logText(files.log)}`);
    return this.followHostedSweep(sweep, files);
  }

  private readonly sweepFollowers = new Map<string, SweepSessionFollower>();
  /** The sweep view id (sweep folder) of each followed session, by its plan file. */
  private readonly followedSweepDirs = new Map<string, string>();

  /** Slurm sweeps (their folders) this window follows: submitted here, or found live on activation. */
  private readonly slurmSweepDirs = new Set<string>();
  /** Ends the following of each Slurm sweep (the arrays go on): called when this window goes. */
  private readonly slurmFollowStops = new Set<() => void>();
  private disposed = false;

  /** The sweeps (their folders: the sweep view ids) this window follows: detached local schedulers and Slurm arrays. */
  followedSweeps(): string[] {
    return [...new Set([...this.followedSweepDirs.values(), ...this.slurmSweepDirs])];
  }

  /**
   * Follow every Slurm sweep of the runs folders that has a live array Run Sweep submitted
   * (runs/slurm-reattach.ts: squeue still lists a task that is not over), started by a window before
   * a reload or by another window: the sweep view and its rows come back with each task's Slurm
   * state, the progress notification with Cancel (scancel), and the end message. A sweep whose arrays
   * ended meanwhile is not announced again. Called on activation; resolves with the number followed.
   */
  async reattachSlurmSweeps(): Promise<number> {
    const scan = await findLiveSlurmSweeps(this.runsDirs(), { skip: (dir) => this.slurmSweepDirs.has(dir) });
    for (const e of scan.errors) this.deps.log.error(`Slurm sweep in ${logText(e.dir)}: ${e.error}`);
    const notAsked = scan.notAsked[0];
    if (notAsked !== undefined)
      this.deps.log.warn(`Slurm sweeps: cannot ask Slurm whether ${scan.notAsked.length} array(s) still run (${notAsked.why}): not followed; Open Sweep… shows them`);
    let n = 0;
    for (const found of scan.live) {
      // Run Sweep of this window may have started following it meanwhile.
      if (this.slurmSweepDirs.has(found.dir)) continue;
      const plan: SweepPlan = { name: found.name, dir: found.dir, runs: [], ...(found.sourceFile !== undefined ? { sourceFile: found.sourceFile } : {}) };
      const sweep: SweepProgress = { plan, sweepId: found.dir, outcomes: [], started: [], total: 0, ended: 0, report: () => undefined };
      this.deps.log.info(`sweep ${logText(found.name)}: following its Slurm array ${found.jobs.map((j) => j.jobId).join(', ')} again (still running on the cluster)`);
      void this.followSlurm(sweep, (onEvent) => followSlurmSweep(found, 1000, onEvent), 'follow').then((end) => {
        if (end !== undefined) this.tellSweepEnd(found.name, end);
      });
      n++;
    }
    return n;
  }

  /** Follow a Slurm sweep (`followSweep` on Slurm), known as followed while it is. */
  private async followSlurm(sweep: SweepProgress, start: (onEvent: (e: SweepEvent) => void) => SweepHandle, what: 'start' | 'follow'): Promise<{ counts: SweepCounts; cancelled: boolean } | undefined> {
    this.slurmSweepDirs.add(sweep.sweepId);
    try {
      return await this.followSweep(sweep, start, what);
    } finally {
      this.slurmSweepDirs.delete(sweep.sweepId);
    }
  }

  /**
   * Follow every local sweep whose detached scheduler is still running (started by a window before
   * a reload, or by another window): the sweep view and its progress notification come back, with
   * Cancel. Called on activation.
   */
  reattachSweeps(): number {
    let n = 0;
    for (const runsDir of this.runsDirs()) {
      let names: string[];
      try {
        names = fs.readdirSync(runsDir).filter((x) => x.startsWith('sweep-'));
      } catch {
        continue;
      }
      for (const name of names) {
        const dir = path.resolve(runsDir, name);
        for (const files of liveSessions(dir)) {
          if (this.sweepFollowers.has(files.plan)) continue;
          let plan: SweepPlan;
          try {
            plan = readSessionPlan(files.plan).plan;
          } catch (e) {
            this.deps.log.error(`sweep in ${logText(dir)}: cannot read its plan: ${e instanceof Error ? e.message : String(e)}`);
            continue;
          }
          const sweep: SweepProgress = { plan, sweepId: path.resolve(plan.dir), outcomes: [], started: [], total: 0, ended: 0, report: () => undefined, adopted: new Map() };
          this.deps.log.info(`sweep ${logText(plan.name)}: following its running scheduler again (session ${files.id})`);
          void this.followHostedSweep(sweep, files).then((end) => {
            if (end !== undefined) this.tellSweepEnd(plan.name, end);
          });
          n++;
        }
      }
    }
    return n;
  }

  /** The end of a sweep, said once: an error message when runs failed, else an information message. */
  private tellSweepEnd(name: string, end: { counts: SweepCounts; cancelled: boolean }): void {
    const failed = end.counts.failed + end.counts.killed;
    const summary = `Gradflow sweep ${logText(name)}${end.cancelled ? ' cancelled' : ''}: ${countsText(end.counts)}.`;
    if (failed > 0) void this.errorWithLog(summary);
    else void vscode.window.showInformationMessage(summary);
  }

  /**
   * Follow a hosted sweep's session in a cancellable progress notification until its `done` (or
   * until its scheduler is found dead). Its events drive the log, the counters and the sweep view as
   * the in-window scheduler's did; its runs are followed from their folders as they start; Cancel
   * records a cancel request that the scheduler honours (running runs stop, asked by the sweep).
   */
  private async followHostedSweep(sweep: SweepProgress, files: SweepSessionFiles): Promise<{ counts: SweepCounts; cancelled: boolean } | undefined> {
    const { plan, sweepId } = sweep;
    const tally = emptyCounts();
    /** Configurations the scheduler took up (started, or found busy): the others never started. */
    const taken = new Set<string>();
    let cancelledBy: string | undefined;
    let end: { counts: SweepCounts; cancelled: boolean } | undefined;
    let note: string | undefined;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Gradflow sweep: ${logText(plan.name)}`, cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          sweep.report = (message, increment) => progress.report({ message, ...(increment !== undefined ? { increment } : {}) });
          token.onCancellationRequested(() => {
            try {
              requestSweepCancel(files, 'vscode');
              cancelledBy ??= 'Cancel in VS Code';
              sweep.report('cancelling: no more runs start; running ones stop after their step');
              this.deps.log.info(`sweep ${logText(plan.name)}: cancel requested`);
            } catch (e) {
              void this.errorWithLog(`Gradflow: cancelling the sweep failed: ${e instanceof Error ? e.message : String(e)}`);
            }
          });
          const follower = new SweepSessionFollower(files, {
            record: (r) => {
              if (r.kind === 'done') {
                end = { counts: r.counts, cancelled: r.cancelled };
                if (r.error !== undefined) void this.errorWithLog(`Gradflow: the sweep ${logText(plan.name)} failed: ${r.error}`);
                if (r.cancelled) {
                  note = 'cancelled: no more runs were started; running ones were stopped';
                  // Each configuration says what became of it: the pending ones why they did not start.
                  for (const p of plan.runs)
                    if (!taken.has(p.id)) this.deps.dashboard.applySweepEvent(sweepId, { type: 'unstarted', id: p.id, reason: `not started: the sweep was cancelled${cancelledBy !== undefined ? ` (${cancelledBy})` : ''}; Run Sweep again runs it` });
                }
                return;
              }
              const e = r.event;
              if (e.type === 'start' || e.type === 'busy' || e.type === 'end') taken.add(e.id);
              // The scheduler's own note names who cancelled (a window before a reload, another window).
              if (e.type === 'log') cancelledBy ??= /^cancelled \((.+?)\)/.exec(e.message)?.[1];
              if (e.type === 'end') {
                countEnd(tally, e.status);
                sweep.outcomes.push({
                  status: e.status,
                  ...(e.summary !== undefined ? { runId: e.summary.runId, summary: e.summary } : {}),
                  ...(e.runDir !== undefined ? { runDir: e.runDir } : {}),
                  ...(e.error !== undefined ? { error: e.error } : {}),
                  diverged: e.summary !== undefined ? divergedNets(e.summary) : [],
                  exit: { code: null, signal: null, stderrTail: [] },
                });
              }
              this.onSweepEvent(sweep, e);
              if (e.type === 'start' || e.type === 'progress') this.adoptSweepRun(sweep, e.id);
            },
            dead: () => {
              end = { counts: tally, cancelled: false };
              note = 'its scheduler ended without finishing (killed?): Run Sweep again resumes it';
              void this.errorWithLog(`Gradflow: the sweep ${logText(plan.name)} stopped: ${note} (log: ${files.log})`);
            },
            error: (e) => this.deps.log.error(`sweep ${logText(plan.name)}: following ${logText(files.events)}: ${e instanceof Error ? e.message : String(e)}`),
          });
          this.sweepFollowers.set(files.plan, follower);
          this.followedSweepDirs.set(files.plan, sweepId);
          follower.start();
          // The follower ends on `done` or `dead` (both set `end`), or when this window goes (dispose).
          const check = setInterval(() => {
            if (end !== undefined || !this.sweepFollowers.has(files.plan)) {
              clearInterval(check);
              this.sweepFollowers.delete(files.plan);
              this.followedSweepDirs.delete(files.plan);
              resolve();
            }
          }, 200);
        }),
    );
    if (end !== undefined) this.deps.dashboard.setSweepStatus(sweepId, end.cancelled || note !== undefined ? 'stopped' : 'finished', note);
    return end;
  }

  /** Follow the run of configuration `id` of a hosted sweep once its folder is there (looked for at most twice a second per id). */
  private adoptSweepRun(sweep: SweepProgress, id: string): void {
    const adopted = sweep.adopted;
    if (adopted === undefined) return;
    const last = adopted.get(id);
    if (last === -1) return;
    const now = Date.now();
    if (last !== undefined && now - last < 500) return;
    adopted.set(id, now);
    const live = listRuns(sweep.plan.dir).filter((r) => r.configId === id && r.status === 'running');
    if (live.length === 0) return;
    this.adoptLive(live);
    adopted.set(id, -1);
  }

  /** One event of the sweep scheduler: the log, the progress notification and the sweep view. */
  private onSweepEvent(sweep: SweepProgress, e: SweepEvent): void {
    const { dashboard, log } = this.deps;
    const { plan, sweepId } = sweep;
    switch (e.type) {
      case 'plan':
        sweep.total = e.toRun;
        log.info(`sweep ${logText(plan.name)}: ${e.total} configurations, ${e.skipped} already finished, ${e.toRun} to run on ${e.workers} worker(s) in ${plan.dir}`);
        for (const o of e.otherVersions)
          log.warn(`sweep ${logText(plan.name)}: ${o.runs} finished run(s) were made by gradflow ${o.version}, not ${GRADFLOW_VERSION}; they are reused (delete their folders to redo them)`);
        // The sweep view starts from the folder (finished configurations of earlier sessions show
        // their results at once), then follows the runs as they go.
        try {
          dashboard.addSweep(loadSweepFolder(sweepId, 'running'));
        } catch (err) {
          log.error(`sweep ${logText(plan.name)}: the sweep view could not read ${sweepId}: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (this.deps.config.openDashboardOnRun && dashboard.hasSweep(sweepId)) this.deps.showSweep(sweepId);
        sweep.report(`0/${e.toRun} runs (${e.skipped} already finished)`);
        return;
      case 'log':
        log.info(`sweep ${logText(plan.name)}: ${e.message}`);
        return;
      case 'busy':
        log.info(`sweep ${logText(plan.name)}: ${e.id} ${e.holder}; not run by this window`);
        sweep.ended++;
        sweep.report(`${sweep.ended}/${sweep.total} runs`, 100 / Math.max(1, sweep.total));
        break;
      case 'end':
        sweep.ended++;
        sweep.report(`${sweep.ended}/${sweep.total} runs`, 100 / Math.max(1, sweep.total));
        break;
      case 'start':
      case 'progress':
      case 'slurm':
        break;
      default: {
        const never: never = e;
        return never;
      }
    }
    dashboard.applySweepEvent(sweepId, e);
  }

  /**
   * Follow a Slurm sweep in a cancellable progress notification until Slurm has ended its tasks:
   * `start` submits the array (Run Sweep) or follows the live ones (after a reload). Cancel runs
   * scancel. Undefined when it could not start or be followed (said to the user).
   */
  private async followSweep(
    sweep: SweepProgress,
    start: (onEvent: (e: SweepEvent) => void) => SweepHandle,
    what: 'start' | 'follow',
  ): Promise<{ counts: SweepCounts; cancelled: boolean } | undefined> {
    const { plan, sweepId } = sweep;
    let end: { counts: SweepCounts; cancelled: boolean } | undefined;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Gradflow sweep: ${logText(plan.name)}`, cancellable: true },
      async (progress, token) => {
        sweep.report = (message, increment) => progress.report({ message, ...(increment !== undefined ? { increment } : {}) });
        let handle: SweepHandle;
        try {
          handle = start((e) => this.onSweepEvent(sweep, e));
        } catch (err) {
          void this.errorWithLog(`Gradflow: the sweep ${what === 'start' ? 'cannot start' : `${logText(plan.name)} cannot be followed`}: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
        let cancelled = false;
        let cancelNote = 'cancelled: no more runs were started';
        let followTimer: NodeJS.Timeout | undefined;
        let followed = false;
        token.onCancellationRequested(() => {
          cancelled = true;
          // scancel the sweep's arrays, then keep following them until Slurm reports every
          // task over, so that each row ends as what happened to it (stopped: Slurm CANCELLED, or
          // finished) rather than frozen at PENDING/RUNNING. A running task gets SIGTERM and writes
          // a `stopped` summary; if Slurm has not settled within SLURM_CANCEL_FOLLOW_MS, stop following.
          // squeue and scancel are asked without blocking the extension host.
          sweep.report('cancelling: asking Slurm to cancel the tasks');
          cancelSweep(plan.dir).then(
            (jobs) => {
              cancelNote = jobs.length > 0 ? `cancelled: scancel ${jobs.join(' ')}` : 'cancelled: nothing was left to cancel on the cluster';
              this.deps.log.info(`sweep ${logText(plan.name)}: scancel ${jobs.join(' ') || '(nothing left to cancel)'}`);
              sweep.report('cancelling: scancel sent, waiting for Slurm to end the tasks');
              if (!followed) followTimer = setTimeout(() => handle.stop(), SLURM_CANCEL_FOLLOW_MS);
            },
            (err: unknown) => {
              handle.stop();
              cancelNote = `cancel failed: ${err instanceof Error ? err.message : String(err)}`;
              void this.errorWithLog(`Gradflow: cancelling the Slurm sweep failed: ${err instanceof Error ? err.message : String(err)}`);
            },
          );
        });
        const stopFollowing = (): void => handle.stop();
        this.slurmFollowStops.add(stopFollowing);
        let counts: SweepCounts;
        try {
          counts = await handle.done;
        } finally {
          followed = true;
          this.slurmFollowStops.delete(stopFollowing);
          if (followTimer !== undefined) clearTimeout(followTimer);
        }
        // The window went (reload): the array goes on, the next window follows it and tells its end.
        if (this.disposed) return;
        end = { counts, cancelled };
        this.deps.dashboard.setSweepStatus(sweepId, cancelled ? 'stopped' : 'finished', cancelled ? cancelNote : undefined);
      },
    );
    return end;
  }

  /**
   * Ask a run to stop after its current step: the request is recorded in its folder (who asked:
   * Stop in VS Code), where its host — this window's supervisor, a previous window's, `gradflow run`
   * in a terminal — sees it; a run of this window that has no folder yet is asked on its channel.
   * A run that has not ended within the grace period is killed.
   */
  stop(run: LiveRun): void {
    if (!isLive(run.status)) return;
    if (run.stopRequested) return;
    run.stopRequested = true;
    this.deps.log.info(`[${logText(run.name)}] stop requested`);
    if (run.runDir !== undefined) {
      try {
        requestStop(run.runDir, { by: 'vscode' });
      } catch (e) {
        this.deps.log.error(`[${logText(run.name)}] could not record the stop request in ${logText(run.runDir)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    run.session?.stop();
    const timer = setTimeout(() => {
      if (run.over) return;
      this.deps.log.warn(`[${logText(run.name)}] did not stop within ${STOP_GRACE_MS / 1000} s: killing the trainer`);
      run.killedByUs = true;
      this.kill(run);
    }, STOP_GRACE_MS);
    void run.ended.then(() => clearTimeout(timer));
  }

  /** Kill a run at once: this window's supervisor with its trainer (its process group), or a followed run's trainer on this host. */
  private kill(run: LiveRun): void {
    const pid = run.handle?.pid;
    try {
      if (pid !== undefined) process.kill(-pid, 'SIGKILL');
      else if (run.trainer !== undefined && (run.trainer.host === undefined || run.trainer.host === os.hostname()) && run.trainer.pid > 0) process.kill(run.trainer.pid, 'SIGKILL');
      else this.deps.log.warn(`[${logText(run.name)}] runs on ${run.trainer?.host ?? 'another host'}: it cannot be killed from here`);
    } catch (e) {
      this.deps.log.warn(`[${logText(run.name)}] kill: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Follow every live run found in these records that this window does not show yet (a run started
   * by a window before a reload, by the CLI, by another window): shown live again, Stop works, its
   * end is told. Called on activation and whenever the Runs view reads the runs folders.
   */
  adoptLive(records: readonly RunRecord[]): LiveRun[] {
    const adopted: LiveRun[] = [];
    for (const r of records) {
      if (r.status !== 'running') continue;
      const run = this.follow(r);
      if (run !== undefined) adopted.push(run);
    }
    return adopted;
  }

  /** Follow one live run from its folder; undefined when it is already shown or cannot be (no config). */
  follow(record: RunRecord): LiveRun | undefined {
    for (const r of this.runs.values()) {
      if (r.runId === record.runId || r.runDir === record.runDir) return undefined;
      if (record.launchId !== undefined && r.launchId === record.launchId) return undefined;
    }
    const config = readRunConfig(record.runDir);
    if (config === undefined) return undefined;
    const key = `run-${this.nextKey++}`;
    const name = runTitle(record);
    let resolveEnded: (o: RunOutcome) => void = () => undefined;
    const ended = new Promise<RunOutcome>((resolve) => (resolveEnded = resolve));
    const source = record.sourceFile;
    const run: LiveRun = {
      key,
      runId: record.runId,
      runDir: record.runDir,
      name,
      uri: vscode.Uri.file(source ?? path.join(record.runDir, 'config.json')),
      config,
      status: 'running',
      step: 0,
      totalSteps: 0,
      egf2: [],
      layerNames: [],
      startedAt: new Date(record.startedAt),
      trainer: { pid: record.pid, ...(record.host !== undefined ? { host: record.host } : {}) },
      over: false,
      // A sweep's run ends quietly, as in a sweep this window runs.
      quiet: record.configId !== undefined,
      stopRequested: false,
      killedByUs: false,
      ended,
      ...(record.backend !== undefined ? { backend: record.backend } : {}),
      ...(source === undefined ? { noSource: true } : {}),
    };
    this.runs.set(key, run);
    this.deps.log.info(`[${logText(name)}] following run ${record.runId} from its folder ${logText(record.runDir)} (started ${record.startedAt}${record.host !== undefined ? ` on ${record.host}` : ''}, pid ${record.pid})`);
    // The run's entry is rebuilt from its log: an entry listed before (a restored dashboard) goes,
    // and a fresh one is there at once (a dashboard restored next can show it before the log is read).
    this.deps.dashboard.removeRun(record.runId);
    this.deps.dashboard.addRun({
      runId: record.runId,
      title: name,
      startedAt: record.startedAt,
      status: 'running',
      ...(source !== undefined ? { sourceFile: source } : {}),
      ...(record.backend !== undefined ? { backend: record.backend } : {}),
    });
    // Its diagnostics come back as its log is read (alerts, a refused setting).
    if (source !== undefined) this.resetDiagnostics(run.uri);
    const follower = new RunFollower(record.runDir, {
      message: (m) => {
        try {
          this.onMessage(run, m, false);
        } catch (e) {
          this.deps.log.error(`[${logText(run.name)}] handling ${m.type}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        }
      },
      ended: (rec) => resolveEnded(this.onFollowedEnd(run, rec)),
      error: (e) => this.deps.log.error(`[${logText(run.name)}] following ${logText(record.runDir)}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
      caughtUp: (n, ms) => this.deps.log.info(`[${logText(run.name)}] read the ${n} messages its log had in ${ms} ms`),
    });
    run.follower = follower;
    follower.start();
    this.setContext();
    this.changed.fire(run);
    return run;
  }

  /** A followed run ended: its folder says how (readRun: summary, stop request, or killed). */
  private onFollowedEnd(run: LiveRun, record: RunRecord): RunOutcome {
    run.follower = undefined;
    const summary = readSummary(record.runDir);
    if (summary !== undefined) run.summary = summary;
    run.status = record.status;
    if (record.stoppedBy !== undefined) run.stoppedBy = record.stoppedBy;
    if (isFailure(record.status)) run.error ??= record.reason ?? (record.status === 'killed' ? 'the trainer died without writing a summary' : record.status);
    const outcome: RunOutcome = {
      status: record.status,
      runId: record.runId,
      runDir: record.runDir,
      ...(summary !== undefined ? { summary } : {}),
      ...(run.error !== undefined ? { error: run.error } : {}),
      diverged: record.diverged ?? [],
      // Not this window's child: its exit was not seen (the folder says how it ended).
      exit: { code: null, signal: null, stderrTail: [] },
    };
    this.tellEnd(run, record.reason, undefined);
    return outcome;
  }

  /**
   * The provisional dashboard entry of a run about to start, shown at once (with
   * `gradflow.openDashboardOnRun`). Returns its id, or undefined when the dashboard is not opened on runs.
   */
  private openStarting(uri: vscode.Uri): string | undefined {
    if (!this.deps.config.openDashboardOnRun || uri.scheme !== 'file') return undefined;
    const id = `starting-run-${this.nextKey++}`;
    const title = path.basename(uri.fsPath).replace(/\.gradflow\.ya?ml$|\.ya?ml$/, '');
    this.deps.dashboard.addRun({ runId: id, title, sourceFile: uri.fsPath, status: 'starting' });
    this.deps.dashboard.setStatus(id, 'starting', 'reading the experiment file');
    this.deps.showDashboard(id);
    return id;
  }

  /** Parse and check the file; on problems, say so and return undefined (nothing starts). */
  private async prepare(uri: vscode.Uri): Promise<Prepared | undefined> {
    if (uri.scheme !== 'file') {
      // The run records its source file and resolves relative paths against its folder.
      void vscode.window.showErrorMessage('Gradflow: save the experiment file to disk (as *.gradflow.yaml) before running it.');
      return undefined;
    }
    let text: string;
    try {
      // A file the editor has not loaded is sized first: a 3 GB *.gradflow.yaml costs one stat.
      if (!vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) {
        const size = fs.statSync(uri.fsPath).size;
        if (size > MAX_EXPERIMENT_FILE_BYTES) {
          void vscode.window.showErrorMessage(`Gradflow: ${tooLargeMessage(uri.fsPath, size, { maxBytes: MAX_EXPERIMENT_FILE_BYTES, what: 'experiment file' })}. The run was not started.`);
          return undefined;
        }
      }
      text = (await vscode.workspace.openTextDocument(uri)).getText();
    } catch (e) {
      void vscode.window.showErrorMessage(`Gradflow: cannot read ${uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    const file = uri.fsPath;
    const folder = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath;
    const runsDir = defaultRunsDir(this.deps.config.runsDir, folder, path.dirname(file));
    // defaults ← settings ← file, the same resolution as the CLI's (src/config/layers.ts).
    const parsed = parseExperiment(text, file, { settings: settingsLayer(this.deps.config.runSettings(), runsDir) });
    const errors = parsed.issues.filter((i) => i.severity === 'error');
    if (parsed.config === undefined || errors.length > 0) {
      for (const i of parsed.issues) this.deps.log.error(formatIssue(i));
      const first = errors[0] ?? parsed.issues[0];
      const detail = first !== undefined ? `: line ${first.line}: ${first.message}` : '';
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
      void vscode.window
        .showErrorMessage(`Gradflow: ${path.basename(file)} has ${errors.length} problem${errors.length === 1 ? '' : 's'}${detail}${more}. The run was not started.`, 'Show Problems')
        .then((choice) => {
          if (choice === 'Show Problems') void showProblemsOf(uri, first, this.deps.workspaceState);
        });
      return undefined;
    }
    const runtime = resolveNodeRuntime({
      setting: this.deps.config.nodePath,
      envPath: process.env.PATH,
      platform: process.platform,
      execPath: process.execPath,
      electron: process.versions.electron !== undefined,
      isExecutable,
    });
    if (runtime.warning !== undefined) this.deps.log.warn(runtime.warning);
    const config = withRuntimeBackend(parsed.config, runtime.backend);
    return { uri, file, text, parsed, config, runtime, ...(parsed.sweep !== undefined ? { sweep: parsed.sweep } : {}) };
  }

  private launch(
    prep: Prepared,
    config: ExperimentConfig,
    opts: { configId?: string; sweep?: string; sweepId?: string; quiet?: boolean; openDashboard?: boolean; startingId?: string },
  ): LiveRun | undefined {
    const trainerPath = vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'trainer.js').fsPath;
    const cliPath = vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'cli.js').fsPath;
    for (const bundle of [trainerPath, cliPath]) {
      if (!fs.existsSync(bundle)) {
        void this.errorWithLog(`Gradflow: the ${path.basename(bundle, '.js')} bundle is missing (${bundle}); reinstall the extension or run npm run build.`);
        return undefined;
      }
    }
    const key = `run-${this.nextKey++}`;
    const launchId = `vscode-${process.pid}-${randomBytes(6).toString('hex')}`;
    this.deps.log.info(
      `[${config.name}] starting: ${prep.runtime.nodePath} (${prep.runtime.source}) ${cliPath} supervise (detached) → ${trainerPath}, backend ${config.run.backend}, runs in ${config.run.runsDir}`,
    );
    // The run's host is a detached supervisor (src/cli/supervise.ts), not this window: it speaks
    // the trainer protocol to us while we are here and outlives a reload.
    const session = startRun({
      trainerPath: cliPath,
      args: ['supervise'],
      detached: true,
      nodePath: prep.runtime.nodePath,
      config,
      sourceFile: prep.file,
      backend: config.run.backend,
      cwd: path.dirname(prep.file),
      env: { ...(this.deps.trainerEnv?.() ?? {}), ...prep.runtime.env, [LAUNCH_ID_ENV]: launchId },
      ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
    });
    const handle = session.handle;
    let resolveEnded: (o: RunOutcome) => void = () => undefined;
    const ended = new Promise<RunOutcome>((resolve) => (resolveEnded = resolve));
    const run: LiveRun = {
      key,
      name: runTitle({ name: config.name, ...(opts.configId !== undefined ? { configId: opts.configId } : {}) }),
      uri: prep.uri,
      config,
      status: 'starting',
      step: 0,
      totalSteps: 0,
      egf2: [],
      layerNames: [],
      startedAt: new Date(),
      handle,
      session,
      launchId,
      over: false,
      quiet: opts.quiet === true,
      stopRequested: false,
      killedByUs: false,
      ended,
      ...(opts.sweep !== undefined ? { sweep: opts.sweep } : {}),
      ...(opts.sweepId !== undefined && opts.configId !== undefined ? { sweepId: opts.sweepId, configId: opts.configId } : {}),
    };
    this.runs.set(key, run);
    const openDashboard = (opts.openDashboard ?? true) && this.deps.config.openDashboardOnRun;
    // Every run has a dashboard entry from its start: a provisional one ("starting": backend, data,
    // networks), replaced by the real run when the trainer reports it. A run that fails before that
    // keeps it, with its error and log tail, so that its Runs view row opens something.
    run.startingId = opts.startingId ?? `starting-${key}`;
    if (opts.startingId === undefined) this.deps.dashboard.addRun({ runId: run.startingId, title: run.name, sourceFile: prep.file, status: 'starting' });
    this.deps.dashboard.setStatus(run.startingId, 'starting', 'starting the trainer process');
    if (openDashboard && opts.startingId === undefined) this.deps.showDashboard(run.startingId);
    handle.onStderr((line) => this.deps.log.info(`[${logText(run.name)}] ${line}`));
    handle.onMessage((m) => {
      try {
        this.onMessage(run, m, openDashboard);
      } catch (e) {
        // A bug in our handling must not lose the rest of the stream.
        this.deps.log.error(`[${logText(run.name)}] handling ${m.type}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    });
    void session.ended.then((o) => resolveEnded(this.onExit(run, o)));
    this.setContext();
    this.changed.fire(run);
    return run;
  }

  private onMessage(run: LiveRun, m: TrainerToHost, openDashboard: boolean): void {
    const { log, dashboard } = this.deps;
    switch (m.type) {
      case 'hello':
        log.debug(`[${logText(run.name)}] trainer pid ${m.pid}, protocol ${m.protocolVersion}`);
        return;
      case 'ready': {
        run.runId = m.runId;
        run.runDir = m.runDir;
        run.backend = m.backend;
        run.totalSteps = m.totalSteps;
        run.status = 'running';
        const primary = m.nets.find((n) => n.net === 'sparse') ?? m.nets[0];
        run.layerNames = primary?.layers.map((l) => l.name) ?? [];
        dashboard.addRun({ runId: m.runId, title: run.name, sourceFile: run.uri.fsPath, backend: m.backend, status: 'running' });
        dashboard.apply(m.runId, m);
        if (run.startingId !== undefined) {
          dashboard.removeRun(run.startingId, m.runId);
          run.startingId = undefined;
        }
        if (run.sweepId !== undefined && run.configId !== undefined) {
          dashboard.applySweepEvent(run.sweepId, { type: 'run', id: run.configId, runId: m.runId, runDir: m.runDir });
        }
        log.info(`[${logText(run.name)}] ready: run ${m.runId} on ${m.backend}, ${m.totalSteps} steps, dataset ${m.dataset.name} (${m.dataset.train} train / ${m.dataset.test} test) in ${m.runDir}`);
        if (openDashboard) this.deps.showDashboard(m.runId);
        break;
      }
      case 'step': {
        const s = m.metrics;
        if (s.step > run.step) {
          run.step = s.step;
          // The state coalesces these into one row update per drain (≤ 4 per second).
          if (run.sweepId !== undefined && run.configId !== undefined) {
            dashboard.applySweepEvent(run.sweepId, { type: 'progress', id: run.configId, step: s.step, totalSteps: run.totalSteps });
          }
        }
        const primaryNet = run.config.sparsity.method === 'none' ? 'dense' : 'sparse';
        if (s.layers.length > 0 && s.net === primaryNet) {
          run.egf2.push(s.egf2);
          if (run.egf2.length > EGF_HISTORY) run.egf2.shift();
        }
        break;
      }
      case 'epoch': {
        const e = m.metrics;
        log.info(
          `[${logText(run.name)}] ${e.net} epoch ${e.epoch}: train loss ${e.train.loss.toFixed(4)} acc ${(100 * e.train.accuracy).toFixed(1)}%, validation acc ${(100 * e.validation.accuracy).toFixed(1)}%`,
        );
        break;
      }
      case 'flow':
        break;
      case 'mask-update': {
        const u = m.update;
        const moved = u.layers.reduce((s, l) => s + l.grown, 0);
        log.debug(`[${logText(run.name)}] ${u.net} masks updated at step ${u.step} (${u.method}, fraction ${u.fraction.toFixed(3)}): ${moved} weights replaced`);
        break;
      }
      case 'alert':
        log.warn(`[${logText(run.name)}] alert ${m.alert.kind}: ${m.alert.message}`);
        this.addAlertDiagnostics(run, m);
        break;
      case 'log': {
        if (m.phase !== undefined && run.startingId !== undefined) dashboard.setStatus(run.startingId, 'starting', m.message);
        // The dashboard keeps the last lines for a failed run's log tail.
        const shownAs = run.runId ?? run.startingId;
        if (shownAs !== undefined) dashboard.apply(shownAs, m);
        if (m.level === 'error') log.error(`[${logText(run.name)}] ${m.message}`);
        else if (m.level === 'warn') log.warn(`[${logText(run.name)}] ${m.message}`);
        else log.info(`[${logText(run.name)}] ${m.message}`);
        return;
      }
      case 'done':
        run.summary = m.summary;
        run.status = statusOfSummary(m.summary);
        log.info(`[${logText(run.name)}] ${statusLabel(run.status, m.summary.nets.filter((n) => n.diverged !== undefined).map((n) => n.net))}${m.summary.reason !== undefined ? ` (${m.summary.reason})` : ''}: ${describeSummary(m.summary)}`);
        break;
      case 'error':
        run.status = 'failed';
        run.error = m.message;
        log.error(`[${logText(run.name)}] ${m.message}${m.stack !== undefined ? `\n${m.stack}` : ''}`);
        if (m.key !== undefined) void this.addConfigError(run, m.key, m.message);
        break;
      default: {
        const never: never = m;
        return never;
      }
    }
    if (run.runId !== undefined) dashboard.apply(run.runId, m);
    this.changed.fire(run);
  }

  /** A new run of this file starts: its previous run's diagnostics go. */
  private resetDiagnostics(uri: vscode.Uri): void {
    this.sendReport({ type: 'reset', uri: uri.toString() });
  }

  private addAlertDiagnostics(run: LiveRun, m: Extract<TrainerToHost, { type: 'alert' }>): void {
    if (run.noSource === true) return;
    const layerNames = run.layerNames;
    void this.runText(run).then((text) => {
      if (text === undefined) return;
      this.sendReport({ type: 'alert', uri: run.uri.toString(), text, alert: m.alert, config: run.config, layerNames });
    });
  }

  private async addConfigError(run: LiveRun, key: string, message: string): Promise<void> {
    if (run.noSource === true) return;
    const text = await this.runText(run);
    if (text === undefined) return;
    this.sendReport({ type: 'trainer-error', uri: run.uri.toString(), text, key, message });
  }

  /**
   * The file as the run saw it: recorded at the run's first report (a window before a reload
   * recorded it for a run it started), else the file as it is now, which is then recorded.
   * Undefined when the file cannot be read (deleted since).
   */
  private async runText(run: LiveRun): Promise<string | undefined> {
    let current: string;
    try {
      current = await this.currentText(run.uri);
    } catch {
      return undefined;
    }
    const state = this.deps.workspaceState;
    const text = state !== undefined && run.runId !== undefined ? baselineText(runTextsOf(state), run.uri.toString(), run.runId, current) : current;
    this.recordRunText(run, text);
    return text;
  }

  /**
   * Remember the file as the run's first report saw it (one entry per file, its last run), so that
   * the diagnostics restored after a window reload tell settings edited since the run apart.
   */
  private recordRunText(run: LiveRun, text: string): void {
    const state = this.deps.workspaceState;
    if (state === undefined || run.runId === undefined) return;
    const records = runTextsOf(state);
    const uri = run.uri.toString();
    if (records[uri]?.runId === run.runId) return;
    void state.update(RUN_TEXTS_KEY, { ...records, [uri]: { runId: run.runId, text } });
  }

  private sendReport(report: RunReport): void {
    this.deps.report(report).catch((e: unknown) => this.deps.log.error(`reporting ${report.type} on ${report.uri} to the language server: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** The file as the editor has it now (it may have changed since the run started). */
  private async currentText(uri: vscode.Uri): Promise<string> {
    return (await vscode.workspace.openTextDocument(uri)).getText();
  }

  private onExit(run: LiveRun, outcome: RunOutcome): RunOutcome {
    const exit = outcome.exit;
    run.exit = exit;
    // The session decided the status (summary, error, signal): one rule for every host.
    run.status = outcome.status;
    // A stopped run's reason says who asked: the folder has the request (runs/status.ts).
    const record = run.runDir !== undefined && run.status === 'stopped' ? readRun(run.runDir) : undefined;
    if (record?.stoppedBy !== undefined) run.stoppedBy = record.stoppedBy;
    this.tellEnd(run, record?.reason ?? run.summary?.reason, exit);
    return outcome;
  }

  /**
   * The end of a run, told once: the dashboard's entry, the log, the notification its status
   * deserves (unless quiet) and the status bar. `exit`: how this window's supervisor ended (absent
   * for a run followed from its folder).
   */
  private tellEnd(run: LiveRun, reason: string | undefined, exit: TrainerExit | undefined): void {
    if (run.over) return;
    run.over = true;
    const quiet = run.quiet;
    const code = exit === undefined ? undefined : exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    if (isFailure(run.status)) {
      const tail = (exit?.stderrTail ?? []).filter((l) => l.trim() !== '').slice(-12);
      if (code !== undefined) this.deps.log.error(`[${logText(run.name)}] trainer ended with ${code}${tail.length > 0 ? `; last stderr lines:\n${tail.join('\n')}` : ''}`);
      else this.deps.log.error(`[${logText(run.name)}] ${run.status}: ${logText(run.error ?? reason ?? '')}`);
      // The dashboard shows the error and the log tail, with the trainer's last stderr lines.
      const stderr = tail.map((l) => `stderr: ${l}`);
      const said = `${run.error?.split('\n')[0] ?? run.status}${code !== undefined ? ` (${code})` : ''}`;
      if (run.runId !== undefined) this.deps.dashboard.setStatus(run.runId, run.status, said, { log: stderr });
      // It never got to `ready`: the starting entry says why instead of spinning forever.
      else if (run.startingId !== undefined) this.deps.dashboard.setStatus(run.startingId, run.status, said, { log: stderr });
      const why = run.killedByUs
        ? 'was killed after not stopping in time'
        : run.status === 'killed'
          ? `was killed${code !== undefined ? ` (${code})` : ': its trainer died without writing a summary'}`
          : `failed${code !== undefined ? ` (${code})` : ''}`;
      const firstLine = run.status === 'killed' && code === undefined ? undefined : run.error?.split('\n')[0];
      // The last lines the trainer printed usually say why (a stack's top, an out-of-memory note).
      const last = tail.slice(-3).map((l) => l.trim());
      const output = last.length > 0 ? ` Last output: ${last.join(' ⏎ ')}` : '';
      if (!quiet) void this.errorWithLog(`Gradflow: run "${run.name}" ${why}${firstLine !== undefined ? `: ${firstLine}` : ''}.${output}`);
    } else {
      this.deps.log.info(`[${logText(run.name)}] ${code !== undefined ? `trainer exited (${code})` : `ended ${run.status} (followed from its folder)`}`);
      const s = run.summary;
      // The dashboard's entry says who stopped it (the `done` message has only the trainer's words).
      if (run.status === 'stopped' && run.runId !== undefined && reason !== undefined) this.deps.dashboard.setStatus(run.runId, 'stopped', reason);
      const notice = runEndNotice(run.name, run.status, s !== undefined ? divergedNets(s) : [], reason, s !== undefined ? describeSummary(s) : undefined);
      if (!quiet) {
        this.showOutcome(notice.statusBar, notice.message !== '' ? notice.message : notice.statusBar);
        if (notice.level === 'warning') void vscode.window.showWarningMessage(notice.message);
        else if (notice.level === 'info') void vscode.window.showInformationMessage(notice.message);
      }
    }
    this.setContext();
    this.changed.fire(run);
  }

  private async errorWithLog(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, 'Show Log');
    if (choice === 'Show Log') this.deps.log.show(true);
  }

  private setContext(): void {
    void vscode.commands.executeCommand('setContext', 'gradflow.hasRunningRuns', this.running().length > 0);
  }

  /**
   * The window goes (reload, close, extension host shut down): runs are NOT stopped. Each runs under
   * its detached supervisor and writes its folder; the next window follows it again. Only the
   * followers of this window end.
   */
  dispose(): void {
    for (const r of this.runs.values()) r.follower?.dispose();
    // Hosted sweeps go on too (their schedulers are detached); only following them ends.
    for (const f of this.sweepFollowers.values()) f.dispose();
    this.sweepFollowers.clear();
    // Slurm arrays are the cluster's: only following them ends (no end is told).
    this.disposed = true;
    for (const stop of this.slurmFollowStops) stop();
    this.slurmFollowStops.clear();
    this.outcomeItem?.dispose();
    this.changed.dispose();
  }
}

export function describeSummary(s: RunSummary): string {
  return s.nets
    .map((n) => {
      // JSON carries a diverged net's NaN as null: show "NaN", never "null".
      const acc = n.final.test.accuracy as number | null;
      return `${n.net} test acc ${acc === null || !Number.isFinite(acc) ? 'NaN' : `${(100 * acc).toFixed(1)}%`}, EGF₂ avg ${metricText(n.flowAverage.egf2 as number | null, 3)}${n.diverged !== undefined ? ' (diverged)' : ''}`;
    })
    .join('; ');
}
