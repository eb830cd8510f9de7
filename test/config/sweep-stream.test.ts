/**
 * Issue 18, row 8: a sweep's runs can be generated lazily (`iterateSweep`), with the ids and order of
 * the eager plan (`expandSweep`), without resolving the grid ahead of the run asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment, expandSweep, iterateSweep, sweepRunCount, ConfigError } from '../../src/config';
import { FILE } from './helpers';
import { at } from '../../src/shared/checked';

function parsed(text: string): { config: NonNullable<ReturnType<typeof parseExperiment>['config']>; sweep: NonNullable<ReturnType<typeof parseExperiment>['sweep']> } {
  const r = parseExperiment(text, FILE);
  assert.ok(r.config && r.sweep, r.issues.map((i) => i.message).join('\n'));
  return { config: r.config, sweep: r.sweep };
}

const SMALL = [
  'model: {width: 100}',
  'sparsity: {method: random, dense_width: 10}',
  'sweep:',
  '  seeds: [0, 1]',
  '  linked: [{training.optimizer: sgd, training.learning_rate: 0.1}, {training.optimizer: adam, training.learning_rate: 0.001}]',
  '  grid:',
  '    model.batch_norm: [false, true]',
  '    sparsity.dense_width: [10, 20, 30]',
  '',
].join('\n');

test('the lazy sweep yields the eager plan: same ids, points and order', () => {
  const { config, sweep } = parsed(SMALL);
  const eager = expandSweep(config, sweep);
  const lazy = [...iterateSweep(config, sweep)];
  assert.equal(eager.length, 24);
  assert.equal(sweepRunCount(sweep), 24);
  assert.deepEqual(
    lazy.map((r) => [r.id, r.point]),
    eager.map((r) => [r.id, r.point]),
  );
  assert.deepEqual(at(lazy, 5).config, at(eager, 5).config);
});

test('the first runs come before the rest of the grid is resolved: a bad combination late in the grid is met only there', () => {
  // dense_width must be below width: the point width 50 × dense_width 60 is invalid, and it is the
  // last point of a 3 × 901-value grid (2,703 points × 2 seeds).
  const widths = Array.from({ length: 900 }, (_, i) => 1000 - i).join(', '); // 1000 … 101
  const text = ['model: {width: 100}', 'sparsity: {method: random, dense_width: 10}', 'sweep:', '  seeds: [0, 1]', '  grid:', '    sparsity.dense_width: [10, 20, 60]', `    model.width: [${widths}, 50]`, ''].join('\n');
  const r = parseExperiment(text, FILE);
  // The editor's check leaves combinations of a large sweep to the run (docs/experiment-file.md).
  assert.ok(r.config && r.sweep, r.issues.map((i) => i.message).join('\n'));
  const it = iterateSweep(r.config, r.sweep);
  const first = it.next();
  assert.equal(first.done, false);
  assert.deepEqual(first.value && first.value.point, { 'sparsity.dense_width': 10, 'model.width': 1000, 'training.seed': 0 });
  // The eager plan refuses the whole sweep before giving any run.
  assert.throws(() => expandSweep(r.config!, r.sweep!), ConfigError);
  // The lazy one gives every run before the bad point, then refuses it, naming it.
  let yielded = 1;
  assert.throws(
    () => {
      for (let n = it.next(); !n.done; n = it.next()) yielded++;
    },
    (e: Error) => e instanceof ConfigError && /in sweep point sparsity\.dense_width=60, model\.width=50:/.test(e.message),
  );
  const widthCount = 901; // 1000 … 101, then 50
  assert.equal(yielded, 2 * (3 * widthCount - 1));
});

test('value errors and the run limit are found before the first run, as for the eager plan', () => {
  const { config, sweep } = parsed(SMALL);
  assert.throws(() => iterateSweep(config, { ...sweep, maxRuns: 10 }).next(), (e: Error) => e instanceof ConfigError && /the sweep has 24 runs/.test(e.message));
  const bad = { ...sweep, axes: [{ key: 'training.epochs', values: [1, -1] }] };
  assert.throws(() => iterateSweep(config, bad).next(), ConfigError);
});

test('the eager plan reports its progress point by point (the CLI shows it while planning)', () => {
  const { config, sweep } = parsed(SMALL);
  const seen: Array<[number, number]> = [];
  expandSweep(config, sweep, (done, total) => seen.push([done, total]));
  // 2 linked items × 2 batch_norm × 3 dense widths = 12 points.
  assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => [i + 1, 12]));
});
