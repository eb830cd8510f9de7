import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatasetError, loadDataset } from '../../src/data/index';
import { generateSynthetic } from '../../src/data/synthetic';
import { cfg } from './helpers';
import { at, atF32, atF64, atU8 } from '../../src/shared/checked';

const spec = { features: 20, classes: 5, trainSize: 500, testSize: 200 };

test('synthetic: shape, balanced labels, deterministic from the seed, different for another seed', async () => {
  const a = await loadDataset(cfg('synthetic', { synthetic: spec }), { seed: 1 });
  const b = await loadDataset(cfg('synthetic', { synthetic: spec }), { seed: 1 });
  const c = await loadDataset(cfg('synthetic', { synthetic: spec }), { seed: 2 });
  assert.deepEqual(a.shape, [1, 20, 1]);
  assert.equal(a.features, 20);
  assert.equal(a.classes, 5);
  assert.equal(a.train.n + a.validation.n, 500);
  assert.equal(a.test.n, 200);
  assert.deepEqual(a.train.x, b.train.x);
  assert.deepEqual(a.test.y, b.test.y);
  assert.notDeepEqual(Array.from(a.test.x.subarray(0, 20)), Array.from(c.test.x.subarray(0, 20)));
  const counts = new Array<number>(5).fill(0);
  for (const y of a.test.y) counts[y] = at(counts, y) + 1;
  assert.deepEqual(counts, [40, 40, 40, 40, 40]);
  assert.match(a.source, /^synthetic: 5 Gaussian clusters in 20 features/);
});

test('synthetic: changing testSize does not change the training data', () => {
  const a = generateSynthetic(spec, 4);
  const b = generateSynthetic({ ...spec, testSize: 10 }, 4);
  assert.deepEqual(a.trainX, b.trainX);
  assert.deepEqual(a.trainY, b.trainY);
});

/** Nearest class-centroid classifier fitted on train, scored on test (written here, independent of any engine). */
function nearestCentroidAccuracy(train: { x: Float32Array; y: Uint8Array; n: number }, test: { x: Float32Array; y: Uint8Array; n: number }, d: number, k: number): number {
  const cent = new Float64Array(k * d);
  const cnt = new Array<number>(k).fill(0);
  for (let i = 0; i < train.n; i++) {
    cnt[atU8(train.y, i)] = at(cnt, atU8(train.y, i)) + 1;
    for (let j = 0; j < d; j++) cent[atU8(train.y, i) * d + j] = atF64(cent, atU8(train.y, i) * d + j) + atF32(train.x, i * d + j);
  }
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) cent[c * d + j] = atF64(cent, c * d + j) / at(cnt, c);
  let ok = 0;
  for (let i = 0; i < test.n; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (atF32(test.x, i * d + j) - atF64(cent, c * d + j)) ** 2;
      if (s < bestD) [best, bestD] = [c, s];
    }
    if (best === test.y[i]) ok++;
  }
  return ok / test.n;
}

test('synthetic is learnable: nearest-centroid on train scores > 0.8 on test (chance 0.1 / 0.2)', async () => {
  for (const [s, seed] of [
    [{ features: 20, classes: 5, trainSize: 500, testSize: 500 }, 1],
    [{ features: 784, classes: 10, trainSize: 1000, testSize: 500 }, 2],
    [{ features: 4, classes: 10, trainSize: 2000, testSize: 500 }, 3],
  ] as const) {
    const ds = await loadDataset(cfg('synthetic', { synthetic: s }), { seed });
    const acc = nearestCentroidAccuracy(ds.train, ds.test, s.features, s.classes);
    assert.ok(acc > 0.8, `accuracy ${acc} for ${JSON.stringify(s)}`);
  }
});

test('synthetic: missing or invalid spec is a DatasetError', async () => {
  await assert.rejects(loadDataset(cfg('synthetic'), { seed: 1 }), (e: unknown) => e instanceof DatasetError && /dataset\.synthetic .* is required/.test(e.message));
  await assert.rejects(loadDataset(cfg('synthetic', { synthetic: { ...spec, classes: 1 } }), { seed: 1 }), /synthetic\.classes must be 2\.\.256, got 1/);
  await assert.rejects(loadDataset(cfg('synthetic', { synthetic: { ...spec, trainSize: 0 } }), { seed: 1 }), /synthetic\.trainSize must be a positive integer, got 0/);
});

test('synthetic images: shape [H, W, C] lays out the same generated values; normalisation is per channel', async () => {
  const flat = generateSynthetic({ features: 48, classes: 3, trainSize: 60, testSize: 20 }, 7);
  const image = generateSynthetic({ features: 48, shape: [4, 4, 3], classes: 3, trainSize: 60, testSize: 20 }, 7);
  assert.deepEqual(image.shape, [4, 4, 3]);
  assert.deepEqual(flat.shape, [1, 48, 1]);
  assert.deepEqual(image.trainX, flat.trainX);
  assert.deepEqual(image.testY, flat.testY);
  assert.match(image.source, /in 48 features as 4×4×3 images/);
  const ds = await loadDataset(cfg('synthetic', { synthetic: { features: 48, shape: [4, 4, 3], classes: 3, trainSize: 60, testSize: 20 } }), { seed: 7 });
  assert.deepEqual(ds.shape, [4, 4, 3]);
  assert.equal(ds.features, 48);
  // Per-channel statistics: three means, and every channel of the train split has mean 0 after normalisation (by hand: sum / count).
  assert.equal(ds.normalization?.mean.length, 3);
  for (let ch = 0; ch < 3; ch++) {
    let sum = 0;
    let count = 0;
    for (let i = ch; i < ds.train.x.length; i += 3) {
      sum += atF32(ds.train.x, i);
      count++;
    }
    assert.ok(Math.abs(sum / count) < 1e-5, `channel ${ch} mean ${sum / count}`);
  }
});

test('synthetic images: a shape that does not hold features values is a DatasetError', () => {
  assert.throws(() => generateSynthetic({ features: 40, shape: [4, 4, 3], classes: 3, trainSize: 6, testSize: 2 }, 1), /shape \[4, 4, 3\] has 48 values per example, but synthetic.features is 40/);
  assert.throws(() => generateSynthetic({ features: 0, shape: [0, 4, 3], classes: 3, trainSize: 6, testSize: 2 }, 1), DatasetError);
});
