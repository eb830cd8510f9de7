/**
 * Gradient-flow measures (method.md §3).
 *  - gf_p = ||g||_p of all RAW kernel gradients concatenated (pruned positions included).
 *  - EGF_p = (1/L) Σ_n ||g^n ⊙ m^n||_p — a plain mean over weight layers, no division by the active
 *    count.
 * Per-layer norms are reduced on the backend into a small vector so a step's numbers come back in one
 * transfer; the pure helpers below combine them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RawNormEvery } from '../shared/experiment';
import { everyNth } from '../shared/format';
import type { LayerStep, NormPair } from '../shared/protocol';
import { at } from '../shared/checked';

/** Number of scalars per layer in a norms vector: raw Σ|g|, raw Σg², masked Σ|g|, masked Σg². */
export const NORM_SLOTS = 4;

/**
 * Σ of all entries of a [rows, cols] matrix, fast on wasm, where a full tf.sum runs scalar code
 * (≈ 8 ms per 9.5M entries). On wasm the matrix is viewed as a one-row image with `cols` channels
 * and average-pooled over all rows (XNNPACK's SIMD pooling reads each entry once: ≈ 2 ms per 9.5M),
 * then the `cols` column means are summed and scaled back by `rows` (float32 rounding of the
 * 1/rows scale, ≤ a few ulp). Elsewhere, with `onesCol` ([cols, 1] of ones), the bulk of the work
 * is a matrix-vector product (on wasm ≈ 5.7 ms per 9.5M: XNNPACK computes 8 output columns for the
 * one it needs) and the final sum is over `rows` entries only. NaN/Inf propagate either way (the
 * pooled sum is accumulated before it is scaled, so an overflowing sum is still Inf).
 */
export function sumAll(t: tf.Tensor, onesCol?: tf.Tensor2D): tf.Scalar {
  if (t.rank === 2 && tf.getBackend() === 'wasm') {
    const [rows, cols] = t.shape as [number, number];
    const means = tf.avgPool(tf.reshape(t, [1, rows, 1, cols]) as tf.Tensor4D, [rows, 1], [rows, 1], 'valid');
    return tf.mul(tf.sum(means), rows) as tf.Scalar;
  }
  if (onesCol && t.rank === 2 && t.shape[1] === onesCol.shape[0]) return tf.sum(tf.matMul(t as tf.Tensor2D, onesCol)) as tf.Scalar;
  return tf.sum(t) as tf.Scalar;
}

/** sumAll of a temporary, freed at once so the next full-size temporary can reuse its memory. */
function sumOf(t: tf.Tensor, onesCol?: tf.Tensor2D): tf.Scalar {
  const s = sumAll(t, onesCol);
  t.dispose();
  return s;
}

/**
 * Where a sparse layer's active entries are (MaskedMLP.activeIndex): `idx` [q, c, 2] stored-layout
 * (row, col) pairs of the k active entries, padded to q·c with a pruned position; `onesCol` [c, 1].
 */
export interface ActiveIndex {
  idx: tf.Tensor3D;
  onesCol: tf.Tensor2D;
}

/**
 * Per-layer reductions as a [4] tensor: raw Σ|g|, raw Σg², masked Σ|g ⊙ m|, masked Σ(g ⊙ m)².
 * For an unmasked layer the masked gradient IS the raw one, so its two reductions are reused
 * instead of recomputed. With `active` (a sparse layer) the masked sums are taken over the k active
 * entries of the masked gradient, gathered (the padding entry is a pruned one, 0 in g ⊙ m), instead
 * of over all fanIn·fanOut entries of which ≥ 75 % are 0 — the same numbers up to float32 summation
 * order, at a fraction of the cost (bench/ --sparse).
 */
export function layerNormTensor(raw: tf.Tensor, masked: tf.Tensor | undefined, onesCol?: tf.Tensor2D, active?: ActiveIndex, rawWanted: { l1: boolean; l2: boolean } = { l1: true, l2: true }): tf.Tensor1D {
  return tf.tidy(() => {
    // A masked layer's raw sums can be skipped (engine.raw_l1_every / raw_l2_every): NaN then.
    const skip = masked !== undefined;
    const r1 = skip && !rawWanted.l1 ? tf.scalar(NaN) : sumOf(tf.abs(raw), onesCol);
    const r2 = skip && !rawWanted.l2 ? tf.scalar(NaN) : sumOf(tf.square(raw), onesCol);
    if (!masked) return tf.stack([r1, r2, r1, r2]) as tf.Tensor1D;
    if (active) {
      const v = tf.gatherND(masked, active.idx) as tf.Tensor2D;
      return tf.stack([r1, r2, sumOf(tf.abs(v), active.onesCol), sumOf(tf.square(v), active.onesCol)]) as tf.Tensor1D;
    }
    return tf.stack([r1, r2, sumOf(tf.abs(masked), onesCol), sumOf(tf.square(masked), onesCol)]) as tf.Tensor1D;
  });
}

/** `auto`'s cadence of raw norms for a net with a layer on the sparse path (engine.raw_l1_every, ours). */
export const AUTO_SPARSE_RAW_EVERY = 10;

/**
 * Steps between a net's raw norms (`engine.raw_l1_every` / `raw_l2_every`, docs/experiment-file.md):
 * the multiples of the returned number carry them. A net without masked layers reports raw norms
 * on every step whatever the setting (they are its masked norms), so its cadence is 1. A number is
 * used as given (floored, at least 1). `auto` (absent = `auto`): 1 where raw norms are cheap, i.e.
 * every masked layer runs on the dense path (its full gradient is there anyway); 10 for a net with a
 * layer on the sparse path, where raw L1 needs the dense product dzᵀ·h.
 */
export function rawNormEvery(setting: RawNormEvery | undefined, layers: readonly { masked: boolean; path: 'dense' | 'sparse' }[]): number {
  if (!layers.some((l) => l.masked)) return 1;
  if (setting === undefined || setting === 'auto') return layers.some((l) => l.masked && l.path === 'sparse') ? AUTO_SPARSE_RAW_EVERY : 1;
  return Number.isFinite(setting) ? Math.max(1, Math.floor(setting)) : 1;
}

/**
 * The run header's line on which steps carry which numbers (engine.raw_l1_every / raw_l2_every with
 * monitoring.every): a step carries raw norms when it collects norms and is a multiple of the net's
 * cadence, so on multiples of lcm(monitoring.every, cadence).
 */
export function rawEveryNote(nets: readonly { role: string; every: { l1: number; l2: number } }[], monitoringEvery: number): string {
  const m = Math.max(1, Math.floor(monitoringEvery));
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const lcm = (a: number): number => (a * m) / gcd(a, m);
  const parts = nets.map(({ role, every }) => {
    const l1 = lcm(every.l1);
    const l2 = lcm(every.l2);
    return l1 === l2 ? `${role} net ${everyNth(l1)}` : `${role} net: L1 ${everyNth(l1)}, L2 ${everyNth(l2)}`;
  });
  return `raw gradient norms (‖g‖₁, ‖g‖₂, the masked layers' raw L1/L2): ${parts.join('; ')} (engine.raw_l1_every / raw_l2_every), null on the other steps; EGF and masked norms ${everyNth(m)}; the 11 flow points carry every number`;
}

/** Decode NORM_SLOTS numbers per layer (sums of squares → L2 norms). */
export function decodeLayerNorms(values: ArrayLike<number>, offset: number, actives: number[]): LayerStep[] {
  return actives.map((active, l) => {
    const o = offset + l * NORM_SLOTS;
    return {
      active,
      raw: { l1: at(values, o), l2: Math.sqrt(at(values, o + 1)) },
      masked: { l1: at(values, o + 2), l2: Math.sqrt(at(values, o + 3)) },
    };
  });
}

/** Norms of one array (reference helper and for tests). */
export function normPair(v: ArrayLike<number>): NormPair {
  let l1 = 0;
  let s2 = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    l1 += Math.abs(x);
    s2 += x * x;
  }

  return { l1, l2: Math.sqrt(s2) };
}

// The flow measures from per-layer norms and their mean over flow points: one definition for
// engine runs and script runs, in src/shared/flow-measures.ts.
export { combineFlow, meanFlow } from '../shared/flow-measures';

/**
 * When the 11 flow points are measured (method.md §3: k·E/10 epochs, k = 0..10; 0 = before the
 * first update). With E ≥ 10 epochs that is the end of epoch round(k·E/10), as in the paper. With
 * fewer epochs whole epochs cannot give 11 distinct points, so the points fall at steps
 * round(k·T/10) of the T training steps — fractional epochs (ours: a short run still gets all
 * 11 points, evenly spaced in training time). `epoch` is the (possibly fractional) epoch position.
 */
export function flowSchedule(epochs: number, stepsPerEpoch: number, points = 11): { index: number; step: number; epoch: number }[] {
  const out: { index: number; step: number; epoch: number }[] = [];
  const total = epochs * stepsPerEpoch;
  let last = -1;
  for (let k = 0; k < points; k++) {
    const step = epochs >= points - 1 ? Math.round((k * epochs) / (points - 1)) * stepsPerEpoch : Math.round((k * total) / (points - 1));
    // Only a run with fewer than 10 steps can repeat a step; it is measured once.
    if (step === last) continue;
    last = step;
    out.push({ index: k, step, epoch: stepsPerEpoch > 0 ? step / stepsPerEpoch : 0 });
  }
  return out;
}
