import { fileURLToPath } from 'node:url';
import { zeroRange } from '../config/keys';
import { parseExperiment } from '../config/parse';
import type { ConfigIssue } from '../config/types';
import { SERVER_SOURCE } from '../shared/lsp-protocol';
import { Severity, type CodeAction, type Diagnostic, type DiagnosticData } from './types';

/** A document URI as the file path the config parser reports and resolves relative paths against. */
export function uriToPath(uri: string): string {
  if (uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      // Not a valid file URL (e.g. a UNC form the platform rejects): fall through to the raw text.
    }
  }
  return uri;
}

/** A config issue (1-based line/column, exclusive end column) as an LSP diagnostic (0-based). */
export function issueToDiagnostic(issue: ConfigIssue): Diagnostic {
  const data: DiagnosticData = { key: issue.key, ...(issue.suggestion !== undefined ? { suggestion: issue.suggestion } : {}) };
  return {
    range: zeroRange(issue),
    severity: issue.severity === 'error' ? Severity.Error : Severity.Warning,
    message: issue.key !== '' ? `${issue.key}: ${issue.message}` : issue.message,
    source: SERVER_SOURCE,
    code: issue.code,
    data,
  };
}

/**
 * Every problem of an experiment file: YAML syntax, schema (unknown keys and values, types,
 * ranges) and cross-field rules, as `src/config` reports them, positioned on the exact characters.
 */
export function validate(text: string, uri: string): Diagnostic[] {
  return parseExperiment(text, uriToPath(uri)).issues.map(issueToDiagnostic);
}

function isDiagnosticData(v: unknown): v is DiagnosticData {
  return typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>).key === 'string';
}

/**
 * "Did you mean" fixes for diagnostics that carry a suggestion (unknown keys and values): replace
 * the flagged text with the suggested spelling.
 */
export function codeActions(uri: string, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== SERVER_SOURCE || !isDiagnosticData(d.data) || d.data.suggestion === undefined) continue;
    const suggestion = d.data.suggestion;
    out.push({
      title: `Change to '${suggestion}'`,
      kind: 'quickfix',
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [uri]: [{ range: d.range, newText: suggestion }] } },
    });
  }
  return out;
}
