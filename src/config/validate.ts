/**
 * A small JSON Schema (draft-07 subset) walker over the plain value of a YAML document. It knows only
 * the keywords `gradflow.schema.json` uses — type, enum, minimum / maximum / exclusiveMinimum /
 * exclusiveMaximum, minLength, required, properties, additionalProperties (false or a schema), items,
 * minItems, maxItems, uniqueItems, oneOf — so the schema stays the single source of what a valid file is, and
 * messages can be specific ("unknown optimizer 'adm': … did you mean 'adam'?") in a way a generic
 * validator's are not.
 */
import { allKeyPaths, closest, GRADFLOW_SCHEMA, type SchemaNode, type SchemaType } from './schema';
import type { ConfigIssue, IssueCode, IssueSeverity, Locator, Range } from './types';

import { shownText } from '../shared/text';
import { at, last } from '../shared/checked';

export type { Locator } from './types';

/** Maps a dotted key path to the text it came from. */
export interface ValidationContext {
  file: string;
  locate: Locator;
  issues: ConfigIssue[];
  /** Schema used for "this key belongs in another section" hints. */
  root?: SchemaNode;
}

export function makeIssue(
  file: string,
  key: string,
  range: Range,
  message: string,
  code: IssueCode,
  severity: IssueSeverity = 'error',
  suggestion?: string,
  set?: ConfigIssue['set'],
): ConfigIssue {
  const issue: ConfigIssue = {
    file,
    line: range.line,
    column: range.column,
    endLine: range.endLine,
    endColumn: range.endColumn,
    key,
    message,
    severity,
    code,
    offset: range.offset,
    endOffset: range.endOffset,
  };
  if (suggestion !== undefined) issue.suggestion = suggestion;
  if (set !== undefined) issue.set = set;
  return issue;
}

/** How a found value reads in a message (a string: quoted, control characters shown, at most 80 characters). */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return `'${shownText(value)}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`; // a function, symbol or bigint: never read from YAML
}

const TYPE_WORDS: Record<SchemaType, string> = {
  object: 'a mapping (indented keys)',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'an empty value',
};

/** What a schema node accepts, in words: `one of sgd, adam`, `an integer of at least 1`, `a mapping (indented keys)`. */
export function expectedText(schema: SchemaNode): string {
  if (schema.enum) return `one of ${schema.enum.map(String).join(', ')}`;
  if (schema.oneOf && schema.type === undefined) return schema.oneOf.map(expectedText).join(', or ');
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const words = types.length > 0 ? types.map((t) => TYPE_WORDS[t]).join(' or ') : 'a value';
  const bounds: string[] = [];
  if (schema.minimum !== undefined) bounds.push(`at least ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) bounds.push(`greater than ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) bounds.push(`at most ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) bounds.push(`less than ${schema.exclusiveMaximum}`);
  return bounds.length > 0 ? `${words} of ${bounds.join(' and ')}` : words;
}

function matchesType(value: unknown, type: SchemaType): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
  }
}

function formatNumber(n: number): string {
  return String(n);
}

/** Deep equality for plain JSON values (enum members, uniqueItems). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function lastSegment(path: string): string {
  return last(path.split('.'));
}

/**
 * Validates `value` (at dotted `path`) against `schema`, appending issues to `ctx.issues`. Returns
 * true when no error was added. An empty YAML value (`model:` with nothing under it) counts as an
 * empty mapping for object schemas: a section whose keys were all commented out means "defaults".
 */
export function validateValue(value: unknown, schema: SchemaNode, path: string, ctx: ValidationContext): boolean {
  // Only the issues added by this call are looked at: a sweep validates thousands of values into
  // one list, and re-counting the whole list each time would be quadratic.
  const before = ctx.issues.length;
  walk(value, schema, path, ctx);
  for (let i = before; i < ctx.issues.length; i++) if (at(ctx.issues, i).severity === 'error') return false;
  return true;
}

/** A key under which equal JSON values (deep, key order ignored) collide: for uniqueItems in linear time. */
function identityKey(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(identityKey).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${identityKey((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return value === undefined ? 'undefined' : (JSON.stringify(value) ?? typeof value);
}

function walk(value: unknown, schema: SchemaNode, path: string, ctx: ValidationContext): void {
  const error = (message: string, code: IssueCode, suggestion?: string): void => {
    ctx.issues.push(makeIssue(ctx.file, path, ctx.locate.value(path), message, code, 'error', suggestion));
  };

  if (schema.oneOf) {
    // Report the branch that got furthest (fewest errors) rather than a vague "matches no branch".
    let best: ConfigIssue[] | undefined;
    for (const branch of schema.oneOf) {
      const trial: ValidationContext = { ...ctx, issues: [] };
      walk(value, branch, path, trial);
      const errors = trial.issues.filter((i) => i.severity === 'error');
      if (errors.length === 0) {
        ctx.issues.push(...trial.issues);
        best = undefined;
        break;
      }
      if (!best || errors.length < best.length) best = trial.issues;
    }
    if (best) ctx.issues.push(...best);
    if (!schema.type) return;
  }

  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (value === null && types.includes('object') && !types.includes('null')) value = {};
  if (types.length > 0 && !types.some((t) => matchesType(value, t))) {
    const expected = schema.enum
      ? `one of ${schema.enum.map(String).join(', ')}`
      : types.map((t) => TYPE_WORDS[t]).join(' or ');
    const nonFinite = typeof value === 'number' && !Number.isFinite(value) ? ' (a finite number is required)' : '';
    error(`expected ${expected}, found ${describeValue(value)}${nonFinite}`, 'wrong-type');
    return;
  }

  if (schema.enum && !schema.enum.some((e) => jsonEqual(e, value))) {
    const noun = schema.title ?? lastSegment(path).replace(/_/g, ' ');
    const choices = schema.enum.map(String);
    const suggestion = typeof value === 'string' ? closest(value, choices) : undefined;
    const hint = suggestion ? `; did you mean '${suggestion}'?` : '';
    error(`unknown ${noun} ${describeValue(value)}: expected one of ${choices.join(', ')}${hint}`, 'unknown-value', suggestion);
    return;
  }

  if (typeof value === 'number') {
    const found = `found ${formatNumber(value)}`;
    if (schema.minimum !== undefined && value < schema.minimum) return error(`expected a number of at least ${schema.minimum}, ${found}`, 'out-of-range');
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
      return error(`expected a number greater than ${schema.exclusiveMinimum}, ${found}`, 'out-of-range');
    if (schema.maximum !== undefined && value > schema.maximum) return error(`expected a number of at most ${schema.maximum}, ${found}`, 'out-of-range');
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum)
      return error(`expected a number less than ${schema.exclusiveMaximum}, ${found}`, 'out-of-range');
  }

  if (typeof value === 'string' && schema.minLength !== undefined && value.length < schema.minLength) {
    return error(`expected a string of at least ${schema.minLength} character(s), found ${describeValue(value)}`, 'out-of-range');
  }

  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      return error(`expected a list of at least ${schema.minItems} value(s), found ${describeValue(value)}`, 'out-of-range');
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      return error(`expected a list of at most ${schema.maxItems} value(s), found ${value.length}`, 'out-of-range');
    }
    const firstIndex = new Map<string, number>();
    value.forEach((item, i) => {
      const itemPath = `${path}.${i}`;
      if (schema.items) walk(item, schema.items, itemPath, ctx);
      if (schema.uniqueItems) {
        const id = identityKey(item);
        const first = firstIndex.get(id) ?? i;
        if (first === i) firstIndex.set(id, i);
        if (first < i) {
          ctx.issues.push(
            makeIssue(ctx.file, itemPath, ctx.locate.value(itemPath), `expected distinct values, found ${describeValue(item)} again (first at item ${first + 1})`, 'conflict'),
          );
        }
      }
    });
    return;
  }

  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const properties = schema.properties ?? {};
    for (const required of schema.required ?? []) {
      if (!Object.prototype.hasOwnProperty.call(record, required)) {
        ctx.issues.push(makeIssue(ctx.file, path ? `${path}.${required}` : required, ctx.locate.key(path), `missing required key '${required}'`, 'missing'));
      }
    }
    for (const [key, child] of Object.entries(record)) {
      const childPath = path ? `${path}.${key}` : key;
      // Own properties only: `constructor`, `toString`, `__proto__` are keys like any other.
      const childSchema = Object.prototype.hasOwnProperty.call(properties, key) ? properties[key] : undefined;
      if (childSchema) {
        walk(child, childSchema, childPath, ctx);
      } else if (schema.additionalProperties === false) {
        ctx.issues.push(unknownKey(key, path, Object.keys(properties), ctx));
      } else if (typeof schema.additionalProperties === 'object') {
        walk(child, schema.additionalProperties, childPath, ctx);
      }
    }
  }
}

/** Key paths of a schema by their last segment, built once per schema (unknown keys can number 100,000). */
const pathIndex = new WeakMap<SchemaNode, Map<string, string[]>>();
function pathsByLastSegment(root: SchemaNode): Map<string, string[]> {
  let index = pathIndex.get(root);
  if (!index) {
    index = new Map();
    for (const p of allKeyPaths(root)) {
      const last = lastSegment(p);
      const list = index.get(last);
      if (list) list.push(p);
      else index.set(last, [p]);
    }
    pathIndex.set(root, index);
  }
  return index;
}

function unknownKey(key: string, parentPath: string, known: string[], ctx: ValidationContext): ConfigIssue {
  const childPath = parentPath ? `${parentPath}.${key}` : key;
  const where = parentPath ? ` in '${shownText(parentPath)}'` : ' at the top level';
  const suggestion = closest(key, known);
  let hint = suggestion ? `; did you mean '${suggestion}'?` : `: expected one of ${known.join(', ')}`;
  let fix = suggestion;
  if (!suggestion) {
    // The key may exist, but in another section (e.g. `learning_rate` at the top level).
    const elsewhere = pathsByLastSegment(ctx.root ?? GRADFLOW_SCHEMA).get(key)?.find((p) => p !== childPath);
    if (elsewhere) {
      hint = `: it belongs under '${elsewhere.split('.').slice(0, -1).join('.')}' (did you mean '${elsewhere}'?)`;
      fix = undefined;
    }
  }
  return makeIssue(ctx.file, childPath, ctx.locate.key(childPath), `unknown key '${shownText(key)}'${where}${hint}`, 'unknown-key', 'error', fix);
}
