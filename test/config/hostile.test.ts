/**
 * Issue 10 (hostile and broken input), the items about experiment files: each test failed on the
 * code before the fix (a sweep that exhausted memory, `/proc` accepted as runs folder, sizes and
 * prototype-named keys accepted, `!!set` read as an empty section, a quadratic uniqueItems check).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseExperiment } from '../../src/config/parse';
import { expandSweep } from '../../src/config/sweep';
import { ConfigError } from '../../src/config/types';
import { FILE, issueFor } from './helpers';
import { at } from '../../src/shared/checked';

const errorsOf = (text: string, file = FILE) => parseExperiment(text, file).issues.filter((i) => i.severity === 'error');

/** Eight axes of ten values each: 10⁸ points, 914 bytes as in the issue (the old code ran out of memory). */
function eightAxes(): string {
  const axes = [
    ['training.learning_rate', (i: number) => (i + 1) / 1000],
    ['training.batch_size', (i: number) => 16 + i],
    ['training.epochs', (i: number) => 1 + i],
    ['training.weight_decay', (i: number) => i / 10000],
    ['model.width', (i: number) => 100 + i],
    ['dataset.validation_fraction', (i: number) => (i + 1) / 20],
    ['monitoring.every', (i: number) => 1 + i],
    ['monitoring.explosion.window', (i: number) => 5 + i],
  ] as const;
  const grid = axes.map(([key, f]) => `    ${key}: [${Array.from({ length: 10 }, (_, i) => f(i)).join(', ')}]`).join('\n');
  return `dataset:\n  name: synthetic\nsweep:\n  seeds: [0]\n  grid:\n${grid}\n`;
}

test('a sweep over the limit is counted, not expanded: one error on the sweep: line naming the count', { timeout: 20_000 }, () => {
  const text = eightAxes();
  const result = parseExperiment(text, FILE);
  const issue = issueFor(result.issues, 'sweep');
  assert.equal(issue.line, 3);
  assert.match(issue.message, /^the sweep has 100,000,000 runs \(10 × 10 × 10 × 10 × 10 × 10 × 10 × 10 × 1 seed\), more than sweep\.max_runs \(100,000\)/);
  assert.equal(result.config, undefined);
});

test('sweep.max_runs sets the limit; expandSweep counts before building', { timeout: 20_000 }, () => {
  const small = (max: number) => `sweep:\n  max_runs: ${max}\n  seeds: [0, 1, 2, 3]\n  grid:\n    training.epochs: [1, 2, 3]\n`;
  const over = issueFor(parseExperiment(small(11), FILE).issues, 'sweep');
  assert.match(over.message, /12 runs \(3 × 4 seeds\), more than sweep\.max_runs \(11\)/);
  const ok = parseExperiment(small(12), FILE);
  assert.ok(ok.config && ok.sweep, JSON.stringify(ok.issues));
  assert.equal(expandSweep(ok.config, ok.sweep).length, 12);
  // A programmatic spec over the default limit throws before building anything.
  const base = parseExperiment('dataset:\n  name: synthetic\n', FILE).config;
  assert.ok(base);
  const values = Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.throws(
    () => expandSweep(base, { seeds: [0], axes: [{ key: 'training.epochs', values }, { key: 'monitoring.every', values }] }),
    (e: unknown) => e instanceof ConfigError && /1,000,000 runs \(1000 × 1000 × 1 seed\), more than sweep\.max_runs \(100,000\)/.test(e.message),
  );
  assert.match(issueFor(parseExperiment('sweep:\n  max_runs: 2000000\n', FILE).issues, 'sweep.max_runs').message, /at most 1000000/);
});

test('validation never tries the combinations of a large sweep; expanding it to run does', () => {
  // dense_width 150 is wider than width 100 in every point; 300 points (> the editor's budget of 64).
  const epochs = Array.from({ length: 300 }, (_, i) => i + 1).join(', ');
  const text = `model:\n  width: 100\nsparsity:\n  method: random\n  dense_width: 10\nsweep:\n  seeds: [0]\n  grid:\n    sparsity.dense_width: [150]\n    training.epochs: [${epochs}]\n`;
  const result = parseExperiment(text, FILE);
  assert.deepEqual(result.issues.filter((i) => i.severity === 'error'), []);
  assert.ok(result.config && result.sweep);
  assert.throws(() => expandSweep(result.config!, result.sweep!), (e: unknown) => e instanceof ConfigError && /in sweep point sparsity\.dense_width=150, training\.epochs=1: /.test(e.message));
  // A small sweep still gets the combination check in the editor.
  const small = text.replace(epochs, '1, 2');
  assert.match(issueFor(errorsOf(small), 'sweep.grid.sparsity.dense_width.0').message, /^in sweep point sparsity\.dense_width=150, training\.epochs=1: /);
});

test('run.runs_dir in /proc is an error on the key, not a hang', { timeout: 20_000 }, () => {
  const issue = issueFor(errorsOf('run:\n  runs_dir: /proc/runs\n'), 'run.runs_dir');
  assert.equal(issue.line, 2);
  assert.match(issue.message, /\/proc\/runs is inside \/proc, a kernel file system/);
  assert.match(issueFor(errorsOf('run:\n  runs_dir: /sys/x\n'), 'run.runs_dir').message, /inside \/sys/);
});

test('path keys: kind checked (file vs folder, links into /proc), content never echoed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-hostile-'));
  try {
    const file = path.join(dir, 'secret.txt');
    fs.writeFileSync(file, 'root:x:0:0:SECRET\n');
    const link = path.join(dir, 'proc-link');
    fs.symlinkSync('/proc/self', link);
    const exp = path.join(dir, 'e.gradflow.yaml');
    const runsFile = issueFor(errorsOf('run:\n  runs_dir: secret.txt\n', exp), 'run.runs_dir');
    assert.match(runsFile.message, /secret\.txt is a regular file, expected a folder/);
    const under = issueFor(errorsOf('run:\n  runs_dir: secret.txt/runs\n', exp), 'run.runs_dir');
    assert.match(under.message, /cannot be created: .*secret\.txt is a regular file, not a folder/);
    const data = issueFor(errorsOf('dataset:\n  name: mnist\n  path: secret.txt\n', exp), 'dataset.path');
    assert.match(data.message, /is a regular file, expected a folder/);
    const cache = issueFor(errorsOf('dataset:\n  cache_dir: proc-link/cache\n', exp), 'dataset.cache_dir');
    assert.match(cache.message, /kernel file system/);
    const dev = issueFor(errorsOf('dataset:\n  name: mnist\n  path: /dev/zero\n', exp), 'dataset.path');
    assert.match(dev.message, /inside \/dev/);
    for (const i of [runsFile, under, data, cache, dev]) assert.doesNotMatch(i.message, /SECRET|root:x/);
    // A folder that does not exist yet under an ordinary folder is fine.
    assert.deepEqual(errorsOf('run:\n  runs_dir: new/runs\n', exp), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('sizes are bounded by the schema and blamed on their own key', () => {
  const synthetic = (k: string, v: string) => `dataset:\n  name: synthetic\n  synthetic:\n    ${k}: ${v}\n`;
  assert.match(issueFor(errorsOf(synthetic('classes', '1e9')), 'dataset.synthetic.classes').message, /at most 256, found 1000000000/);
  assert.match(issueFor(errorsOf(synthetic('train_size', '1e9')), 'dataset.synthetic.train_size').message, /at most 10000000/);
  assert.match(issueFor(errorsOf(synthetic('features', '1e9')), 'dataset.synthetic.features').message, /at most 1000000/);
  assert.match(issueFor(errorsOf('training:\n  epochs: 1e308\n'), 'training.epochs').message, /at most 1000000, found 1e\+308/);
  assert.match(issueFor(errorsOf('training:\n  batch_size: 1e9\n'), 'training.batch_size').message, /at most 65536/);
  assert.match(issueFor(errorsOf('model:\n  width: 1e9\n'), 'model.width').message, /at most 100000/);
  // Within each key's maximum but too big together: blamed on the key most above its default.
  const both = errorsOf('dataset:\n  name: synthetic\n  synthetic:\n    features: 100000\n    train_size: 5000\n');
  assert.match(issueFor(both, 'dataset.synthetic.features').message, /\(train_size 5,000 \+ test_size 512\) × features 100,000 = 551,200,000 values, more than the limit of 268,435,456/);
  const wide = issueFor(errorsOf('model:\n  width: 30000\n  hidden_layers: 2\n'), 'model.width');
  // 784·30000 + 30000² + 30000·10 = 23,520,000 + 900,000,000 + 300,000 = 923,820,000 weights.
  assert.match(wide.message, /gives 923,820,000 weights, more than the limit of 268,435,456/);
  // The old failure blamed dataset.name; now nothing does.
  assert.ok(!errorsOf(synthetic('classes', '1e9')).some((i) => i.key === 'dataset.name'));
});

test('prototype-named keys are unknown keys, at any level and as sweep axes', () => {
  const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
  const text = `${names.map((n) => `${n}: 1`).join('\n')}\ntraining:\n${names.map((n) => `  ${n}: 1`).join('\n')}\nsweep:\n  grid:\n    training.constructor: [1]\n`;
  const errors = errorsOf(text);
  for (const n of names) {
    assert.equal(issueFor(errors, n).code, 'unknown-key');
    assert.equal(issueFor(errors, `training.${n}`).code, 'unknown-key');
  }
  assert.match(issueFor(errors, 'sweep.grid.training.constructor').message, /unknown key 'training\.constructor'/);
});

test('YAML tags beyond the core schema are errors; core tags are fine', () => {
  const set = errorsOf('model: !!set {a, b}\n');
  assert.equal(set.length, 1);
  assert.match(at(set, 0).message, /tag '!!set' is not supported/);
  assert.equal(at(set, 0).line, 1);
  for (const text of ['name: !!binary aGk=\n', 'name: !!timestamp 2001-12-14\n', 'name: !custom x\n', 'training: !!omap [ {epochs: 1} ]\n']) {
    assert.ok(errorsOf(text).some((i) => /tag '.*' is not supported/.test(i.message)), text);
  }
  assert.deepEqual(errorsOf('name: !!str exp\ntraining:\n  epochs: !!int 3\n'), []);
});

test('core tags must say what the value already is: misfitting or type-changing tags are errors on their key (issue 18, row 13)', () => {
  // `name: 5` is refused by the schema; `name: !!float 3` used to slip through as the string "3".
  const float = errorsOf('name: !!float 3\n');
  assert.equal(float.length, 1);
  assert.equal(at(float, 0).key, 'name');
  assert.equal(at(float, 0).file, FILE);
  assert.deepEqual([at(float, 0).line, at(float, 0).column], [1, 15]);
  assert.match(at(float, 0).message, /^YAML: tag '!!float' does not fit '3': YAML reads it as a number \(the core schema's !!float needs a decimal point or an exponent, e\.g\. 3\.0\); .*remove the tag$/);
  assert.match(issueFor(errorsOf('name: !!str 5\n'), 'name').message, /tag '!!str' turns '5' from a number into a string: .*quote it \('5'\) for a string/);
  assert.match(issueFor(errorsOf('training:\n  epochs: !!int "3"\n'), 'training.epochs').message, /tag '!!int' turns '3' from a string into a number/);
  assert.match(issueFor(errorsOf('model:\n  batch_norm: !!bool yes\n'), 'model.batch_norm').message, /tag '!!bool' does not fit 'yes': YAML reads it as a string/);
  assert.match(issueFor(errorsOf('training:\n  epochs: !!int 3.5\n'), 'training.epochs').message, /tag '!!int' does not fit '3\.5'/);
  assert.match(issueFor(errorsOf('model: !!seq {width: 8}\n'), 'model').message, /tag '!!seq' on a mapping/);
  const seed = issueFor(errorsOf('sweep:\n  seeds: [0, !!str 1]\n'), 'sweep.seeds.1');
  assert.equal(seed.line, 2);
  // No leftover "Unresolved tag" warning beside the error.
  assert.deepEqual(parseExperiment('name: !!float 3\n', FILE).issues.filter((i) => i.severity === 'warning'), []);
  // Redundant tags are fine, and mean what the plain value means.
  const ok = parseExperiment('name: !!str exp\nmodel: !!map { width: !!int 64, batch_norm: !!bool true }\ntraining: { learning_rate: !!float 0.01, epochs: !!float 3.0 }\nsweep: { seeds: !!seq [1] }\n', FILE);
  assert.deepEqual(ok.issues.filter((i) => i.severity === 'error'), []);
  assert.equal(ok.config?.model.width, 64);
  assert.equal(ok.config?.training.epochs, 3);
  assert.equal(ok.config?.name, 'exp');
});

test('duplicate keys: every repeat reported at the repeat, naming the first line', () => {
  const text = 'training:\n  epochs: 1\n  seed: 2\n  epochs: 3\n  epochs: 4\n';
  const dups = errorsOf(text);
  assert.deepEqual(dups.map((i) => [i.line, i.column]), [[4, 3], [5, 3]]);
  for (const d of dups) assert.match(d.message, /Map keys must be unique: 'epochs' is already set on line 2/);
});

test('long lists: uniqueItems finds the repeat in a 2,500-seed list (hash set, not pairwise)', () => {
  const seeds = Array.from({ length: 2500 }, (_, i) => i);
  seeds.push(17);
  const issues = errorsOf(`sweep:\n  seeds: [${seeds.join(', ')}]\n`);
  assert.equal(issues.length, 1);
  assert.match(issueFor(issues, 'sweep.seeds.2500').message, /found 17 again \(first at item 18\)/);
});

test('deep nesting, huge files and many entries: one positioned error each, no stack overflow', () => {
  const deep = errorsOf(`name: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`);
  assert.equal(deep.length, 1);
  assert.match(at(deep, 0).message, /nested more than 64 levels deep/);
  assert.equal(at(deep, 0).line, 1);
  let block = '';
  for (let i = 0; i < 100; i++) block += `${' '.repeat(i)}k${i}:\n`;
  assert.match(at(errorsOf(block), 0).message, /nested more than 64 levels deep/);
  const big = `training:\n${Array.from({ length: 6000 }, (_, i) => `  k${i}: ${i}`).join('\n')}\n`;
  const many = errorsOf(big);
  assert.equal(many.length, 1);
  assert.match(at(many, 0).message, /more than 3,000 entries/);
  assert.equal(at(many, 0).line, 3001);
  const huge = errorsOf(`name: "${'x'.repeat(2_000_000)}"\n`);
  assert.match(at(huge, 0).message, /2,000,009 characters, more than the limit of 262,144/);
});

test('values in messages: control characters shown escaped, long values cut', () => {
  const issue = issueFor(errorsOf('training:\n  optimizer: "\\e]0;pwned\\a\\e[2Jadm"\n'), 'training.optimizer');
  assert.ok(!/[\u0000-\u001f]/.test(issue.message), issue.message);
  assert.match(issue.message, /unknown optimizer '\\x1b\]0;pwned\\x07\\x1b\[2Jadm'/);
  const long = issueFor(errorsOf(`training:\n  optimizer: ${'a'.repeat(5000)}\n`), 'training.optimizer');
  assert.ok(long.message.length < 400, `${long.message.length}`);
  assert.match(long.message, /… \(5000 characters\)/);
});
