/**
 * The one run status of Gradflow. The vocabulary lives in `src/shared/run-status.ts` so the
 * dashboard page (bundled for the browser) speaks the same words as the CLI and the extension; the
 * rules that derive a status from a run folder live here, in one place, for every reader (the run
 * store, the extension following a run, the CLI).
 */
export * from '../shared/run-status';
import { statusLabel, type RunStatus } from '../shared/run-status';

/**
 * Who or what asked a run to stop. Recorded in the run folder (`stop-request.json`, see store.ts) by
 * whoever asks, so a `stopped` run always says by whom or what:
 *
 * - `vscode`         Stop in VS Code (the Runs view, the command, the progress notification's Cancel);
 * - `ctrl-c`         Ctrl-C in the terminal of `gradflow run`;
 * - `stdout-closed`  the reader of `gradflow run --json` went away;
 * - `signal`         a signal to the run's host (`detail`: its name, e.g. SIGTERM);
 * - `sweep`          the sweep that ran it was cancelled (local pool);
 * - `slurm`          Slurm ended the task (`detail`: Slurm's state, e.g. CANCELLED, TIMEOUT, PREEMPTED;
 *                    or SIGTERM while the state is not known yet).
 */
export const STOP_SOURCES = ['vscode', 'ctrl-c', 'stdout-closed', 'signal', 'sweep', 'slurm'] as const;
export type StopSource = (typeof STOP_SOURCES)[number];

export function isStopSource(v: unknown): v is StopSource {
  return typeof v === 'string' && (STOP_SOURCES as readonly string[]).includes(v);
}

/** A request to stop a run, as recorded in its folder. */
export interface StopRequest {
  by: StopSource;
  /** A signal name, or Slurm's state. */
  detail?: string;
  /** When it was asked (ISO time). */
  at: string;
  /** Host and pid of the process that asked. */
  host?: string;
  pid?: number;
}

/** Who or what asked, in a few words: `Stop in VS Code`, `Ctrl-C in the terminal`, `Slurm CANCELLED`. */
export function stopSourceText(r: Pick<StopRequest, 'by' | 'detail'>): string {
  const detail = r.detail !== undefined && r.detail !== '' ? r.detail : undefined;
  switch (r.by) {
    case 'vscode':
      return 'Stop in VS Code';
    case 'ctrl-c':
      return 'Ctrl-C in the terminal';
    case 'stdout-closed':
      return 'the reader of --json went away';
    case 'signal':
      return detail ?? 'a signal';
    case 'sweep':
      return 'the sweep was cancelled';
    case 'slurm':
      return detail !== undefined ? `Slurm ${detail}` : 'Slurm';
    default: {
      const never: never = r.by;
      return never;
    }
  }
}

/** What a `stopped` run says when no request was recorded (a signal straight to the trainer, or its host went away). */
export const UNRECORDED_STOP = 'no stop request was recorded: a signal to the trainer, or its host went away';

/**
 * The reason of a `stopped` run: the trainer's own words (`stopped by request at step 120`) and
 * who or what asked: `stopped by request at step 120: asked by Stop in VS Code`.
 */
export function stoppedReason(trainerReason: string | undefined, request: Pick<StopRequest, 'by' | 'detail'> | undefined): string {
  const who = request !== undefined ? `asked by ${stopSourceText(request)}` : UNRECORDED_STOP;
  const said = trainerReason !== undefined && trainerReason.trim() !== '' ? trainerReason.trim() : 'stopped';
  return `${said}: ${who}`;
}

/**
 * A run's title on the dashboard: a sweep's run carries its configuration id's first 6 characters
 * (`tiny-sweep [a19a3c]`), so the runs of one sweep, which share its name, are told apart the same
 * whether the run was started, followed or opened from its folder.
 */
export function runTitle(r: { name: string; configId?: string }): string {
  return r.configId !== undefined ? `${r.name} [${r.configId.slice(0, 6)}]` : r.name;
}

/**
 * A run's status for a list (Runs view, `gradflow runs`): the diverged nets named, a stopped run
 * with who or what stopped it: `stopped (Stop in VS Code)`, `stopped (Slurm CANCELLED)`.
 */
export function runLabel(r: { status: RunStatus; diverged?: readonly string[]; stoppedBy?: string }): string {
  if (r.status === 'stopped' && r.stoppedBy !== undefined && r.stoppedBy !== '') return `stopped (${r.stoppedBy})`;
  return statusLabel(r.status, r.diverged ?? []);
}

/** What is known of a run folder without a summary. */
export interface LivenessFacts {
  /** Milliseconds since the heartbeat file was last touched; undefined when there is none (runs made before heartbeats). */
  heartbeatAgeMs: number | undefined;
  /** The run's trainer runs on this machine (so its pid can be asked). */
  sameHost: boolean;
  /** Its pid answers (`kill(pid, 0)`); only meaningful on the same host. */
  pidAlive: boolean;
  /** A heartbeat older than this means the trainer is gone. */
  staleMs: number;
}

/**
 * A run without a summary is `running` while its trainer shows signs of life, else `killed`: the
 * trainer really died (no fresh heartbeat, or — on its own host — its pid is gone). A live pid alone
 * never means running (pids are reused), except for runs made before heartbeats, where it is all
 * there is. This is the only way a run becomes `killed` when read from its folder.
 */
export function statusWithoutSummary(f: LivenessFacts): 'running' | 'killed' {
  if (f.heartbeatAgeMs === undefined) return f.sameHost && f.pidAlive ? 'running' : 'killed';
  if (f.heartbeatAgeMs > f.staleMs) return 'killed';
  if (f.sameHost && !f.pidAlive) return 'killed';
  return 'running';
}
