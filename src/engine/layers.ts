/**
 * BatchNorm, forward and explicit backward passes (see activations.ts for why the backward pass is
 * explicit). The masked dense layer's products live in model.ts (forward/backward), next to the
 * layout they depend on.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tensorValues } from './heap';
import { sparseKernels } from './sparse';

/** BatchNorm defaults (ours, PyTorch's): ε = 1e-5, moving-average momentum 0.1 for the new batch. */
export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

export interface BatchNormLayer {
  gamma: tf.Variable;
  beta: tf.Variable;
  movingMean: tf.Variable;
  movingVar: tf.Variable;
}

export function createBatchNorm(units: number): BatchNormLayer {
  return {
    gamma: tf.tidy(() => tf.variable(tf.ones([units]), true)),
    beta: tf.tidy(() => tf.variable(tf.zeros([units]), true)),
    movingMean: tf.tidy(() => tf.variable(tf.zeros([units]), false)),
    movingVar: tf.tidy(() => tf.variable(tf.ones([units]), false)),
  };
}

export interface BatchNormCache {
  xhat: tf.Tensor2D;
  rstd: tf.Tensor1D;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  axis: BatchAxis;
  /** Axis 0: x (read again on the host by the backward pass) and its per-unit statistics in float64. */
  host?: { x: tf.Tensor2D; mean: Float64Array; rstd: Float64Array };
}

/**
 * Batch axis of x: 0 when x is [n, units], 1 when x is [units, n] (the model's internal layout).
 * Per-unit vectors are viewed as [units, 1] in the second case so they broadcast.
 */
export type BatchAxis = 0 | 1;
const perUnit = (v: tf.Tensor, axis: BatchAxis): tf.Tensor => (axis === 1 ? tf.reshape(v, [v.shape[0], 1]) : v);

/** Eval mode: normalise with the moving statistics. */
export function batchNormEval(x: tf.Tensor2D, bn: BatchNormLayer, eps = BN_EPSILON, axis: BatchAxis = 0): tf.Tensor2D {
  return tf.tidy(() => {
    const scale = perUnit(tf.mul(tf.rsqrt(tf.add(bn.movingVar, eps)), bn.gamma), axis);
    return tf.add(tf.mul(tf.sub(x, perUnit(bn.movingMean, axis)), scale), perUnit(bn.beta, axis));
  }) as tf.Tensor2D;
}

/**
 * Training mode: batch statistics (biased variance, as PyTorch normalises). Call inside a tidy.
 *
 * Axis 0 (a conv net's [n·h·w, c]) takes its statistics on the host, in float64, from one read of
 * x (heap.ts: a view into the wasm heap, no copy; the sums by SparseConvKernels.columnMoments and
 * columnGradSums, WebAssembly SIMD in float64, the same additions in the same order as the
 * TypeScript loop they replaced, which took 25 ms of each of the forward and backward passes of the
 * simple CNN's ρ = 0.25 sparse step at batch 128, against about 2 ms each plus the copy into the
 * module): the backends reduce along the last axis, so a column reduction is a transpose then a
 * reduction, and on the wasm backend that (or a product with a row of ones) cost about 40 ms a
 * call at [100,352, 32], four to six calls per BatchNorm per step (profiled), against one pass over
 * the values on the host. Nothing here is differentiated by TF.js (the backward pass is explicit), so a host
 * computation breaks no gradient. Axis 1 (the MLP's [units, n]) reduces along the last axis already.
 */
export function batchNormTrain(x: tf.Tensor2D, bn: BatchNormLayer, eps = BN_EPSILON, axis: BatchAxis = 0): { y: tf.Tensor2D; cache: BatchNormCache } {
  const units = bn.gamma.shape[0];
  let mean: tf.Tensor;
  let variance: tf.Tensor;
  let rstd: tf.Tensor;
  let host: BatchNormCache['host'];
  if (axis === 0) {
    const [rows] = x.shape;
    // Read before any other TF.js operation; the sums by the conv nets' host kernels (WebAssembly SIMD).
    const { mean: m, variance: q } = sparseKernels().kernels.conv.columnMoments(tensorValues(x), rows, units);
    const r64 = new Float64Array(units);
    for (let u = 0; u < units; u++) r64[u] = 1 / Math.sqrt(q[u]! + eps);
    host = { x, mean: m, rstd: r64 };
    mean = tf.tensor2d(Float32Array.from(m), [1, units]);
    variance = tf.tensor2d(Float32Array.from(q), [1, units]);
    rstd = tf.tensor2d(Float32Array.from(r64), [1, units]);
  } else {
    ({ mean, variance } = tf.moments(x, axis, true));
    rstd = tf.rsqrt(tf.add(variance, eps));
  }
  const xhat = tf.mul(tf.sub(x, mean), rstd) as tf.Tensor2D;
  const y = tf.add(tf.mul(xhat, perUnit(bn.gamma, axis)), perUnit(bn.beta, axis)) as tf.Tensor2D;
  return {
    y,
    cache: { xhat, rstd: tf.reshape(rstd, [units]), mean: tf.reshape(mean, [units]), variance: tf.reshape(variance, [units]), axis, ...(host ? { host } : {}) },
  };
}

/**
 * Backward of y = γ·x̂ + β with batch statistics:
 * dβ = Σdy, dγ = Σdy·x̂, dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·γ.
 *
 * With the forward pass's host statistics (axis 0), the two sums are one pass over dy and x on the
 * host, in float64 (Σdy·x̂ = rstd·Σdy·(x − mean)), and mean(dx̂) = γ·Σdy/n, mean(dx̂·x̂) = γ·dγ/n.
 */
export function batchNormBackward(dy: tf.Tensor2D, bn: BatchNormLayer, c: BatchNormCache): { dx: tf.Tensor2D; dGamma: tf.Tensor1D; dBeta: tf.Tensor1D } {
  const a = c.axis;
  if (c.host) {
    const [rows, units] = dy.shape;
    const { mean, rstd } = c.host;
    // Two views, read before any other TF.js operation.
    const { sumDy: sdy, sumDyXc: sdyx } = sparseKernels().kernels.conv.columnGradSums(tensorValues(dy), tensorValues(c.host.x), mean, rows, units);
    for (let u = 0; u < units; u++) sdyx[u]! *= rstd[u]!;
    const dBeta = tf.tensor1d(Float32Array.from(sdy));
    const dGamma = tf.tensor1d(Float32Array.from(sdyx));
    const meanDxhat = tf.mul(bn.gamma, tf.tensor1d(Float32Array.from(sdy, (v) => v / rows)));
    const meanDxhatXhat = tf.mul(bn.gamma, tf.tensor1d(Float32Array.from(sdyx, (v) => v / rows)));
    const centred = tf.sub(tf.sub(tf.mul(dy, bn.gamma), meanDxhat), tf.mul(c.xhat, meanDxhatXhat));
    return { dx: tf.mul(centred, c.rstd) as tf.Tensor2D, dGamma, dBeta };
  }
  const dBeta = tf.sum(dy, a) as tf.Tensor1D;
  const dGamma = tf.sum(tf.mul(dy, c.xhat), a) as tf.Tensor1D;
  const dxhat = tf.mul(dy, perUnit(bn.gamma, a));
  const centred = tf.sub(tf.sub(dxhat, tf.mean(dxhat, a, true)), tf.mul(c.xhat, tf.mean(tf.mul(dxhat, c.xhat), a, true)));
  const dx = tf.mul(centred, perUnit(c.rstd, a)) as tf.Tensor2D;
  return { dx, dGamma, dBeta };
}

/**
 * moving ← (1 − momentum)·moving + momentum·batch. The moving variance uses the biased batch
 * variance (ours; PyTorch uses the unbiased one here, a negligible difference at batch 128).
 */
export function updateMovingStats(bn: BatchNormLayer, mean: tf.Tensor1D, variance: tf.Tensor1D, momentum = BN_MOMENTUM): void {
  tf.tidy(() => {
    bn.movingMean.assign(tf.add(tf.mul(bn.movingMean, 1 - momentum), tf.mul(mean, momentum)));
    bn.movingVar.assign(tf.add(tf.mul(bn.movingVar, 1 - momentum), tf.mul(variance, momentum)));
  });
}

export function disposeBatchNorm(bn: BatchNormLayer): void {
  bn.gamma.dispose();
  bn.beta.dispose();
  bn.movingMean.dispose();
  bn.movingVar.dispose();
}
