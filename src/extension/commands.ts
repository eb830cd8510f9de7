/**
 * The command table: every contributed command and what it does, in one place. Commands receive
 * what their callers pass: nothing (palette), a `Uri` (editor title, explorer), a URI string (the
 * language server's code lens), a run id (Runs view, dashboard) or a run folder (past runs).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LANGUAGE_ID, RUN_COMMAND, RUN_SWEEP_COMMAND } from '../shared/lsp-protocol';
import { readRun } from '../runs/store';
import { readManifest } from '../runs/sweep';
import { runLabels } from './run-names';
import { isRecord } from '../shared/guards';
import { startLabel, statusLabel } from '../runs/status';
import { loadSweepResults, writeReport } from '../study/report';
import type { GradflowContext } from './context';
import { listSweepFolders, loadSweepFolder } from './dashboard';
import { BIG_LOG_BYTES, listPastRuns, loadIntoDashboard, loadIntoDashboardAsync, metricsLogBytes } from './runs/past-runs';
import { humanBytes } from '../shared/bounded-read';
import type { LiveRun, RunOutcome } from './runs/run-manager';
import type { RunsNode } from './runs/runs-tree';
import { logText } from '../shared/sanitize';

type Handler = (ctx: GradflowContext, ...args: unknown[]) => unknown;

/** The experiment file a command is about: its argument, the active editor, or one picked from the workspace. */
async function experimentUri(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg !== '') return vscode.Uri.parse(arg);
  const active = vscode.window.activeTextEditor?.document;
  if (active !== undefined && active.languageId === LANGUAGE_ID) return active.uri;
  const files = await vscode.workspace.findFiles('**/*.gradflow.{yaml,yml}', '**/node_modules/**', 200);
  if (files.length === 0) {
    void vscode.window.showWarningMessage('Gradflow: no experiment file (*.gradflow.yaml) is open or in the workspace.');
    return undefined;
  }
  if (files.length === 1) return files[0];
  const pick = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), uri })),
    { placeHolder: 'Experiment file to run' },
  );
  return pick?.uri;
}

async function pickRunning(ctx: GradflowContext, arg: unknown): Promise<LiveRun | undefined> {
  if (typeof arg === 'string') return ctx.runs.byRunId(arg) ?? ctx.runs.byKey(arg);
  if (isNode(arg) && arg.kind === 'live') return arg.run;
  const running = ctx.runs.running();
  if (running.length <= 1) return running[0];
  const pick = await vscode.window.showQuickPick(
    running.map((run) => ({
      label: run.name,
      description: `${run.totalSteps > 0 ? `step ${run.step}/${run.totalSteps}` : run.status} · started ${startLabel(run.startedAt.toISOString())}${run.runId !== undefined ? ` · ${run.runId}` : ''}`,
      run,
    })),
    { placeHolder: 'Run to stop' },
  );
  return pick?.run;
}

function isNode(v: unknown): v is RunsNode {
  return typeof v === 'object' && v !== null && 'kind' in v;
}

/** Shown when a run is asked for in Restricted Mode (package.json `capabilities.untrustedWorkspaces`). */
export const RESTRICTED_MODE_MESSAGE =
  'Gradflow: running is disabled in Restricted Mode. A run starts a trainer process on files from this workspace (the experiment file, dataset folders, the runs folder), so Gradflow only runs in a workspace you trust. Validation, hovers, completion and quick fixes keep working.';

/** True when the workspace is trusted; otherwise says why nothing runs (with a way to trust it). */
function trustedForRuns(ctx: GradflowContext): boolean {
  if (vscode.workspace.isTrusted) return true;
  ctx.log.warn('run refused: the workspace is not trusted (Restricted Mode)');
  void vscode.window.showWarningMessage(RESTRICTED_MODE_MESSAGE, 'Manage Workspace Trust').then((choice) => {
    if (choice === 'Manage Workspace Trust') void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}

export const COMMANDS: Record<string, Handler> = {
  [RUN_COMMAND]: async (ctx, arg): Promise<RunOutcome | undefined> => {
    if (!trustedForRuns(ctx)) return undefined;
    const uri = await experimentUri(arg);
    if (uri === undefined) return undefined;
    await saveIfDirty(uri);
    return ctx.runs.run(uri);
  },

  [RUN_SWEEP_COMMAND]: async (ctx, arg): Promise<RunOutcome[]> => {
    if (!trustedForRuns(ctx)) return [];
    const uri = await experimentUri(arg);
    if (uri === undefined) return [];
    await saveIfDirty(uri);
    return ctx.runs.runSweep(uri);
  },

  'gradflow.stop': async (ctx, arg) => {
    const run = await pickRunning(ctx, arg);
    if (run === undefined) {
      if (ctx.runs.running().length === 0) void vscode.window.showInformationMessage('Gradflow: no run is in progress.');
      return;
    }
    ctx.runs.stop(run);
  },

  'gradflow.showDashboard': (ctx, arg) => {
    // A live run's entry: the real run, or the provisional one of a run that has not (or never) got that far.
    const runId = typeof arg === 'string' ? arg : isNode(arg) && arg.kind === 'live' ? (arg.run.runId ?? arg.run.startingId) : undefined;
    ctx.showDashboard(runId);
  },

  'gradflow.openRun': async (ctx, arg) => {
    let runDir: string | undefined = typeof arg === 'string' ? arg : isNode(arg) && arg.kind === 'past' ? arg.run.runDir : undefined;
    if (runDir === undefined) {
      const runs = listPastRuns(ctx.runs.runsDirs());
      if (runs.length === 0) {
        void vscode.window.showInformationMessage(`Gradflow: no recorded runs in ${ctx.runs.runsDirs().join(', ') || 'the workspace'}.`);
        return;
      }
      // Sweep runs by their grid point (from the sweep's manifest), same-named runs of two files by file.
      const manifests = new Map<string, Map<string, Record<string, unknown>>>();
      const pointOf = (r: (typeof runs)[number]): Record<string, unknown> | undefined => {
        if (r.configId === undefined) return undefined;
        const dir = path.dirname(r.runDir);
        let points = manifests.get(dir);
        if (points === undefined) {
          points = new Map();
          try {
            for (const e of readManifest(dir).runs as unknown[]) if (isRecord(e) && typeof e.id === 'string' && isRecord(e.point)) points.set(e.id, e.point);
          } catch {
            /* no readable manifest: the run is named by its sweep only */
          }
          manifests.set(dir, points);
        }
        return points.get(r.configId);
      };
      const labels = runLabels(runs, pointOf);
      const pick = await vscode.window.showQuickPick(
        runs.map((r) => ({
          label: labels.get(r.runId) ?? r.name,
          description: `${statusLabel(r.status, r.diverged)}${r.backend !== undefined ? ` · ${r.backend}` : ''} · ${startLabel(r.startedAt)}${r.sweep !== undefined ? ` · sweep ${r.sweep}` : ''}`,
          detail: `${r.runId}${r.reason !== undefined && r.status !== 'finished' ? ` — ${r.reason.split('\n')[0]}` : ''} — ${r.runDir}`,
          runDir: r.runDir,
        })),
        { placeHolder: 'Past run to open in the dashboard', matchOnDescription: true, matchOnDetail: true },
      );
      runDir = pick?.runDir;
    }
    if (runDir === undefined) return;
    const record = readRun(runDir);
    if (record === undefined) {
      void vscode.window.showErrorMessage(`Gradflow: ${runDir} is not a run folder (no run.json).`);
      return;
    }
    try {
      const bytes = metricsLogBytes(runDir);
      if (bytes <= BIG_LOG_BYTES || ctx.dashboard.hasRun(record.runId)) loadIntoDashboard(ctx.dashboard, record);
      else {
        // A big log: read it in chunks, with progress and Cancel (what was read is shown).
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Gradflow: reading ${record.name}'s metrics (${humanBytes(bytes)})`, cancellable: true },
          async (progress, token) => {
            let shown = 0;
            await loadIntoDashboardAsync(ctx.dashboard, record, {
              cancelled: () => token.isCancellationRequested,
              onProgress: (read, total) => {
                const pct = total > 0 ? Math.min(100, (100 * read) / total) : 100;
                if (pct - shown >= 1) {
                  progress.report({ increment: pct - shown, message: `${humanBytes(read)} of ${humanBytes(total)}` });
                  shown = pct;
                }
              },
            });
          },
        );
      }
    } catch (e) {
      // A corrupt metrics log: say which line; what was read is still shown.
      ctx.log.error(`opening ${logText(runDir)}: ${e instanceof Error ? e.message : String(e)}`);
      void vscode.window.showWarningMessage(`Gradflow: part of the run could not be read: ${e instanceof Error ? e.message : String(e)}`);
    }
    ctx.rememberRunDir(record.runId, runDir);
    ctx.showDashboard(record.runId);
  },

  'gradflow.openSweep': async (ctx, arg) => {
    const dir = await sweepDirOf(ctx, arg, 'Sweep to open in the dashboard');
    if (dir === undefined) return;
    const sweepId = path.resolve(dir);
    // A sweep this window is running is fresher in memory than on disk (progress, live run ids).
    if (ctx.dashboard.getSweep(sweepId)?.status !== 'running') {
      try {
        ctx.dashboard.addSweep(loadSweepFolder(sweepId));
      } catch (e) {
        void vscode.window.showErrorMessage(`Gradflow: cannot open the sweep: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
    }
    ctx.showSweep(sweepId);
  },

  /** The study report (correlation and sparse-vs-dense significance tables, width plots) of a sweep folder. */
  'gradflow.reportSweep': async (ctx, arg) => {
    const dir = await sweepDirOf(ctx, arg, 'Sweep to report on');
    if (dir === undefined) return undefined;
    const sweepDir = path.resolve(dir);
    const outDir = path.join(sweepDir, 'report');
    const results = loadSweepResults(sweepDir);
    const files = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Gradflow: writing the report of ${path.basename(sweepDir)}` },
      // PNG needs chromium and playwright-core, absent from an installed extension: SVG plots instead.
      () => writeReport(results, outDir, { formats: ['md', 'csv', 'tex', 'svg'], note: (m) => ctx.log.info(logText(m)) }),
    );
    ctx.log.info(`report of ${logText(sweepDir)}: ${files.length} files in ${logText(outDir)}`);
    const md = vscode.Uri.file(path.join(outDir, 'report.md'));
    await vscode.commands.executeCommand('markdown.showPreview', md);
    return files;
  },

  'gradflow.refreshRuns': (ctx) => ctx.tree.refresh(),

  'gradflow.showLog': (ctx) => ctx.log.show(true),

  'gradflow.restartServer': async (ctx) => {
    await ctx.server.restart();
  },
};

/** The sweep folder a command is about: its argument (a path or a sweep node of the Runs view), or one picked from the runs folders. */
async function sweepDirOf(ctx: GradflowContext, arg: unknown, placeHolder: string): Promise<string | undefined> {
  if (typeof arg === 'string' && arg !== '') return arg;
  if (isNode(arg) && arg.kind === 'sweep') return arg.dir;
  const folders = listSweepFolders(ctx.runs.runsDirs());
  if (folders.length === 0) {
    void vscode.window.showInformationMessage(`Gradflow: no sweep folders (sweep-*/sweep.json) in ${ctx.runs.runsDirs().join(', ') || 'the workspace'}.`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    folders.map((f) => ({
      label: f.name,
      description: `${f.planned} configuration${f.planned === 1 ? '' : 's'} · ${new Date(f.mtimeMs).toLocaleString()}`,
      detail: f.dir,
      dir: f.dir,
    })),
    { placeHolder, matchOnDescription: true, matchOnDetail: true },
  );
  return pick?.dir;
}

async function saveIfDirty(uri: vscode.Uri): Promise<void> {
  // The run records the file it came from; run what is on disk so the two agree.
  if (uri.scheme !== 'file') return; // an untitled file is refused by the run manager
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (doc?.isDirty === true) await doc.save();
}
