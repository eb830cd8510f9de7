import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerStep } from '../../src/shared/protocol';
import { AlertTracker, explosionReason, growthRatio, isCollapsed, lowRunLength, maskAlerts } from '../../src/engine/alerts';

const ls = (l2: number): LayerStep => ({ active: 1, raw: { l1: l2, l2 }, masked: { l1: l2, l2 } });
const rules = { explosion: { maxNorm: 100, growthFactor: 10, window: 3 }, collapse: { minNorm: 1e-3, steps: 3 } };

describe('alert rules (pure)', () => {
  it('growth ratio over a window', () => {
    assert.equal(growthRatio([1, 2, 4, 8], 3), 8);
    assert.equal(growthRatio([1, 2, 4], 3), undefined); // too short
    assert.equal(growthRatio([0, 2, 4, 8], 3), undefined); // zero base
  });

  it('explosion: above max_norm or growth beyond the factor', () => {
    assert.deepEqual(explosionReason([1, 2, 150], rules.explosion), { value: 150, why: 'max' });
    assert.deepEqual(explosionReason([1, 1, 1, 11], rules.explosion), { value: 11, why: 'growth' });
    assert.equal(explosionReason([1, 1, 1, 10], rules.explosion), undefined); // exactly 10× is not "more than"
    assert.equal(explosionReason([5, 50, 1, 40], rules.explosion), undefined); // 40/5 = 8
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
    assert.deepEqual(maskAlerts('dense', [{ ...layers[1] }], { reachable: [1], brokenLayer: -1, noOutgoing: [0] }), []);
  });
});
