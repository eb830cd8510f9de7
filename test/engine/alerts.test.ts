import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerStep } from '../../src/shared/protocol';
import { AlertTracker, explosionReason, growthRatio, isCollapsed, lowRunLength, maskAlerts } from '../../src/engine/alerts';
import { at } from '../../src/shared/checked';

const ls = (l2: number): LayerStep => ({ active: 1, raw: { l1: l2, l2 }, masked: { l1: l2, l2 } });
const rules = { explosion: { maxNorm: 100, growthFactor: 10, window: 3 }, collapse: { minNorm: 1e-3, steps: 3 } };

describe('alert rules (pure)', () => {
  it('growth ratio over a window', () => {
    assert.equal(growthRatio([1, 2, 4, 8], 3), 8);
    assert.equal(growthRatio([1, 2, 4], 3), undefined); // too short
    assert.equal(growthRatio([0, 2, 4, 8], 3), undefined); // zero base
  });

  it('explosion: rising above max_norm, or growth beyond the factor to beyond factor × the early norm', () => {
    assert.deepEqual(explosionReason([1, 2, 150], rules.explosion), { value: 150, why: 'max' });
    // 11/1 > 10 over the window, and 11 > 10 × early norm 1.
    assert.deepEqual(explosionReason([1, 1, 1, 11], rules.explosion, 1), { value: 11, why: 'growth' });
    assert.equal(explosionReason([1, 1, 1, 10], rules.explosion, 1), undefined); // exactly 10× is not "more than"
    assert.equal(explosionReason([5, 50, 1, 40], rules.explosion, 1), undefined); // 40/5 = 8
    // Growth without a high level: 11× over the window, but 11 < 10 × early norm 2.
    assert.equal(explosionReason([1, 1, 1, 11], rules.explosion, 2), undefined);
    // Growth with no early norm known yet: not enough to call it an explosion.
    assert.equal(explosionReason([1, 1, 1, 11], rules.explosion), undefined);
    // Above max_norm but falling over the window (300 → 150): not an explosion.
    assert.equal(explosionReason([300, 250, 200, 150], rules.explosion, 1), undefined);
  });

  it('a falling norm is never an explosion: 6.7e-3 → 3.2e-6 → 6.2e-7 (issue 11)', () => {
    // The defaults: max_norm 1000, growth_factor 100, window 10.
    const defaults = { maxNorm: 1000, growthFactor: 100, window: 10 };
    for (let n = 1; n <= 3; n++) assert.equal(explosionReason([6.7e-3, 3.2e-6, 6.2e-7].slice(0, n), defaults, 6.7e-3), undefined);
    // With a short window the old rule saw growth 6.2e-7 / 3.2e-6 < 1 and nothing, but a recovery
    // of the collapsed norm by 1000× (6.2e-7 → 6.2e-4) is still 10× below the early norm 6.7e-3.
    const short = { maxNorm: 1000, growthFactor: 100, window: 1 };
    assert.equal(explosionReason([6.7e-3, 3.2e-6, 6.2e-7, 6.2e-4], short, 6.7e-3), undefined);
    // The tracker on that sequence (every layer): no explosion, and a collapse once below min_norm long enough.
    const t = new AlertTracker('sparse', { explosion: short, collapse: { minNorm: 1e-5, steps: 2 } }, ['dense1']);
    const kinds = [6.7e-3, 3.2e-6, 6.2e-7, 6.2e-4].flatMap((v, i) => t.observe(i + 1, [ls(v)]).map((a) => `${a.kind}@${a.step}`));
    assert.deepEqual(kinds, ['collapse@3']);
  });

  it('the tracker compares growth with the layer\'s own early norms', () => {
    const r = { explosion: { maxNorm: 1e6, growthFactor: 10, window: 2 }, collapse: { minNorm: 0, steps: 0 } };
    // Early norms 1, 1 (median 1); 0.05 → 20 is 400× over 2 steps and 20 > 10 × 1: explosion at step 5.
    const t = new AlertTracker('dense', r, ['dense1']);
    const got = [1, 1, 0.05, 2, 20].flatMap((v, i) => t.observe(i + 1, [ls(v)]).map((a) => `${a.kind}@${a.step}`));
    assert.deepEqual(got, ['explosion@5']);
    // The same growth from a tiny level back to below 10× the early norm: nothing.
    const quiet = new AlertTracker('dense', r, ['dense1']);
    const none = [1, 1, 0.001, 0.01, 5].flatMap((v, i) => quiet.observe(i + 1, [ls(v)]).map((a) => a.kind));
    assert.deepEqual(none, []);
  });

  it('collapse: below min_norm for `steps` consecutive observations', () => {
    assert.equal(lowRunLength([1, 1e-4, 1e-5, 1e-6], 1e-3), 3);
    assert.equal(lowRunLength([1e-4, 1, 1e-4], 1e-3), 1);
    assert.equal(isCollapsed([1, 1e-4, 1e-5, 1e-6], rules.collapse), true);
    assert.equal(isCollapsed([1e-4, 1e-4, 1, 1e-4, 1e-4], rules.collapse), false);
  });

  it('tracker raises each (kind, layer) once', () => {
    const t = new AlertTracker('sparse', rules, ['dense1', 'output']);
    const seq: [number, number][] = [[1, 1], [1, 150], [1, 200], [1e-4, 300], [1e-4, 1], [1e-4, 1], [1e-5, 1]];
    const got: { step: number; kind: string; layer: number }[] = [];
    seq.forEach(([a, b], i) => t.observe(i + 1, [ls(a), ls(b)]).forEach((x) => got.push({ step: x.step, kind: x.kind, layer: x.layer })));
    assert.deepEqual(got, [
      { step: 2, kind: 'explosion', layer: 1 }, // 150 > 100, raised once although 200 and 300 follow
      { step: 6, kind: 'collapse', layer: 0 }, // 1e-4 at steps 4, 5, 6
    ]);
    const nan1 = t.nonFinite(8, 1, NaN);
    assert.ok(nan1);
    assert.equal(nan1.kind, 'nan');
    assert.equal(nan1.layer, 1);
    assert.equal(nan1.value, 'NaN');
    assert.equal(nan1.severity, 'error');
    assert.match(nan1.message, /output/);
    assert.equal(t.nonFinite(9, 1, NaN), undefined);
    const lossNan = t.nonFinite(9, 'loss', Infinity);
    assert.ok(lossNan);
    assert.equal(lossNan.layer, -1);
    assert.equal(lossNan.value, 'Infinity');
    const integ = t.integrity(3, 0, 0.5);
    assert.ok(integ);
    assert.equal(integ.kind, 'mask-integrity');
    assert.equal(integ.severity, 'error');
    assert.equal(t.integrity(4, 0, 0.5), undefined);
  });

  it('mask-time alerts: error for a broken path, warnings for dead units', () => {
    const layers = [
      { name: 'dense1', fanIn: 2, fanOut: 2, active: 2, total: 4, density: 0.5, deadUnits: 1 },
      { name: 'output', fanIn: 2, fanOut: 1, active: 1, total: 2, density: 0.5, deadUnits: 0 },
    ];
    const a = maskAlerts('sparse', layers, { reachable: [1, 0], brokenLayer: 1, noOutgoing: [0, 0] });
    assert.deepEqual(a.map((x) => [x.kind, x.layer, x.severity, x.step]), [
      ['collapse-at-mask', 1, 'error', 0],
      ['collapse-at-mask', 0, 'warning', 0],
    ]);
    assert.deepEqual(maskAlerts('dense', [{ ...at(layers, 1) }], { reachable: [1], brokenLayer: -1, noOutgoing: [0] }), []);
  });
});
