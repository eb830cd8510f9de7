/**
 * A run session: one trainer process seen from a host. It folds the trainer's messages into
 * progress (step, total, run id and folder) and, when the process has ended, into an outcome with
 * ONE status (`RunStatus`, see status.ts). `gradflow run`, the sweep scheduler's local executor,
 * `gradflow sweep-task` on a Slurm node and the extension all start runs through it.
 */
import type { TrainerToHost, RunSummary } from '../shared/protocol';
import { divergedNets, statusOfSummary, type RunStatus } from './status';
import { startTrainer, type StartTrainerOptions, type TrainerExit, type TrainerHandle } from './trainer-client';
import { startExternalTrainer } from './external-trainer';

export interface RunOutcome {
  status: RunStatus;
  runId?: string;
  runDir?: string;
  summary?: RunSummary;
  /** The trainer's error message (failed) or what happened to the process (killed). */
  error?: string;
  /** Nets that diverged (status `diverged`). */
  diverged: string[];
  exit: TrainerExit;
}

export class RunSession {
  status: RunStatus = 'starting';
  step = 0;
  totalSteps = 0;
  runId: string | undefined;
  runDir: string | undefined;
  backend: string | undefined;
  summary: RunSummary | undefined;
  error: string | undefined;
  /** Set by `stop()`; a stopped trainer that is then killed still reads as killed. */
  stopRequested = false;
  readonly ended: Promise<RunOutcome>;
  private readonly listeners: Array<(m: TrainerToHost) => void> = [];

  constructor(readonly handle: TrainerHandle) {
    handle.onMessage((m) => this.fold(m));
    this.ended = handle.exited.then((exit) => this.finish(exit));
  }

  /** Every trainer message, after the session has folded it. */
  onMessage(cb: (m: TrainerToHost) => void): void {
    this.listeners.push(cb);
  }

  stop(): void {
    this.stopRequested = true;
    this.handle.stop();
  }

  kill(): void {
    this.handle.kill();
  }

  private fold(m: TrainerToHost): void {
    switch (m.type) {
      case 'ready':
        this.runId = m.runId;
        this.runDir = m.runDir;
        this.backend = m.backend;
        this.totalSteps = m.totalSteps;
        this.status = 'running';
        break;
      case 'step':
        if (m.metrics.step > this.step) this.step = m.metrics.step;
        break;
      case 'done':
        this.summary = m.summary;
        this.runId ??= m.summary.runId;
        this.runDir ??= m.summary.runDir;
        break;
      case 'error':
        this.error = m.message;
        if (m.runDir !== undefined) this.runDir ??= m.runDir;
        break;
      case 'hello':
      case 'epoch':
      case 'flow':
      case 'mask-update':
      case 'alert':
      case 'log':
        break;
      default: {
        const never: never = m;
        return never;
      }
    }
    for (const cb of this.listeners) cb(m);
  }

  private finish(exit: TrainerExit): RunOutcome {
    let status: RunStatus;
    if (this.summary !== undefined) status = statusOfSummary(this.summary);
    else if (exit.signal !== null) status = 'killed';
    else status = 'failed';
    this.status = status;
    if (status === 'killed' && this.error === undefined) this.error = `the trainer was killed (${exit.signal})`;
    return {
      status,
      ...(this.runId !== undefined ? { runId: this.runId } : {}),
      ...(this.runDir !== undefined ? { runDir: this.runDir } : {}),
      ...(this.summary !== undefined ? { summary: this.summary } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
      diverged: this.summary !== undefined ? divergedNets(this.summary) : [],
      exit,
    };
  }
}

/**
 * Start a trainer and follow it: the engine's (`dist/trainer.js`), or the script the experiment
 * names as its `trainer:` (docs/torch.md). The one place where the two are told apart.
 */
export function startRun(opts: StartTrainerOptions): RunSession {
  return new RunSession(opts.config.trainer !== undefined ? startExternalTrainer(opts) : startTrainer(opts));
}
