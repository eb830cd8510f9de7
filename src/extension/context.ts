/**
 * Everything the extension holds while active, built once by `activate` (rust-analyzer style: one
 * context object, commands take it as their first argument).
 */
import * as vscode from 'vscode';
import { DashboardPanel, DashboardState, runInfoOf } from './dashboard';
import { GradflowConfig } from './config';
import { ServerController } from './language-client';
import { listPastRuns, loadIntoDashboard, readRunConfig, type PastRun } from './runs/past-runs';
import { RunManager } from './runs/run-manager';
import { RunsTreeProvider } from './runs/runs-tree';
import { revealAlert } from './reveal';
import { defaultCacheDir, ensureDatasets } from './datasets';
import type { Alert } from '../shared/protocol';
import { readMetricsLog } from '../runs/store';
import { baselineText, latestRunPerFile, restoreReports, runTextsOf } from './restore-diagnostics';

export class GradflowContext implements vscode.Disposable {
  readonly config = new GradflowConfig();
  readonly dashboard = new DashboardState();
  readonly runs: RunManager;
  readonly tree: RunsTreeProvider;
  readonly server: ServerController;
  /** Run folders of runs opened from disk, to find their config when an alert is revealed. */
  private readonly runDirs = new Map<string, string>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    readonly extensionUri: vscode.Uri,
    readonly log: vscode.LogOutputChannel,
    /** The extension's global storage folder: the default dataset cache lives under it. */
    readonly globalStorage: string,
    /** This workspace's extension state (what Show Problems did to the Problems view's filter). */
    private readonly workspaceState?: vscode.Memento,
  ) {
    this.server = new ServerController(extensionUri, log, this.config);
    this.runs = new RunManager({
      extensionUri,
      log,
      config: this.config,
      dashboard: this.dashboard,
      report: (r) => this.server.report(r),
      showDashboard: (runId) => this.showDashboard(runId),
      showSweep: (sweepId) => this.showSweep(sweepId),
      ...(workspaceState !== undefined ? { workspaceState } : {}),
      ensureData: (configs) => ensureDatasets(configs, { log, cacheDir: this.datasetCacheDir(), baseUrl: this.config.datasetBaseUrl }),
      trainerEnv: () => ({
        GRADFLOW_CACHE: this.datasetCacheDir(),
        ...(this.config.datasetBaseUrl !== '' ? { GRADFLOW_DATASET_BASE_URL: this.config.datasetBaseUrl } : {}),
      }),
    });
    this.tree = new RunsTreeProvider(this.runs);
    this.subs.push(
      DashboardPanel.onDidRevealAlert((runId, alert) => void this.onRevealAlert(runId, alert)),
      DashboardPanel.onDidOpenSweepRun((r) => this.openSweepRun(r.runId, r.runDir)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (GradflowConfig.needsRefresh(e)) this.tree.refresh();
      }),
    );
  }

  /** Cache folder for runs whose file sets no `dataset.cache_dir`. */
  datasetCacheDir(): string {
    return defaultCacheDir(this.globalStorage);
  }

  showDashboard(runId?: string): void {
    DashboardPanel.createOrShow(this.extensionUri, this.dashboard, { ...(runId !== undefined ? { runId } : {}), log: this.log });
  }

  /** Opens the dashboard on a sweep's table. */
  showSweep(sweepId: string): void {
    DashboardPanel.createOrShow(this.extensionUri, this.dashboard, { sweepId, log: this.log });
  }

  /** A row of the sweep table was clicked: its run is in memory (live or opened), or read from its folder. */
  private openSweepRun(runId: string, runDir: string | null): void {
    if (this.dashboard.hasRun(runId)) {
      this.showDashboard(runId);
      return;
    }
    if (runDir === null) {
      this.log.warn(`sweep view: run ${runId} has no known folder yet`);
      return;
    }
    void vscode.commands.executeCommand('gradflow.openRun', runDir);
  }

  /**
   * On activation: follow every live run of the workspace's runs folders (a run this window's
   * predecessor started goes on under its supervisor): shown live again, Stop works, its end told.
   */
  reattachRuns(): void {
    try {
      const adopted = this.runs.adoptLive(listPastRuns(this.runs.runsDirs()));
      if (adopted.length > 0) this.log.info(`reattached to ${adopted.length} live run(s): ${adopted.map((r) => r.runId ?? r.key).join(', ')}`);
      // Local sweeps' schedulers are detached too: their views and Cancel come back.
      const sweeps = this.runs.reattachSweeps();
      if (sweeps > 0) this.log.info(`reattached to ${sweeps} running sweep(s)`);
    } catch (e) {
      this.log.error(`reattaching to live runs: ${e instanceof Error ? e.message : String(e)}`);
    }
    // Slurm arrays Run Sweep submitted and the cluster still runs: asked of squeue without blocking activation.
    this.runs.reattachSlurmSweeps().then(
      (n) => {
        if (n > 0) this.log.info(`reattached to ${n} Slurm sweep(s) still running on the cluster`);
      },
      (e: unknown) => this.log.error(`reattaching to Slurm sweeps: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /**
   * After a window reload (or any activation) the language server has no run diagnostics: send it,
   * for each experiment file that still exists, the reports of its latest recorded run, as a live
   * run would (see restore-diagnostics.ts). Files with no alerts and no refused setting send nothing.
   */
  async restoreDiagnostics(): Promise<void> {
    let past: PastRun[] = [];
    try {
      past = listPastRuns(this.runs.runsDirs());
    } catch (e) {
      this.log.error(`restoring diagnostics: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const records = this.workspaceState !== undefined ? runTextsOf(this.workspaceState) : {};
    for (const [file, run] of latestRunPerFile(past)) {
      // A live run is followed from its folder: its alerts come back as its log is read.
      if (this.runs.byRunId(run.runId) !== undefined) continue;
      try {
        const uri = vscode.Uri.file(file);
        let current: string;
        try {
          current = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
        } catch {
          continue; // the file is gone: nothing to show diagnostics on
        }
        const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
        const text = baselineText(records, uri.toString(), run.runId, open?.getText() ?? current);
        const reports = restoreReports(uri.toString(), text, readMetricsLog(run.runDir).messages, readRunConfig(run.runDir));
        if (reports.length <= 1) continue; // only the reset: nothing to restore
        for (const r of reports) await this.server.report(r);
        this.log.info(`restored ${reports.length - 1} run report(s) of ${run.runId} on ${file}`);
      } catch (e) {
        this.log.error(`restoring diagnostics of ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /**
   * After a window reload the dashboard comes back with an empty state: list in it every recorded
   * run the Runs view lists (metrics read when a run is first shown) and show the one the page
   * showed before the reload (its saved UI state), else the newest.
   */
  restoreDashboard(pageState: unknown): void {
    let past: PastRun[] = [];
    try {
      past = listPastRuns(this.runs.runsDirs());
    } catch (e) {
      this.log.error(`restoring the dashboard: ${e instanceof Error ? e.message : String(e)}`);
    }
    // Oldest first: the page's run list keeps insertion order, so the newest ends up last (its default).
    for (const r of [...past].reverse()) {
      // A followed run has its entry already, rebuilt from its log as it goes.
      if (this.runs.byRunId(r.runId) !== undefined) continue;
      this.dashboard.addLazyRun(
        runInfoOf(r),
        () => {
          this.rememberRunDir(r.runId, r.runDir);
          try {
            loadIntoDashboard(this.dashboard, r);
          } catch (e) {
            this.log.error(`restoring run ${r.runId}: ${e instanceof Error ? e.message : String(e)}`);
          }
        },
      );
    }
    const saved = typeof pageState === 'object' && pageState !== null && 'runId' in pageState ? pageState.runId : undefined;
    const wanted = typeof saved === 'string' && this.dashboard.hasRun(saved) ? saved : past[0]?.runId;
    if (wanted !== undefined) this.dashboard.focus(wanted);
    // A sweep that went on through the reload (reattached already) is what the view was following;
    // else the sweep the page showed, when this window has it (followed again and over since: a page
    // restored late, on a loaded machine, must not fall back to a run).
    const page = typeof pageState === 'object' && pageState !== null ? (pageState as { view?: unknown; sweepId?: unknown }) : {};
    const shownSweep = page.view === 'sweep' && typeof page.sweepId === 'string' && this.dashboard.hasSweep(page.sweepId) ? page.sweepId : undefined;
    const sweep = this.runs.followedSweeps().find((id) => this.dashboard.hasSweep(id)) ?? shownSweep;
    if (sweep !== undefined) this.dashboard.focusSweep(sweep);
    this.log.info(`dashboard restored after reload: ${past.length} recorded run(s)${sweep !== undefined ? `, showing the running sweep ${sweep}` : wanted !== undefined ? `, showing ${wanted}` : ''}`);
  }

  rememberRunDir(runId: string, runDir: string): void {
    this.runDirs.set(runId, runDir);
  }

  private async onRevealAlert(runId: string, alert: Alert): Promise<void> {
    const live = this.runs.byRunId(runId);
    const file = live?.uri.fsPath ?? this.dashboard.getRun(runId)?.sourceFile;
    if (file === undefined) {
      void vscode.window.showInformationMessage('Gradflow: this run does not record its experiment file.');
      return;
    }
    const runDir = live?.runDir ?? this.runDirs.get(runId);
    const config = live?.config ?? (runDir !== undefined ? readRunConfig(runDir) : undefined);
    try {
      await revealAlert(this.server, file, alert, config);
    } catch (e) {
      this.log.error(`revealing alert of ${runId}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.tree.dispose();
    this.runs.dispose();
    this.server.dispose();
  }
}
