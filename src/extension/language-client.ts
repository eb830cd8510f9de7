/**
 * Starts the language server (dist/server.js, over Node IPC) the first time an experiment file is
 * open, not at activation: a workspace that merely contains experiment files pays nothing until one
 * is opened. The server owns what the editor shows on an experiment file, so this is also the
 * extension's one way to it: the editor settings (at start and on change, through the same typed
 * settings object the run manager reads), the runs' reports, and the alert jump.
 */
import * as vscode from 'vscode';
import { DidChangeConfigurationNotification, LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import {
  ALERT_RANGE,
  LANGUAGE_ID,
  RUN_REPORT,
  type AlertRangeParams,
  type LspRange,
  type RunReport,
  type ServerInitializationOptions,
  type ServerSettings,
} from '../shared/lsp-protocol';
import type { GradflowConfig } from './config';

export class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly config: GradflowConfig,
  ) {
    this.subs.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('gradflow')) void this.sendSettings();
      }),
    );
  }

  private settings(): ServerSettings {
    return { run: this.config.runSettings() };
  }

  private async sendSettings(): Promise<void> {
    const c = this.client;
    if (c === undefined || !c.isRunning()) return; // the next start sends them
    await c.sendNotification(DidChangeConfigurationNotification.type, { settings: this.settings() });
  }

  /**
   * Report a run event on an experiment file to the server, which shows it as diagnostics with
   * quick fixes. Starts the server if needed (reports keep their order: they all wait on one start).
   */
  async report(report: RunReport): Promise<void> {
    await this.start();
    const c = this.client;
    if (c === undefined || !c.isRunning()) {
      this.log.warn(`language server not running: run report (${report.type}) on ${report.uri} not shown`);
      return;
    }
    await c.sendNotification(RUN_REPORT.method, report);
  }

  /** Where the dashboard's alert jump lands (the server's answer), or undefined without a server. */
  async alertRange(params: AlertRangeParams): Promise<vscode.Range | undefined> {
    await this.start();
    const c = this.client;
    if (c === undefined || !c.isRunning()) return undefined;
    const r = await c.sendRequest<LspRange | null>(ALERT_RANGE.method, params);
    return r === null ? undefined : new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
  }

  /** Start now if an experiment file is open, else on the first one opened. */
  startWhenNeeded(): void {
    if (vscode.workspace.textDocuments.some((d) => d.languageId === LANGUAGE_ID)) {
      void this.start();
      return;
    }
    const sub = vscode.workspace.onDidOpenTextDocument((d) => {
      if (d.languageId !== LANGUAGE_ID) return;
      sub.dispose();
      void this.start();
    });
    this.subs.push(sub);
  }

  get running(): boolean {
    return this.client?.isRunning() ?? false;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart().catch((e: unknown) => {
      this.starting = undefined;
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(`language server failed to start: ${message}`);
      void vscode.window.showErrorMessage(`Gradflow: the language server failed to start (${message}). See the Gradflow output.`, 'Show Log').then((c) => {
        if (c === 'Show Log') this.log.show(true);
      });
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const module = vscode.Uri.joinPath(this.extensionUri, 'dist', 'server.js').fsPath;
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
    };
    const initializationOptions: ServerInitializationOptions = { validationDelayMs: 200, settings: this.settings() };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ language: LANGUAGE_ID }],
      outputChannel: this.log,
      initializationOptions,
    };
    this.client = new LanguageClient('gradflow', 'Gradflow Language Server', serverOptions, clientOptions);
    await this.client.start();
    this.log.info('language server started');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.starting = undefined;
    if (c !== undefined && c.needsStop()) await c.stop();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    void this.stop();
  }
}
