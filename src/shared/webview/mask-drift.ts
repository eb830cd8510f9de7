/**
 * How far each layer's mask has moved from the initial one under dynamic sparse training, from a
 * net's mask updates (docs/dashboard.md). Pure and DOM-free: the page draws it, the tests check it.
 */
import type { MaskUpdatePoint, NetState } from './types';

export interface DriftPoint {
  step: number;
  /** 1 − overlap: share of the initial mask's active positions no longer active; null if unknown. */
  moved: number | null;
  /** This update's counts (0 at the start point). */
  dropped: number;
  grown: number;
  regrown: number;
  active: number;
}

export interface LayerDrift {
  layer: number;
  points: DriftPoint[];
}

/**
 * One series per layer that an update touched, in layer order: a point at step 0 (the initial mask,
 * moved 0) and one per update. Empty without updates.
 */
export function maskDrift(updates: readonly MaskUpdatePoint[]): LayerDrift[] {
  const byLayer = new Map<number, DriftPoint[]>();
  for (const u of updates) {
    for (const l of u.layers) {
      let points = byLayer.get(l.layer);
      if (points === undefined) {
        points = [{ step: 0, moved: 0, dropped: 0, grown: 0, regrown: 0, active: l.active }];
        byLayer.set(l.layer, points);
      }
      points.push({ step: u.step, moved: l.overlap === null ? null : 1 - l.overlap, dropped: l.dropped, grown: l.grown, regrown: l.regrown, active: l.active });
    }
  }
  return [...byLayer.entries()].sort((a, b) => a[0] - b[0]).map(([layer, points]) => ({ layer, points }));
}

/** Steps of every mask update of the run's nets, ascending, each once (markers on the time axis). */
export function maskUpdateSteps(nets: readonly Pick<NetState, 'maskUpdates'>[]): number[] {
  const steps = new Set<number>();
  for (const n of nets) for (const u of n.maskUpdates) steps.add(u.step);
  return [...steps].sort((a, b) => a - b);
}
