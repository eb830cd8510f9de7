import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validate, codeActions, uriToPath } from '../../src/languageservice/validate';
import { applyEdits } from '../../src/languageservice/yaml-edit';
import { analyse } from '../../src/languageservice/document';
import { at } from '../../src/shared/checked';

const uri = 'file:///tmp/ws/bad.gradflow.yaml';

test('a valid file has no diagnostics', () => {
  const text = 'dataset:\n  name: synthetic\nmodel:\n  width: 16\ntraining:\n  epochs: 1\n';
  assert.deepEqual(validate(analyse(text, uri)), []);
});

test('an unknown enum value is flagged on the value, 0-based, with a did-you-mean fix', () => {
  // line 0: model:   line 1: "  activation: rleu" — the value starts at character 14.
  const text = 'model:\n  activation: rleu\n';
  const [d, ...rest] = validate(analyse(text, uri));
  assert.ok(d);
  assert.equal(rest.length, 0);
  assert.deepEqual(d.range, { start: { line: 1, character: 14 }, end: { line: 1, character: 18 } });
  assert.equal(d.severity, 1);
  assert.equal(d.source, 'gradflow');
  assert.equal(d.code, 'unknown-value');
  assert.match(d.message, /^model\.activation: /);
  assert.deepEqual(d.data, { key: 'model.activation', suggestion: 'relu' });
  const [fix] = codeActions(analyse(text, uri), [d]);
  assert.ok(fix);
  assert.equal(fix.title, "Change to 'relu'");
  assert.equal(applyEdits(text, fix.edit.changes[uri] ?? assert.fail('no edits for the file')), 'model:\n  activation: relu\n');
});

test('an unknown key is flagged on the key name', () => {
  const text = 'training:\n  lerning_rate: 0.1\n';
  const [d] = validate(analyse(text, uri));
  assert.ok(d);
  assert.deepEqual(d.range, { start: { line: 1, character: 2 }, end: { line: 1, character: 14 } });
  assert.equal(d.code, 'unknown-key');
  const [fix] = codeActions(analyse(text, uri), [d]);
  assert.ok(fix);
  assert.equal(applyEdits(text, fix.edit.changes[uri] ?? assert.fail('no edits for the file')), 'training:\n  learning_rate: 0.1\n');
});

test('an out-of-range number and a YAML syntax error', () => {
  const range = validate(analyse('training:\n  learning_rate: -1\n', uri));
  assert.equal(range.length, 1);
  assert.equal(at(range, 0).code, 'out-of-range');
  assert.equal(at(range, 0).range.start.line, 1);
  const syntax = validate(analyse('model:\n  width: [1, 2\n', uri));
  assert.ok(syntax.length >= 1);
  assert.equal(at(syntax, 0).code, 'yaml-syntax');
  assert.equal(at(syntax, 0).severity, 1);
});

test('file URIs become paths', () => {
  assert.equal(uriToPath('file:///tmp/a%20b/x.gradflow.yaml'), '/tmp/a b/x.gradflow.yaml');
  assert.equal(uriToPath('untitled:Untitled-1'), 'untitled:Untitled-1');
});

// Issue 11 item 8: "Change to 'model'" on `modle:` beside `model:` made two `model:` keys.
test('a misspelt section beside the right one is merged into it, never renamed into a duplicate', () => {
  const text = ['model:', '  width: 64', 'modle:', '  activation: swish', '  batch_norm: true', 'training:', '  epochs: 2', ''].join('\n');
  const d = validate(analyse(text, uri)).find((x) => x.code === 'unknown-key');
  assert.ok(d);
  const actions = codeActions(analyse(text, uri), [d]);
  assert.deepEqual(actions.map((a) => a.title), ["Merge into 'model' (already in the file)"]);
  const merged = applyEdits(text, at(actions, 0).edit.changes[uri] ?? assert.fail('no edits for the file'));
  assert.equal(merged, ['model:', '  width: 64', '  activation: swish', '  batch_norm: true', 'training:', '  epochs: 2', ''].join('\n'));
  // The merged file is valid: no duplicate key, no unknown key.
  assert.deepEqual(validate(analyse(merged, uri)), []);
});

test('a merge is not offered when a key is set in both sections, nor for a scalar', () => {
  const both = ['model:', '  width: 64', 'modle:', '  width: 32', ''].join('\n');
  const d = validate(analyse(both, uri)).find((x) => x.code === 'unknown-key');
  assert.ok(d);
  assert.deepEqual(codeActions(analyse(both, uri), [d]), []);
  const scalar = ['training:', '  learning_rate: 0.1', '  lerning_rate: 0.2', ''].join('\n');
  const s = validate(analyse(scalar, uri)).find((x) => x.code === 'unknown-key');
  assert.ok(s);
  assert.deepEqual(codeActions(analyse(scalar, uri), [s]), []);
  // Without a clash, the rename stays.
  const alone = ['modle:', '  width: 64', ''].join('\n');
  const a = validate(analyse(alone, uri)).find((x) => x.code === 'unknown-key');
  assert.ok(a);
  assert.deepEqual(codeActions(analyse(alone, uri), [a]).map((x) => x.title), ["Change to 'model'"]);
});

test('a duplicate key is an error that does not hide the file\'s other problems', () => {
  const text = ['model:', '  width: 8', 'model:', '  widht: 3', 'training:', '  epochs: -1', ''].join('\n');
  const codes = validate(analyse(text, uri)).map((x) => `${x.range.start.line}:${String(x.code)}`);
  assert.deepEqual(codes, ['2:yaml-syntax', '3:unknown-key', '5:out-of-range']);
});

test('issue 18: the memory estimate and misfitting YAML tags are diagnostics on their keys', () => {
  // Sparse net 200,000 inputs × width 128 with Adam, plus data, passes each own limit but not a 1,024 MB bound.
  const text = 'dataset:\n  name: synthetic\n  synthetic: {features: 200000, train_size: 256, test_size: 64}\nmodel: {width: 128}\nsparsity: {method: random, dense_width: 32}\nrun: {max_memory_mb: 1024}\n';
  const [mem, ...more] = validate(analyse(text, uri));
  assert.ok(mem);
  assert.equal(more.length, 0);
  assert.equal(mem.range.start.line, 2);
  assert.match(mem.message, /^dataset\.synthetic\.features: estimated peak memory [\d,]+ MB, more than the bound of 1,024 MB \(run\.max_memory_mb\)/);
  assert.deepEqual(validate(analyse(text.replace('1024', '8192'), uri)), []);
  const [tag] = validate(analyse('name: !!float 3\n', uri));
  assert.ok(tag);
  assert.equal(tag.range.start.line, 0);
  assert.match(tag.message, /^name: YAML: tag '!!float' does not fit '3'/);
});

test('gmp with the default init: a warning on the method whose fix writes sparsity.init: sparse-fan-in', () => {
  const text = 'sparsity:\n  method: gmp   # prune while training\n  density: 0.1\n';
  const [d, ...rest] = validate(analyse(text, uri));
  assert.ok(d);
  assert.equal(rest.length, 0);
  assert.equal(d.severity, 2, 'a warning');
  assert.equal(d.code, 'advice');
  assert.deepEqual(d.range, { start: { line: 1, character: 10 }, end: { line: 1, character: 13 } });
  assert.deepEqual(d.data, { key: 'sparsity.method', set: { key: 'sparsity.init', value: 'sparse-fan-in' } });
  const [fix, ...more] = codeActions(analyse(text, uri), [d]);
  assert.ok(fix);
  assert.equal(more.length, 0);
  assert.equal(fix.title, 'Set sparsity.init: sparse-fan-in');
  assert.equal(fix.isPreferred, true);
  const fixed = applyEdits(text, fix.edit.changes[uri] ?? assert.fail('no edits for the file'));
  assert.match(fixed, /^sparsity:\n {2}method: gmp {3}# prune while training\n(.*\n)*\s+init: sparse-fan-in\n/);
  assert.deepEqual(validate(analyse(fixed, uri)), [], 'the fixed file is clean');
  // Written as dense-fan-in: the warning and the fix are on that value.
  const written = 'sparsity:\n  method: gmp\n  density: 0.1\n  init: dense-fan-in\n';
  const [w] = validate(analyse(written, uri));
  assert.ok(w);
  assert.deepEqual(w.range, { start: { line: 3, character: 8 }, end: { line: 3, character: 20 } });
  const [wfix] = codeActions(analyse(written, uri), [w]);
  assert.ok(wfix);
  assert.equal(applyEdits(written, wfix.edit.changes[uri] ?? assert.fail('no edits')), 'sparsity:\n  method: gmp\n  density: 0.1\n  init: sparse-fan-in\n');
});
