import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatasetError, loadDataset } from '../../src/data/index';
import { prepare, splitIndices } from '../../src/data/prepare';
import type { RawData } from '../../src/data/raw';
import { cfg, mean, std } from './helpers';
import { at, atF32, atU32 } from '../../src/shared/checked';

/** Raw float data where example i has every feature equal to i (so values identify examples). */
function identityRaw(nTrain: number, nTest: number, features = 4): RawData {
  const trainX = new Float32Array(nTrain * features).map((_, k) => Math.floor(k / features));
  const testX = new Float32Array(nTest * features).map((_, k) => 10_000 + Math.floor(k / features));
  return {
    shape: [1, features, 1],
    classes: 10,
    trainX,
    trainY: Uint8Array.from({ length: nTrain }, (_, i) => i % 10),
    nTrain,
    testX,
    testY: Uint8Array.from({ length: nTest }, (_, i) => i % 10),
    nTest,
    source: 'identity',
  };
}

test('split: sizes, disjoint, covering, deterministic per seed, different across seeds', () => {
  const c = cfg('synthetic', { validationFraction: 0.1 });
  const a = splitIndices('synthetic', 1000, 50, c, 42);
  const b = splitIndices('synthetic', 1000, 50, c, 42);
  const other = splitIndices('synthetic', 1000, 50, c, 43);
  assert.equal(a.validation.length, 100);
  assert.equal(a.train.length, 900);
  assert.deepEqual(a, b);
  assert.notDeepEqual(Array.from(a.validation), Array.from(other.validation));
  const all = new Set([...a.train, ...a.validation]);
  assert.equal(all.size, 1000, 'train and validation are disjoint and cover the training set');
  assert.ok([...all].every((i) => i >= 0 && i < 1000));
  // the split is shuffled, not a block of the file
  assert.ok(a.validation.some((i) => i >= 100));
  assert.deepEqual(Array.from(a.test), Array.from({ length: 50 }, (_, i) => i));
  // rounding: 0.1 of 1005 = 100.5 → 101
  assert.equal(splitIndices('synthetic', 1005, 1, c, 1).validation.length, 101);
});

test('split: trainLimit keeps a prefix of the same shuffle and caps validation; testLimit keeps the first test examples', () => {
  const full = splitIndices('synthetic', 1000, 50, cfg('synthetic'), 7);
  const lim = splitIndices('synthetic', 1000, 50, cfg('synthetic', { trainLimit: 90, testLimit: 20 }), 7);
  assert.deepEqual(Array.from(lim.train), Array.from(full.train.subarray(0, 90)));
  // validation keeps the 10 % proportion: round(90·0.1/0.9) = 10, a prefix of the full validation
  assert.deepEqual(Array.from(lim.validation), Array.from(full.validation.subarray(0, 10)));
  assert.deepEqual(Array.from(lim.test), Array.from({ length: 20 }, (_, i) => i));
  // limits above the available counts are no-ops
  const big = splitIndices('synthetic', 1000, 50, cfg('synthetic', { trainLimit: 5000, testLimit: 500 }), 7);
  assert.equal(big.train.length, 900);
  assert.equal(big.validation.length, 100);
  assert.equal(big.test.length, 50);
});

test('split: invalid fractions and limits are DatasetErrors', () => {
  assert.throws(() => splitIndices('mnist', 10, 1, cfg('mnist', { validationFraction: 1 }), 1), DatasetError);
  assert.throws(() => splitIndices('mnist', 10, 1, cfg('mnist', { validationFraction: -0.1 }), 1), /validationFraction must be in \[0, 1\)/);
  assert.throws(() => splitIndices('mnist', 10, 1, cfg('mnist', { trainLimit: 0 }), 1), /trainLimit must be a positive integer, got 0/);
  assert.throws(() => splitIndices('mnist', 10, 1, cfg('mnist', { testLimit: 2.5 }), 1), /testLimit must be a positive integer/);
});

test('prepare: examples land in the split their index says, labels follow, stats from train only', () => {
  const raw = identityRaw(200, 30);
  const c = cfg('synthetic', { validationFraction: 0.25 });
  const idx = splitIndices('synthetic', 200, 30, c, 9);
  const ds = prepare(raw, c, 9, () => undefined);
  const n = ds.normalization;
  assert.ok(n);
  // raw train values are the example ids of the train split: mean/std computed here from the ids
  const ids = Array.from(idx.train);
  const mu = mean(ids);
  const sigma = std(ids);
  assert.ok(Math.abs(at(n.mean, 0) - mu) < 1e-9);
  assert.ok(Math.abs(at(n.std, 0) - sigma) < 1e-9);
  for (let i = 0; i < ds.validation.n; i++) {
    assert.ok(Math.abs(atF32(ds.validation.x, i * 4 + 2) - (atU32(idx.validation, i) - mu) / sigma) < 1e-4);
    assert.equal(ds.validation.y[i], atU32(idx.validation, i) % 10);
  }
  for (let i = 0; i < ds.test.n; i++) assert.ok(Math.abs(atF32(ds.test.x, i * 4) - (10_000 + i - mu) / sigma) < 1e-3);
  assert.ok(Math.abs(mean(ds.train.x)) < 1e-5);
  assert.ok(Math.abs(std(ds.train.x) - 1) < 1e-5);
});

test('prepare: a constant channel is centred, not divided by zero (no NaN), with a log line', () => {
  // 3 channels, channel 1 always 0.5
  const raw: RawData = {
    shape: [2, 2, 3],
    classes: 2,
    trainX: new Float32Array(20 * 12).map((_, k) => (k % 3 === 1 ? 0.5 : (k * 7) % 11)),
    trainY: new Uint8Array(20),
    nTrain: 20,
    testX: new Float32Array(5 * 12).fill(0.5),
    testY: new Uint8Array(5),
    nTest: 5,
    source: 'const',
  };
  const logs: string[] = [];
  const ds = prepare(raw, cfg('synthetic', { validationFraction: 0 }), 1, (m) => logs.push(m));
  assert.ok(logs.some((l) => l.includes('channel 1 is constant on the train split')), logs.join('\n'));
  assert.deepEqual(ds.normalization?.std[1], 1);
  for (let i = 1; i < ds.train.x.length; i += 3) assert.equal(ds.train.x[i], 0);
  assert.ok(ds.test.x.every((v) => Number.isFinite(v)));
});

test('prepare: NaN / Infinity in the source is an error naming the split and the example', () => {
  const raw = identityRaw(50, 10);
  raw.testX[3 * 4 + 2] = Number.NaN;
  assert.throws(() => prepare(raw, cfg('synthetic', { validationFraction: 0 }), 1, () => undefined), (e: unknown) => {
    assert.ok(e instanceof DatasetError);
    assert.match(e.message, /test example 3 \(index 3 of the test set, source identity\) has a non-finite value \(NaN\) at feature 2 in the source data/);
    return true;
  });
  const raw2 = identityRaw(50, 10);
  raw2.trainX[17 * 4] = Number.POSITIVE_INFINITY;
  const idx = splitIndices('synthetic', 50, 10, cfg('synthetic'), 1);
  const where = Array.from(idx.validation).indexOf(17);
  const split = where >= 0 ? 'validation' : 'train';
  const pos = where >= 0 ? where : Array.from(idx.train).indexOf(17);
  assert.throws(() => prepare(raw2, cfg('synthetic'), 1, () => undefined), new RegExp(`${split} example ${pos} \\(index 17 of the training set`));
});

test('loadDataset: same seed gives identical datasets, another seed another validation set', async () => {
  const c = cfg('synthetic', { synthetic: { features: 8, classes: 3, trainSize: 300, testSize: 60 } });
  const a = await loadDataset(c, { seed: 11 });
  const b = await loadDataset(c, { seed: 11 });
  assert.deepEqual(a, b);
  assert.equal(a.train.n, 270);
  assert.equal(a.validation.n, 30);
  assert.equal(a.test.n, 60);
});
