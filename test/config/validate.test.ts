/**
 * The schema walker on small hand-written schemas, covering every keyword it implements (some are
 * not used by gradflow.schema.json today, e.g. `required` and `oneOf`, but are part of its contract).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SchemaNode } from '../../src/config/schema';
import type { ConfigIssue, Range } from '../../src/config/types';
import { validateValue, type Locator } from '../../src/config/validate';

const AT: Range = { line: 1, column: 1, endLine: 1, endColumn: 2, offset: 0, endOffset: 1 };
const locate: Locator = { key: () => AT, value: () => AT };

function check(value: unknown, schema: SchemaNode): Array<[string, string]> {
  const issues: ConfigIssue[] = [];
  validateValue(value, schema, 'x', { file: 'f', locate, issues });
  return issues.map((i) => [i.key, i.message]);
}

test('required keys and additionalProperties as a schema', () => {
  const schema: SchemaNode = {
    type: 'object',
    required: ['a'],
    properties: { a: { type: 'integer' } },
    additionalProperties: { type: 'boolean' },
  };
  assert.deepEqual(check({ a: 1, extra: true }, schema), []);
  assert.deepEqual(check({ extra: 3 }, schema), [
    ['x.a', "missing required key 'a'"],
    ['x.extra', 'expected true or false, found 3'],
  ]);
});

test('arrays: items, minItems, uniqueItems (deep equality)', () => {
  const schema: SchemaNode = { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'object', properties: { k: { type: 'string' } } } };
  assert.deepEqual(check([], schema), [['x', 'expected a list of at least 1 value(s), found an empty list']]);
  assert.deepEqual(check([{ k: 'a' }, { k: 'a' }], schema), [['x.1', 'expected distinct values, found a mapping again (first at item 1)']]);
  assert.deepEqual(check([{ k: 1 }], schema), [['x.0.k', 'expected a string, found 1']]);
});

test('numbers: all four bounds', () => {
  const schema: SchemaNode = { type: 'number', minimum: 0, exclusiveMaximum: 1 };
  assert.deepEqual(check(-0.5, schema), [['x', 'expected a number of at least 0, found -0.5']]);
  assert.deepEqual(check(1, schema), [['x', 'expected a number less than 1, found 1']]);
  assert.deepEqual(check(0, schema), []);
  assert.deepEqual(check(0, { type: 'number', exclusiveMinimum: 0 }), [['x', 'expected a number greater than 0, found 0']]);
  assert.deepEqual(check(11, { type: 'integer', maximum: 10 }), [['x', 'expected a number of at most 10, found 11']]);
});

test('oneOf: accepts any matching branch, else reports the closest branch', () => {
  const schema: SchemaNode = { oneOf: [{ type: 'integer', minimum: 1 }, { type: 'string', enum: ['auto'] }] };
  assert.deepEqual(check(4, schema), []);
  assert.deepEqual(check('auto', schema), []);
  assert.deepEqual(check(0, schema), [['x', 'expected a number of at least 1, found 0']]);
});

test('enum without a close match lists the choices only; a type mismatch on an enum lists them too', () => {
  const schema: SchemaNode = { title: 'colour', type: 'string', enum: ['red', 'green'] };
  assert.deepEqual(check('purple', schema), [['x', "unknown colour 'purple': expected one of red, green"]]);
  assert.deepEqual(check(3, schema), [['x', 'expected one of red, green, found 3']]);
});

test('an empty value stands for an empty mapping in object schemas, and is an error elsewhere', () => {
  assert.deepEqual(check(null, { type: 'object', properties: {} }), []);
  assert.deepEqual(check(null, { type: 'integer' }), [['x', 'expected an integer, found an empty value']]);
});
