import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../src/languageservice/document';
import { parseExperiment } from '../../src/config/parse';
import { emptyRunState, planRunDiagnostics } from '../../src/languageservice/run-plan';
import { applyEdits } from '../../src/languageservice/yaml-edit';
import { fixesFor } from '../../src/languageservice/quick-fixes';
import type { Alert } from '../../src/shared/protocol';
import { at } from '../../src/shared/checked';

const FILE = [
  'dataset:', //                0
  '  name: synthetic', //       1
  'model:', //                  2
  '  width: 64', //             3
  '  batch_norm: true', //      4
  'training:', //               5
  '  optimizer: momentum', //   6
  '  learning_rate: 5', //      7
  '',
].join('\n');

const explosion: Alert = { net: 'dense', kind: 'explosion', step: 40, layer: 1, value: 5e4, message: 'grew', severity: 'warning', key: 'training.learning_rate' };

function runState(text: string) {
  const parsed = parseExperiment(text, '/w/x.gradflow.yaml');
  assert.ok(parsed.config, JSON.stringify(parsed.issues));
  const state = emptyRunState();
  state.config = parsed.config;
  state.kinds.set('explosion', { first: explosion, count: 1, layerNames: ['dense1', 'output'] });
  return state;
}

test('run diagnostics follow the text; the one a quick fix addressed goes at once, the rest turn stale', () => {
  const state = runState(FILE);
  const first = planRunDiagnostics(state, analyse(FILE), analyse(FILE));
  assert.deepEqual(first.map((d) => [d.range.start.line, d.severity]), [
    [7, 'warning'], // training.learning_rate
    [6, 'warning'], // training.optimizer
  ]);
  // The preferred quick fix lowers the learning rate ×0.1.
  const [fix] = fixesFor('explosion', analyse(FILE), state.config ?? assert.fail());
  assert.ok(fix);
  assert.equal(fix.title, 'Lower the learning rate ×0.1 (5 → 0.5)');
  const fixed = applyEdits(FILE, fix.edits);
  const after = planRunDiagnostics(state, analyse(fixed));
  // The learning-rate diagnostic is gone; the optimizer one remains, marked as from the earlier run.
  assert.deepEqual(after.map((d) => [d.range.start.line, d.severity]), [[6, 'information']]);
  assert.match(at(after, 0).message, /^\(from the run before training\.learning_rate was changed\)/);
  assert.deepEqual(at(after, 0).related, []);
});

test('an edit elsewhere moves the diagnostics with their lines and keeps them', () => {
  const state = runState(FILE);
  planRunDiagnostics(state, analyse(FILE), analyse(FILE));
  const shifted = `# a comment\n${FILE}`;
  const plan = planRunDiagnostics(state, analyse(shifted));
  assert.deepEqual(plan.map((d) => [d.range.start.line, d.severity]), [
    [8, 'warning'],
    [7, 'warning'],
  ]);
});

test('changing a contributing setting drops only its diagnostic', () => {
  const state = runState(FILE);
  planRunDiagnostics(state, analyse(FILE), analyse(FILE));
  const plan = planRunDiagnostics(state, analyse(FILE.replace('optimizer: momentum', 'optimizer: sgd')));
  assert.deepEqual(plan.map((d) => [d.range.start.line, d.severity]), [[7, 'warning']]);
});
