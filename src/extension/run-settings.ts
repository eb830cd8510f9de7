/**
 * Editor settings that fill in what an experiment file leaves unset: the backend, the runs folder and
 * the alert thresholds. The file always wins; a setting only replaces a default. Pure, so the
 * precedence is unit-tested.
 */
import * as path from 'node:path';
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
 * The config to run: `config` (as parsed) with every unset threshold, the runs folder and the backend
 * taken from the settings. `written(key)` tells whether the file sets a dotted snake_case key.
 * `forcedBackend` is what the runtime imposes (wasm in the editor's Electron), unless the file or the
 * user chose the pure-JS `cpu` backend, which also works there.
 */
export function applyRunSettings(
  config: ExperimentConfig,
  written: (key: string) => boolean,
  settings: RunSettings,
  runsDir: string,
  forcedBackend?: BackendPreference,
): ExperimentConfig {
  const t = settings.thresholds;
  const pick = <T>(key: string, fromFile: T, fromSetting: T): T => (written(key) ? fromFile : fromSetting);
  const m = config.monitoring;
  let backend: BackendPreference = pick('run.backend', config.run.backend, settings.backend);
  if (forcedBackend !== undefined && backend !== 'cpu') backend = forcedBackend;
  return {
    ...config,
    monitoring: {
      ...m,
      explosion: {
        maxNorm: pick('monitoring.explosion.max_norm', m.explosion.maxNorm, t.explosionMaxNorm),
        growthFactor: pick('monitoring.explosion.growth_factor', m.explosion.growthFactor, t.explosionGrowthFactor),
        window: pick('monitoring.explosion.window', m.explosion.window, t.explosionWindow),
      },
      collapse: {
        minNorm: pick('monitoring.collapse.min_norm', m.collapse.minNorm, t.collapseMinNorm),
        steps: pick('monitoring.collapse.steps', m.collapse.steps, t.collapseSteps),
      },
    },
    run: { backend, runsDir: pick('run.runs_dir', config.run.runsDir, runsDir) },
  };
}
