/**
 * The server's per-file state of run reports (`gradflow/runReport`): alerts of one kind are counted,
 * not stacked; a trainer error lands on its key; a reset clears the file; the fixes recorded at the
 * last render are the ones a code-action request finds. Lines hand-counted in the text below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse, recordedFixes } from '../../src/languageservice';
import { RunReports } from '../../src/server/run-reports';
import type { RunReport } from '../../src/shared/lsp-protocol';
import type { Alert } from '../../src/shared/protocol';
import { at } from '../../src/shared/checked';

const uri = 'file:///tmp/ws/reports.gradflow.yaml';
const TEXT = ['dataset:', '  name: synthetic', 'model:', '  width: 64', '  batch_norm: true', 'training:', '  optimizer: sgd', '  learning_rate: 5', ''].join('\n');
const config = analyse(TEXT, uri).parsed.config ?? assert.fail('the file resolves');
const alert = (step: number): Alert => ({ net: 'sparse', kind: 'explosion', step, layer: 0, value: 1e5, message: 'grew', severity: 'warning', key: 'training.learning_rate' });
const report = (step: number): RunReport => ({ type: 'alert', uri, text: TEXT, alert: alert(step), config, layerNames: ['dense1', 'output'] });

test('alerts of one kind give one diagnostic with a count; a trainer error lands on its key; reset clears', () => {
  const runs = new RunReports();
  assert.equal(runs.has(uri), false);
  runs.apply(report(10));
  runs.apply(report(20));
  runs.apply({ type: 'trainer-error', uri, text: TEXT, key: 'model.width', message: 'too wide for this machine' });
  const doc = analyse(TEXT, uri);
  const ds = runs.render(uri, doc, doc);
  assert.deepEqual(ds.map((d) => [d.range.start.line, d.code]), [
    [3, 'trainer-error'],
    [7, 'explosion'],
  ]);
  assert.match(at(ds, 1).message, /at step 10: .*\(1 more explosion alert in this run\)$/s);
  assert.deepEqual([...(runs.kinds(uri) ?? [])], ['explosion']);
  assert.equal(runs.textOf(uri), TEXT);
  assert.deepEqual(recordedFixes(runs.fixes(uri), ds).map((a) => a.title), ['Lower the learning rate ×0.1 (5 → 0.5)']);
  runs.apply({ type: 'reset', uri });
  assert.equal(runs.has(uri), false);
  assert.deepEqual(runs.render(uri, doc), []);
  assert.equal(runs.fixes(uri).size, 0);
});
