/**
 * Jump from an alert (clicked in the dashboard) to the experiment-file line responsible for it. The
 * line is the language server's answer: it computes it from the same parse and the same settings
 * as the alert's diagnostic, so the jump lands where the squiggle is.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { ExperimentConfig } from '../shared/experiment';
import type { Alert } from '../shared/protocol';
import type { ServerController } from './language-client';

/**
 * Open `file` and select the primary range of `alert`. The ranges come from the file as it is now;
 * the config is the file's own if it still parses, else the one the run used.
 */
export async function revealAlert(server: ServerController, file: string, alert: Alert, runConfig: ExperimentConfig | undefined): Promise<boolean> {
  if (!fs.existsSync(file)) {
    void vscode.window.showWarningMessage(`Gradflow: the experiment file ${file} no longer exists.`);
    return false;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const range = await server.alertRange({ uri: doc.uri.toString(), text: doc.getText(), alert, ...(runConfig !== undefined ? { runConfig } : {}) });
  const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
  if (range !== undefined) {
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }
  return range !== undefined;
}
