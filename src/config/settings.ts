/**
 * The editor settings as a layer of the layered resolution (`layers.ts`): what every reader of an
 * experiment file in the editor uses — the run manager before a run, and the language server for
 * its diagnostics, quick fixes and alert jumps — so a file resolves the same for all of them. The
 * settings' type is the language server's wire type (`src/shared/lsp-protocol.ts`).
 */
import * as path from 'node:path';
import type { RunSettings } from '../shared/lsp-protocol';
import type { SettingsLayer } from './layers';

/** The runs folder for files that do not set `run.runs_dir`. */
export function defaultRunsDir(setting: string, workspaceFolder: string | undefined, fileDir: string): string {
  const base = workspaceFolder ?? fileDir;
  if (setting === '') return path.join(base, '.gradflow', 'runs');
  return path.isAbsolute(setting) ? setting : path.join(base, setting);
}

/**
 * The settings as a layer: schema defaults ← these ← the file. `runsDir` is the runs folder for
 * files that do not set `run.runs_dir` (`defaultRunsDir`). The CLI resolves through the same
 * function with its own layer.
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

/** The layer for one file: its runs folder from the workspace folder holding it, else its own folder. */
export function settingsLayerFor(settings: RunSettings, file: string, workspaceFolder: string | undefined): SettingsLayer {
  return settingsLayer(settings, defaultRunsDir(settings.runsDir, workspaceFolder, path.dirname(file)));
}
