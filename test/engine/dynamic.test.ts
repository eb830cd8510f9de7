/**
 * Dynamic sparse training: one RigL update against an independent PyTorch reference
 * (scripts/reference/rigl_update.py → test/fixtures/engine/ref_rigl.json), the schedule by hand, SET's
 * counts, and an end-to-end run emitting mask-update events.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { DynamicSparsityConfig } from '../../src/shared/experiment';
import type { MaskUpdate } from '../../src/shared/protocol';
import { mlpShapes, plansFrom } from '../../src/engine/masks';
import { MaskedMLP } from '../../src/engine/model';
import { applyDynamicUpdate, isUpdateStep, layerUpdate, overlapWithInitial, updateFraction } from '../../src/engine/pruning/dynamic';
import { trainExperiment } from '../../src/engine/train';
import { createRng } from '../../src/shared/rng';
import { config, fixturePath, syntheticDataset, testBackend } from './helpers';

interface RefRigl {
  d: number;
  width: number;
  H: number;
  C: number;
  n: number;
  alpha: number;
  until: number;
  every: number;
  step: number;
  total: number;
  fraction: number;
  kernels: number[][];
  masks: number[][];
  x: number[];
  y: number[];
  layers: { drop: number[]; grow: number[]; mask_after: number[]; dense_grad: number[] }[];
}

const ref = JSON.parse(fs.readFileSync(fixturePath('ref_rigl.json'), 'utf8')) as RefRigl;

describe('dynamic sparse training', () => {
  before(async () => {
    await testBackend();
  });

  const rigl: DynamicSparsityConfig = { method: 'rigl', every: ref.every, fraction: ref.alpha, schedule: 'cosine', until: ref.until };

  it('schedule: cosine and constant fractions, update steps (by hand)', () => {
    // t = 20 of T = 100, until 0.75: 0.3/2·(1 + cos(π·20/75)).
    assert.ok(Math.abs(updateFraction(20, 100, rigl) - 0.15 * (1 + Math.cos((Math.PI * 20) / 75))) < 1e-15);
    assert.equal(updateFraction(20, 100, { ...rigl, schedule: 'constant' }), 0.3);
    assert.ok(Math.abs(updateFraction(75, 100, rigl)) < 1e-15);
    assert.deepEqual([0, 5, 10, 20, 70, 75, 80].filter((t) => isUpdateStep(t, 100, rigl)), [10, 20, 70]);
    assert.equal(overlapWithInitial([1, 1, 0, 1], [1, 0, 1, 1]), 2 / 3);
  });

  it('one RigL update matches the PyTorch reference (drop, grow, regrown, dense gradient)', () => {
    const shapes = mlpShapes(ref.d, ref.width, ref.H, ref.C);
    const plans = plansFrom(shapes, ref.kernels.map((k) => Float32Array.from(k)), shapes.map(() => 0), ref.masks.map((m) => Float32Array.from(m)));
    const net = new MaskedMLP({ role: 'sparse', inputs: ref.d, classes: ref.C, width: ref.width, hiddenLayers: ref.H, activation: 'relu', batchNorm: false, skip: false, plans });
    const labels = tf.tensor1d(ref.y, 'int32');
    const batch = { x: tf.tensor2d(ref.x, [ref.n, ref.d]), y: tf.cast(tf.oneHot(labels, ref.C), 'float32') as tf.Tensor2D };
    try {
      assert.ok(Math.abs(updateFraction(ref.step, ref.total, rigl) - ref.fraction) < 1e-15);
      ref.layers.forEach((want, l) => {
        const g = net.denseKernelGradient(l, batch);
        const scale = Math.max(...want.dense_grad.map(Math.abs));
        want.dense_grad.forEach((v, i) => assert.ok(Math.abs(g[i] - v) <= 1e-5 * Math.max(Math.abs(v), 0.1 * scale), `layer ${l} grad ${i}: ${g[i]} vs ${v}`));
        const u = layerUpdate(net.maskArray(l), net.kernelArray(l), ref.fraction, g, createRng(0));
        assert.deepEqual(Array.from(u.drop), want.drop, `layer ${l} drop`);
        assert.deepEqual(Array.from(u.grow), want.grow, `layer ${l} grow`);
      });
      const initial = ref.masks.map((m) => Float32Array.from(m));
      const res = applyDynamicUpdate(net, batch, rigl, ref.step, ref.total, createRng(0), initial);
      ref.layers.forEach((want, l) => {
        assert.deepEqual(Array.from(net.maskArray(l)), want.mask_after, `layer ${l} mask after`);
        const w = net.kernelArray(l);
        // Grown weights (including the regrown) start at exactly 0; pruned stay 0.
        for (const i of want.grow) assert.ok(w[i] === 0, `layer ${l} grown ${i} is ${w[i]}`); // −0 counts as 0 (updateMask multiplies)
        const regrown = want.grow.filter((i) => want.drop.includes(i)).length;
        const active = ref.masks[l].reduce((a, v) => a + v, 0);
        assert.deepEqual(res.layers[l], {
          layer: l,
          dropped: want.drop.length,
          grown: want.grow.length,
          regrown,
          active,
          overlap: (active - want.drop.length + regrown) / active,
        });
      });
      assert.equal(res.method, 'rigl');
    } finally {
      net.dispose();
      labels.dispose();
      batch.x.dispose();
      batch.y.dispose();
    }
  });

  it('SET keeps counts, grows only among positions inactive after the drop, and is seeded', () => {
    const mask = Float32Array.from([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    const kernel = Float32Array.from([0.5, -0.1, 0.3, 0.2, 0, 0, 0, 0, 0, 0]);
    const a = layerUpdate(mask, kernel, 0.5, undefined, createRng(3));
    assert.deepEqual(Array.from(a.drop), [1, 3]); // the two smallest |w|
    assert.equal(a.grow.length, 2);
    for (const i of a.grow) assert.ok(i === 1 || i === 3 || i >= 4);
    assert.deepEqual(layerUpdate(mask, kernel, 0.5, undefined, createRng(3)), a);
    assert.deepEqual(layerUpdate(mask, kernel, 0.1, undefined, createRng(3)), { drop: new Int32Array(0), grow: new Int32Array(0) });
  });

  for (const method of ['set', 'rigl'] as const) {
    it(`${method}: a run emits mask updates at every \`every\` steps before \`until\`, counts constant, EGF continues`, async () => {
      const data = syntheticDataset(12, 3, 96, 24, 24);
      // 3 steps per epoch × 4 epochs = 12 steps; every 2, until 0.75 → steps 2, 4, 6, 8.
      const cfg = config({
        sparsity: { method: 'random', denseWidth: 8, pair: true, init: 'dense-fan-in', dynamic: { method, every: 2, fraction: 0.5, schedule: 'constant', until: 0.75 } },
        training: { epochs: 4 },
      });
      const updates: MaskUpdate[] = [];
      const egf: number[] = [];
      let counts: number[] = [];
      const result = await trainExperiment(cfg, data, {
        onReady: (nets) => {
          counts = nets[0].layers.map((l) => l.active);
        },
        onStep: (s) => {
          if (s.net === 'sparse') egf.push(s.egf2);
        },
        onEpoch: () => undefined,
        onFlowPoint: () => undefined,
        onAlert: () => undefined,
        shouldStop: () => false,
        onMaskUpdate: (u) => updates.push(u),
      });
      assert.deepEqual(updates.map((u) => [u.net, u.step]), [['sparse', 2], ['sparse', 4], ['sparse', 6], ['sparse', 8]]);
      for (const u of updates) {
        assert.equal(u.method, method);
        assert.deepEqual(u.layers.map((l) => l.active), counts);
        u.layers.forEach((l) => {
          assert.equal(l.dropped, Math.floor(0.5 * counts[l.layer]));
          assert.equal(l.grown, l.dropped);
          assert.ok(l.overlap >= 0 && l.overlap <= 1);
        });
      }
      // The masks moved away from the initial ones.
      assert.ok(updates[3].layers.some((l) => l.overlap < 1));
      assert.equal(egf.length, 12);
      assert.ok(egf.every((v) => Number.isFinite(v) && v > 0));
      assert.deepEqual(result.nets.find((n) => n.net === 'sparse')?.layers.map((l) => l.active), counts);
    });
  }
});
