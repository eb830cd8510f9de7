/**
 * Quick fixes on run diagnostics (`gradflow-run`). The edits are computed by the pure
 * `quick-fixes` module from the document's current text, so they stay correct after the user edited
 * the file since the alert.
 */
import * as vscode from 'vscode';
import { fileKeys } from '../../config/keys';
import { parseExperiment } from '../../config/parse';
import { FIX_KEYS } from '../../config/remedies';
import type { AlertKind } from '../../shared/protocol';
import { fixesFor, type QuickFix } from './quick-fixes';
import { isAlertKind, RUN_DIAGNOSTIC_SOURCE } from './run-diagnostics';

export class RunFixProvider implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const ours = context.diagnostics.filter((d) => d.source === RUN_DIAGNOSTIC_SOURCE && isAlertKind(diagnosticCode(d)));
    if (ours.length === 0) return [];
    const text = document.getText();
    const parsed = parseExperiment(text, document.uri.fsPath);
    const config = parsed.config;
    if (config === undefined) return []; // the file has errors now: the language server shows them
    const keys = fileKeys(parsed);
    // Kinds of this file's run diagnostics (a mask-time collapse changes what a collapse needs first).
    const runKinds = new Set(
      vscode.languages
        .getDiagnostics(document.uri)
        .filter((d) => d.source === RUN_DIAGNOSTIC_SOURCE)
        .map(diagnosticCode)
        .filter(isAlertKind),
    );
    const actions: vscode.CodeAction[] = [];
    const seen = new Set<string>();
    for (const d of ours) {
      const kind = diagnosticCode(d) as AlertKind;
      const lineKey = keys.keyOnLine(d.range.start.line);
      const fixes = fixesFor(kind, text, config, runKinds);
      const here = (f: QuickFix): boolean => lineKey !== undefined && FIX_KEYS[f.id].includes(lineKey);
      // The fix for this line first, then the rest in the rules' order.
      for (const f of [...fixes.filter(here), ...fixes.filter((f) => !here(f))]) {
        if (seen.has(f.title)) continue;
        seen.add(f.title);
        const action = new vscode.CodeAction(f.title, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [d];
        action.isPreferred = here(f) || (f.preferred && !fixes.some(here));
        const edit = new vscode.WorkspaceEdit();
        for (const e of f.edits) {
          edit.replace(document.uri, new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character), e.newText);
        }
        action.edit = edit;
        actions.push(action);
      }
    }
    return actions;
  }
}

function diagnosticCode(d: vscode.Diagnostic): unknown {
  return typeof d.code === 'object' ? d.code.value : d.code;
}
