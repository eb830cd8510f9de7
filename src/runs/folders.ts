/**
 * The one reader for runs folders: the runs under a runs folder and its sweep folders (CLI `runs`,
 * the extension's Runs view and Open Past Run), sweep folders (the sweep view, the report), and
 * where runs live.
 *
 * Where runs live: `<project>/.gradflow/runs`, for the CLI and the extension alike, unless the
 * file sets `run.runs_dir` (or the extension's `gradflow.runsDir` setting). The project is the
 * nearest folder above the experiment file holding `.gradflow`, `.git` or `.vscode` — for the
 * extension that is the workspace folder — so a run started from a terminal and one started from
 * the editor land in the same list.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listRuns, type RunRecord } from './store';
import { readManifest, runsByConfig, type SweepManifest } from './sweep';
import { isRecord } from '../shared/guards';

export interface PastRun extends RunRecord {
  /** Sweep name (folder `sweep-<name>`) when the run belongs to a sweep. */
  sweep?: string;
}

/** Markers of a project root, in the order they are looked for at each level. */
const ROOT_MARKERS = ['.gradflow', '.git', '.vscode'];

/** The project folder of an experiment file (see the module comment); the file's folder when none. */
export function projectRoot(file: string): string {
  const start = path.dirname(path.resolve(file));
  for (let dir = start; ; ) {
    for (const m of ROOT_MARKERS) if (fs.existsSync(path.join(dir, m))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return start;
    dir = up;
  }
}

/**
 * A run id as a narrow list shows it: its random suffix (`#a1b2` of `20261126-081500-fmnist-a1b2`,
 * see `newRunId`), which with the name and start time beside it tells runs apart. Ids of another
 * shape are returned whole.
 */
export function shortRunId(runId: string): string {
  const m = /^\d{8}-\d{6}-.*-([0-9a-f]{4})$/.exec(runId);
  return m ? `#${m[1]}` : runId;
}

/**
 * The runs folder (`<project>/.gradflow/runs`) a path lies in, or whose `.gradflow` folder it is;
 * undefined for paths outside any. Used to pick up runs folders from file-watcher events.
 */
export function runsDirOf(p: string): string | undefined {
  const marker = `${path.sep}.gradflow`;
  const inside = p.lastIndexOf(`${marker}${path.sep}`);
  const at = inside >= 0 ? inside : p.endsWith(marker) ? p.length - marker.length : -1;
  return at >= 0 ? path.join(p.slice(0, at), '.gradflow', 'runs') : undefined;
}

/** Runs directly under each folder and under its `sweep-*` folders, newest first, each once. */
export function listPastRuns(runsDirs: readonly string[], limit = 200): PastRun[] {
  const out = new Map<string, PastRun>();
  for (const dir of runsDirs) {
    for (const r of listRuns(dir)) if (!out.has(r.runDir)) out.set(r.runDir, r);
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir).filter((n) => n.startsWith('sweep-'));
    } catch {
      continue; // no runs folder yet
    }
    for (const n of names) {
      for (const r of listRuns(path.join(dir, n))) if (!out.has(r.runDir)) out.set(r.runDir, { ...r, sweep: n.slice('sweep-'.length) });
    }
  }
  return [...out.values()].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0)).slice(0, limit);
}

export interface SweepFolderData {
  dir: string;
  manifest: SweepManifest;
  /** Planned configurations that are well-formed, in manifest order. */
  planned: Array<{ id: string; point: Record<string, unknown> }>;
  /** Runs by configuration id, newest first. */
  runs: Map<string, RunRecord[]>;
}

/**
 * Read a sweep folder: its manifest and its runs by configuration. Throws (naming the file) only
 * when there is no readable sweep.json or it is not a manifest.
 */
export function readSweepFolder(dir: string): SweepFolderData {
  const abs = path.resolve(dir);
  const manifest: unknown = readManifest(abs);
  if (!isRecord(manifest) || !Array.isArray(manifest.runs)) {
    throw new Error(`${path.join(abs, 'sweep.json')}: not a sweep manifest (expected { name, runs: [{ id, point }] })`);
  }
  const planned: SweepFolderData['planned'] = [];
  for (const r of manifest.runs) {
    if (isRecord(r) && typeof r.id === 'string' && r.id !== '' && isRecord(r.point)) planned.push({ id: r.id, point: r.point });
  }
  return { dir: abs, manifest: manifest as unknown as SweepManifest, planned, runs: runsByConfig(abs) };
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
