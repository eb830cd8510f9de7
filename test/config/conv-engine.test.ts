/**
 * `engine.sparse_kernels` with a conv net: every value resolves (the conv layers have a sparse path,
 * the direct sparse convolution, src/engine/nn/convnet.ts), with no issue on the key, as for an MLP.
 * Until the kernel was wired in, `on` was refused here for conv nets; these tests keep it accepted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/config/parse';

const FILE = '/w/conv-engine.gradflow.yaml';
const parse = (text: string): ReturnType<typeof parseExperiment> => parseExperiment(text, FILE);

const CNN = [
  'dataset:',
  '  name: synthetic',
  '  synthetic: {shape: [8, 8, 1], classes: 3}',
  'model:',
  '  architecture: cnn',
  '  channels: [4, 8]',
  'sparsity:',
  '  method: random',
  '  density: 0.5',
  'engine:',
  '  sparse_kernels: on',
  '',
].join('\n');

test('cnn: sparse_kernels on, auto and off resolve with no issue on the key', () => {
  for (const value of ['on', 'auto', 'off']) {
    const r = parse(CNN.replace('sparse_kernels: on', `sparse_kernels: ${value}`));
    assert.deepEqual(
      r.issues.filter((i) => i.severity === 'error' || i.key === 'engine.sparse_kernels').map((i) => `${i.key}: ${i.message}`),
      [],
      value,
    );
    assert.equal(r.config?.engine?.sparseKernels, value);
  }
});

test('wrn with sparse_kernels on in a flow mapping resolves', () => {
  const text = [
    'dataset: {name: synthetic, synthetic: {shape: [32, 32, 3], classes: 2}}',
    'model: {architecture: wrn, depth: 10, widen_factor: 1}',
    'sparsity: {method: random, density: 0.5}',
    'engine: {raw_l1_every: 2, sparse_kernels: on}',
    '',
  ].join('\n');
  const r = parse(text);
  assert.deepEqual(r.issues.filter((i) => i.key === 'engine.sparse_kernels'), []);
  assert.equal(r.config?.engine?.sparseKernels, 'on');
  assert.equal(r.config?.engine?.rawL1Every, 2);
});

test('an unpruned conv net with sparse_kernels on resolves too (no masked layer: every layer dense)', () => {
  const r = parse(CNN.replace('  method: random\n  density: 0.5\n', '  method: none\n'));
  assert.deepEqual(r.issues.filter((i) => i.severity === 'error').map((i) => i.message), []);
  assert.equal(r.config?.engine?.sparseKernels, 'on');
});
