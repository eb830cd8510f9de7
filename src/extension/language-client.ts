/**
 * Starts the language server (dist/server.js, over Node IPC) the first time an experiment file is
 * open, not at activation: a workspace that merely contains experiment files pays nothing until one
 * is opened.
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { LANGUAGE_ID, type ServerInitializationOptions } from '../shared/lsp-protocol';

export class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

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
    const initializationOptions: ServerInitializationOptions = { validationDelayMs: 200 };
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
