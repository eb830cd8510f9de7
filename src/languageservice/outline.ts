/**
 * A line-based outline of a block-style YAML document: every `key:` line with its full key path and
 * the columns of its key and inline value. Hover, completion and the quick fixes work from this
 * rather than from a YAML AST because they must work on text that is being typed (`  lea|` parses
 * as a scalar, not as a key, and a half-written file often does not parse at all). Experiment files
 * are block mappings; flow mappings (`{a: 1}`) are treated as opaque values.
 */

export interface OutlineEntry {
  /** 0-based line. */
  line: number;
  /** Column where the key starts (after any `- `). */
  indent: number;
  key: string;
  /** Full key path, the key included. */
  path: string[];
  keyStart: number;
  keyEnd: number;
  /** Column of the `:` after the key. */
  colon: number;
  /** Inline value without the trailing comment and whitespace; `valueStart === valueEnd` when empty. */
  valueStart: number;
  valueEnd: number;
  value: string;
  /** Column where a trailing `# comment` starts, if any. */
  commentStart?: number;
}

const KEY_LINE = /^(\s*)((?:-\s+)*)("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-:][^:#]*?|-[^\s:#][^:#]*?)\s*:(?=\s|$)/;

export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** Column of a `#` that starts a comment (preceded by whitespace, outside quotes), from `from`. */
export function commentColumn(line: string, from: number): number | undefined {
  let quote: string | undefined;
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return i;
  }
  return undefined;
}

function unquote(key: string): string {
  if (key.startsWith('"') && key.endsWith('"')) return key.slice(1, -1).replace(/\\(.)/g, '$1');
  if (key.startsWith("'") && key.endsWith("'")) return key.slice(1, -1).replace(/''/g, "'");
  return key;
}

/** Parse one line as a `key: value` line (no path), or undefined. */
export function parseKeyLine(lineText: string, line: number): Omit<OutlineEntry, 'path'> | undefined {
  const m = KEY_LINE.exec(lineText);
  if (m === null) return undefined;
  const indent = m[1].length + m[2].length;
  const rawKey = m[3];
  const keyStart = indent;
  const keyEnd = keyStart + rawKey.length;
  const colon = m[0].length - 1;
  const comment = commentColumn(lineText, colon + 1);
  const rest = lineText.slice(colon + 1, comment ?? lineText.length);
  const lead = rest.length - rest.trimStart().length;
  const value = rest.trim();
  const valueStart = colon + 1 + lead;
  return {
    line,
    indent,
    key: unquote(rawKey),
    keyStart,
    keyEnd,
    colon,
    valueStart: value === '' ? colon + 1 : valueStart,
    valueEnd: value === '' ? colon + 1 : valueStart + value.length,
    value,
    ...(comment !== undefined ? { commentStart: comment } : {}),
  };
}

function isSkippable(lineText: string): boolean {
  const t = lineText.trim();
  return t === '' || t.startsWith('#') || t === '---' || t === '...';
}

export function outline(text: string): OutlineEntry[] {
  const lines = splitLines(text);
  const out: OutlineEntry[] = [];
  const stack: Array<{ indent: number; key: string }> = [];
  let blockScalarIndent: number | undefined; // inside `key: |` text, lines are content, not keys
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    if (isSkippable(text)) continue;
    const ind = text.length - text.trimStart().length;
    if (blockScalarIndent !== undefined) {
      if (ind > blockScalarIndent) continue;
      blockScalarIndent = undefined;
    }
    const e = parseKeyLine(text, i);
    if (e === undefined) continue;
    while (stack.length > 0 && stack[stack.length - 1].indent >= e.indent) stack.pop();
    const path = [...stack.map((s) => s.key), e.key];
    out.push({ ...e, path });
    stack.push({ indent: e.indent, key: e.key });
    if (/^[|>][-+0-9]*$/.test(e.value)) blockScalarIndent = e.indent;
  }
  return out;
}

/** The key path that encloses a line at a given indentation (for a key about to be typed there). */
export function parentPathAt(entries: readonly OutlineEntry[], line: number, indent: number): string[] {
  const stack: OutlineEntry[] = [];
  for (const e of entries) {
    if (e.line >= line) break;
    while (stack.length > 0 && stack[stack.length - 1].indent >= e.indent) stack.pop();
    stack.push(e);
  }
  while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop();
  return stack.length === 0 ? [] : stack[stack.length - 1].path;
}

export function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}
