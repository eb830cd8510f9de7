import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/config/parse';
import { alertMessage, responsibleRanges, formatMeasured } from '../../src/languageservice/alert-rules';
import { fileKeys } from '../../src/config/keys';
import type { Alert } from '../../src/shared/protocol';
import * as checked from '../../src/shared/checked';

// Lines (0-based) hand-counted below.
const FILE = [
  '# sparse pair on synthetic data', // 0
  'dataset:', //                        1
  '  name: synthetic', //               2
  'model:', //                          3
  '  width: 64', //                     4
  '  activation: sigmoid # saturates', // 5
  'sparsity:', //                       6
  '  method: random', //                7
  '  dense_width: 16', //               8
  'training:', //                       9
  '  optimizer: adam', //               10
  '  learning_rate: 0.1', //            11
  '  weight_decay: 0.0001', //          12
  '',
].join('\n');

function setup(text: string) {
  const parsed = parseExperiment(text, '/tmp/x.gradflow.yaml');
  assert.ok(parsed.config, JSON.stringify(parsed.issues));
  return { config: parsed.config, locate: fileKeys(parsed) };
}

const alert = (kind: Alert['kind'], extra: Partial<Alert> = {}): Alert => ({
  net: 'sparse',
  kind,
  step: 120,
  layer: 1,
  value: 12345.678,
  message: 'masked L2 norm above max_norm',
  severity: 'error',
  ...extra,
});

const at = (line: number, start: number, end: number) => ({ start: { line, character: start }, end: { line, character: end } });

test('explosion with Adam + L2: learning rate first, then optimizer, weight decay and the missing BatchNorm', () => {
  const { config, locate } = setup(FILE);
  const r = responsibleRanges(alert('explosion'), config, locate);
  assert.deepEqual(r.map((x) => [x.key, x.range, x.primary]), [
    ['training.learning_rate', at(11, 2, 20), true],
    ['training.optimizer', at(10, 2, 17), false],
    ['training.weight_decay', at(12, 2, 22), false],
    ['model.batch_norm', at(3, 0, 5), false], // absent: the model section
  ]);
});

test('explosion without L2 does not blame weight decay; with BatchNorm on, not BatchNorm', () => {
  const { config, locate } = setup(FILE.replace('  weight_decay: 0.0001\n', '').replace('model:\n', 'model:\n  batch_norm: true\n'));
  assert.deepEqual(responsibleRanges(alert('explosion'), config, locate).map((x) => x.key), ['training.learning_rate', 'training.optimizer']);
});

test('explosion with momentum blames the optimizer after the learning rate (its steps are up to 10× SGD\'s); plain SGD is not blamed', () => {
  const momentum = setup(FILE.replace('  weight_decay: 0.0001\n', '').replace('optimizer: adam', 'optimizer: momentum'));
  const r = responsibleRanges(alert('explosion'), momentum.config, momentum.locate);
  assert.deepEqual(r.map((x) => x.key), ['training.learning_rate', 'training.optimizer', 'model.batch_norm']);
  assert.match(checked.at(r, 1).hint, /momentum 0\.9 makes steps up to 10× those of plain SGD/);
  const sgd = setup(FILE.replace('optimizer: adam', 'optimizer: sgd'));
  assert.deepEqual(responsibleRanges(alert('explosion'), sgd.config, sgd.locate).map((x) => x.key), ['training.learning_rate', 'model.batch_norm']);
});

test('nan: only the learning rate', () => {
  const { config, locate } = setup(FILE);
  assert.deepEqual(responsibleRanges(alert('nan', { value: 'NaN' }), config, locate).map((x) => [x.key, x.range]), [
    ['training.learning_rate', at(11, 2, 20)],
  ]);
});

test('collapse: activation, density, and a missing batch_norm points at the model section', () => {
  const { config, locate } = setup(FILE);
  const r = responsibleRanges(alert('collapse', { value: 1e-9 }), config, locate);
  assert.deepEqual(r.map((x) => [x.key, x.range]), [
    ['model.activation', at(5, 2, 21)],
    ['sparsity.dense_width', at(8, 2, 17)],
    ['model.batch_norm', at(3, 0, 5)],
  ]);
});

test('collapse with batch_norm already on and a dense net: only the activation', () => {
  const text = 'model:\n  batch_norm: true\n  activation: relu\n';
  const { config, locate } = setup(text);
  assert.deepEqual(responsibleRanges(alert('collapse'), config, locate).map((x) => [x.key, x.range]), [['model.activation', at(2, 2, 18)]]);
});

test('collapse with the density given as `density`', () => {
  const text = 'model:\n  width: 100\nsparsity:\n  method: random\n  density: 0.1\n';
  const { config, locate } = setup(text);
  assert.deepEqual(responsibleRanges(alert('collapse'), config, locate).map((x) => [x.key, x.range.start.line]), [
    ['model.activation', 0], // absent → the model section
    ['sparsity.density', 4],
  ]);
  // activation and batch_norm both fall back to `model:`; they share one range.
});

test('collapse in a run with a mask-time collapse: the density line first, not the activation', () => {
  const { config, locate } = setup(FILE);
  const r = responsibleRanges(alert('collapse', { value: 0 }), config, locate, new Set(['collapse-at-mask', 'collapse'] as const));
  assert.deepEqual(r.map((x) => [x.key, x.range.start.line, x.primary]), [
    ['sparsity.dense_width', 8, true],
    ['model.activation', 5, false],
    ['model.batch_norm', 3, false],
  ]);
});

test('the density hint names the key the file writes', () => {
  const withWidth = setup(FILE);
  const hintW = checked.at(responsibleRanges(alert('collapse-at-mask'), withWidth.config, withWidth.locate), 0).hint;
  assert.match(hintW, /sparsity\.dense_width/);
  const text = 'model:\n  width: 100\nsparsity:\n  method: random\n  density: 0.1\n';
  const withDensity = setup(text);
  const [first] = responsibleRanges(alert('collapse-at-mask'), withDensity.config, withDensity.locate);
  assert.ok(first);
  assert.equal(first.key, 'sparsity.density');
  assert.match(first.hint, /raise the density \(sparsity\.density\)/);
  assert.doesNotMatch(first.hint, /dense_width/);
});

test('the key the trainer stamped on the alert comes first (in the spelling the file uses)', () => {
  const text = 'model:\n  width: 100\nsparsity:\n  method: random\n  density: 0.1\n';
  const { config, locate } = setup(text);
  const r = responsibleRanges(alert('collapse', { key: 'sparsity.dense_width' }), config, locate);
  assert.deepEqual([checked.at(r, 0).key, checked.at(r, 0).range.start.line, checked.at(r, 0).primary], ['sparsity.density', 4, true]);
});

test('collapse-at-mask: density then width; mask-integrity: the pruning method', () => {
  const { config, locate } = setup(FILE);
  assert.deepEqual(responsibleRanges(alert('collapse-at-mask', { step: 0 }), config, locate).map((x) => [x.key, x.range]), [
    ['sparsity.dense_width', at(8, 2, 17)],
    ['model.width', at(4, 2, 11)],
  ]);
  assert.deepEqual(responsibleRanges(alert('mask-integrity'), config, locate).map((x) => [x.key, x.range]), [
    ['sparsity.method', at(7, 2, 16)],
  ]);
});

test('absent keys with no section fall back to line 1', () => {
  const { config, locate } = setup('name: tiny\n');
  assert.deepEqual(responsibleRanges(alert('nan'), config, locate).map((x) => x.range), [at(0, 0, 10)]);
});

test('message says what, where, when and the measured value', () => {
  const m = alertMessage(alert('explosion'), 'the learning rate (0.1) may be too high.', ['dense1', 'dense2', 'output']);
  assert.equal(
    m,
    'Exploding gradients in the sparse net, layer 1 (dense2), at step 120: measured 1.23e+4.\nmasked L2 norm above max_norm\nHere: the learning rate (0.1) may be too high.',
  );
  // The mask-time title says when once, and the value says what it counts (issue 23, item 7).
  assert.match(alertMessage(alert('collapse-at-mask', { step: 0, layer: 2, value: 35 }), 'x', ['d1', 'd2', 'd3']), /^Layer collapse at mask time in the sparse net, layer 2 \(d3\): 35 units cut off\.\n/);
  assert.match(alertMessage(alert('collapse-at-mask', { step: 0, layer: 0, value: 1 }), 'x'), /layer 0: 1 unit cut off\./);
  assert.match(alertMessage(alert('collapse-at-mask', { step: 0, layer: -1, value: 0 }), 'x'), /net, whole network: no active path through the network\./);
  assert.match(alertMessage(alert('nan', { step: 0 }), 'x'), /layer 1, at mask time: measured /);
  assert.equal(formatMeasured('NaN'), 'NaN');
  assert.equal(formatMeasured('-Infinity'), '-Infinity');
  assert.equal(formatMeasured(0.5), '0.5');
  assert.equal(formatMeasured(2e-9), '2.00e-9');
});

test('collapse-at-mask under a global criterion: scope, then method, then density and width', () => {
  const text = ['model:', '  width: 64', 'sparsity:', '  method: snip', '  scope: global', '  dense_width: 16', ''].join('\n');
  const { config, locate } = setup(text);
  assert.deepEqual(responsibleRanges(alert('collapse-at-mask', { step: 0 }), config, locate).map((x) => [x.key, x.range, x.primary]), [
    ['sparsity.scope', at(4, 2, 15), true],
    ['sparsity.method', at(3, 2, 14), false],
    ['sparsity.dense_width', at(5, 2, 17), false],
    ['model.width', at(1, 2, 11), false],
  ]);
});
