/**
 * The "Runs" view: live runs of this session first, then runs recorded on disk (sweeps grouped).
 * Each shows a status icon, its backend, the current EGF_2 and a sparkline of recent EGF_2 values;
 * clicking opens the dashboard on it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { bucketMeans, compactNumber, sparkline } from '../sparkline';
import { readManifest } from '../../runs/sweep';
import { isRecord } from '../../shared/guards';
import { countSweepConfigs } from '../sweep-count';
import { listPastRuns, readSummary, summaryEgf, type PastRun } from './past-runs';
import { runsDirOf, shortRunId as shortId } from '../../runs/folders';
import type { LiveRun, LiveStatus, RunManager } from './run-manager';
import { isFailure, isLive, runLabel, startLabel } from '../../runs/status';
import { markdownCode, markdownText, terminalText } from '../../shared/sanitize';
import { at } from '../../shared/checked';

/** The view refreshes at most this often while runs stream steps. */
const REFRESH_MS = 1000;

/**
 * Why the view is refreshed only when what it shows changed, and live rows one by one: every
 * refresh makes the extension host drop the commands of the rows it replaces (a row's command with
 * arguments is only a handle into the host's cache). A click that reaches the host after that, but
 * before the workbench has drawn the new rows, runs nothing, silently (on a loaded machine the
 * window between the two is seconds wide). The view used to refresh as a whole on every file event
 * in a runs folder and every second of a live run, so clicks on rows that had not changed got lost.
 */
/** While a run of another process is going, its folder is read again this often. */
const RECHECK_MS = 3000;

export type RunsNode =
  | { kind: 'live'; run: LiveRun }
  | { kind: 'past'; run: PastRun }
  | { kind: 'sweep'; name: string; runs: PastRun[]; /** the sweep folder (for Open Sweep) */ dir: string };

const ICONS: Record<LiveStatus, [string, string?]> = {
  starting: ['loading~spin'],
  running: ['sync~spin', 'charts.blue'],
  finished: ['pass', 'testing.iconPassed'],
  stopped: ['debug-stop', 'charts.yellow'],
  diverged: ['warning', 'charts.orange'],
  failed: ['error', 'testing.iconFailed'],
  killed: ['close', 'testing.iconFailed'],
  corrupt: ['question', 'testing.iconFailed'],
};

function icon(status: LiveStatus): vscode.ThemeIcon {
  const [id, color] = ICONS[status];
  return new vscode.ThemeIcon(id, color !== undefined ? new vscode.ThemeColor(color) : undefined);
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<RunsNode | RunsNode[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private timer: NodeJS.Timeout | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private past: PastRun[] | undefined;
  /** What the view was last given (`rowsSignature` of the root rows), to skip refreshes that change nothing. */
  private shown: string | undefined;
  /** The live rows, one object per run, so a live run's row can be refreshed alone (`fire(node)`). */
  private readonly liveNodes = new Map<string, RunsNode & { kind: 'live' }>();
  /** Per live row, what it showed last (`itemSignature`). */
  private readonly liveShown = new Map<string, string>();

  constructor(private readonly manager: RunManager) {
    // Runs started anywhere (a terminal's `gradflow run`/`sweep`, a Slurm task, another window)
    // appear as their folders do. The watcher matches the folders as well as the files under
    // `.gradflow`: a folder tree created at once (`.gradflow/runs/<id>/run.json` by a first CLI run)
    // is reported by VS Code as its top folder only, not file by file.
    const watcher = vscode.workspace.createFileSystemWatcher('{**/.gradflow,**/.gradflow/**}');
    const seen = (uri: vscode.Uri): void => {
      const dir = runsDirOf(uri.fsPath);
      if (dir !== undefined) manager.addRunsDir(dir);
      this.past = undefined;
      this.schedule();
    };
    this.subs.push(watcher, watcher.onDidCreate(seen), watcher.onDidChange(seen), watcher.onDidDelete(seen));
    void this.discover();
    this.subs.push(
      manager.onDidChange((run) => {
        // A run ending writes its summary: re-read the folders then.
        if (run !== undefined && run.exit !== undefined) this.past = undefined;
        this.schedule();
      }),
    );
  }

  /** Re-read the runs folders (looking for new ones in the workspace) and redraw. */
  refresh(): void {
    this.past = undefined;
    this.emitter.fire(undefined);
    void this.discover();
  }

  /**
   * Every runs folder in the workspace, whatever wrote it (the CLI puts runs in the project of the
   * file, which may be a subfolder): found by their run.json files.
   */
  private async discover(): Promise<void> {
    let files: vscode.Uri[];
    try {
      files = await vscode.workspace.findFiles('**/.gradflow/runs/**/run.json', '**/node_modules/**', 5000);
    } catch {
      return; // no workspace, or the search is unavailable: the watcher and the run manager still add folders
    }
    const before = this.manager.runsDirs().length;
    for (const f of files) {
      const dir = runsDirOf(f.fsPath);
      if (dir !== undefined) this.manager.addRunsDir(dir);
    }
    if (this.manager.runsDirs().length !== before) {
      this.past = undefined;
      this.schedule();
    }
  }

  private recheckTimer: NodeJS.Timeout | undefined;

  private recheck(): void {
    if (this.recheckTimer !== undefined) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      this.past = undefined;
      this.update();
    }, RECHECK_MS);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, REFRESH_MS);
  }

  /**
   * Redraws what changed: nothing when the rows are as shown; only the live rows whose text changed
   * when the list itself is the same (same rows, same past and sweep rows); else the whole view.
   */
  private update(): void {
    const nodes = this.rootNodes();
    const rows = this.rowsSignature(nodes);
    if (rows !== this.shown) {
      this.emitter.fire(undefined);
      return;
    }
    const changed: RunsNode[] = [];
    for (const node of nodes) {
      if (node.kind !== 'live') continue;
      const sig = itemSignature(liveItem(node.run));
      if (this.liveShown.get(node.run.key) !== sig) {
        this.liveShown.set(node.run.key, sig);
        changed.push(node);
      }
    }
    if (changed.length > 0) this.emitter.fire(changed);
  }

  /**
   * The root rows as the view lists them: live rows by key only (their text is refreshed row by
   * row), past and sweep rows with everything they show.
   */
  private rowsSignature(nodes: RunsNode[]): string {
    const parts: string[] = [];
    for (const node of nodes) {
      if (node.kind === 'live') parts.push(`live:${node.run.key}`);
      else {
        parts.push(itemSignature(this.getTreeItem(node)));
        if (node.kind === 'sweep') for (const child of node.runs) parts.push(itemSignature(pastItem(child)));
      }
    }
    return parts.join('\n');
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (node?.kind === 'sweep') return node.runs.map((run) => ({ kind: 'past', run }));
    if (node !== undefined) return [];
    const nodes = this.rootNodes();
    this.shown = this.rowsSignature(nodes);
    for (const n of nodes) if (n.kind === 'live') this.liveShown.set(n.run.key, itemSignature(liveItem(n.run)));
    return nodes;
  }

  /** The root rows: live runs of this session, then sweeps, then single recorded runs. */
  private rootNodes(): RunsNode[] {
    if (this.past === undefined) {
      this.past = listPastRuns(this.manager.runsDirs());
      // A live run this window does not show yet (a window before a reload started it, or the CLI,
      // or another window): followed from its folder from now on, listed with the live runs.
      this.manager.adoptLive(this.past);
    }
    const live = this.manager.list();
    const liveIds = new Set(live.map((r) => r.runId).filter((id): id is string => id !== undefined));
    const past = this.past.filter((r) => !liveIds.has(r.runId));
    // Runs of other processes (a terminal, a Slurm task) still going: read their folders again
    // shortly. File events alone miss some ends (a run created and ended within one event batch).
    if (past.some((r) => isLive(r.status))) this.recheck();
    const sweeps = new Map<string, PastRun[]>();
    const singles: RunsNode[] = [];
    for (const r of past) {
      if (r.sweep !== undefined) sweeps.set(r.sweep, [...(sweeps.get(r.sweep) ?? []), r]);
      else singles.push({ kind: 'past', run: r });
    }
    const keys = new Set(live.map((r) => r.key));
    for (const key of [...this.liveNodes.keys()]) {
      if (!keys.has(key)) {
        this.liveNodes.delete(key);
        this.liveShown.delete(key);
      }
    }
    const liveNode = (run: LiveRun): RunsNode => {
      let n = this.liveNodes.get(run.key);
      if (n === undefined) this.liveNodes.set(run.key, (n = { kind: 'live', run }));
      else n.run = run;
      return n;
    };
    return [
      ...live.map(liveNode),
      ...[...sweeps].map(([name, runs]): RunsNode => ({ kind: 'sweep', name, runs, dir: path.dirname(at(runs, 0).runDir) })),
      ...singles,
    ];
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'live':
        return liveItem(node.run);
      case 'past':
        return pastItem(node.run);
      case 'sweep': {
        const item = new vscode.TreeItem(`sweep ${node.name}`, vscode.TreeItemCollapsibleState.Collapsed);
        // Configurations, as the sweep view counts them (pending ones have no run folder yet).
        let ids: string[] | undefined;
        try {
          const listed: unknown = readManifest(node.dir).runs;
          if (Array.isArray(listed)) ids = listed.filter(isRecord).map((e) => e.id).filter((id): id is string => typeof id === 'string');
        } catch {
          ids = undefined; // no readable manifest: count the configurations that have a run folder
        }
        const { finished, total } = countSweepConfigs(node.runs, ids);
        item.description = `${finished} of ${total} finished`;
        item.iconPath = new vscode.ThemeIcon('list-tree');
        item.contextValue = 'gradflow.sweep';
        item.tooltip = `${node.dir}\nOpen the sweep table with the inline button (Gradflow: Open Sweep…).`;
        return item;
      }
      default: {
        const never: never = node;
        return never;
      }
    }
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.recheckTimer !== undefined) clearTimeout(this.recheckTimer);
    for (const s of this.subs) s.dispose();
    this.emitter.dispose();
  }
}

/** Everything a row shows or does, as one string (two rows that compare equal look and act the same). */
function itemSignature(item: vscode.TreeItem): string {
  const icon = item.iconPath instanceof vscode.ThemeIcon ? `${item.iconPath.id}/${item.iconPath.color?.id ?? ''}` : '';
  const tooltip = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : (item.tooltip ?? '');
  const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
  return JSON.stringify([item.id, label, item.description, icon, tooltip, item.contextValue, item.collapsibleState, item.command?.command, item.command?.arguments]);
}

function liveItem(run: LiveRun): vscode.TreeItem {
  const item = new vscode.TreeItem(terminalText(run.name), vscode.TreeItemCollapsibleState.None);
  const last = run.egf2.filter((x) => x !== null && Number.isFinite(x)).pop();
  // The icon shows the status; the narrow sidebar gets the numbers first.
  const parts: string[] = [];
  // An ended run shows what its row shows after a reload (the summary's 11-point average), not its last step.
  const ended = run.summary !== undefined ? summaryEgf(run.summary) : undefined;
  if (ended?.average !== undefined) parts.push(`EGF₂ ${compactNumber(ended.average)} ${sparkline(ended.points, 12, { log: true })}`);
  else if (ended === undefined && last !== undefined) parts.push(`EGF₂ ${compactNumber(last)} ${sparkline(bucketMeans(run.egf2, 12), 12, { log: true })}`);
  if (run.status === 'running' && run.totalSteps > 0) parts.push(`${Math.floor((100 * run.step) / run.totalSteps)}%`);
  // A run that ended without a backend (it failed before the trainer was ready) says so instead.
  if (!isLive(run.status) && run.status !== 'finished') parts.push(liveLabel(run));
  if (run.backend !== undefined || isLive(run.status)) parts.push(run.backend ?? '…');
  parts.push(startLabel(run.startedAt.toISOString()));
  if (run.runId !== undefined) parts.push(shortId(run.runId));
  item.description = parts.join(' · ');
  item.iconPath = icon(run.status);
  item.tooltip = tooltip(run.name, liveLabel(run), run.backend, run.uri.fsPath, run.runDir, run.error, run.runId, run.startedAt.toISOString());
  item.contextValue = run.status === 'running' || run.status === 'starting' ? 'gradflow.run.running' : 'gradflow.run.live';
  item.id = `live:${run.key}`;
  // The dashboard entry of the run: the real run once the trainer named it, else the provisional
  // one, which for a run that failed at start-up holds its error and log tail.
  const entry = run.runId ?? run.startingId;
  if (entry !== undefined) item.command = { command: 'gradflow.showDashboard', title: 'Show Dashboard', arguments: [entry] };
  if (isFailure(run.status) && run.runId === undefined) {
    item.tooltip.appendMarkdown(`\n\n${run.startingId !== undefined ? 'Click to see its error and log tail in the dashboard' : 'Its error and log tail are in the Gradflow output (Gradflow: Show Log)'}.`);
    if (entry === undefined) item.command = { command: 'gradflow.showLog', title: 'Show Log' };
  }
  return item;
}

function pastItem(run: PastRun): vscode.TreeItem {
  const item = new vscode.TreeItem(terminalText(run.name), vscode.TreeItemCollapsibleState.None);
  const egf = summaryEgf(run.status === 'running' ? undefined : readSummary(run.runDir));
  const parts: string[] = [];
  if (egf.average !== undefined) parts.push(`EGF₂ ${compactNumber(egf.average)} ${sparkline(egf.points, 12, { log: true })}`);
  if (run.status !== 'finished') parts.push(pastLabel(run));
  parts.push(run.backend ?? '?', startLabel(run.startedAt), shortId(run.runId));
  item.description = parts.join(' · ');
  item.iconPath = icon(run.status);
  item.tooltip = tooltip(run.name, pastLabel(run), run.backend, run.sourceFile, run.runDir, run.reason, run.runId, run.startedAt);
  item.contextValue = 'gradflow.run.past';
  item.id = `past:${run.runId}`;
  item.command = { command: 'gradflow.openRun', title: 'Open Run', arguments: [run.runDir] };
  return item;
}

function liveLabel(run: LiveRun): string {
  const diverged = run.summary?.nets.filter((n) => n.diverged !== undefined).map((n) => n.net) ?? [];
  return runLabel({ status: run.status, diverged, ...(run.stoppedBy !== undefined ? { stoppedBy: run.stoppedBy } : {}) });
}

function pastLabel(run: PastRun): string {
  return runLabel(run);
}

function tooltip(
  name: string,
  status: string,
  backend: string | undefined,
  source: string | undefined,
  runDir: string | undefined,
  note: string | undefined,
  runId: string | undefined,
  startedAt: string,
): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${markdownText(name)}** — ${status}${backend !== undefined ? ` on ${markdownCode(backend)}` : ''}\n\n`);
  md.appendMarkdown(`Started ${startLabel(startedAt)}${runId !== undefined ? ` · run ${markdownCode(runId)}` : ''}\n\n`);
  if (source !== undefined) md.appendMarkdown(`File: ${markdownCode(path.basename(source))}\n\n`);
  if (runDir !== undefined) md.appendMarkdown(`Run folder: ${markdownCode(runDir)}\n\n`);
  if (note !== undefined) md.appendText(terminalText(at(note.split('\n'), 0)));
  return md;
}

