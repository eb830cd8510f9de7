/**
 * Reading a sweep folder (`<runs>/sweep-<name>/`: sweep.json + run folders) into a `SweepState`,
 * and finding sweep folders for "Gradflow: Open Sweep…". No `vscode`: tested in plain Node.
 *
 * Unlike the report's `loadSweepResults`, this never refuses a folder for what it lacks: a sweep
 * with no finished run yet, a stopped or failed run and a summary without some metric are exactly
 * what the sweep view must show (as pending / stopped / failed / "—"), not errors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listRuns, readSummary, type RunRecord } from '../../runs/store';
import type { SweepRowStatus, SweepStatus } from '../../shared/webview-protocol';
import { readManifest } from '../../study/sweep-runner';
import { SweepState, type PlannedConfig } from './sweep-state';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function rowStatus(status: RunRecord['status']): SweepRowStatus {
  switch (status) {
    case 'running':
      return 'running';
    case 'finished':
      return 'finished';
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

/**
 * Which recorded run a configuration shows: its newest finished run (the one the report reads),
 * otherwise its newest run of any status. `runs` is newest first (`listRuns`).
 */
export function chooseRun(runs: readonly RunRecord[]): RunRecord | undefined {
  return runs.find((r) => r.status === 'finished') ?? runs[0];
}

/**
 * Loads a sweep folder. Throws (with the folder in the message) only when there is no readable
 * sweep.json or it is not a manifest. `status` is the sweep's: `recorded` for a folder opened from
 * disk, `running` when this window is about to run it.
 */
export function loadSweepFolder(dir: string, status: SweepStatus = 'recorded'): SweepState {
  const abs = path.resolve(dir);
  const manifest: unknown = readManifest(abs);
  if (!isRecord(manifest) || !Array.isArray(manifest.runs)) {
    throw new Error(`${path.join(abs, 'sweep.json')}: not a sweep manifest (expected { name, runs: [{ id, point }] })`);
  }
  const planned: PlannedConfig[] = [];
  for (const r of manifest.runs) {
    if (isRecord(r) && typeof r.id === 'string' && r.id !== '' && isRecord(r.point)) planned.push({ id: r.id, point: r.point });
  }
  const state = new SweepState(
    {
      sweepId: abs,
      name: typeof manifest.name === 'string' ? manifest.name : path.basename(abs).replace(/^sweep-/, ''),
      status,
      ...(typeof manifest.sourceFile === 'string' ? { sourceFile: manifest.sourceFile } : {}),
      ...(typeof manifest.createdAt === 'string' ? { createdAt: manifest.createdAt } : {}),
    },
    planned,
  );
  const byConfig = new Map<string, RunRecord[]>();
  for (const r of listRuns(abs)) {
    if (r.configId === undefined) continue;
    const list = byConfig.get(r.configId);
    if (list) list.push(r);
    else byConfig.set(r.configId, [r]);
  }
  for (const id of state.configIds()) {
    const rec = chooseRun(byConfig.get(id) ?? []);
    if (!rec) continue;
    const rs = rowStatus(rec.status);
    const summary = rec.status === 'running' || rec.status === 'killed' ? undefined : readSummary(rec.runDir);
    const message = rec.status === 'killed' ? 'killed (no summary written)' : (summary?.reason ?? rec.reason);
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

export interface SweepFolder {
  dir: string;
  /** Folder name without `sweep-`. */
  name: string;
  /** sweep.json modification time (ms), for newest-first order. */
  mtimeMs: number;
  /** Planned configurations in the manifest (0 when it cannot be read). */
  planned: number;
}

/** `sweep-*` folders holding a sweep.json under each runs folder, newest manifest first. */
export function listSweepFolders(runsDirs: readonly string[]): SweepFolder[] {
  const out = new Map<string, SweepFolder>();
  for (const runsDir of runsDirs) {
    let names: string[];
    try {
      names = fs.readdirSync(runsDir).filter((n) => n.startsWith('sweep-'));
    } catch {
      continue; // no runs folder yet
    }
    for (const n of names) {
      const dir = path.resolve(runsDir, n);
      const manifest = path.join(dir, 'sweep.json');
      let mtimeMs: number;
      try {
        mtimeMs = fs.statSync(manifest).mtimeMs;
      } catch {
        continue; // a folder named sweep-… without a manifest is not a sweep
      }
      let planned = 0;
      try {
        const m: unknown = readManifest(dir);
        if (isRecord(m) && Array.isArray(m.runs)) planned = m.runs.length;
      } catch {
        // Listed anyway: opening it reports what is wrong.
      }
      out.set(dir, { dir, name: n.slice('sweep-'.length), mtimeMs, planned });
    }
  }
  return [...out.values()].sort((a, b) => b.mtimeMs - a.mtimeMs || a.dir.localeCompare(b.dir));
}
