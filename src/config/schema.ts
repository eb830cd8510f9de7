/**
 * The experiment-file JSON Schema as a typed value, and the one model of it every consumer uses:
 * `gradflow.schema.json` is the single source of validation, defaults, hover text and completion;
 * this module types it and offers lookups by key path and the documentation of a node. The key
 * registry (`keys.ts`) lists every key of it once. Consumers that want the raw JSON (`yaml.schemas`
 * settings) can import `./gradflow.schema.json` directly (resolveJsonModule) or use `GRADFLOW_SCHEMA`.
 */
import schemaJson from './gradflow.schema.json';
import { atI32 } from '../shared/checked';

export type SchemaType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

/** The subset of JSON Schema draft-07 the file uses (and the walker in `validate.ts` implements). */
export interface SchemaNode {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  markdownDescription?: string;
  /** Per-`enum` value documentation (VS Code extension of JSON Schema). */
  enumDescriptions?: readonly string[];
  markdownEnumDescriptions?: readonly string[];
  type?: SchemaType | SchemaType[];
  enum?: readonly unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: Record<string, SchemaNode>;
  required?: readonly string[];
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  oneOf?: readonly SchemaNode[];
  const?: unknown;
  examples?: readonly unknown[];
  deprecated?: boolean;
}

/**
 * The JSON import is typed by TypeScript as wide literals (`type: string`), which do not match the
 * `SchemaType` union; the cast is safe because the walker's tests exercise every keyword used.
 */
export const GRADFLOW_SCHEMA: SchemaNode = schemaJson as unknown as SchemaNode;

/** Sub-schema at a dotted path of object properties (`training.optimizer`), or undefined. */
export function schemaAt(path: string, root: SchemaNode = GRADFLOW_SCHEMA): SchemaNode | undefined {
  if (path === '') return root;
  let node: SchemaNode | undefined = root;
  for (const segment of path.split('.')) {
    // Own properties only: a key named `constructor` or `__proto__` is not in the schema.
    const props: Record<string, SchemaNode> | undefined = node?.properties;
    node = props && Object.prototype.hasOwnProperty.call(props, segment) ? props[segment] : undefined;
    if (!node) return undefined;
  }
  return node;
}

/** Every key path declared by the schema (sections and leaves), in schema order. */
export function allKeyPaths(root: SchemaNode = GRADFLOW_SCHEMA): string[] {
  const out: string[] = [];
  const walk = (node: SchemaNode, prefix: string): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.push(path);
      walk(child, path);
    }
  };
  walk(root, '');
  return out;
}

/** Key paths whose schema is not an object with properties: what a value can be assigned to. */
export function leafKeyPaths(root: SchemaNode = GRADFLOW_SCHEMA): string[] {
  return allKeyPaths(root).filter((p) => !schemaAt(p, root)?.properties);
}

// -------------------------------------------------------------------------------------------------
// Navigation and documentation (hover, completion, generated docs).

/** The node and the `oneOf` branches it combines with. */
function branches(node: SchemaNode): SchemaNode[] {
  const out: SchemaNode[] = [];
  const visit = (n: SchemaNode, depth: number): void => {
    out.push(n);
    if (depth > 8) return; // guards against pathological self-combining schemas
    for (const b of n.oneOf ?? []) visit(b, depth + 1);
  };
  visit(node, 0);
  return out;
}

/** Keys an object node declares, in schema order, with their sub-schemas. */
export function propertiesOf(node: SchemaNode): Map<string, SchemaNode> {
  const out = new Map<string, SchemaNode>();
  for (const b of branches(node)) {
    for (const [k, v] of Object.entries(b.properties ?? {})) if (!out.has(k)) out.set(k, v);
  }
  return out;
}

/**
 * The sub-schema at a key path given as segments (`['training', 'learning_rate']`), following
 * `additionalProperties` schemas (e.g. the axes of `sweep.grid`); undefined when the schema does not
 * know the key.
 */
export function nodeAt(root: SchemaNode, path: readonly string[]): SchemaNode | undefined {
  let cur: SchemaNode = root;
  for (const seg of path) {
    const next = propertiesOf(cur).get(seg);
    if (next !== undefined) {
      cur = next;
      continue;
    }
    const extra = branches(cur)
      .map((b) => b.additionalProperties)
      .find((a): a is SchemaNode => typeof a === 'object');
    if (extra === undefined) return undefined;
    cur = extra;
  }
  return cur;
}

export function typeOf(node: SchemaNode): SchemaType[] {
  if (node.type === undefined) return [];
  return Array.isArray(node.type) ? node.type : [node.type];
}

/** Allowed literal values of a node: `enum`, `const`, booleans, gathered across branches. */
export function valuesOf(node: SchemaNode): unknown[] {
  const out: unknown[] = [];
  const add = (v: unknown): void => {
    if (!out.some((o) => o === v)) out.push(v);
  };
  for (const b of branches(node)) {
    for (const v of b.enum ?? []) add(v);
    if (b.const !== undefined) add(b.const);
    if (typeOf(b).includes('boolean')) {
      add(true);
      add(false);
    }
  }
  return out;
}

/** Whether the node describes a mapping (so a key completion should open a block). */
export function isObject(node: SchemaNode): boolean {
  return branches(node).some((b) => typeOf(b).includes('object') || b.properties !== undefined);
}

/** One-line type summary for hover/completion detail: `number ≥ 0`, `"relu" | "elu"`, `object`. */
export function typeLabel(node: SchemaNode): string {
  const values = branches(node).flatMap((b) => [...(b.enum ?? []), ...(b.const !== undefined ? [b.const] : [])]);
  if (values.length > 0) return values.map((v) => JSON.stringify(v)).join(' | ');
  const types = new Set(branches(node).flatMap(typeOf));
  if (types.size === 0) return isObject(node) ? 'object' : 'any';
  let label = [...types].join(' | ');
  const bounds: string[] = [];
  for (const b of branches(node)) {
    if (typeof b.minimum === 'number') bounds.push(`≥ ${b.minimum}`);
    if (typeof b.exclusiveMinimum === 'number') bounds.push(`> ${b.exclusiveMinimum}`);
    if (typeof b.maximum === 'number') bounds.push(`≤ ${b.maximum}`);
    if (typeof b.exclusiveMaximum === 'number') bounds.push(`< ${b.exclusiveMaximum}`);
  }
  if (bounds.length > 0) label += ` ${bounds.join(', ')}`;
  return label;
}

/** The first description found on the node or its branches (markdown preferred). */
export function descriptionOf(node: SchemaNode): string | undefined {
  for (const b of branches(node)) {
    const d = b.markdownDescription ?? b.description;
    if (d !== undefined && d !== '') return d;
  }
  return undefined;
}

export function defaultOf(node: SchemaNode): unknown {
  for (const b of branches(node)) if (b.default !== undefined) return b.default;
  return undefined;
}

/** A value as it is written in YAML. */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Markdown documentation of a key: description, type, default and allowed values. */
export function documentation(key: string, node: SchemaNode): string {
  const parts: string[] = [`**${key}**: \`${typeLabel(node)}\``];
  const desc = descriptionOf(node);
  if (desc !== undefined) parts.push(desc);
  const def = defaultOf(node);
  if (def !== undefined) parts.push(`Default: \`${formatValue(def)}\``);
  const values = valuesOf(node).filter((v) => typeof v !== 'boolean');
  if (values.length > 0) parts.push(`Allowed: ${values.map((v) => `\`${formatValue(v)}\``).join(', ')}`);
  return parts.join('\n\n');
}

// -------------------------------------------------------------------------------------------------
// "Did you mean": edit distance with a normaliser for the usual slips (case, `-` vs `_`, camelCase).

/** Optimal-string-alignment distance (Levenshtein plus adjacent transposition, e.g. `adma` → `adam`). */
export function editDistance(a: string, b: string, limit = Infinity): number {
  const m = a.length;
  const n = b.length;
  // Three rolling rows (i − 2, i − 1, i) instead of an (m + 1) × (n + 1) table.
  let prev2 = new Int32Array(n + 1);
  let prev = Int32Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Int32Array(n + 1);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(atI32(prev, j) + 1, atI32(cur, j - 1) + 1, atI32(prev, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, atI32(prev2, j - 2) + 1);
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    // A row's minimum never decreases further down (a transposition looks back two rows, hence +1):
    // once it is past the limit the distance is too.
    if (rowMin > limit + 1) return limit + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return atI32(prev, n);
}

function normalise(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[-_\s]/g, '');
}

/** Candidates are schema names, a few hundred at most: normalised once (a file may hold thousands of unknown keys). */
const normalisedCandidates = new Map<string, string>();
function normaliseCandidate(s: string): string {
  let n = normalisedCandidates.get(s);
  if (n === undefined) {
    n = normalise(s);
    if (normalisedCandidates.size < 10_000) normalisedCandidates.set(s, n);
  }
  return n;
}

/**
 * The candidate closest to `word`, if close enough to be a plausible typo: same after normalising
 * case and separators, or within an edit distance of 1 (up to 4 letters), 2 (up to 8) or 3 (longer).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = normalise(word);
  let best: string | undefined;
  let bestDistance = Infinity;
  const allowed = w.length <= 4 ? 1 : w.length <= 8 ? 2 : 3;
  for (const candidate of candidates) {
    const c = normaliseCandidate(candidate);
    // The distance is at least the difference in length: skip hopeless candidates (and a 100 kB
    // key never costs a 100 kB × n table).
    if (Math.abs(c.length - w.length) > allowed) continue;
    const distance = c === w ? 0 : editDistance(w, c, allowed);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= allowed ? best : undefined;
}
