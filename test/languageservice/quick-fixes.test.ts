import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../src/languageservice/document';
import { parseExperiment } from '../../src/config/parse';
import { fixesFor, formatNumber, raiseDensity, lowerLearningRate } from '../../src/languageservice/quick-fixes';
import { applyEdits, setScalar, writtenValue } from '../../src/languageservice/yaml-edit';
import type { ExperimentConfig } from '../../src/shared/experiment';
import { at } from '../../src/shared/checked';

function cfg(text: string): ExperimentConfig {
  const r = parseExperiment(text, '/tmp/q.gradflow.yaml');
  assert.ok(r.config, JSON.stringify(r.issues));
  return r.config;
}

const FILE = `# Adam + L2 on a sparse pair
model:
  width: 64   # h_S
  activation: sigmoid

sparsity:
  method: random
  dense_width: 40  # h_D

training:
  optimizer: adam
  learning_rate: 1e-3   # the paper's small lr
  weight_decay: 0.0001
`;

function apply(kind: Parameters<typeof fixesFor>[0], text = FILE): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fixesFor(kind, analyse(text), cfg(text))) out.set(f.title, applyEdits(text, f.edits));
  return out;
}

test('explosion: lower lr (exponent kept, comment kept), Adam+L2 → AdamW, add batch_norm', () => {
  const fixes = fixesFor('explosion', analyse(FILE), cfg(FILE));
  assert.deepEqual(fixes.map((f) => [f.id, f.preferred]), [
    ['lower-learning-rate', true],
    ['switch-optimizer', false],
    ['add-batch-norm', false],
  ]);
  const r = apply('explosion');
  assert.equal(r.get('Lower the learning rate ×0.1 (1e-3 → 1e-4)'), FILE.replace('learning_rate: 1e-3   #', 'learning_rate: 1e-4   #'));
  assert.equal(r.get('Switch optimizer to adamw (decoupled weight decay)'), FILE.replace('optimizer: adam\n', 'optimizer: adamw\n'));
  // batch_norm goes after the last line of `model:`, at its children's indentation, before the blank line.
  assert.equal(r.get('Add BatchNorm (model.batch_norm: true)'), FILE.replace('  activation: sigmoid\n', '  activation: sigmoid\n  batch_norm: true\n'));
});

test('explosion without L2 on an EWMA optimizer offers sgd and momentum; momentum offers sgd; plain sgd no switch', () => {
  const text = 'training:\n  optimizer: rmsprop\n  learning_rate: 0.1\n';
  assert.deepEqual([...apply('explosion', text).entries()], [
    ['Lower the learning rate ×0.1 (0.1 → 0.01)', 'training:\n  optimizer: rmsprop\n  learning_rate: 0.01\n'],
    ['Switch optimizer to sgd', 'training:\n  optimizer: sgd\n  learning_rate: 0.1\n'],
    ['Switch optimizer to momentum', 'training:\n  optimizer: momentum\n  learning_rate: 0.1\n'],
    ['Add BatchNorm (model.batch_norm: true)', 'training:\n  optimizer: rmsprop\n  learning_rate: 0.1\nmodel:\n  batch_norm: true\n'],
  ]);
  const momentum = 'training:\n  optimizer: momentum\n  learning_rate: 0.1\n';
  assert.deepEqual([...apply('explosion', momentum).keys()], ['Lower the learning rate ×0.1 (0.1 → 0.01)', 'Switch optimizer to sgd', 'Add BatchNorm (model.batch_norm: true)']);
  assert.equal(apply('explosion', momentum).get('Switch optimizer to sgd'), 'training:\n  optimizer: sgd\n  learning_rate: 0.1\n');
  const sgd = 'training:\n  optimizer: sgd\n  learning_rate: 0.1\n';
  assert.deepEqual([...apply('explosion', sgd).keys()], ['Lower the learning rate ×0.1 (0.1 → 0.01)', 'Add BatchNorm (model.batch_norm: true)']);
});

test('collapse: batch_norm, swish, prelu, density ×2', () => {
  const r = apply('collapse');
  assert.deepEqual([...r.keys()], [
    'Add BatchNorm (model.batch_norm: true)',
    'Switch activation to swish',
    'Switch activation to prelu',
    'Raise the density (dense_width 40 → 63)',
  ]);
  assert.equal(r.get('Switch activation to swish'), FILE.replace('activation: sigmoid', 'activation: swish'));
  // 2 × 40 = 80 is capped below the sparse width 64.
  assert.equal(r.get('Raise the density (dense_width 40 → 63)'), FILE.replace('dense_width: 40  #', 'dense_width: 63  #'));
});

test('nan: lower the learning rate written without exponent; a learning rate absent from the file is added', () => {
  const text = 'training:\n  optimizer: sgd\n';
  const f = lowerLearningRate(analyse(text), cfg(text));
  assert.ok(f);
  assert.equal(f.title, 'Lower the learning rate ×0.1 (0.001 → 0.0001)');
  assert.equal(applyEdits(text, f.edits), 'training:\n  optimizer: sgd\n  learning_rate: 0.0001\n');
  assert.deepEqual(fixesFor('nan', analyse(text), cfg(text)).map((x) => x.id), ['lower-learning-rate']);
});

test('collapse-at-mask raises the density; `density` is doubled, or halfway to 1', () => {
  const text = 'model:\n  width: 100\nsparsity:\n  method: random\n  density: 0.3\n';
  const [f] = fixesFor('collapse-at-mask', analyse(text), cfg(text));
  assert.ok(f);
  assert.equal(applyEdits(text, f.edits), text.replace('density: 0.3', 'density: 0.6'));
  const high = text.replace('0.3', '0.6');
  assert.equal(applyEdits(high, raiseDensity(analyse(high), cfg(high))?.edits ?? []), text.replace('density: 0.3', 'density: 0.8'));
  const dense = 'model:\n  width: 10\n';
  assert.equal(raiseDensity(analyse(dense), cfg(dense)), undefined);
  assert.deepEqual(fixesFor('mask-integrity', analyse(text), cfg(text)), []);
});

test('a section absent from the file is appended; CRLF files keep CRLF', () => {
  assert.equal(applyEdits('name: x\n', setScalar(analyse('name: x\n'), ['model', 'batch_norm'], 'true') ?? []), 'name: x\nmodel:\n  batch_norm: true\n');
  const crlf = 'model:\r\n    width: 5\r\n';
  assert.equal(applyEdits(crlf, setScalar(analyse(crlf), ['model', 'batch_norm'], 'true') ?? []), 'model:\r\n    width: 5\r\n    batch_norm: true\r\n');
  // An empty value gets a space.
  assert.equal(applyEdits('model:\n  batch_norm:\n', setScalar(analyse('model:\n  batch_norm:\n'), ['model', 'batch_norm'], 'true') ?? []), 'model:\n  batch_norm: true\n');
});

/** `setScalar` applied, or undefined when it refuses. */
function set(text: string, path: string[], value: string): string | undefined {
  const edits = setScalar(analyse(text), path, value);
  return edits === undefined ? undefined : applyEdits(text, edits);
}

test('edits on what the old line reader got wrong: flow mappings, comments, quoted keys, nested sections, keys sharing a prefix', () => {
  // Flow mappings: a key inside is edited in place; a missing one goes in before the closing brace.
  assert.equal(set('model: {width: 3, activation: relu}\n', ['model', 'activation'], 'swish'), 'model: {width: 3, activation: swish}\n');
  assert.equal(set('model: {width: 3}\n', ['model', 'batch_norm'], 'true'), 'model: {width: 3, batch_norm: true}\n');
  assert.equal(set('model: {}\n', ['model', 'batch_norm'], 'true'), 'model: {batch_norm: true}\n');
  assert.equal(set('monitoring: {every: 2}\n', ['monitoring', 'explosion', 'max_norm'], '10'), 'monitoring: {every: 2, explosion: {max_norm: 10}}\n');
  assert.equal(set('training:\n  {learning_rate: 0.1,\n   epochs: 2}\n', ['training', 'learning_rate'], '0.01'), 'training:\n  {learning_rate: 0.01,\n   epochs: 2}\n');
  assert.equal(writtenValue(analyse('training: {learning_rate: 1e-3}\n'), ['training', 'learning_rate']), '1e-3');
  // Comments: a `#` inside quotes is text; the comment after the value stays.
  assert.equal(set('name: "a # b"\nmodel:\n  activation: "relu" # was: sigmoid\n', ['model', 'activation'], 'swish'), 'name: "a # b"\nmodel:\n  activation: swish # was: sigmoid\n');
  assert.equal(set('model: # the net\n  width: 3 # h_S\n', ['model', 'batch_norm'], 'true'), 'model: # the net\n  width: 3 # h_S\n  batch_norm: true\n');
  // Quoted keys are the keys they spell.
  assert.equal(set("'model':\n  \"batch_norm\": false\n", ['model', 'batch_norm'], 'true'), "'model':\n  \"batch_norm\": true\n");
  // Nested sections: the key of the right section, not a same-named key elsewhere.
  const nested = 'sweep:\n  grid:\n    training.learning_rate: [0.1, 0.01]\ntraining:\n  learning_rate: 0.1\n';
  assert.equal(set(nested, ['training', 'learning_rate'], '0.01'), nested.replace('  learning_rate: 0.1\n', '  learning_rate: 0.01\n'));
  assert.equal(set('monitoring:\n  explosion:\n    window: 5\n  every: 2\n', ['monitoring', 'explosion', 'max_norm'], '10'), 'monitoring:\n  explosion:\n    window: 5\n    max_norm: 10\n  every: 2\n');
  // Keys sharing a prefix: `sparsity.density` is not `sparsity.dense_width`, nor `model.width` `model.width_note`.
  assert.equal(writtenValue(analyse('sparsity:\n  dense_width: 40\n'), ['sparsity', 'density']), undefined);
  assert.equal(set('model:\n  width_note: 3\n  width: 5\n', ['model', 'width'], '6'), 'model:\n  width_note: 3\n  width: 6\n');
  // A key holding a collection, or text, is not overwritten by a scalar.
  assert.equal(set('model:\n  width:\n    a: 1\n', ['model', 'width'], '3'), undefined);
  assert.equal(set('name: |\n  text\n', ['name'], 'x'), undefined);
});

test('formatNumber drops float noise', () => {
  assert.equal(formatNumber(0.1 * 0.1), '0.01');
  assert.equal(formatNumber(0.003 * 0.1), '0.0003');
  assert.equal(formatNumber(5e-5 * 0.1, '5e-5'), '5e-6');
});

test('collapse-at-mask with a global criterion: layerwise scope first, then density, then synflow', () => {
  const text = 'model:\n  width: 100\nsparsity:\n  method: grasp\n  scope: global   # as in the paper\n  density: 0.3\n';
  const fixes = fixesFor('collapse-at-mask', analyse(text), cfg(text));
  assert.deepEqual(fixes.map((f) => [f.id, f.preferred]), [
    ['use-layerwise-scope', true],
    ['raise-density', false],
    ['switch-to-synflow', false],
  ]);
  assert.equal(applyEdits(text, at(fixes, 0).edits), text.replace('scope: global', 'scope: layerwise'));
  assert.equal(applyEdits(text, at(fixes, 2).edits), text.replace('method: grasp', 'method: synflow'));
  // Layerwise synflow: only the density can help.
  const syn = 'model:\n  width: 100\nsparsity:\n  method: synflow\n  density: 0.3\n';
  assert.deepEqual(fixesFor('collapse-at-mask', analyse(syn), cfg(syn)).map((f) => f.id), ['raise-density']);
});
