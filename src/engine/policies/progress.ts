/** Progress messages: one `step` event per net and step, and the running sums of the epoch's training loss and accuracy. */
import type { FlowMeasures, StepMetrics } from '../../shared/protocol';
import { combineFlow } from '../flow';
import type { LoopHook } from '../loop';

const nanFlow: FlowMeasures = { egf1: NaN, egf2: NaN, g1: NaN, g2: NaN };

export function progressPolicy(onStep: (m: StepMetrics) => void): LoopHook {
  return {
    epochStart: (s) => {
      for (const r of s.runs) {
        r.epochLoss = 0;
        r.epochCorrect = 0;
        r.epochN = 0;
      }
    },
    netStep: (s, r, res, n) => {
      r.epochLoss += res.loss * n;
      r.epochCorrect += res.correct;
      r.epochN += n;
      const fm = res.layers ? combineFlow(res.layers) : nanFlow;
      onStep({ net: r.role, step: s.step, epoch: s.epoch, loss: res.loss, accuracy: res.correct / n, layers: res.layers ?? [], ...fm });
    },
  };
}
