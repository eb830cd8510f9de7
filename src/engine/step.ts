/**
 * One training step and one flow measurement for a MaskedMLP.
 *
 * Order inside a step (method.md §3):
 *   forward (stored kernel, pruned entries 0) → raw kernel gradient dL/dW → + coupled L2 (λW) →
 *   mask (g ⊙ m) → optimizer → integrity check of the updated kernel → re-apply mask.
 * "raw" in the reported norms is the gradient after coupled L2 and before masking; since W is 0 at
 * pruned positions, the L2 term changes only active entries, so raw and masked still differ exactly
 * at pruned positions. With adamw (decoupled decay) nothing is added to the gradient.
 *
 * All of a step's numbers (loss, correct count, per-layer norms or NaN probes, integrity sums) are
 * concatenated on the backend and read with ONE dataSync.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerStep } from '../shared/protocol';
import { decodeLayerNorms, layerNormTensor, NORM_SLOTS, sumAll } from './flow';
import { BN_MOMENTUM, updateMovingStats } from './layers';
import { MaskedMLP } from './model';
import type { Optimizer, Param } from './optimizers';

export interface StepOptions {
  /** Coupled L2 coefficient added to kernel gradients (0 = none; adamw uses decoupled decay instead). */
  coupledL2: number;
  /** Compute per-layer norms this step (monitoring.every). */
  collectNorms: boolean;
  /** Check that pruned kernel entries are exactly 0 after the update (before re-masking). */
  checkIntegrity: boolean;
}

export interface Batch {
  x: tf.Tensor2D;
  /** xᵀ, computed once per training batch and shared by the nets that train on it (optional). */
  xT?: tf.Tensor2D;
  /** One-hot labels [n, C]. */
  y: tf.Tensor2D;
  /** Integer labels [n] (int32) for accuracy. */
  labels: tf.Tensor1D;
  n: number;
}

export interface StepResult {
  loss: number;
  /** Correct predictions in the batch. */
  correct: number;
  /** Per-layer norms, or null when not collected this step. */
  layers: LayerStep[] | null;
  /**
   * First non-finite quantity: 'loss', a kernel layer index, or 'other' (bias / BN / activation
   * parameter gradient); null when everything is finite.
   */
  nonFinite: { where: 'loss' | 'other' | number; value: number } | null;
  /** Per masked layer (index) Σ|W ⊙ (1 − m)| after the update; only non-zero entries are listed. */
  integrity: { layer: number; value: number }[];
}

/** Wrap a model's parameters for the optimizer: decay (decoupled) applies to kernels only. */
export function optimizerParams(net: MaskedMLP): Param[] {
  return net.params.map((p) => ({ variable: p.variable, decay: p.kind === 'kernel' }));
}

interface Grads {
  loss: tf.Scalar;
  correct: tf.Scalar;
  kernelRaw: tf.Tensor[];
  other: tf.Tensor[];
  bnStats: { layer: number; mean: tf.Tensor1D; variance: tf.Tensor1D }[];
}

/**
 * Mean softmax cross-entropy and its gradient: loss = −(1/n)Σ y·log softmax(logits),
 * dL/dlogits = (softmax − y)/n.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, y: tf.Tensor2D): { loss: tf.Scalar; dLogits: tf.Tensor2D } {
  const n = logits.shape[0];
  const logp = tf.logSoftmax(logits);
  const loss = tf.div(tf.neg(tf.sum(tf.mul(y, logp))), n) as tf.Scalar;
  const dLogits = tf.div(tf.sub(tf.exp(logp), y), n) as tf.Tensor2D;
  return { loss, dLogits };
}

/** Mean softmax cross-entropy only (evaluation). */
export function crossEntropyLoss(logits: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  return tf.div(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)))), logits.shape[0]) as tf.Scalar;
}

/** Loss, correct count and all parameter gradients of a batch, training mode. Call inside tidy. */
export function gradients(net: MaskedMLP, batch: Batch, coupledL2: number): Grads {
  const fwd = net.forward(batch.x, true, batch.xT);
  const cache = fwd.cache;
  if (!cache) throw new Error('internal: training forward pass returned no cache');
  const { loss, dLogits } = softmaxCrossEntropy(fwd.logits, batch.y);
  const correct = tf.sum(tf.cast(tf.equal(tf.argMax(fwd.logits, 1), batch.labels), 'float32')) as tf.Scalar;
  const grads = net.backward(dLogits, cache);
  const L = net.numLayers;
  const kernelRaw: tf.Tensor[] = [];
  for (let l = 0; l < L; l++) {
    const g = grads[l];
    kernelRaw.push(coupledL2 > 0 ? tf.add(g, tf.mul(net.kernels[l], coupledL2)) : g);
  }
  return { loss, correct, kernelRaw, other: grads.slice(L), bnStats: MaskedMLP.bnStats(cache) };
}

/**
 * Run one update. Returns the step's numbers (read with a single transfer). Does not throw on
 * NaN or integrity failures: the caller turns them into alerts.
 */
export function trainStep(net: MaskedMLP, opt: Optimizer, params: Param[], batch: Batch, o: StepOptions): StepResult {
  const p = trainStepDeferred(net, opt, params, batch, o);
  const v = p.stats.dataSync();
  p.stats.dispose();
  return p.decode(v, 0);
}

/** A step whose numbers are still on the backend: `stats` (owned by the caller) and how to read them. */
export interface PendingStep {
  stats: tf.Tensor1D;
  decode(values: ArrayLike<number>, offset: number): StepResult;
}

/**
 * The update of trainStep without the read-back, so several nets (an SC-SDC pair) can share ONE
 * transfer: concatenate their `stats`, dataSync once, decode each at its offset.
 */
export function trainStepDeferred(net: MaskedMLP, opt: Optimizer, params: Param[], batch: Batch, o: StepOptions): PendingStep {
  const L = net.numLayers;
  const masked = net.masks.map((m) => m !== undefined);
  const integrityLayers = o.checkIntegrity ? masked.map((m, l) => (m ? l : -1)).filter((l) => l >= 0) : [];
  const stats = tf.tidy(() => {
    const g = gradients(net, batch, o.coupledL2);
    const kernelMasked = g.kernelRaw.map((raw, l) => net.applyMask(l, raw));
    const parts: tf.Tensor[] = [tf.reshape(g.loss, [1]), tf.reshape(g.correct, [1])];
    if (o.collectNorms) {
      for (let l = 0; l < L; l++) parts.push(layerNormTensor(g.kernelRaw[l], masked[l] ? kernelMasked[l] : undefined, net.onesCols[l], net.activeIndex[l]));
    } else {
      // Cheap NaN/Inf probe per layer: any non-finite entry makes the sum non-finite.
      for (let l = 0; l < L; l++) parts.push(tf.reshape(sumAll(g.kernelRaw[l], net.onesCols[l]), [1]));
    }
    parts.push(g.other.length > 0 ? tf.reshape(tf.addN(g.other.map((t) => tf.sum(t))), [1]) : tf.zeros([1]));
    opt.apply(params, [...kernelMasked, ...g.other]);
    for (const l of integrityLayers) {
      // Pruned entries of the UPDATED kernel must be exactly 0 (the optimizer only saw masked
      // gradients and its state there is 0). Checked before re-masking, which would hide a leak.
      const mass = net.prunedMass(l);
      if (mass) parts.push(tf.reshape(mass, [1]));
    }
    for (let l = 0; l < L; l++) {
      if (masked[l]) net.kernels[l].assign(net.applyMask(l, net.kernels[l]) as tf.Tensor2D);
    }
    for (const s of g.bnStats) updateMovingStats(net.bns[s.layer], s.mean, s.variance, net.spec.bnMomentum ?? BN_MOMENTUM);
    return tf.concat(parts) as tf.Tensor1D;
  });
  const actives = net.layerInfo.map((i) => i.active);
  return { stats, decode: (v, offset) => decodeStep(v, offset, L, o.collectNorms, actives, integrityLayers) };
}

function decodeStep(v: ArrayLike<number>, start: number, L: number, collected: boolean, actives: number[], integrityLayers: number[]): StepResult {
  const loss = v[start];
  const correct = v[start + 1];
  let o = start + 2;
  let layers: LayerStep[] | null = null;
  let nonFinite: StepResult['nonFinite'] = null;
  if (!Number.isFinite(loss)) nonFinite = { where: 'loss', value: loss };
  if (collected) {
    layers = decodeLayerNorms(v, o, actives);
    for (let l = 0; l < L && !nonFinite; l++) {
      const r = layers[l].raw;
      if (!Number.isFinite(r.l1) || !Number.isFinite(r.l2)) nonFinite = { where: l, value: !Number.isFinite(r.l1) ? r.l1 : r.l2 };
    }
    o += L * NORM_SLOTS;
  } else {
    for (let l = 0; l < L && !nonFinite; l++) if (!Number.isFinite(v[o + l])) nonFinite = { where: l, value: v[o + l] };
    o += L;
  }
  if (!nonFinite && !Number.isFinite(v[o])) nonFinite = { where: 'other', value: v[o] };
  o += 1;
  const integrity: StepResult['integrity'] = [];
  integrityLayers.forEach((layer, i) => {
    const value = v[o + i];
    // NaN here means NaN weights, which the non-finite check reports; only real mass is a leak.
    if (value > 0) integrity.push({ layer, value });
  });
  return { loss, correct, layers, nonFinite, integrity };
}

/**
 * Flow measures on a fixed batch set, training mode, no update (method.md §3): kernel gradients
 * are averaged over the batches (the gradient of the mean loss over the set, equal-size batches),
 * then coupled L2 is added and the norms taken, exactly as in a step. BN moving stats are untouched.
 */
export function measureFlowLayers(net: MaskedMLP, batches: Batch[], coupledL2: number): LayerStep[] {
  const L = net.numLayers;
  const v = tf.tidy(() => {
    let sums: tf.Tensor[] | undefined;
    let total = 0;
    for (const b of batches) {
      // Gradients without L2 per batch; L2 added once to the mean.
      const g = gradients(net, b, 0);
      const weighted = g.kernelRaw.map((t) => tf.mul(t, b.n));
      sums = sums ? sums.map((s, l) => tf.add(s, weighted[l])) : weighted;
      total += b.n;
    }
    if (!sums || total === 0) return tf.zeros([L * NORM_SLOTS]);
    const parts = sums.map((s, l) => {
      let raw = tf.div(s, total);
      if (coupledL2 > 0) raw = tf.add(raw, tf.mul(net.kernels[l], coupledL2));
      return layerNormTensor(raw, net.masks[l] ? net.applyMask(l, raw) : undefined, net.onesCols[l], net.activeIndex[l]);
    });
    return tf.concat(parts);
  });
  const values = v.dataSync();
  v.dispose();
  return decodeLayerNorms(values, 0, net.layerInfo.map((i) => i.active));
}

/** Loss and accuracy of a split in eval mode, batched; one transfer at the end. */
export function evaluate(net: MaskedMLP, batches: Batch[]): { loss: number; accuracy: number } {
  let n = 0;
  for (const b of batches) n += b.n;
  if (n === 0) return { loss: NaN, accuracy: NaN };
  // Running sums stay on the backend; each batch's activations are freed by its own tidy.
  let acc: tf.Tensor = tf.zeros([2]);
  for (const b of batches) {
    const next = tf.tidy(() => {
      const { logits } = net.forward(b.x, false);
      const loss = tf.mul(crossEntropyLoss(logits, b.y), b.n);
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), b.labels), 'float32'));
      return tf.add(acc, tf.stack([loss, correct]));
    });
    acc.dispose();
    acc = next;
  }
  const v = acc;
  const [l, c] = v.dataSync();
  v.dispose();
  return { loss: l / n, accuracy: c / n };
}
