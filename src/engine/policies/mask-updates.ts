/**
 * Mask updates of the sparse net: dynamic sparsity (pruning/dynamic.ts: RigL's update replaces its
 * iteration's optimizer step, SET's follows it) and gradual magnitude pruning (pruning/gmp.ts,
 * after the step), timed on the net's optimizer-step count; each update is a `mask-update` event.
 */
import type { DynamicSparsityConfig, GmpConfig, PruningScope } from '../../shared/experiment';
import type { MaskUpdate } from '../../shared/protocol';
import type { Rng } from '../../shared/rng';
import type { LoopHook, NetRun } from '../loop';
import { DynamicSparsity } from '../pruning/dynamic';
import { GradualPruning } from '../pruning/gmp';

export interface MaskUpdateOptions {
  runs: NetRun[];
  totalSteps: number;
  coupledL2: number;
  /** Dynamic sparse training of the sparse net, with its rng. */
  dynamic?: { config: DynamicSparsityConfig; rng: Rng };
  /** Gradual magnitude pruning of the sparse net to `finalCounts` per weight layer. */
  gmp?: { config: GmpConfig; scope: PruningScope; finalCounts: number[] };
  onMaskUpdate?: (u: MaskUpdate) => void;
}

/** The policy, or undefined when the masks never move. Reads the sparse net's initial masks now. */
export function maskUpdatePolicy(o: MaskUpdateOptions): LoopHook | undefined {
  const gmps = new Map<NetRun, GradualPruning>();
  const dynamics = new Map<NetRun, DynamicSparsity>();
  for (const r of o.runs) {
    if (r.role !== 'sparse') continue;
    const initial = (): (Float32Array | undefined)[] => r.net.masked.map((m, l) => (m ? r.net.maskArray(l) : undefined));
    if (o.gmp) {
      const starts = r.net.layerInfo.map((l) => l.active);
      gmps.set(r, new GradualPruning(o.gmp.config, o.totalSteps, o.gmp.scope, starts, o.gmp.finalCounts, initial()));
    }
    if (o.dynamic) dynamics.set(r, new DynamicSparsity(o.dynamic.config, o.totalSteps, o.dynamic.rng, initial()));
  }
  if (gmps.size === 0 && dynamics.size === 0) return undefined;
  return {
    beforeStep: (s) => {
      for (const r of s.active()) r.skipUpdate = dynamics.get(r)?.replacesStep(r.opt.iterations) ?? false;
    },
    afterStep: (s, batch) => {
      for (const r of s.active()) {
        // RigL at the pre-step weights (its step was skipped); SET and gmp after the step.
        const u = dynamics.get(r)?.afterStep(r.net, batch, r.opt.iterations, r.skipUpdate, { coupledL2: o.coupledL2 }) ?? gmps.get(r)?.afterStep(r.net, r.opt.iterations);
        if (u) o.onMaskUpdate?.({ net: r.role, step: s.step, epoch: s.epoch, ...u });
      }
    },
  };
}
