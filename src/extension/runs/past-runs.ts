/**
 * Runs recorded on disk (by this editor, another window or the CLI): listing them for the Runs view
 * and Open Past Run, and replaying a run's metrics log into the dashboard.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listRuns, readMetrics, readSummary, type RunRecord } from '../../runs/store';
import type { ExperimentConfig } from '../../shared/experiment';
import type { RunSummary } from '../../shared/protocol';
import type { RunStatus as PageStatus } from '../../shared/webview-protocol';
import type { DashboardState } from '../dashboard';

export interface PastRun extends RunRecord {
  /** Sweep folder name (`sweep-<name>`) when the run belongs to a sweep. */
  sweep?: string;
}

/** Runs directly under each folder and under its `sweep-*` folders, newest first, each once. */
export function listPastRuns(runsDirs: readonly string[], limit = 200): PastRun[] {
  const out = new Map<string, PastRun>();
  for (const dir of runsDirs) {
    for (const r of listRuns(dir)) if (!out.has(r.runId)) out.set(r.runId, r);
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir).filter((n) => n.startsWith('sweep-'));
    } catch {
      continue; // no runs folder yet
    }
    for (const n of names) {
      for (const r of listRuns(path.join(dir, n))) if (!out.has(r.runId)) out.set(r.runId, { ...r, sweep: n.slice('sweep-'.length) });
    }
  }
  return [...out.values()].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0)).slice(0, limit);
}

export function pageStatus(status: RunRecord['status']): PageStatus {
  switch (status) {
    case 'running':
      return 'running';
    case 'finished':
      return 'done';
    case 'stopped':
      return 'stopped';
    case 'failed':
    case 'killed':
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
  for (const m of readMetrics(run.runDir)) state.apply(run.runId, m);
  // A killed run has no `done`/`error` in its log: its status comes from the folder.
  if (run.status === 'killed') state.setStatus(run.runId, 'failed', 'killed (no summary written)');
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
