import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import schemaJson from '../../src/config/gradflow.schema.json';
import { renderExperimentDoc } from '../../src/config/gen-docs';
import { allKeyPaths, closest, editDistance, GRADFLOW_SCHEMA, schemaAt, type SchemaNode } from '../../src/config/schema';
import { ACTIVATIONS, BACKENDS, DATASETS, INIT_MODES, OPTIMIZERS, PRUNING_METHODS } from '../../src/shared/experiment';
import { repoRoot } from './helpers';

test('the schema JSON imports from TypeScript and is draft-07', () => {
  assert.equal(schemaJson.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(GRADFLOW_SCHEMA, schemaJson as unknown);
});

test('every property has a description; every object forbids unknown keys', () => {
  const walk = (node: SchemaNode, at: string): void => {
    if (node.properties) assert.equal(node.additionalProperties, false, `${at} must set additionalProperties: false`);
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const p = at ? `${at}.${key}` : key;
      assert.ok(child.description && child.description.length > 10, `${p} needs a description`);
      walk(child, p);
    }
  };
  walk(GRADFLOW_SCHEMA, '');
});

test('schema enums match the shared TypeScript constants', () => {
  assert.deepEqual(schemaAt('dataset.name')?.enum, [...DATASETS]);
  assert.deepEqual(schemaAt('model.activation')?.enum, [...ACTIVATIONS]);
  assert.deepEqual(schemaAt('sparsity.method')?.enum, [...PRUNING_METHODS]);
  assert.deepEqual(schemaAt('sparsity.init')?.enum, [...INIT_MODES]);
  assert.deepEqual(schemaAt('training.optimizer')?.enum, [...OPTIMIZERS]);
  assert.deepEqual(schemaAt('run.backend')?.enum, [...BACKENDS]);
});

test('defaults satisfy their own schema (enum and bounds)', () => {
  for (const p of allKeyPaths()) {
    const node = schemaAt(p);
    if (!node || node.default === undefined || node.properties) continue;
    if (node.enum) assert.ok(node.enum.includes(node.default), p);
    if (typeof node.default === 'number') {
      if (node.minimum !== undefined) assert.ok(node.default >= node.minimum, p);
      if (node.exclusiveMinimum !== undefined) assert.ok(node.default > node.exclusiveMinimum, p);
      if (node.maximum !== undefined) assert.ok(node.default <= node.maximum, p);
      if (node.exclusiveMaximum !== undefined) assert.ok(node.default < node.exclusiveMaximum, p);
    }
  }
});

test('edit distance and did-you-mean', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('adma', 'adam'), 1); // one transposition
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(closest('adm', ['sgd', 'adam', 'adamw']), 'adam');
  assert.equal(closest('sdg', ['sgd', 'adam']), 'sgd');
  assert.equal(closest('learningRate', ['learning_rate', 'momentum']), 'learning_rate');
  assert.equal(closest('banana', ['sgd', 'adam']), undefined);
});

test('docs/experiment-file.md is up to date with the schema (regenerate: scripts/run-ts.sh src/config/gen-docs.ts)', () => {
  const doc = fs.readFileSync(path.join(repoRoot(), 'docs', 'experiment-file.md'), 'utf8');
  assert.equal(doc, renderExperimentDoc());
  for (const p of allKeyPaths()) {
    if (!schemaAt(p)?.properties) assert.ok(doc.includes(`\`${p}\``), `${p} is documented`);
  }
});
