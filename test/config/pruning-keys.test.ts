/** The pruning-criterion keys (docs/pruning.md): values, defaults, positioned errors and warnings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/config/parse';
import { expandSweep } from '../../src/config/sweep';
import { FILE, issueFor, span } from './helpers';

const BASE = ['model:', '  width: 40', 'sparsity:', '  dense_width: 10'];
const parseText = (lines: string[]): string => [...BASE, ...lines, ''].join('\n');
const parse = (lines: string[]) => parseExperiment(parseText(lines), FILE);

test('every criterion and scope resolves; absent keys stay absent (engine defaults)', () => {
  for (const method of ['snip', 'grasp', 'synflow']) {
    for (const scope of ['layerwise', 'global']) {
      const r = parse([`  method: ${method}`, `  scope: ${scope}`]);
      assert.deepEqual(r.issues, []);
      assert.equal(r.config?.sparsity.method, method);
      assert.equal(r.config?.sparsity.scope, scope);
      assert.equal(r.config?.sparsity.pair, true);
      assert.equal(r.config?.sparsity.denseWidth, 10);
    }
  }
  const plain = parse(['  method: snip']).config;
  assert.equal(plain?.sparsity.scope, undefined);
  assert.equal(plain?.sparsity.batches, undefined);
  const keyed = parse(['  method: synflow', '  synflow_rounds: 30']).config;
  assert.equal(keyed?.sparsity.synflowRounds, 30);
  assert.equal(parse(['  method: grasp', '  batches: 4']).config?.sparsity.batches, 4);
});

test('unknown method and scope: positioned, with did-you-mean', () => {
  const r = parse(['  method: snp']);
  const issue = issueFor(r.issues, 'sparsity.method');
  // Line 5 "  method: snp": the value starts at column 11.
  assert.deepEqual(span(issue), [5, 11, 5, 14]);
  assert.match(issue.message, /expected one of none, random, magnitude, snip, grasp, synflow, gmp; did you mean 'snip'\?/);
  const s = issueFor(parse(['  method: snip', '  scope: globl']).issues, 'sparsity.scope');
  assert.equal(s.line, 6);
  assert.equal(s.suggestion, 'global');
});

test('out-of-range batches and rounds are errors at the value', () => {
  const b = issueFor(parse(['  method: snip', '  batches: 0']).issues, 'sparsity.batches');
  assert.deepEqual([b.line, b.code], [6, 'out-of-range']);
  const r = issueFor(parse(['  method: synflow', '  synflow_rounds: 2.5']).issues, 'sparsity.synflow_rounds');
  assert.deepEqual([r.line, r.code], [6, 'wrong-type']);
});

test('keys a method does not read are warnings on the key', () => {
  const r = parse(['  method: random', '  batches: 3', '  synflow_rounds: 10']);
  assert.ok(r.config, 'warnings only');
  assert.equal(issueFor(r.issues, 'sparsity.batches').severity, 'warning');
  assert.match(issueFor(r.issues, 'sparsity.batches').message, /only the data-driven criteria snip and grasp/);
  assert.match(issueFor(r.issues, 'sparsity.synflow_rounds').message, /only method 'synflow'/);
  const none = parseExperiment(['sparsity:', '  scope: global', ''].join('\n'), FILE);
  assert.equal(issueFor(none.issues, 'sparsity.scope').severity, 'warning');
});

test('grasp with batch_norm is a conflict on sparsity.method', () => {
  const text = ['model:', '  width: 40', '  batch_norm: true', 'sparsity:', '  method: grasp', '  dense_width: 10', ''].join('\n');
  const r = parseExperiment(text, FILE);
  assert.equal(r.config, undefined);
  const issue = issueFor(r.issues, 'sparsity.method');
  assert.deepEqual([issue.line, issue.column, issue.code], [5, 11, 'conflict']);
  assert.match(issue.message, /GraSP's exact Hessian-gradient product is implemented without BatchNorm/);
});

test('a criterion needs the dense width like random does', () => {
  const r = parseExperiment(['sparsity:', '  method: synflow', ''].join('\n'), FILE);
  assert.match(issueFor(r.issues, 'sparsity.method').message, /needs the dense twin's width/);
});

test('sparsity.method and sparsity.scope are sweep axes', () => {
  const text = [...BASE, '  method: random', 'sweep:', '  seeds: [0]', '  grid:', '    sparsity.method: [random, snip, synflow]', '    sparsity.scope: [layerwise, global]', ''].join('\n');
  const r = parseExperiment(text, FILE);
  assert.ok(r.config && r.sweep, r.issues.map((i) => i.message).join('\n'));
  const runs = expandSweep(r.config, r.sweep);
  assert.deepEqual(
    runs.map((x) => `${x.config.sparsity.method}/${x.config.sparsity.scope}`),
    ['random/layerwise', 'random/global', 'snip/layerwise', 'snip/global', 'synflow/layerwise', 'synflow/global'],
  );
});

test('sparsity.dynamic: defaults, positioned errors, the none conflict, a sweep axis', () => {
  const ok = parse(['  method: random', '  dynamic:', '    method: rigl']);
  assert.deepEqual(ok.issues, []);
  assert.deepEqual(ok.config?.sparsity.dynamic, { method: 'rigl', every: 100, fraction: 0.3, schedule: 'cosine', until: 0.75 });
  assert.equal(parse(['  method: random']).config?.sparsity.dynamic, undefined);
  for (const bad of ['0', '1', '1.5', '-0.1']) {
    const issue = issueFor(parse(['  method: snip', '  dynamic:', '    method: set', `    fraction: ${bad}`]).issues, 'sparsity.dynamic.fraction');
    // Line 8 "    fraction: <bad>": the value starts at column 15.
    assert.deepEqual([issue.line, issue.column, issue.code], [8, 15, 'out-of-range']);
  }
  const missing = issueFor(parse(['  method: snip', '  dynamic:', '    every: 10']).issues, 'sparsity.dynamic.method');
  assert.equal(missing.code, 'missing');
  assert.equal(issueFor(parse(['  method: snip', '  dynamic: {method: rigl, schedule: cosin}']).issues, 'sparsity.dynamic.schedule').suggestion, 'cosine');
  const none = parseExperiment(['sparsity:', '  dynamic: {method: set}', ''].join('\n'), FILE);
  const c = issueFor(none.issues, 'sparsity.dynamic');
  assert.deepEqual([c.line, c.severity, c.code], [2, 'error', 'conflict']);
  const text = [...BASE, '  method: random', '  dynamic: {method: set}', 'sweep:', '  seeds: [0]', '  grid:', '    sparsity.dynamic.method: [set, rigl]', ''].join('\n');
  const r = parseExperiment(text, FILE);
  assert.ok(r.config && r.sweep, r.issues.map((i) => i.message).join('\n'));
  assert.deepEqual(expandSweep(r.config, r.sweep).map((x) => x.config.sparsity.dynamic?.method), ['set', 'rigl']);
});

test('sparsity.method gmp and sparsity.gmp: defaults, ignored elsewhere, no dynamic with gmp', () => {
  const ok = parse(['  method: gmp', '  init: sparse-fan-in', '  gmp:', '    every: 10']);
  assert.deepEqual(ok.issues, []);
  assert.deepEqual(ok.config?.sparsity.gmp, { begin: 0, end: 0.75, every: 10, initialDensity: 1 });
  assert.equal(parse(['  method: gmp']).config?.sparsity.gmp, undefined);
  const ignored = issueFor(parse(['  method: random', '  gmp: {every: 5}']).issues, 'sparsity.gmp');
  assert.equal(ignored.severity, 'warning');
  assert.match(ignored.message, /only method 'gmp'/);
  const conflict = issueFor(parse(['  method: gmp', '  dynamic: {method: rigl}']).issues, 'sparsity.dynamic');
  assert.equal(conflict.severity, 'error');
  assert.match(issueFor(parse(['  method: gmp', '  gmp: {initial_density: 0}']).issues, 'sparsity.gmp.initial_density').message, /0/);
  assert.equal(parse(['  method: random', '  dynamic: {method: set, noise: 0}']).config?.sparsity.dynamic?.noise, 0);
});

test('gmp with init dense-fan-in (written or the default) is a warning that names sparse-fan-in as the fix', () => {
  const lines = ['  method: gmp'];
  // Not written: on the method's value, since that is what makes the default a poor fit.
  const byDefault = parse(lines);
  assert.ok(byDefault.config, 'a warning, not an error: the run still starts');
  const d = issueFor(byDefault.issues, 'sparsity.method');
  assert.deepEqual([d.severity, d.code], ['warning', 'advice']);
  assert.match(d.message, /twin's fan-in/);
  assert.deepEqual(d.set, { key: 'sparsity.init', value: 'sparse-fan-in' });
  assert.equal(parseText(lines).slice(d.offset, d.endOffset), 'gmp');
  // Written: on its value.
  const written = parse(['  method: gmp', '  init: dense-fan-in']);
  const w = issueFor(written.issues, 'sparsity.init');
  assert.equal(parseText(['  method: gmp', '  init: dense-fan-in']).slice(w.offset, w.endOffset), 'dense-fan-in');
  assert.deepEqual(w.set, { key: 'sparsity.init', value: 'sparse-fan-in' });
  assert.deepEqual(parse(['  method: gmp', '  init: sparse-fan-in']).issues, []);
  // Other methods keep dense-fan-in without a word.
  assert.deepEqual(parse(['  method: random']).issues, []);
});
