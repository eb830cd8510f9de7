/**
 * Typed access to the `gradflow.*` settings. Run settings are read when a run starts, so a change
 * applies to the next run without a restart; the runs folder also refreshes the Runs view. No
 * setting needs a window reload (`gradflow.trace.server` is read live by the language client).
 */
import * as vscode from 'vscode';
import { BACKENDS, type BackendPreference } from '../shared/experiment';
import type { RunSettings, ThresholdSettings } from './run-settings';
import type { SlurmRequest } from '../runs/slurm';

const SECTION = 'gradflow';

/** Settings whose change must refresh something that is already on screen. */
export const REFRESH_ON_CHANGE = ['gradflow.runsDir'] as const;

function isBackend(v: unknown): v is BackendPreference {
  return typeof v === 'string' && (BACKENDS as readonly string[]).includes(v);
}

/** `gradflow.sweep.slurm.*`: what the sbatch of a sweep's job array asks for (unset: Slurm's defaults). */
export type SlurmSettings = SlurmRequest;

/** `gradflow.sweep.*`: where a sweep's runs go (this window's local pool, or a Slurm job array). */
export interface SweepSettings {
  executor: 'local' | 'slurm';
  slurm: SlurmSettings;
}

function str(c: vscode.WorkspaceConfiguration, key: string): string | undefined {
  const v = c.get<unknown>(key);
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function positiveInt(c: vscode.WorkspaceConfiguration, key: string): number | undefined {
  const v = c.get<unknown>(key);
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

function num(c: vscode.WorkspaceConfiguration, key: string, fallback: number): number {
  const v = c.get<unknown>(key);
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

export class GradflowConfig {
  private get raw(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  /** '' = find `node` on PATH. */
  get nodePath(): string {
    const v = this.raw.get<unknown>('nodePath');
    return typeof v === 'string' ? v.trim() : '';
  }

  get backend(): BackendPreference {
    const v = this.raw.get<unknown>('backend');
    return isBackend(v) ? v : 'auto';
  }

  get runsDir(): string {
    const v = this.raw.get<unknown>('runsDir');
    return typeof v === 'string' ? v.trim() : '';
  }

  /** Defaults mirror the schema's so an unset setting changes nothing. */
  get thresholds(): ThresholdSettings {
    const c = this.raw;
    return {
      explosionMaxNorm: num(c, 'thresholds.explosion.maxNorm', 1000),
      explosionGrowthFactor: num(c, 'thresholds.explosion.growthFactor', 100),
      explosionWindow: num(c, 'thresholds.explosion.window', 10),
      collapseMinNorm: num(c, 'thresholds.collapse.minNorm', 1e-7),
      collapseSteps: num(c, 'thresholds.collapse.steps', 50),
    };
  }

  /** Mirror root for dataset downloads ('' = the official HTTPS locations). */
  get datasetBaseUrl(): string {
    const v = this.raw.get<unknown>('datasetBaseUrl');
    return typeof v === 'string' ? v.trim() : '';
  }

  get openDashboardOnRun(): boolean {
    return this.raw.get<boolean>('openDashboardOnRun') !== false;
  }

  /** The sweep settings of the folder holding `scope` (they may differ per workspace folder). */
  sweepSettings(scope?: vscode.Uri): SweepSettings {
    const c = vscode.workspace.getConfiguration(`${SECTION}.sweep`, scope);
    const sbatchArgs = c.get<unknown>('slurm.sbatchArgs');
    const slurm: SlurmSettings = { sbatchArgs: Array.isArray(sbatchArgs) ? sbatchArgs.filter((a): a is string => typeof a === 'string') : [] };
    const partition = str(c, 'slurm.partition');
    const maxParallel = positiveInt(c, 'slurm.maxParallel');
    const time = str(c, 'slurm.time');
    const cpusPerTask = positiveInt(c, 'slurm.cpusPerTask');
    const mem = str(c, 'slurm.mem');
    if (partition !== undefined) slurm.partition = partition;
    if (maxParallel !== undefined) slurm.maxParallel = maxParallel;
    if (time !== undefined) slurm.time = time;
    if (cpusPerTask !== undefined) slurm.cpusPerTask = cpusPerTask;
    if (mem !== undefined) slurm.mem = mem;
    return { executor: c.get<string>('executor') === 'slurm' ? 'slurm' : 'local', slurm };
  }

  runSettings(): RunSettings {
    return { backend: this.backend, runsDir: this.runsDir, thresholds: this.thresholds };
  }

  static needsRefresh(e: vscode.ConfigurationChangeEvent): boolean {
    return REFRESH_ON_CHANGE.some((k) => e.affectsConfiguration(k));
  }
}
