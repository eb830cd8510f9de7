import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/config/parse';
import { configId } from '../../src/config/sweep';
import { FILE } from './helpers';

test('engine section: absent by default (run ids unchanged), defaults filled when given, values checked', () => {
  const base = parseExperiment('dataset: {name: synthetic}\n', FILE);
  assert.equal(base.config?.engine, undefined);
  const given = parseExperiment('dataset: {name: synthetic}\nengine: {sparse_kernels: on}\n', FILE);
  assert.deepEqual(given.config?.engine, { sparseKernels: 'on', rawL1Every: 1, rawL2Every: 1 });
  assert.notEqual(configId(given.config!), configId(base.config!));
  const every = parseExperiment('dataset: {name: synthetic}\nengine: {raw_l1_every: 10, raw_l2_every: 2}\n', FILE);
  assert.deepEqual(every.config?.engine, { sparseKernels: 'auto', rawL1Every: 10, rawL2Every: 2 });
  const bad = parseExperiment('dataset: {name: synthetic}\nengine: {sparse_kernels: yes, raw_l1_every: 0}\n', FILE);
  const errs = bad.issues.filter((i) => i.severity === 'error');
  assert.deepEqual(errs.map((i) => i.key).sort(), ['engine.raw_l1_every', 'engine.sparse_kernels']);
  assert.match(errs.map((i) => i.message).join('\n'), /expected one of auto, on, off/);
});
