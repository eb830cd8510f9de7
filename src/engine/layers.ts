/**
 * Masked dense layer and BatchNorm, forward and explicit backward passes (see activations.ts for
 * why the backward pass is explicit).
 *
 * Dense backward uses MATERIALISED transposes (tf.transpose, then a plain matMul) because TF.js's
 * transposed matMul is 6–15× slower than a plain product on the wasm backend
 * (docs/environment.md).
 *
 * Masking: the stored kernel has its pruned entries at exactly 0, so the forward pass needs no mask
 * multiply. The backward pass returns the RAW kernel gradient (pruned positions included); the
 * caller masks it for EGF and the optimizer (method.md §3).
 */
import * as tf from '@tensorflow/tfjs-core';

/** y = x·W + b (one fused kernel), optionally with a fused ReLU. */
export function denseForward(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, relu = false): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: W, bias: b, activation: relu ? 'relu' : 'linear' }) as tf.Tensor2D;
}

export interface DenseGrads {
  dW: tf.Tensor2D;
  db: tf.Tensor1D;
  /** dL/dx, or undefined when not requested (first layer: its input is data). */
  dx?: tf.Tensor2D;
}

/**
 * dW = xᵀ·dz, db = Σ_batch dz, dx = dz·Wᵀ, transposes materialised first.
 * @param xT the transposed input if already available (the data batch is transposed once and
 *   shared by both nets of an SC-SDC pair).
 */
export function denseBackward(x: tf.Tensor2D, W: tf.Tensor2D, dz: tf.Tensor2D, needDx: boolean, xT?: tf.Tensor2D): DenseGrads {
  const dW = tf.matMul(xT ?? (tf.transpose(x) as tf.Tensor2D), dz) as tf.Tensor2D;
  const db = tf.sum(dz, 0) as tf.Tensor1D;
  if (!needDx) return { dW, db };
  return { dW, db, dx: tf.matMul(dz, tf.transpose(W) as tf.Tensor2D) as tf.Tensor2D };
}

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
}

/** Eval mode: normalise with the moving statistics. */
export function batchNormEval(x: tf.Tensor2D, bn: BatchNormLayer, eps = BN_EPSILON): tf.Tensor2D {
  return tf.tidy(() =>
    tf.add(tf.mul(tf.mul(tf.sub(x, bn.movingMean), tf.rsqrt(tf.add(bn.movingVar, eps))), bn.gamma), bn.beta),
  ) as tf.Tensor2D;
}

/** Training mode: batch statistics (biased variance, as PyTorch normalises). Call inside a tidy. */
export function batchNormTrain(x: tf.Tensor2D, bn: BatchNormLayer, eps = BN_EPSILON): { y: tf.Tensor2D; cache: BatchNormCache } {
  const { mean, variance } = tf.moments(x, 0);
  const rstd = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor1D;
  const xhat = tf.mul(tf.sub(x, mean), rstd) as tf.Tensor2D;
  const y = tf.add(tf.mul(xhat, bn.gamma), bn.beta) as tf.Tensor2D;
  return { y, cache: { xhat, rstd, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D } };
}

/**
 * Backward of y = γ·x̂ + β with batch statistics:
 * dβ = Σdy, dγ = Σdy·x̂, dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·γ.
 */
export function batchNormBackward(dy: tf.Tensor2D, bn: BatchNormLayer, c: BatchNormCache): { dx: tf.Tensor2D; dGamma: tf.Tensor1D; dBeta: tf.Tensor1D } {
  const dBeta = tf.sum(dy, 0) as tf.Tensor1D;
  const dGamma = tf.sum(tf.mul(dy, c.xhat), 0) as tf.Tensor1D;
  const dxhat = tf.mul(dy, bn.gamma);
  const dx = tf.mul(tf.sub(tf.sub(dxhat, tf.mean(dxhat, 0)), tf.mul(c.xhat, tf.mean(tf.mul(dxhat, c.xhat), 0))), c.rstd) as tf.Tensor2D;
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
