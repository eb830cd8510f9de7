/**
 * Each activation's value and derivative at chosen points, and the learnable parameters' gradients,
 * against values worked out by hand (formulas of method.md §6; e ≈ 2.718281828).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../src/shared/experiment';
import { createActivation } from '../../src/engine/activations';
import { assertClose, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

before(async () => {
  await testBackend();
});

interface Expect {
  z: number[];
  f: number[];
  /** df/dz with upstream gradient 1. */
  df: number[];
  /** Per parameter (in layer order), gradient summed over the batch, upstream 1. */
  params?: Record<string, number[]>;
}

/**
 * Evaluate with a batch of TWO identical examples: parameter gradients must be twice the per-example
 * value. Both layouts: batch-major z = [2, units] and unit-major z = [units, 2] (the model's).
 */
function check(kind: Activation, e: Expect): void {
  checkLayout(kind, e, 'batch-major');
  checkLayout(kind, e, 'unit-major');
}

function checkLayout(kind: Activation, e: Expect, layout: 'batch-major' | 'unit-major'): void {
  const units = e.z.length;
  const layer = createActivation(kind, units, layout);
  try {
    const out = tf.tidy(() => {
      const rows = tf.tensor2d([...e.z, ...e.z], [2, units]);
      const z = layout === 'batch-major' ? rows : (tf.transpose(rows) as tf.Tensor2D);
      const a = layer.forward(z);
      const b = layer.backward(z, a, tf.onesLike(a) as tf.Tensor2D);
      // Read back batch-major so the expectations are layout-independent.
      const bm = (t: tf.Tensor): number[] => Array.from((layout === 'batch-major' ? t : tf.transpose(t)).dataSync());
      return { a: bm(a), dz: bm(b.dz), dp: b.dParams.map((t) => Array.from(t.dataSync())) };
    });
    assertClose(out.a, [...e.f, ...e.f], `${kind} value`, 1e-5, 1e-6);
    assertClose(out.dz, [...e.df, ...e.df], `${kind} derivative`, 1e-5, 1e-6);
    const names = layer.params.map((p) => p.name);
    assert.deepEqual(names, Object.keys(e.params ?? {}));
    names.forEach((n, i) => assertClose(at(out.dp, i), (e.params as Record<string, number[]>)[n]!.map((v) => 2 * v), `${kind} d${n}`, 1e-5, 1e-6));
  } finally {
    layer.dispose();
  }
}

describe('activations: value and gradient at chosen points', () => {
  it('relu', () => check('relu', { z: [-1, 0, 0.3, 2], f: [0, 0, 0.3, 2], df: [0, 0, 1, 1] }));

  it('sigmoid', () =>
    // σ(0) = 0.5, σ'(0) = 0.25; σ(2) = 1/(1+e^-2) = 0.880797078, σ' = σ(1−σ) = 0.104993585;
    // σ(−2) = 0.119202922, σ' = 0.104993585.
    check('sigmoid', { z: [0, 2, -2], f: [0.5, 0.880797078, 0.119202922], df: [0.25, 0.104993585, 0.104993585] }));

  it('elu (α = 1)', () =>
    // f(−1) = e^-1 − 1 = −0.632120559, f'(−1) = e^-1 = 0.367879441; f(−2) = e^-2 − 1 = −0.864664717, f' = 0.135335283.
    check('elu', { z: [-1, -2, 1.5], f: [-0.632120559, -0.864664717, 1.5], df: [0.367879441, 0.135335283, 1] }));

  it('swish', () =>
    // f(1) = σ(1) = 0.731058579; f'(1) = σ + σ(1−σ) = 0.731058579 + 0.196611933 = 0.927670512.
    // f(−1) = −σ(−1) = −0.268941421; f'(−1) = σ(−1) − σ(−1)σ(1) = 0.268941421 − 0.196611933 = 0.072329488.
    // f(0) = 0, f'(0) = 0.5.
    check('swish', { z: [1, -1, 0], f: [0.731058579, -0.268941421, 0], df: [0.927670512, 0.072329488, 0.5] }));

  it('prelu (slope 0.25, learnable)', () =>
    // f(−2) = −0.5, f' = 0.25, df/dα = z = −2; f(3) = 3, f' = 1, df/dα = 0.
    check('prelu', { z: [-2, 3, -0.4], f: [-0.5, 3, -0.1], df: [0.25, 1, 0.25], params: { alpha: [-2, 0, -0.4] } }));

  it('srelu (t_l=−0.4, a_l=0.4, t_r=0.4, a_r=2), incl. parameter gradients', () =>
    // z = −1 (left): f = t_l + a_l(z − t_l) = −0.4 + 0.4·(−0.6) = −0.64; f' = a_l = 0.4;
    //   ∂f/∂t_l = 1 − a_l = 0.6; ∂f/∂a_l = z − t_l = −0.6.
    // z = 0 (middle): f = 0, f' = 1, no parameter gradient.
    // z = 1 (right): f = t_r + a_r(z − t_r) = 0.4 + 2·0.6 = 1.6; f' = 2; ∂f/∂t_r = 1 − a_r = −1; ∂f/∂a_r = z − t_r = 0.6.
    check('srelu', {
      z: [-1, 0, 1],
      f: [-0.64, 0, 1.6],
      df: [0.4, 1, 2],
      params: { tl: [0.6, 0, 0], al: [-0.6, 0, 0], tr: [0, 0, -1], ar: [0, 0, 0.6] },
    }));

  it("srelu-slide (the x + t variant), incl. parameter gradients", () =>
    // z = −1: f = t_l + a_l(z + t_l) = −0.4 + 0.4·(−1.4) = −0.96; f' = 0.4; ∂/∂t_l = 1 + a_l = 1.4; ∂/∂a_l = z + t_l = −1.4.
    // z = 0.1: f = 0.1, f' = 1.
    // z = 1: f = t_r + a_r(z + t_r) = 0.4 + 2·1.4 = 3.2; f' = 2; ∂/∂t_r = 1 + a_r = 3; ∂/∂a_r = z + t_r = 1.4.
    check('srelu-slide', {
      z: [-1, 0.1, 1],
      f: [-0.96, 0.1, 3.2],
      df: [0.4, 1, 2],
      params: { tl: [1.4, 0, 0], al: [-1.4, 0, 0], tr: [0, 0, 3], ar: [0, 0, 1.4] },
    }));

  it('srelu-slide is discontinuous at t_r, srelu is continuous', () => {
    const vals = (kind: Activation): number[] => {
      const layer = createActivation(kind, 2);
      try {
        return Array.from(tf.tidy(() => layer.forward(tf.tensor2d([[0.4 - 1e-4, 0.4]]))).dataSync());
      } finally {
        layer.dispose();
      }
    };
    const [below, atThreshold] = vals('srelu');
    assert.ok(below !== undefined && atThreshold !== undefined);
    assert.ok(Math.abs(atThreshold - below) < 1e-3);
    const [b2, a2] = vals('srelu-slide');
    assert.ok(b2 !== undefined && a2 !== undefined);

    // 0.4 − ε just below, t_r + a_r(2·t_r) = 0.4 + 1.6 = 2.0 at the threshold.
    assertClose([b2, a2], [0.3999, 2.0], 'slide jump', 1e-4, 1e-4);
  });
});
