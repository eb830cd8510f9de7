/**
 * Quick fixes on run diagnostics (`gradflow-run`). The edits are computed by the pure
 * `quick-fixes` module from the document's current text, so they stay correct after the user edited
 * the file since the alert.
 */
import * as vscode from 'vscode';
import { parseExperiment } from '../../config/parse';
import { outline } from '../../languageservice/outline';
import type { AlertKind } from '../../shared/protocol';
import { fixesFor, type FixId, type QuickFix } from './quick-fixes';
import { isAlertKind, RUN_DIAGNOSTIC_SOURCE } from './run-diagnostics';

/** Which key each fix edits, to offer first the fix for the line the user is on. */
const FIX_KEYS: Record<FixId, readonly string[]> = {
  'add-batch-norm': ['model.batch_norm', 'model'],
  'lower-learning-rate': ['training.learning_rate'],
  'switch-activation': ['model.activation'],
  'switch-optimizer': ['training.optimizer', 'training.weight_decay'],
  'raise-density': ['sparsity.dense_width', 'sparsity.density', 'model.width'],
  'use-layerwise-scope': ['sparsity.scope'],
  'switch-to-synflow': ['sparsity.method'],
};

export class RunFixProvider implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const ours = context.diagnostics.filter((d) => d.source === RUN_DIAGNOSTIC_SOURCE && isAlertKind(diagnosticCode(d)));
    if (ours.length === 0) return [];
    const text = document.getText();
    const config = parseExperiment(text, document.uri.fsPath).config;
    if (config === undefined) return []; // the file has errors now: the language server shows them
    const entries = outline(text);
    const actions: vscode.CodeAction[] = [];
    const seen = new Set<string>();
    for (const d of ours) {
      const kind = diagnosticCode(d) as AlertKind;
      const lineKey = entries.find((e) => e.line === d.range.start.line)?.path.join('.');
      const fixes = fixesFor(kind, text, config);
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
