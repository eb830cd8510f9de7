import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadExperimentFile, parseExperiment } from '../../src/config/parse';
import { ConfigError } from '../../src/config/types';
import { scsdcDensities } from '../../src/config';
import type { ExperimentConfig } from '../../src/shared/experiment';
import { FILE, issueFor, span } from './helpers';
import * as checked from '../../src/shared/checked';

const errors = (text: string) => parseExperiment(text, FILE).issues.filter((i) => i.severity === 'error');

test('unknown enum value: position of the value, expected list and did-you-mean', () => {
  const text = ['training:', '  optimizer: adm', ''].join('\n');
  const result = parseExperiment(text, FILE);
  assert.equal(result.config, undefined);
  const issue = issueFor(result.issues, 'training.optimizer');
  // "  optimizer: " is 13 characters: the value starts in column 14 and 'adm' ends before 17.
  assert.deepEqual(span(issue), [2, 14, 2, 17]);
  assert.equal(issue.message, "unknown optimizer 'adm': expected one of sgd, momentum, adam, adamw, rmsprop, adagrad; did you mean 'adam'?");
  assert.equal(issue.severity, 'error');
  assert.equal(issue.code, 'unknown-value');
  assert.equal(issue.suggestion, 'adam');
  assert.equal(issue.file, FILE);
});

test('unknown key: position of the key and did-you-mean', () => {
  const text = ['model:', '  width: 64', '  activaton: relu', ''].join('\n');
  const issue = issueFor(errors(text), 'model.activaton');
  assert.deepEqual(span(issue), [3, 3, 3, 12]);
  assert.match(issue.message, /unknown key 'activaton' in 'model'; did you mean 'activation'\?/);
  assert.equal(issue.suggestion, 'activation');
});

test('unknown key with no near miss lists the valid keys; a key of another section says where it belongs', () => {
  const text = ['training:', '  zzzz: 1', 'learning_rate: 0.1', ''].join('\n');
  const issues = errors(text);
  const far = issueFor(issues, 'training.zzzz');
  assert.match(far.message, /expected one of optimizer, learning_rate, lr_schedule, momentum, nesterov, weight_decay, augmentation, epochs, batch_size, seed$/);
  assert.equal(far.suggestion, undefined);
  const misplaced = issueFor(issues, 'learning_rate');
  assert.deepEqual(span(misplaced), [3, 1, 3, 14]);
  assert.match(misplaced.message, /did you mean 'training\.learning_rate'/);
});

test('camelCase and separator slips are suggested', () => {
  const issues = errors(['model:', '  batchNorm: true', 'dataset:', '  name: fashion_mnist', ''].join('\n'));
  assert.equal(issueFor(issues, 'model.batchNorm').suggestion, 'batch_norm');
  assert.equal(issueFor(issues, 'dataset.name').suggestion, 'fashion-mnist');
});

test('wrong types and out-of-range numbers: positions and messages', () => {
  const text = ['training:', '  learning_rate: fast', '  epochs: 0', '  batch_size: 12.5', 'model:', '  batch_norm: yes', ''].join('\n');
  const issues = errors(text);
  const lr = issueFor(issues, 'training.learning_rate');
  // "  learning_rate: " is 17 characters.
  assert.deepEqual(span(lr), [2, 18, 2, 22]);
  assert.equal(lr.message, "expected a number, found 'fast'");
  const epochs = issueFor(issues, 'training.epochs');
  assert.deepEqual(span(epochs), [3, 11, 3, 12]);
  assert.equal(epochs.message, 'expected a number of at least 1, found 0');
  assert.equal(issueFor(issues, 'training.batch_size').message, 'expected an integer, found 12.5');
  // YAML 1.2: `yes` is a string, not a boolean.
  assert.equal(issueFor(issues, 'model.batch_norm').message, "expected true or false, found 'yes'");
  assert.equal(issues.length, 4);
});

test('a section given as a scalar is a type error on the value', () => {
  const issue = issueFor(errors('model: big\n'), 'model');
  assert.deepEqual(span(issue), [1, 8, 1, 11]);
  assert.match(issue.message, /^expected a mapping \(indented keys\), found 'big'$/);
});

test('YAML syntax error is reported with its position and no config', () => {
  const text = ['model:', '  width: 64', '  activation: [relu', 'training:', '  epochs: 1', ''].join('\n');
  const result = parseExperiment(text, FILE);
  assert.equal(result.config, undefined);
  const syntax = result.issues.filter((i) => i.code === 'yaml-syntax');
  assert.ok(syntax.length >= 1, JSON.stringify(result.issues));
  assert.ok(syntax.every((i) => i.severity === 'error' && i.message.startsWith('YAML: ')));
  // The unterminated flow list starts on line 3; yaml reports it there or where it expected the `]`.
  assert.ok(syntax.some((i) => i.line >= 3), JSON.stringify(syntax));
});

test('YAML duplicate key is an error at the second key', () => {
  const text = ['training:', '  epochs: 1', '  epochs: 2', ''].join('\n');
  const result = parseExperiment(text, FILE);
  assert.equal(result.config, undefined);
  const dup = result.issues.find((i) => i.code === 'yaml-syntax');
  assert.ok(dup);
  assert.equal(dup.line, 3);
  assert.equal(dup.column, 3);
  assert.match(dup.message, /unique/i);
});

test('a top-level list is rejected', () => {
  const issues = errors('- a\n- b\n');
  assert.equal(issues.length, 1);
  assert.match(checked.at(issues, 0).message, /expected a mapping of sections .* found a list/);
});

test('defaults fill an empty file; snake_case maps to camelCase; paths are absolute', () => {
  const result = parseExperiment('', FILE);
  assert.deepEqual(result.issues, []);
  const expected: ExperimentConfig = {
    name: 'exp',
    dataset: { name: 'fashion-mnist', validationFraction: 0.1 },
    model: { hiddenLayers: 2, width: 308, activation: 'relu', batchNorm: false, skip: false },
    sparsity: { method: 'none', pair: false, init: 'dense-fan-in' },
    training: { optimizer: 'adam', learningRate: 0.001, momentum: 0.9, weightDecay: 0, augmentation: false, epochs: 10, batchSize: 128, seed: 0 },
    monitoring: { every: 1, explosion: { maxNorm: 1000, growthFactor: 100, window: 10 }, collapse: { minNorm: 1e-7, steps: 50 }, onNan: 'stop' },
    run: { backend: 'auto', runsDir: '/tmp/gradflow-tests/.gradflow/runs' },
  };
  assert.deepEqual(result.config, expected);
});

test('every key given explicitly maps one-to-one to ExperimentConfig', () => {
  const text = `
name: full
dataset:
  name: synthetic
  cache_dir: cache
  validation_fraction: 0.2
  train_limit: 100
  test_limit: 50
  synthetic: {features: 8, classes: 3, train_size: 200, test_size: 60}
model: {hidden_layers: 3, width: 40, activation: srelu-slide, batch_norm: true, skip: true}
sparsity: {method: magnitude, dense_width: 10, pair: false, init: sparse-fan-in}
training: {optimizer: momentum, learning_rate: 0.1, momentum: 0.5, weight_decay: 1.0e-4, augmentation: false, epochs: 2, batch_size: 32, seed: 7}
monitoring:
  every: 5
  explosion: {max_norm: 10, growth_factor: 2, window: 4}
  collapse: {min_norm: 0.001, steps: 3}
  on_nan: continue
run: {backend: cpu, runs_dir: /abs/runs}
`;
  const result = parseExperiment(text, FILE);
  assert.deepEqual(result.issues, []);
  const expected: ExperimentConfig = {
    name: 'full',
    dataset: {
      name: 'synthetic',
      cacheDir: '/tmp/gradflow-tests/cache',
      validationFraction: 0.2,
      trainLimit: 100,
      testLimit: 50,
      synthetic: { features: 8, classes: 3, trainSize: 200, testSize: 60 },
    },
    model: { hiddenLayers: 3, width: 40, activation: 'srelu-slide', batchNorm: true, skip: true },
    sparsity: { method: 'magnitude', denseWidth: 10, pair: false, init: 'sparse-fan-in' },
    training: { optimizer: 'momentum', learningRate: 0.1, momentum: 0.5, weightDecay: 1e-4, augmentation: false, epochs: 2, batchSize: 32, seed: 7 },
    monitoring: { every: 5, explosion: { maxNorm: 10, growthFactor: 2, window: 4 }, collapse: { minNorm: 0.001, steps: 3 }, onNan: 'continue' },
    run: { backend: 'cpu', runsDir: '/abs/runs' },
  };
  assert.deepEqual(result.config, expected);
});

test('synthetic dataset gets the synthetic defaults; runsDirBase moves the runs folder', () => {
  const result = parseExperiment('dataset: {name: synthetic}\nrun: {runs_dir: out}\n', FILE, { runsDirBase: '/elsewhere' });
  assert.deepEqual(result.config?.dataset.synthetic, { features: 32, classes: 4, trainSize: 2048, testSize: 512 });
  assert.equal(result.config?.run.runsDir, '/elsewhere/out');
  assert.equal(result.config?.dataset.path, undefined);
});

test('dataset.path is resolved against the file folder; ~ is the home folder', () => {
  assert.equal(parseExperiment('dataset: {name: cifar10, path: data/cifar}\n', FILE).config?.dataset.path, '/tmp/gradflow-tests/data/cifar');
  assert.equal(parseExperiment('dataset: {name: mnist, path: ~/mnist}\n', FILE).config?.dataset.path, path.join(os.homedir(), 'mnist'));
});

test('SC-SDC: dense_width is kept; pair defaults to true for pruned nets', () => {
  const config = parseExperiment('model: {width: 1000}\nsparsity: {method: random, dense_width: 100}\n', FILE).config;
  assert.ok(config);
  assert.deepEqual(config.sparsity, { method: 'random', denseWidth: 100, pair: true, init: 'dense-fan-in' });
});

test('SC-SDC: density gives dense_width = round(width * density)', () => {
  // 3076 * 0.1 = 307.6 -> 308, the paper's narrowest dense width; 3076 * 0.3 = 922.8 -> 923.
  const at = (density: number) => parseExperiment(`model: {width: 3076}\nsparsity: {method: random, density: ${density}}\n`, FILE).config?.sparsity.denseWidth;
  assert.equal(at(0.1), 308);
  assert.equal(at(0.3), 923);
  assert.equal(at(0.5), 1538);
  assert.equal(at(0.7), 2153);
  assert.equal(at(0.9), 2768);
});

test('SC-SDC cross-field errors: dense_width must be below width, not both spellings, one is required', () => {
  const tooWide = ['model:', '  width: 100', 'sparsity:', '  method: random', '  dense_width: 100', ''].join('\n');
  const wide = issueFor(errors(tooWide), 'sparsity.dense_width');
  assert.deepEqual(span(wide), [5, 16, 5, 19]);
  assert.match(wide.message, /expected a dense width smaller than model\.width \(100\), found 100/);

  const both = ['model:', '  width: 100', 'sparsity:', '  method: random', '  dense_width: 10', '  density: 0.1', ''].join('\n');
  const conflict = issueFor(errors(both), 'sparsity.density');
  assert.deepEqual(span(conflict), [6, 3, 6, 10]);
  assert.match(conflict.message, /either sparsity\.dense_width or sparsity\.density, not both/);

  const neither = issueFor(errors('sparsity:\n  method: magnitude\n'), 'sparsity.method');
  assert.deepEqual(span(neither), [2, 11, 2, 20]);
  assert.match(neither.message, /needs the dense twin's width/);

  const tiny = issueFor(errors('model: {width: 10}\nsparsity: {method: random, density: 0.01}\n'), 'sparsity.density');
  assert.match(tiny.message, /gives dense_width 0/);

  assert.match(issueFor(errors('sparsity: {method: none, pair: true}\n'), 'sparsity.pair').message, /expected false with sparsity\.method 'none'/);
});

test('settings without effect are warnings, and the config is still returned', () => {
  const text = ['model: {hidden_layers: 1, skip: true}', 'training: {optimizer: adam, momentum: 0.5}', 'sparsity: {dense_width: 5}', ''].join('\n');
  const result = parseExperiment(text, FILE);
  assert.ok(result.config);
  assert.deepEqual(
    result.issues.map((i) => [i.key, i.severity]),
    [
      ['model.skip', 'warning'],
      ['training.momentum', 'warning'],
      ['sparsity.dense_width', 'warning'],
    ],
  );
  assert.equal(result.config.sparsity.denseWidth, undefined);
});

test('loadExperimentFile throws ConfigError formatted like a compiler, one issue per line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-config-'));
  const file = path.join(dir, 'bad.gradflow.yaml');
  fs.writeFileSync(file, 'training:\n  optimizer: adm\n  epochs: -1\n');
  assert.throws(
    () => loadExperimentFile(file),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.issues.length, 2);
      assert.equal(
        err.message,
        [
          `${file}:2:14: error: training.optimizer: unknown optimizer 'adm': expected one of sgd, momentum, adam, adamw, rmsprop, adagrad; did you mean 'adam'?`,
          `${file}:3:11: error: training.epochs: expected a number of at least 1, found -1`,
        ].join('\n'),
      );
      return true;
    },
  );
  fs.writeFileSync(file, 'name: ok\n');
  const loaded = loadExperimentFile(file);
  assert.equal(loaded.config.name, 'ok');
  assert.equal(loaded.config.run.runsDir, path.join(dir, '.gradflow', 'runs'));
  assert.deepEqual(loaded.warnings, []);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('YAML 1.2 numbers: 1e-3 is a number; .inf is rejected as not finite', () => {
  assert.equal(parseExperiment('training: {learning_rate: 1e-3}\n', FILE).config?.training.learningRate, 0.001);
  const inf = issueFor(errors('training:\n  learning_rate: .inf\n'), 'training.learning_rate');
  assert.match(inf.message, /expected a number, found Infinity \(a finite number is required\)/);
});

test('an unresolved alias is an issue on the alias, not an exception', () => {
  const result = parseExperiment('training:\n  epochs: *e\n', FILE);
  assert.equal(result.config, undefined);
  const issue = result.issues.find((i) => i.code === 'yaml-syntax');
  assert.ok(issue, JSON.stringify(result.issues));
  assert.deepEqual(span(issue), [2, 11, 2, 13]);
});

test('anchors and aliases resolve', () => {
  const config = parseExperiment('model: {width: &w 64}\nsparsity: {method: random, dense_width: 16}\ndataset: {train_limit: *w}\n', FILE).config;
  assert.equal(config?.dataset.trainLimit, 64);
});

test('errors in the sweep section do not hide errors in the experiment', () => {
  const text = ['model: {width: 100}', 'sparsity: {method: random, dense_width: 200}', 'sweep:', '  seeds: []', ''].join('\n');
  const keys = errors(text).map((i) => i.key);
  assert.deepEqual(keys, ['sparsity.dense_width', 'sweep.seeds']);
});

test('scsdcDensities: first and output h_D/h_S, hidden (h_D/h_S)^2', () => {
  assert.deepEqual(scsdcDensities(1000, 100, 2), [0.1, 0.010000000000000002, 0.1]);
  assert.deepEqual(scsdcDensities(128, 32, 3), [0.25, 0.0625, 0.0625, 0.25]);
});
