/** Test helper: a YAML text with one `|` marking the cursor → the text without it and the 0-based position. */
import * as checked from '../../src/shared/checked';
export function atCursor(marked: string): { text: string; position: { line: number; character: number } } {
  const at = marked.indexOf('|');
  if (at < 0 || marked.indexOf('|', at + 1) >= 0) throw new Error('mark exactly one cursor with |');
  const text = marked.slice(0, at) + marked.slice(at + 1);
  const before = marked.slice(0, at).split('\n');
  return { text, position: { line: before.length - 1, character: checked.at(before, before.length - 1).length } };
}
