/**
 * Activations of method.md §6 with explicit backward passes.
 *
 * Why explicit: the CommonJS build of @tensorflow/tfjs-core registers NO op gradients (they are
 * registered by the @tensorflow/tfjs union package, which this project does not ship), so autodiff
 * (tf.grad / tf.variableGrads) fails in Node for ordinary ops. The whole MLP backward pass is
 * therefore written by hand; each function here is a pure forward/backward pair tested against
 * hand-computed values.
 *
 * Shapes: z is [n, units] ('batch-major', the default) or [units, n] ('unit-major', the layout the
 * model uses internally, see model.ts); per-unit parameters are stored as [units] and viewed so they
 * broadcast over the batch. Parameter gradients are summed over the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../shared/experiment';

/** Defaults for learnable activations (method.md §6, paper values). */
export const PRELU_INIT_SLOPE = 0.25;
export const SRELU_INIT = { tl: -0.4, al: 0.4, tr: 0.4, ar: 2 } as const;

export interface ActivationBackward {
  dz: tf.Tensor2D;
  /** Gradients of the activation's parameters, in `params` order. */
  dParams: tf.Tensor1D[];
}

export interface ActivationLayer {
  readonly kind: Activation;
  /** Trainable per-unit parameters (empty for fixed activations), named for display and tests. */
  readonly params: { name: string; variable: tf.Variable }[];
  /** Forward pass; `a` is the output. Call inside a tidy. */
  forward(z: tf.Tensor2D): tf.Tensor2D;
  /** Backward pass given the pre-activation z, the output a and dL/da. Call inside a tidy. */
  backward(z: tf.Tensor2D, a: tf.Tensor2D, da: tf.Tensor2D): ActivationBackward;
  dispose(): void;
}

/** Where the units are: 'batch-major' = z is [n, units]; 'unit-major' = z is [units, n]. */
export type Layout = 'batch-major' | 'unit-major';
const batchAxis = (layout: Layout): number => (layout === 'unit-major' ? 1 : 0);
/** 1 where cond holds, else 0 (float). */
const ind = (cond: tf.Tensor): tf.Tensor => tf.cast(cond, 'float32');

function fixed(
  kind: Activation,
  forward: (z: tf.Tensor2D) => tf.Tensor2D,
  deriv: (z: tf.Tensor2D, a: tf.Tensor2D) => tf.Tensor,
): ActivationLayer {
  return {
    kind,
    params: [],
    forward,
    backward: (z, a, da) => ({ dz: tf.mul(da, deriv(z, a)) as tf.Tensor2D, dParams: [] }),
    dispose: () => undefined,
  };
}

// ---- SReLU (Jin et al. 2016) ------------------------------------------------------------------

/**
 * Continuous SReLU: f(z) = t_r + a_r(z − t_r) for z ≥ t_r, z between, t_l + a_l(z − t_l) for
 * z ≤ t_l; written as z + (a_r − 1)·relu(z − t_r) − (a_l − 1)·relu(t_l − z), equal to the piecewise
 * form whenever t_l ≤ t_r. At a threshold the derivative takes the middle piece's value (1).
 */
export function sreluForward(z: tf.Tensor2D, tl: tf.Tensor, al: tf.Tensor, tr: tf.Tensor, ar: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const right = tf.mul(tf.sub(ar, 1), tf.relu(tf.sub(z, tr)));
    const left = tf.mul(tf.sub(al, 1), tf.relu(tf.sub(tl, z)));
    return tf.sub(tf.add(z, right), left) as tf.Tensor2D;
  });
}

/** Returns dz and [dtl, dal, dtr, dar]. */
export function sreluBackward(z: tf.Tensor2D, da: tf.Tensor2D, tl: tf.Tensor, al: tf.Tensor, tr: tf.Tensor, ar: tf.Tensor, axis = 0): ActivationBackward {
  const sumBatch = (t: tf.Tensor): tf.Tensor1D => tf.sum(t, axis) as tf.Tensor1D;
  return tf.tidy(() => {
    const hi = ind(tf.greater(z, tr));
    const lo = ind(tf.less(z, tl));
    // dz = da·(1 + (a_r − 1)[z > t_r] + (a_l − 1)[z < t_l])
    const slope = tf.add(tf.add(1, tf.mul(tf.sub(ar, 1), hi)), tf.mul(tf.sub(al, 1), lo));
    const dz = tf.mul(da, slope) as tf.Tensor2D;
    const dtl = sumBatch(tf.mul(tf.mul(da, lo), tf.sub(1, al)));
    const dal = sumBatch(tf.mul(da, tf.minimum(tf.sub(z, tl), 0)));
    const dtr = sumBatch(tf.mul(tf.mul(da, hi), tf.sub(1, ar)));
    const dar = sumBatch(tf.mul(da, tf.relu(tf.sub(z, tr))));
    return { dz, dParams: [dtl, dal, dtr, dar] };
  });
}

/**
 * The "slide" variant (method.md §6): z + t instead of z − t, as in widely copied SReLU code and
 * the curve of the paper's slides: f = t_r + a_r(z + t_r) for z ≥ t_r, t_l + a_l(z + t_l) for
 * z ≤ t_l, z between. Discontinuous at the thresholds; the right branch wins if they overlap.
 */
export function sreluSlideForward(z: tf.Tensor2D, tl: tf.Tensor, al: tf.Tensor, tr: tf.Tensor, ar: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const hi = ind(tf.greaterEqual(z, tr));
    const lo = tf.mul(ind(tf.lessEqual(z, tl)), tf.sub(1, hi));
    const mid = tf.sub(tf.sub(1, hi), lo);
    const right = tf.add(tr, tf.mul(ar, tf.add(z, tr)));
    const left = tf.add(tl, tf.mul(al, tf.add(z, tl)));
    return tf.add(tf.add(tf.mul(hi, right), tf.mul(lo, left)), tf.mul(mid, z)) as tf.Tensor2D;
  });
}

export function sreluSlideBackward(z: tf.Tensor2D, da: tf.Tensor2D, tl: tf.Tensor, al: tf.Tensor, tr: tf.Tensor, ar: tf.Tensor, axis = 0): ActivationBackward {
  const sumBatch = (t: tf.Tensor): tf.Tensor1D => tf.sum(t, axis) as tf.Tensor1D;
  return tf.tidy(() => {
    const hi = ind(tf.greaterEqual(z, tr));
    const lo = tf.mul(ind(tf.lessEqual(z, tl)), tf.sub(1, hi));
    const mid = tf.sub(tf.sub(1, hi), lo);
    const dz = tf.mul(da, tf.add(tf.add(tf.mul(hi, ar), tf.mul(lo, al)), mid)) as tf.Tensor2D;
    const dtl = sumBatch(tf.mul(tf.mul(da, lo), tf.add(1, al)));
    const dal = sumBatch(tf.mul(tf.mul(da, lo), tf.add(z, tl)));
    const dtr = sumBatch(tf.mul(tf.mul(da, hi), tf.add(1, ar)));
    const dar = sumBatch(tf.mul(tf.mul(da, hi), tf.add(z, tr)));
    return { dz, dParams: [dtl, dal, dtr, dar] };
  });
}

// ---- factory -----------------------------------------------------------------------------------

export function createActivation(kind: Activation, units: number, layout: Layout = 'batch-major'): ActivationLayer {
  const axis = batchAxis(layout);
  // Per-unit parameter as a tensor that broadcasts against z in this layout.
  const view = (v: tf.Tensor): tf.Tensor => (layout === 'unit-major' ? tf.reshape(v, [units, 1]) : v);
  const sumBatch = (t: tf.Tensor): tf.Tensor1D => tf.sum(t, axis) as tf.Tensor1D;
  switch (kind) {
    case 'relu':
      // relu'(0) = 0 (TF/PyTorch convention).
      return fixed(kind, (z) => tf.relu(z), (z) => tf.step(z, 0));
    case 'sigmoid':
      return fixed(kind, (z) => tf.sigmoid(z), (_z, a) => tf.mul(a, tf.sub(1, a)));
    case 'elu':
      // α = 1 (method.md §6): f'(z) = 1 for z > 0, e^z = f(z) + 1 otherwise.
      return fixed(kind, (z) => tf.elu(z), (z, a) => tf.where(tf.greater(z, 0), tf.onesLike(z), tf.add(a, 1)));
    case 'swish':
      // f = z·σ(z), f' = σ + f·(1 − σ).
      return fixed(
        kind,
        (z) => tf.tidy(() => tf.mul(z, tf.sigmoid(z))),
        (z, a) => tf.tidy(() => {
          const s = tf.sigmoid(z);
          return tf.add(s, tf.mul(a, tf.sub(1, s)));
        }),
      );
    case 'prelu': {
      const alpha = tf.tidy(() => tf.variable(tf.fill([units], PRELU_INIT_SLOPE), true));
      return {
        kind,
        params: [{ name: 'alpha', variable: alpha }],
        // f = relu(z) + α·min(z, 0); at z = 0 the slope is α (TF.js convention).
        forward: (z) => tf.tidy(() => tf.add(tf.relu(z), tf.mul(view(alpha), tf.minimum(z, 0)))) as tf.Tensor2D,
        backward: (z, _a, da) =>
          tf.tidy(() => {
            const pos = tf.step(z, 0);
            const slope = tf.add(pos, tf.mul(view(alpha), tf.sub(1, pos)));
            return { dz: tf.mul(da, slope) as tf.Tensor2D, dParams: [sumBatch(tf.mul(da, tf.minimum(z, 0)))] };
          }),
        dispose: () => alpha.dispose(),
      };
    }
    case 'srelu':
    case 'srelu-slide': {
      const mk = (v: number): tf.Variable => tf.tidy(() => tf.variable(tf.fill([units], v), true));
      const tl = mk(SRELU_INIT.tl);
      const al = mk(SRELU_INIT.al);
      const tr = mk(SRELU_INIT.tr);
      const ar = mk(SRELU_INIT.ar);
      const slide = kind === 'srelu-slide';
      return {
        kind,
        params: [
          { name: 'tl', variable: tl },
          { name: 'al', variable: al },
          { name: 'tr', variable: tr },
          { name: 'ar', variable: ar },
        ],
        forward: (z) => tf.tidy(() => (slide ? sreluSlideForward : sreluForward)(z, view(tl), view(al), view(tr), view(ar))),
        // Called inside the caller's tidy (interface contract), which frees the reshaped views.
        backward: (z, _a, da) => (slide ? sreluSlideBackward : sreluBackward)(z, da, view(tl), view(al), view(tr), view(ar), axis),
        dispose: () => [tl, al, tr, ar].forEach((v) => v.dispose()),
      };
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown activation ${String(never)}`);
    }
  }
}
