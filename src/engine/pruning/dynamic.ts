/**
 * Dynamic sparse training (docs/pruning.md): SET (Mocanu et al. 2018) and RigL (Evci et al. 2020).
 *
 * At step t (after that step's update) with t % every = 0 and t < until·T (T the total steps), each
 * masked layer with n₁ active weights:
 *   f_t    = fraction (constant) or fraction/2·(1 + cos(π·t/(until·T))) (cosine, RigL's schedule);
 *   drop   ⌊f_t·n₁⌋ active weights of smallest |w| (keep the n₁ − drop largest, ties by select.ts);
 *   grow   as many among the positions inactive AFTER the drop (a just-dropped weight may come back):
 *          SET at random (uniform, the run's seeded stream), RigL where |∂L/∂w| of the current batch
 *          (the dense gradient at all positions, model.denseKernelGradient) is largest, ties by
 *          select.ts.
 * Grown weights start at 0 with zeroed optimizer state (model.updateMask); per-layer active counts
 * stay constant, so the SC-SDC pair stays valid.
 */
import type { Tensor2D } from '@tensorflow/tfjs-core';
import type { DynamicSparsityConfig } from '../../shared/experiment';
import type { MaskUpdate, MaskUpdateLayer } from '../../shared/protocol';
import type { Rng } from '../../shared/rng';
import { topKMask } from './select';

/** Whether step t (1-based, counted after its update) updates the masks. */
export function isUpdateStep(step: number, totalSteps: number, d: DynamicSparsityConfig): boolean {
  return step > 0 && step % d.every === 0 && step < d.until * totalSteps;
}

/** Share of active weights replaced at step t. */
export function updateFraction(step: number, totalSteps: number, d: DynamicSparsityConfig): number {
  switch (d.schedule) {
    case 'constant':
      return d.fraction;
    case 'cosine':
      return (d.fraction / 2) * (1 + Math.cos((Math.PI * step) / (d.until * totalSteps)));
  }
}

export interface LayerUpdate {
  /** Flat [fanIn, fanOut] indices, ascending. */
  drop: Int32Array;
  grow: Int32Array;
}

/**
 * One layer's drop and grow sets. `growScore` (RigL) ranks the grow candidates; without it (SET)
 * they are drawn uniformly from `rng`.
 */
export function layerUpdate(mask: ArrayLike<number>, kernel: ArrayLike<number>, fraction: number, growScore: ArrayLike<number> | undefined, rng: Rng): LayerUpdate {
  const n = mask.length;
  const inactive = new Uint8Array(n);
  let ones = 0;
  for (let i = 0; i < n; i++) {
    if (mask[i] !== 0) ones++;
    else inactive[i] = 1;
  }
  const nDrop = Math.floor(fraction * ones);
  if (nDrop <= 0) return { drop: new Int32Array(0), grow: new Int32Array(0) };
  const mag = new Float64Array(n);
  for (let i = 0; i < n; i++) mag[i] = Math.abs(kernel[i]);
  const keep = topKMask(mag, ones - nDrop, inactive);
  const drop: number[] = [];
  for (let i = 0; i < n; i++) if (mask[i] !== 0 && keep[i] === 0) drop.push(i);
  let grow: number[];
  if (growScore) {
    const g = new Float64Array(n);
    for (let i = 0; i < n; i++) g[i] = Math.abs(growScore[i]);
    const chosen = topKMask(g, nDrop, keep);
    grow = [];
    for (let i = 0; i < n; i++) if (chosen[i] !== 0) grow.push(i);
  } else {
    // Partial Fisher-Yates over the candidates (ascending order), then sorted.
    const cand: number[] = [];
    for (let i = 0; i < n; i++) if (keep[i] === 0) cand.push(i);
    for (let i = 0; i < nDrop; i++) {
      const j = i + rng.int(cand.length - i);
      const t = cand[i];
      cand[i] = cand[j];
      cand[j] = t;
    }
    grow = cand.slice(0, nDrop).sort((a, b) => a - b);
  }
  return { drop: Int32Array.from(drop), grow: Int32Array.from(grow) };
}

/** Share of the initial mask's active positions still active in `mask`. */
export function overlapWithInitial(initial: ArrayLike<number>, mask: ArrayLike<number>): number {
  let both = 0;
  let init = 0;
  for (let i = 0; i < initial.length; i++) {
    if (initial[i] !== 0) {
      init++;
      if (mask[i] !== 0) both++;
    }
  }
  return init === 0 ? 1 : both / init;
}

/** What a model must offer for mask updates (the agreed interface of MaskedMLP). */
export interface DynamicModel {
  readonly numLayers: number;
  /** Whether layer l has a mask (dense or sparse kernel path). */
  readonly masked: readonly boolean[];
  maskArray(l: number): Float32Array;
  kernelArray(l: number): Float32Array;
  denseKernelGradient(l: number, batch: { x: Tensor2D; xT?: Tensor2D; y: Tensor2D }): Float32Array;
  updateMask(l: number, drop: Int32Array, grow: Int32Array): void;
}

/**
 * One mask update of every masked layer of `net` on the current batch; returns the per-layer numbers
 * of the protocol's `mask-update` event (without net / step / epoch).
 */
export function applyDynamicUpdate(
  net: DynamicModel,
  batch: { x: Tensor2D; xT?: Tensor2D; y: Tensor2D },
  d: DynamicSparsityConfig,
  step: number,
  totalSteps: number,
  rng: Rng,
  initial: (Float32Array | undefined)[],
): Omit<MaskUpdate, 'net' | 'step' | 'epoch'> {
  const fraction = updateFraction(step, totalSteps, d);
  const layers: MaskUpdateLayer[] = [];
  const moving = [...Array(net.numLayers).keys()].filter((l) => net.masked[l] && initial[l] !== undefined);
  // Every layer's drop and grow sets from the SAME weights (RigL takes all gradients before any
  // mask changes), then the updates.
  const plans = moving.map((l) => {
    const score = d.method === 'rigl' ? net.denseKernelGradient(l, batch) : undefined;
    return layerUpdate(net.maskArray(l), net.kernelArray(l), fraction, score, rng);
  });
  for (const [p, l] of moving.entries()) {
    const init = initial[l] as Float32Array;
    const u = plans[p];
    if (u.drop.length > 0) net.updateMask(l, u.drop, u.grow);
    const dropped = new Set(u.drop);
    let regrown = 0;
    for (const i of u.grow) if (dropped.has(i)) regrown++;
    const after = net.maskArray(l);
    let active = 0;
    for (let i = 0; i < after.length; i++) if (after[i] !== 0) active++;
    layers.push({ layer: l, dropped: u.drop.length, grown: u.grow.length, regrown, active, overlap: overlapWithInitial(init, after) });
  }
  return { method: d.method, fraction, layers };
}
