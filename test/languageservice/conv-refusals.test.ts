/**
 * The editor refuses what the engine refuses for conv nets, before a run starts: `engine.sparse_kernels:
 * on` with a cnn or wrn is an error on that key's line, and its quick fix writes `auto`, after which
 * the file has no error (lines hand-counted below, 0-based as LSP counts them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../src/languageservice/document';
import { codeActions, validate } from '../../src/languageservice/validate';
import { applyEdits } from '../../src/languageservice/yaml-edit';
import { DiagnosticSeverity } from '../../src/languageservice/types';
import { at } from '../../src/shared/checked';

const uri = 'file:///tmp/ws/conv-refusal.gradflow.yaml';

const TEXT = [
  'name: conv-refusal', //                          0
  'dataset:', //                                    1
  '  name: synthetic', //                           2
  '  synthetic: {shape: [8, 8, 1], classes: 3}', // 3
  'model:', //                                      4
  '  architecture: cnn', //                         5
  '  channels: [4, 8]', //                          6
  'sparsity:', //                                   7
  '  method: random', //                            8
  '  density: 0.5', //                              9
  'engine:', //                                     10
  '  sparse_kernels: on   # try the sparse path', // 11
  '',
].join('\n');

test('sparse_kernels on with a cnn: an error on line 12 of the file, fixed by auto', () => {
  const doc = analyse(TEXT, uri);
  const diags = validate(doc);
  const errors = diags.filter((d) => d.severity === DiagnosticSeverity.Error);
  assert.equal(errors.length, 1, JSON.stringify(diags));
  const d = errors[0];
  assert.ok(d);
  assert.deepEqual(d.range, { start: { line: 11, character: 18 }, end: { line: 11, character: 20 } });
  assert.match(d.message, /^engine\.sparse_kernels: expected auto or off with architecture 'cnn', found 'on'/);
  const actions = codeActions(doc, diags);
  assert.equal(actions.length, 1);
  assert.equal(at(actions, 0).title, "Change to 'auto'");
  assert.equal(at(actions, 0).isPreferred, true);
  const edits = at(actions, 0).edit?.changes?.[uri];
  assert.ok(edits);
  const fixed = applyEdits(TEXT, edits);
  assert.equal(fixed.split('\n')[11], '  sparse_kernels: auto   # try the sparse path');
  // Only that value changed, and the fixed file resolves.
  assert.deepEqual(fixed.split('\n').filter((_, i) => i !== 11), TEXT.split('\n').filter((_, i) => i !== 11));
  const after = analyse(fixed, uri, 1);
  assert.deepEqual(validate(after).filter((x) => x.severity === DiagnosticSeverity.Error), []);
  assert.equal(after.parsed.config?.engine?.sparseKernels, 'auto');
});

test('switching the architecture to mlp clears the error; wrn raises it', () => {
  const mlp = TEXT.replace('  architecture: cnn\n  channels: [4, 8]\n', '  architecture: mlp\n  width: 16\n').replace('density: 0.5', 'dense_width: 8');
  assert.deepEqual(validate(analyse(mlp, uri)).filter((d) => d.severity === DiagnosticSeverity.Error), []);
  const wrn = TEXT.replace('shape: [8, 8, 1]', 'shape: [32, 32, 3]').replace('  architecture: cnn\n  channels: [4, 8]\n', '  architecture: wrn\n  depth: 10\n  widen_factor: 1\n');
  const errs = validate(analyse(wrn, uri)).filter((d) => d.severity === DiagnosticSeverity.Error);
  assert.equal(errs.length, 1, JSON.stringify(errs));
  assert.equal(at(errs, 0).range.start.line, 12);
  assert.match(at(errs, 0).message, /architecture 'wrn'/);
});
