/**
 * One training step and one flow measurement for any net (net.ts: TrainableNet).
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
import { tensorValues } from './heap';
import { fullGradient, isSparseGrad, type KernelGrad, type SparseGrad, type TrainableNet, type TrainingPass } from './net';
import type { Optimizer, Param, SparseParam } from './optimizers';
import { at } from '../shared/checked';

export interface StepOptions {
  /** Coupled L2 coefficient added to kernel gradients (0 = none; adamw uses decoupled decay instead). */
  coupledL2: number;
  /** Compute per-layer norms this step (monitoring.every). */
  collectNorms: boolean;
  /** Check that pruned kernel entries are exactly 0 after the update (before re-masking). */
  checkIntegrity: boolean;
  /**
   * On a norm-collecting step, also take the raw (unmasked) L1 / L2 norms of masked layers (default
   * true). Skipped ones are NaN. Unmasked layers always report them (raw = masked there).
   */
  rawL1?: boolean;
  rawL2?: boolean;
  /**
   * Compute everything but do not apply the optimizer (a RigL mask-update iteration, whose update
   * replaces the optimizer step: pruning/dynamic.ts). BatchNorm moving statistics still update.
   */
  skipUpdate?: boolean;
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
export function optimizerParams(net: TrainableNet): Param[] {
  return net.params.map((p) => ({ variable: p.variable, decay: p.kind === 'kernel' }));
}

interface Grads {
  loss: tf.Scalar;
  correct: tf.Scalar;
  /** Raw kernel gradients (coupled L2 added); a sparse-path layer's is a SparseRaw. */
  kernelRaw: (tf.Tensor | SparseRaw)[];
  other: tf.Tensor[];
  /** The forward pass the gradients came from (its BN statistics update). */
  pass: TrainingPass;
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

/**
 * Raw gradient of a sparse-path layer. `raw` = G + λW at the active entries (what the optimizer gets:
 * masked = raw there). The raw norms of the FULL gradient G + λW (pruned entries: G, as W = 0 there)
 * are those of G plus active-entry corrections: Σ|G + λW| = Σ|G| + Σ_a(|R| − |G_a|) and
 * ‖G + λW‖² = ‖G‖² + Σ_a(R² − G_a²) = ‖G‖² + 2λ⟨G, W⟩ + λ²‖W‖².
 */
export interface SparseRaw {
  kind: 'sparse-raw';
  grad: SparseGrad;
  raw: Float32Array;
  /** Masked Σ|R|, ΣR², the corrections above, and ΣR (NaN probe), in float64. */
  m1: number;
  m2: number;
  c1: number;
  c2: number;
  sum: number;
}

function isSparseRaw(g: tf.Tensor | SparseRaw): g is SparseRaw {
  return (g as SparseRaw).kind === 'sparse-raw';
}

export function sparseRaw(grad: SparseGrad, active: Float32Array, w: Float32Array, coupledL2: number): SparseRaw {
  const raw = coupledL2 > 0 ? new Float32Array(active.length) : active;
  let m1 = 0;
  let m2 = 0;
  let c1 = 0;
  let c2 = 0;
  let sum = 0;
  for (let i = 0; i < active.length; i++) {
    const g = active[i]!;
    const r = coupledL2 > 0 ? (raw[i] = g + coupledL2 * w[i]!) : g;
    m1 += Math.abs(r);
    m2 += r * r;
    sum += r;
    if (coupledL2 > 0) {
      c1 += Math.abs(r) - Math.abs(g);
      c2 += r * r - g * g;
    }
  }
  return { kind: 'sparse-raw', grad, raw, m1, m2, c1, c2, sum };
}

/**
 * ‖G‖²_F of G = dzᵀ·h without forming G: Σ (X Xᵀ) ⊙ (D Dᵀ) with X = h [B, in], D = dz [B, out],
 * two B×B Gram matrices (B·B·(in + out) multiply-adds instead of in·out·B).
 */
export function gramSquaredNorm(dzT: tf.Tensor2D, inputT: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const xx = tf.matMul(tf.transpose(inputT), inputT);
    const dd = tf.matMul(tf.transpose(dzT), dzT);
    return tf.sum(tf.mul(xx, dd)) as tf.Scalar;
  });
}

/**
 * The [4] norm sums of a sparse-path layer: raw Σ|g|, Σg² (from the dense product when raw L1 is
 * wanted, else L2 from the Gram identity — by the sparse kernels, symmetric halves, B(B+1)/2·(in + out)
 * multiply-adds — or from the dense product when that is cheaper, in·out ≤ B(in + out)/2, as for an
 * output layer; else NaN), masked Σ|g ⊙ m|, Σ(g ⊙ m)² over the active entries.
 */
export function sparseNormTensor(s: SparseRaw, want: { l1: boolean; l2: boolean }, denseG?: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    let r1: tf.Scalar = tf.scalar(NaN);
    let r2: tf.Scalar = tf.scalar(NaN);
    if (want.l1 || denseG) {
      const G = denseG ?? fullGradient(s.grad);
      r1 = tf.add(sumAll(tf.abs(G)), s.c1) as tf.Scalar;
      // With G at hand its squares cost one pass; reported only when asked for (same cadence as the dense path).
      if (want.l2) r2 = tf.add(sumAll(tf.square(G)), s.c2) as tf.Scalar;
    } else if (want.l2) {
      const [fanIn, B] = s.grad.inputT.shape;
      const fanOut = s.grad.dzT.shape[0];
      const kernels = s.grad.kernels;
      if (fanIn * fanOut <= (B * (fanIn + fanOut)) / 2) {
        // A narrow layer (the output layer): the dense product G is cheaper than the two Grams.
        r2 = tf.add(sumAll(tf.square(fullGradient(s.grad))), s.c2) as tf.Scalar;
      } else if (kernels) {
        r2 = tf.scalar(kernels.gramSquaredNorm(tensorValues(s.grad.inputT), fanIn, tensorValues(s.grad.dzT), fanOut, B) + s.c2);
      } else {
        r2 = tf.add(gramSquaredNorm(s.grad.dzT, s.grad.inputT), s.c2) as tf.Scalar;
      }
    }
    return tf.stack([r1, r2, tf.scalar(s.m1), tf.scalar(s.m2)]) as tf.Tensor1D;
  });
}

/**
 * A raw kernel gradient as a full stored-layout tensor (for a sparse-path layer: the dense product
 * G plus λW at the active entries). For tests and tools; call inside a tidy.
 */
export function rawTensor(net: TrainableNet, l: number, g: tf.Tensor | SparseRaw): tf.Tensor {
  if (!isSparseRaw(g)) return g;
  const sk = net.sparse[l];
  if (!sk) throw new Error('internal: sparse gradient of a dense-path layer');
  const delta = new Float32Array(g.raw.length);
  for (let i = 0; i < delta.length; i++) delta[i] = g.raw[i]! - g.grad.active[i]!;
  const d = tf.transpose(tf.tensor2d(sk.scatter(delta), [sk.fanIn, sk.fanOut]));
  return tf.add(fullGradient(g.grad), d);
}

/**
 * Loss, correct count and all parameter gradients of a batch, training mode. `rawKernels: false`:
 * no raw norms will be taken, so a layer may return raw ⊙ mask (TrainingPass.backward). Call inside tidy.
 */
export function gradients(net: TrainableNet, batch: Batch, coupledL2: number, rawKernels = true): Grads {
  const pass = net.trainingPass(batch.x, batch.xT);
  const { loss, dLogits } = softmaxCrossEntropy(pass.logits, batch.y);
  const correct = tf.sum(tf.cast(tf.equal(tf.argMax(pass.logits, 1), batch.labels), 'float32')) as tf.Scalar;
  const grads = pass.backward(dLogits, { rawKernels });
  const kernelRaw = grads.kernels.map((g: KernelGrad, l): tf.Tensor | SparseRaw => {
    if (isSparseGrad(g)) {
      const sk = net.sparse[l];
      if (!sk) throw new Error('internal: sparse gradient of a dense-path layer');
      return sparseRaw(g, g.active, sk.values, coupledL2);
    }
    return coupledL2 > 0 ? tf.add(g, tf.mul(net.kernel(l), coupledL2)) : g;
  });
  return { loss, correct, kernelRaw, other: grads.other, pass };
}

/**
 * Run one update. Returns the step's numbers (read with a single transfer). Does not throw on
 * NaN or integrity failures: the caller turns them into alerts.
 */
export function trainStep(net: TrainableNet, opt: Optimizer, params: Param[], batch: Batch, o: StepOptions): StepResult {
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
export function trainStepDeferred(net: TrainableNet, opt: Optimizer, params: Param[], batch: Batch, o: StepOptions): PendingStep {
  const L = net.numLayers;
  const masked = net.masked;
  // Integrity is checked on dense-path masked layers; a sparse-path layer stores no pruned entry.
  const integrityLayers = o.checkIntegrity ? net.masks.map((m, l) => (m ? l : -1)).filter((l) => l >= 0) : [];
  const want = { l1: o.rawL1 !== false, l2: o.rawL2 !== false };
  const rawL1Taken = masked.map((m) => o.collectNorms && (!m || want.l1));
  const rawL2Taken = masked.map((m) => o.collectNorms && (!m || want.l2));
  const stats = tf.tidy(() => {
    // Raw (unmasked) kernel gradients only where some raw norm is taken this step.
    const g = gradients(net, batch, o.coupledL2, o.collectNorms && (want.l1 || want.l2));
    const denseMasked: tf.Tensor[] = [];
    const sparseUpdates: { param: SparseParam; grad: Float32Array }[] = [];
    g.kernelRaw.forEach((raw, l) => {
      if (isSparseRaw(raw)) {
        const sk = net.sparse[l];
        if (sk) sparseUpdates.push({ param: sk, grad: raw.raw });
      } else denseMasked.push(net.applyMask(l, raw));
    });
    const parts: tf.Tensor[] = [tf.reshape(g.loss, [1]), tf.reshape(g.correct, [1])];
    let d = 0;
    for (let l = 0; l < L; l++) {
      const raw = at(g.kernelRaw, l);
      if (isSparseRaw(raw)) {
        parts.push(o.collectNorms ? sparseNormTensor(raw, want) : tf.tensor1d([raw.sum]));
        continue;
      }
      const m = denseMasked[d++];
      // Without norms: a cheap NaN/Inf probe per layer (any non-finite entry makes the sum non-finite).
      parts.push(o.collectNorms ? layerNormTensor(raw, masked[l] ? m : undefined, net.onesCols[l], net.activeIndex[l], want) : tf.reshape(sumAll(raw, net.onesCols[l]), [1]));
    }
    parts.push(g.other.length > 0 ? tf.reshape(tf.addN(g.other.map((t) => tf.sum(t))), [1]) : tf.zeros([1]));
    if (!o.skipUpdate) opt.apply(params, [...denseMasked, ...g.other], sparseUpdates);
    for (const l of integrityLayers) {
      // Pruned entries of the UPDATED kernel must be exactly 0 (the optimizer only saw masked
      // gradients and its state there is 0). Checked before re-masking, which would hide a leak.
      const mass = net.prunedMass(l);
      if (mass) parts.push(tf.reshape(mass, [1]));
    }
    for (let l = 0; l < L; l++) {
      const v = net.kernels[l];
      if (v && net.masks[l]) v.assign(net.applyMask(l, v) as tf.Tensor2D);
    }
    g.pass.updateMovingStats();
    return tf.concat(parts) as tf.Tensor1D;
  });
  const actives = net.layerInfo.map((i) => i.active);
  return { stats, decode: (v, offset) => decodeStep(v, offset, L, o.collectNorms, actives, integrityLayers, rawL1Taken, rawL2Taken) };
}

function decodeStep(
  v: ArrayLike<number>,
  start: number,
  L: number,
  collected: boolean,
  actives: number[],
  integrityLayers: number[],
  rawL1Taken: boolean[],
  rawL2Taken: boolean[],
): StepResult {
  const loss = at(v, start);
  const correct = at(v, start + 1);
  let o = start + 2;
  let layers: LayerStep[] | null = null;
  let nonFinite: StepResult['nonFinite'] = null;
  if (!Number.isFinite(loss)) nonFinite = { where: 'loss', value: loss };
  if (collected) {
    layers = decodeLayerNorms(v, o, actives);
    // Skipped raw norms are NaN by design; only the numbers taken are checked.
    for (let l = 0; l < L && !nonFinite; l++) {
      const { raw, masked } = at(layers, l);
      const taken = [rawL1Taken[l] ? raw.l1 : 0, rawL2Taken[l] ? raw.l2 : 0, masked.l1, masked.l2];
      const bad = taken.find((x) => !Number.isFinite(x));
      if (bad !== undefined) nonFinite = { where: l, value: bad };
    }
    o += L * NORM_SLOTS;
  } else {
    for (let l = 0; l < L && !nonFinite; l++) {
      const value = at(v, o + l);
      if (!Number.isFinite(value)) nonFinite = { where: l, value };
    }
    o += L;
  }
  const other = at(v, o);
  if (!nonFinite && !Number.isFinite(other)) nonFinite = { where: 'other', value: other };
  o += 1;
  const integrity: StepResult['integrity'] = [];
  integrityLayers.forEach((layer, i) => {
    const value = at(v, o + i);
    // NaN here means NaN weights, which the non-finite check reports; only real mass is a leak.
    if (value > 0) integrity.push({ layer, value });
  });
  return { loss, correct, layers, nonFinite, integrity };
}

/**
 * Σ_b n_b·f(b) per slot over `batches`, and Σ_b n_b. Each batch's f runs in its own tidy, so its
 * activations and gradients are freed before the next batch's (a WRN-16-4 at batch 128 holds ≈ 2 GB
 * of them: four flow or criterion batches held at once exhausted the wasm backend's 4 GB heap). Call
 * inside a tidy; `sums` is undefined when there are no batches.
 */
export function sumOverBatches(batches: Batch[], f: (b: Batch) => tf.Tensor[]): { sums: tf.Tensor[] | undefined; total: number } {
  let sums: tf.Tensor[] | undefined;
  let total = 0;
  for (const b of batches) {
    const weighted = tf.tidy(() => f(b).map((t) => tf.mul(t, b.n)));
    const prev = sums;
    sums = prev ? prev.map((s, l) => tf.add(s, at(weighted, l))) : weighted;
    if (prev) tf.dispose([...prev, ...weighted]);
    total += b.n;
  }
  return { sums, total };
}

/**
 * Flow measures on a fixed batch set, training mode, no update (method.md §3): kernel gradients
 * are averaged over the batches (the gradient of the mean loss over the set, equal-size batches),
 * then coupled L2 is added and the norms taken, exactly as in a step. BN moving stats are untouched.
 */
export function measureFlowLayers(net: TrainableNet, batches: Batch[], coupledL2: number): LayerStep[] {
  const L = net.numLayers;
  const v = tf.tidy(() => {
    // Sparse-path layers: Σ n_b·G_b at the active entries (float64); the full G from the dense
    // product (the flow points carry every number exactly, raw L1 included).
    const active: (Float64Array | undefined)[] = net.sparse.map((sk) => (sk ? new Float64Array(sk.k) : undefined));
    // Gradients without L2 per batch; L2 added once to the mean.
    const { sums, total } = sumOverBatches(batches, (b) =>
      gradients(net, b, 0).kernelRaw.map((t, l) => {
        if (!isSparseRaw(t)) return t;
        const acc = active[l] as Float64Array;
        for (let i = 0; i < acc.length; i++) acc[i]! += b.n * t.grad.active[i]!;
        return fullGradient(t.grad);
      }),
    );
    if (!sums || total === 0) return tf.zeros([L * NORM_SLOTS]);
    const parts = sums.map((s, l) => {
      const mean = tf.div(s, total);
      const sk = net.sparse[l];
      const acc = active[l];
      if (sk && acc) {
        const ga = Float32Array.from(acc, (x) => x / total);
        const grad: SparseGrad = { kind: 'sparse', layer: l, active: ga, dzT: tf.zeros([0, 0]), inputT: tf.zeros([0, 0]) };
        return sparseNormTensor(sparseRaw(grad, ga, sk.values, coupledL2), { l1: true, l2: true }, mean);
      }
      const raw = coupledL2 > 0 ? tf.add(mean, tf.mul(net.kernel(l), coupledL2)) : mean;
      return layerNormTensor(raw, net.masks[l] ? net.applyMask(l, raw) : undefined, net.onesCols[l], net.activeIndex[l]);
    });
    return tf.concat(parts);
  });
  const values = v.dataSync();
  v.dispose();
  return decodeLayerNorms(values, 0, net.layerInfo.map((i) => i.active));
}

/** Loss and accuracy of a split in eval mode, batched; one transfer at the end. */
export function evaluate(net: TrainableNet, batches: Batch[]): { loss: number; accuracy: number } {
  let n = 0;
  for (const b of batches) n += b.n;
  if (n === 0) return { loss: NaN, accuracy: NaN };
  // Running sums stay on the backend; each batch's activations are freed by its own tidy.
  let acc: tf.Tensor = tf.zeros([2]);
  for (const b of batches) {
    const next = tf.tidy(() => {
      const logits = net.predict(b.x);
      const loss = tf.mul(crossEntropyLoss(logits, b.y), b.n);
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), b.labels), 'float32'));
      return tf.add(acc, tf.stack([loss, correct]));
    });
    acc.dispose();
    acc = next;
  }
  const v = acc;
  const sums = v.dataSync();
  v.dispose();
  const l = at(sums, 0);
  const c = at(sums, 1);

  return { loss: l / n, accuracy: c / n };
}
