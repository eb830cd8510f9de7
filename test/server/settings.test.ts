/**
 * One settings layer for every reader: the server resolves a file under the editor settings the
 * client sent, exactly as the run manager resolves it before a run (`parseExperiment` with
 * `settingsLayerFor` of the file's workspace folder), so the quick fixes and diagnostics are computed
 * from the configuration the run has. The setting here changes a default the file leaves unset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseExperiment } from '../../src/config/parse';
import { settingsLayerFor } from '../../src/config/settings';
import { DocumentCache, emptyRunState, recordedFixes, runDiagnostics } from '../../src/languageservice';
import { ServerSettingsStore } from '../../src/server/settings';
import type { RunSettings } from '../../src/shared/lsp-protocol';
import type { Alert } from '../../src/shared/protocol';

const folder = path.resolve('/tmp/ws-settings');
const file = path.join(folder, 'sub', 'exp.gradflow.yaml');
const uri = pathToFileURL(file).toString();
const TEXT = 'dataset:\n  name: synthetic\nmodel:\n  width: 32\ntraining:\n  learning_rate: 2\n';

const settings: RunSettings = {
  backend: 'cpu',
  runsDir: 'my-runs',
  thresholds: { explosionMaxNorm: 50, explosionGrowthFactor: 100, explosionWindow: 10, collapseMinNorm: 1e-5, collapseSteps: 50 },
};

test('a quick fix sees the configuration the run resolves: the editor settings replace defaults the file leaves unset', () => {
  // The run manager's resolution (src/extension/runs/run-manager.ts `prepare`).
  const runConfig = parseExperiment(TEXT, file, { settings: settingsLayerFor(settings, file, folder) }).config ?? assert.fail('run config');
  const store = new ServerSettingsStore();
  store.setFolders([pathToFileURL(folder).toString()]);
  const cache = new DocumentCache((u) => store.layerFor(u));
  // Before the client sent settings: schema defaults (what the fixes saw before issue 24).
  const unset = cache.get(uri, 1, TEXT).parsed.config ?? assert.fail('config');
  assert.equal(unset.monitoring.explosion.maxNorm, 1000);
  assert.notDeepEqual(unset, runConfig);
  store.set({ run: settings });
  cache.clear();
  const doc = cache.get(uri, 1, TEXT);
  assert.deepEqual(doc.parsed.config, runConfig);
  assert.equal(doc.parsed.config?.monitoring.explosion.maxNorm, 50);
  assert.equal(doc.parsed.config?.monitoring.collapse.minNorm, 1e-5);
  assert.equal(doc.parsed.config?.run.runsDir, path.join(folder, 'my-runs'));
  // The fixes are computed from that configuration.
  const alert: Alert = { net: 'sparse', kind: 'explosion', step: 3, layer: 0, value: 80, message: 'grew', severity: 'warning', key: 'training.learning_rate' };
  const state = emptyRunState();
  state.config = runConfig;
  state.kinds.set('explosion', { first: alert, count: 1, layerNames: [] });
  const run = runDiagnostics(state, doc, doc);
  assert.equal(recordedFixes(run.fixes, run.diagnostics)[0]?.title, 'Lower the learning rate ×0.1 (2 → 0.2)');
});

test('a bad setting is a problem of the file, as it is for the run', () => {
  const store = new ServerSettingsStore();
  store.set({ run: { ...settings, thresholds: { ...settings.thresholds, explosionWindow: -1 } } });
  const doc = new DocumentCache((u) => store.layerFor(u)).get(uri, 1, TEXT);
  assert.equal(doc.parsed.config, undefined);
  assert.ok(doc.parsed.issues.some((i) => /setting monitoring\.explosion\.window/.test(i.message)), JSON.stringify(doc.parsed.issues));
});

test('the innermost workspace folder holding the file gives its runs folder', () => {
  const store = new ServerSettingsStore();
  store.setFolders([pathToFileURL(folder).toString(), pathToFileURL(path.join(folder, 'sub')).toString()]);
  assert.equal(store.folderOf(file), path.join(folder, 'sub'));
  store.changeFolders([], [pathToFileURL(path.join(folder, 'sub')).toString()]);
  assert.equal(store.folderOf(file), folder);
  assert.equal(store.folderOf('/elsewhere/x.gradflow.yaml'), undefined);
});
