/**
 * Runs recorded on disk (by this editor, another window or the CLI): listing them for the Runs view
 * and Open Past Run, and replaying a run's metrics log into the dashboard.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { logOmissions, readMetricsLog, readMetricsLogAsync, readSummary, type MetricsLog, type RunRecord } from '../../runs/store';
import { MAX_RUN_JSON_BYTES, readBoundedText } from '../../shared/bounded-read';
import type { ExperimentConfig } from '../../shared/experiment';
import type { RunSummary } from '../../shared/protocol';
import type { DashboardState } from '../dashboard';
import { runInfoOf } from '../dashboard/state';

export { listPastRuns, type PastRun } from '../../runs/folders';

/**
 * Load a recorded run into the dashboard state (once; later calls only refresh its title/status).
 * The log is read line by line with bounded memory (`readMetricsLog`); what was skipped or left out
 * of a huge log is said in the run's status message.
 */
export function loadIntoDashboard(state: DashboardState, run: RunRecord): void {
  if (!beginLoad(state, run)) return;
  applyLog(state, run, readMetricsLog(run.runDir));
}

/** Above this size a log is read with progress (`loadIntoDashboardAsync`). */
export const BIG_LOG_BYTES = 32 * 1024 * 1024;

/** The size of a run's metrics log in bytes (0 when there is none). */
export function metricsLogBytes(runDir: string): number {
  try {
    return fs.statSync(path.join(runDir, 'metrics.jsonl')).size;
  } catch {
    return 0;
  }
}

/** `loadIntoDashboard` without blocking the extension host, with progress for a big log. */
export async function loadIntoDashboardAsync(
  state: DashboardState,
  run: RunRecord,
  opts: { onProgress?: (read: number, total: number) => void; cancelled?: () => boolean } = {},
): Promise<void> {
  if (state.hasRun(run.runId)) {
    state.addRun(runInfoOf(run));
    return;
  }
  const log = await readMetricsLogAsync(run.runDir, opts);
  if (!beginLoad(state, run)) return; // loaded meanwhile (another command)
  applyLog(state, run, log, opts.cancelled?.() === true);
}

/** Adds the run; false when it was already loaded. */
function beginLoad(state: DashboardState, run: RunRecord): boolean {
  const known = state.hasRun(run.runId);
  state.addRun(runInfoOf(run));
  return !known;
}

function applyLog(state: DashboardState, run: RunRecord, log: MetricsLog, cancelled = false): void {
  for (const m of log.messages) state.apply(run.runId, m);
  // The folder's status is the truth: a killed or corrupt run has no `done`/`error` in its log.
  const why = run.status === 'killed' ? 'killed: the trainer died without writing a summary' : run.status === 'corrupt' ? `corrupt: ${run.reason ?? 'unreadable run folder'}` : undefined;
  const stopped = cancelled ? `reading metrics.jsonl was cancelled after ${log.lines} lines: what was read is shown` : undefined;
  const message = [why, logOmissions(log), stopped].filter((m) => m !== undefined).join('; ');
  state.setStatus(run.runId, run.status, message !== '' ? message : undefined, { diverged: run.diverged ?? [] });
}

export function readRunConfig(runDir: string): ExperimentConfig | undefined {
  try {
    return JSON.parse(readBoundedText(path.join(runDir, 'config.json'), { maxBytes: MAX_RUN_JSON_BYTES, what: 'config.json' })) as ExperimentConfig;
  } catch {
    return undefined;
  }
}

/** The recorded EGF_2 series of a finished run: its 11 evaluation points of the sparse (or only) net. */
export function summaryEgf(summary: RunSummary | undefined): { average?: number; points: number[] } {
  if (summary === undefined) return { points: [] };
  const net = summary.nets.find((n) => n.net === 'sparse') ?? summary.nets[0];
  if (net === undefined) return { points: [] };
  return { average: net.flowAverage.egf2, points: net.flowPoints.map((p) => p.egf2) };
}

export { readSummary };
