/**
 * The one editor of experiment files: minimal, comment-preserving edits for the quick fixes, on a
 * text and the positions of its one parse (`config/positions.ts`; nothing here parses).
 * - `setScalar`: set one scalar, creating the key (and its sections) when absent. Only the value's
 *   characters change when the key exists (block or flow style); a new key goes after the last line
 *   of its block section at the section's indentation, or before the closing `}` of a flow mapping.
 * - `setFlowList`: replace a one-line flow list (`channels: [32, 64]`) whole, or set it when absent.
 * - `mergeSection`: move the keys of a misspelt block section into the right one beside it.
 */
import type { KeyEntry, PositionIndex } from '../config/positions';
import type { Range as FileRange } from '../config/types';
import type { TextEdit } from './types';
import * as checked from '../shared/checked';

/** A text and the positions of its parse: what every edit works from. */
export interface YamlText {
  readonly text: string;
  readonly positions: PositionIndex;
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const lines = splitLines(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const offsetOf = (p: { line: number; character: number }): number => {
    let off = 0;
    for (let i = 0; i < p.line && i < lines.length; i++) off += checked.at(lines, i).length + eol.length;
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
    const t = checked.at(lines, i);
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
export function setScalar(doc: YamlText, path: readonly string[], value: string): TextEdit[] | undefined {
  const { text } = doc;
  const entries = doc.positions.entries;
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
    while (insertAfter > 0 && checked.at(lines, insertAfter).trim() === '') insertAfter--;
  }
  const newLines = missing.map((seg, i) => {
    const pad = ' '.repeat(baseIndent + i * unit);
    return i === missing.length - 1 ? `${pad}${seg}: ${value}` : `${pad}${seg}:`;
  });
  const at = { line: insertAfter, character: lines[insertAfter]?.length ?? 0 };
  const emptyFile = text.trim() === '';
  return [{ range: { start: at, end: at }, newText: emptyFile ? newLines.join(eol) : eol + newLines.join(eol) }];
}

/**
 * Like `setScalar`, for a value that may be written as a one-line flow list (`channels: [32, 64]`):
 * that list is replaced whole by `value` (YAML flow text). A block list, or a flow list spread over
 * several lines, is not edited (undefined); an absent or scalar value is set as `setScalar` does.
 */
export function setFlowList(doc: YamlText, path: readonly string[], value: string): TextEdit[] | undefined {
  const existing = doc.positions.entries.find((e) => e.path.length === path.length && startsWith(e.path, path));
  if (existing === undefined || existing.valueKind !== 'flow') return setScalar(doc, path, value);
  const written = existing.value.trim();
  if (!written.startsWith('[') || !written.endsWith(']') || written.slice(1, -1).includes('[')) return undefined;
  if (written === value) return [];
  return [{ range: { start: { line: existing.line, character: existing.valueStart }, end: { line: existing.line, character: existing.valueEnd } }, newText: value }];
}

/** The inline value text of a key as written in the file, if set. */
export function writtenValue(doc: YamlText, path: readonly string[]): string | undefined {
  const e = doc.positions.entries.find((x) => x.path.length === path.length && startsWith(x.path, path));
  return e === undefined || e.valueKind !== 'scalar' ? undefined : e.value;
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
export function mergeSection(doc: YamlText, from: string, into: string): TextEdit[] | undefined {
  const { text, positions } = doc;
  const fromName = positions.keyNameRanges.get(from);
  const fromAll = positions.keyRanges.get(from);
  const intoName = positions.keyNameRanges.get(into);
  const intoAll = positions.keyRanges.get(into);
  if (!fromName || !fromAll || !intoName || !intoAll) return undefined;
  const moved = childrenOf(positions, from);
  const kept = childrenOf(positions, into);
  if (moved.length === 0) return undefined; // a scalar (or empty) key: nothing to merge, and renaming would duplicate
  // Both must be block mappings: their children start on later lines than the key.
  const blockOf = (name: FileRange, kids: string[]): boolean => kids.every((k) => (positions.keyNameRanges.get(k)?.line ?? 0) > name.line);
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
  const dstIndent = kept.length > 0 ? (positions.keyNameRanges.get(checked.at(kept, 0))?.column ?? 1) - 1 : intoName.column - 1 + srcIndent - (fromName.column - 1);
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
