/** The client ↔ server contract's guards: what the server accepts from the client, and what it refuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAlertRangeParams, isRunReport, isServerInitializationOptions, isServerSettings } from '../../src/shared/lsp-protocol';
import type { Alert } from '../../src/shared/protocol';

const alert: Alert = { net: 'sparse', kind: 'nan', step: 3, layer: -1, value: 'NaN', message: 'loss is NaN', severity: 'error', key: 'training.learning_rate' };
const config = { name: 'x', model: {}, training: {}, sparsity: {}, run: {} };
const run = { backend: 'wasm', runsDir: '', thresholds: { explosionMaxNorm: 1000, explosionGrowthFactor: 100, explosionWindow: 10, collapseMinNorm: 1e-7, collapseSteps: 50 } };

test('run reports: each type with its fields; anything else is refused', () => {
  assert.equal(isRunReport({ type: 'reset', uri: 'file:///a' }), true);
  assert.equal(isRunReport({ type: 'alert', uri: 'file:///a', text: '', alert, config, layerNames: ['d1'] }), true);
  assert.equal(isRunReport({ type: 'trainer-error', uri: 'file:///a', text: '', key: 'dataset.path', message: 'missing' }), true);
  assert.equal(isRunReport({ type: 'alert', uri: 'file:///a', text: '', alert: { ...alert, kind: 'boom' }, config, layerNames: [] }), false);
  assert.equal(isRunReport({ type: 'alert', uri: 'file:///a', text: '', alert, config: { model: {} }, layerNames: [] }), false);
  assert.equal(isRunReport({ type: 'trainer-error', uri: 'file:///a', text: '', key: 3, message: 'x' }), false);
  assert.equal(isRunReport({ type: 'clear', uri: 'file:///a' }), false);
  assert.equal(isRunReport(null), false);
});

test('settings and initialization options', () => {
  assert.equal(isServerSettings({ run }), true);
  assert.equal(isServerSettings({ run: { ...run, backend: 'gpu' } }), false);
  assert.equal(isServerSettings({ run: { ...run, thresholds: { ...run.thresholds, collapseSteps: '50' } } }), false);
  assert.equal(isServerInitializationOptions({ validationDelayMs: 200, settings: { run } }), true);
  assert.equal(isServerInitializationOptions({}), true);
  assert.equal(isServerInitializationOptions({ validationDelayMs: 'soon' }), false);
});

test('alert-range params', () => {
  assert.equal(isAlertRangeParams({ uri: 'file:///a', text: 'x: 1\n', alert }), true);
  assert.equal(isAlertRangeParams({ uri: 'file:///a', text: 'x: 1\n', alert, runConfig: config }), true);
  assert.equal(isAlertRangeParams({ uri: 'file:///a', alert }), false);
});
