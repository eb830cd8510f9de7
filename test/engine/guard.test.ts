/**
 * The EGF collapse guard (src/engine/pruning/guard.ts): never changes the total count, never empties
 * a layer, does nothing when no layer is at risk, and repairs the collapse magnitude/global makes.
 * Gradient norms come from the real masked net (measureFlowLayers), not from a stand-in.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { drawKernels, mlpShapes, plansFrom, scsdcActiveCounts, type LayerMaskPlan } from '../../src/engine/masks';
import { guardPlans } from '../../src/engine/pruning';
import { egfGuard, layersAtRisk } from '../../src/engine/pruning/guard';
import { buildNets, makeBatch } from '../../src/engine/train';
import type { Batch } from '../../src/engine/step';
import { createRng, permutation } from '../../src/shared/rng';
import { config, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

const count = (m: ArrayLike<number>): number => Array.from(m).filter((v) => v !== 0).length;

function batches(n: number): Batch[] {
  const data = syntheticDataset(12, 3, 96, 24, 24);
  const perm = permutation(data.train.n, createRng(5));
  return Array.from({ length: n }, (_, b) => makeBatch(data.train, 12, 3, perm, b * 32, 32, undefined, true));
}

function dispose(bs: Batch[]): void {
  for (const b of bs) {
    b.x.dispose();
    b.xT?.dispose();
    b.y.dispose();
    b.labels.dispose();
  }
}

const spec = { inputs: 12, classes: 3, width: 16, hiddenLayers: 3, activation: 'relu' as const, batchNorm: false, skip: false };

describe('EGF collapse guard', () => {
  before(async () => {
    await testBackend();
  });

  it('does nothing when no layer is at risk (same masks, same arrays)', () => {
    const shapes = mlpShapes(12, 16, 3, 3);
    const { kernels, stds } = drawKernels({ shapes, method: 'random', init: 'dense-fan-in', gain: Math.SQRT2, rng: createRng(1) });
    const masks = shapes.map((s) => new Float32Array(s.fanIn * s.fanOut).map((_v, i) => (i % 2 === 0 ? 1 : 0)));
    const plans = plansFrom(shapes, kernels.map((k) => k.slice()), stds, masks);
    const bs = batches(2);
    try {
      const r = guardPlans(spec, plans, kernels, kernels.map((k) => k.map(Math.abs)), bs);
      assert.equal(r.result.changed, false);
      assert.deepEqual(r.result.atRiskBefore, []);
      assert.equal(r.plans, plans);
      assert.ok(r.result.sharesBefore.every((v) => v >= 0.1 / 4));
    } finally {
      dispose(bs);
    }
  });

  it('never changes the total count and never empties a layer (40 random extreme allocations)', () => {
    const shapes = mlpShapes(12, 16, 3, 3);
    const bs = batches(1);
    let repaired = 0;
    try {
      for (let seed = 0; seed < 40; seed++) {
        const rng = createRng(100 + seed);
        const { kernels, stds } = drawKernels({ shapes, method: 'random', init: 'dense-fan-in', gain: Math.SQRT2, rng });
        // Random per-layer counts, often 0 or 1 in some layer; total 2..60.
        const counts = shapes.map((s) => (rng.next() < 0.3 ? rng.int(2) : rng.int(Math.min(20, s.fanIn * s.fanOut))));
        if (counts.reduce((a, b) => a + b, 0) < 4) counts[1]! += 4;
        const masks = shapes.map((s, l) => {
          const m = new Float32Array(s.fanIn * s.fanOut);
          const perm = permutation(m.length, rng);
          for (let i = 0; i < at(counts, l); i++) m[at(perm, i)] = 1;
          return m;
        });
        const plans: LayerMaskPlan[] = plansFrom(shapes, kernels.map((k) => k.slice()), stds, masks);
        const ranking = kernels.map((k) => k.map(Math.abs));
        const r = guardPlans(spec, plans, kernels, ranking, bs);
        const after = r.plans.map((p) => count(p.mask ?? []));
        assert.equal(after.reduce((a, b) => a + b, 0), counts.reduce((a, b) => a + b, 0), `seed ${seed}: total`);
        counts.forEach((c, l) => assert.ok(c === 0 || at(after, l) > 0, `seed ${seed}: layer ${l} emptied`));
        if (r.result.changed) {
          repaired++;
          assert.ok(after.every((c) => c > 0), `seed ${seed}: a layer emptied: ${after.join(' ')} (from ${counts.join(' ')})`);
          // A layer that started non-empty lost at most half its weights in any move.
          for (const m of r.result.moves) assert.ok(m.count >= 1);
        }
        // Kernels of the new plans are the full kernels at the active positions.
        r.plans.forEach((p, l) => p.mask?.forEach((v, i) => assert.equal(p.kernel[i], v !== 0 ? at(kernels, l)[i] : 0)));
      }
    } finally {
      dispose(bs);
    }
    assert.ok(repaired >= 10, `${repaired} of 40 allocations needed the guard`);
  });

  it('repairs magnitude/global, which empties the first layer of an SC-SDC net (dense-fan-in init)', () => {
    const base = { method: 'magnitude' as const, denseWidth: 2, pair: false, init: 'dense-fan-in' as const, scope: 'global' as const };
    const cfg = config({ model: { hiddenLayers: 3, width: 16, activation: 'relu', batchNorm: false, skip: false }, sparsity: base });
    const bs = batches(2);
    const notes: string[] = [];
    try {
      const [plain] = buildNets(cfg, 12, 3, createRng(9), {}, bs);
      assert.ok(plain !== undefined);
      const [guarded] = buildNets({ ...cfg, sparsity: { ...base, guard: 'egf' } }, 12, 3, createRng(9), {}, bs, (m) => notes.push(m));
      assert.ok(guarded !== undefined);
      const a = plain.layerInfo.map((l) => l.active);
      const b = guarded.layerInfo.map((l) => l.active);
      plain.dispose();
      guarded.dispose();
      assert.equal(a[0], 0, `without the guard the first layer is empty: ${a.join(' ')}`);
      assert.ok(b.every((c) => c > 0), `with the guard no layer is empty: ${b.join(' ')}`);
      assert.equal(b.reduce((x, y) => x + y, 0), scsdcActiveCounts(12, 2, 3, 3).reduce((x, y) => x + y, 0));
      assert.equal(notes.length, 1);
      assert.match(at(notes, 0), /at risk dense1 \(empty\)/);
    } finally {
      dispose(bs);
      tf.disposeVariables();
    }
  });

  it('layersAtRisk: empty, cut off, low share (by hand)', () => {
    const shapes = [{ fanIn: 2, fanOut: 2 }, { fanIn: 2, fanOut: 2 }, { fanIn: 2, fanOut: 1 }];
    const masks = [Float32Array.from([1, 0, 0, 0]), Float32Array.from([0, 1, 0, 0]), Float32Array.from([1, 1])];
    // Layer 1 keeps only 0→1 (row 0, col 1); layer 0 feeds unit 0 only: fine. Shares 0.5/0.49/0.01.
    assert.deepEqual(layersAtRisk(shapes, masks, [false, false, false], [0.5, 0.49, 0.01], 0.1), [{ layer: 2, reason: 'low-share' }]);
    const cut = [Float32Array.from([0, 1, 0, 0]), Float32Array.from([1, 0, 0, 0]), Float32Array.from([1, 1])];
    assert.deepEqual(layersAtRisk(shapes, cut, [false, false, false], [0, 0, 0], 0.1), [{ layer: 1, reason: 'no-path' }]);
    // Paths intact but no flow at all (shares 0): the layer with the fewest active weights per output unit.
    const thin = [Float32Array.from([1, 1, 1, 1]), Float32Array.from([1, 0, 0, 0]), Float32Array.from([1, 1])];
    assert.deepEqual(layersAtRisk(shapes, thin, [false, false, false], [0, 0, 0], 0.1), [{ layer: 1, reason: 'no-flow' }]);
    const empty = [new Float32Array(4), Float32Array.from([1, 0, 0, 0]), Float32Array.from([1, 1])];
    assert.equal(at(layersAtRisk(shapes, empty, [false, false, false], [0, 0.5, 0.5], 0.1), 0).reason, 'empty');
    // egfGuard with a norms function of the masks' counts (a hand-checkable stand-in for the flow).
    const r = egfGuard({ shapes, masks: empty, ranking: shapes.map((s) => new Float64Array(s.fanIn * s.fanOut).map((_v, i) => -i)), skips: [false, false, false], norms: (ms) => ms.map(count) });
    assert.equal(r.masks.reduce((a, m) => a + count(m), 0), 3);
    assert.ok(r.masks.every((m) => count(m) > 0));
  });
});
