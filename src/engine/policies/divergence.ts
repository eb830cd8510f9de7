/**
 * Divergence (`monitoring.on_nan`): a non-finite loss or gradient raises a `nan` alert. Under
 * `continue` the net trains on and the first occurrence is kept for its summary; under `stop` the
 * net stops training (its twin goes on, the run still finishes) and its final numbers are those of
 * the weights it diverged with.
 */
import type { Alert } from '../../shared/protocol';
import type { LoopHook, NetRun } from '../loop';
import type { StepResult } from '../step';
import type { NetEvaluator } from './evaluation';
import { at } from '../../shared/checked';

export interface DivergenceOptions {
  onNan: 'stop' | 'continue';
  onAlert(a: Alert): void;
  onLog?: (level: 'info' | 'warn', message: string) => void;
  evaluate: NetEvaluator;
}

function what(r: NetRun, nonFinite: NonNullable<StepResult['nonFinite']>): string {
  const where = typeof nonFinite.where === 'number' ? at(r.net.layerInfo, nonFinite.where).name : nonFinite.where;
  return `non-finite ${where === 'loss' ? 'loss' : `gradient (${where})`}`;
}

export function divergencePolicy(o: DivergenceOptions): LoopHook {
  return {
    netStep: (s, r, res) => {
      const nf = res.nonFinite;
      if (!nf) return;
      const a = r.alerts.nonFinite(s.step, nf.where, nf.value);
      if (a) o.onAlert(a);
      if (o.onNan !== 'stop' && !r.nonFiniteAt) {
        r.nonFiniteAt = { step: s.step, reason: `${what(r, nf)} in the ${r.role} net at step ${s.step} (monitoring.on_nan: continue, it trained on)` };
      }
      if (o.onNan === 'stop' && !r.diverged) {
        // A diverged net is a result of its configuration, not a failed run.
        r.diverged = { step: s.step, reason: `${what(r, nf)} in the ${r.role} net at step ${s.step}` };
        o.onLog?.('warn', `${r.diverged.reason}: that net stops training (monitoring.on_nan: stop)`);
        const train = { loss: NaN, accuracy: r.epochCorrect / Math.max(1, r.epochN) };
        r.final = { train, ...o.evaluate(r) };
      }
    },
  };
}
