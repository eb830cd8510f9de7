/**
 * `model.architecture` (mlp | cnn | wrn) and its keys: defaults, keys of another architecture,
 * input shapes, the SC-SDC twin of a conv net, and the kernel shapes the config package counts
 * (against PyTorch modules: scripts/reference/arch_weight_counts.py). MLP files must resolve, and
 * hash to run ids, exactly as before conv nets existed (ids recorded by the code before the change).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseExperiment } from '../../src/config/parse';
import { configId, expandSweep } from '../../src/config/sweep';
import { architectureOf } from '../../src/shared/experiment';
import { cnnPoolPlan, convKernelShapes, convLayerDensities, kernelWeights } from '../../src/shared/conv';
import { memoryEstimate } from '../../src/config/resources';
import { issueFor, repoRoot } from './helpers';
import { at } from '../../src/shared/checked';

const FILE = '/w/conv.gradflow.yaml';
const parse = (text: string): ReturnType<typeof parseExperiment> => parseExperiment(text, FILE);
const errors = (r: ReturnType<typeof parseExperiment>): string[] => r.issues.filter((i) => i.severity === 'error').map((i) => `${i.key}: ${i.message}`);

test('every example resolves to the run ids it had before conv nets existed', () => {
  const recorded = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'test/fixtures/config/example-ids-before-conv.json'), 'utf8')) as Record<string, { id: string; sweepIds?: string[] }>;
  assert.ok(Object.keys(recorded).length >= 7); // paper-repro-large left out: its width changed on purpose (3076 -> 768)
  for (const [file, want] of Object.entries(recorded)) {
    const r = parseExperiment(fs.readFileSync(path.join(repoRoot(), 'examples', file), 'utf8'), path.join('/examples', file));
    assert.ok(r.config, `${file}: ${JSON.stringify(r.issues)}`);
    assert.equal(configId(r.config), want.id, file);
    assert.equal(r.config.model.architecture, undefined, file);
    assert.equal(r.config.sparsity.density, undefined, file);
    if (want.sweepIds) {
      assert.ok(r.sweep, file);
      assert.deepEqual(
        expandSweep(r.config, r.sweep).map((x) => x.id),
        want.sweepIds,
        file,
      );
    }
  }
});

test("architecture: mlp written out resolves exactly like no architecture", () => {
  const base = 'model:\n  width: 64\nsparsity:\n  method: random\n  density: 0.5\n';
  const a = parse(base);
  const b = parse(base.replace('model:\n', 'model:\n  architecture: mlp\n'));
  assert.ok(a.config && b.config);
  assert.deepEqual(b.config, a.config);
  assert.equal(configId(b.config), configId(a.config));
  assert.equal(architectureOf(b.config.model), 'mlp');
});

test('cnn: the paper simple CNN by default, MLP keys warned as ignored on their line', () => {
  const r = parse('model:\n  architecture: cnn\n  hidden_layers: 4\n  width: 100\n  depth: 16\n');
  assert.ok(r.config, JSON.stringify(r.issues));
  const m = r.config.model;
  assert.equal(m.architecture, 'cnn');
  assert.deepEqual(m.channels, [32, 64, 64, 128, 128]);
  assert.equal(m.pool, 'auto');
  assert.equal(m.depth, undefined);
  assert.equal(m.widenFactor, undefined);
  assert.equal(m.block, undefined);
  for (const [key, line] of [['model.hidden_layers', 3], ['model.width', 4], ['model.depth', 5]] as const) {
    const i = issueFor(r.issues, key);
    assert.equal(i.severity, 'warning');
    assert.equal(i.line, line);
    assert.equal(i.column, 3);
    assert.match(i.message, /ignored: only architecture '(mlp|wrn)' uses it, found architecture 'cnn'/);
  }
});

test('mlp: conv keys are warnings and leave the resolved config', () => {
  const r = parse('model:\n  channels: [8, 16]\n  pool: [1]\n  widen_factor: 2\n');
  assert.ok(r.config);
  assert.equal(issueFor(r.issues, 'model.channels').severity, 'warning');
  assert.match(issueFor(r.issues, 'model.channels').message, /only architecture 'cnn' uses it, found architecture 'mlp'/);
  assert.equal(issueFor(r.issues, 'model.widen_factor').line, 4);
  assert.equal(r.config.model.channels, undefined);
  assert.equal(r.config.model.pool, undefined);
  assert.equal(r.config.model.widenFactor, undefined);
});

test('cnn pooling: auto on 28×28 pools blocks 1–4 (28 → 14 → 7 → 3 → 1), on 32×32 all five', () => {
  const fm = cnnPoolPlan([28, 28], 5, 'auto');
  assert.deepEqual(fm.pool, [true, true, true, true, false]);
  assert.deepEqual(fm.maps, [[14, 14], [7, 7], [3, 3], [1, 1], [1, 1]]);
  assert.deepEqual(cnnPoolPlan([32, 32], 5, 'auto').pool, [true, true, true, true, true]);
  assert.deepEqual(cnnPoolPlan([28, 28], 5, [2, 4]).maps, [[28, 28], [14, 14], [14, 14], [7, 7], [7, 7]]);
  assert.deepEqual(cnnPoolPlan([8, 8], 3, []).pool, [false, false, false]);
});

test('cnn pool lists: a 1×1 map or a block past the last is an error on model.pool', () => {
  const tooMany = parse('model:\n  architecture: cnn\n  pool: [1, 2, 3, 4, 5]\n');
  const i = issueFor(tooMany.issues, 'model.pool');
  assert.equal(i.severity, 'error');
  assert.equal(i.line, 3);
  assert.match(i.message, /block 5 cannot pool: its feature map is already 1×1 \(input 28×28/);
  const past = parse('model:\n  architecture: cnn\n  channels: [8, 8]\n  pool: [1, 3]\n');
  assert.match(issueFor(past.issues, 'model.pool').message, /expected block numbers from 1 to 2 .*found 3/);
  const fine = parse('model:\n  architecture: cnn\n  pool: [1, 2]\n');
  assert.deepEqual(errors(fine), []);
  assert.deepEqual(fine.config?.model.pool, [1, 2]);
  const typo = parse('model:\n  architecture: cnn\n  pool: automatic\n');
  assert.match(issueFor(typo.issues, 'model.pool').message, /auto/);
});

test('conv nets need image inputs: flat synthetic data is an error naming dataset.synthetic.shape', () => {
  const flat = parse('dataset:\n  name: synthetic\nmodel:\n  architecture: cnn\n');
  const i = issueFor(flat.issues, 'model.architecture');
  assert.equal(i.severity, 'error');
  assert.equal(i.line, 4);
  assert.match(i.message, /needs image inputs.*dataset\.synthetic\.shape/);
  const image = parse('dataset:\n  name: synthetic\n  synthetic:\n    shape: [8, 8, 3]\nmodel:\n  architecture: cnn\n  channels: [4, 8]\n');
  assert.deepEqual(errors(image), []);
  assert.equal(image.config?.dataset.synthetic?.features, 192);
  assert.deepEqual(image.config?.dataset.synthetic?.shape, [8, 8, 3]);
});

test('synthetic shape: features = H·W·C; a different features is an error on features', () => {
  const agree = parse('dataset:\n  name: synthetic\n  synthetic:\n    shape: [4, 4, 2]\n    features: 32\n');
  assert.deepEqual(errors(agree), []);
  const clash = parse('dataset:\n  name: synthetic\n  synthetic:\n    shape: [4, 4, 2]\n    features: 30\n');
  const i = issueFor(clash.issues, 'dataset.synthetic.features');
  assert.equal(i.line, 5);
  assert.match(i.message, /expected 32 \(= 4 × 4 × 2, dataset\.synthetic\.shape\), found 30/);
  const short = parse('dataset:\n  name: synthetic\n  synthetic:\n    shape: [4, 4]\n');
  assert.match(issueFor(short.issues, 'dataset.synthetic.shape').message, /at least 3/);
  const long = parse('dataset:\n  name: synthetic\n  synthetic:\n    shape: [4, 4, 1, 1]\n');
  assert.match(issueFor(long.issues, 'dataset.synthetic.shape').message, /at most 3 value\(s\), found 4/);
});

test('wrn: WRN-16-4 basic by default, BatchNorm and residuals always on', () => {
  const r = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\n');
  assert.ok(r.config, JSON.stringify(r.issues));
  const m = r.config.model;
  assert.deepEqual([m.depth, m.widenFactor, m.block, m.batchNorm, m.skip], [16, 4, 'basic', true, true]);
  assert.equal(m.channels, undefined);
  const off = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\n  batch_norm: false\n  skip: false\n');
  assert.match(issueFor(off.issues, 'model.batch_norm').message, /expected true .* with architecture 'wrn', found false: a Wide ResNet always has BatchNorm/);
  assert.equal(issueFor(off.issues, 'model.skip').line, 6);
});

test('wrn depth: (d − 4) divisible by 6 for basic blocks, 50 (its default) for bottleneck', () => {
  const bad = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\n  depth: 18\n');
  const i = issueFor(bad.issues, 'model.depth');
  assert.equal(i.line, 5);
  assert.match(i.message, /\(d − 4\) divisible by 6 .*found 18/);
  for (const d of [10, 16, 22, 28, 40]) assert.deepEqual(errors(parse(`dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\n  depth: ${d}\ntraining:\n  batch_size: 32\n`)), [], String(d));
  const bottleneck = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\n  block: bottleneck\ntraining:\n  batch_size: 2\n');
  assert.ok(bottleneck.config, JSON.stringify(bottleneck.issues));
  assert.deepEqual([bottleneck.config.model.depth, bottleneck.config.model.widenFactor], [50, 2]);
  const wrong = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\n  block: bottleneck\n  depth: 16\n');
  assert.match(issueFor(wrong.issues, 'model.depth').message, /expected 50 or 101 with block 'bottleneck'/);
  const deep = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\n  block: bottleneck\n  depth: 101\ntraining:\n  batch_size: 2\n');
  assert.deepEqual(errors(deep), []);
});

test('wrn is built for 32×32 inputs: fashion-mnist is an error on model.architecture that names the dataset', () => {
  const r = parse('model:\n  architecture: wrn\n');
  const i = issueFor(r.issues, 'model.architecture');
  assert.equal(i.severity, 'error');
  assert.match(i.message, /32×32 inputs .*found 28×28 \(dataset fashion-mnist\).*architecture 'cnn'/);
  assert.deepEqual(errors(parse('dataset:\n  name: synthetic\n  synthetic:\n    shape: [32, 32, 3]\nmodel:\n  architecture: wrn\n  depth: 10\n  widen_factor: 1\n')), []);
  assert.ok(issueFor(parse('dataset:\n  name: synthetic\n  synthetic:\n    shape: [16, 16, 3]\nmodel:\n  architecture: wrn\n').issues, 'model.architecture'));
});

test('SC-SDC for a cnn: the density is kept as ρ; dense_width is refused; a missing twin names density', () => {
  const r = parse('model:\n  architecture: cnn\nsparsity:\n  method: random\n  density: 0.25\n');
  assert.ok(r.config, JSON.stringify(r.issues));
  assert.equal(r.config.sparsity.density, 0.25);
  assert.equal(r.config.sparsity.denseWidth, undefined);
  assert.equal(r.config.sparsity.pair, true);
  const dw = parse('model:\n  architecture: cnn\nsparsity:\n  method: random\n  dense_width: 10\n');
  const i = issueFor(dw.issues, 'sparsity.dense_width');
  assert.equal(i.line, 5);
  assert.match(i.message, /expected sparsity\.density .* with architecture 'cnn', found sparsity\.dense_width/);
  const none = parse('model:\n  architecture: cnn\nsparsity:\n  method: magnitude\n');
  assert.match(issueFor(none.issues, 'sparsity.method').message, /needs the dense twin: set sparsity\.density/);
  const kd = parse('model:\n  architecture: cnn\nsparsity:\n  method: random\n  dense_widen_factor: 2\n');
  assert.match(issueFor(kd.issues, 'sparsity.dense_widen_factor').message, /only a wrn has a widen factor/);
  const tiny = parse('model:\n  architecture: cnn\n  channels: [4, 8]\nsparsity:\n  method: random\n  density: 0.1\n');
  assert.match(issueFor(tiny.issues, 'sparsity.density').message, /no channel where the design has 4 \(round\(4 × 0\.1\) = 0\): expected a density of at least 0\.125/);
});

test('SC-SDC for a wrn: dense_widen_factor k_D stands for density k_D/k', () => {
  const r = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\n  widen_factor: 4\nsparsity:\n  method: magnitude\n  dense_widen_factor: 2\n');
  assert.ok(r.config, JSON.stringify(r.issues));
  assert.equal(r.config.sparsity.density, 0.5);
  assert.equal((r.config.sparsity as unknown as Record<string, unknown>).denseWidenFactor, undefined);
  const same = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\n  widen_factor: 4\nsparsity:\n  method: magnitude\n  density: 0.5\n');
  assert.equal(configId(same.config!), configId(r.config));
  const wide = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\nsparsity:\n  method: random\n  dense_widen_factor: 4\n');
  assert.match(issueFor(wide.issues, 'sparsity.dense_widen_factor').message, /smaller than model\.widen_factor \(4\), found 4/);
  const both = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\nsparsity:\n  method: random\n  density: 0.5\n  dense_widen_factor: 2\n');
  assert.match(issueFor(both.issues, 'sparsity.density').message, /either sparsity\.density or sparsity\.dense_widen_factor/);
  const mlp = parse('sparsity:\n  method: random\n  dense_width: 100\n  dense_widen_factor: 2\n');
  assert.equal(issueFor(mlp.issues, 'sparsity.dense_widen_factor').severity, 'warning');
});

test('grasp takes a wrn (its BatchNorm has an R-operator on conv nets) but not an MLP with batch_norm', () => {
  const wrn = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\nsparsity:\n  method: grasp\n  density: 0.5\n');
  assert.deepEqual(errors(wrn), []);
  const mlp = parse('model:\n  batch_norm: true\nsparsity:\n  method: grasp\n  dense_width: 10\n');
  assert.match(issueFor(mlp.issues, 'sparsity.method').message, /expected an MLP without BatchNorm for method 'grasp', found model.batch_norm: true/);
});

test('a sweep may cross architectures: each point resolves with its own keys', () => {
  const r = parse(
    'dataset:\n  name: synthetic\n  synthetic:\n    shape: [8, 8, 1]\nmodel:\n  channels: [4, 8]\nsweep:\n  seeds: [0]\n  grid:\n    model.architecture: [mlp, cnn]\n',
  );
  assert.ok(r.config && r.sweep, JSON.stringify(r.issues));
  const runs = expandSweep(r.config, r.sweep);
  assert.deepEqual(
    runs.map((x) => [x.config.model.architecture, x.config.model.channels]),
    [
      [undefined, undefined],
      ['cnn', [4, 8]],
    ],
  );
});

interface Counted {
  kernels: Array<[number, number, number]>;
  weights: number;
}

test('kernel shapes and weight counts equal PyTorch modules (simple CNN, its twin, WRN-16-4 and its twin, WRN-10-1, WRN-28-10, WRN-50-2)', () => {
  const ref = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'test/fixtures/config/arch-weight-counts.json'), 'utf8')) as Record<string, Counted>;
  const cnn = { architecture: 'cnn', channels: [32, 64, 64, 128, 128] } as const;
  const cases: Array<[string, Parameters<typeof convKernelShapes>[0], number, number, number?]> = [
    ['cnn-default-fmnist', { ...cnn, channels: [...cnn.channels], skip: false }, 1, 10],
    ['cnn-default-fmnist-skip', { ...cnn, channels: [...cnn.channels], skip: true }, 1, 10],
    ['cnn-default-fmnist-skip-twin-0.25', { ...cnn, channels: [...cnn.channels], skip: true }, 1, 10, 0.25],
    ['wrn-16-4-cifar10', { architecture: 'wrn', depth: 16, widenFactor: 4, block: 'basic', skip: true }, 3, 10],
    ['wrn-16-4-cifar10-twin-0.5', { architecture: 'wrn', depth: 16, widenFactor: 4, block: 'basic', skip: true }, 3, 10, 0.5],
    ['wrn-10-1-cifar10', { architecture: 'wrn', depth: 10, widenFactor: 1, block: 'basic', skip: true }, 3, 10],
    ['wrn-28-10-cifar100', { architecture: 'wrn', depth: 28, widenFactor: 10, block: 'basic', skip: true }, 3, 100],
    ['wrn-50-2-bottleneck-cifar10', { architecture: 'wrn', depth: 50, widenFactor: 2, block: 'bottleneck', skip: true }, 3, 10],
  ];
  assert.deepEqual(cases.map((c) => c[0]).sort(), Object.keys(ref).sort());
  for (const [name, model, inC, classes, density] of cases) {
    const shapes = convKernelShapes(model, inC, classes, density);
    assert.ok(shapes, name);
    const want = ref[name];
    assert.ok(want, name);
    assert.deepEqual(
      shapes.map((s) => [s.k, s.cin, s.cout]),
      want.kernels,
      name,
    );
    assert.equal(shapes.reduce((a, s) => a + kernelWeights(s), 0), want.weights, name);
  }
  // Published sizes as a sanity check: WRN-28-10 ≈ 36.5M parameters, WRN-16-4 ≈ 2.7M (Zagoruyko & Komodakis 2016).
  assert.equal(Math.round(ref['wrn-28-10-cifar100']!.weights / 1e5) / 10, 36.5);
  assert.equal(Math.round(ref['wrn-16-4-cifar10']!.weights / 1e5) / 10, 2.7);
});

test('a twin keeps the sparse net topology: projections are decided on the designed channel counts', () => {
  // channels [32, 33] with skip at ρ = 0.1: the twin's counts round to 3 and 3, but block 2 still has its projection (32 ≠ 33).
  const model = { architecture: 'cnn' as const, channels: [32, 33], skip: true };
  const sparse = convKernelShapes(model, 1, 10);
  const twin = convKernelShapes(model, 1, 10, 0.1);
  assert.deepEqual(
    sparse?.map((s) => [s.k, s.cin, s.cout]),
    [[3, 1, 32], [1, 1, 32], [3, 32, 33], [1, 32, 33], [1, 33, 10]],
  );
  assert.deepEqual(
    twin?.map((s) => [s.k, s.cin, s.cout]),
    [[3, 1, 3], [1, 1, 3], [3, 3, 3], [1, 3, 3], [1, 3, 10]],
  );
});

test('SC-SDC densities of the simple CNN at ρ = 0.25, by hand: ρ for the first conv and the classifier, ρ² for conv-to-conv', () => {
  const model = { architecture: 'cnn', channels: [32, 64, 64, 128, 128], skip: false } as const;
  const sparse = convKernelShapes({ ...model, channels: [...model.channels] }, 1, 10)!.map(kernelWeights);
  const twin = convKernelShapes({ ...model, channels: [...model.channels] }, 1, 10, 0.25)!.map(kernelWeights);
  // 1·32·9, 32·64·9, 64·64·9, 64·128·9, 128·128·9, 128·10 and the twin's 1·8·9, 8·16·9, 16·16·9, 16·32·9, 32·32·9, 32·10.
  assert.deepEqual(sparse, [288, 18432, 36864, 73728, 147456, 1280]);
  assert.deepEqual(twin, [72, 1152, 2304, 4608, 9216, 320]);
  assert.deepEqual(
    twin.map((t, i) => t / at(sparse, i)),
    [0.25, 0.0625, 0.0625, 0.0625, 0.0625, 0.25],
  );
  assert.deepEqual(convLayerDensities({ ...model, channels: [...model.channels] }, 1, 10, 0.25), [0.25, 0.0625, 0.0625, 0.0625, 0.0625, 0.25]);
  // WRN-16-4 at ρ = 0.5: stem 3→8 of 3→16 (0.5), convs (0.25), the projections 8→32 of 16→64 (0.25), the classifier 128·10 of 256·10 (0.5).
  const wrn = convLayerDensities({ architecture: 'wrn', depth: 16, widenFactor: 4, block: 'basic', skip: true }, 3, 10, 0.5);
  assert.equal(wrn?.length, 17);
  assert.deepEqual([wrn?.[0], wrn?.[1], wrn?.[3], wrn?.[16]], [0.5, 0.25, 0.25, 0.5]);
});

test('memory of a conv net is estimated from its kernels: WRN-16-4 parameters by hand, a WRN-50-2 at batch 128 is over the default bound', () => {
  const r = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\ntraining:\n  optimizer: sgd\n  batch_size: 64\n');
  assert.ok(r.config, JSON.stringify(r.issues));
  const est = memoryEstimate(r.config);
  // WRN-16-4 on CIFAR-10: 2,745,264 kernel weights (PyTorch count above) + 4 per output channel of its 17 weight layers.
  // Output channels: stem 16; per group 5 layers (two blocks of two convs, one projection) of 64, 128, 256; classifier 10.
  const couts = 16 + 5 * 64 + 5 * 128 + 5 * 256 + 10;
  assert.match(at(est.terms, 0).what, new RegExp(`^the net: ${(2_745_264 + 4 * couts).toLocaleString('en-US')} parameters \\(17 weight layers, wrn\\) × 2 copies`));
  const big = parse('dataset:\n  name: cifar10\nmodel:\n  architecture: wrn\n  block: bottleneck\n');
  const i = issueFor(big.issues, 'training.batch_size');
  assert.match(i.message, /estimated peak memory .* more than the bound of 4,096 MB/);
  assert.match(i.message, /Lower training\.batch_size, model\.widen_factor/);
});
