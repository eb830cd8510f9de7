/**
 * GraSP on conv nets (Wang, Zhang, Grosse 2020): s = −θ ⊙ Hg, keep the SMALLEST, as grasp.ts for
 * the MLP and as the published code (alecwangcq/GraSP `pruner/GraSP.py`): logits / T with T = 200
 * in both passes, the net in TRAINING mode (the published code scores a deepcopy of the net without
 * `.eval()`, so BatchNorm normalises by batch statistics and Hg differentiates through them), g and
 * Hg of the mean loss over the criterion batches (batch means weighted by batch size; the published
 * code sums them, a positive factor that leaves the ranking unchanged).
 *
 * Hg is EXACT (Pearlmutter's R-operator, R{·} = ∂/∂r (·)(θ + r·g) at r = 0), not a finite
 * difference: in float32 a central difference of gradients is dominated by ReLU and max-pool kinks
 * that the step crosses (each crossing adds a jump of O(1/ε)). The pass walks ConvNet's own graph
 * (`ConvNet.nodes`) and uses the same layer functions (nn/conv.ts, nn/pool.ts, the activations'
 * backward), carrying (value, R value) pairs forward and (gradient, R gradient) pairs backward:
 *   conv / linear  y = x∗W + b         R y = Rx∗W + x∗G            (G = g of that kernel)
 *                  dW = x ⋆ dy          R dW = Rx ⋆ dy + x ⋆ R dy
 *                  dx = dy ∗ᵀ W         R dx = R dy ∗ᵀ W + dy ∗ᵀ G
 *   BatchNorm      x̂ = (x − μ)·s, s = (σ² + ε)^−½, y = γ x̂ + β (batch statistics, per channel)
 *                  R μ = mean(Rx), R σ² = 2·mean((x − μ)(Rx − Rμ)), R s = −½ s³ R σ²,
 *                  R x̂ = (Rx − Rμ)·s + (x − μ)·R s,  R y = γ R x̂
 *                  dx = s·(d̂ − mean(d̂) − x̂·mean(d̂ x̂)), d̂ = γ dy, and its R by the product rule
 *   activation     R a = f′(z) Rz;  R dz = f′(z) R da + f″(z) Rz da (f″ as grasp.ts)
 *   2×2 max-pool   the window's first maximum selects both y and R y, and routes dy and R dy
 *   global average pooling, residual sums: linear, R passes through unchanged
 *   loss           p = softmax(logits / T), δ = (p − y)/(nT), R δ = p ⊙ (R s − Σ_c p R s)/(nT), R s = R logits / T
 * The direction has no bias, BatchNorm or activation-parameter component (only the prunable
 * kernels enter, as in the paper). f″ of PReLU / SReLU is 0 almost everywhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dForward, conv2dInputGrad } from '../nn/conv';
import type { ConvNet, RNode } from '../nn/convnet';
import { globalAvgPool, globalAvgPoolBackward, maxPool2x2, maxPool2x2Backward } from '../nn/pool';
import { sumOverBatches, type Batch } from '../step';
import { GRASP_TEMPERATURE, secondDerivative, type GraspResult } from './grasp';

type Cache =
  | { op: 'conv'; layer: number; x: tf.Tensor4D; rx: tf.Tensor4D }
  | { op: 'dense'; layer: number; x: tf.Tensor2D; rx: tf.Tensor2D }
  | { op: 'bn'; index: number; xhat: tf.Tensor2D; rxhat: tf.Tensor2D; rstd: tf.Tensor; rrstd: tf.Tensor; shape: number[] }
  | { op: 'act'; index: number; z: tf.Tensor2D; a: tf.Tensor2D; rz: tf.Tensor2D; shape: number[] }
  | { op: 'maxpool'; x: tf.Tensor4D; y: tf.Tensor4D }
  | { op: 'gap'; shape: [number, number, number, number] }
  | { op: 'residual'; pre: Cache[]; body: Cache[]; shortcut: Cache[]; post: Cache[] };

/** A value and its R (directional derivative along the kernels' direction). */
interface Dual {
  v: tf.Tensor;
  r: tf.Tensor;
}

/** 2×2 max-pool of x with its first-maximum selection applied to rx (the rule of pool.ts's backward). */
function maxPoolSelect(x: tf.Tensor4D, y: tf.Tensor4D, rx: tf.Tensor4D): tf.Tensor4D {
  const [n, , , c] = x.shape;
  const [, ho, wo] = y.shape;
  const corner = (t: tf.Tensor4D, a: number, b: number): tf.Tensor => tf.stridedSlice(t, [0, a, b, 0], [n, a + 2 * (ho - 1) + 1, b + 2 * (wo - 1) + 1, c], [1, 2, 2, 1]);
  let taken: tf.Tensor = tf.zerosLike(y);
  let out: tf.Tensor = tf.zerosLike(y);
  for (const [a, b] of [
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ] as const) {
    const first = tf.mul(tf.cast(tf.equal(corner(x, a, b), y), 'float32'), tf.sub(1, taken));
    taken = tf.add(taken, first);
    out = tf.add(out, tf.mul(corner(rx, a, b), first));
  }
  return out as tf.Tensor4D;
}

class RPass {
  constructor(
    private readonly net: ConvNet,
    /** Direction per weight layer, stored layout [fanIn, fanOut]. */
    private readonly dir: tf.Tensor[],
  ) {}

  private filter(t: tf.Tensor, layer: number): tf.Tensor4D {
    const d = this.net.layers[layer];
    if (!d) throw new Error(`internal: no weight layer ${layer}`);
    return tf.reshape(t, [d.k, d.k, d.cin, d.cout]);
  }

  private direction(layer: number): tf.Tensor {
    const g = this.dir[layer];
    if (!g) throw new Error(`internal: no direction for layer ${layer}`);
    return g;
  }

  forwardSeq(nodes: readonly RNode[], x: Dual, caches: Cache[]): Dual {
    let h = x;
    for (const n of nodes) h = this.forwardNode(n, h, caches);
    return h;
  }

  private forwardNode(n: RNode, x: Dual, caches: Cache[]): Dual {
    const net = this.net;
    switch (n.op) {
      case 'conv': {
        const d = net.layers[n.layer];
        if (!d) throw new Error(`internal: no weight layer ${n.layer}`);
        const x4 = x.v as tf.Tensor4D;
        const r4 = x.r as tf.Tensor4D;
        let v: tf.Tensor = conv2dForward(x4, this.filter(net.kernel(n.layer), n.layer), d);
        const b = net.biases[n.layer];
        if (b) v = tf.add(v, b);
        const r = tf.add(conv2dForward(r4, this.filter(net.kernel(n.layer), n.layer), d), conv2dForward(x4, this.filter(this.direction(n.layer), n.layer), d));
        caches.push({ op: 'conv', layer: n.layer, x: x4, rx: r4 });
        return { v, r };
      }
      case 'dense': {
        const x2 = x.v as tf.Tensor2D;
        const r2 = x.r as tf.Tensor2D;
        const k = net.kernel(n.layer) as tf.Tensor as tf.Tensor2D;
        let v: tf.Tensor = tf.matMul(x2, k);
        const b = net.biases[n.layer];
        if (b) v = tf.add(v, b);
        const r = tf.add(tf.matMul(r2, k), tf.matMul(x2, this.direction(n.layer) as tf.Tensor2D));
        caches.push({ op: 'dense', layer: n.layer, x: x2, rx: r2 });
        return { v, r };
      }
      case 'bn': {
        const bn = net.bns[n.index];
        if (!bn) throw new Error(`internal: no BatchNorm ${n.index}`);
        const shape = x.v.shape;
        const c = shape[shape.length - 1] ?? 1;
        const x2 = tf.reshape(x.v, [-1, c]) as tf.Tensor2D;
        const r2 = tf.reshape(x.r, [-1, c]) as tf.Tensor2D;
        const { mean, variance } = tf.moments(x2, 0, true);
        const rstd = tf.rsqrt(tf.add(variance, net.bnEpsilon));
        const xc = tf.sub(x2, mean);
        const xhat = tf.mul(xc, rstd) as tf.Tensor2D;
        const rc = tf.sub(r2, tf.mean(r2, 0, true));
        const rvar = tf.mul(2, tf.mean(tf.mul(xc, rc), 0, true));
        const rrstd = tf.mul(-0.5, tf.mul(tf.pow(rstd, 3), rvar));
        const rxhat = tf.add(tf.mul(rc, rstd), tf.mul(xc, rrstd)) as tf.Tensor2D;
        caches.push({ op: 'bn', index: n.index, xhat, rxhat, rstd, rrstd, shape });
        return { v: tf.reshape(tf.add(tf.mul(xhat, bn.gamma), bn.beta), shape), r: tf.reshape(tf.mul(rxhat, bn.gamma), shape) };
      }
      case 'act': {
        const act = net.activations[n.index];
        if (!act) throw new Error(`internal: no activation ${n.index}`);
        const shape = x.v.shape;
        const c = shape[shape.length - 1] ?? 1;
        const z = tf.reshape(x.v, [-1, c]) as tf.Tensor2D;
        const rz = tf.reshape(x.r, [-1, c]) as tf.Tensor2D;
        const a = act.forward(z);
        const ra = act.backward(z, a, rz).dz;
        caches.push({ op: 'act', index: n.index, z, a, rz, shape });
        return { v: tf.reshape(a, shape), r: tf.reshape(ra, shape) };
      }
      case 'maxpool': {
        const x4 = x.v as tf.Tensor4D;
        const y = maxPool2x2(x4);
        caches.push({ op: 'maxpool', x: x4, y });
        return { v: y, r: maxPoolSelect(x4, y, x.r as tf.Tensor4D) };
      }
      case 'gap': {
        const x4 = x.v as tf.Tensor4D;
        caches.push({ op: 'gap', shape: x4.shape });
        return { v: globalAvgPool(x4), r: globalAvgPool(x.r as tf.Tensor4D) };
      }
      case 'residual': {
        const c: Extract<Cache, { op: 'residual' }> = { op: 'residual', pre: [], body: [], shortcut: [], post: [] };
        const p = this.forwardSeq(n.pre, x, c.pre);
        const b = this.forwardSeq(n.body, p, c.body);
        const s = this.forwardSeq(n.shortcut, n.from === 'pre' ? p : x, c.shortcut);
        const y = this.forwardSeq(n.post, { v: tf.add(b.v, s.v), r: tf.add(b.r, s.r) }, c.post);
        caches.push(c);
        return y;
      }
    }
  }

  private backNode(c: Cache, dy: Dual, sink: tf.Tensor[]): Dual {
    const net = this.net;
    switch (c.op) {
      case 'conv': {
        const d = net.layers[c.layer];
        if (!d) throw new Error(`internal: no weight layer ${c.layer}`);
        const d4 = dy.v as tf.Tensor4D;
        const r4 = dy.r as tf.Tensor4D;
        const rdW = tf.add(conv2dFilterGrad(c.rx, d4, d, d.cout), conv2dFilterGrad(c.x, r4, d, d.cout));
        sink[c.layer] = tf.reshape(rdW, [d.k * d.k * d.cin, d.cout]);
        const w = this.filter(net.kernel(c.layer), c.layer);
        const g = this.filter(this.direction(c.layer), c.layer);
        return {
          v: conv2dInputGrad(d4, w, c.x.shape, d),
          r: tf.add(conv2dInputGrad(r4, w, c.x.shape, d), conv2dInputGrad(d4, g, c.x.shape, d)),
        };
      }
      case 'dense': {
        const d2 = dy.v as tf.Tensor2D;
        const r2 = dy.r as tf.Tensor2D;
        sink[c.layer] = tf.add(tf.matMul(c.rx, d2, true, false), tf.matMul(c.x, r2, true, false));
        const k = net.kernel(c.layer) as tf.Tensor as tf.Tensor2D;
        const g = this.direction(c.layer) as tf.Tensor2D;
        return { v: tf.matMul(d2, k, false, true), r: tf.add(tf.matMul(r2, k, false, true), tf.matMul(d2, g, false, true)) };
      }
      case 'bn': {
        const bn = net.bns[c.index];
        if (!bn) throw new Error(`internal: no BatchNorm ${c.index}`);
        const ch = c.shape[c.shape.length - 1] ?? 1;
        const dh = tf.mul(tf.reshape(dy.v, [-1, ch]), bn.gamma);
        const rdh = tf.mul(tf.reshape(dy.r, [-1, ch]), bn.gamma);
        const m1 = tf.mean(dh, 0, true);
        const m2 = tf.mean(tf.mul(dh, c.xhat), 0, true);
        const centred = tf.sub(tf.sub(dh, m1), tf.mul(c.xhat, m2));
        const rm1 = tf.mean(rdh, 0, true);
        const rm2 = tf.mean(tf.add(tf.mul(rdh, c.xhat), tf.mul(dh, c.rxhat)), 0, true);
        const rcentred = tf.sub(tf.sub(tf.sub(rdh, rm1), tf.mul(c.rxhat, m2)), tf.mul(c.xhat, rm2));
        return {
          v: tf.reshape(tf.mul(centred, c.rstd), c.shape),
          r: tf.reshape(tf.add(tf.mul(rcentred, c.rstd), tf.mul(centred, c.rrstd)), c.shape),
        };
      }
      case 'act': {
        const act = net.activations[c.index];
        if (!act) throw new Error(`internal: no activation ${c.index}`);
        const ch = c.shape[c.shape.length - 1] ?? 1;
        const da = tf.reshape(dy.v, [-1, ch]) as tf.Tensor2D;
        const rda = tf.reshape(dy.r, [-1, ch]) as tf.Tensor2D;
        const dz = act.backward(c.z, c.a, da).dz;
        let rdz: tf.Tensor = act.backward(c.z, c.a, rda).dz;
        const f2 = secondDerivative(act.kind, c.z, c.a);
        if (f2) rdz = tf.add(rdz, tf.mul(tf.mul(f2, c.rz), da));
        return { v: tf.reshape(dz, c.shape), r: tf.reshape(rdz, c.shape) };
      }
      case 'maxpool':
        return { v: maxPool2x2Backward(c.x, c.y, dy.v as tf.Tensor4D), r: maxPool2x2Backward(c.x, c.y, dy.r as tf.Tensor4D) };
      case 'gap':
        return { v: globalAvgPoolBackward(c.shape, dy.v as tf.Tensor2D), r: globalAvgPoolBackward(c.shape, dy.r as tf.Tensor2D) };
      case 'residual':
        throw new Error('internal: a residual cache is walked by backResidual');
    }
  }

  /** Backward through the graph (residual nodes included). */
  backGraph(nodes: readonly RNode[], caches: Cache[], dy: Dual, sink: tf.Tensor[]): Dual {
    if (caches.length !== nodes.length) throw new Error('internal: cache does not match the graph');
    let d = dy;
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i];
      const c = caches[i];
      if (!n || !c) throw new Error('internal: missing node or cache');
      if (n.op === 'residual' && c.op === 'residual') {
        const dSum = this.backGraph(n.post, c.post, d, sink);
        const dBody = this.backGraph(n.body, c.body, dSum, sink);
        const dShort = this.backGraph(n.shortcut, c.shortcut, dSum, sink);
        if (n.from === 'pre') {
          d = this.backGraph(n.pre, c.pre, { v: tf.add(dBody.v, dShort.v), r: tf.add(dBody.r, dShort.r) }, sink);
        } else {
          const fromPre = this.backGraph(n.pre, c.pre, dBody, sink);
          d = { v: tf.add(fromPre.v, dShort.v), r: tf.add(fromPre.r, dShort.r) };
        }
      } else {
        d = this.backNode(c, d, sink);
      }
    }
    return d;
  }
}

/** Batch rows as NHWC images for `net`. */
function imagesOf(net: ConvNet, b: Batch): tf.Tensor4D {
  const [h, w, c] = net.blueprint.spec.input;
  return tf.reshape(b.x, [b.n, h, w, c]);
}

/** Mean over batches (weights n_b) of per-layer tensors, one batch's activations at a time. Call inside a tidy. */
function meanOver(batches: Batch[], f: (b: Batch) => tf.Tensor[]): tf.Tensor[] {
  const { sums, total } = sumOverBatches(batches, f);
  if (!sums) throw new Error('grasp needs at least one batch');
  return sums.map((s) => tf.div(s, total));
}

/** GraSP scores of a conv net (unpruned kernels), g and Hg per layer in mask order [fanIn, fanOut]. */
export function convGraspScores(net: ConvNet, batches: Batch[], T: number = GRASP_TEMPERATURE): GraspResult {
  if (batches.length === 0) throw new Error('grasp needs at least one batch');
  const L = net.numLayers;
  const [gT, hgT] = tf.tidy(() => {
    const g = meanOver(batches, (b) => {
      const fwd = net.forward(b.x, true);
      if (!fwd.cache) throw new Error('internal: training forward pass returned no cache');
      const p = tf.softmax(tf.div(fwd.logits, T));
      return net.backward(tf.div(tf.sub(p, b.y), b.n * T) as tf.Tensor2D, fwd.cache).kernels.map((t, l) => net.toMaskOrder(l, t));
    });
    const hg = meanOver(batches, (b) => {
      const rp = new RPass(net, g);
      const caches: Cache[] = [];
      const x = imagesOf(net, b);
      const out = rp.forwardSeq(net.nodes, { v: x, r: tf.zerosLike(x) }, caches);
      const p = tf.softmax(tf.div(out.v, T));
      const delta = tf.div(tf.sub(p, b.y), b.n * T);
      const rs = tf.div(out.r, T);
      const rdelta = tf.div(tf.mul(p, tf.sub(rs, tf.sum(tf.mul(p, rs), 1, true))), b.n * T);
      const sink: tf.Tensor[] = new Array<tf.Tensor>(L);
      rp.backGraph(net.nodes, caches, { v: delta, r: rdelta }, sink);
      for (let l = 0; l < L; l++) if (!sink[l]) throw new Error(`internal: no Hg for layer ${net.layerInfo[l]?.name ?? l}`);
      return sink;
    });
    return [g, hg];
  });
  const g = gT.map((t) => Float32Array.from(t.dataSync()));
  const hg = hgT.map((t) => Float32Array.from(t.dataSync()));
  [...gT, ...hgT].forEach((t) => t.dispose());
  const scores = hg.map((h, l) => {
    const w = net.kernelArray(l);
    const s = new Float64Array(w.length);
    for (let i = 0; i < w.length; i++) s[i] = -(w[i] ?? 0) * (h[i] ?? 0);
    return s;
  });
  return { scores, g, hg };
}
