/**
 * Editor settings that fill in what an experiment file leaves unset: the backend, the runs folder and
 * the alert thresholds. The file always wins; a setting only replaces a default (the layering itself
 * is `src/config/layers.ts`, shared with the CLI). Pure, so the precedence is unit-tested.
 */
import * as path from 'node:path';
import type { SettingsLayer } from '../config/layers';
import type { BackendPreference, ExperimentConfig } from '../shared/experiment';

export interface ThresholdSettings {
  explosionMaxNorm: number;
  explosionGrowthFactor: number;
  explosionWindow: number;
  collapseMinNorm: number;
  collapseSteps: number;
}

export interface RunSettings {
  backend: BackendPreference;
  /** '' = `.gradflow/runs` in the workspace folder. Relative = against the workspace folder. */
  runsDir: string;
  thresholds: ThresholdSettings;
}

/** The runs folder for files that do not set `run.runs_dir`. */
export function defaultRunsDir(setting: string, workspaceFolder: string | undefined, fileDir: string): string {
  const base = workspaceFolder ?? fileDir;
  if (setting === '') return path.join(base, '.gradflow', 'runs');
  return path.isAbsolute(setting) ? setting : path.join(base, setting);
}

/**
 * The settings as a layer of the layered resolution (`src/config/layers.ts`): schema defaults ←
 * these ← the file. `runsDir` is the runs folder for files that do not set `run.runs_dir`
 * (`defaultRunsDir`). The CLI resolves through the same function with its own layer.
 */
export function settingsLayer(settings: RunSettings, runsDir: string): SettingsLayer {
  const t = settings.thresholds;
  return {
    'run.backend': settings.backend,
    'run.runs_dir': runsDir,
    'monitoring.explosion.max_norm': t.explosionMaxNorm,
    'monitoring.explosion.growth_factor': t.explosionGrowthFactor,
    'monitoring.explosion.window': t.explosionWindow,
    'monitoring.collapse.min_norm': t.collapseMinNorm,
    'monitoring.collapse.steps': t.collapseSteps,
  };
}

/**
 * What the runtime imposes on a resolved config: `forcedBackend` (wasm in the editor's Electron)
 * replaces the backend, unless the file or the user chose the pure-JS `cpu` backend, which also
 * works there. Not a setting: it applies whatever the file says.
 */
export function withRuntimeBackend(config: ExperimentConfig, forcedBackend?: BackendPreference): ExperimentConfig {
  if (forcedBackend === undefined || config.run.backend === 'cpu') return config;
  return { ...config, run: { ...config.run, backend: forcedBackend } };
}
