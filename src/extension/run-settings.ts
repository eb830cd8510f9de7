/**
 * Editor settings that fill in what an experiment file leaves unset: the backend, the runs folder and
 * the alert thresholds. The file always wins; a setting only replaces a default (the layering itself
 * is `src/config/layers.ts`, shared with the CLI). Pure, so the precedence is unit-tested.
 */
import type { BackendPreference, ExperimentConfig } from '../shared/experiment';

// The settings and their layer are shared with the language server (one settings layer for every reader).
export type { RunSettings, ThresholdSettings } from '../shared/lsp-protocol';
export { defaultRunsDir, settingsLayer, settingsLayerFor } from '../config/settings';

/**
 * What the runtime imposes on a resolved config: `forcedBackend` (wasm in the editor's Electron)
 * replaces the backend, unless the file or the user chose the pure-JS `cpu` backend, which also
 * works there. Not a setting: it applies whatever the file says.
 */
export function withRuntimeBackend(config: ExperimentConfig, forcedBackend?: BackendPreference): ExperimentConfig {
  if (forcedBackend === undefined || config.run.backend === 'cpu') return config;
  return { ...config, run: { ...config.run, backend: forcedBackend } };
}
