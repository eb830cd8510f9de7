/**
 * Issue 18, row 12: `--set` values and keys that cannot apply are clear errors naming the argument,
 * the key and what it expects, never the YAML library's own message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyOverrides, CliUsageError, loadForCli } from '../../src/cli/load';
import { tempFolder } from '../tmp';

const FILE = 'name: x\ndataset:\n  name: synthetic\ntraining:\n  epochs: 5 # five\n  optimizer: adam\nrun: { backend: cpu }\n';

function refused(sets: string[], text = FILE): string {
  try {
    applyOverrides(text, sets);
  } catch (e) {
    assert.ok(e instanceof CliUsageError, `a usage error, not ${String(e)}`);
    return e.message;
  }
  assert.fail(`--set ${sets.join(' ')} was accepted`);
}

test('an alias as a --set value names the argument, the key and what it expects', () => {
  const m = refused(['training.epochs=*a']);
  assert.match(m, /^--set training\.epochs=\*a: the value '\*a' is a YAML alias/);
  assert.match(m, /training\.epochs expects an integer of at least 1 and at most 1000000$/);
  assert.doesNotMatch(m, /Unresolved alias/);
});

test('a key below a key that holds a value is refused with that key named', () => {
  const m = refused(['training.epochs.x=1']);
  assert.equal(m, "--set training.epochs.x=1: training.epochs holds a value, not keys, so 'training.epochs.x' is not a key; training.epochs expects an integer of at least 1 and at most 1000000 (--set training.epochs=VALUE)");
  assert.doesNotMatch(m, /Expected YAML collection/);
  // Three levels down, and a key the file does not write: the same rule, from the schema.
  assert.match(refused(['model.width.y.z=2']), /^--set model\.width\.y\.z=2: model\.width holds a value, not keys/);
});

test('where the file writes a value in the way, a key below it is refused', () => {
  const m = refused(['training.epochs=1'], 'training: 3\n');
  assert.match(m, /^--set training\.epochs=1: the file sets training to a value, not a mapping of keys, so 'training\.epochs' cannot be set; training is a section/);
});

test('broken YAML and tags in a --set value are refused with the key\'s expectation', () => {
  assert.match(refused(['training.epochs=[1']), /^--set training\.epochs=\[1: the value '\[1' is not a YAML value \(Flow sequence must end with a \]\); training\.epochs expects an integer/);
  assert.match(refused(['training.epochs=!!str 3']), /^--set training\.epochs=!!str 3: the value '!!str 3' has a YAML tag/);
  // An anchor alone is harmless: the value is read.
  assert.match(applyOverrides(FILE, ['training.optimizer=&a sgd']), /optimizer: sgd/);
});

test('good overrides still apply: scalars, lists, an empty section, a quoted alias-looking text', () => {
  const out = applyOverrides('training:\nmodel: { width: 8 }\n', ['training.epochs=2', 'model.width=16', 'name="*a"']);
  assert.match(out, /epochs: 2/);
  assert.match(out, /width: 16/);
  assert.match(out, /name: "\*a"/);
});

test('an override the schema refuses names the --set argument that wrote it', () => {
  const dir = tempFolder('gradflow-set-');
  const file = path.join(dir, 'x.gradflow.yaml');
  fs.writeFileSync(file, FILE);
  assert.throws(() => loadForCli(file, ['training.epochs=abc']), (e: Error) => {
    assert.match(e.message, /^--set training\.epochs=abc: training\.epochs: expected an integer, found 'abc'/);
    return true;
  });
  assert.throws(() => loadForCli(file, ['training=3']), (e: Error) => /^--set training=3: training: expected a mapping/.test(e.message));
  fs.rmSync(dir, { recursive: true, force: true });
});
