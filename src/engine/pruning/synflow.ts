/**
 * SynFlow, iterative synaptic flow pruning (Tanaka, Kunin, Yamins, Ganguli 2020): data-free.
 *
 * As the published code does it (ganguli-lab/Synaptic-Flow, `Pruners/pruners.py` SynFlow.score,
 * `prune.py`): every entry of the model's state is replaced by its absolute value (kernels, biases,
 * BatchNorm's γ, β and running statistics, learnable activation parameters), the model is run in
 * eval mode AS IT IS — its own activations — on an all-ones input, R = Σ outputs, and the score of a
 * kernel entry is |θ ⊙ ∂R/∂θ| on the currently masked net. Masks are refined over `rounds` rounds;
 * after round r of R the kept share is ρ^(r/R) (the exponential schedule), ρ the final density.
 *
 * The engine's state at initialisation: biases 0, BatchNorm γ = 1, β = 0, running mean 0, variance 1
 * (eval mode multiplies by c = 1/√(1 + ε)), PReLU slope |0.25|, SReLU (t_l, a_l, t_r, a_r) =
 * |(−0.4, 0.4, 0.4, 2)| = (0.4, 0.4, 0.4, 2). Hidden layer: z = c·(h_{l−1}|W_l ⊙ m_l|), a = f(z),
 * h_l = a (+ h_{l−1} with an identity skip); logits = h_{L−1}|W_L ⊙ m_L|. Backward:
 *   ∂R/∂logits = 1,  ∂R/∂z_l = f'(z_l)·∂R/∂h_l,  ∂R/∂h_{l−1} = c·|W_l ⊙ m_l| ∂R/∂z_l (+ ∂R/∂h_l with a skip)
 *   score_l[i, j] = |W_l[i, j]| m_l[i, j] · h_{l−1}[i] · c·∂R/∂z_l[j]
 * in float64 (the published float32 code can overflow on deep nets). With relu, prelu and elu every
 * pre-activation is ≥ 0, where they are the identity; sigmoid, swish and srelu are not, and change
 * the ranking. `activation: 'linear'` computes the identity-activation variant (not used for runs).
 */
import type { Activation } from '../../shared/experiment';
import { PRELU_INIT_SLOPE, SRELU_INIT } from '../activations';
import type { LayerShape } from '../masks';
import { selectGlobal, selectLayerwise } from './select';
import { at } from '../../shared/checked';

export interface SynflowNet {
  shapes: LayerShape[];
  /** Full (unpruned) kernels, [fanIn, fanOut] row-major. */
  kernels: Float32Array[];
  /** Per hidden layer (length L − 1): identity skip. */
  skips: boolean[];
  /** BatchNorm on hidden layers, with its ε. */
  batchNormEpsilon?: number;
  /** Hidden activation, applied as the network does (absent = relu). `linear`: the identity variant. */
  activation?: Activation | 'linear';
}

/** f and f' of a hidden activation at the |θ| parameters of its initial state (module comment). */
export function synflowActivation(kind: Activation | 'linear'): { f: (z: number) => number; df: (z: number) => number } {
  const sig = (z: number): number => 1 / (1 + Math.exp(-z));
  const slope = Math.abs(PRELU_INIT_SLOPE);
  const tl = Math.abs(SRELU_INIT.tl);
  const al = Math.abs(SRELU_INIT.al);
  const tr = Math.abs(SRELU_INIT.tr);
  const ar = Math.abs(SRELU_INIT.ar);
  switch (kind) {
    case 'linear':
      return { f: (z) => z, df: () => 1 };
    case 'relu':
      return { f: (z) => (z > 0 ? z : 0), df: (z) => (z > 0 ? 1 : 0) };
    case 'prelu':
      return { f: (z) => (z > 0 ? z : slope * z), df: (z) => (z > 0 ? 1 : slope) };
    case 'elu':
      return { f: (z) => (z > 0 ? z : Math.expm1(z)), df: (z) => (z > 0 ? 1 : Math.exp(z)) };
    case 'sigmoid':
      return { f: sig, df: (z) => sig(z) * (1 - sig(z)) };
    case 'swish':
      return { f: (z) => z * sig(z), df: (z) => sig(z) * (1 + z * (1 - sig(z))) };
    case 'srelu':
      // activations.ts: z + (a_r − 1)·relu(z − t_r) − (a_l − 1)·relu(t_l − z); slope 1 at a threshold.
      return {
        f: (z) => z + (ar - 1) * Math.max(0, z - tr) - (al - 1) * Math.max(0, tl - z),
        df: (z) => 1 + (z > tr ? ar - 1 : 0) + (z < tl ? al - 1 : 0),
      };
    case 'srelu-slide':
      // activations.ts: t_r + a_r(z + t_r) for z ≥ t_r, else t_l + a_l(z + t_l) for z ≤ t_l, else z.
      return {
        f: (z) => (z >= tr ? tr + ar * (z + tr) : z <= tl ? tl + al * (z + tl) : z),
        df: (z) => (z >= tr ? ar : z <= tl ? al : 1),
      };
  }
}

/** SynFlow scores of the net under `masks` (1 = active). */
export function synflowScores(net: SynflowNet, masks: ArrayLike<number>[]): Float64Array[] {
  const L = net.shapes.length;
  const c = net.batchNormEpsilon !== undefined ? 1 / Math.sqrt(1 + net.batchNormEpsilon) : 1;
  const scale = (l: number): number => (l < L - 1 ? c : 1);
  const skip = (l: number): boolean => l < L - 1 && at(net.skips, l) && at(net.shapes, l).fanIn === at(net.shapes, l).fanOut;

  const act = synflowActivation(net.activation ?? 'relu');
  // Forward: u[l] is the input vector of weight layer l; z[l] the pre-activation of hidden layer l.
  const u: Float64Array[] = [new Float64Array(at(net.shapes, 0).fanIn).fill(1)];
  const z: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    const { fanIn, fanOut } = at(net.shapes, l);
    const w = at(net.kernels, l);
    const m = at(masks, l);
    const prev = at(u, l);
    const out = new Float64Array(fanOut);
    for (let i = 0; i < fanIn; i++) {
      const ui = prev[i]!;
      if (ui === 0) continue;
      const row = i * fanOut;
      for (let j = 0; j < fanOut; j++) if (m[row + j] !== 0) out[j]! += ui * Math.abs(w[row + j]!);
    }
    const s = scale(l);
    if (s !== 1) for (let j = 0; j < fanOut; j++) out[j]! *= s;
    if (l < L - 1) {
      z.push(Float64Array.from(out));
      for (let j = 0; j < fanOut; j++) out[j] = act.f(out[j]!);
    }
    if (skip(l)) for (let j = 0; j < fanOut; j++) out[j]! += prev[j]!;
    u.push(out);
  }
  // Backward: dh is ∂R/∂h_l for the output of weight layer l (the logits for l = L − 1).
  const scores: Float64Array[] = new Array<Float64Array>(L);
  let dh = new Float64Array(at(net.shapes, L - 1).fanOut).fill(1);
  for (let l = L - 1; l >= 0; l--) {
    const { fanIn, fanOut } = at(net.shapes, l);
    const w = at(net.kernels, l);
    const m = at(masks, l);
    const s = scale(l);
    const dz = new Float64Array(fanOut);
    const zl = l < L - 1 ? z[l] : undefined;
    for (let j = 0; j < fanOut; j++) dz[j] = s * dh[j]! * (zl ? act.df(zl[j]!) : 1);
    const sc = new Float64Array(fanIn * fanOut);
    const din = new Float64Array(fanIn);
    const prev = at(u, l);
    for (let i = 0; i < fanIn; i++) {
      const row = i * fanOut;
      let acc = 0;
      for (let j = 0; j < fanOut; j++) {
        if (m[row + j] === 0) continue;
        const a = Math.abs(w[row + j]!);
        sc[row + j] = a * prev[i]! * dz[j]!;
        acc += a * dz[j]!;
      }
      din[i] = acc;
    }
    if (skip(l)) for (let i = 0; i < fanIn; i++) din[i]! += dh[i]!;
    scores[l] = sc;
    dh = din;
  }
  return scores;
}

/** Kept count after round r of R for a set of n weights ending at k: n − ⌊(1 − ρ^(r/R))·n⌋, exactly k at r = R. */
export function synflowKeep(n: number, k: number, r: number, rounds: number): number {
  if (r >= rounds) return k;
  const keep = n - Math.floor((1 - Math.pow(k / n, r / rounds)) * n);
  return Math.max(k, Math.min(n, keep));
}

/**
 * Iterative SynFlow masks. `counts` are the final per-layer counts (layerwise) or are summed to the
 * global total (global). Weights pruned in an earlier round are ranked below all others (they have
 * score 0 and are never grown back, even when kept weights tie at 0).
 */
export function synflowMasks(net: SynflowNet, counts: number[], scope: 'layerwise' | 'global', rounds: number): { masks: Float32Array[]; scores: Float64Array[] } {
  const sizes = net.shapes.map((s) => s.fanIn * s.fanOut);
  const nAll = sizes.reduce((a, b) => a + b, 0);
  const kAll = counts.reduce((a, b) => a + b, 0);
  let masks: Float32Array[] = sizes.map((n) => new Float32Array(n).fill(1));
  let scores: Float64Array[] = [];
  for (let r = 1; r <= rounds; r++) {
    scores = synflowScores(net, masks);
    const pruned = masks.map((m) => m.map((v) => (v === 0 ? 1 : 0)));
    masks =
      scope === 'layerwise'
        ? selectLayerwise(scores, sizes.map((n, l) => synflowKeep(n, at(counts, l), r, rounds)), pruned)
        : selectGlobal(scores, synflowKeep(nAll, kAll, r, rounds), pruned);
  }
  return { masks, scores };
}
