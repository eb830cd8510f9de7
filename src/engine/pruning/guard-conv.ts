/**
 * The EGF collapse guard (guard.ts, `sparsity.guard: egf`) on conv nets. The guard itself is the
 * MLP's; what a conv net supplies:
 *  - the masked gradient norms at initialisation: a ConvNet built from the full kernels and each
 *    candidate mask set, measured on the criterion batches by step.ts's measureFlowLayers (training
 *    mode, the same per-layer ‖g ⊙ m‖₂ that EGF₂ averages);
 *  - the path analysis: ConvNet.maskPaths, reachability by channel over the real graph (shortcuts,
 *    pooling and BatchNorm keep channels apart; an identity shortcut carries its channels past a
 *    block), instead of the MLP's chain of layers.
 * Output channels stand for the MLP's units in the guard's rules (a starved layer asks for at least
 * one weight per output channel).
 */
import type { LayerMaskPlan } from '../masks';
import type { Blueprint } from '../nn/arch';
import { ConvNet } from '../nn/convnet';
import { measureFlowLayers, type Batch } from '../step';
import { guardOnPlans, type GuardResult } from './guard';

export interface ConvGuardSpec {
  blueprint: Blueprint;
  bnEpsilon?: number;
  bnMomentum?: number;
}

/**
 * The guard on a conv net's plans (`full`: the unpruned kernels; `ranking`: the criterion's, larger
 * kept first). Returns the plans to build: the same ones when no layer was at risk.
 */
export function convGuardPlans(
  spec: ConvGuardSpec,
  plans: LayerMaskPlan[],
  full: Float32Array[],
  ranking: ArrayLike<number>[],
  batches: Batch[],
): { plans: LayerMaskPlan[]; result: GuardResult } {
  if (batches.length === 0) throw new Error('sparsity.guard egf needs at least one training batch');
  return guardOnPlans(plans, full, ranking, (plansOf) => {
    const build = (m: Float32Array[]): ConvNet =>
      new ConvNet({
        role: 'sparse',
        blueprint: spec.blueprint,
        plans: plansOf(m),
        ...(spec.bnEpsilon !== undefined ? { bnEpsilon: spec.bnEpsilon } : {}),
        ...(spec.bnMomentum !== undefined ? { bnMomentum: spec.bnMomentum } : {}),
      });
    // The guard asks for the norms and then the paths of the same mask set: one net answers both.
    let last: { masks: Float32Array[]; broken: number } | undefined;
    return {
      skips: plans.map(() => false),
      norms: (m) => {
        const net = build(m);
        try {
          last = { masks: m, broken: net.maskPaths().brokenLayer };
          return measureFlowLayers(net, batches, 0).map((l) => l.masked.l2);
        } finally {
          net.dispose();
        }
      },
      brokenLayer: (m) => {
        if (last && last.masks === m) return last.broken;
        const net = build(m);
        try {
          return net.maskPaths().brokenLayer;
        } finally {
          net.dispose();
        }
      },
    };
  });
}
