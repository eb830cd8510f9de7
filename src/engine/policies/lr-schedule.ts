/**
 * training.lr_schedule: the learning rate of every net's optimizer for the epoch about to start,
 * as PyTorch's MultiStepLR stepped once per epoch (base × γ^(milestones ≤ epoch)). Said in the
 * run log when it changes.
 */
import { learningRateAt, type LrSchedule } from '../../shared/experiment';
import type { LoopHook } from '../loop';

export function lrSchedulePolicy(o: { base: number; schedule: LrSchedule; onLog?: (level: 'info', message: string) => void }): LoopHook {
  return {
    epochStart: (s) => {
      const lr = learningRateAt(o.base, o.schedule, s.epoch);
      let changed = false;
      for (const r of s.runs) {
        if (r.opt.learningRate === lr) continue;
        r.opt.setLearningRate(lr);
        changed = true;
      }
      // Shown without float noise (0.1 × 0.2 is 0.020000000000000004).
      if (changed) o.onLog?.('info', `learning rate ${Number(lr.toPrecision(6))} from epoch ${s.epoch + 1} (training.lr_schedule)`);
    },
  };
}
