/**
 * The `gradflow-run` diagnostic collection: training alerts placed on the experiment-file lines the
 * remedy table implicates. Separate from the language server's diagnostics (static problems of the
 * file) so each side replaces only its own: a new run of a file clears that file's run diagnostics.
 *
 * One alert kind gives one set of diagnostics per file: later alerts of the same kind (other layers,
 * other steps, the other net) are counted in the message instead of stacking duplicate squiggles.
 *
 * Edits: the diagnostics follow the file as it is edited (ranges recomputed from the current text),
 * and a diagnostic whose setting was changed since the run (by a quick fix or by hand) goes at once;
 * the other diagnostics of that alert stay, marked as from a run of the file before the edit.
 */
import * as vscode from 'vscode';
import type { ZeroRange } from '../../config/keys';
import type { Alert } from '../../shared/protocol';
import type { ExperimentConfig } from '../../shared/experiment';
import { emptyRunState, planRunDiagnostics, type PlannedDiagnostic, type RunFileState } from './run-plan';
export { isAlertKind } from './run-plan';

export const RUN_DIAGNOSTIC_SOURCE = 'gradflow run';

export function toVsRange(r: ZeroRange): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

const SEVERITY: Record<PlannedDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
};

export class RunDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('gradflow-run');
  private readonly files = new Map<string, RunFileState>();
  private readonly subscription: vscode.Disposable;

  constructor() {
    // Follow edits at once: ranges move with the text, and what a fix addressed goes.
    this.subscription = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0 && this.files.has(e.document.uri.toString())) this.render(e.document.uri, e.document.getText());
    });
  }

  /** A new run of this file starts: its previous run's diagnostics go. */
  reset(uri: vscode.Uri): void {
    this.files.delete(uri.toString());
    this.collection.delete(uri);
  }

  private state(uri: vscode.Uri): RunFileState {
    let s = this.files.get(uri.toString());
    if (s === undefined) {
      s = emptyRunState();
      this.files.set(uri.toString(), s);
    }
    return s;
  }

  addAlert(uri: vscode.Uri, text: string, config: ExperimentConfig, alert: Alert, layerNames: readonly string[]): void {
    const s = this.state(uri);
    s.config = config;
    const entry = s.kinds.get(alert.kind);
    if (entry !== undefined) entry.count++;
    else s.kinds.set(alert.kind, { first: alert, count: 1, layerNames });
    this.render(uri, text, text);
  }

  /** The trainer refused a setting (`error` with `key`): show it on that key. */
  addConfigError(uri: vscode.Uri, text: string, key: string, message: string): void {
    this.state(uri).errors.push({ key, message });
    this.render(uri, text, text);
  }

  private render(uri: vscode.Uri, text: string, runText?: string): void {
    const s = this.files.get(uri.toString());
    if (s === undefined) return;
    this.collection.set(
      uri,
      planRunDiagnostics(s, text, runText).map((p) => {
        const d = new vscode.Diagnostic(toVsRange(p.range), p.message, SEVERITY[p.severity]);
        d.source = RUN_DIAGNOSTIC_SOURCE;
        d.code = p.code;
        d.relatedInformation = p.related.map((o) => new vscode.DiagnosticRelatedInformation(new vscode.Location(uri, toVsRange(o.range)), `also implicated: ${o.key}`));
        return d;
      }),
    );
  }

  dispose(): void {
    this.subscription.dispose();
    this.collection.dispose();
  }
}
