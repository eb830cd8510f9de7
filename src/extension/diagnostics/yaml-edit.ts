/**
 * Minimal, comment-preserving edits of a YAML file: set one scalar, creating the key (and its
 * sections) when absent. Only the value's characters change when the key exists (block or flow
 * style); a new key goes after the last line of its block section at the section's indentation, or
 * before the closing `}` of a flow mapping. Positions are the YAML parser's (`config/positions.ts`).
 * Pure, for the quick fixes.
 */
import { keyEntries, type KeyEntry } from '../../config/positions';
import type { TextEdit } from '../../languageservice/types';

function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const lines = splitLines(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const offsetOf = (p: { line: number; character: number }): number => {
    let off = 0;
    for (let i = 0; i < p.line && i < lines.length; i++) off += lines[i].length + eol.length;
    return off + p.character;
  };
  const sorted = [...edits].sort((a, b) => offsetOf(b.range.start) - offsetOf(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offsetOf(e.range.start)) + e.newText + out.slice(offsetOf(e.range.end));
  return out;
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => p === path[i]);
}

/** Indentation step used by the file (the first nesting found), 2 if it has none. */
function indentUnit(entries: readonly KeyEntry[]): number {
  for (const e of entries) {
    if (e.path.length === 2 && !e.inFlow) {
      const parent = entries.find((p) => p.path.length === 1 && p.key === e.path[0]);
      if (parent !== undefined && e.indent > parent.indent) return e.indent - parent.indent;
    }
  }
  return 2;
}

/** Last line that belongs to a section (its deepest, last descendant), scanning raw lines so block scalars count. */
function lastLineOf(lines: readonly string[], section: KeyEntry): number {
  let last = section.line;
  for (let i = section.line + 1; i < lines.length; i++) {
    const t = lines[i];
    if (t.trim() === '') continue;
    const ind = t.length - t.trimStart().length;
    if (t.trim().startsWith('#')) {
      // A comment indented as a child belongs to the section; one at or left of the key ends it.
      if (ind > section.indent) continue;
      break;
    }
    if (ind <= section.indent) break;
    last = i;
  }
  return last;
}

/** The written value of a key: the scalar's text, or nested flow mappings for the missing sections below it. */
function flowValue(missing: readonly string[], value: string): string {
  return missing.slice(1).reduceRight((inner, seg) => `{${seg}: ${inner}}`, value);
}

/**
 * Edits that make `path` (snake_case segments) hold `value` (YAML text). Undefined when the file's
 * shape does not allow a safe edit (the key holds a block or flow collection, a block scalar).
 */
export function setScalar(text: string, path: readonly string[], value: string): TextEdit[] | undefined {
  const entries = keyEntries(text);
  const lines = splitLines(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const existing = entries.find((e) => e.path.length === path.length && startsWith(e.path, path));
  if (existing !== undefined) {
    if (existing.value === value) return [];
    // A key holding a collection or text cannot be set to a scalar safely.
    if (existing.valueKind !== 'scalar' && existing.valueKind !== 'empty') return undefined;
    const needsSpace = existing.valueStart === existing.colon + 1;
    return [
      {
        range: {
          start: { line: existing.line, character: existing.valueStart },
          end: { line: existing.line, character: existing.valueEnd },
        },
        newText: needsSpace ? ` ${value}` : value,
      },
    ];
  }
  // Deepest section that exists.
  let depth = path.length - 1;
  let section: KeyEntry | undefined;
  for (; depth > 0; depth--) {
    section = entries.find((e) => e.path.length === depth && startsWith(path, e.path));
    if (section !== undefined) break;
  }
  const missing = path.slice(depth);
  if (section !== undefined && section.valueKind === 'flow') {
    // `model: {width: 3}`: the key goes in before the closing brace.
    const close = section.flowClose;
    if (close === undefined) return undefined; // a flow list, not a mapping
    const pair = `${missing[0]}: ${flowValue(missing, value)}`;
    return [{ range: { start: close.at, end: close.at }, newText: close.empty ? pair : `, ${pair}` }];
  }
  if (section !== undefined && section.valueKind !== 'block' && section.valueKind !== 'empty') return undefined; // a scalar or text
  if (section?.inFlow === true) return undefined; // `{model: }` inside a flow mapping: not a block to extend
  const unit = indentUnit(entries);
  let baseIndent: number;
  let insertAfter: number;
  if (section !== undefined) {
    const child = entries.find((e) => e.path.length === depth + 1 && !e.inFlow && startsWith(e.path, section.path));
    baseIndent = child !== undefined ? child.indent : section.indent + unit;
    insertAfter = lastLineOf(lines, section);
  } else {
    baseIndent = 0;
    insertAfter = lines.length - 1;
    while (insertAfter > 0 && lines[insertAfter].trim() === '') insertAfter--;
  }
  const newLines = missing.map((seg, i) => {
    const pad = ' '.repeat(baseIndent + i * unit);
    return i === missing.length - 1 ? `${pad}${seg}: ${value}` : `${pad}${seg}:`;
  });
  const at = { line: insertAfter, character: lines[insertAfter]?.length ?? 0 };
  const emptyFile = text.trim() === '';
  return [{ range: { start: at, end: at }, newText: emptyFile ? newLines.join(eol) : eol + newLines.join(eol) }];
}

/** The inline value text of a key as written in the file, if set. */
export function writtenValue(text: string, path: readonly string[]): string | undefined {
  const e = keyEntries(text).find((x) => x.path.length === path.length && startsWith(x.path, path));
  return e === undefined || e.valueKind !== 'scalar' ? undefined : e.value;
}
