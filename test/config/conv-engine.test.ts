/**
 * `engine.sparse_kernels: on` with a conv net: the engine refuses it when the run starts
 * (src/engine/train.ts), so resolution refuses it too, on the value of that key, with `auto` as the
 * suggested spelling; an MLP keeps `on`, and a conv net keeps `auto` and `off`. Lines and columns
 * hand-counted in each file below (1-based, end column exclusive).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/config/parse';
import { issueFor, span } from './helpers';

const FILE = '/w/conv-engine.gradflow.yaml';
const parse = (text: string): ReturnType<typeof parseExperiment> => parseExperiment(text, FILE);
const errors = (r: ReturnType<typeof parseExperiment>): string[] => r.issues.filter((i) => i.severity === 'error').map((i) => `${i.key}: ${i.message}`);

const CNN_ON = [
  'dataset:', //                                    1
  '  name: synthetic', //                           2
  '  synthetic: {shape: [8, 8, 1], classes: 3}', // 3
  'model:', //                                      4
  '  architecture: cnn', //                         5
  '  channels: [4, 8]', //                          6
  'sparsity:', //                                   7
  '  method: random', //                            8
  '  density: 0.5', //                              9
  'engine:', //                                     10
  '  sparse_kernels: on', //                        11
  '',
].join('\n');

test('cnn with engine.sparse_kernels on: an error on the value, suggesting auto, and no config', () => {
  const r = parse(CNN_ON);
  assert.equal(r.config, undefined);
  assert.equal(errors(r).length, 1, errors(r).join('\n'));
  const issue = issueFor(r.issues, 'engine.sparse_kernels');
  assert.equal(issue.severity, 'error');
  assert.equal(issue.code, 'conflict');
  assert.equal(issue.suggestion, 'auto');
  // `  sparse_kernels: on`: the value `on` is columns 19–20.
  assert.deepEqual(span(issue), [11, 19, 11, 21]);
  assert.match(issue.message, /expected auto or off with architecture 'cnn', found 'on'/);
  assert.match(issue.message, /refused at start/);
});

test('wrn with sparse_kernels on in a flow mapping: the error is on that value', () => {
  const text = [
    'dataset: {name: synthetic, synthetic: {shape: [32, 32, 3], classes: 2}}', // 1
    'model: {architecture: wrn, depth: 10, widen_factor: 1}', //                    2
    'sparsity: {method: random, density: 0.5}', //                                  3
    'engine: {raw_l1_every: 2, sparse_kernels: on}', //                             4
    '',
  ].join('\n');
  const r = parse(text);
  assert.equal(r.config, undefined);
  const issue = issueFor(r.issues, 'engine.sparse_kernels');
  assert.match(issue.message, /architecture 'wrn'/);
  // `engine: {raw_l1_every: 2, sparse_kernels: on}`: `on` is columns 43–44.
  assert.deepEqual(span(issue), [4, 43, 4, 45]);
});

test('auto and off with a conv net, and on with an MLP, resolve without an error', () => {
  for (const value of ['auto', 'off']) {
    const r = parse(CNN_ON.replace('sparse_kernels: on', `sparse_kernels: ${value}`));
    assert.deepEqual(errors(r), [], value);
    assert.equal(r.config?.engine?.sparseKernels, value);
  }
  const mlp = parse('dataset: {name: synthetic}\nmodel: {width: 16}\nsparsity: {method: random, dense_width: 8}\nengine: {sparse_kernels: on}\n');
  assert.deepEqual(errors(mlp), []);
  assert.equal(mlp.config?.engine?.sparseKernels, 'on');
  // A conv net that is not pruned refuses it as well: the engine checks the architecture, not the method.
  const dense = parse(CNN_ON.replace('  method: random\n  density: 0.5\n', '  method: none\n'));
  assert.equal(issueFor(dense.issues, 'engine.sparse_kernels').severity, 'error');
});
