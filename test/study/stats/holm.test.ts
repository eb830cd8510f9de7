import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holm } from '../../../src/study/stats';
import { assertClose, errorCode, loadReference } from './reference';
import { at } from '../../../src/shared/checked';

const close = (a: readonly number[], b: readonly number[]): void => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - at(b, i)) < 1e-15, `index ${i}: ${v} vs ${b[i]}`));
};

test('Holm adjusted p-values, hand-computed', () => {
  // p = [0.01, 0.04, 0.03, 0.005], m = 4. Sorted: 0.005, 0.01, 0.03, 0.04
  // raw: 4·0.005 = 0.02, 3·0.01 = 0.03, 2·0.03 = 0.06, 1·0.04 = 0.04 → running max 0.02, 0.03, 0.06, 0.06
  const r = holm([0.01, 0.04, 0.03, 0.005]);
  close(r.adjusted, [0.03, 0.06, 0.06, 0.02]);
  // α = 0.05: 0.005 ≤ 0.0125 ✓, 0.01 ≤ 0.01667 ✓, 0.03 ≤ 0.025 ✗ → stop
  assert.deepEqual(r.reject, [true, false, false, true]);
});

test('Holm caps at 1 and keeps monotonicity', () => {
  // m = 3, sorted 0.2, 0.3, 0.6: raw 3·0.2, 2·0.3, 1·0.6 = 0.6 each → all 0.6
  close(holm([0.3, 0.2, 0.6]).adjusted, [0.6, 0.6, 0.6]);
  // m = 2, sorted 0.4, 0.9: raw 0.8, 0.9
  close(holm([0.9, 0.4]).adjusted, [0.9, 0.8]);
  // m = 3, sorted 0.01, 0.5, 0.5: raw 0.03, 1.0, 0.5 → running max 0.03, 1, 1 (capped at 1)
  close(holm([0.5, 0.5, 0.01]).adjusted, [1, 1, 0.03]);
  // running maximum: sorted 0.001, 0.002, 0.0021 with m = 3 → 0.003, 0.004, 0.004 (0.0021·1 < 0.004)
  close(holm([0.0021, 0.001, 0.002]).adjusted, [0.004, 0.003, 0.004]);
});

test('Holm with a single p-value, ties, and a custom alpha', () => {
  close(holm([0.2]).adjusted, [0.2]);
  close(holm([0.01, 0.01, 0.01]).adjusted, [0.03, 0.03, 0.03]);
  const r = holm([0.01, 0.02, 0.2], 0.1); // 0.01 ≤ 0.0333 ✓, 0.02 ≤ 0.05 ✓, 0.2 ≤ 0.1 ✗
  assert.deepEqual(r.reject, [true, true, false]);
  close(r.adjusted, [0.03, 0.04, 0.2]);
});

test('holm validates input', () => {
  assert.equal(errorCode(() => holm([])), 'too-few');
  assert.equal(errorCode(() => holm([0.1, NaN])), 'non-finite');
  assert.equal(errorCode(() => holm([0.1, 1.5])), 'invalid-argument');
  assert.equal(errorCode(() => holm([0.1], 0)), 'invalid-argument');
});

test('holm matches statsmodels multipletests(method="holm") on the reference cases', () => {
  const ref = loadReference();
  assert.ok(ref.holm.length > 0);
  for (const c of ref.holm) {
    const r = holm(c.pvalues, c.alpha);
    c.adjusted.forEach((v, i) => assertClose(at(r.adjusted, i), v, `${c.name}: adjusted[${i}]`));
    assert.deepEqual(r.reject, c.reject, `${c.name}: reject`);
  }
});
