/**
 * The one run status of Gradflow: the CLI (`run`, `sweep`, `runs`), the extension (Runs view icon,
 * tooltip, quick pick, status bar, dashboard badge) and the sweep view all speak this vocabulary.
 *
 * - `starting`  the trainer is up but has not named its run yet (live only);
 * - `running`   training, judged by a fresh heartbeat (live: by the trainer's messages);
 * - `finished`  trained to the end and every net stayed finite;
 * - `diverged`  trained to the end (or until every net blew up) but at least one net hit NaN/Inf;
 *               `divergedNets` says which;
 * - `stopped`   ended early on request (Ctrl-C, Stop, an interrupted sweep); a summary was written;
 * - `failed`    the trainer reported an error (a summary with the reason, or an `error` message);
 * - `killed`    the trainer died without a summary (signal, crash, machine lost): its heartbeat went stale;
 * - `corrupt`   the run folder cannot be read as a run (cut or empty summary.json, wrong-typed fields);
 *               the reason says what is wrong.
 *
 * Shared by Node and the dashboard page (`webview/`, bundled for the browser): no Node imports here.
 */
import type { RunSummary } from './protocol';

export const RUN_STATUSES = ['starting', 'running', 'finished', 'diverged', 'stopped', 'failed', 'killed', 'corrupt'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export function isRunStatus(v: unknown): v is RunStatus {
  return typeof v === 'string' && (RUN_STATUSES as readonly string[]).includes(v);
}

/** Still training (or about to). */
export function isLive(s: RunStatus): boolean {
  return s === 'starting' || s === 'running';
}

/** Ended with a complete training (its metrics are final, a sweep does not redo it). */
export function isComplete(s: RunStatus): boolean {
  return s === 'finished' || s === 'diverged';
}

/** Ended badly: the user should look at the error / log tail. */
export function isFailure(s: RunStatus): boolean {
  return s === 'failed' || s === 'killed' || s === 'corrupt';
}

/** Nets of a summary that diverged (hit NaN/Inf), in summary order. */
export function divergedNets(summary: Pick<RunSummary, 'nets'>): string[] {
  return summary.nets.filter((n) => n.diverged !== undefined).map((n) => n.net);
}

/** The status a written summary means. */
export function statusOfSummary(summary: Pick<RunSummary, 'finished' | 'stopped' | 'nets'>): 'finished' | 'diverged' | 'stopped' | 'failed' {
  if (summary.finished) return divergedNets(summary).length > 0 ? 'diverged' : 'finished';
  return summary.stopped ? 'stopped' : 'failed';
}

/** One word or short phrase for a status, with the diverged nets named: `diverged (sparse)`. */
export function statusLabel(status: RunStatus, diverged: readonly string[] = []): string {
  switch (status) {
    case 'diverged':
      return diverged.length > 0 ? `diverged (${diverged.join(', ')})` : 'diverged';
    case 'starting':
    case 'running':
    case 'finished':
    case 'stopped':
    case 'failed':
    case 'killed':
    case 'corrupt':
      return status;
    default: {
      const never: never = status;
      return never;
    }
  }
}

/** What a status means, in a sentence (tooltips); the diverged nets are named. */
export function statusDescription(status: RunStatus, diverged: readonly string[] = []): string {
  switch (status) {
    case 'starting':
      return 'Starting: the trainer is loading its backend, data and networks.';
    case 'running':
      return 'Running: the trainer is training and reporting.';
    case 'finished':
      return 'Finished: trained to the end, every net stayed finite.';
    case 'diverged':
      return `Diverged: ${diverged.length > 0 ? `the ${diverged.join(' and ')} net${diverged.length > 1 ? 's' : ''}` : 'at least one net'} hit NaN or Infinity; the metrics after that point are not numbers.`;
    case 'stopped':
      return 'Stopped: ended early on request (Stop, Ctrl-C or an interrupted sweep); a summary was written.';
    case 'failed':
      return 'Failed: the trainer reported an error; see the message and the log tail.';
    case 'killed':
      return 'Killed: the trainer died without writing a summary (signal, crash or lost machine).';
    case 'corrupt':
      return 'Corrupt: the run folder cannot be read as a run; the reason says what is wrong.';
    default: {
      const never: never = status;
      return never;
    }
  }
}

/**
 * A metric for display. JSON carries NaN and ±Infinity as `null`, so a value read back from a run
 * may be null: that is a non-finite number, shown as "NaN"; a value that is not there at all
 * (undefined) is "—". Never "null".
 */
export function metricText(x: number | null | undefined, digits = 4): string {
  if (x === undefined) return '—';
  if (x === null || Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Inf' : '-Inf';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(Math.max(0, digits - 2));
  return String(Number(x.toPrecision(digits)));
}

/** Local start time for lists: `2026-12-01 14:03:07` (runs are told apart by it and their id). */
export function startLabel(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
