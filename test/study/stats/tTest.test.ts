import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedTTest } from '../../../src/study/stats';
import { Deviation, assertClose, errorCode, loadReference } from './reference';

const ref = loadReference();

test(`pairedTTest matches scipy.stats.ttest_rel on ${ref.ttest_rel.length} reference cases`, () => {
  const stat = new Deviation();
  const p = new Deviation();
  for (const c of ref.ttest_rel) {
    const r = pairedTTest(c.x, c.y, { alternative: c.kwargs.alternative });
    assert.equal(r.df, c.df);
    assertClose(r.statistic, c.statistic, `${c.name}: t`, stat);
    assertClose(r.pValue, c.pvalue, `${c.name}: p`, p);
    assertClose(r.meanDifference, c.mean_difference, `${c.name}: mean difference`);
    assertClose(r.standardError, c.standard_error, `${c.name}: standard error`);
    assertClose(r.cohensDz, c.cohens_dz, `${c.name}: d_z`);
  }
  console.log(stat.summary('paired t'));
  console.log(p.summary('paired t p'));
});

test('hand-computed paired t and Cohen d_z', () => {
  // d = [1, 2, 3]: mean 2, s = 1, se = 1/√3, t = 2√3, d_z = 2.
  // ν = 2: F(t) = ½ + t/(2√(2+t²)) → two-sided p = 1 - t/√(2+t²) = 1 - 2√3/√14
  const r = pairedTTest([2, 4, 6], [1, 2, 3]);
  assert.ok(Math.abs(r.statistic - 2 * Math.sqrt(3)) < 1e-14);
  assert.equal(r.df, 2);
  assert.ok(Math.abs(r.cohensDz - 2) < 1e-15);
  assert.ok(Math.abs(r.pValue - (1 - (2 * Math.sqrt(3)) / Math.sqrt(14))) < 1e-14);
  const g = pairedTTest([2, 4, 6], [1, 2, 3], { alternative: 'greater' });
  assert.ok(Math.abs(g.pValue - r.pValue / 2) < 1e-15);
});

test('pairedTTest validates input', () => {
  assert.equal(errorCode(() => pairedTTest([1, NaN], [1, 2])), 'non-finite');
  assert.equal(errorCode(() => pairedTTest([1, 2], [1])), 'length-mismatch');
  assert.equal(errorCode(() => pairedTTest([1], [2])), 'too-few');
  assert.equal(errorCode(() => pairedTTest([2, 3, 4], [1, 2, 3])), 'degenerate');
});
