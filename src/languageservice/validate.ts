import { shownText } from '../shared/text';
import { zeroRange } from '../config/keys';
import type { ConfigIssue } from '../config/types';
import { SERVER_SOURCE } from '../shared/lsp-protocol';
import type { ExperimentDocument } from './document';
import { CodeActionKind, DiagnosticSeverity, type CodeAction, type Diagnostic, type DiagnosticData } from './types';
import { mergeSection, setScalar } from './yaml-edit';

export { uriToPath } from './document';

/** A config issue (1-based line/column, exclusive end column) as an LSP diagnostic (0-based). */
export function issueToDiagnostic(issue: ConfigIssue): Diagnostic {
  const data: DiagnosticData = {
    key: issue.key,
    ...(issue.suggestion !== undefined ? { suggestion: issue.suggestion } : {}),
    ...(issue.set !== undefined ? { set: issue.set } : {}),
  };
  return {
    range: zeroRange(issue),
    severity: issue.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    // The key path is the file's text: a key holding escape sequences is shown, not executed.
    message: issue.key !== '' ? `${shownText(issue.key, 200)}: ${issue.message}` : issue.message,
    source: SERVER_SOURCE,
    code: issue.code,
    data,
  };
}

/**
 * Every problem of an experiment file: YAML syntax, schema (unknown keys and values, types,
 * ranges), cross-field rules and editor settings the schema refuses, as `src/config` reports them
 * (the same issues that stop a run), positioned on the exact characters.
 */
export function validate(doc: ExperimentDocument): Diagnostic[] {
  return doc.parsed.issues.map(issueToDiagnostic);
}

function isDiagnosticData(v: unknown): v is DiagnosticData {
  return typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>).key === 'string';
}

function isSetting(v: unknown): v is { key: string; value: string } {
  return typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>).key === 'string' && typeof (v as Record<string, unknown>).value === 'string';
}

/**
 * "Did you mean" fixes for static diagnostics that carry a suggestion (unknown keys and values):
 * replace the flagged text with the suggested spelling. A misspelt key whose right spelling is
 * already in the same mapping is never renamed into a duplicate: a section is merged into the
 * existing one (its keys moved there), and where that cannot be done cleanly (a key set in both, a
 * scalar) no fix is offered. A diagnostic that names a setting resolving it (`set`, e.g. gmp's
 * `sparsity.init: sparse-fan-in`) gets a fix that writes that setting, keeping the rest of the file.
 */
export function codeActions(doc: ExperimentDocument, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  const { uri, positions } = doc;
  for (const d of diagnostics) {
    if (d.source !== SERVER_SOURCE || !isDiagnosticData(d.data)) continue;
    const set: unknown = d.data.set;
    if (isSetting(set)) {
      const edits = setScalar(doc, set.key.split('.'), set.value);
      if (edits !== undefined && edits.length > 0) {
        out.push({ title: `Set ${shownText(set.key, 100)}: ${shownText(set.value, 100)}`, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: true, edit: { changes: { [uri]: edits } } });
      }
      continue;
    }
    if (d.data.suggestion === undefined) continue;
    const suggestion = d.data.suggestion;
    const path = d.data.key;
    const target = d.code === 'unknown-key' ? [...path.split('.').slice(0, -1), suggestion].join('.') : undefined;
    if (target !== undefined && positions.keyRanges.has(target)) {
      const edits = mergeSection(doc, path, target);
      if (edits !== undefined) {
        out.push({ title: `Merge into '${suggestion}' (already in the file)`, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: true, edit: { changes: { [uri]: edits } } });
      }
      continue;
    }
    out.push({
      title: `Change to '${suggestion}'`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [uri]: [{ range: d.range, newText: suggestion }] } },
    });
  }
  return out;
}
