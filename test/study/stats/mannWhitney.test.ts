import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mannWhitneyExactPmf, mannWhitneyU } from '../../../src/study/stats';
import { Deviation, assertClose, errorCode, loadReference } from './reference';
import { at } from '../../../src/shared/checked';

const ref = loadReference();

test(`mannWhitneyU matches scipy.stats.mannwhitneyu on ${ref.mannwhitneyu.length} reference cases`, () => {
  const stat = new Deviation();
  const p = new Deviation();
  for (const c of ref.mannwhitneyu) {
    const r = mannWhitneyU(c.x, c.y, { useContinuity: c.kwargs.use_continuity, alternative: c.kwargs.alternative, method: c.kwargs.method });
    assert.equal(r.method, c.method_used, `${c.name}: method`);
    assertClose(r.statistic, c.statistic, `${c.name}: U1`, stat);
    assertClose(r.pValue, c.pvalue, `${c.name}: p (${r.method})`, p);
    assertClose(r.commonLanguage, c.common_language, `${c.name}: CL`);
    assertClose(r.rankBiserial, 2 * c.common_language - 1, `${c.name}: rank-biserial`);
  }
  console.log(stat.summary('mann-whitney U'));
  console.log(p.summary('mann-whitney p'));
});

test('exact null pmf of U for n1 = 2, n2 = 2 (hand-enumerated 6 arrangements)', () => {
  // U ∈ {0, 1, 2, 2, 3, 4} → [1, 1, 2, 1, 1]/6
  const pmf = Array.from(mannWhitneyExactPmf(2, 2));
  [1, 1, 2, 1, 1].forEach((v, i) => assert.ok(Math.abs(at(pmf, i) - v / 6) < 1e-15));
  // pmf symmetric and independent of the order of the sample sizes
  assert.deepEqual(Array.from(mannWhitneyExactPmf(3, 5)), Array.from(mannWhitneyExactPmf(5, 3)));
});

test('hand-computed U, effect sizes and exact p', () => {
  // x = [3, 5], y = [1, 2, 4]: pairs x > y: 3>1, 3>2, 5>1, 5>2, 5>4 → U1 = 5, U2 = 1.
  const r = mannWhitneyU([3, 5], [1, 2, 4], { alternative: 'greater' });
  assert.equal(r.u1, 5);
  assert.equal(r.u2, 1);
  assert.equal(r.method, 'exact');
  // (n1, n2) = (2, 3): C(5, 2) = 10 equally likely rank sets for x; counts of U = 0..6 are
  // [1, 1, 2, 2, 2, 1, 1] (x ranks {1,2}, {1,3}, {1,4}|{2,3}, ...), so P(U ≥ 5) = 2/10.
  assert.ok(Math.abs(r.pValue - 0.2) < 1e-15);
  assert.ok(Math.abs(r.commonLanguage - 5 / 6) < 1e-15);
  assert.ok(Math.abs(r.rankBiserial - 4 / 6) < 1e-15);
  // tied values count ½: x = [1, 2], y = [2, 3] → U1 = 0 + 0.5 = 0.5
  assert.equal(mannWhitneyU([1, 2], [2, 3]).u1, 0.5);
});

test('mannWhitneyU validates input', () => {
  assert.equal(errorCode(() => mannWhitneyU([1, Infinity], [1, 2])), 'non-finite');
  assert.equal(errorCode(() => mannWhitneyU([], [1, 2])), 'too-few');
  assert.equal(errorCode(() => mannWhitneyU([1, 2], [2, 3], { method: 'exact' })), 'invalid-argument');
  assert.equal(errorCode(() => mannWhitneyU([1, 1], [1, 1])), 'degenerate');
  assert.equal(errorCode(() => mannWhitneyU([1, 2], [3], { method: 'fast' as never })), 'invalid-argument');
});
