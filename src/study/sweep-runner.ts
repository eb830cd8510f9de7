/**
 * Runs a sweep in a local pool of trainer processes. Resumable: a configuration (identified by the
 * stable id of its resolved config) that already has a finished run is skipped; unfinished ones
 * (killed, failed, stopped) are run again in a new run folder — old folders are never touched.
 * A crashing worker fails its run, not the sweep.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { boundedSlug } from '../shared/text';
import type { BackendPreference, ExperimentConfig } from '../shared/experiment';
import type { RunSummary } from '../shared/protocol';
import { listRuns, type RunRecord } from '../runs/store';
import { startTrainer, type TrainerHandle } from '../runs/trainer-client';
import { GRADFLOW_VERSION } from '../shared/version';

export interface PlannedRun {
  id: string;
  config: ExperimentConfig;
  /** The grid point: axis key → value, plus `seed`. */
  point: Record<string, unknown>;
}

export interface SweepPlan {
  name: string;
  sourceFile?: string;
  /** Folder holding the sweep's runs and its manifest. */
  dir: string;
  runs: PlannedRun[];
}

export interface SweepManifest {
  name: string;
  sourceFile?: string;
  createdAt: string;
  runs: Array<{ id: string; point: Record<string, unknown> }>;
}

/** The sweep's folder name part: bounded in bytes (a 300-character name must not hit ENAMETOOLONG). */
function slug(s: string): string {
  return boundedSlug(s, 120, 'sweep');
}

/** Put every run of the sweep under `<runsDir>/sweep-<name>/`. */
export function planSweep(name: string, runs: PlannedRun[], runsDir: string, sourceFile?: string): SweepPlan {
  if (runs.length === 0) throw new Error(`sweep '${name}' has no runs: give at least one value per axis and one seed`);
  const dir = path.join(runsDir, `sweep-${slug(name)}`);
  const placed = runs.map((r) => ({ ...r, config: { ...r.config, run: { ...r.config.run, runsDir: dir } } }));
  return { name, dir, runs: placed, ...(sourceFile !== undefined ? { sourceFile } : {}) };
}

/** Manifest is derived data (the plan); it is replaced atomically when the file's grid changes. */
export function writeManifest(plan: SweepPlan): void {
  fs.mkdirSync(plan.dir, { recursive: true });
  const manifest: SweepManifest = {
    name: plan.name,
    ...(plan.sourceFile !== undefined ? { sourceFile: plan.sourceFile } : {}),
    createdAt: new Date().toISOString(),
    runs: plan.runs.map((r) => ({ id: r.id, point: r.point })),
  };
  const file = path.join(plan.dir, 'sweep.json');
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

export function readManifest(dir: string): SweepManifest {
  const file = path.join(dir, 'sweep.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as SweepManifest;
  } catch (e) {
    throw new Error(`${file}: not a sweep folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The finished run of each configuration id, if any (the newest when there are several). */
export function finishedRuns(dir: string): Map<string, RunRecord> {
  const out = new Map<string, RunRecord>();
  for (const r of listRuns(dir)) {
    if (r.configId && r.status === 'finished' && !out.has(r.configId)) out.set(r.configId, r);
  }
  return out;
}

/** Finished runs made by a Gradflow version other than this one, counted by version. */
export function otherVersions(finished: ReadonlyMap<string, RunRecord>): Array<{ version: string; runs: number }> {
  const versions = new Map<string, number>();
  for (const r of finished.values()) {
    const v = r.gradflowVersion ?? 'unknown';
    if (v !== GRADFLOW_VERSION) versions.set(v, (versions.get(v) ?? 0) + 1);
  }
  return [...versions].map(([version, runs]) => ({ version, runs }));
}

export type SweepEvent =
  | {
      type: 'plan';
      total: number;
      skipped: number;
      toRun: number;
      workers: number;
      /** Skipped (finished) runs made by another Gradflow version: their numbers may differ from what this version computes. */
      otherVersions: Array<{ version: string; runs: number }>;
    }
  | { type: 'start'; id: string; point: Record<string, unknown> }
  | { type: 'progress'; id: string; step: number; totalSteps: number }
  | { type: 'end'; id: string; status: 'finished' | 'stopped' | 'failed'; summary?: RunSummary; error?: string };

export interface SweepOptions {
  trainerPath: string;
  workers?: number;
  backend?: BackendPreference;
  onEvent(e: SweepEvent): void;
}

export interface SweepHandle {
  /** Stop starting runs and ask running trainers to stop after their current step. */
  stop(): void;
  done: Promise<{ finished: number; failed: number; stopped: number; skipped: number }>;
}

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
}

export function runSweep(plan: SweepPlan, opts: SweepOptions): SweepHandle {
  writeManifest(plan);
  const done = finishedRuns(plan.dir);
  const queue = plan.runs.filter((r) => !done.has(r.id));
  const workers = Math.max(1, Math.min(opts.workers ?? defaultWorkers(), queue.length || 1));
  opts.onEvent({
    type: 'plan',
    total: plan.runs.length,
    skipped: plan.runs.length - queue.length,
    toRun: queue.length,
    workers,
    otherVersions: otherVersions(done),
  });

  let stopping = false;
  const live = new Set<TrainerHandle>();
  const counts = { finished: 0, failed: 0, stopped: 0, skipped: plan.runs.length - queue.length };

  const runOne = async (r: PlannedRun): Promise<void> => {
    opts.onEvent({ type: 'start', id: r.id, point: r.point });
    const h = startTrainer({
      trainerPath: opts.trainerPath,
      config: r.config,
      configId: r.id,
      ...(plan.sourceFile !== undefined ? { sourceFile: plan.sourceFile } : {}),
      ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
    });
    live.add(h);
    let summary: RunSummary | undefined;
    let error: string | undefined;
    let total = 0;
    let lastStep = 0;
    h.onMessage((m) => {
      if (m.type === 'ready') total = m.totalSteps;
      else if (m.type === 'step' && m.metrics.step > lastStep) {
        lastStep = m.metrics.step;
        opts.onEvent({ type: 'progress', id: r.id, step: lastStep, totalSteps: total });
      } else if (m.type === 'done') summary = m.summary;
      else if (m.type === 'error') error = m.message;
    });
    await h.exited;
    live.delete(h);
    const status = summary ? (summary.finished ? 'finished' : 'stopped') : 'failed';
    counts[status]++;
    opts.onEvent({ type: 'end', id: r.id, status, ...(summary ? { summary } : {}), ...(error !== undefined ? { error } : {}) });
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (stopping) return;
      const next = queue.shift();
      if (!next) return;
      await runOne(next);
    }
  };

  return {
    stop: () => {
      stopping = true;
      for (const h of live) h.stop();
    },
    done: Promise.all(Array.from({ length: workers }, () => worker())).then(() => counts),
  };
}
