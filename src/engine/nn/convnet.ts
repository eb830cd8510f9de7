/**
 * ConvNet: a conv net built from a Blueprint (arch.ts), with masks on every conv and linear kernel
 * and an explicit backward pass (the CommonJS tfjs-core registers no op gradients, activations.ts).
 *
 * Layout: activations NHWC. Every kernel is STORED as a [fanIn, fanOut] matrix (fanIn = k²·cIn,
 * fanOut = cOut): the conv filter [k, k, cIn, cOut] flattened row-major is exactly that matrix, so
 * the forward pass views it as the 4-D filter (a free reshape), and stored layout = mask order
 * (masks.ts, net.ts): plans, masks, `kernelArray()` and `maskArray()` need no transpose, and
 * flow.ts's fast 2-D reductions apply to conv gradients as they are.
 * Pruned entries are stored as exact zeros (no mask multiply in the forward pass); backward() returns
 * the RAW kernel gradients (pruned positions included), which the caller masks for EGF and the
 * optimizer (method.md §3). BN parameters and biases are never masked or counted.
 *
 * Kernel paths (`engine.sparse_kernels`): a masked conv layer on the 'sparse' path runs its forward
 * pass, input gradient and filter gradient with the direct sparse convolution over its active
 * entries (sparse-conv.ts; WebAssembly SIMD). Its weights, mask and optimizer state stay stored
 * masked-dense as on the 'dense' path (so integrity checks, mask updates, pruning criteria and
 * the optimizer are unchanged); only the products change. The sparse filter gradient covers the
 * active entries only, so backward() returns the RAW gradient (the full masked-dense filter
 * gradient) unless the caller says it needs no raw norms (`rawKernels: false`, step.ts on steps off
 * the raw-norm cadence): then a sparse-path layer returns its active-entry gradient with zeros at
 * pruned positions, which equals raw ⊙ mask, the only thing such a step uses.
 *
 * ConvNet implements TrainableNet (net.ts), so the training loop, step.ts, flow points, mask
 * integrity, dynamic sparsity and the pruning criteria drive it as they drive MaskedMLP.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NetRole } from '../../shared/experiment';
import type { LayerInfo } from '../../shared/protocol';
import { createActivation, type ActivationLayer } from '../activations';
import { sumAll, type ActiveIndex } from '../flow';
import {
  batchNormBackward,
  batchNormEval,
  batchNormTrain,
  BN_EPSILON,
  createBatchNorm,
  disposeBatchNorm,
  updateMovingStats,
  BN_MOMENTUM,
  type BatchNormCache,
  type BatchNormLayer,
} from '../layers';
import { deadUnits, type LayerMaskPlan, type PathReport } from '../masks';
import type { KernelPath, NetMemory, NetParam, TrainableNet, TrainingPass } from '../net';
import type { Optimizer } from '../optimizers';
import { softmaxCrossEntropy } from '../step';
import { layerShape, type Blueprint, type BlueprintNode, type WeightLayerDesc } from './arch';
import { conv2dFilterGrad, conv2dForward, conv2dInputGrad, convOutSize, type FilterGradMode, type ForwardMode, type InputGradMode } from './conv';
import { globalAvgPool, globalAvgPoolBackward, maxPool2x2, maxPool2x2Backward } from './pool';
import { at } from '../../shared/checked';
import { buildConvIndex, type SparseConvIndex, type SparseConvKernels } from './sparse-conv';
import { sparseKernels } from '../sparse';
import { tensor4dFromScratch, tensorValues } from '../heap';

export interface ConvNetOptions {
  role: NetRole;
  blueprint: Blueprint;
  /** One plan per weight layer of the blueprint (masks.planLayers over blueprint layer shapes). */
  plans: LayerMaskPlan[];
  bnEpsilon?: number;
  bnMomentum?: number;
  /** Forward path (nn/conv.ts; default 'auto', the fastest measured per backend and shape). */
  forward?: ForwardMode;
  /** Filter gradient path (nn/conv.ts; default 'auto'). */
  filterGrad?: FilterGradMode;
  /** Input gradient path (nn/conv.ts; default 'auto'). */
  inputGrad?: InputGradMode;
  /**
   * Path per weight layer (default all 'dense'). 'sparse' is allowed for masked conv layers only
   * (the direct sparse convolution; see the file comment).
   */
  paths?: KernelPath[];
  /** The sparse convolution kernels (default sparseKernels().kernels.conv: wasm SIMD, else TypeScript). */
  convKernels?: SparseConvKernels;
}

/** A sparse-path conv layer: its index over the active entries and their flat mask-order positions (canonical order). */
interface SparseConvLayer {
  index: SparseConvIndex;
  flat: Int32Array;
}

function activeFlat(mask: Float32Array): Int32Array {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) n++;
  const out = new Int32Array(n);
  let q = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) out[q++] = i;
  return out;
}

/** LayerInfo of a conv-net weight layer: also its kind, kernel shape and stride. */
export interface ConvLayerInfo extends LayerInfo {
  kind: 'conv' | 'dense';
  /** [k, k, cIn, cOut] for conv, [in, out] for dense. */
  kernelShape: number[];
  stride: number;
}

/** The compiled graph ConvNet runs (the blueprint's nodes with BN / activation indices): what a scoring pass walks (pruning/grasp-conv.ts). */
export type RNode =
  | { op: 'conv'; layer: number }
  | { op: 'dense'; layer: number }
  | { op: 'bn'; index: number; after: number }
  | { op: 'act'; index: number; after: number }
  | { op: 'maxpool' }
  | { op: 'gap' }
  | { op: 'residual'; pre: RNode[]; body: RNode[]; shortcut: RNode[]; from: 'input' | 'pre'; post: RNode[] };

type NodeCache =
  | { op: 'conv'; x: tf.Tensor4D; values?: Float32Array }
  | { op: 'dense'; x: tf.Tensor2D }
  | { op: 'bn'; c: BatchNormCache; shape: number[] }
  | { op: 'bnFrozen'; xhat: tf.Tensor2D; scale: tf.Tensor1D; shape: number[] }
  | { op: 'act'; z: tf.Tensor2D; a: tf.Tensor2D; shape: number[] }
  | { op: 'maxpool'; x: tf.Tensor4D; y: tf.Tensor4D }
  | { op: 'gap'; shape: [number, number, number, number] }
  | { op: 'residual'; pre: NodeCache[]; body: NodeCache[]; shortcut: NodeCache[]; post: NodeCache[] };

/** What backward() needs from a training forward pass (opaque to callers). */
export interface ConvForwardCache {
  nodes: NodeCache[];
}

export interface ConvForwardResult {
  /** [batch, classes]. */
  logits: tf.Tensor2D;
  cache?: ConvForwardCache;
}

/** backward(): raw kernel gradients per weight layer (kernel shape), then the other parameters' in `params` order. */
export interface ConvParamGrads {
  kernels: tf.Tensor[];
  other: tf.Tensor[];
}

/** Per-parameter gradient store filled by the backward pass. */
interface Sink {
  kernels: tf.Tensor[];
  biases: (tf.Tensor | undefined)[];
  bn: [tf.Tensor, tf.Tensor][];
  act: tf.Tensor[][];
  /** Full (raw) filter gradients for sparse-path layers too. */
  rawKernels: boolean;
}

export class ConvNet implements TrainableNet {
  readonly role: NetRole;
  readonly blueprint: Blueprint;
  readonly layers: WeightLayerDesc[];
  /** Stored kernels, [fanIn, fanOut] each. */
  readonly kernels: tf.Variable[];
  /** Biases of the layers that have one (undefined otherwise). */
  readonly biases: (tf.Variable | undefined)[];
  /** 0/1 mask per weight layer, [fanIn, fanOut]; undefined for unmasked layers. */
  readonly masks: (tf.Tensor | undefined)[];
  /** Path per weight layer: 'sparse' = masked conv layer run by the direct sparse convolution. */
  readonly paths: KernelPath[];
  readonly sparse: undefined[];
  readonly onesCols: undefined[];
  readonly activeIndex: (ActiveIndex | undefined)[];
  readonly masked: boolean[];
  readonly bns: BatchNormLayer[];
  readonly activations: ActivationLayer[];
  readonly layerInfo: ConvLayerInfo[];
  readonly params: NetParam[];
  readonly bnEpsilon: number;
  readonly bnMomentum: number | undefined;
  private readonly forwardMode: ForwardMode;
  private readonly filterGrad: FilterGradMode;
  private readonly inputGrad: InputGradMode;
  /** Per layer: the sparse convolution's index (sparse-path conv layers only). */
  private readonly sparseConv: (SparseConvLayer | undefined)[];
  private readonly convKernels: SparseConvKernels | undefined;
  private readonly pruned: (tf.Tensor | undefined)[];
  private readonly maskData: (Float32Array | undefined)[];
  private readonly optimizers: Optimizer[] = [];
  private readonly graph: RNode[];
  private readonly initialMasks: (Float32Array | undefined)[];
  /** During scoringPass(): BN at its moving statistics, cached for backward(). */
  private bnFrozen = false;

  constructor(o: ConvNetOptions) {
    const bp = o.blueprint;
    this.role = o.role;
    this.blueprint = bp;
    this.layers = bp.layers;
    this.bnEpsilon = o.bnEpsilon ?? BN_EPSILON;
    this.bnMomentum = o.bnMomentum;
    this.forwardMode = o.forward ?? 'auto';
    this.filterGrad = o.filterGrad ?? 'auto';
    this.inputGrad = o.inputGrad ?? 'auto';
    if (o.plans.length !== bp.layers.length) throw new Error(`expected ${bp.layers.length} layer plans, got ${o.plans.length}`);
    const shapeOf = (d: WeightLayerDesc): number[] => (d.kind === 'conv' ? [d.k, d.k, d.cin, d.cout] : [d.cin, d.cout]);
    bp.layers.forEach((d, l) => {
      const s = layerShape(d);
      const p = at(o.plans, l).shape;
      if (p.fanIn !== s.fanIn || p.fanOut !== s.fanOut) throw new Error(`layer ${d.name}: plan is ${p.fanIn}×${p.fanOut}, kernel needs ${s.fanIn}×${s.fanOut}`);
    });
    // Variables are created inside tidy (see model.ts: the source tensor would otherwise leak).
    const stored = (l: number, a: Float32Array): tf.Tensor2D => tf.tensor2d(a, [at(o.plans, l).shape.fanIn, at(o.plans, l).shape.fanOut]);
    this.kernels = bp.layers.map((_d, l) => tf.tidy(() => tf.variable(stored(l, at(o.plans, l).kernel), true)));
    this.biases = bp.layers.map((d) => (d.bias ? tf.tidy(() => tf.variable(tf.zeros([d.cout]), true)) : undefined));
    this.masked = o.plans.map((p) => p.mask !== undefined);
    this.maskData = o.plans.map((p) => (p.mask ? Float32Array.from(p.mask) : undefined));
    this.masks = o.plans.map((p, l) => (p.mask ? stored(l, p.mask) : undefined));
    this.initialMasks = o.plans.map((p) => (p.mask ? Float32Array.from(p.mask) : undefined));
    this.paths = bp.layers.map((d, l): KernelPath => {
      const p = o.paths?.[l] ?? 'dense';
      if (p === 'sparse' && !(d.kind === 'conv' && at(o.plans, l).mask)) throw new Error(`layer ${d.name}: the sparse path is for masked conv layers only`);
      return p;
    });
    this.sparseConv = bp.layers.map((d, l) => {
      const m = this.maskData[l];
      return this.paths[l] === 'sparse' && m ? { index: buildConvIndex({ k: d.k, stride: d.stride, pad: d.pad, cin: d.cin, cout: d.cout }, m), flat: activeFlat(m) } : undefined;
    });
    this.convKernels = this.paths.includes('sparse') ? (o.convKernels ?? sparseKernels().kernels.conv) : undefined;
    this.sparse = bp.layers.map(() => undefined);
    this.onesCols = bp.layers.map(() => undefined);
    this.activeIndex = bp.layers.map(() => undefined);
    this.pruned = this.masks.map((m) => (m ? tf.sub(1, m) : undefined));
    this.bns = [];
    this.activations = [];
    // `after`: the weight layer a BN / activation follows in execution order (NetParam.layer).
    let after = 0;
    const compile = (nodes: BlueprintNode[]): RNode[] =>
      nodes.map((n): RNode => {
        switch (n.op) {
          case 'conv':
          case 'dense':
            after = n.layer;
            return n;
          case 'bn':
            this.bns.push(createBatchNorm(n.channels));
            return { op: 'bn', index: this.bns.length - 1, after };
          case 'act':
            this.activations.push(createActivation(bp.spec.activation, n.channels, 'batch-major'));
            return { op: 'act', index: this.activations.length - 1, after };
          case 'residual':
            return { op: 'residual', pre: compile(n.pre), body: compile(n.body), shortcut: compile(n.shortcut), from: n.from, post: compile(n.post) };
          default:
            return n;
        }
      });
    this.graph = compile(bp.nodes);
    this.layerInfo = bp.layers.map((d, l) => {
      const p = at(o.plans, l);
      const total = p.shape.fanIn * p.shape.fanOut;
      return {
        name: d.name,
        fanIn: p.shape.fanIn,
        fanOut: p.shape.fanOut,
        active: p.active,
        total,
        density: p.active / total,
        deadUnits: p.mask ? deadUnits(p.mask, p.shape) : 0,
        path: at(this.paths, l),
        kind: d.kind,
        kernelShape: shapeOf(d),
        stride: d.stride,
      };
    });
    const bnAfter: number[] = [];
    const actAfter: number[] = [];
    const walk = (nodes: RNode[]): void =>
      nodes.forEach((n) => {
        if (n.op === 'bn') bnAfter[n.index] = n.after;
        else if (n.op === 'act') actAfter[n.index] = n.after;
        else if (n.op === 'residual') [n.pre, n.body, n.shortcut, n.post].forEach(walk);
      });
    walk(this.graph);
    const params: NetParam[] = [];
    this.kernels.forEach((v, layer) => params.push({ variable: v, kind: 'kernel', layer }));
    this.biases.forEach((v, layer) => {
      if (v) params.push({ variable: v, kind: 'bias', layer });
    });
    this.bns.forEach((bn, i) => {
      params.push({ variable: bn.gamma, kind: 'bn', layer: at(bnAfter, i) });
      params.push({ variable: bn.beta, kind: 'bn', layer: at(bnAfter, i) });
    });
    this.activations.forEach((a, i) => a.params.forEach((p) => params.push({ variable: p.variable, kind: 'activation', layer: at(actAfter, i) })));
    this.params = params;
  }

  /** NetInfo.width: the widest layer (most output channels) of the net. */
  get width(): number {
    return this.layers.reduce((m, d) => (d.kind === 'conv' ? Math.max(m, d.cout) : m), 0);
  }

  readonly widthOf = 'channels';

  get numLayers(): number {
    return this.kernels.length;
  }

  get activeWeights(): number {
    return this.layerInfo.reduce((s, l) => s + l.active, 0);
  }

  kernel(l: number): tf.Variable {
    const v = this.kernels[l];
    if (!v) throw new Error(`internal: no weight layer ${l}`);
    return v;
  }

  /** t ⊙ m for layer l (t itself when unmasked). A multiply, as MaskedMLP.applyMask (why there). */
  applyMask(l: number, t: tf.Tensor): tf.Tensor {
    const m = this.masks[l];
    return m ? tf.mul(t, m) : t;
  }

  /** Σ|w| over the pruned entries of kernel l (0 while the mask holds); undefined if unmasked. */
  prunedMass(l: number): tf.Scalar | undefined {
    const p = this.pruned[l];
    if (!p) return undefined;
    return sumAll(tf.abs(tf.mul(this.kernel(l), p)));
  }

  /** Kernel l as a row-major [fanIn, fanOut] array (= the [k, k, cIn, cOut] kernel flattened). */
  kernelArray(l: number): Float32Array {
    return Float32Array.from(this.kernel(l).dataSync() as Float32Array);
  }

  /** Mask of layer l, [fanIn, fanOut] row-major (a copy); all ones for an unmasked layer. */
  maskArray(l: number): Float32Array {
    const m = this.maskData[l];
    if (m) return Float32Array.from(m);
    return new Float32Array(at(this.layerInfo, l).total).fill(1);
  }

  /** The optimizer state of kernel l, one [fanIn, fanOut] row-major array per slot; [] before the first update. */
  kernelState(l: number, opt: Optimizer): Float32Array[] {
    return (opt.slotsOf(this.kernel(l)) ?? []).map((v) => Float32Array.from(v.dataSync() as Float32Array));
  }

  attachOptimizer(opt: Optimizer): void {
    if (!this.optimizers.includes(opt)) this.optimizers.push(opt);
  }

  /**
   * Change the mask of masked layer l (dynamic sparsity), with MaskedMLP.updateMask's contract:
   * `drop` / `grow` are flat [fanIn, fanOut] indices; dropped entries become 0 with zero optimizer
   * state, newly grown ones enter at 0 with zero state, survivors keep value and state.
   */
  updateMask(l: number, drop: Int32Array, grow: Int32Array): void {
    const old = this.maskData[l];
    if (!old) throw new Error(`updateMask: layer ${l} (${this.layerInfo[l]?.name ?? '?'}) is not masked`);
    const info = at(this.layerInfo, l);
    const n = info.total;
    const next = Float32Array.from(old);
    for (const i of drop) {
      if (!(i >= 0 && i < n)) throw new Error(`updateMask: drop index ${i} outside 0..${n - 1} (layer ${info.name})`);
      if (old[i] === 0) throw new Error(`updateMask: drop index ${i} is not active (layer ${info.name})`);
      next[i] = 0;
    }
    for (const i of grow) {
      if (!(i >= 0 && i < n)) throw new Error(`updateMask: grow index ${i} outside 0..${n - 1} (layer ${info.name})`);
      if (next[i] !== 0) throw new Error(`updateMask: grow index ${i} is already active (layer ${info.name})`);
      next[i] = 1;
    }
    let active = 0;
    for (let i = 0; i < n; i++) if (next[i] !== 0) active++;
    info.active = active;
    info.density = active / n;
    info.deadUnits = deadUnits(next, { fanIn: info.fanIn, fanOut: info.fanOut });
    const keep = Float32Array.from(next);
    for (const i of grow) if (old[i] === 0) keep[i] = 0;
    this.maskData[l] = next;
    const sc = this.sparseConv[l];
    if (sc) this.sparseConv[l] = { index: buildConvIndex(sc.index.geometry, next), flat: activeFlat(next) };
    this.masks[l]?.dispose();
    this.pruned[l]?.dispose();
    const m = tf.tensor2d(next, [info.fanIn, info.fanOut]);
    this.masks[l] = m;
    this.pruned[l] = tf.tidy(() => tf.sub(1, m));
    const keepT = tf.tensor2d(keep, [info.fanIn, info.fanOut]);
    const v = this.kernel(l);
    tf.tidy(() => v.assign(tf.add(tf.mul(v, keepT), 0)));
    for (const opt of this.optimizers) opt.resetState(v, keepT);
    keepT.dispose();
  }

  /**
   * Bytes held: `parameters` = kernels (pruned zeros included: masked-dense), biases, BN and
   * activation parameters; `index` = masks and 1 − masks; `optimizer` = `opt`'s state.
   */
  memoryBytes(opt?: Optimizer): NetMemory {
    let parameters = 0;
    let index = 0;
    for (const p of this.params) parameters += 4 * p.variable.size;
    for (const m of this.masks) if (m) index += 2 * 4 * m.size;
    // The sparse convolution's index: six int32 arrays over the active entries, two pointer arrays, the flat positions.
    for (const sc of this.sparseConv) if (sc) index += 4 * (7 * sc.index.k + sc.index.outPtr.length + sc.index.inPtr.length);
    return { parameters, index, optimizer: opt ? opt.stateBytes() : 0 };
  }

  /** Conv layer l's kernel as the 4-D filter [k, k, cIn, cOut] (a view of the stored matrix). */
  private filter(l: number): tf.Tensor4D {
    const d = at(this.layers, l);
    return tf.reshape(at(this.kernels, l), [d.k, d.k, d.cin, d.cout]);
  }

  /** x as NHWC: a [N, H, W, C] tensor, or [N, H·W·C] rows holding NHWC images flattened. */
  private images(x: tf.Tensor): tf.Tensor4D {
    const [h, w, c] = this.blueprint.spec.input;
    if (x.rank === 4) {
      const [, xh, xw, xc] = x.shape;
      if (xh !== h || xw !== w || xc !== c) throw new Error(`input is ${xh}×${xw}×${xc}, the net takes ${h}×${w}×${c}`);
      return x as tf.Tensor4D;
    }
    if (x.rank === 2 && x.shape[1] === h * w * c) return tf.reshape(x, [x.shape[0], h, w, c]);
    throw new Error(`input of shape [${x.shape.join(', ')}] is neither [N, ${h}, ${w}, ${c}] nor [N, ${h * w * c}]`);
  }

  /** The compiled graph (read-only use: scoring passes that walk it, pruning/grasp-conv.ts). */
  get nodes(): readonly RNode[] {
    return this.graph;
  }

  /**
   * A forward pass with every BatchNorm at its MOVING statistics (eval mode), cached so that
   * backward() differentiates it with those statistics held fixed: SynFlow's scoring pass
   * (pruning/synflow-conv.ts; the published code scores the model in eval mode). Call inside a tidy.
   */
  scoringPass(x: tf.Tensor): { logits: tf.Tensor2D; backward: (dLogits: tf.Tensor2D) => ConvParamGrads } {
    this.bnFrozen = true;
    let fwd: ConvForwardResult;
    try {
      fwd = this.forward(x, true);
    } finally {
      this.bnFrozen = false;
    }
    const cache = fwd.cache;
    if (!cache) throw new Error('internal: scoring forward pass returned no cache');
    return { logits: fwd.logits, backward: (dLogits) => this.backward(dLogits, cache) };
  }

  /**
   * Forward pass; x is [N, H, W, C] or flattened NHWC rows [N, H·W·C]. Training mode uses batch
   * statistics in BN and returns the cache for backward(); moving statistics are not touched
   * (updateMovingStats with bnStats()). Call inside a tidy.
   */
  forward(x: tf.Tensor, training: boolean): ConvForwardResult {
    const caches: NodeCache[] = [];
    const y = this.runSeq(this.graph, this.images(x), training, caches);
    const logits = y as tf.Tensor2D;
    return training ? { logits, cache: { nodes: caches } } : { logits };
  }

  private runSeq(nodes: RNode[], x: tf.Tensor, training: boolean, caches: NodeCache[]): tf.Tensor {
    let h = x;
    for (const n of nodes) h = this.runNode(n, h, training, caches);
    return h;
  }

  private runNode(n: RNode, x: tf.Tensor, training: boolean, caches: NodeCache[]): tf.Tensor {
    switch (n.op) {
      case 'conv': {
        const d = at(this.layers, n.layer);
        const x4 = x as tf.Tensor4D;
        const sc = this.sparseConv[n.layer];
        let values: Float32Array | undefined;
        let y: tf.Tensor;
        if (sc && this.convKernels) {
          values = this.activeValues(n.layer, sc);
          const [N, H, W] = x4.shape;
          const out = this.convKernels.forward(sc.index, values, tensorValues(x4), { N, H, W });
          y = tensor4dFromScratch(out, [N, convOutSize(H, d), convOutSize(W, d), d.cout]);
        } else y = conv2dForward(x4, this.filter(n.layer), d, this.forwardMode);
        const b = this.biases[n.layer];
        if (b) y = tf.add(y, b);
        if (training) caches.push(values ? { op: 'conv', x: x4, values } : { op: 'conv', x: x4 });
        return y;
      }
      case 'dense': {
        const x2 = x as tf.Tensor2D;
        let y: tf.Tensor = tf.matMul(x2, this.kernels[n.layer] as tf.Tensor as tf.Tensor2D);
        const b = this.biases[n.layer];
        if (b) y = tf.add(y, b);
        if (training) caches.push({ op: 'dense', x: x2 });
        return y;
      }
      case 'bn': {
        const bn = at(this.bns, n.index);
        const shape = x.shape;
        const c = at(shape, shape.length - 1);
        const x2 = tf.reshape(x, [-1, c]) as tf.Tensor2D;
        if (!training) return tf.reshape(batchNormEval(x2, bn, this.bnEpsilon, 0), shape);
        if (this.bnFrozen) {
          const rstd = tf.rsqrt(tf.add(bn.movingVar, this.bnEpsilon));
          const xhat = tf.mul(tf.sub(x2, bn.movingMean), rstd) as tf.Tensor2D;
          caches.push({ op: 'bnFrozen', xhat, scale: tf.mul(rstd, bn.gamma) as tf.Tensor1D, shape });
          return tf.reshape(tf.add(tf.mul(xhat, bn.gamma), bn.beta), shape);
        }
        const r = batchNormTrain(x2, bn, this.bnEpsilon, 0);
        caches.push({ op: 'bn', c: r.cache, shape });
        return tf.reshape(r.y, shape);
      }
      case 'act': {
        const shape = x.shape;
        const z = tf.reshape(x, [-1, at(shape, shape.length - 1)]) as tf.Tensor2D;
        const a = at(this.activations, n.index).forward(z);
        if (training) caches.push({ op: 'act', z, a, shape });
        return tf.reshape(a, shape);
      }
      case 'maxpool': {
        const x4 = x as tf.Tensor4D;
        const y = maxPool2x2(x4);
        if (training) caches.push({ op: 'maxpool', x: x4, y });
        return y;
      }
      case 'gap': {
        const x4 = x as tf.Tensor4D;
        if (training) caches.push({ op: 'gap', shape: x4.shape });
        return globalAvgPool(x4);
      }
      case 'residual': {
        const c: Extract<NodeCache, { op: 'residual' }> = { op: 'residual', pre: [], body: [], shortcut: [], post: [] };
        const p = this.runSeq(n.pre, x, training, c.pre);
        const b = this.runSeq(n.body, p, training, c.body);
        const s = this.runSeq(n.shortcut, n.from === 'pre' ? p : x, training, c.shortcut);
        const y = this.runSeq(n.post, tf.add(b, s), training, c.post);
        if (training) caches.push(c);
        return y;
      }
    }
  }

  /** The active weights of sparse-path layer l in canonical order (read from the stored kernel). */
  private activeValues(l: number, sc: SparseConvLayer): Float32Array {
    const w = at(this.kernels, l).dataSync() as Float32Array;
    const { flat } = sc;
    const v = new Float32Array(flat.length);
    for (let q = 0; q < flat.length; q++) v[q] = w[flat[q]!]!;
    return v;
  }

  /**
   * Backward pass from dL/dlogits [N, classes]: raw kernel gradients and the other parameters'
   * gradients. `rawKernels: false` lets sparse-path layers return raw ⊙ mask instead (see the file
   * comment). Call inside a tidy.
   */
  backward(dLogits: tf.Tensor2D, cache: ConvForwardCache, rawKernels = true): ConvParamGrads {
    const sink: Sink = { kernels: new Array<tf.Tensor>(this.numLayers), biases: new Array<tf.Tensor | undefined>(this.numLayers), bn: [], act: [], rawKernels };
    this.backSeq(this.graph, cache.nodes, dLogits, sink, false);
    const other: tf.Tensor[] = [];
    this.biases.forEach((b, l) => {
      if (b) other.push(sink.biases[l] as tf.Tensor);
    });
    this.bns.forEach((_b, i) => other.push(...at(sink.bn, i)));
    this.activations.forEach((_a, i) => other.push(...(sink.act[i] ?? [])));
    for (let l = 0; l < this.numLayers; l++) if (!sink.kernels[l]) throw new Error(`internal: no gradient for layer ${at(this.layers, l).name}`);
    return { kernels: sink.kernels, other };
  }

  /** Backward through a sequence; returns dL/d(input) when `needDx`. */
  private backSeq(nodes: RNode[], caches: NodeCache[], dy: tf.Tensor, sink: Sink, needDx: boolean): tf.Tensor | undefined {
    if (caches.length !== nodes.length) throw new Error('internal: cache does not match the graph');
    let d: tf.Tensor | undefined = dy;
    for (let i = nodes.length - 1; i >= 0; i--) {
      if (!d) throw new Error('internal: missing upstream gradient');
      d = this.backNode(at(nodes, i), at(caches, i), d, sink, needDx || i > 0);
    }
    return d;
  }

  private backNode(n: RNode, c: NodeCache, dy: tf.Tensor, sink: Sink, needDx: boolean): tf.Tensor | undefined {
    switch (n.op) {
      case 'conv': {
        if (c.op !== 'conv') break;
        const d = at(this.layers, n.layer);
        const dy4 = dy as tf.Tensor4D;
        const fanIn = d.k * d.k * d.cin;
        if (this.biases[n.layer]) sink.biases[n.layer] = tf.sum(dy4, [0, 1, 2]);
        const sc = this.sparseConv[n.layer];
        if (sc && this.convKernels && c.values) {
          const [N, H, W] = c.x.shape;
          const r = this.convKernels.backprop(sc.index, c.values, tensorValues(c.x), tensorValues(dy4), { N, H, W }, needDx);
          if (sink.rawKernels) sink.kernels[n.layer] = tf.reshape(conv2dFilterGrad(c.x, dy4, d, d.cout, this.filterGrad), [fanIn, d.cout]);
          else {
            // raw ⊙ mask: the active entries' gradient scattered to mask order, zeros elsewhere.
            const full = new Float32Array(fanIn * d.cout);
            const { flat } = sc;
            const g = r.grad;
            for (let q = 0; q < flat.length; q++) full[flat[q]!] = g[q]!;
            sink.kernels[n.layer] = tf.tensor2d(full, [fanIn, d.cout]);
          }
          if (!needDx) return undefined;
          if (!r.dInput) throw new Error('internal: sparse convolution returned no input gradient');
          return tensor4dFromScratch(r.dInput, c.x.shape);
        }
        sink.kernels[n.layer] = tf.reshape(conv2dFilterGrad(c.x, dy4, d, d.cout, this.filterGrad), [fanIn, d.cout]);
        return needDx ? conv2dInputGrad(dy4, this.filter(n.layer), c.x.shape, d, this.inputGrad) : undefined;
      }
      case 'dense': {
        if (c.op !== 'dense') break;
        const dy2 = dy as tf.Tensor2D;
        sink.kernels[n.layer] = tf.matMul(tf.transpose(c.x), dy2);
        if (this.biases[n.layer]) sink.biases[n.layer] = tf.sum(dy2, 0);
        return needDx ? tf.matMul(dy2, tf.transpose(this.kernels[n.layer] as tf.Tensor as tf.Tensor2D)) : undefined;
      }
      case 'bn': {
        if (c.op === 'bnFrozen') {
          const dy2 = tf.reshape(dy, [-1, at(c.shape, c.shape.length - 1)]) as tf.Tensor2D;
          sink.bn[n.index] = [tf.sum(tf.mul(dy2, c.xhat), 0), tf.sum(dy2, 0)];
          return tf.reshape(tf.mul(dy2, c.scale), c.shape);
        }
        if (c.op !== 'bn') break;
        const ch = at(c.shape, c.shape.length - 1);
        const r = batchNormBackward(tf.reshape(dy, [-1, ch]) as tf.Tensor2D, at(this.bns, n.index), c.c);
        sink.bn[n.index] = [r.dGamma, r.dBeta];
        return tf.reshape(r.dx, c.shape);
      }
      case 'act': {
        if (c.op !== 'act') break;
        const ch = at(c.shape, c.shape.length - 1);
        const r = at(this.activations, n.index).backward(c.z, c.a, tf.reshape(dy, [-1, ch]) as tf.Tensor2D);
        sink.act[n.index] = r.dParams;
        return tf.reshape(r.dz, c.shape);
      }
      case 'maxpool': {
        if (c.op !== 'maxpool') break;
        return maxPool2x2Backward(c.x, c.y, dy as tf.Tensor4D);
      }
      case 'gap': {
        if (c.op !== 'gap') break;
        return globalAvgPoolBackward(c.shape, dy as tf.Tensor2D);
      }
      case 'residual': {
        if (c.op !== 'residual') break;
        const dSum = this.backSeq(n.post, c.post, dy, sink, true) as tf.Tensor;
        const needP = needDx || n.pre.length > 0;
        const dBody = this.backSeq(n.body, c.body, dSum, sink, needP);
        const dShort = n.shortcut.length === 0 ? dSum : this.backSeq(n.shortcut, c.shortcut, dSum, sink, needP);
        let dP = dBody;
        let dX: tf.Tensor | undefined;
        if (n.from === 'pre') dP = dP && dShort ? tf.add(dP, dShort) : (dP ?? dShort);
        else dX = dShort;
        const dFromPre = n.pre.length > 0 ? (dP ? this.backSeq(n.pre, c.pre, dP, sink, needDx) : undefined) : dP;
        if (!needDx) return undefined;
        if (dFromPre && dX) return tf.add(dFromPre, dX);
        return dFromPre ?? dX;
      }
    }
    throw new Error(`internal: cache of op ${c.op} for node ${n.op}`);
  }

  /** TrainableNet: a training forward pass with its backward pass and BN statistics update bound to it. Call inside a tidy. */
  trainingPass(x: tf.Tensor2D): TrainingPass {
    const fwd = this.forward(x, true);
    const cache = fwd.cache;
    if (!cache) throw new Error('internal: training forward pass returned no cache');
    return {
      logits: fwd.logits,
      backward: (dLogits, options) => this.backward(dLogits, cache, options?.rawKernels ?? true),
      updateMovingStats: () => {
        for (const s of this.bnStats(cache)) updateMovingStats(at(this.bns, s.layer), s.mean, s.variance, this.bnMomentum ?? BN_MOMENTUM);
      },
    };
  }

  /** TrainableNet: eval-mode logits. Call inside a tidy. */
  predict(x: tf.Tensor2D): tf.Tensor2D {
    return this.forward(x, false).logits;
  }

  /** TrainableNet: stored layout is already mask order ([fanIn, fanOut]). */
  toMaskOrder(l: number, t: tf.Tensor): tf.Tensor {
    const { fanIn, fanOut } = at(this.layerInfo, l);

    return t.rank === 2 ? t : tf.reshape(t, [fanIn, fanOut]);
  }

  /**
   * The raw dL/dW of layer l at every position (mask order), training mode, no update, BN moving
   * statistics untouched (RigL's grow criterion).
   */
  denseKernelGradient(l: number, batch: { x: tf.Tensor2D; y: tf.Tensor2D }): Float32Array {
    if (!(l >= 0 && l < this.numLayers)) throw new Error(`denseKernelGradient: no layer ${l}`);
    const g = tf.tidy(() => {
      const pass = this.trainingPass(batch.x);
      const { dLogits } = softmaxCrossEntropy(pass.logits, batch.y);
      return pass.backward(dLogits).kernels[l] as tf.Tensor;
    });
    const out = Float32Array.from(g.dataSync() as Float32Array);
    g.dispose();
    return out;
  }

  /**
   * TrainableNet: reachability through the INITIAL masks, by channel, over the real graph
   * (shortcuts included): `reachable[l]` = output channels of layer l that some input channel reaches
   * through active weights (or an identity shortcut); `noOutgoing[l]` = output channels of layer l
   * from which no path of active weights (or identity shortcuts) leads to the logits, so their
   * incoming weights get no gradient. BN, activations and pooling keep channels apart.
   */
  maskPaths(): PathReport {
    // conn[l][ci·cout + co] = some active kernel entry joins input channel ci to output channel co.
    const conn = this.layers.map((d, l) => {
      const m = this.initialMasks[l];
      const out = new Uint8Array(d.cin * d.cout);
      for (let kk = 0; kk < d.k * d.k; kk++)
        for (let ci = 0; ci < d.cin; ci++)
          for (let co = 0; co < d.cout; co++) if (!m || m[(kk * d.cin + ci) * d.cout + co] !== 0) out[ci * d.cout + co] = 1;
      return out;
    });
    const reachable = this.layers.map(() => 0);
    const fwd = (nodes: RNode[], r: Uint8Array): Uint8Array => {
      let cur = r;
      for (const n of nodes) {
        if (n.op === 'conv' || n.op === 'dense') {
          const d = at(this.layers, n.layer);
          const next = new Uint8Array(d.cout);
          const c = at(conn, n.layer);
          for (let ci = 0; ci < d.cin; ci++) if (cur[ci]) for (let co = 0; co < d.cout; co++) if (c[ci * d.cout + co]) next[co] = 1;
          reachable[n.layer] = next.reduce((a, b) => a + b, 0);
          cur = next;
        } else if (n.op === 'residual') {
          const p = fwd(n.pre, cur);
          const b = fwd(n.body, p);
          const s = fwd(n.shortcut, n.from === 'pre' ? p : cur);
          cur = fwd(
            n.post,
            b.map((v, i) => v | at(s, i)),
          );
        }
      }
      return cur;
    };
    fwd(this.graph, new Uint8Array(this.blueprint.spec.input[2]).fill(1));
    const noOutgoing = this.layers.map(() => 0);
    // Backward: which channels lead to the logits.
    const back = (nodes: RNode[], live: Uint8Array): Uint8Array => {
      let cur = live;
      for (let i = nodes.length - 1; i >= 0; i--) {
        const n = at(nodes, i);
        if (n.op === 'conv' || n.op === 'dense') {
          const d = at(this.layers, n.layer);
          noOutgoing[n.layer] = cur.reduce((a, v) => a + (v ? 0 : 1), 0);
          const prev = new Uint8Array(d.cin);
          const c = at(conn, n.layer);
          for (let ci = 0; ci < d.cin; ci++) for (let co = 0; co < d.cout && !prev[ci]; co++) if (cur[co] && c[ci * d.cout + co]) prev[ci] = 1;

          cur = prev;
        } else if (n.op === 'residual') {
          const sum = back(n.post, cur);
          const dp = back(n.body, sum);
          const ds = back(n.shortcut, sum);
          if (n.from === 'pre') cur = back(n.pre, dp.map((v, j) => v | at(ds, j)));
          else {
            const fromPre = back(n.pre, dp);
            cur = fromPre.map((v, j) => v | at(ds, j));
          }
        }
      }
      return cur;
    };
    back(this.graph, new Uint8Array(this.blueprint.spec.classes).fill(1));
    noOutgoing[this.numLayers - 1] = 0;
    return { reachable, brokenLayer: reachable.findIndex((r) => r === 0), noOutgoing };
  }

  /** BN batch statistics of a training forward pass (index into `bns`), for updateMovingStats. */
  bnStats(cache: ConvForwardCache): { layer: number; mean: tf.Tensor1D; variance: tf.Tensor1D }[] {
    const out: { layer: number; mean: tf.Tensor1D; variance: tf.Tensor1D }[] = [];
    const walk = (nodes: RNode[], caches: NodeCache[]): void => {
      nodes.forEach((n, i) => {
        const c = at(caches, i);
        if (n.op === 'bn' && c.op === 'bn') out.push({ layer: n.index, mean: c.c.mean, variance: c.c.variance });
        else if (n.op === 'residual' && c.op === 'residual') {
          walk(n.pre, c.pre);
          walk(n.body, c.body);
          walk(n.shortcut, c.shortcut);
          walk(n.post, c.post);
        }
      });
    };
    walk(this.graph, cache.nodes);
    return out;
  }

  dispose(): void {
    this.kernels.forEach((v) => v.dispose());
    this.biases.forEach((v) => v?.dispose());
    this.masks.forEach((m) => m?.dispose());
    this.pruned.forEach((m) => m?.dispose());
    this.bns.forEach((b) => disposeBatchNorm(b));
    this.activations.forEach((a) => a.dispose());
  }
}
