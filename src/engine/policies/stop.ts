/** Stop requests: polled after every step and after every epoch's evaluation; a request ends the run within one step. */
import type { LoopHook } from '../loop';

export function stopPolicy(shouldStop: () => boolean): LoopHook {
  return {
    polled: (s, at) => {
      if (shouldStop()) s.stop(at === 'step' ? `stopped by request at step ${s.step}` : `stopped by request after epoch ${s.epoch + 1}`);
    },
  };
}
