/**
 * Optimizers written as TF.js ops over our own state, so that
 *  - they only ever see the gradients we hand them (already masked, coupled L2 already added), and
 *  - their state for pruned entries provably stays 0 (every state update is a function of the
 *    masked gradient and the previous state, both 0 there).
 * Update rules and defaults follow PyTorch (ours; the paper names the optimizers, not the variants),
 * so a PyTorch reference reproduces them step for step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerName } from '../shared/experiment';
import { ruleSlots, type SparseKernels, type UpdateRule } from './sparse';
import { at } from '../shared/checked';

export interface OptimizerOptions {
  name: OptimizerName;
  learningRate: number;
  /** Momentum coefficient for 'momentum' (heavy ball, PyTorch form buf = μ·buf + g). */
  momentum: number;
  /** 'momentum' only: Nesterov's form, w ← w − lr·(g + μ·buf) after the buffer update (PyTorch). */
  nesterov?: boolean;
  /** Decoupled decay coefficient, used by 'adamw' only (W ← W − lr·λ·W before the Adam step). */
  decoupledDecay: number;
  /** Adam/AdamW β1, β2 (PyTorch defaults 0.9, 0.999). */
  beta1?: number;
  beta2?: number;
  /** ε for adam/adamw (1e-8), rmsprop (1e-8), adagrad (1e-10): PyTorch defaults. */
  epsilon?: number;
  /** RMSProp smoothing α (PyTorch default 0.99). */
  rho?: number;
}

export interface Param {
  variable: tf.Variable;
  /** Decoupled decay applies to kernels only (ours; biases, BN and activation parameters are not decayed). */
  decay: boolean;
}

/**
 * Kernel weights of a layer on the sparse path (sparse.ts): the active values and the optimizer's
 * state slots over the same entries, both owned by the layer (created here on first use).
 */
export interface SparseParam {
  /** Current views of the weights and the state slots (sparse.ts SparseKernel). */
  readonly values: Float32Array;
  readonly slots: Float32Array[];
  /** Make sure there are n state slots (new ones zero). */
  ensureSlots(n: number): void;
  /** The kernels that run the update. */
  readonly kernels: SparseKernels;
}

export interface Optimizer {
  readonly name: OptimizerName;
  /**
   * Apply one update. grads[i] belongs to params[i]; sparse[j].grad (masked gradient over the active
   * entries) to sparse[j].param — the same rule in float64 arithmetic per entry, stored as float32.
   * Must be called inside a tidy or dispose its temporaries.
   */
  apply(params: Param[], grads: tf.Tensor[], sparse?: { param: SparseParam; grad: Float32Array }[]): void;
  /**
   * Multiply every state slot of `variable` by `keep` (same shape, 0/1): entries where keep is 0
   * restart from zero state (a mask change: dropped and grown weights). No-op before the first update.
   */
  resetState(variable: tf.Variable, keep: tf.Tensor): void;
  /** Bytes of state held for tf parameters (sparse layers hold their own slots). */
  stateBytes(): number;
  /** The state slots of `variable` (Adam: m, v; momentum: buf; …), undefined before its first update. */
  slotsOf(variable: tf.Variable): readonly tf.Variable[] | undefined;
  /** Number of updates applied so far. */
  readonly iterations: number;
  /** The learning rate the next update applies (training.lr_schedule changes it between epochs). */
  readonly learningRate: number;
  setLearningRate(lr: number): void;
  dispose(): void;
}

export function createOptimizer(o: OptimizerOptions): Optimizer {
  let lr = o.learningRate;
  const slots = new Map<tf.Variable, tf.Variable[]>();
  let t = 0;
  const state = (v: tf.Variable, n: number): tf.Variable[] => {
    let s = slots.get(v);
    if (!s) {
      s = [];
      for (let i = 0; i < n; i++) s.push(tf.variable(tf.zerosLike(v), false));
      slots.set(v, s);
    }
    return s;
  };
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const rho = o.rho ?? 0.99;

  const step = (p: Param, g: tf.Tensor): void => {
    const w = p.variable;
    switch (o.name) {
      case 'sgd':
        w.assign(tf.sub(w, tf.mul(g, lr)));
        return;
      case 'momentum': {
        const buf = at(state(w, 1), 0);
        // PyTorch: the first step sets buf = g (buf starts at 0, so μ·0 + g is the same).
        const nb = tf.add(tf.mul(buf, o.momentum), g);
        buf.assign(nb);
        const d = o.nesterov === true ? tf.add(g, tf.mul(nb, o.momentum)) : nb;
        w.assign(tf.sub(w, tf.mul(d, lr)));
        return;
      }
      case 'adam':
      case 'adamw': {
        const eps = o.epsilon ?? 1e-8;
        const slots = state(w, 2);
        const m = at(slots, 0);
        const v = at(slots, 1);
        const base = o.name === 'adamw' && p.decay && o.decoupledDecay > 0 ? tf.mul(w, 1 - lr * o.decoupledDecay) : w;
        const nm = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const nv = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        m.assign(nm);
        v.assign(nv);
        const bc1 = 1 - Math.pow(b1, t);
        const bc2 = Math.sqrt(1 - Math.pow(b2, t));
        // PyTorch: w ← w − (lr/bc1)·m / (√v/bc2 + ε), rewritten as w − (lr·bc2/bc1)·m / (√v + ε·bc2)
        // (same value, one full-size pass fewer).
        const denom = tf.add(tf.sqrt(nv), eps * bc2);
        w.assign(tf.sub(base, tf.mul(tf.div(nm, denom), (lr * bc2) / bc1)));
        return;
      }
      case 'rmsprop': {
        const eps = o.epsilon ?? 1e-8;
        const sq = at(state(w, 1), 0);
        const ns = tf.add(tf.mul(sq, rho), tf.mul(tf.square(g), 1 - rho));
        sq.assign(ns);
        w.assign(tf.sub(w, tf.mul(tf.div(g, tf.add(tf.sqrt(ns), eps)), lr)));
        return;
      }
      case 'adagrad': {
        const eps = o.epsilon ?? 1e-10;
        const acc = at(state(w, 1), 0);

        const na = tf.add(acc, tf.square(g));
        acc.assign(na);
        w.assign(tf.sub(w, tf.mul(tf.div(g, tf.add(tf.sqrt(na), eps)), lr)));
        return;
      }
      default: {
        const never: never = o.name;
        throw new Error(`unknown optimizer ${String(never)}`);
      }
    }
  };

  /** The rules of `step` over the active entries of a sparse layer (kernels: decay applies), run by its kernels. */
  const sparseStep = (p: SparseParam, g: Float32Array): void => {
    const rule = sparseRule();
    p.ensureSlots(ruleSlots(rule));
    p.kernels.update(rule, p.values, p.slots, g);
  };
  const sparseRule = (): UpdateRule => {
    switch (o.name) {
      case 'sgd':
        return { name: 'sgd', lr };
      case 'momentum':
        return { name: 'momentum', lr, mu: o.momentum, nesterov: o.nesterov === true };
      case 'adam':
      case 'adamw': {
        const bc1 = 1 - Math.pow(b1, t);
        const bc2 = Math.sqrt(1 - Math.pow(b2, t));
        const decay = o.name === 'adamw' && o.decoupledDecay > 0 ? 1 - lr * o.decoupledDecay : 1;
        return { name: 'adam', b1, c1: 1 - b1, b2, c2: 1 - b2, f: (lr * bc2) / bc1, e2: (o.epsilon ?? 1e-8) * bc2, decay };
      }
      case 'rmsprop':
        return { name: 'rmsprop', rho, c: 1 - rho, eps: o.epsilon ?? 1e-8, lr };
      case 'adagrad':
        return { name: 'adagrad', eps: o.epsilon ?? 1e-10, lr };
      default: {
        const never: never = o.name;
        throw new Error(`unknown optimizer ${String(never)}`);
      }
    }
  };

  return {
    name: o.name,
    get iterations() {
      return t;
    },
    get learningRate() {
      return lr;
    },
    setLearningRate(next) {
      if (!(next > 0) || !Number.isFinite(next)) throw new Error(`learning rate must be a positive finite number, got ${next}`);
      lr = next;
    },
    apply(params, grads, sparse) {
      t++;
      tf.tidy(() => params.forEach((p, i) => step(p, at(grads, i))));
      sparse?.forEach((s) => sparseStep(s.param, s.grad));
    },
    stateBytes() {
      let b = 0;
      for (const s of slots.values()) for (const v of s) b += 4 * v.size;
      return b;
    },
    slotsOf(variable) {
      return slots.get(variable);
    },
    resetState(variable, keep) {
      const s = slots.get(variable);
      if (!s) return;
      tf.tidy(() => s.forEach((slot) => slot.assign(tf.mul(slot, keep))));
    },
    dispose() {
      for (const s of slots.values()) s.forEach((v) => v.dispose());
      slots.clear();
    },
  };
}
