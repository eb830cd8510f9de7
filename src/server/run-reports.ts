/**
 * What the runs of each file reported (`gradflow/runReport` from the extension): the run state of
 * the file, the text the last report came with, and the quick fixes recorded beside the run
 * diagnostics last published. The diagnostics themselves are computed by the language service
 * (`runDiagnostics`); this only keeps the per-file state between a report and the next render.
 */
import { emptyRunState, runDiagnostics, type CodeAction, type Diagnostic, type ExperimentDocument, type RunFileState } from '../languageservice';
import type { YamlText } from '../languageservice/yaml-edit';
import type { RunReport } from '../shared/lsp-protocol';
import type { AlertKind } from '../shared/protocol';

interface FileRuns {
  state: RunFileState;
  /** The file as the editor had it at the last report (used when the document is not open here). */
  text: string;
  fixes: Map<string, CodeAction[]>;
}

export class RunReports {
  private readonly files = new Map<string, FileRuns>();

  has(uri: string): boolean {
    return this.files.has(uri);
  }

  /** The text of the last report, for a file the server does not have open. */
  textOf(uri: string): string | undefined {
    return this.files.get(uri)?.text;
  }

  /** Alert kinds of the file's current run. */
  kinds(uri: string): ReadonlySet<AlertKind> | undefined {
    const f = this.files.get(uri);
    return f !== undefined ? new Set(f.state.kinds.keys()) : undefined;
  }

  /** Fold a report into the file's state; true when the file has run diagnostics to render. */
  apply(report: RunReport): boolean {
    if (report.type === 'reset') {
      this.files.delete(report.uri);
      return false;
    }
    let f = this.files.get(report.uri);
    if (f === undefined) {
      f = { state: emptyRunState(), text: report.text, fixes: new Map() };
      this.files.set(report.uri, f);
    }
    f.text = report.text;
    if (report.type === 'alert') {
      f.state.config = report.config;
      const entry = f.state.kinds.get(report.alert.kind);
      if (entry !== undefined) entry.count++;
      else f.state.kinds.set(report.alert.kind, { first: report.alert, count: 1, layerNames: report.layerNames });
    } else {
      f.state.errors.push({ key: report.key, message: report.message });
    }
    return true;
  }

  /** The run diagnostics of `uri` on `doc`, recording their fixes. `run`: the file as a report just saw it. */
  render(uri: string, doc: ExperimentDocument, run?: YamlText): Diagnostic[] {
    const f = this.files.get(uri);
    if (f === undefined) return [];
    const r = runDiagnostics(f.state, doc, run);
    f.fixes = r.fixes;
    return r.diagnostics;
  }

  /** The fixes recorded beside the diagnostics last rendered for `uri`. */
  fixes(uri: string): ReadonlyMap<string, readonly CodeAction[]> {
    return this.files.get(uri)?.fixes ?? new Map<string, CodeAction[]>();
  }
}
