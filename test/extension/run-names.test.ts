/** Naming rule of run lists: sweep runs by grid point, same-named runs of two files by file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pointText, runLabels } from '../../src/extension/run-names';

test('a sweep run is named by its grid point', () => {
  const runs = [
    { runId: 'a', name: 'lr-sweep', sweep: 'lr-sweep', configId: 'c1', sourceFile: '/w/s.gradflow.yaml' },
    { runId: 'b', name: 'lr-sweep', sweep: 'lr-sweep', configId: 'c2', sourceFile: '/w/s.gradflow.yaml' },
  ];
  const points: Record<string, Record<string, unknown>> = { c1: { 'training.learning_rate': 0.1, seed: 1 }, c2: { 'training.learning_rate': 0.01, seed: 1 } };
  const labels = runLabels(runs, (r) => points[r.configId]);
  assert.equal(labels.get('a'), 'lr-sweep · training.learning_rate=0.1, seed=1');
  assert.equal(labels.get('b'), 'lr-sweep · training.learning_rate=0.01, seed=1');
  // Without a manifest entry the name is all there is.
  assert.equal(runLabels(runs, () => undefined).get('a'), 'lr-sweep');
  assert.equal(pointText({ m: 'snip', w: [1, 2] }), 'm=snip, w=[1,2]');
});

test('same-named runs of two files say which file; runs of one file do not', () => {
  const runs = [
    { runId: 'a', name: 'fmnist', sourceFile: '/w/one/exp.gradflow.yaml' },
    { runId: 'b', name: 'fmnist', sourceFile: '/w/two.gradflow.yaml' },
    { runId: 'c', name: 'fmnist', sourceFile: '/w/two.gradflow.yaml' },
    { runId: 'd', name: 'cifar', sourceFile: '/w/c.gradflow.yaml' },
    { runId: 'e', name: 'cifar', sourceFile: '/w/c.gradflow.yaml' },
  ];
  const labels = runLabels(runs, () => undefined);
  assert.deepEqual([...labels.values()], ['fmnist (exp.gradflow.yaml)', 'fmnist (two.gradflow.yaml)', 'fmnist (two.gradflow.yaml)', 'cifar', 'cifar']);
});
