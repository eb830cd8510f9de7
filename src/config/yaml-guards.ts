/**
 * YAML-level guards against hostile or broken text, each linear in the size of the file:
 * - nesting deeper than `MAX_YAML_DEPTH` is refused on the concrete syntax tree, before the composer
 *   (which recurses, and would overflow the stack on a few thousand `[`);
 * - duplicate keys are found with one hash set per mapping (the `yaml` package's own `uniqueKeys`
 *   check compares every key with every earlier one: quadratic, 10 s for 10,000 keys);
 * - tags other than the YAML 1.2 core schema's (`!!set`, `!!binary`, `!!timestamp`, `!foo`, …) are
 *   refused instead of silently becoming an empty mapping, a Buffer or a Date;
 * - core tags are accepted only where they say what the value already is (`!!int 3`, `!!str abc`,
 *   `!!map {…}`): a tag that does not fit its value (`!!float 3`, which YAML leaves a string "3") or
 *   that changes the value's type (`!!str 5`, `!!int "3"`) is refused, naming the key. A value is
 *   read by its plain YAML type, so a file means the same with or without redundant tags.
 */
import { Composer, isMap, isNode, isPair, isScalar, isSeq, parse, Parser, YAMLParseError, type CST, type Document, type LineCounter, type Node, type Scalar } from 'yaml';
import { shownText } from '../shared/text';
import { grouped, MAX_ENTRIES, MAX_FILE_CHARS, MAX_YAML_DEPTH } from './limits';

export interface ScanProblem {
  /** 0-based offset where the limit is crossed. */
  offset: number;
  message: string;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * One pass over the text before any YAML parsing: the file size, the number of entries (lines with
 * content, and `,`-separated members of flow collections) and the nesting of flow collections,
 * each against its limit. Quoted scalars and comments are skipped; the count is approximate only in
 * ways that cannot matter at these limits (e.g. brackets inside a block scalar).
 */
export function prescan(text: string): ScanProblem | undefined {
  if (text.length > MAX_FILE_CHARS) {
    return { offset: MAX_FILE_CHARS, message: `the file has ${grouped(text.length)} characters, more than the limit of ${grouped(MAX_FILE_CHARS)}: an experiment file is a few kB` };
  }
  let entries = 0;
  let flow = 0;
  let quote = 0; // 0, or the char code of the open quote
  let lineHasContent = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote !== 0) {
      if (quote === 0x22 && c === 0x5c) i++; // backslash escape in a double-quoted scalar
      else if (c === quote) quote = 0;
      else if (c === 0x0a) lineHasContent = false;
      continue;
    }
    if (c === 0x0a) {
      lineHasContent = false;
      continue;
    }
    if (isSpace(c)) continue;
    const prev = i > 0 ? text.charCodeAt(i - 1) : 0x0a;
    if (c === 0x23 && isSpace(prev)) {
      // A comment: skip to the end of the line.
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl - 1;
      continue;
    }
    if (!lineHasContent) {
      lineHasContent = true;
      entries++;
    }
    if ((c === 0x22 || c === 0x27) && (isSpace(prev) || prev === 0x5b || prev === 0x7b || prev === 0x2c)) quote = c;
    else if (c === 0x5b || c === 0x7b) {
      flow++;
      if (flow > MAX_YAML_DEPTH) return { offset: i, message: `collections nested more than ${MAX_YAML_DEPTH} levels deep: an experiment file needs at most 6` };
    } else if ((c === 0x5d || c === 0x7d) && flow > 0) flow--;
    else if (c === 0x2c && flow > 0) entries++;
    if (entries > MAX_ENTRIES) {
      return { offset: i, message: `more than ${grouped(MAX_ENTRIES)} entries (keys and list items): an experiment file has about 50, a large sweep a few hundred` };
    }
  }
  return undefined;
}

export interface TooDeep {
  /** 0-based offset of the first collection nested deeper than the limit. */
  offset: number;
}

export interface GuardedParse {
  doc?: Document.Parsed;
  tooDeep?: TooDeep;
}

/** Iterative walk of the CST: the offset of the first collection deeper than `limit`, if any. */
function deepestOffset(tokens: readonly CST.Token[], limit: number): number | undefined {
  const stack: Array<[CST.Token, number]> = tokens.map((t): [CST.Token, number] => [t, 0]);
  while (stack.length > 0) {
    const [token, depth] = stack.pop() as [CST.Token, number];
    switch (token.type) {
      case 'document':
        if (token.value) stack.push([token.value, depth]);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        if (depth + 1 > limit) return token.offset;
        for (const item of token.items) {
          if (item.key && typeof item.key === 'object') stack.push([item.key, depth + 1]);
          if (item.value) stack.push([item.value, depth + 1]);
        }
        break;
      }
      default:
        break;
    }
  }
  return undefined;
}

/**
 * `parseDocument` (first document only, like the `yaml` package's) with a depth check between the
 * parser and the composer. `uniqueKeys` is off: `structureProblems` does that check in linear time.
 */
export function parseYamlGuarded(text: string): GuardedParse {
  const tokens = [...new Parser().parse(text)];
  const deep = deepestOffset(tokens, MAX_YAML_DEPTH);
  if (deep !== undefined) return { tooDeep: { offset: deep } };
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false });
  let doc: Document.Parsed | undefined;
  for (const d of composer.compose(tokens, true, text.length)) {
    if (!doc) doc = d;
    else {
      // Same error as `parseDocument`, so a second document reads the same as before.
      doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  return doc !== undefined ? { doc } : {};
}

export interface NodeProblem {
  /** [start, end) offsets of the text at fault. */
  range: [number, number];
  message: string;
  /** A repeated key (reported, but the rest of the file is still checked). */
  duplicate?: boolean;
  /** The dotted key path the problem is on, when it is on a value (`name`, `sweep.seeds.1`). */
  key?: string;
}

/** A key as the plain value will spell it (`1` and `'1'` are the same key there). */
function keyText(node: unknown): string | undefined {
  return isScalar(node) ? String(node.value) : undefined;
}

/** The tags of the YAML 1.2 core schema (what an explicit `!!str 5` or `!!int "3"` may say). */
const CORE_TAGS = new Set(['map', 'seq', 'str', 'null', 'bool', 'int', 'float'].map((t) => `tag:yaml.org,2002:${t}`));

function tagProblem(node: Node): NodeProblem | undefined {
  if (typeof node.tag !== 'string' || !node.range || CORE_TAGS.has(node.tag)) return undefined;
  const shown = node.tag.startsWith('tag:yaml.org,2002:') ? `!!${node.tag.slice('tag:yaml.org,2002:'.length)}` : node.tag;
  return {
    range: [node.range[0], node.range[1]],
    message: `tag '${shownText(shown)}' is not supported: an experiment file uses plain YAML (mappings, lists, strings, numbers, true/false); remove the tag`,
  };
}

const CORE = 'tag:yaml.org,2002:';

/** The kind of a value as YAML's core tags name it. */
function kindOf(value: unknown): 'str' | 'int' | 'float' | 'bool' | 'null' | 'other' {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return 'other';
}

const KIND_WORDS: Record<ReturnType<typeof kindOf>, string> = { str: 'a string', int: 'a number', float: 'a number', bool: 'true or false', null: 'an empty value', other: 'a value' };

/** What the scalar would be without its tag: plain text resolved by the core schema; quoted or block text is a string. */
function untagged(node: Scalar): unknown {
  if (node.type !== 'PLAIN' || typeof node.source !== 'string') return typeof node.source === 'string' ? node.source : String(node.value);
  try {
    return parse(node.source) as unknown;
  } catch {
    return node.source;
  }
}

/**
 * A core tag that does not fit its node, or that changes a scalar's type from what the same text
 * means without it. Redundant tags (`!!int 3`, `!!str abc`, `!!seq [1]`) are fine.
 */
function coreTagMisfit(node: Node, key: string): NodeProblem | undefined {
  if (typeof node.tag !== 'string' || !node.tag.startsWith(CORE) || !CORE_TAGS.has(node.tag) || !node.range) return undefined;
  const tag = node.tag.slice(CORE.length);
  const range: [number, number] = [node.range[0], node.range[1]];
  const shown = `'!!${tag}'`;
  if (isMap(node) || isSeq(node)) {
    const is = isMap(node) ? 'map' : 'seq';
    if (tag === is) return undefined;
    return { range, key, message: `tag ${shown} on ${isMap(node) ? 'a mapping' : 'a list'}: remove the tag` };
  }
  if (!isScalar(node)) return undefined;
  const value: unknown = node.value;
  const plain = untagged(node);
  const text = shownText(typeof node.source === 'string' ? node.source : String(value), 40);
  const got = kindOf(value);
  const fits = got === tag || (tag === 'float' && got === 'int' && typeof value === 'number');
  if (!fits) {
    return {
      range,
      key,
      message: `tag ${shown} does not fit '${text}': YAML reads it as ${KIND_WORDS[kindOf(plain)]}${tag === 'float' && kindOf(plain) === 'int' ? ' (the core schema\'s !!float needs a decimal point or an exponent, e.g. 3.0)' : ''}; Gradflow reads every value by its plain YAML type: remove the tag`,
    };
  }
  const before = kindOf(plain);
  const same = before === got || ((before === 'int' || before === 'float') && (got === 'int' || got === 'float'));
  if (!same) {
    const fix = got === 'str' ? `quote it ('${text}') for a string` : `write it unquoted for ${KIND_WORDS[got]}`;
    return { range, key, message: `tag ${shown} turns '${text}' from ${KIND_WORDS[before]} into ${KIND_WORDS[got]}: tags that change a value's type are not accepted (a value is read by its plain YAML type); remove the tag and ${fix}` };
  }
  return undefined;
}

/**
 * One walk over the document (its depth is already bounded): keys repeated in a mapping (each
 * repeat, naming the line of the first; one hash set per mapping), keys that are not plain names
 * (`? [a, b]: 1`), and tags outside the core schema (`!!set`, `!!binary`, `!!timestamp`, `!foo`).
 */
export function structureProblems(doc: Document, lineCounter: LineCounter): NodeProblem[] {
  const problems: NodeProblem[] = [];
  const walk = (node: unknown, keyPath: string): void => {
    if (!isNode(node)) return;
    const tag = tagProblem(node) ?? coreTagMisfit(node, keyPath);
    if (tag) problems.push(keyPath !== '' && tag.key === undefined ? { ...tag, key: keyPath } : tag);
    const below = (k: string): string => (keyPath === '' ? k : `${keyPath}.${k}`);
    if (isMap(node)) {
      const first = new Map<string, number>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key;
        if (isScalar(key) && key.range) {
          const k = keyText(key) as string;
          const seen = first.get(k);
          if (seen === undefined) first.set(k, key.range[0]);
          else problems.push({ range: [key.range[0], key.range[1]], message: `Map keys must be unique: '${shownText(k)}' is already set on line ${lineCounter.linePos(seen).line}`, duplicate: true });
          const keyTag = tagProblem(key);
          if (keyTag) problems.push(keyTag);
        } else if (isNode(key) && key.range) {
          problems.push({ range: [key.range[0], key.range[1]], message: `a key must be a plain name, found ${isMap(key) ? 'a mapping' : isSeq(key) ? 'a list' : 'an alias'}` });
        }
        walk(pair.value, below(keyText(key) ?? '?'));
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, below(String(i))));
    }
  };
  walk(doc.contents, '');
  return problems;
}
