/**
 * MLP of masked dense layers: [Linear → (BatchNorm) → activation (+ identity skip)] × H → Linear.
 *
 * Internal layout (why): kernels are stored as V = Wᵀ, [fanOut, fanIn] (PyTorch's Linear layout),
 * and activations travel unit-major, hᵀ = [units, batch]. The forward product is then
 * zᵀ = V·hᵀ and the backward products dV = dzᵀ·h and dhᵀ = Vᵀ·dzᵀ. On wasm, XNNPACK packs the
 * right-hand operand of a product and caches the packing per tensor; kernels are new tensors after
 * every update, so with the usual x·W layout the large kernel is re-packed twice per step, while
 * here only batch-sized operands are (measured ≈ 14 % less time in the products, bench/).
 * Plans, masks given to the constructor and `kernelArray()` use the [fanIn, fanOut] row-major
 * convention of masks.ts; the mask tensors are stored transposed like the kernels.
 * Pruned kernel entries are stored as exact zeros, so the forward pass needs no mask multiply; the
 * backward pass returns the RAW kernel gradient (pruned positions included), which the caller masks
 * for EGF and the optimizer (method.md §3). Transposes are materialised (tf.transpose, then a plain
 * product): TF.js's transposed matMul is 6–15× slower on wasm (docs/environment.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import { tensorValues } from './heap';
import type { Activation, NetRole } from '../shared/experiment';
import type { LayerInfo } from '../shared/protocol';
import { createActivation, type ActivationLayer } from './activations';
import {
  batchNormBackward,
  batchNormEval,
  batchNormTrain,
  BN_EPSILON,
  BN_MOMENTUM,
  createBatchNorm,
  disposeBatchNorm,
  updateMovingStats,
  type BatchNormCache,
  type BatchNormLayer,
} from './layers';
import { sumAll, type ActiveIndex } from './flow';
import { activePaths, deadUnits, type LayerMaskPlan, type PathReport } from './masks';
import {
  fullGradient,
  isSparseGrad,
  type KernelGrad,
  type KernelPath,
  type NetMemory,
  type NetParam,
  type ParamGrads,
  type TrainableNet,
  type TrainingPass,
} from './net';
import type { Optimizer } from './optimizers';
import { SparseKernel, sparseKernels, typescriptKernels, type SparseKernels } from './sparse';
import { at } from '../shared/checked';

// The net interface's types, re-exported for the code that knew them from here.
export { isSparseGrad, type KernelGrad, type KernelPath, type NetParam, type ParamGrads, type ParamKind, type SparseGrad } from './net';

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
  /** BatchNorm ε and moving-average momentum (defaults BN_EPSILON, BN_MOMENTUM: PyTorch's). */
  bnEpsilon?: number;
  bnMomentum?: number;
  /** Execution path per weight layer (default all 'dense'): see kernelPaths() in train.ts. */
  paths?: KernelPath[];
  /** Kernels of the sparse path (default: wasm SIMD if available, else TypeScript). */
  sparseKernels?: SparseKernels;
}

/** What the backward pass needs from one hidden layer's forward pass. */
interface HiddenCache {
  /** Input of the layer, unit-major [in, batch]. */
  inputT: tf.Tensor2D;
  /** Pre-activation (after BN when BN is on), [units, batch]. */
  z: tf.Tensor2D;
  /** Activation output (before the skip is added), [units, batch]. */
  a: tf.Tensor2D;
  bn?: BatchNormCache;
}

export interface ForwardResult {
  /** [batch, classes]. */
  logits: tf.Tensor2D;
  /** Present in training mode: everything backward() needs. */
  cache?: { hidden: HiddenCache[]; lastInputT: tf.Tensor2D; x: tf.Tensor2D };
}

export function layerName(l: number, hiddenLayers: number): string {
  return l === hiddenLayers ? 'output' : `dense${l + 1}`;
}

/**
 * Above this density the masked norms are reduced over the whole masked gradient instead of gathered:
 * on wasm a gathered entry costs ≈ 6–10 ns, the dense abs/square + pooled sums ≈ 1.1 ns per entry of
 * the layer (probed on 3076×3076 and 3076×784), so gathering pays below ≈ 15 % density (≈ 2× at the
 * 10 % of the SC-SDC input layer, ≈ 10× at the 1 % of its hidden layer).
 */
export const GATHER_MAX_DENSITY = 0.15;
/** Row length of the gathered active entries (their sums are reduced row by row, then over rows). */
const GATHER_ROW = 1024;

/**
 * Stored-layout (row = output unit, col = input) positions of a mask's active entries, in row-major
 * order, as a [q, c, 2] index padded at the end with one pruned position (whose masked value is 0).
 * Undefined when gathering does not pay (dense-ish mask) or cannot pad (no pruned or no active entry).
 */
function activeIndexOf(mask: Float32Array, fanIn: number, fanOut: number): ActiveIndex | undefined {
  const n = fanIn * fanOut;
  let k = 0;
  for (let i = 0; i < n; i++) if (mask[i] !== 0) k++;
  if (k === 0 || k === n || k / n > GATHER_MAX_DENSITY) return undefined;
  const c = Math.min(GATHER_ROW, k);
  const q = Math.ceil(k / c);
  const idx = new Int32Array(2 * q * c);
  let j = 0;
  let prunedRow = -1;
  let prunedCol = -1;
  // The mask is [fanIn, fanOut] row-major: stored entry (r, col) is mask[col·fanOut + r].
  for (let r = 0; r < fanOut; r++) {
    for (let col = 0, i = r; col < fanIn; col++, i += fanOut) {
      if (mask[i] !== 0) {
        idx[j++] = r;
        idx[j++] = col;
      } else if (prunedRow < 0) {
        prunedRow = r;
        prunedCol = col;
      }
    }
  }
  while (j < idx.length) {
    idx[j++] = prunedRow;
    idx[j++] = prunedCol;
  }
  return { idx: tf.tensor3d(idx, [q, c, 2], 'int32'), onesCol: tf.ones([c, 1]) as tf.Tensor2D };
}

/** The values of a temporary float32 tensor, which is then freed. */
function readOnce(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/**
 * A sparse kernel's product as a tensor. The array may be a view into the kernels' memory that the
 * next kernel call overwrites (sparse.ts): the wasm backend copies it into its own heap when the
 * tensor is made; other backends may keep the array itself, so it is copied first.
 */
function kernelOutput(a: Float32Array, shape: [number, number]): tf.Tensor2D {
  return tf.tensor2d(tf.getBackend() === 'wasm' ? a : a.slice(), shape);
}

export class MaskedMLP implements TrainableNet {
  readonly spec: NetSpec;
  /** Stored kernels of the dense-path layers (undefined for sparse-path layers). */
  readonly kernels: (tf.Variable | undefined)[];
  /** Sparse-path layers (undefined for dense-path layers). */
  readonly sparse: (SparseKernel | undefined)[];
  readonly paths: KernelPath[];
  /** Whether layer l has a mask (either path). */
  readonly masked: boolean[];
  readonly biases: tf.Variable[];
  /** 0/1 mask per weight layer; undefined for unmasked layers. */
  readonly masks: (tf.Tensor2D | undefined)[];
  /** 1 − mask per masked layer, for the integrity check. */
  private readonly pruned: (tf.Tensor2D | undefined)[];
  /** The current 0/1 mask per masked layer, [fanIn, fanOut] row-major (masks.ts convention). */
  private readonly maskData: (Float32Array | undefined)[];
  /** Optimizers whose state must follow mask changes (attachOptimizer). */
  private readonly optimizers: Optimizer[] = [];
  /** Column of ones [fanIn, 1] per layer (stored kernels are [fanOut, fanIn]): reductions as products (see flow.ts). */
  readonly onesCols: tf.Tensor2D[];
  /**
   * Per masked layer of density ≤ GATHER_MAX_DENSITY: where its active entries are, so the masked
   * norms reduce only those (flow.layerNormTensor); undefined otherwise.
   */
  readonly activeIndex: (ActiveIndex | undefined)[];
  readonly activations: ActivationLayer[];
  readonly bns: BatchNormLayer[];
  /** Hidden layers that add an identity skip (consecutive equal-width hidden layers). */
  readonly skips: boolean[];
  readonly layerInfo: LayerInfo[];
  /** All tf trainable parameters: dense-path kernels first (in layer order), then biases, BN, activations. */
  readonly params: NetParam[];

  constructor(spec: NetSpec) {
    this.spec = spec;
    const H = spec.hiddenLayers;
    if (spec.plans.length !== H + 1) throw new Error(`expected ${H + 1} layer plans, got ${spec.plans.length}`);
    // Variables are created inside tidy: tf.variable(t) keeps t's data but leaves the tensor object t
    // registered, which would otherwise count as a leaked tensor.
    const stored = (a: Float32Array, p: LayerMaskPlan): tf.Tensor2D => tf.transpose(tf.tensor2d(a, [p.shape.fanIn, p.shape.fanOut]));
    this.paths = spec.plans.map((_p, l) => spec.paths?.[l] ?? 'dense');
    const dense = (l: number): boolean => this.paths[l] === 'dense';
    this.masked = spec.plans.map((p) => p.mask !== undefined);
    const kernels = spec.sparseKernels ?? (this.paths.includes('sparse') ? sparseKernels().kernels : typescriptKernels);
    this.kernels = spec.plans.map((p, l) => (dense(l) ? tf.tidy(() => tf.variable(stored(p.kernel, p), true)) : undefined));
    this.sparse = spec.plans.map((p, l) => (dense(l) ? undefined : new SparseKernel(p.shape.fanIn, p.shape.fanOut, p.kernel, p.mask, kernels)));
    this.biases = spec.plans.map((p) => tf.tidy(() => tf.variable(tf.zeros([p.shape.fanOut]), true)));
    this.maskData = spec.plans.map((p, l) => (p.mask && dense(l) ? Float32Array.from(p.mask) : undefined));
    this.masks = spec.plans.map((p, l) => (p.mask && dense(l) ? tf.tidy(() => stored(p.mask as Float32Array, p)) : undefined));
    this.pruned = this.masks.map((m) => (m ? (tf.sub(1, m) as tf.Tensor2D) : undefined));
    this.onesCols = spec.plans.map((p, l) => (dense(l) ? tf.ones([p.shape.fanIn, 1]) : tf.ones([1, 1])) as tf.Tensor2D);
    this.activeIndex = spec.plans.map((p, l) => (p.mask && dense(l) ? activeIndexOf(p.mask, p.shape.fanIn, p.shape.fanOut) : undefined));
    this.activations = [];
    this.bns = [];
    this.skips = [];
    for (let l = 0; l < H; l++) {
      const units = at(spec.plans, l).shape.fanOut;
      this.activations.push(createActivation(spec.activation, units, 'unit-major'));
      if (spec.batchNorm) this.bns.push(createBatchNorm(units));
      // Skip needs an input of the same width: hidden layer l ≥ 1 (its input is hidden layer l−1).
      this.skips.push(spec.skip && l > 0 && at(spec.plans, l).shape.fanIn === units);
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
    const params: NetParam[] = [];
    this.kernels.forEach((v, layer) => {
      if (v) params.push({ variable: v, kind: 'kernel', layer });
    });
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

  /** Hidden units per layer (NetInfo.width). */
  get width(): number {
    return this.spec.width;
  }

  readonly widthOf = 'units';

  get numLayers(): number {
    return this.kernels.length;
  }

  /** Stored kernel of dense-path layer l (throws for a sparse-path layer). */
  kernel(l: number): tf.Variable {
    const v = this.kernels[l];
    if (!v) throw new Error(`internal: layer ${l} is on the sparse path`);
    return v;
  }

  /** The tensor of a dense-path kernel gradient (throws for a sparse one). */
  static denseGrad(g: KernelGrad): tf.Tensor {
    if (isSparseGrad(g)) throw new Error(`internal: layer ${g.layer} has a sparse gradient`);
    return g;
  }

  /**
   * Bytes held by the kernels, per kind: `parameters` = weights (stored kernels with their pruned
   * zeros on the dense path, active weights on the sparse path) + biases, BN and activation
   * parameters; `index` = masks (dense path: mask, 1 − mask and the gather index) or the sparse index;
   * `optimizer` = optimizer state (from `opt`, tf slots and sparse slots).
   */
  memoryBytes(opt?: Optimizer): NetMemory {
    let parameters = 0;
    let index = 0;
    let optimizer = 0;
    for (const p of this.params) parameters += 4 * p.variable.size;
    for (const sk of this.sparse) {
      if (!sk) continue;
      const b = sk.bytes();
      parameters += b.parameters;
      index += b.index;
      optimizer += b.optimizer;
    }
    for (let l = 0; l < this.numLayers; l++) {
      const m = this.masks[l];
      if (m) index += 2 * 4 * m.size;
      const ai = this.activeIndex[l];
      if (ai) index += 4 * ai.idx.size;
    }
    if (opt) optimizer += opt.stateBytes();
    return { parameters, index, optimizer };
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
    return p ? sumAll(tf.abs(tf.mul(this.kernel(l), p)), this.onesCols[l]) : undefined;
  }

  /** Kernel l as a row-major [fanIn, fanOut] array (the masks.ts convention), for tests and tools. */
  kernelArray(l: number): Float32Array {
    const sk = this.sparse[l];
    if (sk) return sk.toDense();
    return readOnce(tf.tidy(() => tf.transpose(this.kernel(l))));
  }

  /** Mask of layer l as a row-major [fanIn, fanOut] 0/1 array (a copy); all ones for an unmasked layer. */
  maskArray(l: number): Float32Array {
    const sk = this.sparse[l];
    if (sk && this.masked[l]) return sk.mask();
    const m = this.maskData[l];
    if (m) return Float32Array.from(m);
    const s = at(this.spec.plans, l).shape;
    return new Float32Array(s.fanIn * s.fanOut).fill(1);
  }

  /**
   * The optimizer state of kernel l, one row-major [fanIn, fanOut] array per slot (pruned entries 0),
   * for tests and tools; [] before the first update.
   */
  kernelState(l: number, opt: Optimizer): Float32Array[] {
    const sk = this.sparse[l];
    if (sk) return sk.slots.map((s) => sk.scatter(s));
    const slots = opt.slotsOf(this.kernel(l)) ?? [];
    return slots.map((v) => readOnce(tf.tidy(() => tf.transpose(v))));
  }

  /**
   * Register an optimizer whose per-entry state follows mask changes (updateMask resets the state of
   * dropped and grown entries). trainExperiment attaches each net's optimizer.
   */
  attachOptimizer(opt: Optimizer): void {
    if (!this.optimizers.includes(opt)) this.optimizers.push(opt);
  }

  /**
   * Change the mask of masked layer l (dynamic sparsity). `drop` and `grow` are flat [fanIn, fanOut]
   * indices: dropped entries must be active, grown ones pruned (an index in both is dropped, then
   * grown). Dropped weights become 0 with zero optimizer state and leave the active set; newly grown
   * ones (old mask 0) enter at value 0 with zero optimizer state; surviving weights, and weights
   * dropped and grown back in the same call, keep their value and optimizer state (the published
   * RigL: a connection is new only if its old mask was 0). Layer info (active
   * count, density, dead units) and the gather index of the masked norms are rebuilt.
   */
  updateMask(l: number, drop: Int32Array, grow: Int32Array): void {
    const old = this.masked[l] ? this.maskArray(l) : undefined;
    if (!old) throw new Error(`updateMask: layer ${l} (${this.layerInfo[l]?.name ?? '?'}) is not masked`);
    const shape = at(this.spec.plans, l).shape;
    const n = shape.fanIn * shape.fanOut;
    const next = Float32Array.from(old);
    for (const i of drop) {
      if (!(i >= 0 && i < n)) throw new Error(`updateMask: drop index ${i} outside 0..${n - 1} (layer ${l})`);
      if (old[i] === 0) throw new Error(`updateMask: drop index ${i} is not active (layer ${l})`);
      next[i] = 0;
    }
    for (const i of grow) {
      if (!(i >= 0 && i < n)) throw new Error(`updateMask: grow index ${i} outside 0..${n - 1} (layer ${l})`);
      if (next[i] !== 0) throw new Error(`updateMask: grow index ${i} is already active (layer ${l})`);
      next[i] = 1;
    }
    let active = 0;
    for (let i = 0; i < n; i++) if (next[i] !== 0) active++;
    const info = at(this.layerInfo, l);
    info.active = active;
    info.density = active / n;
    info.deadUnits = deadUnits(next, shape);
    const sk = this.sparse[l];
    if (sk) {
      // Values and state travel with the index (dropped-and-regrown entries included); new entries start at 0.
      sk.remask(next, new Set<number>());
      return;
    }
    // keep = the new mask: dropped entries reset, regrown and surviving ones unchanged, new ones
    // (already 0 with zero state, being pruned until now) reset too.
    const keep = Float32Array.from(next);
    for (const i of grow) if (old[i] === 0) keep[i] = 0;
    this.maskData[l] = next;
    const stored = (a: Float32Array): tf.Tensor2D => tf.tidy(() => tf.transpose(tf.tensor2d(a, [shape.fanIn, shape.fanOut])));
    this.masks[l]?.dispose();
    this.pruned[l]?.dispose();
    const m = stored(next);
    this.masks[l] = m;
    this.pruned[l] = tf.tidy(() => tf.sub(1, m) as tf.Tensor2D);
    const ai = this.activeIndex[l];
    ai?.idx.dispose();
    ai?.onesCol.dispose();
    this.activeIndex[l] = activeIndexOf(next, shape.fanIn, shape.fanOut);
    const keepT = stored(keep);
    const v = this.kernel(l);
    // + 0 turns the −0 of a dropped negative weight (w·0) into +0, as on the sparse path.
    tf.tidy(() => v.assign(tf.add(tf.mul(v, keepT), 0) as tf.Tensor2D));
    for (const opt of this.optimizers) opt.resetState(v, keepT);
    keepT.dispose();
  }

  /**
   * The raw gradient dL/dW of layer l at ALL positions (pruned ones included, no coupled L2, no
   * mask), as a row-major [fanIn, fanOut] array: RigL's grow criterion. Training-mode forward and
   * backward on `batch`; no update, BN moving statistics untouched.
   */
  denseKernelGradient(l: number, batch: { x: tf.Tensor2D; xT?: tf.Tensor2D; y: tf.Tensor2D }): Float32Array {
    if (!(l >= 0 && l < this.numLayers)) throw new Error(`denseKernelGradient: no layer ${l}`);
    const g = tf.tidy(() => {
      const fwd = this.forward(batch.x, true, batch.xT);
      if (!fwd.cache) throw new Error('internal: training forward pass returned no cache');
      const n = fwd.logits.shape[0];
      const dLogits = tf.div(tf.sub(tf.softmax(fwd.logits), batch.y), n) as tf.Tensor2D;
      return tf.transpose(MaskedMLP.fullGradient(at(this.backward(dLogits, fwd.cache).kernels, l)));
    });
    const out = g.dataSync() as Float32Array;
    g.dispose();
    return out;
  }

  /** The full stored-layout [fanOut, fanIn] kernel gradient; for a sparse layer the dense product dzᵀ·h. Call inside a tidy. */
  static fullGradient(g: KernelGrad): tf.Tensor {
    return fullGradient(g);
  }

  /** A stored-layout gradient or kernel tensor (or a sparse gradient, made full) as a row-major [fanIn, fanOut] array. */
  static toInOut(t: KernelGrad): Float32Array {
    return readOnce(tf.tidy(() => tf.transpose(fullGradient(t))));
  }

  /** zᵀ = V·hᵀ of layer l (no bias). */
  private product(l: number, hT: tf.Tensor2D): tf.Tensor2D {
    const sk = this.sparse[l];
    if (!sk) return tf.fused.matMul({ a: this.kernel(l) as tf.Tensor2D, b: hT }) as tf.Tensor2D;
    const B = hT.shape[1];
    return kernelOutput(sk.forward(tensorValues(hT), B), [sk.fanOut, B]);
  }

  /**
   * Forward pass. x is [batch, features]; xT, if given, is its transpose (shared by both nets of an
   * SC-SDC pair; computed here otherwise). Training mode normalises BN layers with batch statistics
   * and returns the cache for backward(); it does not touch the moving statistics (see
   * updateMovingStats). Call inside a tidy.
   */
  forward(x: tf.Tensor2D, training: boolean, xT?: tf.Tensor2D): ForwardResult {
    const H = this.spec.hiddenLayers;
    const hidden: HiddenCache[] = [];
    let hT = xT ?? (tf.transpose(x) as tf.Tensor2D);
    for (let l = 0; l < H; l++) {
      const units = at(this.spec.plans, l).shape.fanOut;
      // zᵀ = V·hᵀ + b (bias as a column: the fused kernel's bias is per output column = per example
      // in this layout, so it is added separately).
      const prod = this.product(l, hT);
      const lin = tf.add(prod, tf.reshape(at(this.biases, l), [units, 1])) as tf.Tensor2D;
      let z = lin;
      let bn: BatchNormCache | undefined;
      if (this.spec.batchNorm) {
        if (training) {
          const r = batchNormTrain(lin, at(this.bns, l), this.spec.bnEpsilon ?? BN_EPSILON, 1);
          z = r.y;
          bn = r.cache;
        } else {
          z = batchNormEval(lin, at(this.bns, l), this.spec.bnEpsilon ?? BN_EPSILON, 1);
        }
      }
      const a = at(this.activations, l).forward(z);
      if (training) hidden.push({ inputT: hT, z, a, ...(bn ? { bn } : {}) });
      hT = this.skips[l] ? (tf.add(a, hT) as tf.Tensor2D) : a;
    }
    const C = at(this.spec.plans, H).shape.fanOut;
    const out = this.product(H, hT);
    const logitsT = tf.add(out, tf.reshape(at(this.biases, H), [C, 1]));
    const logits = tf.transpose(logitsT) as tf.Tensor2D;
    return training ? { logits, cache: { hidden, lastInputT: hT, x } } : { logits };
  }

  /** Backward pass from dL/dlogits [batch, classes]. Returns gradients aligned with `params`. Call inside a tidy. */
  backward(dLogits: tf.Tensor2D, cache: NonNullable<ForwardResult['cache']>): ParamGrads {
    const H = this.spec.hiddenLayers;
    const L = H + 1;
    const dW: KernelGrad[] = new Array<KernelGrad>(L);
    const db: tf.Tensor[] = new Array<tf.Tensor>(L);
    const dGamma: tf.Tensor[] = [];
    const dBeta: tf.Tensor[] = [];
    const dAct: tf.Tensor[][] = [];
    // One layer's products: dV = dzᵀ·h (h batch-major: the data itself for layer 0, otherwise the
    // materialised transpose of hᵀ); db = Σ_batch; dhᵀ = Vᵀ·dzᵀ (materialised Vᵀ) when needed.
    // Sparse-path layer: the gradient at the active entries and dhᵀ from the sparse kernels.
    const layerBackward = (l: number, dzT: tf.Tensor2D, inputT: tf.Tensor2D): tf.Tensor2D | undefined => {
      db[l] = tf.sum(dzT, 1);
      const sk = this.sparse[l];
      if (sk) {
        const B = dzT.shape[1];
        const r = sk.backprop(tensorValues(dzT), tensorValues(inputT), B, l > 0);
        dW[l] = { kind: 'sparse', layer: l, active: r.grad, dzT, inputT, kernels: sk.kernels };
        return r.dInput ? kernelOutput(r.dInput, [sk.fanIn, B]) : undefined;
      }
      const h = l === 0 ? cache.x : (tf.transpose(inputT) as tf.Tensor2D);
      dW[l] = tf.matMul(dzT, h);
      return l > 0 ? (tf.matMul(tf.transpose(this.kernel(l) as tf.Tensor2D), dzT) as tf.Tensor2D) : undefined;
    };
    let dhT = layerBackward(H, tf.transpose(dLogits) as tf.Tensor2D, cache.lastInputT);
    for (let l = H - 1; l >= 0; l--) {
      const c = at(cache.hidden, l);
      if (!dhT) throw new Error('internal: missing upstream gradient');
      const act = at(this.activations, l).backward(c.z, c.a, dhT);
      dAct[l] = act.dParams;
      let dz = act.dz;
      if (c.bn) {
        const b = batchNormBackward(dz, at(this.bns, l), c.bn);
        dz = b.dx;
        dGamma[l] = b.dGamma;
        dBeta[l] = b.dBeta;
      }
      const dIn = layerBackward(l, dz, c.inputT);
      // Identity skip: the layer's input also receives the upstream gradient directly.
      dhT = this.skips[l] && dIn ? (tf.add(dIn, dhT) as tf.Tensor2D) : dIn;
    }
    const other: tf.Tensor[] = [...db];
    for (let l = 0; l < this.bns.length; l++) other.push(at(dGamma, l), at(dBeta, l));
    for (let l = 0; l < this.activations.length; l++) other.push(...at(dAct, l));
    return { kernels: dW, other };
  }

  /** BN batch statistics of a training forward pass, for the moving-average update. */
  static bnStats(cache: NonNullable<ForwardResult['cache']>): { layer: number; mean: tf.Tensor1D; variance: tf.Tensor1D }[] {
    const out: { layer: number; mean: tf.Tensor1D; variance: tf.Tensor1D }[] = [];
    cache.hidden.forEach((c, layer) => {
      if (c.bn) out.push({ layer, mean: c.bn.mean, variance: c.bn.variance });
    });
    return out;
  }

  /** TrainableNet: a training forward pass with its backward pass and BN statistics update bound to it. Call inside a tidy. */
  trainingPass(x: tf.Tensor2D, xT?: tf.Tensor2D): TrainingPass {
    const fwd = this.forward(x, true, xT);
    const cache = fwd.cache;
    if (!cache) throw new Error('internal: training forward pass returned no cache');
    return {
      logits: fwd.logits,
      backward: (dLogits) => this.backward(dLogits, cache),
      updateMovingStats: () => {
        for (const s of MaskedMLP.bnStats(cache)) updateMovingStats(at(this.bns, s.layer), s.mean, s.variance, this.spec.bnMomentum ?? BN_MOMENTUM);
      },
    };
  }

  /** TrainableNet: eval-mode logits. Call inside a tidy. */
  predict(x: tf.Tensor2D): tf.Tensor2D {
    return this.forward(x, false).logits;
  }

  /** TrainableNet: stored [fanOut, fanIn] → mask order [fanIn, fanOut]. Call inside a tidy. */
  toMaskOrder(_l: number, t: tf.Tensor): tf.Tensor {
    return tf.transpose(t);
  }

  /** TrainableNet: reachability through the initial masks (identity skips carry units on). */
  maskPaths(): PathReport {
    return activePaths(
      this.spec.plans.map((p) => p.mask ?? new Float32Array(p.shape.fanIn * p.shape.fanOut).fill(1)),
      this.spec.plans.map((p) => p.shape),
      [false, ...this.skips.slice(1)].concat([false]),
    );
  }

  dispose(): void {
    this.kernels.forEach((v) => v?.dispose());
    this.sparse.forEach((sk) => sk?.dispose());
    this.biases.forEach((v) => v.dispose());
    this.masks.forEach((m) => m?.dispose());
    this.pruned.forEach((m) => m?.dispose());
    this.onesCols.forEach((m) => m.dispose());
    this.activeIndex.forEach((a) => {
      a?.idx.dispose();
      a?.onesCol.dispose();
    });
    this.activations.forEach((a) => a.dispose());
    this.bns.forEach((b) => disposeBatchNorm(b));
  }
}
