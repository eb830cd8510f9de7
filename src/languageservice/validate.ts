import { shownText } from '../shared/text';
import { fileURLToPath } from 'node:url';
import { zeroRange } from '../config/keys';
import { parseExperiment } from '../config/parse';
import { positionsOfText, type PositionIndex } from '../config/positions';
import type { Range } from '../config/types';
import type { ConfigIssue } from '../config/types';
import { SERVER_SOURCE } from '../shared/lsp-protocol';
import { Severity, type CodeAction, type Diagnostic, type DiagnosticData, type TextEdit } from './types';

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
    // The key path is the file's text: a key holding escape sequences is shown, not executed.
    message: issue.key !== '' ? `${shownText(issue.key, 200)}: ${issue.message}` : issue.message,
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
 * the flagged text with the suggested spelling. A misspelt key whose right spelling is already in
 * the same mapping is never renamed into a duplicate: a section is merged into the existing one
 * (its keys moved there), and where that cannot be done cleanly (a key set in both, a scalar) no fix
 * is offered. `text`: the document now (without it, renames only).
 */
export function codeActions(uri: string, diagnostics: readonly Diagnostic[], text?: string): CodeAction[] {
  const out: CodeAction[] = [];
  const positions = text !== undefined ? positionsOfText(text) : undefined;
  for (const d of diagnostics) {
    if (d.source !== SERVER_SOURCE || !isDiagnosticData(d.data) || d.data.suggestion === undefined) continue;
    const suggestion = d.data.suggestion;
    const path = d.data.key;
    const target = d.code === 'unknown-key' ? [...path.split('.').slice(0, -1), suggestion].join('.') : undefined;
    if (target !== undefined && text !== undefined && positions !== undefined && positions.keyRanges.has(target)) {
      const edits = mergeSection(text, positions, path, target);
      if (edits !== undefined) {
        out.push({ title: `Merge into '${suggestion}' (already in the file)`, kind: 'quickfix', diagnostics: [d], isPreferred: true, edit: { changes: { [uri]: edits } } });
      }
      continue;
    }
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

/** Direct children of a key path in a file, in file order. */
function childrenOf(positions: PositionIndex, path: string): string[] {
  const depth = path.split('.').length + 1;
  return [...positions.keyNameRanges.keys()].filter((k) => k.startsWith(`${path}.`) && k.split('.').length === depth && !/\.\d+$/.test(k));
}

/**
 * Edits moving the keys of block section `from` into block section `into` (same mapping), then
 * deleting `from`. Undefined when either is not a block mapping or a key is set in both.
 */
function mergeSection(text: string, positions: PositionIndex, from: string, into: string): TextEdit[] | undefined {
  const fromName = positions.keyNameRanges.get(from);
  const fromAll = positions.keyRanges.get(from);
  const intoName = positions.keyNameRanges.get(into);
  const intoAll = positions.keyRanges.get(into);
  if (!fromName || !fromAll || !intoName || !intoAll) return undefined;
  const moved = childrenOf(positions, from);
  const kept = childrenOf(positions, into);
  if (moved.length === 0) return undefined; // a scalar (or empty) key: nothing to merge, and renaming would duplicate
  // Both must be block mappings: their children start on later lines than the key.
  const blockOf = (name: Range, kids: string[]): boolean => kids.every((k) => (positions.keyNameRanges.get(k)?.line ?? 0) > name.line);
  if (!blockOf(fromName, moved) || !blockOf(intoName, kept)) return undefined;
  if (kept.length === 0 && intoAll.endLine !== intoName.line) return undefined;
  const keptNames = new Set(kept.map((k) => k.slice(into.length + 1)));
  if (moved.some((k) => keptNames.has(k.slice(from.length + 1)))) return undefined;
  const lines = text.split(/\r?\n/);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const first = fromName.line; // 1-based line of the key; its children follow up to fromAll.endLine
  const last = fromAll.endLine;
  const body = lines.slice(first, last); // lines first+1 .. last (1-based)
  const indentOf = (l: string): number => l.length - l.trimStart().length;
  const srcIndent = Math.min(...moved.map((k) => (positions.keyNameRanges.get(k)?.column ?? 1) - 1));
  const dstIndent = kept.length > 0 ? (positions.keyNameRanges.get(kept[0])?.column ?? 1) - 1 : intoName.column - 1 + srcIndent - (fromName.column - 1);
  const shifted = body.map((l) => (l.trim() === '' ? l : ' '.repeat(Math.max(0, dstIndent + indentOf(l) - srcIndent)) + l.trimStart()));
  const insertAt = { line: intoAll.endLine - 1, character: lines[intoAll.endLine - 1]?.length ?? 0 };
  const remove =
    last < lines.length
      ? { start: { line: first - 1, character: 0 }, end: { line: last, character: 0 } }
      : { start: { line: Math.max(0, first - 2), character: first >= 2 ? (lines[first - 2]?.length ?? 0) : 0 }, end: { line: last - 1, character: lines[last - 1]?.length ?? 0 } };
  return [
    { range: { start: insertAt, end: insertAt }, newText: eol + shifted.join(eol) },
    { range: remove, newText: '' },
  ];
}
