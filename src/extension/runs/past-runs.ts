/**
 * Runs recorded on disk (by this editor, another window or the CLI): listing them for the Runs view
 * and Open Past Run, and replaying a run's metrics log into the dashboard.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMetricsLog, readSummary, type RunRecord } from '../../runs/store';
import type { ExperimentConfig } from '../../shared/experiment';
import type { RunSummary } from '../../shared/protocol';
import type { RunStatus as PageStatus } from '../../shared/webview-protocol';
import type { DashboardState } from '../dashboard';

export { listPastRuns, type PastRun } from '../../runs/folders';

export function pageStatus(status: RunRecord['status']): PageStatus {
  switch (status) {
    case 'starting':
    case 'running':
      return 'running';
    case 'finished':
    case 'diverged':
      return 'done';
    case 'stopped':
      return 'stopped';
    case 'failed':
    case 'killed':
    case 'corrupt':
      return 'failed';
    default: {
      const never: never = status;
      return never;
    }
  }
}

/** Load a recorded run into the dashboard state (once; later calls only refresh its title/status). */
export function loadIntoDashboard(state: DashboardState, run: RunRecord): void {
  const known = state.hasRun(run.runId);
  state.addRun({
    runId: run.runId,
    title: run.name,
    status: pageStatus(run.status),
    ...(run.sourceFile !== undefined ? { sourceFile: run.sourceFile } : {}),
    ...(run.backend !== undefined ? { backend: run.backend } : {}),
  });
  if (known) return;
  const log = readMetricsLog(run.runDir);
  for (const m of log.messages) state.apply(run.runId, m);
  // A killed or corrupt run has no `done`/`error` in its log: its status comes from the folder.
  if (run.status === 'killed') state.setStatus(run.runId, 'failed', 'killed (no summary written)');
  else if (run.status === 'corrupt') state.setStatus(run.runId, 'failed', `corrupt: ${run.reason ?? 'unreadable run folder'}`);
  else if (run.status === 'diverged') state.setStatus(run.runId, 'done', `diverged (${(run.diverged ?? []).join(', ')})`);
  if (log.skipped > 0) state.setStatus(run.runId, pageStatus(run.status), `${log.skipped} unreadable line(s) in metrics.jsonl skipped (first: line ${log.firstSkippedLine ?? '?'})`);
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
