/**
 * Runs recorded on disk (by this editor, another window or the CLI): listing them for the Runs view
 * and Open Past Run, and replaying a run's metrics log into the dashboard.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMetricsLog, readSummary, type RunRecord } from '../../runs/store';
import type { ExperimentConfig } from '../../shared/experiment';
import type { RunSummary } from '../../shared/protocol';
import type { DashboardState } from '../dashboard';
import { runInfoOf } from '../dashboard/state';

export { listPastRuns, type PastRun } from '../../runs/folders';

/** Load a recorded run into the dashboard state (once; later calls only refresh its title/status). */
export function loadIntoDashboard(state: DashboardState, run: RunRecord): void {
  const known = state.hasRun(run.runId);
  state.addRun(runInfoOf(run));
  if (known) return;
  const log = readMetricsLog(run.runDir);
  for (const m of log.messages) state.apply(run.runId, m);
  // The folder's status is the truth: a killed or corrupt run has no `done`/`error` in its log.
  const why = run.status === 'killed' ? 'killed: the trainer died without writing a summary' : run.status === 'corrupt' ? `corrupt: ${run.reason ?? 'unreadable run folder'}` : undefined;
  const skipped = log.skipped > 0 ? `${log.skipped} unreadable line(s) in metrics.jsonl skipped (first: line ${log.firstSkippedLine ?? '?'})` : undefined;
  const message = [why, skipped].filter((m) => m !== undefined).join('; ');
  state.setStatus(run.runId, run.status, message !== '' ? message : undefined, { diverged: run.diverged ?? [] });
}

export function readRunConfig(runDir: string): ExperimentConfig | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')) as ExperimentConfig;
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
