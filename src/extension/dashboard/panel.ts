/**
 * Host side of the dashboard webview: one panel beside the editor, fed from a `DashboardState`.
 *
 * State across tab switches: we do not rely on `retainContextWhenHidden`. When the tab is hidden
 * VS Code destroys the page; when it is shown again the page reloads, posts `ready`, and we replay
 * `state.snapshot()`. Updates are only posted to a page that said `ready`, at most 4 per second.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { Alert } from '../../shared/protocol';
import {
  WEBVIEW_PROTOCOL_VERSION,
  isPageToHost,
  type CsvKind,
  type HostToPage,
  type PageToHost,
  type SweepTableView,
} from '../../shared/webview-protocol';
import { bootView, makeNonce, renderDashboardHtml } from './html';
import { decodePngDataUrl } from './png';
import { UpdatePump } from './pump';
import type { DashboardState } from './state';

/** Where diagnostics about the page go; the extension passes its log output channel. */
export interface DashboardLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface DashboardPanelOptions {
  /** Show this run (the page switches to it). */
  runId?: string;
  /** Show this sweep's table (wins over `runId` when both are given). */
  sweepId?: string;
  /** Defaults to beside the active editor. */
  column?: vscode.ViewColumn;
  log?: DashboardLog;
}

type RevealAlertListener = (runId: string, alert: Alert) => void;
/** `runDir` is null while a live run has not reported its folder (it is then in the state already). */
type OpenSweepRunListener = (run: { sweepId: string; configId: string; runId: string; runDir: string | null }) => void;

const consoleLog: DashboardLog = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

export class DashboardPanel implements vscode.Disposable {
  static readonly viewType = 'gradflow.dashboard';
  private static current: DashboardPanel | undefined;
  /**
   * Listeners live on the class, not the instance: the extension subscribes once, and a panel that
   * is closed and re-created keeps delivering to them. A Set, so subscribing the same function
   * twice does not double the jumps.
   */
  private static readonly revealListeners = new Set<RevealAlertListener>();
  /** Same lifetime rule as `revealListeners`: the extension loads and shows the run of a sweep row. */
  private static readonly openSweepRunListeners = new Set<OpenSweepRunListener>();

  private readonly disposables: vscode.Disposable[] = [];
  private readonly pump: UpdatePump;
  private disposed = false;
  /** When the page's HTML was last set (created, or re-set after it was hidden): the page's `ready` is timed from it. */
  private htmlSetAt = Date.now();

  /** The open panel, if any. */
  static get currentPanel(): DashboardPanel | undefined {
    return DashboardPanel.current;
  }

  /** Opens the dashboard beside the editor, or reveals it if open (and shows `opts.runId`). */
  static createOrShow(extensionUri: vscode.Uri, state: DashboardState, opts: DashboardPanelOptions = {}): DashboardPanel {
    if (opts.runId !== undefined) state.focus(opts.runId);
    if (opts.sweepId !== undefined) state.focusSweep(opts.sweepId);
    const existing = DashboardPanel.current;
    if (existing && !existing.disposed) {
      existing.panel.reveal(opts.column ?? existing.panel.viewColumn ?? vscode.ViewColumn.Beside, true);
      return existing;
    }
    (opts.log ?? consoleLog).info(`dashboard: opening the panel${opts.runId !== undefined ? ` on run ${opts.runId}` : ''}`);
    const panel = vscode.window.createWebviewPanel(
      DashboardPanel.viewType,
      'Gradflow',
      { viewColumn: opts.column ?? vscode.ViewColumn.Beside, preserveFocus: true },
      DashboardPanel.webviewOptions(extensionUri),
    );
    DashboardPanel.current = new DashboardPanel(panel, extensionUri, state, opts.log ?? consoleLog);
    return DashboardPanel.current;
  }

  /** For a `WebviewPanelSerializer`: adopt a panel VS Code restored after a window reload. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: DashboardState, log?: DashboardLog): DashboardPanel {
    DashboardPanel.current?.dispose();
    panel.webview.options = DashboardPanel.webviewOptions(extensionUri);
    DashboardPanel.current = new DashboardPanel(panel, extensionUri, state, log ?? consoleLog);
    return DashboardPanel.current;
  }

  /** Subscribes to alert clicks in the page (the extension opens the experiment file at the line). */
  static onDidRevealAlert(cb: RevealAlertListener): vscode.Disposable {
    DashboardPanel.revealListeners.add(cb);
    return new vscode.Disposable(() => DashboardPanel.revealListeners.delete(cb));
  }

  /** Subscribes to row clicks in the sweep table (the extension opens that configuration's run). */
  static onDidOpenSweepRun(cb: OpenSweepRunListener): vscode.Disposable {
    DashboardPanel.openSweepRunListeners.add(cb);
    return new vscode.Disposable(() => DashboardPanel.openSweepRunListeners.delete(cb));
  }

  private static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      // Only our bundle (the stylesheet is inline, see html.ts); nothing else on disk is reachable from the page.
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')],
      retainContextWhenHidden: false,
      enableFindWidget: false,
    };
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly state: DashboardState,
    private readonly log: DashboardLog,
  ) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'gradflow.svg');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
      panel.onDidChangeViewState((e) => {
        // Hidden means destroyed (no retainContextWhenHidden): wait for the reloaded page's `ready`,
        // and give it a first view of what it will show then, not of what it showed when created.
        if (!e.webviewPanel.visible) {
          this.pump.pageGone();
          // Not while we are closing it: a disposed webview refuses new HTML.
          if (!this.disposed) {
            panel.webview.html = this.html();
            this.htmlSetAt = Date.now();
          }
        }
      }),
    );
    this.pump = new UpdatePump(state, (m) => this.post(m));
    panel.webview.html = this.html();
    this.htmlSetAt = Date.now();
  }

  /** Same contract as the static one; kept on the instance for callers holding a panel. */
  onDidRevealAlert(cb: RevealAlertListener): vscode.Disposable {
    return DashboardPanel.onDidRevealAlert(cb);
  }

  reveal(runId?: string, sweepId?: string): void {
    if (runId !== undefined) this.state.focus(runId);
    if (sweepId !== undefined) this.state.focusSweep(sweepId);
    this.panel.reveal(undefined, true);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    this.pump.dispose();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** The page's HTML, with the host's first view of the run it will show (html.ts). */
  private html(): string {
    const webview = this.panel.webview;
    const shown = this.state.shownRun();
    return renderDashboardHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js')).toString(),
      styleText: DashboardPanel.styleText(this.extensionUri),
      ...(shown !== undefined ? { boot: bootView(shown.runs, shown.shown) } : {}),
    });
  }

  private static style: { file: string; text: string } | undefined;

  /** media/dashboard.css, read once (it is inlined in the page, see html.ts). */
  private static styleText(extensionUri: vscode.Uri): string {
    const file = vscode.Uri.joinPath(extensionUri, 'media', 'dashboard.css').fsPath;
    if (DashboardPanel.style?.file !== file) DashboardPanel.style = { file, text: fs.readFileSync(file, 'utf8') };
    return DashboardPanel.style.text;
  }

  private post(m: HostToPage): void {
    this.panel.webview.postMessage(m).then(
      (delivered) => {
        // Not delivered: the page is gone (hidden); it will ask for a replay when it is back.
        if (!delivered) this.pump.pageGone();
      },
      (err: unknown) => this.log.warn(`dashboard: could not post ${m.type}: ${String(err)}`),
    );
  }

  private onMessage(m: unknown): void {
    if (!isPageToHost(m)) {
      this.log.warn(`dashboard: ignored malformed message from the page: ${safeJson(m)}`);
      return;
    }
    this.handle(m).catch((err: unknown) => {
      this.log.error(`dashboard: ${m.type} failed: ${err instanceof Error ? err.message : String(err)}`);
      void vscode.window.showErrorMessage(`Gradflow: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  private async handle(m: PageToHost): Promise<void> {
    switch (m.type) {
      case 'ready':
        if (m.protocolVersion !== WEBVIEW_PROTOCOL_VERSION) {
          // A stale bundle: replaying would feed it shapes it does not know.
          this.log.error(`dashboard: page speaks protocol ${m.protocolVersion}, host ${WEBVIEW_PROTOCOL_VERSION}; reload the window`);
          return;
        }
        // How long the page took to load and say so: the part of opening the dashboard that is the webview's.
        this.log.info(`dashboard: page ready ${Date.now() - this.htmlSetAt} ms after its HTML was set`);
        this.pump.pageReady();
        return;
      case 'selectRun':
        this.state.selectRun(m.runId);
        return;
      case 'revealAlert': {
        const alert = this.state.getAlert(m.runId, m.alertIndex);
        if (!alert) {
          this.log.warn(`dashboard: no alert ${m.alertIndex} in run ${m.runId}`);
          return;
        }
        for (const cb of DashboardPanel.revealListeners) {
          try {
            cb(m.runId, alert);
          } catch (err: unknown) {
            this.log.error(`dashboard: reveal-alert listener failed: ${String(err)}`);
          }
        }
        return;
      }
      case 'exportCsv':
        await this.exportCsv(m.runId, m.what);
        return;
      case 'savePng':
        await this.savePng(m.name, m.dataUrl);
        return;
      case 'selectSweep':
        this.state.selectSweep(m.sweepId);
        return;
      case 'openSweepRun': {
        const run = this.state.sweepRun(m.sweepId, m.configId);
        if (!run) {
          // A pending row has no run; the page does not offer the click, so this is a stale page.
          this.log.warn(`dashboard: configuration ${m.configId} of sweep ${m.sweepId} has no run yet`);
          return;
        }
        for (const cb of DashboardPanel.openSweepRunListeners) {
          try {
            cb({ sweepId: m.sweepId, configId: m.configId, ...run });
          } catch (err: unknown) {
            this.log.error(`dashboard: open-sweep-run listener failed: ${String(err)}`);
          }
        }
        return;
      }
      case 'exportSweepCsv':
        await this.exportSweepCsv(m.sweepId, m.view);
        return;
      default: {
        const never: never = m;
        return never;
      }
    }
  }

  private async exportCsv(runId: string, what: CsvKind): Promise<void> {
    if (!this.state.hasRun(runId)) throw new Error(`no run ${runId} to export`);
    const csv = this.state.toCsv(runId, what);
    const title = this.state.getRun(runId)?.title ?? runId;
    const uri = await vscode.window.showSaveDialog({
      ...this.saveLocation(`${fileSafe(title)}-${what}.csv`),
      filters: { CSV: ['csv'] },
      saveLabel: 'Export CSV',
    });
    if (!uri) return;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(csv, 'utf8'));
    this.log.info(`dashboard: wrote ${uri.fsPath}`);
  }

  private async exportSweepCsv(sweepId: string, view: SweepTableView): Promise<void> {
    const sweep = this.state.getSweep(sweepId);
    if (!sweep) throw new Error(`no sweep ${sweepId} to export`);
    const csv = this.state.sweepCsv(sweepId, view);
    const uri = await vscode.window.showSaveDialog({
      ...this.saveLocation(`${fileSafe(`sweep-${sweep.name}`)}-runs.csv`),
      filters: { CSV: ['csv'] },
      saveLabel: 'Export CSV',
    });
    if (!uri) return;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(csv, 'utf8'));
    this.log.info(`dashboard: wrote ${uri.fsPath}`);
  }

  private async savePng(name: string, dataUrl: string): Promise<void> {
    const bytes = decodePngDataUrl(dataUrl);
    const uri = await vscode.window.showSaveDialog({
      ...this.saveLocation(name.toLowerCase().endsWith('.png') ? name : `${name}.png`),
      filters: { 'PNG image': ['png'] },
      saveLabel: 'Save PNG',
    });
    if (!uri) return;
    await vscode.workspace.fs.writeFile(uri, bytes);
    this.log.info(`dashboard: wrote ${uri.fsPath}`);
  }

  /** The save dialog's starting file: `fileName` in the first workspace folder, if one is open. */
  private saveLocation(fileName: string): Pick<vscode.SaveDialogOptions, 'defaultUri'> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    return folder ? { defaultUri: vscode.Uri.joinPath(folder, fileName) } : {};
  }
}

function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'gradflow';
}

function safeJson(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 300 ? `${s.slice(0, 300)}…` : s;
  } catch {
    return String(v);
  }
}
