/**
 * MLP of masked dense layers: [Linear → (BatchNorm) → activation (+ identity skip)] × H → Linear.
 * Kernels are [fanIn, fanOut]; pruned entries are stored as exact zeros and a constant 0/1 mask
 * tensor is kept per masked layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, NetRole } from '../shared/experiment';
import type { LayerInfo } from '../shared/protocol';
import { createActivation, type ActivationLayer } from './activations';
import {
  batchNormBackward,
  batchNormEval,
  batchNormTrain,
  createBatchNorm,
  denseBackward,
  denseForward,
  disposeBatchNorm,
  type BatchNormCache,
  type BatchNormLayer,
} from './layers';
import { deadUnits, type LayerMaskPlan } from './masks';

export interface NetSpec {
  role: NetRole;
  inputs: number;
  classes: number;
  width: number;
  hiddenLayers: number;
  activation: Activation;
  batchNorm: boolean;
  skip: boolean;
  /** Kernels (pruned entries zero) and masks from masks.planLayers. */
  plans: LayerMaskPlan[];
}

/** What the backward pass needs from one hidden layer's forward pass. */
interface HiddenCache {
  /** Input of the layer (data or the previous hidden output). */
  input: tf.Tensor2D;
  /** Pre-activation (after BN when BN is on). */
  z: tf.Tensor2D;
  /** Activation output (before the skip is added). */
  a: tf.Tensor2D;
  bn?: BatchNormCache;
}

export interface ForwardResult {
  logits: tf.Tensor2D;
  /** Present in training mode: everything backward() needs. */
  cache?: { hidden: HiddenCache[]; lastInput: tf.Tensor2D; inputT?: tf.Tensor2D };
}

/** Gradients in `MaskedMLP.params` order; kernel gradients are RAW (unmasked). */
export type ParamGrads = tf.Tensor[];

export type ParamKind = 'kernel' | 'bias' | 'bn' | 'activation';

export interface NetParam {
  variable: tf.Variable;
  kind: ParamKind;
  /** Weight layer index (0-based). */
  layer: number;
}

export function layerName(l: number, hiddenLayers: number): string {
  return l === hiddenLayers ? 'output' : `dense${l + 1}`;
}

export class MaskedMLP {
  readonly spec: NetSpec;
  readonly kernels: tf.Variable[];
  readonly biases: tf.Variable[];
  /** 0/1 mask per weight layer; undefined for unmasked layers. */
  readonly masks: (tf.Tensor2D | undefined)[];
  /** 1 − mask per masked layer, for the integrity check. */
  private readonly pruned: (tf.Tensor2D | undefined)[];
  /** Column of ones [fanOut, 1] per layer: reductions as products (see flow.ts). */
  readonly onesCols: tf.Tensor2D[];
  readonly activations: ActivationLayer[];
  readonly bns: BatchNormLayer[];
  /** Hidden layers that add an identity skip (consecutive equal-width hidden layers). */
  readonly skips: boolean[];
  readonly layerInfo: LayerInfo[];
  /** All trainable parameters, kernels first (in layer order) so gradient lists line up. */
  readonly params: NetParam[];

  constructor(spec: NetSpec) {
    this.spec = spec;
    const H = spec.hiddenLayers;
    if (spec.plans.length !== H + 1) throw new Error(`expected ${H + 1} layer plans, got ${spec.plans.length}`);
    this.kernels = spec.plans.map((p) =>
      tf.tidy(() => tf.variable(tf.tensor2d(p.kernel, [p.shape.fanIn, p.shape.fanOut]), true)),
    );
    this.biases = spec.plans.map((p) => tf.tidy(() => tf.variable(tf.zeros([p.shape.fanOut]), true)));
    // Variables are created inside tidy: tf.variable(t) keeps t's data but leaves the tensor object t
    // registered, which would otherwise count as a leaked tensor.
    this.masks = spec.plans.map((p) => (p.mask ? tf.tensor2d(p.mask, [p.shape.fanIn, p.shape.fanOut]) : undefined));
    this.pruned = this.masks.map((m) => (m ? (tf.sub(1, m) as tf.Tensor2D) : undefined));
    this.onesCols = spec.plans.map((p) => tf.ones([p.shape.fanOut, 1]) as tf.Tensor2D);
    this.activations = [];
    this.bns = [];
    this.skips = [];
    for (let l = 0; l < H; l++) {
      const units = spec.plans[l].shape.fanOut;
      this.activations.push(createActivation(spec.activation, units));
      if (spec.batchNorm) this.bns.push(createBatchNorm(units));
      // Skip needs an input of the same width: hidden layer l ≥ 1 (its input is hidden layer l−1).
      this.skips.push(spec.skip && l > 0 && spec.plans[l].shape.fanIn === units);
    }
    this.layerInfo = spec.plans.map((p, l) => ({
      name: layerName(l, H),
      fanIn: p.shape.fanIn,
      fanOut: p.shape.fanOut,
      active: p.active,
      total: p.shape.fanIn * p.shape.fanOut,
      density: p.active / (p.shape.fanIn * p.shape.fanOut),
      deadUnits: p.mask ? deadUnits(p.mask, p.shape) : 0,
    }));
    const params: NetParam[] = this.kernels.map((v, layer) => ({ variable: v, kind: 'kernel' as const, layer }));
    this.biases.forEach((v, layer) => params.push({ variable: v, kind: 'bias', layer }));
    this.bns.forEach((bn, layer) => {
      params.push({ variable: bn.gamma, kind: 'bn', layer });
      params.push({ variable: bn.beta, kind: 'bn', layer });
    });
    this.activations.forEach((a, layer) => a.params.forEach((p) => params.push({ variable: p.variable, kind: 'activation', layer })));
    this.params = params;
  }

  get role(): NetRole {
    return this.spec.role;
  }

  get numLayers(): number {
    return this.kernels.length;
  }

  get activeWeights(): number {
    return this.layerInfo.reduce((s, l) => s + l.active, 0);
  }

  /**
   * t ⊙ m for layer l (t itself for an unmasked layer). A multiply, not a select: tf.where is ~40×
   * slower than a multiply on wasm. Consequences, both harmless: a negative entry masks to −0
   * (=== 0), and a NaN/Inf entry masks to NaN — only after a non-finite gradient, which is reported
   * as such.
   */
  applyMask(l: number, t: tf.Tensor): tf.Tensor {
    const m = this.masks[l];
    return m ? tf.mul(t, m) : t;
  }

  /** Σ|w| over the pruned entries of kernel l (0 when the mask holds); undefined if unmasked. */
  prunedMass(l: number): tf.Scalar | undefined {
    const p = this.pruned[l];
    return p ? (tf.sum(tf.abs(tf.mul(this.kernels[l], p))) as tf.Scalar) : undefined;
  }

  /**
   * Forward pass. Training mode normalises BN layers with batch statistics and returns the cache
   * for backward(); it does not touch the moving statistics (see updateMovingStats). Call inside a
   * tidy.
   */
  forward(x: tf.Tensor2D, training: boolean, xT?: tf.Tensor2D): ForwardResult {
    const H = this.spec.hiddenLayers;
    const hidden: HiddenCache[] = [];
    // ReLU without BN fuses into the matMul kernel; its derivative is read from the output.
    const fuseRelu = this.spec.activation === 'relu' && !this.spec.batchNorm;
    let h = x;
    for (let l = 0; l < H; l++) {
      const lin = denseForward(h, this.kernels[l] as tf.Tensor2D, this.biases[l] as tf.Tensor1D, fuseRelu);
      let z = lin;
      let bn: BatchNormCache | undefined;
      if (this.spec.batchNorm) {
        if (training) {
          const r = batchNormTrain(lin, this.bns[l]);
          z = r.y;
          bn = r.cache;
        } else {
          z = batchNormEval(lin, this.bns[l]);
        }
      }
      const a = fuseRelu ? lin : this.activations[l].forward(z);
      if (training) hidden.push(bn ? { input: h, z, a, bn } : { input: h, z, a });
      h = this.skips[l] ? tf.add(a, h) : a;
    }
    const logits = denseForward(h, this.kernels[H] as tf.Tensor2D, this.biases[H] as tf.Tensor1D);
    return training ? { logits, cache: xT ? { hidden, lastInput: h, inputT: xT } : { hidden, lastInput: h } } : { logits };
  }

  /** Backward pass from dL/dlogits. Returns gradients aligned with `params`. Call inside a tidy. */
  backward(dLogits: tf.Tensor2D, cache: NonNullable<ForwardResult['cache']>): ParamGrads {
    const H = this.spec.hiddenLayers;
    const L = H + 1;
    const dW: tf.Tensor[] = new Array<tf.Tensor>(L);
    const db: tf.Tensor[] = new Array<tf.Tensor>(L);
    const dGamma: tf.Tensor[] = [];
    const dBeta: tf.Tensor[] = [];
    const dAct: tf.Tensor[][] = [];
    const out = denseBackward(cache.lastInput, this.kernels[H] as tf.Tensor2D, dLogits, H > 0, H === 0 ? cache.inputT : undefined);
    dW[H] = out.dW;
    db[H] = out.db;
    let dh: tf.Tensor2D | undefined = out.dx;
    for (let l = H - 1; l >= 0; l--) {
      const c = cache.hidden[l];
      if (!dh) throw new Error('internal: missing upstream gradient');
      const act = this.activations[l].backward(c.z, c.a, dh as tf.Tensor2D);
      dAct[l] = act.dParams;
      let dz = act.dz;
      if (c.bn) {
        const b = batchNormBackward(dz, this.bns[l], c.bn);
        dz = b.dx;
        dGamma[l] = b.dGamma;
        dBeta[l] = b.dBeta;
      }
      const g = denseBackward(c.input, this.kernels[l] as tf.Tensor2D, dz, l > 0, l === 0 ? cache.inputT : undefined);
      dW[l] = g.dW;
      db[l] = g.db;
      // Identity skip: the layer's input also receives the upstream gradient directly.
      dh = this.skips[l] && g.dx ? (tf.add(g.dx, dh) as tf.Tensor2D) : g.dx;
    }
    const grads: tf.Tensor[] = [...dW, ...db];
    for (let l = 0; l < this.bns.length; l++) grads.push(dGamma[l], dBeta[l]);
    for (let l = 0; l < this.activations.length; l++) grads.push(...dAct[l]);
    return grads;
  }

  /** BN batch statistics of a training forward pass, for the moving-average update. */
  static bnStats(cache: NonNullable<ForwardResult['cache']>): { layer: number; mean: tf.Tensor1D; variance: tf.Tensor1D }[] {
    const out: { layer: number; mean: tf.Tensor1D; variance: tf.Tensor1D }[] = [];
    cache.hidden.forEach((c, layer) => {
      if (c.bn) out.push({ layer, mean: c.bn.mean, variance: c.bn.variance });
    });
    return out;
  }

  dispose(): void {
    this.kernels.forEach((v) => v.dispose());
    this.biases.forEach((v) => v.dispose());
    this.masks.forEach((m) => m?.dispose());
    this.pruned.forEach((m) => m?.dispose());
    this.onesCols.forEach((m) => m.dispose());
    this.activations.forEach((a) => a.dispose());
    this.bns.forEach((b) => disposeBatchNorm(b));
  }
}
