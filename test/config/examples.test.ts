import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadExperimentFile, parseExperiment } from '../../src/config/parse';
import { expandSweep } from '../../src/config/sweep';
import * as os from 'node:os';
import { DatasetError, loadDataset } from '../../src/data/index';
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

test('the conv demo is the paper simple CNN as an SC-SDC pair on Fashion-MNIST, offline, sized for minutes', () => {
  const { config } = loadExperimentFile(path.join(examplesDir, 'fmnist-cnn.gradflow.yaml'));
  assert.equal(config.dataset.name, 'fashion-mnist');
  assert.equal(config.model.architecture, 'cnn');
  assert.deepEqual(config.model.channels, [32, 64, 64, 128, 128]);
  assert.equal(config.model.pool, 'auto');
  assert.equal(config.sparsity.method, 'random');
  assert.equal(config.sparsity.pair, true);
  assert.equal(config.sparsity.density, 0.25);
  assert.equal(config.run.backend, 'wasm');
  // Step budget for about a minute (the pair's step measured at ≈ 50 ms idle at batch 64, 57 s for
  // the whole run): ≤ 60000 image-epochs (≤ 940 steps), evaluation splits of ≤ 1100 validation images
  // (capped in proportion to train_limit, data/prepare.ts) and ≤ 2000 test images.
  const trainLimit = config.dataset.trainLimit ?? Infinity;
  const f = config.dataset.validationFraction;
  assert.ok(config.training.epochs * trainLimit <= 60_000);
  assert.ok(Math.round((trainLimit * f) / (1 - f)) <= 1100 && (config.dataset.testLimit ?? Infinity) <= 2000);
});

test('the WRN example is WRN-16-4 with magnitude pruning on CIFAR-10, twin WRN-16-2 (density 0.5), within the memory bound', () => {
  const { config } = loadExperimentFile(path.join(examplesDir, 'cifar10-wrn.gradflow.yaml'));
  assert.equal(config.dataset.name, 'cifar10');
  assert.deepEqual([config.model.architecture, config.model.depth, config.model.widenFactor, config.model.block], ['wrn', 16, 4, 'basic']);
  assert.deepEqual([config.model.batchNorm, config.model.skip], [true, true]);
  assert.equal(config.sparsity.method, 'magnitude');
  assert.equal(config.sparsity.density, 0.5);
  // The WRN paper's schedule (×0.2 at 60/120/160 of 200 epochs) at the same fractions of 30 epochs.
  assert.equal(config.training.epochs, 30);
  assert.deepEqual(config.training.lrSchedule, { milestones: [9, 18, 24], gamma: 0.2 });
  assert.deepEqual([config.training.optimizer, config.training.momentum, config.training.nesterov], ['momentum', 0.9, true]);
  assert.equal(config.training.augmentation, true);
});

test('the WRN example on a machine without CIFAR-10: a DatasetError that says where it looked and to set dataset.path', async () => {
  const { config } = loadExperimentFile(path.join(examplesDir, 'cifar10-wrn.gradflow.yaml'));
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-wrn-'));
  try {
    await assert.rejects(loadDataset({ ...config.dataset, cacheDir }, { seed: 0, fetch: false }), (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      assert.match(e.message, /cifar10/);
      assert.match(e.message, /set dataset\.path/);
      assert.match(e.message, /fetch disabled/);
      return true;
    });
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});
