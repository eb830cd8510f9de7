/**
 * One parse per document version: every reader of the server (validation, hover, completion, code
 * lens, the run's diagnostics and both kinds of code actions) goes through the `DocumentCache`. The
 * parses are counted at the YAML parser itself (`yaml`'s `Parser.prototype.parse`, which both the
 * validating parse and the position index go through), not by the cache's own counter alone.
 */
import { afterEach, beforeEach, test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Parser } from 'yaml';
import {
  codeActions,
  codeLens,
  completion,
  DocumentCache,
  emptyRunState,
  hover,
  recordedFixes,
  runDiagnostics,
  validate,
} from '../../src/languageservice';
import type { Alert } from '../../src/shared/protocol';

const uri = 'file:///tmp/ws/cache.gradflow.yaml';
// Line 7 holds the learning rate an explosion blames.
const TEXT = [
  'dataset:', //                 0
  '  name: synthetic', //        1
  'model:', //                   2
  '  width: 64', //              3
  '  activation: relu', //       4
  '  batch_norm: true', //       5
  'training:', //                6
  '  learning_rate: 5', //       7
  '  optimizer: momentum', //    8
  '',
].join('\n');

const explosion: Alert = { net: 'dense', kind: 'explosion', step: 40, layer: 1, value: 5e4, message: 'grew', severity: 'warning', key: 'training.learning_rate' };

let yamlParses: { mock: { callCount(): number } };
beforeEach(() => {
  yamlParses = mock.method(Parser.prototype, 'parse');
});
afterEach(() => mock.restoreAll());

/** Everything the server does with one document version. */
function everyReader(cache: DocumentCache, version: number, text: string): void {
  const doc = () => cache.get(uri, version, text);
  const statics = validate(doc());
  assert.deepEqual(statics, []);
  assert.ok(hover(doc(), { line: 4, character: 4 }) !== null, 'hover on activation');
  assert.ok(completion(doc(), { line: 4, character: 14 }).some((i) => i.label === 'swish'), 'values of activation');
  assert.ok(completion(doc(), { line: 9, character: 0 }).some((i) => i.label === 'run'), 'keys on the empty last line');
  assert.equal(codeLens(doc()).length, 1);
  const state = emptyRunState();
  state.config = doc().parsed.config ?? assert.fail('the file resolves');
  state.kinds.set('explosion', { first: explosion, count: 1, layerNames: [] });
  const run = runDiagnostics(state, doc(), doc());
  assert.ok(run.diagnostics.length > 0);
  assert.deepEqual(codeActions(doc(), [...statics, ...run.diagnostics]), [], 'no static fix for run diagnostics');
  assert.ok(recordedFixes(run.fixes, run.diagnostics).some((a) => /Lower the learning rate/.test(a.title)));
}

test('one document version is parsed once across validation, hover, completion, lens, run diagnostics and actions', () => {
  const cache = new DocumentCache();
  everyReader(cache, 1, TEXT);
  assert.equal(cache.parses, 1);
  const perParse = yamlParses.mock.callCount();
  assert.ok(perParse >= 1);
  // The same version again: nothing is parsed.
  everyReader(cache, 1, TEXT);
  assert.equal(yamlParses.mock.callCount(), perParse);
  // A new version: parsed once more, by the same amount of parser work.
  everyReader(cache, 2, TEXT.replace('learning_rate: 5', 'learning_rate: 4'));
  assert.equal(cache.parses, 2);
  assert.equal(yamlParses.mock.callCount(), 2 * perParse);
});

test('a completion on a line holding a partial key reads the file without that line once per version and line', () => {
  const cache = new DocumentCache();
  const text = TEXT.replace('  activation: relu', '  act');
  const doc = cache.get(uri, 1, text);
  const before = yamlParses.mock.callCount();
  assert.ok(completion(doc, { line: 4, character: 5 }).some((i) => i.label === 'activation'));
  const once = yamlParses.mock.callCount();
  assert.ok(once > before, 'the blanked text is another text: parsed');
  completion(doc, { line: 4, character: 5 });
  hover(doc, { line: 3, character: 3 });
  assert.equal(yamlParses.mock.callCount(), once);
});

test('closing a document drops its parse; a settings change drops them all', () => {
  const cache = new DocumentCache();
  cache.get(uri, 1, TEXT);
  cache.delete(uri);
  cache.get(uri, 1, TEXT);
  assert.equal(cache.parses, 2);
  cache.clear();
  cache.get(uri, 1, TEXT);
  assert.equal(cache.parses, 3);
});
