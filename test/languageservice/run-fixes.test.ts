/**
 * The run's diagnostics as the server publishes them: LSP diagnostics (source `gradflow run`, the
 * alert kind as code, the other implicated settings as related information), each with its quick
 * fixes recorded beside it, looked up by the diagnostic a code-action request sends back. Lines are
 * hand-counted in the text below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertRange, analyse, diagnosticKey, emptyRunState, recordedFixes, runDiagnostics } from '../../src/languageservice';
import { applyEdits } from '../../src/languageservice/yaml-edit';
import type { Alert } from '../../src/shared/protocol';
import { at } from '../../src/shared/checked';

const uri = 'file:///tmp/ws/fixes.gradflow.yaml';
const FILE = [
  'dataset:', //                          0
  '  name: synthetic', //                 1
  'model:', //                            2
  '  width: 64', //                       3
  '  batch_norm: true', //                4
  'training:', //                         5
  '  optimizer: momentum', //             6
  '  learning_rate: 5 # far too high', // 7
  '',
].join('\n');

const explosion: Alert = { net: 'dense', kind: 'explosion', step: 40, layer: 1, value: 5e4, message: 'grew', severity: 'warning', key: 'training.learning_rate' };

function state(text: string) {
  const s = emptyRunState();
  s.config = analyse(text, uri).parsed.config ?? assert.fail('the file resolves');
  s.kinds.set('explosion', { first: explosion, count: 2, layerNames: ['dense1', 'output'] });
  return s;
}

test('an alert becomes LSP diagnostics on the stamped key first, with related information and recorded fixes', () => {
  const doc = analyse(FILE, uri);
  const { diagnostics, fixes } = runDiagnostics(state(FILE), doc, doc);
  assert.deepEqual(
    diagnostics.map((d) => [d.range.start.line, d.severity, d.source, d.code]),
    [
      [7, 2, 'gradflow run', 'explosion'],
      [6, 2, 'gradflow run', 'explosion'],
    ],
  );
  assert.match(at(diagnostics, 0).message, /^Exploding gradients in the dense net, layer 1 \(output\), at step 40: measured 5\.00e\+4\./);
  assert.match(at(diagnostics, 0).message, /\(1 more explosion alert in this run\)$/);
  assert.deepEqual(at(diagnostics, 0).relatedInformation?.map((r) => [r.location.uri, r.location.range.start.line, r.message]), [[uri, 6, 'also implicated: training.optimizer']]);
  // Each diagnostic has its fixes; the one for its own line is first and preferred.
  const onLr = fixes.get(diagnosticKey(at(diagnostics, 0))) ?? assert.fail('fixes recorded for the learning_rate diagnostic');
  assert.match(at(onLr, 0).title, /^Lower the learning rate ×0\.1 \(5 → 0\.5\)$/);
  assert.equal(at(onLr, 0).isPreferred, true);
  assert.equal(applyEdits(FILE, at(onLr, 0).edit.changes[uri] ?? assert.fail('no edits for the file')), FILE.replace('learning_rate: 5 #', 'learning_rate: 0.5 #'));
  const onOptimizer = fixes.get(diagnosticKey(at(diagnostics, 1))) ?? assert.fail('fixes recorded for the optimizer diagnostic');
  assert.equal(at(onOptimizer, 0).title, 'Switch optimizer to sgd');
  assert.equal(at(onOptimizer, 0).isPreferred, true);
  assert.equal(onOptimizer.find((a) => /learning rate/.test(a.title))?.isPreferred, false);
});

test('a code-action request gets the recorded fixes of the diagnostics it names, each title once', () => {
  const doc = analyse(FILE, uri);
  const { diagnostics, fixes } = runDiagnostics(state(FILE), doc, doc);
  const both = recordedFixes(fixes, diagnostics).map((a) => a.title);
  assert.equal(new Set(both).size, both.length);
  assert.deepEqual(both, ['Lower the learning rate ×0.1 (5 → 0.5)', 'Switch optimizer to sgd']);
  // A diagnostic the server did not publish (another source, or an older text) gets nothing.
  assert.deepEqual(recordedFixes(fixes, [{ ...at(diagnostics, 0), source: 'gradflow' }]), []);
  assert.deepEqual(recordedFixes(fixes, [{ ...at(diagnostics, 0), message: 'older' }]), []);
});

test('no fixes while the file has errors; the diagnostics stay', () => {
  const broken = FILE.replace('width: 64', 'width: -3');
  const doc = analyse(broken, uri);
  assert.equal(doc.parsed.config, undefined);
  const { diagnostics, fixes } = runDiagnostics(state(FILE), doc, doc);
  assert.equal(diagnostics.length, 2);
  assert.equal(fixes.size, 0);
});

test('the alert jump lands on the stamped key, with the run config when the file no longer parses', () => {
  const doc = analyse(FILE, uri);
  assert.deepEqual(alertRange(doc, explosion), { start: { line: 7, character: 2 }, end: { line: 7, character: 18 } });
  const broken = analyse(FILE.replace('width: 64', 'width: -3'), uri);
  const runConfig = doc.parsed.config;
  assert.equal(alertRange(broken, explosion), undefined);
  assert.equal(alertRange(broken, explosion, runConfig)?.start.line, 7);
});
