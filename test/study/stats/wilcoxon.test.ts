import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wilcoxon, wilcoxonExactPmf } from '../../../src/study/stats';
import { Deviation, assertClose, errorCode, loadReference } from './reference';

const ref = loadReference();

test(`wilcoxon matches scipy.stats.wilcoxon on ${ref.wilcoxon.length} reference cases`, () => {
  const stat = new Deviation();
  const p = new Deviation();
  const z = new Deviation();
  const effect = new Deviation();
  for (const c of ref.wilcoxon) {
    const r = wilcoxon(c.x, c.y, {
      zeroMethod: c.kwargs.zero_method,
      correction: c.kwargs.correction,
      alternative: c.kwargs.alternative,
      method: c.ts_method,
      ...(c.exact_max_n === null ? {} : { exactMaxN: c.exact_max_n }),
    });
    assert.equal(r.method, c.method_used, `${c.name}: method`);
    assertClose(r.statistic, c.statistic, `${c.name}: T`, stat);
    assertClose(r.pValue, c.pvalue, `${c.name}: p (${r.method})`, p);
    if (c.zstatistic !== null) assertClose(r.z ?? NaN, c.zstatistic, `${c.name}: z`, z);
    if (c.rank_biserial === null) assert.ok(Number.isNaN(r.rankBiserial), `${c.name}: rank-biserial`);
    else assertClose(r.rankBiserial, c.rank_biserial, `${c.name}: rank-biserial`, effect);
  }
  assert.ok(z.checked > 50);
  console.log(stat.summary('wilcoxon T'));
  console.log(z.summary('wilcoxon z'));
  console.log(effect.summary('wilcoxon rank-biserial'));
  console.log(p.summary('wilcoxon p'));
});

test("'auto' with tied |d| and no zeros uses the normal approximation (deviation from SciPy 1.10)", () => {
  const tied = ref.wilcoxon.filter((c) => c.kwargs.method === 'approx' && c.ts_method === 'approx' && c.name.startsWith('ties only'));
  assert.ok(tied.length > 0);
  for (const c of tied) {
    const opts = { zeroMethod: c.kwargs.zero_method, correction: c.kwargs.correction, alternative: c.kwargs.alternative };
    const auto = wilcoxon(c.x, c.y, opts);
    assert.equal(auto.method, 'approx');
    assertClose(auto.pValue, c.pvalue, `${c.name}: auto p`);
  }
});

test('exact null pmf of R+ for n = 3 (hand-enumerated 8 sign patterns)', () => {
  // R+ ∈ {0,1,2,3,3,4,5,6} → pmf [1,1,1,2,1,1,1]/8
  assert.deepEqual(Array.from(wilcoxonExactPmf(3)), [1, 1, 1, 2, 1, 1, 1].map((v) => v / 8));
});

test('hand-computed exact and approximate cases', () => {
  // d = [1, 2, -3, 4, 5]: ranks 1..5, R+ = 12, R- = 3. 'greater': P(R+ ≥ 12) for n = 5:
  // subsets of {1..5} with sum ≥ 12 ⇔ complement sum ≤ 3: {}, {1}, {2}, {3}, {1,2} → 5/32.
  const r = wilcoxon([1, 2, -3, 4, 5], null, { alternative: 'greater' });
  assert.equal(r.method, 'exact');
  assert.equal(r.statistic, 12);
  assert.ok(Math.abs(r.pValue - 5 / 32) < 1e-15);
  assert.ok(Math.abs(r.rankBiserial - (12 - 3) / 15) < 1e-15);
  // two-sided: T = min = 3, p = 2·5/32
  assert.ok(Math.abs(wilcoxon([1, 2, -3, 4, 5], null).pValue - 10 / 32) < 1e-15);
  // Approx, 'wilcox', zeros dropped: d = [0, 1, 1, -2, 3] → n = 4, |d| ranks 1.5,1.5,3,4,
  // R+ = 7, μ = 5, 24σ² = 4·5·9 - ½(2³-2) = 177, 'greater' with correction: z = (7-5-0.5)/√(177/24)
  const a = wilcoxon([0, 1, 1, -2, 3], null, { alternative: 'greater', correction: true });
  assert.equal(a.method, 'approx');
  assert.equal(a.nRanked, 4);
  const z = 1.5 / Math.sqrt(177 / 24);
  assert.ok(Math.abs((a.z ?? NaN) - z) < 1e-14);
  assert.ok(Math.abs(a.pValue - 0.5 * (1 - erfApprox(z / Math.SQRT2))) < 1e-7);
});

/** Independent erf (A&S 7.1.26, |error| < 1.5e-7) so the hand check does not reuse special.ts. */
function erfApprox(x: number): number {
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return y;
}

test('exactMaxN selects exact up to the threshold only', () => {
  const d = Array.from({ length: 26 }, (_, i) => (i % 3 === 0 ? -1 : 1) * (i + 1));
  assert.equal(wilcoxon(d, null).method, 'exact'); // SciPy 1.10: n ≤ 50
  assert.equal(wilcoxon(d, null, { exactMaxN: 25 }).method, 'approx');
  assert.equal(wilcoxon(d.slice(0, 25), null, { exactMaxN: 25 }).method, 'exact');
});

test('wilcoxon validates input', () => {
  assert.equal(errorCode(() => wilcoxon([1, NaN], [1, 2])), 'non-finite');
  assert.equal(errorCode(() => wilcoxon([1, 2, 3], [1, 2])), 'length-mismatch');
  assert.equal(errorCode(() => wilcoxon([], null)), 'too-few');
  assert.equal(errorCode(() => wilcoxon([0, 0, 0], null)), 'degenerate');
  assert.equal(errorCode(() => wilcoxon([0, 0, 0], null, { zeroMethod: 'pratt' })), 'degenerate');
  assert.equal(errorCode(() => wilcoxon([1, 2], null, { zeroMethod: 'drop' as never })), 'invalid-argument');
  assert.equal(errorCode(() => wilcoxon([1, 2], null, { exactMaxN: 2.5 })), 'invalid-argument');
});
