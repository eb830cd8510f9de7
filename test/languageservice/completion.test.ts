import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../src/languageservice/document';
import { completion } from '../../src/languageservice/completion';
import type { SchemaNode } from '../../src/config/schema';
import schemaJson from '../../src/config/gradflow.schema.json';
import { atCursor } from './cursor';
import { at } from '../../src/shared/checked';

const schema = schemaJson as unknown as SchemaNode;

function complete(marked: string) {
  const { text, position } = atCursor(marked);
  return completion(analyse(text), position, schema);
}

test('top-level keys, minus those already present, in schema order', () => {
  const items = complete('name: x\n|\nmodel:\n  width: 10\n');
  assert.deepEqual(
    items.map((i) => i.label),
    ['dataset', 'sparsity', 'training', 'monitoring', 'run', 'engine', 'trainer', 'sweep'],
  );
  const dataset = at(items, 0);
  assert.equal(dataset.textEdit.newText, 'dataset:\n  $0');
  assert.match(dataset.documentation?.value ?? '', /Which data/);
});

test('keys of the enclosing section, excluding siblings written above and below', () => {
  const items = complete('training:\n  optimizer: adam\n  lea|\n  epochs: 3\nmodel:\n  width: 5\n');
  const labels = items.map((i) => i.label);
  assert.deepEqual(labels, ['learning_rate', 'lr_schedule', 'momentum', 'nesterov', 'weight_decay', 'augmentation', 'batch_size', 'seed']);
  const lr = at(items, 0);
  // The typed prefix is replaced; a default becomes the snippet's placeholder.
  assert.deepEqual(lr.textEdit.range, { start: { line: 2, character: 2 }, end: { line: 2, character: 5 } });
  assert.equal(lr.textEdit.newText, 'learning_rate: ${1:0.001}');
  assert.equal(lr.detail, 'number > 0');
  assert.match(lr.documentation?.value ?? '', /Constant learning rate/);
});

test('enum keys insert a choice snippet', () => {
  const items = complete('model:\n  |');
  const act = items.find((i) => i.label === 'activation');
  assert.ok(act);
  assert.equal(act.textEdit.newText, 'activation: ${1|relu,prelu,elu,swish,srelu,srelu-slide,sigmoid|}');
  const bn = items.find((i) => i.label === 'batch_norm');
  assert.equal(bn?.textEdit.newText, 'batch_norm: ${1|true,false|}');
});

test('deeper sections: monitoring.explosion', () => {
  const items = complete('monitoring:\n  explosion:\n    max_norm: 10\n    |\n');
  assert.deepEqual(items.map((i) => i.label), ['growth_factor', 'window']);
});

test('editing the name of an existing key replaces only the name', () => {
  const items = complete('model:\n  wid|th: 300\n');
  const w = items.find((i) => i.label === 'width');
  assert.ok(w);
  assert.equal(w.textEdit.newText, 'width');
  assert.deepEqual(w.textEdit.range, { start: { line: 1, character: 2 }, end: { line: 1, character: 7 } });
});

test('enum values for the current key, with the default marked', () => {
  const items = complete('training:\n  optimizer: ad|\n');
  assert.deepEqual(items.map((i) => i.label), ['sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad']);
  const adam = at(items, 2);
  assert.equal(adam.detail, 'training.optimizer (default)');
  assert.deepEqual(adam.textEdit.range, { start: { line: 1, character: 13 }, end: { line: 1, character: 15 } });
  assert.match(adam.documentation?.value ?? '', /Optimizer: the paper's five/);
});

test('boolean values and an empty value position', () => {
  const items = complete('model:\n  batch_norm: |\n');
  assert.deepEqual(items.map((i) => i.label), ['true', 'false']);
  assert.deepEqual(at(items, 0).textEdit.range, { start: { line: 1, character: 13 }, end: { line: 1, character: 14 } });
});

test('a non-enum key offers its default', () => {
  assert.deepEqual(complete('training:\n  batch_size: |').map((i) => i.label), ['128']);
});

test('nothing inside comments, under unknown sections or after a scalar value', () => {
  assert.deepEqual(complete('# mod|'), []);
  assert.deepEqual(complete('colours:\n  |'), []);
  assert.deepEqual(complete('name:\n  |'), []);
});

test('sweep grid axes: every settable dotted key path except seeds and the sweep itself', () => {
  const items = complete('sweep:\n  grid:\n    training.optimizer: [adam, sgd]\n    |\n');
  const labels = items.map((i) => i.label);
  assert.ok(labels.includes('training.learning_rate'));
  assert.ok(labels.includes('model.batch_norm'));
  assert.ok(labels.includes('monitoring.explosion.max_norm'));
  assert.ok(!labels.includes('training.optimizer'), 'already an axis');
  assert.ok(!labels.includes('training.seed'), 'seeds are sweep.seeds');
  assert.ok(!labels.some((l) => l.startsWith('sweep.')));
  assert.ok(!labels.includes('dataset.synthetic'), 'sections are not axes');
  const lr = items.find((i) => i.label === 'training.learning_rate');
  assert.equal(lr?.textEdit.newText, 'training.learning_rate: [$1]');
});

test('sweep.linked items: keys with one-value snippets, other items\' keys first, own keys, grid axes and seeds left out; values of the named key', () => {
  const text = 'sweep:\n  grid:\n    model.batch_norm: [false, true]\n  linked:\n    - training.optimizer: sgd\n      training.learning_rate: 0.05\n    - training.optimizer: adam\n      |\n';
  const items = complete(text);
  const labels = items.map((i) => i.label);
  assert.ok(!labels.includes('training.optimizer'), 'already set in this item');
  assert.ok(!labels.includes('model.batch_norm'), 'a grid axis');
  assert.ok(!labels.includes('training.seed'));
  const lr = items.find((i) => i.label === 'training.learning_rate');
  assert.equal(lr?.textEdit.newText, 'training.learning_rate: ${1:0.001}');
  const sorted = [...items].sort((a, b) => (a.sortText ?? '').localeCompare(b.sortText ?? ''));
  assert.equal(at(sorted, 0).label, 'training.learning_rate', 'set by the other item: offered first');
  // A new item (`- `) offers the keys of the other items again.
  assert.ok(complete('sweep:\n  linked:\n    - training.optimizer: sgd\n    - |\n').some((i) => i.label === 'training.optimizer'));
  // Values: the allowed values of the key the item sets.
  const values = complete('sweep:\n  linked:\n    - training.optimizer: ad|\n');
  assert.deepEqual(values.map((i) => i.label), ['sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad']);
  assert.equal(at(values, 2).detail, 'training.optimizer (default)');
});
