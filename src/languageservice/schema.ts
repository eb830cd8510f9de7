/**
 * Navigation in the experiment file's JSON schema. The schema (`src/config/gradflow.schema.json`)
 * is the single source of hover text and completion items, so this module only reads it: it
 * follows local `$ref`s and looks through `allOf` / `anyOf` / `oneOf` branches, which is how
 * schemas express "an object with these keys" in more than one place.
 */

export interface JsonSchema {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  type?: string | string[];
  title?: string;
  description?: string;
  markdownDescription?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  examples?: unknown[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  items?: JsonSchema | JsonSchema[];
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  deprecated?: boolean;
}

/** Resolve a local `$ref` (`#/definitions/x`, `#/$defs/x`) against the root; other refs are left as they are. */
export function deref(root: JsonSchema, node: JsonSchema, seen: Set<JsonSchema> = new Set()): JsonSchema {
  let cur = node;
  while (cur.$ref !== undefined && cur.$ref.startsWith('#') && !seen.has(cur)) {
    seen.add(cur);
    const target = pointer(root, cur.$ref.slice(1));
    if (target === undefined) break;
    // Sibling keywords next to a $ref (a description, typically) win over the target's.
    const { $ref: _ignored, ...siblings } = cur;
    cur = { ...target, ...siblings };
  }
  return cur;
}

function pointer(root: JsonSchema, ptr: string): JsonSchema | undefined {
  let cur: unknown = root;
  for (const raw of ptr.split('/').slice(1)) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === 'object' && cur !== null ? (cur as JsonSchema) : undefined;
}

/** The node and every branch it combines with (allOf/anyOf/oneOf), each dereferenced. */
function branches(root: JsonSchema, node: JsonSchema): JsonSchema[] {
  const out: JsonSchema[] = [];
  const visit = (n: JsonSchema, depth: number): void => {
    const d = deref(root, n);
    out.push(d);
    if (depth > 8) return; // guards against pathological self-combining schemas
    for (const b of [...(d.allOf ?? []), ...(d.anyOf ?? []), ...(d.oneOf ?? [])]) visit(b, depth + 1);
  };
  visit(node, 0);
  return out;
}

/** Keys an object node declares, in schema order, with their (dereferenced) sub-schemas. */
export function propertiesOf(root: JsonSchema, node: JsonSchema): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  for (const b of branches(root, node)) {
    for (const [k, v] of Object.entries(b.properties ?? {})) {
      if (!out.has(k)) out.set(k, deref(root, v));
    }
  }
  return out;
}

/** The sub-schema for a key path (`['training', 'learning_rate']`), or undefined when the schema does not know it. */
export function schemaAt(root: JsonSchema, path: readonly string[]): JsonSchema | undefined {
  let cur: JsonSchema = deref(root, root);
  for (const seg of path) {
    const props = propertiesOf(root, cur);
    const next = props.get(seg);
    if (next !== undefined) {
      cur = next;
      continue;
    }
    const extra = branches(root, cur)
      .map((b) => b.additionalProperties)
      .find((a): a is JsonSchema => typeof a === 'object');
    if (extra === undefined) return undefined;
    cur = deref(root, extra);
  }
  return cur;
}

/** Allowed literal values of a node: `enum`, `const`, booleans, gathered across branches. */
export function valuesOf(root: JsonSchema, node: JsonSchema): unknown[] {
  const out: unknown[] = [];
  const add = (v: unknown): void => {
    if (!out.some((o) => o === v)) out.push(v);
  };
  for (const b of branches(root, node)) {
    for (const v of b.enum ?? []) add(v);
    if (b.const !== undefined) add(b.const);
    if (typeOf(b).includes('boolean')) {
      add(true);
      add(false);
    }
  }
  return out;
}

export function typeOf(node: JsonSchema): string[] {
  if (node.type === undefined) return [];
  return Array.isArray(node.type) ? node.type : [node.type];
}

/** Whether the node describes a mapping (so a key completion should open a block). */
export function isObject(root: JsonSchema, node: JsonSchema): boolean {
  return branches(root, node).some((b) => typeOf(b).includes('object') || b.properties !== undefined);
}

/** One-line type summary for hover/completion detail: `number ≥ 0`, `"relu" | "elu"`, `object`. */
export function typeLabel(root: JsonSchema, node: JsonSchema): string {
  const values = branches(root, node).flatMap((b) => [...(b.enum ?? []), ...(b.const !== undefined ? [b.const] : [])]);
  if (values.length > 0) return values.map((v) => JSON.stringify(v)).join(' | ');
  const types = new Set(branches(root, node).flatMap(typeOf));
  if (types.size === 0) return isObject(root, node) ? 'object' : 'any';
  let label = [...types].join(' | ');
  const bounds: string[] = [];
  for (const b of branches(root, node)) {
    if (typeof b.minimum === 'number') bounds.push(`≥ ${b.minimum}`);
    if (typeof b.exclusiveMinimum === 'number') bounds.push(`> ${b.exclusiveMinimum}`);
    if (typeof b.maximum === 'number') bounds.push(`≤ ${b.maximum}`);
    if (typeof b.exclusiveMaximum === 'number') bounds.push(`< ${b.exclusiveMaximum}`);
  }
  if (bounds.length > 0) label += ` ${bounds.join(', ')}`;
  return label;
}

/** The first description found on the node or its branches (markdown preferred). */
export function descriptionOf(root: JsonSchema, node: JsonSchema): string | undefined {
  for (const b of branches(root, node)) {
    const d = b.markdownDescription ?? b.description;
    if (d !== undefined && d !== '') return d;
  }
  return undefined;
}

export function defaultOf(root: JsonSchema, node: JsonSchema): unknown {
  for (const b of branches(root, node)) if (b.default !== undefined) return b.default;
  return undefined;
}

/** Markdown documentation of a key: description, type, default and allowed values. */
export function documentation(root: JsonSchema, key: string, node: JsonSchema): string {
  const parts: string[] = [`**${key}**: \`${typeLabel(root, node)}\``];
  const desc = descriptionOf(root, node);
  if (desc !== undefined) parts.push(desc);
  const def = defaultOf(root, node);
  if (def !== undefined) parts.push(`Default: \`${formatValue(def)}\``);
  const values = valuesOf(root, node).filter((v) => typeof v !== 'boolean');
  if (values.length > 0) parts.push(`Allowed: ${values.map((v) => `\`${formatValue(v)}\``).join(', ')}`);
  return parts.join('\n\n');
}

/** A value as it is written in YAML. */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
