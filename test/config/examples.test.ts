import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadExperimentFile, parseExperiment } from '../../src/config/parse';
import { expandSweep } from '../../src/config/sweep';
import { repoRoot } from './helpers';

const examplesDir = path.join(repoRoot(), 'examples');
const files = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.gradflow.yaml'));

test('the four documented examples exist', () => {
  for (const name of ['fmnist-scsdc', 'quick-synthetic', 'exploding', 'fmnist-sweep']) assert.ok(files.includes(`${name}.gradflow.yaml`), name);
});

for (const file of files) {
  test(`examples/${file} parses without issues`, () => {
    const full = path.join(examplesDir, file);
    const result = parseExperiment(fs.readFileSync(full, 'utf8'), full);
    assert.deepEqual(result.issues, []);
    assert.ok(result.config);
  });
}

test('the demo is a modest SC-SDC pair on Fashion-MNIST with the wasm backend', () => {
  const { config } = loadExperimentFile(path.join(examplesDir, 'fmnist-scsdc.gradflow.yaml'));
  assert.equal(config.dataset.name, 'fashion-mnist');
  assert.equal(config.sparsity.method, 'random');
  assert.equal(config.sparsity.pair, true);
  assert.ok(config.sparsity.denseWidth !== undefined && config.sparsity.denseWidth < config.model.width);
  assert.equal(config.run.backend, 'wasm');
  // Step budget: ≤ 3 epochs over ≤ 20000 examples keeps the run within minutes on 2 cores.
  assert.ok(config.training.epochs <= 3);
  assert.ok((config.dataset.trainLimit ?? Infinity) <= 20000);
});

test('the exploding example uses an absurd SGD learning rate and stops on NaN', () => {
  const { config } = loadExperimentFile(path.join(examplesDir, 'exploding.gradflow.yaml'));
  assert.equal(config.training.optimizer, 'sgd');
  assert.ok(config.training.learningRate >= 10);
  assert.equal(config.monitoring.onNan, 'stop');
  assert.equal(config.dataset.name, 'synthetic');
});

test('the sweep example expands to (optimizer, lr) linked × batch_norm × 5 seeds = 20 distinct runs', () => {
  const { config, sweep } = loadExperimentFile(path.join(examplesDir, 'fmnist-sweep.gradflow.yaml'));
  assert.ok(sweep);
  assert.deepEqual(sweep.axes.map((a) => ('key' in a ? a.key : 'linked')), ['linked', 'model.batch_norm']);
  const runs = expandSweep(config, sweep);
  assert.equal(runs.length, 20);
  assert.equal(new Set(runs.map((r) => r.id)).size, 20);
  // Each optimizer keeps its own learning rate: never crossed.
  assert.deepEqual([...new Set(runs.map((r) => `${r.config.training.optimizer}@${r.config.training.learningRate}`))], ['momentum@0.05', 'adam@0.001']);
});
