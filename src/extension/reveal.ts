/**
 * Jump from an alert (clicked in the dashboard) to the experiment-file line responsible for it.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { parseExperiment } from '../config/parse';
import type { ExperimentConfig } from '../shared/experiment';
import type { Alert, AlertKind } from '../shared/protocol';
import { fileKeys } from '../config/keys';
import { responsibleRanges } from './diagnostics/alert-rules';
import { toVsRange } from './diagnostics/run-diagnostics';

/**
 * Open `file` and select the primary range of `alert`. The ranges come from the file as it is now;
 * the config is the file's own if it still parses, else the one the run used.
 */
export async function revealAlert(
  file: string,
  alert: Alert,
  runConfig: ExperimentConfig | undefined,
  runKinds?: ReadonlySet<AlertKind>,
): Promise<boolean> {
  if (!fs.existsSync(file)) {
    void vscode.window.showWarningMessage(`Gradflow: the experiment file ${file} no longer exists.`);
    return false;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const parsed = parseExperiment(doc.getText(), file);
  const config = parsed.config ?? runConfig;
  if (config === undefined) {
    await vscode.window.showTextDocument(doc, { preview: false });
    return false;
  }
  const [primary] = responsibleRanges(alert, config, fileKeys(parsed), runKinds);
  const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
  if (primary !== undefined) {
    const range = toVsRange(primary.range);
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }
  return primary !== undefined;
}
