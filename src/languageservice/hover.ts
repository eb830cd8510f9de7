import type { KeyEntry } from '../config/positions';
import { documentation, GRADFLOW_SCHEMA, nodeAt, type SchemaNode } from '../config/schema';
import type { ExperimentDocument } from './document';
import { MarkupKind, type Hover, type Position } from './types';

/** The pair whose key or inline value is under the cursor (a flow mapping can hold several per line). */
function entryAt(entries: readonly KeyEntry[], position: Position): KeyEntry | undefined {
  const onLine = entries.filter((e) => e.line === position.line);
  const hit = (e: KeyEntry): boolean => position.character >= e.keyStart && position.character <= Math.max(e.keyEnd, e.valueEnd);
  // The innermost wins: `linked: [{model.width: 3}]` puts the item's keys inside the outer value.
  return onLine.filter(hit).sort((a, b) => b.keyStart - a.keyStart)[0];
}

/**
 * Documentation of the key under the cursor (on its name or its inline value), from the schema's
 * description, type, default and allowed values. Nothing for keys the schema does not know: the
 * validator already flags those. Positions are the YAML parser's (block and flow style alike).
 */
export function hover(doc: ExperimentDocument, position: Position, schema: SchemaNode = GRADFLOW_SCHEMA): Hover | null {
  const entry = entryAt(doc.positions.entries, position);
  if (entry === undefined) return null;
  // A key of a `sweep.linked` item sets that key of the file, together with the item's other keys.
  const linked = entry.path.length === 3 && entry.path[0] === 'sweep' && entry.path[1] === 'linked';
  const node = linked ? nodeAt(schema, entry.key.split('.')) : nodeAt(schema, entry.path);
  if (node === undefined) return null;
  // A sweep axis names another key of the file: document that key.
  const axis = entry.path.length === 3 && entry.path[0] === 'sweep' && entry.path[1] === 'grid' ? nodeAt(schema, entry.key.split('.')) : undefined;
  const value =
    axis !== undefined
      ? `Sweep axis: the values to try for \`${entry.key}\`.\n\n${documentation(entry.key, axis)}`
      : linked
        ? `Linked sweep setting: \`${entry.key}\` takes this value in the runs of this item, together with the item's other keys.\n\n${documentation(entry.key, node)}`
        : documentation(entry.path.join('.'), node);
  return {
    contents: { kind: MarkupKind.Markdown, value },
    range: {
      start: { line: entry.line, character: entry.keyStart },
      end: { line: entry.line, character: entry.keyEnd },
    },
  };
}
