/**
 * The flow measures of method.md §3 from per-layer norms, and their average over flow points: pure
 * arithmetic, shared by the engine (`src/engine/flow.ts` re-exports it) and the host, which
 * computes a script trainer's measures from the norms the script sends (`src/runs/external-trainer.ts`),
 * so both kinds of run use one definition.
 */
import type { FlowMeasures, NormPair } from './protocol';

/** One weight layer's norms: raw gradient and masked gradient. */
export interface LayerNorms {
  raw: NormPair;
  masked: NormPair;
}

function constant(v: number): FlowMeasures {
  return { egf1: v, egf2: v, g1: v, g2: v };
}

/**
 * EGF_p = (1/L) Σ_n ‖g^n ⊙ m^n‖_p; g1 = Σ_n ‖g^n‖_1 (the L1 norm of the concatenated raw gradients);
 * g2 = √Σ_n ‖g^n‖_2². With no layer every measure is `empty` (the engine: 0; the host: NaN).
 */
export function combineFlow(layers: readonly LayerNorms[], empty = 0): FlowMeasures {
  const L = layers.length;
  if (L === 0) return constant(empty);
  let egf1 = 0;
  let egf2 = 0;
  let g1 = 0;
  let g2sq = 0;
  for (const l of layers) {
    egf1 += l.masked.l1;
    egf2 += l.masked.l2;
    g1 += l.raw.l1;
    g2sq += l.raw.l2 * l.raw.l2;
  }
  return { egf1: egf1 / L, egf2: egf2 / L, g1, g2: Math.sqrt(g2sq) };
}

/** The mean of each measure over flow points; every measure is `empty` when there is none. */
export function meanFlow(points: readonly FlowMeasures[], empty = 0): FlowMeasures {
  const n = points.length;
  if (n === 0) return constant(empty);
  const s = { egf1: 0, egf2: 0, g1: 0, g2: 0 };
  for (const p of points) {
    s.egf1 += p.egf1;
    s.egf2 += p.egf2;
    s.g1 += p.g1;
    s.g2 += p.g2;
  }
  return { egf1: s.egf1 / n, egf2: s.egf2 / n, g1: s.g1 / n, g2: s.g2 / n };
}
