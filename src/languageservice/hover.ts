import { outline, parseKeyLine, splitLines } from './outline';
import { documentation, GRADFLOW_SCHEMA, nodeAt, type SchemaNode } from '../config/schema';
import type { Hover, Position } from './types';

/**
 * Documentation of the key under the cursor (on its name or its inline value), from the schema's
 * description, type, default and allowed values. Nothing for keys the schema does not know: the
 * validator already flags those.
 */
export function hover(text: string, position: Position, schema: SchemaNode = GRADFLOW_SCHEMA): Hover | null {
  const lineText = splitLines(text)[position.line];
  if (lineText === undefined) return null;
  const own = parseKeyLine(lineText, position.line);
  if (own === undefined) return null;
  if (position.character < own.keyStart) return null;
  if (position.character > Math.max(own.keyEnd, own.valueEnd)) return null;
  const entry = outline(text).find((e) => e.line === position.line);
  if (entry === undefined) return null; // a key line inside a block scalar is text, not a key
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
    contents: { kind: 'markdown', value },
    range: {
      start: { line: entry.line, character: entry.keyStart },
      end: { line: entry.line, character: entry.keyEnd },
    },
  };
}
