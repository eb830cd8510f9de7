/**
 * GraSP, gradient signal preservation (Wang, Zhang, Grosse 2020): s = −θ ⊙ Hg, where g is the
 * gradient of the loss with respect to the kernels and H the Hessian of the loss with respect to the
 * kernels; the kept weights are those of SMALLEST s (removing them would reduce the gradient norm
 * least, or increase it). As in the published code the logits are divided by a temperature T = 200
 * in both passes, and g and Hg are those of the mean loss over the criterion batches.
 *
 * Hg is EXACT, not a finite difference: Pearlmutter's R-operator, R{·} = ∂/∂r (·)(θ + r·g) at r = 0,
 * pushed through a forward and backward pass written here for the engine's MLP (unit-major layout of
 * model.ts: kernels V = Wᵀ [fanOut, fanIn], activations hᵀ [units, batch]):
 *   forward   z_l = V_l h_{l−1} + b_l,  a_l = f(z_l),  h_l = a_l (+ h_{l−1} with a skip)
 *   R-fwd     R z_l = G_l h_{l−1} + V_l R h_{l−1},  R a_l = f'(z_l) R z_l,  R h_0 = 0
 *   loss      s = logits/T, p = softmax(s), δ_out = (p − y)/(nT)
 *   R-loss    R δ_out = p ⊙ (R s − Σ_c p R s)/(nT),  R s = R logits / T
 *   backward  ∂V_l = δ_l h_{l−1}ᵀ,  ∂h_{l−1} = V_lᵀ δ_l (+ ∂h_l with a skip),  δ_l = f'(z_l) ∂h_l
 *   R-bwd     R ∂V_l = R δ_l h_{l−1}ᵀ + δ_l (R h_{l−1})ᵀ,
 *             R ∂h_{l−1} = G_lᵀ δ_l + V_lᵀ R δ_l (+ R ∂h_l),
 *             R δ_l = f'(z_l) R ∂h_l + f''(z_l) R z_l ∂h_l
 * Hg = R ∂V (the direction g has no bias / activation-parameter component, as in the paper, where
 * only the prunable weights enter). f'' is 0 for the piecewise-linear activations (relu, prelu,
 * srelu, srelu-slide, almost everywhere) and written out for elu, sigmoid and swish.
 * BatchNorm is not supported (the R-operator through batch statistics is not implemented): the
 * config rejects `grasp` with `model.batch_norm: true`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../shared/experiment';
import type { MaskedMLP } from '../model';
import type { Batch } from '../step';
import { at } from '../../shared/checked';

/** Softmax temperature of the published GraSP code (both the gradient and the Hessian pass). */
export const GRASP_TEMPERATURE = 200;

/** f''(z) for the smooth activations; undefined where it is 0 almost everywhere. */
export function secondDerivative(kind: Activation, z: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor | undefined {
  switch (kind) {
    case 'relu':
    case 'prelu':
    case 'srelu':
    case 'srelu-slide':
      return undefined;
    case 'sigmoid':
      // a(1 − a)(1 − 2a)
      return tf.mul(tf.mul(a, tf.sub(1, a)), tf.sub(1, tf.mul(2, a)));
    case 'elu':
      // e^z = a + 1 for z < 0 (α = 1), 0 for z > 0.
      return tf.mul(tf.cast(tf.less(z, 0), 'float32'), tf.add(a, 1));
    case 'swish': {
      // s(1 − s)(2 + z(1 − 2s)), s = σ(z)
      const s = tf.sigmoid(z);
      return tf.mul(tf.mul(s, tf.sub(1, s)), tf.add(2, tf.mul(z, tf.sub(1, tf.mul(2, s)))));
    }
  }
}

interface Pass {
  /** Kernel gradients (stored layout), mean loss of this batch. */
  dV: tf.Tensor2D[];
  /** R{dV} along the direction, when one was given. */
  rdV?: tf.Tensor2D[];
}

/**
 * One batch: gradient of the tempered mean loss w.r.t. the kernels and, if `dir` (stored layout) is
 * given, its directional derivative along dir (= H·dir). Call inside a tidy.
 */
function pass(net: MaskedMLP, batch: Batch, T: number, dir?: tf.Tensor2D[]): Pass {
  const H = net.spec.hiddenLayers;
  const V = net.kernels as tf.Variable[] as unknown as tf.Tensor2D[];
  const n = batch.n;
  // Forward with R-forward.
  const hs: tf.Tensor2D[] = []; // h_{l} inputs: hs[l] is the input of weight layer l, [in, n]
  const rhs: (tf.Tensor2D | undefined)[] = [];
  const zs: tf.Tensor2D[] = [];
  const as: tf.Tensor2D[] = [];
  const rzs: (tf.Tensor2D | undefined)[] = [];
  let h = batch.xT ?? (tf.transpose(batch.x) as tf.Tensor2D);
  let rh: tf.Tensor2D | undefined; // undefined = 0 (the input does not depend on θ)
  for (let l = 0; l < H; l++) {
    hs.push(h);
    rhs.push(rh);
    const units = at(V, l).shape[0];
    const z = tf.add(tf.matMul(at(V, l), h), tf.reshape(at(net.biases, l), [units, 1])) as tf.Tensor2D;
    const a = at(net.activations, l).forward(z);
    zs.push(z);
    as.push(a);
    let rz: tf.Tensor2D | undefined;
    if (dir) {
      rz = tf.matMul(at(dir, l), h) as tf.Tensor2D;
      if (rh) rz = tf.add(rz, tf.matMul(at(V, l), rh)) as tf.Tensor2D;
    }
    rzs.push(rz);
    const ra = rz ? at(net.activations, l).backward(z, a, rz).dz : undefined;
    const skip = net.skips[l];
    h = skip ? (tf.add(a, h) as tf.Tensor2D) : a;
    if (dir) rh = skip && rh ? (tf.add(ra as tf.Tensor2D, rh) as tf.Tensor2D) : ra;
  }
  hs.push(h);
  rhs.push(rh);
  const C = at(V, H).shape[0];
  const logitsT = tf.add(tf.matMul(at(V, H), h), tf.reshape(at(net.biases, H), [C, 1])) as tf.Tensor2D;
  const yT = tf.transpose(batch.y) as tf.Tensor2D;
  // Softmax over classes (axis 0 in the unit-major layout).
  const p = tf.transpose(tf.softmax(tf.transpose(tf.div(logitsT, T)) as tf.Tensor2D)) as tf.Tensor2D;
  let delta = tf.div(tf.sub(p, yT), n * T) as tf.Tensor2D;
  let rdelta: tf.Tensor2D | undefined;
  if (dir) {
    let rlog = tf.matMul(at(dir, H), h) as tf.Tensor2D;
    if (rh) rlog = tf.add(rlog, tf.matMul(at(V, H), rh)) as tf.Tensor2D;
    const rs = tf.div(rlog, T);
    const mean = tf.sum(tf.mul(p, rs), 0, true);
    rdelta = tf.div(tf.mul(p, tf.sub(rs, mean)), n * T) as tf.Tensor2D;
  }
  const dV: tf.Tensor2D[] = new Array<tf.Tensor2D>(H + 1);
  const rdV: tf.Tensor2D[] = new Array<tf.Tensor2D>(H + 1);
  // Upstream gradient w.r.t. h_l (and its R) carried for skips.
  let dhUp: tf.Tensor2D | undefined;
  let rdhUp: tf.Tensor2D | undefined;
  for (let l = H; l >= 0; l--) {
    if (l < H) {
      // delta for hidden layer l from the total upstream gradient w.r.t. h_l.
      const dh = dhUp as tf.Tensor2D;
      delta = at(net.activations, l).backward(at(zs, l), at(as, l), dh).dz;
      if (dir) {
        let rd = at(net.activations, l).backward(at(zs, l), at(as, l), rdhUp as tf.Tensor2D).dz;
        const f2 = secondDerivative(at(net.activations, l).kind, at(zs, l), at(as, l));
        if (f2) rd = tf.add(rd, tf.mul(tf.mul(f2, rzs[l] as tf.Tensor2D), dh)) as tf.Tensor2D;
        rdelta = rd;
      }
    }
    const hin = at(hs, l);
    const hinRow = tf.transpose(hin) as tf.Tensor2D; // [n, in]
    dV[l] = tf.matMul(delta, hinRow) as tf.Tensor2D;
    if (dir) {
      let r = tf.matMul(rdelta as tf.Tensor2D, hinRow) as tf.Tensor2D;
      const rin = rhs[l];
      if (rin) r = tf.add(r, tf.matMul(delta, tf.transpose(rin))) as tf.Tensor2D;
      rdV[l] = r;
    }
    if (l > 0) {
      const Vt = tf.transpose(at(V, l)) as tf.Tensor2D;
      let dh = tf.matMul(Vt, delta) as tf.Tensor2D;
      let rdh: tf.Tensor2D | undefined;
      if (dir) rdh = tf.add(tf.matMul(tf.transpose(at(dir, l)), delta), tf.matMul(Vt, rdelta as tf.Tensor2D)) as tf.Tensor2D;
      // h_{l−1} is the output of hidden layer l−1; if hidden layer l has a skip, h_l = a_l + h_{l−1}.
      if (l < H && net.skips[l]) {
        dh = tf.add(dh, dhUp as tf.Tensor2D) as tf.Tensor2D;
        if (dir) rdh = tf.add(rdh as tf.Tensor2D, rdhUp as tf.Tensor2D) as tf.Tensor2D;
      }
      dhUp = dh;
      rdhUp = rdh;
    }
  }
  return dir ? { dV, rdV } : { dV };
}

export interface GraspResult {
  /** −θ ⊙ Hg per layer, [fanIn, fanOut] row-major, float64. Keep the SMALLEST. */
  scores: Float64Array[];
  /** g and Hg per layer ([fanIn, fanOut]), for tests and diagnostics. */
  g: Float32Array[];
  hg: Float32Array[];
}

/** Weighted mean over batches (weights n_b) of a per-batch list of per-layer tensors. */
function meanOver(batches: Batch[], f: (b: Batch) => tf.Tensor2D[]): tf.Tensor2D[] {
  let sums: tf.Tensor2D[] | undefined;
  let total = 0;
  for (const b of batches) {
    const parts = f(b).map((t) => tf.mul(t, b.n) as tf.Tensor2D);
    sums = sums ? sums.map((s, l) => tf.add(s, at(parts, l)) as tf.Tensor2D) : parts;
    total += b.n;
  }
  return (sums as tf.Tensor2D[]).map((s) => tf.div(s, total) as tf.Tensor2D);
}

export function graspScores(net: MaskedMLP, batches: Batch[], T: number = GRASP_TEMPERATURE): GraspResult {
  if (batches.length === 0) throw new Error('grasp needs at least one batch');
  if (net.spec.batchNorm) throw new Error('grasp: the exact Hessian-gradient product is not implemented with batch_norm');
  const [gT, hgT] = tf.tidy(() => {
    const g = meanOver(batches, (b) => pass(net, b, T).dV);
    const hg = meanOver(batches, (b) => pass(net, b, T, g).rdV as tf.Tensor2D[]);
    return [g.map((t) => tf.transpose(t)), hg.map((t) => tf.transpose(t))];
  });
  const g = gT.map((t) => t.dataSync() as Float32Array);
  const hg = hgT.map((t) => t.dataSync() as Float32Array);
  [...gT, ...hgT].forEach((t) => t.dispose());
  const scores = hg.map((h, l) => {
    const w = net.kernelArray(l);
    const s = new Float64Array(w.length);
    for (let i = 0; i < w.length; i++) s[i] = -w[i]! * h[i]!;
    return s;
  });
  return { scores, g, hg };
}
