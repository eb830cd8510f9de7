/**
 * Dynamic sparse training (docs/pruning.md): SET (Mocanu et al. 2018) and RigL (Evci et al. 2020),
 * as the published code does it (google-research/rigl, `rigl/sparse_optimizers_base.py`).
 *
 * Timing. g is the number of optimizer updates the sparse net has applied (the reference's global
 * step). A mask update is due at g when begin ≤ g ≤ end (inclusive) and last + every ≤ g, `last`
 * starting at −every (so g = 0 can update):
 *   - RigL: checked BEFORE the step at g; a due update REPLACES that iteration's optimizer step
 *     (drop at the pre-step weights, grow by the gradient of that batch at the pre-step weights);
 *     g does not advance, so the next batch steps at the same g.
 *   - SET: checked AFTER the step (g already advanced); the update follows the step, as the
 *     reference's SET wrapper applies the optimizer and then the conditional mask update.
 * Fraction f_g = fraction (constant) or fraction·½(1 + cos(π·min(g, end)/end)) (cosine, the
 * reference's cosine_decay of the drop fraction with decay steps end − begin, begin = 0).
 *
 * Per masked layer with n₁ active weights (planDropGrow, independent of the layer type):
 *   drop   n = ⌊f32(n₁)·f32(f_g)⌋: keep the n₁ − n positions of largest |w|·m + N(0, noise²),
 *          ranked over all positions as the reference does (see planDropGrow for the corner case)
 *   grow   n among the positions not kept (a just-dropped entry may come back), largest score:
 *          |∂L/∂w| of the batch at every position (+ coupled L2, RigL) or uniform random (SET).
 * Applying (DynamicModel.updateMask): a connection is NEW only if its old mask was 0: it starts at 0
 * with zero optimizer state; an entry dropped and grown in the same update keeps its value and
 * state; dropped ones become 0 with zero state. Per-layer active counts stay constant.
 */
import type { Tensor2D } from '@tensorflow/tfjs-core';
import type { DynamicSparsityConfig } from '../../shared/experiment';
import type { MaskUpdate, MaskUpdateLayer } from '../../shared/protocol';
import type { Rng } from '../../shared/rng';
import { topKMask } from './select';
import { at } from '../../shared/checked';

/** Standard deviation of the drop-score noise, the reference's default (`sparsity.dynamic.noise`). */
export const DEFAULT_DROP_NOISE = 1e-5;

/** Last optimizer step (inclusive) at which masks may still change: ⌊until · total steps⌋. */
export function endStep(totalSteps: number, d: DynamicSparsityConfig): number {
  return Math.floor(d.until * totalSteps);
}

/** Share of active weights replaced at optimizer step g (float32, as the reference computes it). */
export function updateFraction(g: number, end: number, d: DynamicSparsityConfig): number {
  switch (d.schedule) {
    case 'constant':
      return Math.fround(d.fraction);
    case 'cosine': {
      if (end <= 0) return Math.fround(d.fraction);
      const done = Math.fround(Math.min(g, end) / end);
      return Math.fround(Math.fround(d.fraction) * Math.fround(0.5 * Math.fround(1 + Math.fround(Math.cos(Math.fround(Math.PI * done))))));
    }
  }
}

/** Number of weights dropped (and grown) from n₁ active at fraction f: ⌊f32(n₁)·f⌋ as the reference's int cast. */
export function dropCount(active: number, fraction: number): number {
  return Math.floor(Math.fround(Math.fround(active) * Math.fround(fraction)));
}

/** The reference's update timing (module comment). */
export class UpdateTimer {
  private last: number;
  constructor(
    readonly every: number,
    readonly end: number,
    readonly begin = 0,
  ) {
    this.last = -every;
  }
  /** Whether an update is due at optimizer step g. */
  due(g: number): boolean {
    return g >= this.begin && g <= this.end && this.last + this.every <= g;
  }
  mark(g: number): void {
    this.last = g;
  }
}

/** One layer's inputs to a mask update: flat arrays over the same positions, any layer type. */
export interface LayerUpdateInput {
  mask: ArrayLike<number>;
  weights: ArrayLike<number>;
  /** Grow score (RigL: the dense gradient); undefined = uniform random scores from the rng (SET). */
  growScore?: ArrayLike<number>;
}

export interface LayerUpdate {
  /** Flat indices, ascending: active entries dropped. */
  drop: Int32Array;
  /** Entries grown by the grow score (may include dropped ones). */
  grow: Int32Array;
  /**
   * Inactive entries that outranked an active one in the drop ranking (an active weight at |w| = 0,
   * or within the noise of 0): kept by the reference's ranking over all positions, so they become
   * active (at 0, new). Usually empty.
   */
  revive: Int32Array;
}

/**
 * One layer's drop and grow sets as the reference computes them (module comment): the drop ranking
 * is over ALL positions, |w|·m + N(0, noise²) (noise drawn for every position in index order from
 * `rng`), keeping the best n₁ − n; SET's uniform grow scores come from `rng` after the noise. Ties:
 * larger first, then lower index (tf.nn.top_k's order).
 */
export function planDropGrow(layer: LayerUpdateInput, fraction: number, noise: number, rng: Rng): LayerUpdate {
  const { mask, weights, growScore } = layer;
  const n = mask.length;
  let ones = 0;
  for (let i = 0; i < n; i++) if (mask[i] !== 0) ones++;
  const nDrop = dropCount(ones, fraction);
  const score = new Float64Array(n);
  if (weights.length !== n || (growScore && growScore.length !== n)) throw new RangeError(`drop/grow: a mask of ${n} with ${weights.length} weights${growScore ? ` and ${growScore.length} grow scores` : ''}`);
  for (let i = 0; i < n; i++) score[i] = (mask[i] !== 0 ? Math.abs(weights[i]!) : 0) + (noise > 0 ? noise * rng.normal() : 0);
  const keep = topKMask(score, ones - nDrop);
  const drop: number[] = [];
  const revive: number[] = [];
  for (let i = 0; i < n; i++) {
    if (mask[i] !== 0 && keep[i] === 0) drop.push(i);
    else if (mask[i] === 0 && keep[i] !== 0) revive.push(i);
  }
  const grow: number[] = [];
  if (nDrop > 0) {
    const g = new Float64Array(n);
    if (growScore) for (let i = 0; i < n; i++) g[i] = Math.abs(growScore[i]!);

    else for (let i = 0; i < n; i++) g[i] = rng.next();
    const chosen = topKMask(g, nDrop, keep);
    for (let i = 0; i < n; i++) if (chosen[i] !== 0) grow.push(i);
  }
  return { drop: Int32Array.from(drop), grow: Int32Array.from(grow), revive: Int32Array.from(revive) };
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

/**
 * What a network must offer for mask updates (dynamic sparsity and gradual magnitude pruning); the
 * interface a layer type implements to take part (docs/pruning.md "The mask-update interface").
 * Positions are flat indices of one layer's kernel in a fixed layout of the model's choice.
 */
export interface DynamicModel {
  readonly numLayers: number;
  /** Whether layer l has a mask. */
  readonly masked: readonly boolean[];
  maskArray(l: number): Float32Array;
  kernelArray(l: number): Float32Array;
  /** ∂L/∂w of the batch at every position of layer l (pruned ones included), no coupled L2. */
  denseKernelGradient(l: number, batch: { x: Tensor2D; xT?: Tensor2D; y: Tensor2D }): Float32Array;
  /**
   * Apply a plan: `drop` active entries become 0 with zero optimizer state; `grow` entries become
   * active, at 0 with zero state when they were inactive, unchanged when dropped in the same call.
   */
  updateMask(l: number, drop: Int32Array, grow: Int32Array): void;
}

/** Per-layer numbers of the protocol's `mask-update` event for applied plans. */
export function updateNumbers(net: DynamicModel, l: number, u: LayerUpdate, initial: Float32Array): MaskUpdateLayer {
  const dropped = new Set(u.drop);
  let regrown = 0;
  for (const i of u.grow) if (dropped.has(i)) regrown++;
  const after = net.maskArray(l);
  let active = 0;
  for (let i = 0; i < after.length; i++) if (after[i] !== 0) active++;
  return { layer: l, dropped: u.drop.length, grown: u.grow.length + u.revive.length, regrown, active, overlap: overlapWithInitial(initial, after) };
}

export interface DynamicUpdateOptions {
  /** Coupled L2 coefficient: RigL's grow score is the gradient the optimizer would see, ∂L/∂w + λw. */
  coupledL2?: number;
  /** Explicit grow scores per layer (tests against a reference's random draws); default as the method says. */
  growScores?: (ArrayLike<number> | undefined)[];
}

/**
 * One mask update of every masked layer of `net` at optimizer step g on the current batch; returns
 * the per-layer numbers of the protocol's `mask-update` event (without net / step / epoch).
 */
export function applyDynamicUpdate(
  net: DynamicModel,
  batch: { x: Tensor2D; xT?: Tensor2D; y: Tensor2D },
  d: DynamicSparsityConfig,
  g: number,
  end: number,
  rng: Rng,
  initial: (Float32Array | undefined)[],
  o: DynamicUpdateOptions = {},
): Omit<MaskUpdate, 'net' | 'step' | 'epoch'> {
  const fraction = updateFraction(g, end, d);
  const noise = d.noise ?? DEFAULT_DROP_NOISE;
  const lambda = o.coupledL2 ?? 0;
  const layers: MaskUpdateLayer[] = [];
  const moving = [...Array(net.numLayers).keys()].filter((l) => net.masked[l] && initial[l] !== undefined);
  // Every layer's drop and grow sets from the SAME weights (all gradients before any mask changes).
  const plans = moving.map((l) => {
    const weights = net.kernelArray(l);
    let score: ArrayLike<number> | undefined = o.growScores?.[l];
    if (!score && d.method === 'rigl') {
      const grad = net.denseKernelGradient(l, batch);
      if (lambda > 0) for (let i = 0; i < grad.length; i++) grad[i]! += lambda * weights[i]!;
      score = grad;
    }
    return planDropGrow({ mask: net.maskArray(l), weights, ...(score ? { growScore: score } : {}) }, fraction, noise, rng);
  });
  for (const [p, l] of moving.entries()) {
    const u = at(plans, p);
    if (u.drop.length > 0) net.updateMask(l, u.drop, u.revive.length > 0 ? Int32Array.from([...u.grow, ...u.revive]) : u.grow);
    layers.push(updateNumbers(net, l, u, initial[l] as Float32Array));
  }
  return { method: d.method, fraction, layers };
}

/**
 * The per-iteration driver of one net's dynamic sparsity, used by the training loop (and by tests
 * that drive the loop themselves): ask `replacesStep(g)` before the step (RigL), run the step
 * (skipping the optimizer when it said so), then `afterStep`.
 */
export class DynamicSparsity {
  readonly end: number;
  private readonly timer: UpdateTimer;
  constructor(
    readonly config: DynamicSparsityConfig,
    totalSteps: number,
    private readonly rng: Rng,
    private readonly initial: (Float32Array | undefined)[],
  ) {
    this.end = endStep(totalSteps, config);
    this.timer = new UpdateTimer(config.every, this.end);
  }

  /** RigL: whether the iteration at optimizer step g replaces its optimizer step by a mask update. */
  replacesStep(g: number): boolean {
    return this.config.method === 'rigl' && this.timer.due(g);
  }

  /**
   * After the iteration's (possibly skipped) step, g = the optimizer steps applied now: runs the mask
   * update when one is due (RigL: `replaced` said so; SET: due at g) and returns its numbers.
   */
  afterStep(
    net: DynamicModel,
    batch: { x: Tensor2D; xT?: Tensor2D; y: Tensor2D },
    g: number,
    replaced: boolean,
    o: DynamicUpdateOptions = {},
  ): Omit<MaskUpdate, 'net' | 'step' | 'epoch'> | undefined {
    const due = this.config.method === 'rigl' ? replaced : this.timer.due(g);
    if (!due) return undefined;
    const u = applyDynamicUpdate(net, batch, this.config, g, this.end, this.rng, this.initial, o);
    this.timer.mark(g);
    return u;
  }
}
