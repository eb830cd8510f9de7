/**
 * The experiment-file JSON Schema as a typed value. `gradflow.schema.json` is the single source of
 * validation, defaults, hover text and completion; this module only types it and offers lookups by
 * dotted key path. Consumers that want the raw JSON (a language server, `yaml.schemas` settings)
 * can import `./gradflow.schema.json` directly (resolveJsonModule) or use `GRADFLOW_SCHEMA`.
 */
import schemaJson from './gradflow.schema.json';

export type SchemaType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

/** The subset of JSON Schema draft-07 the file uses (and the walker in `validate.ts` implements). */
export interface SchemaNode {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: SchemaType | SchemaType[];
  enum?: readonly unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  minItems?: number;
  uniqueItems?: boolean;
  properties?: Record<string, SchemaNode>;
  required?: readonly string[];
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  oneOf?: readonly SchemaNode[];
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
    node = node?.properties?.[segment];
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
// "Did you mean": edit distance with a normaliser for the usual slips (case, `-` vs `_`, camelCase).

/** Optimal-string-alignment distance (Levenshtein plus adjacent transposition, e.g. `adma` → `adam`). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[m][n];
}

function normalise(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[-_\s]/g, '');
}

/**
 * The candidate closest to `word`, if close enough to be a plausible typo: same after normalising
 * case and separators, or within an edit distance of 1 (up to 4 letters), 2 (up to 8) or 3 (longer).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = normalise(word);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const c = normalise(candidate);
    const distance = c === w ? 0 : editDistance(w, c);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = w.length <= 4 ? 1 : w.length <= 8 ? 2 : 3;
  return best !== undefined && bestDistance <= allowed ? best : undefined;
}
