/**
 * Per-layer norm reductions: the gathered masked norms of sparse layers (MaskedMLP.activeIndex) and
 * sumAll agree with float64 sums over the full gradient; the gather is used only where it pays.
 * Runs on GRADFLOW_TEST_BACKEND (cpu by default; wasm exercises the pooled sumAll).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../../src/shared/rng';
import { layerNormTensor, normPair, sumAll } from '../../src/engine/flow';
import { GATHER_MAX_DENSITY, MaskedMLP } from '../../src/engine/model';
import { randomMask } from '../../src/engine/masks';
import { assertClose, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

before(async () => {
  await testBackend();
});

/** A 1-hidden-layer net 40-64-10 whose layers have the given active fractions (1 = unmasked). */
function sparseNet(densities: number[]): MaskedMLP {
  const rng = createRng(7);
  const shapes = [
    { fanIn: 40, fanOut: 64 },
    { fanIn: 64, fanOut: 10 },
  ];
  const plans = shapes.map((shape, l) => {
    const n = shape.fanIn * shape.fanOut;
    const kernel = new Float32Array(n);
    for (let i = 0; i < n; i++) kernel[i] = rng.normal() * 0.1;
    if (at(densities, l) >= 1) return { shape, kernel, active: n, std: 0.1 };
    const k = Math.round(at(densities, l) * n);
    const mask = randomMask(n, k, rng);
    for (let i = 0; i < n; i++) if (mask[i] === 0) kernel[i] = 0;
    return { shape, kernel, mask, active: k, std: 0.1 };
  });
  return new MaskedMLP({ role: 'sparse', inputs: 40, classes: 10, width: 64, hiddenLayers: 1, activation: 'relu', batchNorm: false, skip: false, plans });
}

describe('per-layer norm reductions', () => {
  it('gathers only masked layers at or below GATHER_MAX_DENSITY', () => {
    const net = sparseNet([0.05, 0.5]);
    try {
      assert.ok(GATHER_MAX_DENSITY < 0.5);
      assert.ok(net.activeIndex[0], 'sparse layer has an active index');
      assert.equal(net.activeIndex[1], undefined);
      // k = 128 active entries of 2560, one row of 128 (no padding needed).
      assert.deepEqual(net.activeIndex[0]?.idx.shape, [1, 128, 2]);
    } finally {
      net.dispose();
    }
    const dense = sparseNet([1, 1]);
    try {
      assert.deepEqual(dense.activeIndex, [undefined, undefined]);
    } finally {
      dense.dispose();
    }
  });

  it('gathered masked norms equal float64 norms of raw ⊙ m (padding entries are pruned zeros)', () => {
    for (const density of [0.01, 0.05, 0.12]) {
      const net = sparseNet([density, 0.1]);
      try {
        const rng = createRng(11);
        for (let l = 0; l < 2; l++) {
          const { fanIn, fanOut } = at(net.layerInfo, l);
          const n = fanIn * fanOut;
          const g = new Float32Array(n);
          for (let i = 0; i < n; i++) g[i] = rng.normal();
          const [got, gotDense, mask] = tf.tidy(() => {
            const raw = tf.tensor2d(g, [fanOut, fanIn]); // stored layout
            const masked = net.applyMask(l, raw);
            return [
              layerNormTensor(raw, masked, net.onesCols[l], net.activeIndex[l]).dataSync(),
              layerNormTensor(raw, masked, net.onesCols[l]).dataSync(),
              (net.masks[l] as tf.Tensor).dataSync(),
            ];
          });
          const r = normPair(g);
          const m = normPair(g.map((v, i) => v * at(mask, i)));
          const want = [r.l1, r.l2 * r.l2, m.l1, m.l2 * m.l2];
          assertClose(got, want, `layer ${l} density ${density}`, 1e-5, 1e-6);
          assertClose(got, gotDense, `layer ${l} density ${density} vs dense reduction`, 1e-5, 1e-6);
        }
      } finally {
        net.dispose();
      }
    }
  });

  it('sumAll: sum of a matrix, non-finite values propagate', () => {
    const rng = createRng(3);
    const rows = 37;
    const cols = 53;
    const a = new Float32Array(rows * cols);
    for (let i = 0; i < a.length; i++) a[i] = rng.normal();
    const ones = tf.ones([cols, 1]) as tf.Tensor2D;
    try {
      const s = tf.tidy(() => at(sumAll(tf.tensor2d(a, [rows, cols]), ones).dataSync(), 0));
      assertClose([s], [a.reduce((x, v) => x + v, 0)], 'sum', 1e-5, 1e-5);
      a[5] = Infinity;
      assert.equal(tf.tidy(() => at(sumAll(tf.tensor2d(a, [rows, cols]), ones).dataSync(), 0)), Infinity);
      a[6] = NaN;
      assert.ok(Number.isNaN(tf.tidy(() => at(sumAll(tf.tensor2d(a, [rows, cols]), ones).dataSync(), 0))));
      const big = new Float32Array(rows * cols).fill(3e38);
      assert.equal(tf.tidy(() => sumAll(tf.tensor2d(big, [rows, cols]), ones).dataSync()[0]), Infinity, 'an overflowing sum is Inf');
    } finally {
      ones.dispose();
    }
  });
});
