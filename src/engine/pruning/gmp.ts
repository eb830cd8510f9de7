/**
 * Gradual magnitude pruning (Zhu & Gupta 2017, "To prune, or not to prune"; the baseline of Gale et
 * al. 2019), `sparsity.method: gmp` (docs/pruning.md).
 *
 * The sparse net starts dense (or at `initial_density`, its largest |w| kept). After the optimizer
 * step that brings the step count to g, with t₀ = ⌊begin·T⌋ and t_end = ⌊end·T⌋ (> t₀), g is a
 * pruning step when t₀ ≤ g ≤ t_end and (g − t₀) is a multiple of `every`, or g = t_end. A set of n
 * weights (one layer, or all layers with `global` scope) then keeps
 *   k_g = round(n·(1 − s_g)),  s_g = s_f + (s_i − s_f)(1 − p)³,  p = (g − t₀)/(t_end − t₀),
 * s_i = 1 − k_i/n, s_f = 1 − k_f/n, in float32 with round-half-even and at least 1, as TensorFlow
 * Model Optimization's PolynomialDecay (power 3) and pruning_impl compute it, clamped to [k_f, k_i], and
 * exactly k_f from t_end on — SC-SDC's per-layer counts (layerwise) or their total (global). The k_g
 * largest |w| among the active weights are kept (ties: lower position first, select.ts); the others
 * are dropped through the mask-update interface (DynamicModel.updateMask with nothing grown), so
 * they are 0 with zero optimizer state and never come back.
 */
import type { GmpConfig, PruningScope } from '../../shared/experiment';
import type { MaskUpdate, MaskUpdateLayer } from '../../shared/protocol';
import { selectGlobal, topKMask } from './select';
import { updateNumbers, type DynamicModel } from './dynamic';
import { at } from '../../shared/checked';

export const DEFAULT_GMP: GmpConfig = { begin: 0, end: 0.75, every: 100, initialDensity: 1 };

export interface GmpTiming {
  t0: number;
  tEnd: number;
  every: number;
}

export function gmpTiming(c: GmpConfig, totalSteps: number): GmpTiming {
  if (!(c.end > c.begin)) throw new Error(`sparsity.gmp.end (${c.end}) must be after sparsity.gmp.begin (${c.begin})`);
  const t0 = Math.floor(c.begin * totalSteps);
  return { t0, tEnd: Math.max(t0 + 1, Math.floor(c.end * totalSteps)), every: c.every };
}

/** Whether optimizer step g (counted after its update) prunes. */
export function isPruneStep(g: number, t: GmpTiming): boolean {
  return g >= t.t0 && g <= t.tEnd && ((g - t.t0) % t.every === 0 || g === t.tEnd);
}

/** tf.math.round: half to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Initial count of a layer of n weights at `density`: round(n·density), at least the final count. */
export function gmpInitialCount(n: number, kFinal: number, density: number): number {
  return Math.max(kFinal, Math.min(n, Math.round(n * density)));
}

/** Kept count of a set of n weights at step g (module comment). */
export function gmpKept(n: number, kInit: number, kFinal: number, g: number, t: GmpTiming): number {
  if (g >= t.tEnd) return kFinal;
  const f = Math.fround;
  const sI = 1 - kInit / n;
  const sF = 1 - kFinal / n;
  const p = Math.min(1, Math.max(0, f(f(g - t.t0) / f(t.tEnd - t.t0))));
  // (s_i − s_f) is a Python float (float64) in the reference, then float32 in the product.
  const s = f(f(f(sI - sF) * f(Math.pow(f(1 - p), 3))) + f(sF));
  const k = Math.max(1, roundHalfEven(f(f(n) * f(1 - s))));
  return Math.min(kInit, Math.max(kFinal, k));
}

/** Indices (ascending) of the active entries of one layer outside its `keep` largest |w|. */
export function planPrune(mask: ArrayLike<number>, weights: ArrayLike<number>, keep: number): Int32Array {
  const n = mask.length;
  const mag = new Float64Array(n);
  const inactive = new Uint8Array(n);
  if (weights.length !== n) throw new RangeError(`gmp: ${weights.length} weights for a mask of ${n}`);
  for (let i = 0; i < n; i++) {
    mag[i] = Math.abs(weights[i]!);

    if (mask[i] === 0) inactive[i] = 1;
  }
  const kept = topKMask(mag, keep, inactive);
  const drop: number[] = [];
  for (let i = 0; i < n; i++) if (mask[i] !== 0 && kept[i] === 0) drop.push(i);
  return Int32Array.from(drop);
}

/** The training loop's driver of gradual magnitude pruning for one net. */
export class GradualPruning {
  readonly timing: GmpTiming;
  constructor(
    config: GmpConfig,
    totalSteps: number,
    readonly scope: PruningScope,
    /** Per weight layer: counts at the start and at the end (undefined for an unmasked layer). */
    readonly initialCounts: number[],
    readonly finalCounts: number[],
    private readonly initial: (Float32Array | undefined)[],
  ) {
    this.timing = gmpTiming(config, totalSteps);
  }

  /** After the step that made the optimizer's count g: prunes when g is a pruning step; the event's numbers. */
  afterStep(net: DynamicModel, g: number): Omit<MaskUpdate, 'net' | 'step' | 'epoch'> | undefined {
    if (!isPruneStep(g, this.timing)) return undefined;
    const layers = [...Array(net.numLayers).keys()].filter((l) => net.masked[l] && this.initial[l] !== undefined);
    const masks = layers.map((l) => net.maskArray(l));
    const weights = layers.map((l) => net.kernelArray(l));
    const activeBefore = masks.map((m) => m.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0));
    let drops: Int32Array[];
    if (this.scope === 'global') {
      const n = masks.reduce((a, m) => a + m.length, 0);
      const kI = layers.reduce((a, l) => a + at(this.initialCounts, l), 0);
      const kF = layers.reduce((a, l) => a + at(this.finalCounts, l), 0);
      const keep = gmpKept(n, kI, kF, g, this.timing);
      const kept = selectGlobal(
        weights.map((w) => w.map(Math.abs)),
        Math.min(keep, activeBefore.reduce((a, b) => a + b, 0)),
        masks.map((m) => m.map((v) => (v === 0 ? 1 : 0))),
      );
      drops = masks.map((m, i) => {
        const d: number[] = [];
        const k = at(kept, i);
        for (let j = 0; j < m.length; j++) if (m[j] !== 0 && k[j] === 0) d.push(j);

        return Int32Array.from(d);
      });
    } else {
      drops = layers.map((l, i) => {
        const keep = gmpKept(at(masks, i).length, at(this.initialCounts, l), at(this.finalCounts, l), g, this.timing);
        return planPrune(at(masks, i), at(weights, i), Math.min(keep, at(activeBefore, i)));
      });
    }
    const total = drops.reduce((a, d) => a + d.length, 0);
    if (total === 0) return undefined;
    const out: MaskUpdateLayer[] = [];
    layers.forEach((l, i) => {
      const drop = at(drops, i);
      if (drop.length > 0) net.updateMask(l, drop, new Int32Array(0));
      out.push(updateNumbers(net, l, { drop, grow: new Int32Array(0), revive: new Int32Array(0) }, this.initial[l] as Float32Array));
    });
    return { method: 'gmp', fraction: total / activeBefore.reduce((a, b) => a + b, 0), layers: out };
  }
}
