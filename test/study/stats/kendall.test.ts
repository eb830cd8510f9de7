import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kendallTau } from '../../../src/study/stats';
import { Deviation, assertClose, errorCode, loadReference } from './reference';

const ref = loadReference();

test(`kendallTau matches scipy.stats.kendalltau on ${ref.kendalltau.length} reference cases`, () => {
  const stat = new Deviation();
  const p = new Deviation();
  for (const c of ref.kendalltau) {
    const r = kendallTau(c.x, c.y, { method: c.kwargs.method, alternative: c.kwargs.alternative });
    assertClose(r.tau, c.statistic, `${c.name}: tau`, stat);
    assertClose(r.pValue, c.pvalue, `${c.name}: p (${r.method})`, p);
  }
  console.log(stat.summary('kendall tau'));
  console.log(p.summary('kendall p'));
});

test("'auto' picks exact iff no ties and (n ≤ 33 or min(n_d, n₀-n_d) ≤ 1)", () => {
  const xs = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const shuffled = (n: number): number[] => xs(n).map((i) => (i * 7) % n); // n coprime with 7
  assert.equal(kendallTau(xs(33), shuffled(33)).method, 'exact');
  assert.equal(kendallTau(xs(34), shuffled(34).map((v, i) => v + i / 1000)).method, 'asymptotic');
  assert.equal(kendallTau(xs(60), xs(60)).method, 'exact'); // n_d = 0
  assert.equal(kendallTau([1, 1, 2, 3], [1, 2, 3, 4]).method, 'asymptotic'); // ties
});

test('hand-computed τ-b with ties', () => {
  // x = [1,1,2,3], y = [1,2,2,3]: pairs (12) tie in x; (23) tie in y; the other 4 concordant.
  // n₀ = 6, n₁ = 1, n₂ = 1, S = 4 → τ_b = 4/√(5·5) = 0.8
  const r = kendallTau([1, 1, 2, 3], [1, 2, 2, 3]);
  assert.equal(r.concordant, 4);
  assert.equal(r.discordant, 0);
  assert.equal(r.tiedPairsX, 1);
  assert.equal(r.tiedPairsY, 1);
  assert.ok(Math.abs(r.tau - 0.8) < 1e-15);
  // Var S = [4·3·13 - 2·1·9 - 2·1·9]/18 + 0·0/(9·12·2) + 2·1·1/(4·3) = 120/18 + 1/6; z = 4/√Var S
  const z = 4 / Math.sqrt(120 / 18 + 1 / 6);
  assert.ok(Math.abs((r.z ?? NaN) - z) < 1e-12);
});

test('hand-computed exact p: n = 3, one discordant pair', () => {
  // Permutations of 3 by inversions: 1, 2, 2, 1 (0..3 inversions). One inversion: τ = 1/3,
  // two-sided p = 2·P(inv ≤ 1) = 2·3/6 = 1 (capped); 'greater' p = P(n_c ≥ 2) = 3/6.
  assert.equal(kendallTau([1, 2, 3], [1, 3, 2]).pValue, 1);
  assert.ok(Math.abs(kendallTau([1, 2, 3], [1, 3, 2], { alternative: 'greater' }).pValue - 0.5) < 1e-15);
  // Perfect order n = 5: greater p = 1/5! , two-sided 2/5!
  assert.ok(Math.abs(kendallTau([1, 2, 3, 4, 5], [2, 4, 6, 8, 10], { alternative: 'greater' }).pValue - 1 / 120) < 1e-15);
  assert.ok(Math.abs(kendallTau([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]).pValue - 2 / 120) < 1e-15);
});

test('kendallTau validates input', () => {
  assert.equal(errorCode(() => kendallTau([1, 2, NaN], [1, 2, 3])), 'non-finite');
  assert.equal(errorCode(() => kendallTau([1, 2, 3], [1, 2])), 'length-mismatch');
  assert.equal(errorCode(() => kendallTau([1], [1])), 'too-few');
  assert.equal(errorCode(() => kendallTau([1, 1, 1], [1, 2, 3])), 'degenerate');
  assert.equal(errorCode(() => kendallTau([1, 1, 2], [1, 2, 3], { method: 'exact' })), 'invalid-argument');
  assert.equal(errorCode(() => kendallTau([1, 2, 3], [1, 2, 3], { alternative: 'bigger' as never })), 'invalid-argument');
});
