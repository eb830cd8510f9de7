/**
 * SynFlow on conv nets (Tanaka, Kunin, Yamins, Ganguli 2020), as the published code scores any model
 * (ganguli-lab/Synaptic-Flow, `Pruners/pruners.py` SynFlow.score, `prune.py` prune_loop) and as
 * synflow.ts does for the MLP: every entry of the model's state is made absolute (kernels, biases,
 * BatchNorm's γ, β, moving mean and variance, PReLU / SReLU parameters), the net runs in EVAL mode
 * with its own layers — activations, BatchNorm at its moving statistics (at initialisation mean 0,
 * variance 1: a per-channel factor 1/√(1 + ε)), 2×2 max-pooling, residual sums, global average
 * pooling — on ONE all-ones image, R = Σ logits, and the score of a kernel entry is |θ ⊙ ∂R/∂θ| on
 * the currently masked net. Rounds follow synflow.ts (exponential schedule, entries pruned in an
 * earlier round ranked below all others; select.ts's tie rule).
 *
 * No layer is written twice: the pass is ConvNet's own forward and backward (nn/convnet.ts,
 * `scoringPass`, which differentiates BatchNorm with its statistics held fixed, as eval mode does),
 * on a ConvNet whose state is the absolute value of the scored net's.
 *
 * Precision: the pass runs in float32 (TF.js); the scores are returned in float64. R grows like the
 * product of the layers' gains (≈ 1.1·√fan-in each), so deep nets reach float32's range; since the
 * backward pass is linear in its seed, it is seeded with 2^−e (e = round(log₂ R)) instead of 1 and
 * the scores are multiplied back by 2^e in float64 (exact: a power of two). A forward pass that
 * overflows, or non-finite scores, are an error naming the key, never a silent ranking of NaNs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PruningScope } from '../../shared/experiment';
import type { LayerMaskPlan } from '../masks';
import type { Blueprint } from '../nn/arch';
import { layerShape } from '../nn/arch';
import { ConvNet } from '../nn/convnet';
import { selectGlobal, selectLayerwise } from './select';
import { synflowKeep } from './synflow';

export interface ConvSynflowNet {
  blueprint: Blueprint;
  /** Full (unpruned) kernels, [fanIn, fanOut] row-major (= [k, k, cIn, cOut] flattened). */
  kernels: Float32Array[];
  bnEpsilon?: number;
}

/** The scoring net: a ConvNet at the |θ| of the initial state, kernels set per round. */
function scoringNet(o: ConvSynflowNet): ConvNet {
  const plans: LayerMaskPlan[] = o.blueprint.layers.map((d, l) => {
    const k = o.kernels[l];
    if (!k) throw new Error(`internal: no kernel for layer ${d.name}`);
    return { shape: layerShape(d), kernel: k.map(Math.abs), active: k.length, std: 0 };
  });
  const net = new ConvNet({ role: 'sparse', blueprint: o.blueprint, plans, ...(o.bnEpsilon !== undefined ? { bnEpsilon: o.bnEpsilon } : {}) });
  tf.tidy(() => {
    const abs = (v: tf.Variable): void => v.assign(tf.abs(v));
    net.biases.forEach((b) => {
      if (b) abs(b);
    });
    for (const bn of net.bns) [bn.gamma, bn.beta, bn.movingMean, bn.movingVar].forEach(abs);
    for (const a of net.activations) a.params.forEach((p) => abs(p.variable));
  });
  return net;
}

/** One round's scores on `net` (a scoringNet) with masks applied to |W|. */
function roundScores(net: ConvNet, absKernels: Float32Array[], masks: ArrayLike<number>[]): Float64Array[] {
  const L = absKernels.length;
  tf.tidy(() => {
    for (let l = 0; l < L; l++) {
      const a = absKernels[l];
      const m = masks[l];
      if (!a || !m) throw new Error(`internal: no kernel or mask for layer ${l}`);
      const w = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) w[i] = m[i] !== 0 ? (a[i] ?? 0) : 0;
      net.kernel(l).assign(tf.tensor2d(w, [net.layerInfo[l]?.fanIn ?? 0, net.layerInfo[l]?.fanOut ?? 0]));
    }
  });
  const [h, wd, c] = net.blueprint.spec.input;
  const pass = (): { r: number; grads: tf.Tensor[]; seedExp: number } => {
    const x = tf.ones([1, h, wd, c]);
    const p = net.scoringPass(x);
    const r = tf.sum(p.logits).dataSync()[0] ?? NaN;
    if (!Number.isFinite(r)) return { r, grads: [], seedExp: 0 };
    const seedExp = r > 0 ? Math.round(Math.log2(r)) : 0;
    const grads = p.backward(tf.fill(p.logits.shape, Math.pow(2, -seedExp)) as tf.Tensor2D).kernels.map((g) => tf.keep(g));
    return { r, grads, seedExp };
  };
  const res = tf.tidy(() => {
    const o = pass();
    return { ...o, grads: o.grads };
  });
  if (!Number.isFinite(res.r)) {
    throw Object.assign(new Error(`sparsity.method: synflow: the output sum R of the |θ| network is ${res.r} in float32 on this net (too deep or too wide for SynFlow's float32 pass)`), { key: 'sparsity.method' });
  }
  const back = Math.pow(2, res.seedExp);
  const scores = res.grads.map((g, l) => {
    const gd = g.dataSync() as Float32Array;
    g.dispose();
    const a = absKernels[l] ?? new Float32Array(0);
    const m = masks[l] ?? [];
    const s = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) {
      if (m[i] === 0) continue;
      const v = (a[i] ?? 0) * Math.abs(gd[i] ?? 0) * back;
      if (!Number.isFinite(v)) {
        throw Object.assign(new Error(`sparsity.method: synflow: a score of layer ${net.layerInfo[l]?.name ?? l} is ${v} in float32 on this net (R = ${res.r})`), { key: 'sparsity.method' });
      }
      s[i] = v;
    }
    return s;
  });
  return scores;
}

/** SynFlow scores of a conv net under `masks` (1 = active), [fanIn, fanOut] row-major per layer, float64. */
export function convSynflowScores(o: ConvSynflowNet, masks: ArrayLike<number>[]): Float64Array[] {
  const net = scoringNet(o);
  try {
    return roundScores(net, o.kernels.map((k) => k.map(Math.abs)), masks);
  } finally {
    net.dispose();
  }
}

/**
 * Iterative SynFlow masks of a conv net, as synflow.ts's synflowMasks: `counts` are the final
 * per-layer counts (layerwise) or summed to the global total; `rounds` rounds on the exponential
 * schedule. Returns the final masks and the last round's scores.
 */
export function convSynflowMasks(o: ConvSynflowNet, counts: number[], scope: PruningScope, rounds: number): { masks: Float32Array[]; scores: Float64Array[] } {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`sparsity.synflow_rounds must be a positive integer, got ${rounds}`);
  const sizes = o.kernels.map((k) => k.length);
  const nAll = sizes.reduce((a, b) => a + b, 0);
  const kAll = counts.reduce((a, b) => a + b, 0);
  const abs = o.kernels.map((k) => k.map(Math.abs));
  const net = scoringNet(o);
  try {
    let masks: Float32Array[] = sizes.map((n) => new Float32Array(n).fill(1));
    let scores: Float64Array[] = [];
    for (let r = 1; r <= rounds; r++) {
      scores = roundScores(net, abs, masks);
      const pruned = masks.map((m) => m.map((v) => (v === 0 ? 1 : 0)));
      masks =
        scope === 'layerwise'
          ? selectLayerwise(scores, sizes.map((n, l) => synflowKeep(n, counts[l] ?? 0, r, rounds)), pruned)
          : selectGlobal(scores, synflowKeep(nAll, kAll, r, rounds), pruned);
    }
    return { masks, scores };
  } finally {
    net.dispose();
  }
}
