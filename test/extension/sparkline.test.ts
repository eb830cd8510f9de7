import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sparkline, compactNumber, bucketMeans } from '../../src/extension/sparkline';

test('linear scaling between min and max over eight levels', () => {
  // 0..7 map one-to-one onto the eight bars.
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  // (5-0)/(10-0)*7 = 3.5 → rounds to index 4 (▅).
  assert.equal(sparkline([0, 5, 10]), '▁▅█');
});

test('only the last `width` values; flat series at mid height; empty input', () => {
  assert.equal(sparkline([100, 0, 1, 2], 3), '▁▅█');
  assert.equal(sparkline([2, 2, 2]), '▄▄▄');
  assert.equal(sparkline([]), '');
});

test('non-finite values show as ! and do not distort the scale', () => {
  assert.equal(sparkline([1, NaN, 3, Infinity]), '▁!█!');
  assert.equal(sparkline([NaN, NaN]), '!!');
});

test('log scale spreads values over decades', () => {
  // log10: 0, 1, 2, 3 → indices 0, 2.33→2, 4.67→5, 7
  assert.equal(sparkline([1, 10, 100, 1000], 16, { log: true }), '▁▃▆█');
  // A non-positive value makes log meaningless: falls back to linear.
  assert.equal(sparkline([0, 10], 16, { log: true }), '▁█');
});

test('compactNumber', () => {
  assert.equal(compactNumber(0.012345), '0.0123');
  assert.equal(compactNumber(123456), '1.23e+5');
  assert.equal(compactNumber(0.0001234), '1.23e-4');
  assert.equal(compactNumber(NaN), 'NaN');
});

test('bucketMeans folds a noisy series into end-aligned means; NaN survives', () => {
  assert.deepEqual(bucketMeans([1, 2, 3], 5), [1, 2, 3]);
  // 8 values into 4 buckets of 2: (1+3)/2, (5+7)/2, ...
  assert.deepEqual(bucketMeans([1, 3, 5, 7, 9, 11, 13, 15], 4), [2, 6, 10, 14]);
  // 7 values into 3 buckets of ceil(7/3) = 3 from the end: [1] [2,3,4] [5,6,7]
  assert.deepEqual(bucketMeans([1, 2, 3, 4, 5, 6, 7], 3), [1, 3, 6]);
  const withNaN = bucketMeans([1, 1, NaN, 1], 2);
  assert.equal(withNaN[0], 1);
  assert.ok(Number.isNaN(withNaN[1]));
});
