/**
 * The `gradflow-run` diagnostic collection: training alerts placed on the experiment-file lines the
 * alert rules implicate. Separate from the language server's diagnostics (static problems of the
 * file) so each side replaces only its own: a new run of a file clears that file's run diagnostics.
 *
 * One alert kind gives one set of diagnostics per file: later alerts of the same kind (other layers,
 * other steps, the other net) are counted in the message instead of stacking duplicate squiggles.
 */
import * as vscode from 'vscode';
import { positionsOfText } from '../../config/positions';
import { ALERT_KIND_LIST } from './alert-kinds';
import type { Alert, AlertKind } from '../../shared/protocol';
import type { ExperimentConfig } from '../../shared/experiment';
import { alertMessage, locatorFor, responsibleRanges, type ResponsibleRange, type ZeroRange } from './alert-rules';
import { keyRange } from '../../config/positions';

export const RUN_DIAGNOSTIC_SOURCE = 'gradflow run';

interface KindEntry {
  first: Alert;
  count: number;
  layerNames: readonly string[];
}

export function toVsRange(r: ZeroRange): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export function isAlertKind(v: unknown): v is AlertKind {
  return typeof v === 'string' && (ALERT_KIND_LIST as readonly string[]).includes(v);
}

export class RunDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('gradflow-run');
  /** Per file: the alert kinds seen in its current run, in arrival order. */
  private readonly alerts = new Map<string, Map<AlertKind, KindEntry>>();
  /** Per file: trainer errors that named a config key. */
  private readonly errors = new Map<string, vscode.Diagnostic[]>();

  /** A new run of this file starts: its previous run's diagnostics go. */
  reset(uri: vscode.Uri): void {
    this.alerts.delete(uri.toString());
    this.errors.delete(uri.toString());
    this.collection.delete(uri);
  }

  addAlert(uri: vscode.Uri, text: string, config: ExperimentConfig, alert: Alert, layerNames: readonly string[]): void {
    const kinds = this.alerts.get(uri.toString()) ?? new Map<AlertKind, KindEntry>();
    this.alerts.set(uri.toString(), kinds);
    const entry = kinds.get(alert.kind);
    if (entry !== undefined) entry.count++;
    else kinds.set(alert.kind, { first: alert, count: 1, layerNames });
    this.render(uri, text, config);
  }

  /** The trainer refused a setting (`error` with `key`): show it on that key. */
  addConfigError(uri: vscode.Uri, text: string, key: string, message: string): void {
    const r = keyRange(positionsOfText(text), key);
    if (r === undefined) return;
    const d = new vscode.Diagnostic(
      new vscode.Range(r.line - 1, r.column - 1, r.endLine - 1, r.endColumn - 1),
      `Run failed: ${message}`,
      vscode.DiagnosticSeverity.Error,
    );
    d.source = RUN_DIAGNOSTIC_SOURCE;
    d.code = 'trainer-error';
    this.errors.set(uri.toString(), [...(this.errors.get(uri.toString()) ?? []), d]);
    this.collection.set(uri, [...(this.collection.get(uri) ?? []), d]);
  }

  private render(uri: vscode.Uri, text: string, config: ExperimentConfig): void {
    const locator = locatorFor(positionsOfText(text));
    const out: vscode.Diagnostic[] = [...(this.errors.get(uri.toString()) ?? [])];
    for (const [kind, e] of this.alerts.get(uri.toString()) ?? []) {
      const ranges = responsibleRanges(e.first, config, locator);
      const more = e.count > 1 ? ` (${e.count - 1} more ${kind} alert${e.count > 2 ? 's' : ''} in this run)` : '';
      for (const r of ranges) {
        const d = new vscode.Diagnostic(
          toVsRange(r.range),
          alertMessage(e.first, r.hint, e.layerNames) + more,
          e.first.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
        );
        d.source = RUN_DIAGNOSTIC_SOURCE;
        d.code = kind;
        d.relatedInformation = ranges
          .filter((o: ResponsibleRange) => o !== r)
          .map((o) => new vscode.DiagnosticRelatedInformation(new vscode.Location(uri, toVsRange(o.range)), `also implicated: ${o.key}`));
        out.push(d);
      }
    }
    this.collection.set(uri, out);
  }

  dispose(): void {
    this.collection.dispose();
  }
}
