/**
 * Reading a sweep folder (`<runs>/sweep-<name>/`: sweep.json + run folders) into a `SweepState`,
 * and finding sweep folders for "Gradflow: Open Sweep…". No `vscode`: tested in plain Node.
 *
 * Unlike the report's `loadSweepResults`, this never refuses a folder for what it lacks: a sweep
 * with no finished run yet, a stopped or failed run and a summary without some metric are exactly
 * what the sweep view must show (as pending / stopped / failed / "—"), not errors.
 */
import * as path from 'node:path';
import { readSweepFolder } from '../../runs/folders';
import { isComplete } from '../../runs/status';
import { readSummary, type RunRecord } from '../../runs/store';
import type { SweepRowStatus, SweepStatus } from '../../shared/webview-protocol';
import { SweepState, rowStatusOf } from './sweep-state';

export function rowStatus(status: RunRecord['status']): SweepRowStatus {
  return rowStatusOf(status);
}

/**
 * Which recorded run a configuration shows: its newest finished run (the one the report reads),
 * otherwise its newest run of any status. `runs` is newest first (`listRuns`).
 */
export function chooseRun(runs: readonly RunRecord[]): RunRecord | undefined {
  return runs.find((r) => isComplete(r.status)) ?? runs[0];
}

/**
 * Loads a sweep folder. Throws (with the folder in the message) only when there is no readable
 * sweep.json or it is not a manifest. `status` is the sweep's: `recorded` for a folder opened from
 * disk, `running` when this window is about to run it.
 */
export function loadSweepFolder(dir: string, status: SweepStatus = 'recorded'): SweepState {
  const folder = readSweepFolder(dir);
  const abs = folder.dir;
  const manifest = folder.manifest;
  const state = new SweepState(
    {
      sweepId: abs,
      name: typeof manifest.name === 'string' ? manifest.name : path.basename(abs).replace(/^sweep-/, ''),
      status,
      ...(typeof manifest.sourceFile === 'string' ? { sourceFile: manifest.sourceFile } : {}),
      ...(typeof manifest.createdAt === 'string' ? { createdAt: manifest.createdAt } : {}),
    },
    folder.planned,
  );
  const byConfig = folder.runs;
  for (const id of state.configIds()) {
    const rec = chooseRun(byConfig.get(id) ?? []);
    if (!rec) continue;
    const rs = rowStatus(rec.status);
    const summary = rec.status === 'running' || rec.status === 'killed' || rec.status === 'corrupt' ? undefined : readSummary(rec.runDir);
    const message = rec.status === 'killed' ? 'killed (no summary written)' : rec.status === 'corrupt' ? `corrupt: ${rec.reason ?? ''}` : (summary?.reason ?? rec.reason);
    state.setRecorded(id, {
      runId: rec.runId,
      runDir: rec.runDir,
      status: rs,
      ...(message !== undefined ? { message } : {}),
      ...(summary !== undefined ? { summary } : {}),
    });
  }
  return state;
}

export { listSweepFolders, type SweepFolder } from '../../runs/folders';
