/** Gradient-flow alerts (explosion, collapse) from each collected step's per-layer norms (alerts.ts rules). */
import type { Alert } from '../../shared/protocol';
import type { LoopHook } from '../loop';

export function normAlertPolicy(onAlert: (a: Alert) => void): LoopHook {
  return {
    netStep: (s, r, res) => {
      if (res.layers) r.alerts.observe(s.step, res.layers).forEach(onAlert);
    },
  };
}
