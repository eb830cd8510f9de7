/**
 * Mask integrity: a pruned weight that moved after an update (step.ts measures Σ|W ⊙ (1 − m)| of
 * the updated kernels) raises a `mask-integrity` alert and ends the run as failed: its numbers no
 * longer describe the sparse net it claims to be.
 */
import type { Alert } from '../../shared/protocol';
import type { LoopHook } from '../loop';
import { at } from '../../shared/checked';

export function integrityPolicy(onAlert: (a: Alert) => void): LoopHook {
  return {
    netStep: (s, r, res) => {
      for (const iv of res.integrity) {
        const a = r.alerts.integrity(s.step, iv.layer, iv.value);
        if (a) onAlert(a);
        s.stop(`mask integrity violated in the ${r.role} net, layer ${at(r.net.layerInfo, iv.layer).name}, at step ${s.step}`, true);
      }
    },
  };
}
