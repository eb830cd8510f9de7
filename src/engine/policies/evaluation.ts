/**
 * Epoch evaluation: after each epoch every net still training is evaluated on the validation and
 * test splits and an `epoch` event sent; at the end of a run stopped mid-epoch, the final numbers
 * describe the weights as they are then.
 */
import type { EpochMetrics, SplitMetrics } from '../../shared/protocol';
import type { LoopHook, NetRun } from '../loop';
import { evaluate, type Batch } from '../step';

export type NetEvaluator = (r: NetRun) => { validation: SplitMetrics; test: SplitMetrics };

export function netEvaluator(validation: Batch[], test: Batch[]): NetEvaluator {
  return (r) => ({ validation: evaluate(r.net, validation), test: evaluate(r.net, test) });
}

export function evaluationPolicy(o: { evaluate: NetEvaluator; nTrain: number; started: number; onEpoch(m: EpochMetrics): void }): LoopHook {
  return {
    epochEnd: (s) => {
      const elapsed = (performance.now() - o.started) / 1000;
      for (const r of s.active()) {
        r.epochs = s.epoch + 1;
        const train = { loss: r.epochLoss / r.epochN, accuracy: r.epochCorrect / r.epochN };
        const ev = o.evaluate(r);
        r.final = { train, ...ev };
        o.onEpoch({ net: r.role, epoch: s.epoch + 1, step: s.step, train, ...ev, elapsed });
      }
    },
    end: (s) => {
      if (s.epochDone) return;
      // Stopped mid-epoch: the final numbers describe the weights as they are now.
      for (const r of s.active()) {
        const train = r.epochN > 0 ? { loss: r.epochLoss / r.epochN, accuracy: r.epochCorrect / r.epochN } : r.final.train;
        r.final = { train, ...o.evaluate(r) };
        // Stopped on the last step of an epoch: that epoch's updates are all done.
        if (r.epochN === o.nTrain) r.epochs += 1;
      }
    },
  };
}
