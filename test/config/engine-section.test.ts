import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/config/parse';
import { configId } from '../../src/config/sweep';
import { FILE } from './helpers';

test('engine section: absent by default (run ids unchanged), defaults filled when given, values checked', () => {
  const base = parseExperiment('dataset: {name: synthetic}\n', FILE);
  assert.equal(base.config?.engine, undefined);
  const given = parseExperiment('dataset: {name: synthetic}\nengine: {sparse_kernels: on}\n', FILE);
  assert.deepEqual(given.config?.engine, { sparseKernels: 'on', rawL1Every: 'auto', rawL2Every: 'auto' });
  assert.notEqual(configId(given.config!), configId(base.config!));
  const every = parseExperiment('dataset: {name: synthetic}\nengine: {raw_l1_every: 10, raw_l2_every: 2}\n', FILE);
  assert.deepEqual(every.config?.engine, { sparseKernels: 'auto', rawL1Every: 10, rawL2Every: 2 });
  const bad = parseExperiment('dataset: {name: synthetic}\nengine: {sparse_kernels: yes, raw_l1_every: 0}\n', FILE);
  const errs = bad.issues.filter((i) => i.severity === 'error');
  assert.deepEqual(errs.map((i) => i.key).sort(), ['engine.raw_l1_every', 'engine.sparse_kernels']);
  assert.match(errs.map((i) => i.message).join('\n'), /expected one of auto, on, off/);
});

test('engine.raw_l1_every / raw_l2_every: auto or a number; an old file with an explicit 1 resolves (and is identified) as before', () => {
  const auto = parseExperiment('dataset: {name: synthetic}\nengine: {raw_l1_every: auto, raw_l2_every: 10}\n', FILE);
  assert.deepEqual(auto.issues.filter((i) => i.severity === 'error'), []);
  assert.deepEqual(auto.config?.engine, { sparseKernels: 'auto', rawL1Every: 'auto', rawL2Every: 10 });
  const old = parseExperiment('dataset: {name: synthetic}\nengine: {raw_l1_every: 1, raw_l2_every: 1}\n', FILE);
  // What the parser produced before \`auto\` existed, so the run id (a hash of the config) is unchanged.
  assert.deepEqual(old.config?.engine, { sparseKernels: 'auto', rawL1Every: 1, rawL2Every: 1 });
  const bad = parseExperiment('dataset: {name: synthetic}\nengine: {raw_l1_every: sometimes, raw_l2_every: 2.5}\n', FILE);
  const errs = bad.issues.filter((i) => i.severity === 'error');
  assert.deepEqual(errs.map((i) => i.key).sort(), ['engine.raw_l1_every', 'engine.raw_l2_every']);
  assert.deepEqual(errs.map((e) => e.line), [2, 2], 'each error names its line');
});
