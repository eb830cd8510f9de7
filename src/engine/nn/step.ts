/**
 * Gradients, gradient-flow norms and one update for a ConvNet, in the order of step.ts
 * (method.md §3): forward → raw kernel gradient → + coupled L2 → mask → optimizer → integrity check
 * → re-apply mask. The per-layer norms use flow.ts's layerNormTensor / decodeLayerNorms and the
 * measures combineFlow: the SAME definitions as for the MLP, over all L weight layers (every conv
 * and linear kernel: stem, shortcuts, classifier).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerStep } from '../../shared/protocol';
import { decodeLayerNorms, layerNormTensor } from '../flow';
import { BN_MOMENTUM, updateMovingStats } from '../layers';
import type { Optimizer, Param } from '../optimizers';
import { softmaxCrossEntropy } from '../step';
import type { ConvNet } from './convnet';
import { at } from '../../shared/checked';

export interface ConvBatch {
  /** [N, H, W, C] or flattened NHWC rows. */
  x: tf.Tensor;
  /** One-hot labels [N, classes]. */
  y: tf.Tensor2D;
}

export interface ConvGrads {
  loss: tf.Scalar;
  /** Raw kernel gradients (+ coupled L2), kernel-shaped. */
  kernelRaw: tf.Tensor[];
  /** kernelRaw ⊙ mask (= kernelRaw for an unmasked layer). */
  kernelMasked: tf.Tensor[];
  other: tf.Tensor[];
  bnStats: { layer: number; mean: tf.Tensor1D; variance: tf.Tensor1D }[];
}

/** Loss and every gradient of a batch, training mode. Call inside a tidy. */
export function convGradients(net: ConvNet, batch: ConvBatch, coupledL2 = 0): ConvGrads {
  const fwd = net.forward(batch.x, true);
  if (!fwd.cache) throw new Error('internal: training forward pass returned no cache');
  const { loss, dLogits } = softmaxCrossEntropy(fwd.logits, batch.y);
  const g = net.backward(dLogits, fwd.cache);
  const kernelRaw = g.kernels.map((t, l) => (coupledL2 > 0 ? tf.add(t, tf.mul(net.kernel(l), coupledL2)) : t));
  const kernelMasked = kernelRaw.map((t, l) => net.applyMask(l, t));
  return { loss, kernelRaw, kernelMasked, other: g.other, bnStats: net.bnStats(fwd.cache) };
}

/** [L·4] raw Σ|g|, Σg², masked Σ|g⊙m|, Σ(g⊙m)² per layer (flow.layerNormTensor on the [fanIn, fanOut] view). Call inside a tidy. */
export function convNormTensor(net: ConvNet, g: ConvGrads): tf.Tensor1D {
  return tf.concat(
    g.kernelRaw.map((raw, l) => {
      const { fanIn, fanOut } = at(net.layerInfo, l);

      const view = (t: tf.Tensor): tf.Tensor2D => tf.reshape(t, [fanIn, fanOut]);
      return layerNormTensor(view(raw), net.masked[l] ? view(at(g.kernelMasked, l)) : undefined);
    }),
  ) as tf.Tensor1D;
}

/** Per-layer raw and masked L1/L2 norms of one batch's gradients (no update). */
export function convLayerSteps(net: ConvNet, batch: ConvBatch, coupledL2 = 0): { loss: number; layers: LayerStep[] } {
  const v = tf.tidy(() => {
    const g = convGradients(net, batch, coupledL2);
    return tf.concat([tf.reshape(g.loss, [1]), convNormTensor(net, g)]);
  });
  const values = v.dataSync();
  v.dispose();
  return { loss: at(values, 0), layers: decodeLayerNorms(values, 1, net.layerInfo.map((i) => i.active)) };
}

/** The optimizer's parameter list: decoupled decay on kernels only (as step.optimizerParams). */
export function convOptimizerParams(net: ConvNet): Param[] {
  return net.params.map((p) => ({ variable: p.variable, decay: p.kind === 'kernel' }));
}

export interface ConvStepResult {
  loss: number;
  layers: LayerStep[];
  /** Σ|W ⊙ (1 − m)| per masked layer after the update, before re-masking (0 = the mask held). */
  prunedMass: number[];
}

/** One update: masked gradients to the optimizer, BN moving statistics, then the masks re-applied. */
export function convTrainStep(net: ConvNet, opt: Optimizer, params: Param[], batch: ConvBatch, coupledL2 = 0): ConvStepResult {
  const v = tf.tidy(() => {
    const g = convGradients(net, batch, coupledL2);
    const norms = convNormTensor(net, g);
    opt.apply(params, [...g.kernelMasked, ...g.other]);
    const mass: tf.Tensor[] = [];
    for (let l = 0; l < net.numLayers; l++) {
      const m = net.prunedMass(l);
      if (m) mass.push(tf.reshape(m, [1]));
      if (net.masks[l]) net.kernel(l).assign(net.applyMask(l, net.kernel(l)));
    }
    for (const s of g.bnStats) updateMovingStats(at(net.bns, s.layer), s.mean, s.variance, net.bnMomentum ?? BN_MOMENTUM);
    return tf.concat([tf.reshape(g.loss, [1]), norms, ...mass]);
  });
  const values = v.dataSync();
  v.dispose();
  const L = net.numLayers;
  return { loss: at(values, 0), layers: decodeLayerNorms(values, 1, net.layerInfo.map((i) => i.active)), prunedMass: Array.from(values.slice(1 + 4 * L)) };
}
