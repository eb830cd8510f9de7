import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseExperiment } from '../../src/config/parse';
import { expandSweep } from '../../src/config/sweep';
import { loadForCli } from '../../src/cli/load';
import { defaultRunsDir, settingsLayer, withRuntimeBackend, type RunSettings } from '../../src/extension/run-settings';
import { tempFolder } from '../tmp';

const settings: RunSettings = {
  backend: 'cpu',
  runsDir: '',
  thresholds: { explosionMaxNorm: 50, explosionGrowthFactor: 7, explosionWindow: 3, collapseMinNorm: 1e-5, collapseSteps: 9 },
};
const layer = settingsLayer(settings, '/w/.gradflow/runs');

function resolved(text: string, opts: { settings?: typeof layer } = { settings: layer }) {
  const r = parseExperiment(text, '/w/exp/a.gradflow.yaml', opts);
  assert.ok(r.config, JSON.stringify(r.issues));
  return r.config;
}

test('unset thresholds, backend and runs folder come from the settings; the file wins where it sets them', () => {
  const config = resolved('monitoring:\n  explosion:\n    max_norm: 20\nrun:\n  backend: wasm\n');
  assert.deepEqual(config.monitoring.explosion, { maxNorm: 20, growthFactor: 7, window: 3 });
  assert.deepEqual(config.monitoring.collapse, { minNorm: 1e-5, steps: 9 });
  assert.deepEqual(config.run, { backend: 'wasm', runsDir: '/w/.gradflow/runs' });
  // Keys no setting covers keep the schema default (learning_rate: 0.001, optimizer: adam).
  assert.equal(config.training.learningRate, 0.001);
  assert.equal(config.training.optimizer, 'adam');
});

test('without settings the schema defaults apply (monitoring.explosion: 1000 / 100 / 10)', () => {
  const config = resolved('model:\n  width: 8\n', {});
  assert.deepEqual(config.monitoring.explosion, { maxNorm: 1000, growthFactor: 100, window: 10 });
});

test('a file-set runs_dir is kept (resolved against the file folder)', () => {
  assert.equal(resolved('run:\n  runs_dir: out\n').run.runsDir, '/w/exp/out');
});

test('a runtime-imposed backend replaces all but cpu', () => {
  assert.equal(withRuntimeBackend(resolved('run:\n  backend: tensorflow\n'), 'wasm').run.backend, 'wasm');
  // The setting says cpu and the file is silent: cpu stays.
  assert.equal(withRuntimeBackend(resolved('model:\n  width: 8\n'), 'wasm').run.backend, 'cpu');
  assert.equal(withRuntimeBackend(resolved('run:\n  backend: tensorflow\n')).run.backend, 'tensorflow');
});

test('a bad setting is reported, naming the setting', () => {
  const bad = settingsLayer({ ...settings, thresholds: { ...settings.thresholds, explosionMaxNorm: -1 } }, '/r');
  const r = parseExperiment('model:\n  width: 8\n', '/w/exp/a.gradflow.yaml', { settings: bad });
  assert.equal(r.config, undefined);
  assert.match(r.issues.map((i) => i.message).join('\n'), /setting monitoring\.explosion\.max_norm/);
  const unknown = parseExperiment('model:\n  width: 8\n', '/w/exp/a.gradflow.yaml', { settings: { 'run.colour': 'red' } });
  assert.match(unknown.issues.map((i) => i.message).join('\n'), /setting run\.colour: not a key/);
});

test('the same file and settings resolve identically in the CLI and in the extension', () => {
  const dir = tempFolder('gf-layers-');
  try {
    const file = path.join(dir, 'x.gradflow.yaml');
    // The file sets one threshold and a backend; the settings supply the rest.
    const text = 'dataset:\n  name: synthetic\nmodel:\n  width: 16\nsparsity:\n  density: 0.5\nmonitoring:\n  collapse:\n    steps: 4\nrun:\n  backend: wasm\n';
    fs.writeFileSync(file, text);
    const runs = path.join(dir, 'runs');
    const extLayer = settingsLayer(settings, defaultRunsDir('', dir, dir));
    // Extension path: run-manager's prepare (parse with the settings layer, then the runtime backend, none outside Electron).
    const ext = parseExperiment(text, file, { settings: extLayer }).config;
    assert.ok(ext);
    const extension = withRuntimeBackend(ext, undefined);
    // CLI path.
    const cli = loadForCli(file, [], extLayer).config;
    assert.deepEqual(cli, extension);
    assert.deepEqual(extension.monitoring.collapse, { minNorm: 1e-5, steps: 4 });
    assert.equal(extension.run.runsDir, path.join(dir, '.gradflow', 'runs'));
    assert.notEqual(extension.run.runsDir, runs);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every point of a sweep is resolved with the same settings layer', () => {
  const r = parseExperiment('model:\n  width: 16\nsparsity:\n  density: 0.5\nsweep:\n  seeds: [0]\n  grid:\n    training.learning_rate: [0.1, 0.01]\n', '/w/exp/s.gradflow.yaml', { settings: layer });
  assert.ok(r.config && r.sweep, JSON.stringify(r.issues));
  const points = expandSweep(r.config, r.sweep);
  assert.equal(points.length, 2);
  for (const p of points) {
    assert.deepEqual(p.config.monitoring.explosion, { maxNorm: 50, growthFactor: 7, window: 3 });
    assert.equal(p.config.run.runsDir, '/w/.gradflow/runs');
  }
});

test('default runs folder', () => {
  assert.equal(defaultRunsDir('', '/w', '/w/exp'), '/w/.gradflow/runs');
  assert.equal(defaultRunsDir('', undefined, '/w/exp'), '/w/exp/.gradflow/runs');
  assert.equal(defaultRunsDir('runs', '/w', '/w/exp'), '/w/runs');
  assert.equal(defaultRunsDir('/abs', '/w', '/w/exp'), '/abs');
});
