import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/config/parse';
import { applyRunSettings, defaultRunsDir, type RunSettings } from '../../src/extension/run-settings';

const settings: RunSettings = {
  backend: 'cpu',
  runsDir: '',
  thresholds: { explosionMaxNorm: 50, explosionGrowthFactor: 7, explosionWindow: 3, collapseMinNorm: 1e-5, collapseSteps: 9 },
};

function parsed(text: string) {
  const r = parseExperiment(text, '/w/exp/a.gradflow.yaml');
  assert.ok(r.config, JSON.stringify(r.issues));
  return { config: r.config, written: (k: string) => r.keyRanges.has(k) };
}

test('unset thresholds, backend and runs folder come from the settings; the file wins where it sets them', () => {
  const { config, written } = parsed('monitoring:\n  explosion:\n    max_norm: 20\nrun:\n  backend: wasm\n');
  const out = applyRunSettings(config, written, settings, '/w/.gradflow/runs');
  assert.deepEqual(out.monitoring.explosion, { maxNorm: 20, growthFactor: 7, window: 3 });
  assert.deepEqual(out.monitoring.collapse, { minNorm: 1e-5, steps: 9 });
  assert.deepEqual(out.run, { backend: 'wasm', runsDir: '/w/.gradflow/runs' });
  assert.equal(out.training.learningRate, config.training.learningRate);
});

test('a file-set runs_dir is kept (resolved by the parser against the file folder)', () => {
  const { config, written } = parsed('run:\n  runs_dir: out\n');
  assert.equal(applyRunSettings(config, written, settings, '/elsewhere').run.runsDir, '/w/exp/out');
});

test('a runtime-imposed backend replaces all but cpu', () => {
  const { config, written } = parsed('run:\n  backend: tensorflow\n');
  assert.equal(applyRunSettings(config, written, settings, '/r', 'wasm').run.backend, 'wasm');
  assert.equal(applyRunSettings(config, () => false, settings, '/r', 'wasm').run.backend, 'cpu');
});

test('default runs folder', () => {
  assert.equal(defaultRunsDir('', '/w', '/w/exp'), '/w/.gradflow/runs');
  assert.equal(defaultRunsDir('', undefined, '/w/exp'), '/w/exp/.gradflow/runs');
  assert.equal(defaultRunsDir('runs', '/w', '/w/exp'), '/w/runs');
  assert.equal(defaultRunsDir('/abs', '/w', '/w/exp'), '/abs');
});
