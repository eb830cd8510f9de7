/**
 * `resolveExperiment` ends in one unchecked cast (`camelizeKeys(filled) as ExperimentConfig`). It
 * holds because the schema declares exactly the fields of `ExperimentConfig`, in snake_case: this
 * suite checks that field by field. `SHAPE` mirrors the TypeScript interface (the compiler rejects
 * a missing or extra field), and the key registry mirrors the schema; the two must agree, and a
 * resolved file must carry a value of the schema's type at every field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/config/parse';
import { KEYS, keyInfo } from '../../src/config/keys';
import { validateValue } from '../../src/config/validate';
import type { ConfigIssue } from '../../src/config/types';
import type { ExperimentConfig } from '../../src/shared/experiment';

/** `true` at every leaf field of T; nested objects as nested shapes. Optional fields count too. */
type Shape<T> = {
  [K in keyof T]-?: NonNullable<T[K]> extends readonly unknown[]
    ? true
    : NonNullable<T[K]> extends object
      ? string extends keyof NonNullable<T[K]>
        ? true // a free-form mapping (`trainer.args`): one leaf
        : Shape<NonNullable<T[K]>>
      : true;
};

const SHAPE: Shape<ExperimentConfig> = {
  name: true,
  dataset: {
    name: true,
    path: true,
    cacheDir: true,
    validationFraction: true,
    trainLimit: true,
    testLimit: true,
    synthetic: { features: true, shape: true, classes: true, trainSize: true, testSize: true },
  },
  model: { architecture: true, hiddenLayers: true, width: true, activation: true, batchNorm: true, skip: true, channels: true, pool: true, depth: true, widenFactor: true, block: true },
  sparsity: { method: true, denseWidth: true, density: true, pair: true, init: true, scope: true, batches: true, synflowRounds: true, guard: true, gmp: { begin: true, end: true, every: true, initialDensity: true }, dynamic: { method: true, every: true, fraction: true, schedule: true, until: true, noise: true } },
  training: { optimizer: true, learningRate: true, lrSchedule: { milestones: true, gamma: true }, momentum: true, nesterov: true, weightDecay: true, augmentation: true, epochs: true, batchSize: true, seed: true },
  monitoring: { every: true, explosion: { maxNorm: true, growthFactor: true, window: true }, collapse: { minNorm: true, steps: true }, onNan: true },
  run: { backend: true, runsDir: true, maxMemoryMb: true },
  engine: { sparseKernels: true, rawL1Every: true, rawL2Every: true },
  trainer: { command: true, cwd: true, args: true },
};

function leafPaths(shape: object, prefix = ''): string[] {
  return Object.entries(shape).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return v === true ? [p] : leafPaths(v as object, p);
  });
}

/** Keys of the file that are input only: `sweep` is not one run's configuration; `dense_widen_factor` becomes `density`. */
const INPUT_ONLY = (snake: string): boolean => snake === 'sweep' || snake.startsWith('sweep.') || snake === 'sparsity.dense_widen_factor';

test('the schema declares exactly the fields of ExperimentConfig (snake_case ↔ camelCase via the registry)', () => {
  const fromInterface = leafPaths(SHAPE).sort();
  const fromSchema = KEYS.filter((k) => !k.section && !INPUT_ONLY(k.snake))
    .map((k) => k.camel)
    .sort();
  assert.deepEqual(fromSchema, fromInterface);
  for (const camel of fromInterface) assert.equal(keyInfo(camel)?.camel, camel, camel);
});

/**
 * Fields a resolved config has only in some cases: a dataset read from files; pruning criteria that
 * use them; the keys of the conv architectures (and the density of a conv net's twin); a synthetic image shape.
 */
const ONLY_SOMETIMES = new Set(['model.architecture', 'model.channels', 'model.pool', 'model.depth', 'model.widenFactor', 'model.block', 'sparsity.density', 'dataset.synthetic.shape', 'dataset.path', 'run.maxMemoryMb', 'sparsity.scope', 'sparsity.batches', 'sparsity.synflowRounds', 'sparsity.dynamic.method', 'sparsity.dynamic.every', 'sparsity.dynamic.fraction', 'sparsity.dynamic.schedule', 'sparsity.dynamic.until', 'sparsity.dynamic.noise', 'sparsity.gmp.begin', 'sparsity.gmp.end', 'sparsity.gmp.every', 'sparsity.gmp.initialDensity', 'sparsity.guard', 'training.lrSchedule.milestones', 'training.lrSchedule.gamma', 'training.nesterov']);

function get(obj: unknown, camel: string): unknown {
  return camel.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

test('a resolved config holds a value of the schema type at every field', () => {
  // Every optional field set, so every field is present after resolution.
  const text = [
    'name: full',
    'dataset:',
    '  name: synthetic',
    '  cache_dir: cache',
    '  validation_fraction: 0.2',
    '  train_limit: 100',
    '  test_limit: 50',
    '  synthetic:',
    '    features: 8',
    '    classes: 3',
    '    train_size: 120',
    '    test_size: 60',
    'model:',
    '  width: 32',
    '  hidden_layers: 2',
    'sparsity:',
    '  method: random',
    '  dense_width: 8',
    'training:',
    '  optimizer: momentum',
    '  momentum: 0.8',
    'engine:',
    '  sparse_kernels: auto',
    'trainer:',
    '  command: [python3, train.py]',
    '  cwd: scripts',
    '  args: {arch_name: wrn, depthFactor: 2}',
    '',
  ].join('\n');
  const r = parseExperiment(text, '/w/full.gradflow.yaml');
  assert.ok(r.config, JSON.stringify(r.issues));
  const config = r.config;
  for (const camel of leafPaths(SHAPE)) {
    const value = get(config, camel);
    if (value === undefined && ONLY_SOMETIMES.has(camel)) continue;
    assert.notEqual(value, undefined, `${camel} is set`);
    const info = keyInfo(camel);
    assert.ok(info, camel);
    const issues: ConfigIssue[] = [];
    const nowhere = { line: 1, column: 1, endLine: 1, endColumn: 1, offset: 0, endOffset: 0 };
    validateValue(value, info.node, info.snake, { file: 'x', locate: { key: () => nowhere, value: () => nowhere }, issues });
    assert.deepEqual(issues, [], `${camel} = ${JSON.stringify(value)}`);
  }
  // Hand-checked derived values: the density-free file keeps dense_width; paths are absolute.
  assert.equal(config.sparsity.denseWidth, 8);
  assert.equal(config.dataset.cacheDir, '/w/cache');
  assert.equal(config.training.momentum, 0.8);
  // The trainer's folder is absolute; its args are the script's, keys exactly as written.
  assert.deepEqual(config.trainer, { command: ['python3', 'train.py'], cwd: '/w/scripts', args: { arch_name: 'wrn', depthFactor: 2 } });
});

test('trainer: absent = the engine; cwd defaults to the file folder; a bad command names file, line and key', () => {
  assert.equal(parseExperiment('name: e\n', '/w/e.gradflow.yaml').config?.trainer, undefined);
  const ok = parseExperiment('trainer:\n  command: [python3, t.py]\n', '/w/sub/e.gradflow.yaml');
  assert.deepEqual(ok.config?.trainer, { command: ['python3', 't.py'], cwd: '/w/sub' });
  for (const [text, key, line] of [
    ['name: e\ntrainer:\n  command: []\n', 'trainer.command', 3],
    ['name: e\ntrainer:\n  command: python3 train.py\n', 'trainer.command', 3],
    ['name: e\ntrainer:\n  cwd: x\n', 'trainer', 2],
    ['name: e\ntrainer:\n  command: [python3, t.py]\n  shell: true\n', 'trainer.shell', 4],
    ['name: e\ntrainer:\n  command: [python3, ""]\n', 'trainer.command', 3],
  ] as const) {
    const r = parseExperiment(text, '/w/e.gradflow.yaml');
    assert.equal(r.config, undefined, text);
    const issue = r.issues.find((i) => i.severity === 'error');
    assert.ok(issue, text);
    assert.equal(issue.file, '/w/e.gradflow.yaml');
    assert.ok(issue.key.startsWith(key), `${text}: ${JSON.stringify(issue)}`);
    assert.equal(issue.line, line, `${text}: ${JSON.stringify(issue)}`);
  }
});

test('a density is turned into the dense width it stands for: round(32 · 0.3) = 10', () => {
  const r = parseExperiment('model:\n  width: 32\nsparsity:\n  method: random\n  density: 0.3\n', '/w/d.gradflow.yaml');
  assert.ok(r.config, JSON.stringify(r.issues));
  assert.equal(r.config.sparsity.denseWidth, 10);
  assert.equal((r.config.sparsity as unknown as Record<string, unknown>).density, undefined);
});
