/**
 * SynFlow, iterative synaptic flow pruning (Tanaka, Kunin, Yamins, Ganguli 2020): data-free.
 *
 * Every parameter is replaced by its absolute value and an all-ones input is fed through the network;
 * R = Σ outputs, and the score of a kernel entry is |θ ⊙ ∂R/∂θ| on the currently masked net. Masks
 * are refined over `rounds` rounds; after round r of R the kept share is ρ^(r/R) (the exponential
 * schedule), ρ the final density, so weights pruned early no longer carry flow.
 *
 * The network is the linearised one: with |θ|, zero biases (the engine's initial biases) and a
 * positive input every pre-activation is ≥ 0, where relu, prelu and elu are the identity, so this is
 * exactly the published algorithm for them; for sigmoid, swish and srelu Gradflow uses the identity
 * too (ours: the published code would run the activation on positive inputs). BatchNorm at
 * initialisation in eval mode (running mean 0, variance 1, γ = 1, β = 0) multiplies a layer's
 * output by c = 1/√(1 + ε). Identity skips add the layer's input, as in the forward pass.
 *
 * With L layers, fan-in/out vectors and the mask this is closed form (kernel [fanIn, fanOut]):
 *   u_0 = 1 (input),  u_l = c_l · (u_{l−1} |W_l ⊙ m_l|) (+ u_{l−1} with a skip)
 *   v_out = 1,        ∂R/∂z_l = c_l · ∂R/∂h_l,  ∂R/∂h_{l−1} = |W_l ⊙ m_l| ∂R/∂z_l (+ ∂R/∂h_l with a skip)
 *   score_l[i, j] = |W_l[i, j]| m_l[i, j] · u_{l−1}[i] · ∂R/∂z_l[j]
 * computed in float64 (the published float32 code overflows on deep nets).
 */
import type { LayerShape } from '../masks';
import { selectGlobal, selectLayerwise } from './select';

export interface SynflowNet {
  shapes: LayerShape[];
  /** Full (unpruned) kernels, [fanIn, fanOut] row-major. */
  kernels: Float32Array[];
  /** Per hidden layer (length L − 1): identity skip. */
  skips: boolean[];
  /** BatchNorm on hidden layers, with its ε. */
  batchNormEpsilon?: number;
}

/** SynFlow scores of the net under `masks` (1 = active). */
export function synflowScores(net: SynflowNet, masks: ArrayLike<number>[]): Float64Array[] {
  const L = net.shapes.length;
  const c = net.batchNormEpsilon !== undefined ? 1 / Math.sqrt(1 + net.batchNormEpsilon) : 1;
  const scale = (l: number): number => (l < L - 1 ? c : 1);
  const skip = (l: number): boolean => l < L - 1 && net.skips[l] && net.shapes[l].fanIn === net.shapes[l].fanOut;
  // Forward: u[l] is the input vector of weight layer l.
  const u: Float64Array[] = [new Float64Array(net.shapes[0].fanIn).fill(1)];
  for (let l = 0; l < L; l++) {
    const { fanIn, fanOut } = net.shapes[l];
    const w = net.kernels[l];
    const m = masks[l];
    const prev = u[l];
    const out = new Float64Array(fanOut);
    for (let i = 0; i < fanIn; i++) {
      const ui = prev[i];
      if (ui === 0) continue;
      const row = i * fanOut;
      for (let j = 0; j < fanOut; j++) if (m[row + j] !== 0) out[j] += ui * Math.abs(w[row + j]);
    }
    const s = scale(l);
    if (s !== 1) for (let j = 0; j < fanOut; j++) out[j] *= s;
    if (skip(l)) for (let j = 0; j < fanOut; j++) out[j] += prev[j];
    u.push(out);
  }
  // Backward: dh is ∂R/∂h_l for the output of weight layer l (the logits for l = L − 1).
  const scores: Float64Array[] = new Array<Float64Array>(L);
  let dh = new Float64Array(net.shapes[L - 1].fanOut).fill(1);
  for (let l = L - 1; l >= 0; l--) {
    const { fanIn, fanOut } = net.shapes[l];
    const w = net.kernels[l];
    const m = masks[l];
    const s = scale(l);
    const dz = new Float64Array(fanOut);
    for (let j = 0; j < fanOut; j++) dz[j] = s * dh[j];
    const sc = new Float64Array(fanIn * fanOut);
    const din = new Float64Array(fanIn);
    const prev = u[l];
    for (let i = 0; i < fanIn; i++) {
      const row = i * fanOut;
      let acc = 0;
      for (let j = 0; j < fanOut; j++) {
        if (m[row + j] === 0) continue;
        const a = Math.abs(w[row + j]);
        sc[row + j] = a * prev[i] * dz[j];
        acc += a * dz[j];
      }
      din[i] = acc;
    }
    if (skip(l)) for (let i = 0; i < fanIn; i++) din[i] += dh[i];
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
        ? selectLayerwise(scores, sizes.map((n, l) => synflowKeep(n, counts[l], r, rounds)), pruned)
        : selectGlobal(scores, synflowKeep(nAll, kAll, r, rounds), pruned);
  }
  return { masks, scores };
}
