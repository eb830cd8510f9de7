/**
 * What the end of a run says to the user (the failed and killed ends have their own error
 * notification with the log tail, in the run manager). Every other end gets a notification its
 * status deserves and a status-bar text that stays until the next run starts.
 */
import { statusLabel, type RunStatus } from '../shared/run-status';

export interface RunEndNotice {
  /** `warning`: a notification that asks to be looked at; `info`: one that can be dismissed; `none`: status bar only. */
  level: 'warning' | 'info' | 'none';
  /** The notification's text (empty for `none`). */
  message: string;
  /** The status-bar text, kept until the next run starts. */
  statusBar: string;
}

/**
 * The notice of a run that ended `status` (not `failed`/`killed`/`corrupt`, which the run manager
 * reports as errors). `diverged`: the nets that hit NaN/Inf; `reason`: why it stopped (the
 * summary's); `figures`: the summary in a few words, when there is one.
 */
export function runEndNotice(name: string, status: RunStatus, diverged: readonly string[], reason: string | undefined, figures: string | undefined): RunEndNotice {
  const label = statusLabel(status, diverged);
  const statusBar = `Gradflow: ${name} ${label}${figures !== undefined ? ` · ${figures}` : ''}`;
  switch (status) {
    case 'diverged': {
      const nets = diverged.length > 0 ? `the ${diverged.join(' and ')} net${diverged.length > 1 ? 's' : ''}` : 'a net';
      return { level: 'warning', message: `Gradflow: run "${name}" diverged: ${nets} hit NaN or Infinity.`, statusBar };
    }
    case 'stopped':
      return { level: 'info', message: `Gradflow: run "${name}" stopped${reason !== undefined && reason !== '' ? ` (${reason})` : ''}.`, statusBar: `Gradflow: ${name} stopped${reason !== undefined && reason !== '' ? ` (${reason})` : ''}` };
    default:
      return { level: 'none', message: '', statusBar };
  }
}
