import type { KeyEntry } from '../config/positions';
import { keyArchitectures } from '../config/resolve';
import { ARCHITECTURES } from '../shared/experiment';
import { entriesWithoutLine, type ExperimentDocument } from './document';
import {
  defaultOf,
  descriptionOf,
  documentation,
  formatValue,
  GRADFLOW_SCHEMA,
  isObject,
  nodeAt,
  propertiesOf,
  typeLabel,
  valuesOf,
  type SchemaNode,
} from '../config/schema';
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type Position, type Range } from './types';
import { at } from '../shared/checked';

/** Cursor on a line holding only indentation and a partial key: `  lea|`. */
const KEY_CONTEXT = /^(\s*)((?:-\s+)*)([^\s:#'"]*)$/;
/** Cursor after `key:` on the same line: `  optimizer: ad|`. */
const VALUE_CONTEXT = /^(\s*)((?:-\s+)*)([^\s:#'"][^:#]*?)\s*:\s*([^#]*)$/;

/**
 * Keys valid at the cursor that are not already present in that mapping, or the allowed values of
 * the key whose value is being typed. Items carry the schema's documentation; the client filters
 * them by the typed prefix.
 */
export function completion(doc: ExperimentDocument, position: Position, schema: SchemaNode = GRADFLOW_SCHEMA): CompletionItem[] {
  const lines = doc.text.split(/\r?\n/);
  const lineText = lines[position.line];
  if (lineText === undefined) return [];
  const before = lineText.slice(0, position.character);
  const after = lineText.slice(position.character);

  const keyMatch = KEY_CONTEXT.exec(before);
  if (keyMatch !== null) {
    // The key being typed (`  lea`) is not YAML yet: the parser would read it into the next line's
    // key. The rest of the file is read with the cursor's line left empty.
    const entries = entriesWithoutLine(doc, position.line);
    const indent = at(keyMatch, 1).length + at(keyMatch, 2).length;
    const prefix = at(keyMatch, 3);
    const parent = parentPathAt(entries, position.line, indent);
    const node = nodeAt(schema, parent);
    if (node === undefined) return [];
    // Checked before the object test: `sweep.linked` is a list whose items are mappings.
    if (samePath(parent, SWEEP_LINKED)) return linkedKeyItems(schema, entries, lines, position.line, at(keyMatch, 2) !== '', keyRangeAt(position, prefix, after), /^[^\s:#]*\s*:/.test(after));
    if (!isObject(node)) return [];
    const present = new Set(
      entries.filter((e) => e.line !== position.line && samePath(e.path.slice(0, -1), parent)).map((e) => e.key),
    );
    // When the line already has `key: value` after the cursor, only the name is replaced.
    const nameOnly = /^[^\s:#]*\s*:/.test(after);
    const range = keyRangeAt(position, prefix, after);
    const items: CompletionItem[] = [];
    let i = 0;
    if (samePath(parent, SWEEP_GRID)) {
      // Grid axes are dotted key paths of the file itself: offer every settable leaf.
      for (const [key, sub] of leafPaths(schema)) {
        i++;
        if (present.has(key) || key === 'training.seed' || key.startsWith('sweep.')) continue;
        items.push({
          label: key,
          kind: CompletionItemKind.Property,
          detail: `axis: ${typeLabel(sub)}`,
          documentation: { kind: MarkupKind.Markdown, value: documentation(key, sub) },
          textEdit: { range, newText: nameOnly ? key : `${key}: [$1]` },
          ...(nameOnly ? {} : { insertTextFormat: InsertTextFormat.Snippet }),
          sortText: String(i).padStart(3, '0'),
        });
      }
      return items;
    }
    // With `model.architecture` written, the keys of the other architectures are not offered.
    const written = entries.find((e) => samePath(e.path, ['model', 'architecture']))?.value.trim().replace(/^["']|["']$/g, '');
    const architecture = ARCHITECTURES.find((a) => a === written);
    for (const [key, sub] of propertiesOf(node)) {
      i++;
      if (present.has(key)) continue;
      const only = keyArchitectures([...parent, key].join('.'));
      if (architecture !== undefined && only !== undefined && !only.includes(architecture)) continue;
      items.push({
        label: key,
        kind: isObject(sub) ? CompletionItemKind.Module : CompletionItemKind.Property,
        detail: typeLabel(sub),
        documentation: { kind: MarkupKind.Markdown, value: documentation([...parent, key].join('.'), sub) },
        textEdit: { range, newText: nameOnly ? key : keySnippet(key, sub) },
        ...(nameOnly ? {} : { insertTextFormat: InsertTextFormat.Snippet }),
        sortText: String(i).padStart(3, '0'),
      });
    }
    return items;
  }

  const valueMatch = VALUE_CONTEXT.exec(before);
  if (valueMatch !== null) {
    // The last key before the cursor on its line (a flow mapping can hold several).
    const entry = doc.positions.entries
      .filter((e) => e.line === position.line && e.colon < position.character)
      .sort((a, b) => b.colon - a.colon)[0];
    if (entry === undefined) return [];
    // A key of a linked sweep item takes one value of the key it names.
    const linkedKey = entry.path.length === 3 && samePath(entry.path.slice(0, 2), SWEEP_LINKED) ? entry.key : undefined;
    const node = linkedKey !== undefined ? nodeAt(schema, linkedKey.split('.')) : nodeAt(schema, entry.path);
    if (node === undefined) return [];
    const keyName = linkedKey ?? entry.path.join('.');
    const range: Range = {
      start: { line: position.line, character: entry.valueStart },
      end: { line: position.line, character: Math.max(entry.valueEnd, position.character) },
    };
    const keyDoc = descriptionOf(node);
    const enumDocs = enumDescriptions(node);
    const values = valuesOf(node);
    const def = defaultOf(node);
    const offered = values.length > 0 ? values : def !== undefined && typeof def !== 'object' ? [def] : [];
    return offered.map((v, i) => {
      const label = formatValue(v);
      const own = enumDocs?.[i];
      const notes = [own, v === def ? '(default)' : undefined, keyDoc].filter((s): s is string => s !== undefined);
      return {
        label,
        kind: typeof v === 'boolean' ? CompletionItemKind.Value : CompletionItemKind.EnumMember,
        detail: `${keyName}${v === def ? ' (default)' : ''}`,
        documentation: { kind: MarkupKind.Markdown, value: notes.join('\n\n') },
        textEdit: { range, newText: label },
        sortText: String(i).padStart(3, '0'),
      };
    });
  }
  return [];
}

const SWEEP_GRID = ['sweep', 'grid'];

/** The range a key completion replaces: the typed prefix and the rest of the key after the cursor. */
function keyRangeAt(position: Position, prefix: string, after: string): Range {
  const restOfKey = /^[^\s:#]*/.exec(after)?.[0] ?? '';
  return {
    start: { line: position.line, character: position.character - prefix.length },
    end: { line: position.line, character: position.character + restOfKey.length },
  };
}
const SWEEP_LINKED = ['sweep', 'linked'];
/** Keys a sweep cannot set (src/config/sweep.ts FORBIDDEN_AXES). */
const NOT_SWEPT = new Set(['training.seed', 'name', 'run.runs_dir']);

/**
 * Keys for an item of `sweep.linked` (block style: `- training.optimizer: sgd`, then indented keys).
 * Entry paths drop list indices, so the item around the cursor is found from the `- ` lines. Keys
 * of this item and grid axes are left out; keys that the other items set come first, since every
 * item must set the same keys.
 */
function linkedKeyItems(
  schema: SchemaNode,
  entries: readonly KeyEntry[],
  lines: readonly string[],
  line: number,
  startsItem: boolean,
  range: Range,
  nameOnly: boolean,
): CompletionItem[] {
  const inLinked = entries.filter((e) => e.path.length === 3 && samePath(e.path.slice(0, 2), SWEEP_LINKED));
  const starts = inLinked.filter((e) => at(lines, e.line).slice(0, e.keyStart).includes('-')).map((e) => e.line);
  if (startsItem) starts.push(line);
  const start = Math.max(-1, ...starts.filter((l) => l <= line));
  const end = Math.min(Infinity, ...starts.filter((l) => l > line));
  const own = new Set(inLinked.filter((e) => e.line !== line && e.line >= start && e.line < end).map((e) => e.key));
  const others = new Set(inLinked.filter((e) => e.line < start || e.line >= end).map((e) => e.key));
  const grid = new Set(entries.filter((e) => e.path.length === 3 && samePath(e.path.slice(0, 2), SWEEP_GRID)).map((e) => e.key));
  const items: CompletionItem[] = [];
  leafPaths(schema).forEach(([key, sub], i) => {
    if (own.has(key) || grid.has(key) || NOT_SWEPT.has(key) || key.startsWith('sweep.')) return;
    items.push({
      label: key,
      kind: CompletionItemKind.Property,
      detail: `linked: ${typeLabel(sub)}`,
      documentation: { kind: MarkupKind.Markdown, value: documentation(key, sub) },
      textEdit: { range, newText: nameOnly ? key : keySnippet(key, sub) },
      ...(nameOnly ? {} : { insertTextFormat: InsertTextFormat.Snippet }),
      sortText: `${others.has(key) ? 0 : 1}${String(i).padStart(3, '0')}`,
    });
  });
  return items;
}

/** Every non-object key of the schema as a dotted path, in schema order. */
function leafPaths(root: SchemaNode): Array<[string, SchemaNode]> {
  const out: Array<[string, SchemaNode]> = [];
  const walk = (node: SchemaNode, prefix: string[], depth: number): void => {
    for (const [key, sub] of propertiesOf(node)) {
      const p = [...prefix, key];
      if (isObject(sub) && depth < 6) walk(sub, p, depth + 1);
      else out.push([p.join('.'), sub]);
    }
  };
  walk(root, [], 0);
  return out;
}

function enumDescriptions(node: SchemaNode): readonly string[] | undefined {
  return node.markdownEnumDescriptions ?? node.enumDescriptions;
}

/** `key: ` followed by a tab stop; a choice of the allowed values; a block for objects. */
function keySnippet(key: string, node: SchemaNode): string {
  if (isObject(node)) return `${key}:\n  $0`;
  const values = valuesOf(node).map(formatValue);
  if (values.length > 0 && values.every((v) => !/[|,$}\\]/.test(v))) return `${key}: \${1|${values.join(',')}|}`;
  const def = defaultOf(node);
  if (def !== undefined && typeof def !== 'object') return `${key}: \${1:${escapeSnippet(formatValue(def))}}`;
  return `${key}: $0`;
}

function escapeSnippet(s: string): string {
  return s.replace(/[$}\\]/g, (c) => `\\${c}`);
}

/** The key path that encloses a line at a given indentation (for a key about to be typed there). */
function parentPathAt(entries: readonly KeyEntry[], line: number, indent: number): string[] {
  const stack: KeyEntry[] = [];
  for (const e of entries) {
    if (e.line >= line) break;
    if (e.inFlow) continue; // keys inside `{…}` do not open block sections
    while (stack.length > 0 && at(stack, stack.length - 1).indent >= e.indent) stack.pop();
    stack.push(e);
  }
  while (stack.length > 0 && at(stack, stack.length - 1).indent >= indent) stack.pop();
  return stack.length === 0 ? [] : at(stack, stack.length - 1).path;
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}
