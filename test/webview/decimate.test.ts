import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decimate } from '../../src/extension/dashboard/decimate';
import { at } from '../../src/shared/checked';

describe('decimate', () => {
  it('matches a hand-computed small case (buckets of 3, 3, 4 interior points)', () => {
    // n = 12, maxPoints = 8 → B = floor((8 - 2) / 2) = 3 buckets over interior indices 1..10 (m = 10):
    //   b0 = [1, 4): y 1, 9, 3     → min idx 1 (1), max idx 2 (9)
    //   b1 = [4, 7): y 3, 7, 2     → max idx 5 (7), min idx 6 (2)
    //   b2 = [7, 11): y 8, 6, NaN, 4 → NaN idx 9 replaces the max, min idx 10 (4)
    // plus the first (x 1, y 5) and last (x 12, y 0) points.
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const y = [5, 1, 9, 3, 3, 7, 2, 8, 6, NaN, 4, 0];
    assert.deepEqual(decimate(x, y, 8), { x: [1, 2, 3, 6, 7, 10, 11, 12], y: [5, 1, 9, 7, 2, null, 4, 0] });
  });

  it('returns every point (non-finite as null) when under the cap', () => {
    assert.deepEqual(decimate([1, 2, 3], [1, Infinity, -Infinity], 4), { x: [1, 2, 3], y: [1, null, null] });
    assert.deepEqual(decimate([], [], 4), { x: [], y: [] });
  });

  it('emits one point for a flat bucket', () => {
    // n = 6, maxPoints = 4 → one bucket over indices 1..4, all equal: min = max = idx 1.
    assert.deepEqual(decimate([1, 2, 3, 4, 5, 6], [0, 2, 2, 2, 2, 0], 4), { x: [1, 2, 6], y: [0, 2, 0] });
  });

  it('caps 100,000 points at 2,000 and keeps first, last and every bucket min/max', () => {
    const n = 100_000;
    const x = Array.from({ length: n }, (_, i) => i + 1);
    // Deterministic noise plus rare spikes and dips, the features decimation must not lose.
    const y = x.map((s) => Math.sin(s / 500) + 0.1 * Math.sin(s * 12.9898) + (s % 9973 === 0 ? 50 : 0) - (s % 7919 === 0 ? 30 : 0));
    const d = decimate(x, y, 2000);
    assert.ok(d.x.length <= 2000, `${d.x.length} points`);
    assert.ok(d.x.length >= 1990, `${d.x.length} points`);
    assert.equal(d.x[0], 1);
    assert.equal(d.x[d.x.length - 1], n);
    for (let i = 1; i < d.x.length; i++) assert.ok(at(d.x, i) > at(d.x, i - 1), 'ascending');
    const kept = new Set(d.x);
    const buckets = 999;
    const m = n - 2;
    for (let b = 0; b < buckets; b++) {
      const start = 1 + Math.floor((b * m) / buckets);
      const end = 1 + Math.floor(((b + 1) * m) / buckets);
      let lo = start;
      let hi = start;
      for (let i = start; i < end; i++) {
        if (at(y, i) < at(y, lo)) lo = i;
        if (at(y, i) > at(y, hi)) hi = i;
      }
      assert.ok(kept.has(at(x, lo)) && kept.has(at(x, hi)), `bucket ${b}`);
    }
    for (let s = 9973; s < n; s += 9973) assert.ok(kept.has(s), `spike at ${s}`);
    for (let s = 7919; s < n; s += 7919) assert.ok(kept.has(s), `dip at ${s}`);
  });

  it('rejects mismatched lengths and a cap below 4', () => {
    assert.throws(() => decimate([1, 2], [1], 10), /points/);
    assert.throws(() => decimate([1], [1], 3), /maxPoints/);
  });
});
