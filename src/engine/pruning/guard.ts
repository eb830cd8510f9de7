/**
 * The EGF collapse guard, `sparsity.guard: egf` (docs/pruning.md; ours — no published method): after
 * a criterion has scored and chosen its masks, and before they are fixed, check each layer's share of
 * the masked gradient flow at initialisation and whether an input-to-output path survives; move kept
 * weights between layers, keeping the total count, until no layer is at risk.
 *
 * Share of layer l: s_l = ‖g_l ⊙ m_l‖₂ / Σ_j ‖g_j ⊙ m_j‖₂ (the terms of EGF₂, method.md §3, on the
 * masked net at initialisation). Layer l is AT RISK when it has no active weight, when it is the first
 * layer where no active path from the inputs reaches its outputs (masks.activePaths; for conv nets
 * the caller's `brokenLayer`, ConvNet.maskPaths by channel over the real graph), or — while any
 * gradient flows at all — when s_l < floor / L (floor = 0.1 by default: a tenth of an equal share).
 * When paths exist but no gradient flows at all, the layer with the fewest active weights per output
 * unit is at risk ('no-flow').
 *
 * Each round (at most `maxRounds`, default 20), for every at-risk layer in order of share (smallest
 * first): it asks for Δ = min(inactive, max(fanOut, k_l)) more weights (at least one per output unit,
 * or doubling); donors are the layers not at risk, largest share first, each giving at most half its
 * count; the starved layer gains its best-ranked inactive positions, the donor loses its worst-ranked
 * active ones (by the criterion's own ranking). Then the shares are measured again. When no layer is
 * at risk at the start, the masks are returned unchanged (the same arrays). The total active count
 * never changes; a layer is never emptied (donors keep at least half, and an empty layer is at risk).
 */
import { activePaths, plansFrom, type LayerMaskPlan, type LayerShape } from '../masks';
import { topKMask } from './select';
import { at } from '../../shared/checked';

export const GUARD_SHARE_FLOOR = 0.1;
export const GUARD_MAX_ROUNDS = 20;

export interface GuardInput {
  shapes: LayerShape[];
  /** The criterion's masks, [fanIn, fanOut] row-major (1 = active). */
  masks: Float32Array[];
  /** The criterion's ranking per layer: larger = kept first. */
  ranking: ArrayLike<number>[];
  /** Per weight layer: an identity skip around it (as masks.activePaths takes them). */
  skips: boolean[];
  /**
   * The first layer no active path from the inputs reaches (−1: none), for nets that are not a chain
   * of layers (conv nets: ConvNet.maskPaths by channel over the real graph, shortcuts included).
   * Absent: masks.activePaths over `shapes` and `skips` (the MLP).
   */
  brokenLayer?: (masks: Float32Array[]) => number;
  /** ‖g_l ⊙ m_l‖₂ per layer of the net with these masks, at initialisation. */
  norms(masks: Float32Array[]): number[];
  floor?: number;
  maxRounds?: number;
}

export interface GuardMove {
  round: number;
  to: number;
  from: number;
  count: number;
}

export interface GuardResult {
  masks: Float32Array[];
  changed: boolean;
  /** Every layer out of risk at the end. */
  resolved: boolean;
  moves: GuardMove[];
  sharesBefore: number[];
  sharesAfter: number[];
  /** Layers at risk before the guard, and why. */
  atRiskBefore: { layer: number; reason: 'empty' | 'no-path' | 'low-share' | 'no-flow' }[];
}

function countOf(m: Float32Array): number {
  let c = 0;
  for (const v of m) if (v !== 0) c++;
  return c;
}

function shares(norms: number[]): number[] {
  const total = norms.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return norms.map((n) => (total > 0 && Number.isFinite(n) ? n / total : 0));
}

/** Layers at risk under `masks` with these shares, smallest share first. */
export function layersAtRisk(
  shapes: LayerShape[],
  masks: Float32Array[],
  skips: boolean[],
  s: number[],
  floor: number,
  brokenLayer?: (masks: Float32Array[]) => number,
): { layer: number; reason: 'empty' | 'no-path' | 'low-share' | 'no-flow' }[] {
  const L = shapes.length;
  const paths = { brokenLayer: brokenLayer ? brokenLayer(masks) : activePaths(masks, shapes, skips).brokenLayer };
  // Without any flow (a cut path zeroes every gradient) the shares say nothing: structure only.
  const flowing = s.some((v) => v > 0);
  const out: { layer: number; reason: 'empty' | 'no-path' | 'low-share' | 'no-flow' }[] = [];
  for (let l = 0; l < L; l++) {
    if (countOf(at(masks, l)) === 0) out.push({ layer: l, reason: 'empty' });
    // The first layer where the path breaks (the layers after it are cut off because of it).
    else if (l === paths.brokenLayer) out.push({ layer: l, reason: 'no-path' });
    else if (flowing && s[l]! < floor / L) out.push({ layer: l, reason: 'low-share' });
  }
  if (!flowing && out.length === 0) {
    // Paths exist but no gradient flows at all (e.g. every path runs through units relu keeps at 0):
    // the bottleneck is the layer with the fewest active weights per output unit.
    let worst = 0;
    for (let l = 1; l < L; l++) if (countOf(at(masks, l)) / at(shapes, l).fanOut < countOf(at(masks, worst)) / at(shapes, worst).fanOut) worst = l;
    out.push({ layer: worst, reason: 'no-flow' });
  }
  return out.sort((a, b) => at(s, a.layer) - at(s, b.layer) || a.layer - b.layer);
}

export function egfGuard(input: GuardInput): GuardResult {
  const floor = input.floor ?? GUARD_SHARE_FLOOR;
  const maxRounds = input.maxRounds ?? GUARD_MAX_ROUNDS;
  const { shapes, skips, ranking } = input;
  const sharesBefore = shares(input.norms(input.masks));
  const atRiskBefore = layersAtRisk(shapes, input.masks, skips, sharesBefore, floor, input.brokenLayer);
  if (atRiskBefore.length === 0) {
    return { masks: input.masks, changed: false, resolved: true, moves: [], sharesBefore, sharesAfter: sharesBefore, atRiskBefore };
  }
  let masks: Float32Array[] = input.masks.map((m) => Float32Array.from(m));
  let s = sharesBefore;
  let risk = atRiskBefore;
  const moves: GuardMove[] = [];
  for (let round = 1; round <= maxRounds && risk.length > 0; round++) {
    const riskSet = new Set(risk.map((r) => r.layer));
    let moved = false;
    for (const { layer: to } of risk) {
      const n = at(shapes, to).fanIn * at(shapes, to).fanOut;
      const k = countOf(at(masks, to));
      let want = Math.min(n - k, Math.max(at(shapes, to).fanOut, k));
      const donors = [...shapes.keys()].filter((l) => !riskSet.has(l)).sort((a, b) => at(s, b) - at(s, a) || countOf(at(masks, b)) - countOf(at(masks, a)) || a - b);
      for (const from of donors) {
        if (want <= 0) break;
        const kd = countOf(at(masks, from));
        const give = Math.min(want, Math.floor(kd / 2));
        if (give <= 0) continue;
        const active = at(masks, to);
        const add = topKMask(at(ranking, to), give, active);
        const grown = Float32Array.from(active);
        for (let i = 0; i < grown.length; i++) if (add[i] !== 0) grown[i] = 1;
        const donorMask = at(masks, from);
        const inactive = donorMask.map((v) => (v === 0 ? 1 : 0));
        const kept = topKMask(at(ranking, from), kd - give, inactive);
        masks = masks.map((m, l) => (l === to ? grown : l === from ? kept : m));
        moves.push({ round, to, from, count: give });
        want -= give;
        moved = true;
      }
    }
    if (!moved) break;
    s = shares(input.norms(masks));
    risk = layersAtRisk(shapes, masks, skips, s, floor, input.brokenLayer);
  }
  return { masks, changed: moves.length > 0, resolved: risk.length === 0, moves, sharesBefore, sharesAfter: s, atRiskBefore };
}

/**
 * The guard on a sparse net's plans, for any architecture: `full` are the unpruned kernels,
 * `ranking` the criterion's (larger kept first). `measure` is given `plansOf(masks)` (the plans of a
 * net with the full kernels and those masks) and returns how such a net is measured: its per-layer
 * masked norms and, for nets that are not a chain of layers, its first broken layer.
 * Returns the plans to build: the same ones when no layer was at risk.
 */
export function guardOnPlans(
  plans: LayerMaskPlan[],
  full: Float32Array[],
  ranking: ArrayLike<number>[],
  measure: (plansOf: (masks: Float32Array[]) => LayerMaskPlan[]) => Pick<GuardInput, 'skips' | 'norms' | 'brokenLayer'>,
): { plans: LayerMaskPlan[]; result: GuardResult } {
  const shapes = plans.map((p) => p.shape);
  const stds = plans.map((p) => p.std);
  const masks = plans.map((p) => {
    if (!p.mask) throw new Error('internal: the collapse guard needs masked layers');
    return p.mask;
  });
  const plansOf = (m: Float32Array[]): LayerMaskPlan[] => plansFrom(shapes, full.map((k) => Float32Array.from(k)), stds, m);
  const result = egfGuard({ shapes, masks, ranking, ...measure(plansOf) });
  return { plans: result.changed ? plansOf(result.masks) : plans, result };
}
