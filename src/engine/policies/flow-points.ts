/**
 * Flow points (method.md §3): at the scheduled steps (step 0 before training, then after the steps
 * flow.flowSchedule lists) every net still training measures its flow on the fixed flow batches.
 * A diverged net has no gradient flow left to measure; its summary averages the points it had.
 */
import type { FlowPoint } from '../../shared/protocol';
import { combineFlow } from '../flow';
import type { LoopHook, LoopState } from '../loop';
import { measureFlowLayers, type Batch } from '../step';

export interface FlowPointOptions {
  schedule: { step: number; epoch: number; index: number }[];
  batches: Batch[];
  coupledL2: number;
  onFlowPoint(p: FlowPoint): void;
}

export function flowPointPolicy(o: FlowPointOptions): LoopHook {
  const measure = (s: LoopState): void => {
    for (const p of o.schedule.filter((x) => x.step === s.step)) {
      for (const r of s.active()) {
        const fm = combineFlow(measureFlowLayers(r.net, o.batches, o.coupledL2));
        const point: FlowPoint = { net: r.role, epoch: p.epoch, index: p.index, ...fm };
        r.flowPoints.push(point);
        o.onFlowPoint(point);
      }
    }
  };
  return { start: measure, afterBatch: measure };
}
