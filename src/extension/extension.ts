/**
 * Extension entry. `activate` only builds the context and registers contributions; the language
 * server starts when an experiment file is first open, trainers when a run is asked for.
 */
import * as vscode from 'vscode';
import { cleanLog } from './clean-log';
import { COMMANDS } from './commands';
import { GradflowContext } from './context';
import { DashboardPanel } from './dashboard';

let ctx: GradflowContext | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const t0 = Date.now();
  const log = cleanLog(vscode.window.createOutputChannel('Gradflow', { log: true }));
  const c = new GradflowContext(context.extensionUri, log, context.globalStorageUri.fsPath, context.workspaceState);
  ctx = c;
  context.subscriptions.push(log, c);
  for (const [id, handler] of Object.entries(COMMANDS)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(c, ...args);
        } catch (e) {
          // Commands are entry points: report instead of failing silently in the extension host log.
          log.error(`${id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          void vscode.window.showErrorMessage(`Gradflow: ${id} failed: ${e instanceof Error ? e.message : String(e)}`, 'Show Log').then((choice) => {
            if (choice === 'Show Log') log.show(true);
          });
          return undefined;
        }
      }),
    );
  }
  context.subscriptions.push(
    vscode.window.createTreeView('gradflow.runs', { treeDataProvider: c.tree, showCollapseAll: true }),
    vscode.window.registerWebviewPanelSerializer(DashboardPanel.viewType, {
      // After a window reload the panel comes back with the recorded runs the Runs view lists.
      deserializeWebviewPanel: async (panel, pageState: unknown) => {
        c.restoreDashboard(pageState);
        DashboardPanel.revive(panel, context.extensionUri, c.dashboard, log);
      },
    }),
  );
  void vscode.commands.executeCommand('setContext', 'gradflow.hasRunningRuns', false);
  c.server.startWhenNeeded();
  const t1 = Date.now();
  // Runs outlive the window (each under its detached supervisor): follow the live ones again.
  c.reattachRuns();
  const t2 = Date.now();
  // Run diagnostics live in the server's memory: put the latest run's back after a reload.
  void c.restoreDiagnostics();
  // What a slow start is spent on (a window reloaded while runs go on reads their logs again).
  log.info(`activated in ${Date.now() - t0} ms (reattaching to live runs ${t2 - t1} ms)`);
}

export async function deactivate(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  if (c === undefined) return;
  // Runs are not stopped: they are not children of the window (see docs/extension.md, lifecycle).
  await c.server.stop();
}
