/**
 * Source positions of an experiment file: which text range each dotted key path occupies. Kept apart
 * from validation so alerts raised while training (e.g. on `training.learning_rate`) can be mapped
 * back to a line of the file, and so a key that is absent still maps to something sensible (its
 * section, or line 1) for diagnostics.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { fileKeys } from './keys';
import type { KeyEntry, ParseResult, Range, ValueKind } from './types';

export { toSnakePath } from './keys';

export interface PositionIndex {
  keyRanges: Map<string, Range>;
  keyNameRanges: Map<string, Range>;
  valueRanges: Map<string, Range>;
  firstLine: Range;
  /** Every `key: value` pair of the file, block or flow style, in file order. */
  entries: KeyEntry[];
}

// The entry types live with the other parser types (`types.ts`), so that module imports nothing here.
export type { KeyEntry, ValueKind } from './types';

export function rangeFromOffsets(lineCounter: LineCounter, offset: number, endOffset: number): Range {
  const start = lineCounter.linePos(offset);
  const end = lineCounter.linePos(Math.max(offset, endOffset));
  return { line: start.line, column: start.col, endLine: end.line, endColumn: end.col, offset, endOffset: Math.max(offset, endOffset) };
}

function firstLineRange(text: string, lineCounter: LineCounter): Range {
  const nl = text.indexOf('\n');
  const end = nl < 0 ? text.length : nl > 0 && text[nl - 1] === '\r' ? nl - 1 : nl;
  return rangeFromOffsets(lineCounter, 0, end);
}

/**
 * [start, end) of a node's own text. A block collection's range runs on to the next line (and over
 * trailing comments); its content ends where its last value ends, which is what a user expects
 * "the `model` section" to cover.
 */
function nodeRange(node: Node, text: string): [number, number] | undefined {
  if (!node.range) return undefined;
  const start = node.range[0];
  let end = node.range[1];
  if ((isMap(node) || isSeq(node)) && !node.flow && node.items.length > 0) {
    const last = node.items[node.items.length - 1];
    const lastNode = (isPair(last) ? (last.value ?? last.key) : last) as Node | null;
    const inner = lastNode && typeof lastNode === 'object' && 'range' in lastNode ? nodeRange(lastNode, text) : undefined;
    if (inner) end = inner[1];
  }
  while (end > start && /\s/.test(text[end - 1] ?? '')) end--;
  return [start, end];
}

/** Walks the YAML tree and records key/value ranges under dotted paths (list items as `.0`, `.1`). */
export function collectPositions(doc: Document, lineCounter: LineCounter, text: string): PositionIndex {
  const index: PositionIndex = {
    keyRanges: new Map(),
    keyNameRanges: new Map(),
    valueRanges: new Map(),
    firstLine: firstLineRange(text, lineCounter),
    entries: [],
  };
  const visit = (node: unknown, path: string, segments: readonly string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key) || !pair.key.range) continue;
        const key = String(pair.key.value);
        const childPath = path ? `${path}.${key}` : key;
        const [ks, ke] = [pair.key.range[0], pair.key.range[1]];
        index.keyNameRanges.set(childPath, rangeFromOffsets(lineCounter, ks, ke));
        const value = pair.value as Node | null;
        const entry = keyEntry(text, lineCounter, key, [...segments, key], ks, ke, value, node.flow === true);
        if (entry) index.entries.push(entry);
        const vr = value ? nodeRange(value, text) : undefined;
        // An empty value (`model:`) has a zero-width range after the colon: the key stands for both.
        if (vr && vr[1] > vr[0]) {
          index.valueRanges.set(childPath, rangeFromOffsets(lineCounter, vr[0], vr[1]));
          index.keyRanges.set(childPath, rangeFromOffsets(lineCounter, ks, vr[1]));
        } else {
          index.valueRanges.set(childPath, rangeFromOffsets(lineCounter, ks, ke));
          index.keyRanges.set(childPath, rangeFromOffsets(lineCounter, ks, ke));
        }
        visit(value, childPath, [...segments, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const childPath = `${path}.${i}`;
        const r = isScalar(item) || isMap(item) || isSeq(item) ? nodeRange(item, text) : undefined;
        if (!r) return;
        const range = rangeFromOffsets(lineCounter, r[0], r[1]);
        index.keyRanges.set(childPath, range);
        index.keyNameRanges.set(childPath, range);
        index.valueRanges.set(childPath, range);
        visit(item, childPath, segments);
      });
    }
  };
  visit(doc.contents, '', []);
  return index;
}

/** 0-based line and character of an offset. */
function at(lineCounter: LineCounter, offset: number): { line: number; character: number } {
  const p = lineCounter.linePos(offset);
  return { line: p.line - 1, character: p.col - 1 };
}

/** The entry of one pair; undefined for a key without a `:` after it on its line (a `? ` key). */
function keyEntry(text: string, lineCounter: LineCounter, key: string, path: string[], ks: number, ke: number, value: Node | null, inFlow: boolean): KeyEntry | undefined {
  let c = ke;
  while (text[c] === ' ' || text[c] === '\t') c++;
  if (text[c] !== ':') return undefined;
  const start = at(lineCounter, ks);
  const keyEnd = at(lineCounter, ke);
  const colon = at(lineCounter, c);
  if (keyEnd.line !== start.line || colon.line !== start.line) return undefined;
  const entry: KeyEntry = {
    line: start.line,
    indent: start.character,
    key,
    path,
    keyStart: start.character,
    keyEnd: keyEnd.character,
    colon: colon.character,
    valueKind: 'empty',
    valueStart: colon.character + 1,
    valueEnd: colon.character + 1,
    value: '',
    inFlow,
  };
  const r = value?.range;
  if (!value || !r || (isScalar(value) && value.value === null && r[1] <= r[0])) return entry;
  if (isScalar(value) && (value.type === 'BLOCK_LITERAL' || value.type === 'BLOCK_FOLDED')) return { ...entry, valueKind: 'text' };
  const flowCollection = (isMap(value) || isSeq(value)) && value.flow === true;
  if ((isMap(value) || isSeq(value)) && !flowCollection) return { ...entry, valueKind: 'block' };
  const vs = at(lineCounter, r[0]);
  const ve = at(lineCounter, r[1]);
  const kind: ValueKind = flowCollection ? 'flow' : 'scalar';
  const out: KeyEntry = { ...entry, valueKind: kind };
  if (vs.line === start.line) {
    const sameLine = ve.line === start.line;
    // A flow collection's range runs on over the spaces after it: end at its closing bracket.
    let end = sameLine ? r[1] : r[0];
    if (sameLine) while (end > r[0] && /\s/.test(text[end - 1] ?? '')) end--;
    Object.assign(out, { valueStart: vs.character, valueEnd: vs.character + (end - r[0]), value: text.slice(r[0], end) });
  }
  if (isMap(value) && flowCollection) {
    let close = r[1];
    while (close > r[0] && text[close - 1] !== '}') close--;
    if (close > r[0]) out.flowClose = { at: at(lineCounter, close - 1), empty: value.items.length === 0 };
  }
  return out;
}

/**
 * The key entries of a text (no validation), for hover, completion and the quick fixes. Never
 * throws: a text the parser cannot walk has no entries.
 */
export function keyEntries(text: string): KeyEntry[] {
  try {
    return positionsOfText(text).entries;
  } catch {
    return [];
  }
}

/**
 * Range of `keyPath` (its key and value) in a parsed file or a text. Accepts snake_case (file) or
 * camelCase (`ExperimentConfig`) paths. A key absent from the file maps to its alternative spelling
 * if the file writes that (`sparsity.density` for `sparsity.dense_width`), else to the key of the
 * nearest section present (e.g. `training:` for `training.learning_rate`), else to line 1, so an
 * alert about a defaulted setting still lands somewhere visible. Undefined only for an empty key path.
 */
export function keyRange(source: string | Pick<ParseResult, 'keyRanges' | 'keyNameRanges' | 'valueRanges' | 'firstLine'>, keyPath: string): Range | undefined {
  if (keyPath === '') return undefined;
  return fileKeys(typeof source === 'string' ? positionsOfText(source) : source).range(keyPath);
}

/** Positions only (no validation), for callers that have just the text. */
export function positionsOfText(text: string): PositionIndex {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  return collectPositions(doc, lineCounter, text);
}
