/**
 * Issue 10, item 12: Wilcoxon `method: 'exact'` with tied and zero differences. The reference is a
 * brute-force enumeration written here independently of src/: ranks by sorting, then every one of
 * the 2ⁿ sign assignments of the non-zero differences, counting how often R+ is at most / at least
 * the observed value. (The old code threw on any tie or zero.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wilcoxon, type WilcoxonZeroMethod } from '../../../src/study/stats/wilcoxon';
import type { Alternative } from '../../../src/study/stats/errors';
import { at } from '../../../src/shared/checked';

/** Mid-ranks (1-based) of `v`, by sorting indices: equal values share the mean of their positions. */
function midRanks(v: readonly number[]): number[] {
  const idx = v.map((_, i) => i).sort((a, b) => at(v, a) - at(v, b));
  const out = new Array<number>(v.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && v[at(idx, j + 1)] === v[at(idx, i)]) j++;
    for (let k = i; k <= j; k++) out[at(idx, k)] = (i + 1 + (j + 1)) / 2;
    i = j + 1;
  }
  return out;
}

/** p-value by enumerating all sign assignments of the non-zero differences. */
function bruteForce(d: readonly number[], zeroMethod: WilcoxonZeroMethod, alternative: Alternative): number {
  const kept = zeroMethod === 'wilcox' ? d.filter((x) => x !== 0) : d.slice();
  const r = midRanks(kept.map(Math.abs));
  const zeroShift = zeroMethod === 'zsplit' ? kept.reduce((s, x, i) => (x === 0 ? s + at(r, i) / 2 : s), 0) : 0;
  const signed = kept.map((x, i) => ({ x, r: at(r, i) })).filter((e) => e.x !== 0);
  const observed = zeroShift + signed.reduce((s, e) => (e.x > 0 ? s + e.r : s), 0);
  const n = signed.length;
  let atMost = 0;
  let atLeast = 0;
  const eps = 1e-9; // ranks are halves: sums compare exactly up to rounding
  for (let mask = 0; mask < 1 << n; mask++) {
    let rPlus = zeroShift;
    for (let i = 0; i < n; i++) if (mask & (1 << i)) rPlus += at(signed, i).r;
    if (rPlus <= observed + eps) atMost++;
    if (rPlus >= observed - eps) atLeast++;
  }
  const total = 2 ** n;
  if (alternative === 'greater') return atLeast / total;
  if (alternative === 'less') return atMost / total;
  return Math.min(1, (2 * Math.min(atMost, atLeast)) / total);
}

/** Small deterministic generator (LCG) so the cases are reproducible without Math.random. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const cases: Array<{ name: string; d: number[] }> = [
  { name: 'ties, no zeros', d: [1, -1, 2, 2, -3, 4, 4, 4, -5, 6] },
  { name: 'zeros, no ties', d: [0, 1, -2, 3, 0, 5, -6, 7] },
  { name: 'ties and zeros', d: [0, 0, 1, -1, 1, 2, -2, 3, 3, -3, 4, 0] },
  { name: 'all tied', d: [2, -2, 2, 2, 2, -2] },
  { name: 'the issue: one zero and a tie', d: [0.5, -0.5, 1.5, 0, 2.5, 3.5, 3.5, 4] },
];
// Random tied/zero cases up to n = 20 (2²⁰ assignments each for the largest).
const rnd = lcg(20261201);
for (const n of [5, 9, 13, 17, 20]) {
  cases.push({ name: `random n=${n}`, d: Array.from({ length: n }, () => Math.round((rnd() - 0.45) * 8) / 2) });
}

for (const { name, d } of cases) {
  test(`exact Wilcoxon with ties/zeros equals the brute-force enumeration: ${name}`, () => {
    for (const zeroMethod of ['wilcox', 'pratt', 'zsplit'] as const) {
      if (d.every((x) => x === 0) && zeroMethod !== 'zsplit') continue;
      for (const alternative of ['two-sided', 'greater', 'less'] as const) {
        const r = wilcoxon(d, null, { method: 'exact', zeroMethod, alternative });
        assert.equal(r.method, 'exact');
        const want = bruteForce(d, zeroMethod, alternative);
        assert.ok(Math.abs(r.pValue - want) < 1e-12, `${name} ${zeroMethod} ${alternative}: got ${r.pValue}, brute force ${want}`);
      }
    }
  });
}

test("'auto' is unchanged by ties and zeros (the report's default stays the normal approximation)", () => {
  assert.equal(wilcoxon([1, -1, 2, 2, -3, 4], null).method, 'approx');
  assert.equal(wilcoxon([0, 1, -2, 3], null).method, 'approx');
  assert.equal(wilcoxon([1, -2, 3, 4], null).method, 'exact');
});

test('without ties or zeros the exact p is the classic one (n = 4, R+ = 8: P(R+ ≥ 8) = 3/16)', () => {
  // Ranks 1..4; R+ = 1 + 3 + 4 = 8. Assignments with R+ ≥ 8: {1,3,4}, {2,3,4}, {1,2,3,4} = 3 of 16.
  const r = wilcoxon([1, -2, 3, 4], null, { method: 'exact', alternative: 'greater' });
  assert.equal(r.rPlus, 8);
  assert.ok(Math.abs(r.pValue - 3 / 16) < 1e-15);
});
