import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseExperiment } from '../../src/config/parse';
import { canonicalJson, configId, expandSweep } from '../../src/config/sweep';
import { ConfigError, type SweepSpec } from '../../src/config/types';
import { FILE, issueFor, span } from './helpers';
import { at } from '../../src/shared/checked';

const BASE = ['model:', '  width: 100', 'sparsity:', '  method: random', '  dense_width: 10', ''].join('\n');

function parsed(text: string) {
  const result = parseExperiment(text, FILE);
  assert.ok(result.config, JSON.stringify(result.issues, null, 1));
  return result;
}

test('expansion order: axes in file order (last fastest), values in order, seeds innermost', () => {
  const text = `${BASE}sweep:\n  seeds: [3, 1]\n  grid:\n    training.optimizer: [sgd, adam]\n    model.batch_norm: [false, true]\n`;
  const { config, sweep } = parsed(text);
  assert.ok(config && sweep);
  assert.deepEqual(sweep, {
    seeds: [3, 1],
    axes: [
      { key: 'training.optimizer', values: ['sgd', 'adam'] },
      { key: 'model.batch_norm', values: [false, true] },
    ],
  });
  const runs = expandSweep(config, sweep);
  assert.equal(runs.length, 2 * 2 * 2);
  assert.deepEqual(
    runs.map((r) => [r.point['training.optimizer'], r.point['model.batch_norm'], r.point['training.seed']]),
    [
      ['sgd', false, 3],
      ['sgd', false, 1],
      ['sgd', true, 3],
      ['sgd', true, 1],
      ['adam', false, 3],
      ['adam', false, 1],
      ['adam', true, 3],
      ['adam', true, 1],
    ],
  );
  for (const run of runs) {
    assert.equal(run.config.training.optimizer, run.point['training.optimizer']);
    assert.equal(run.config.model.batchNorm, run.point['model.batch_norm']);
    assert.equal(run.config.training.seed, run.point['training.seed']);
    assert.match(run.id, /^[0-9a-f]{12}$/);
  }
  assert.equal(new Set(runs.map((r) => r.id)).size, runs.length, 'ids are distinct');
});

test('default seeds are [0, 1, 2]; workers is carried through', () => {
  const { config, sweep } = parsed(`${BASE}sweep:\n  workers: 2\n  grid:\n    model.activation: [relu]\n`);
  assert.ok(config && sweep);
  assert.deepEqual(sweep.seeds, [0, 1, 2]);
  assert.equal(sweep.workers, 2);
  assert.equal(expandSweep(config, sweep).length, 3);
});

test('ids are stable: independent of key order, name, runs_dir and file; they change with the configuration', () => {
  const a = parsed(`name: a\n${BASE}sweep: {seeds: [0], grid: {training.learning_rate: [0.1, 0.01]}}\n`);
  const reordered = ['name: b', 'run: {runs_dir: /x/y}', 'sparsity:', '  dense_width: 10', '  method: random', 'model:', '  width: 100', 'sweep: {seeds: [0], grid: {training.learning_rate: [0.1, 0.01]}}', ''].join('\n');
  const b = parseExperiment(reordered, '/other/place/b.gradflow.yaml');
  assert.ok(a.config && a.sweep && b.config && b.sweep);
  const idsA = expandSweep(a.config, a.sweep).map((r) => r.id);
  const idsB = expandSweep(b.config, b.sweep).map((r) => r.id);
  assert.deepEqual(idsA, idsB);
  assert.notEqual(idsA[0], idsA[1]);
  // A single (non-sweep) config with the same settings has the same id as the matching sweep run.
  const single = parsed(`${BASE}training: {learning_rate: 0.01}\n`).config;
  assert.ok(single);
  assert.equal(configId(single), idsA[1]);
});

test('configId is sha256 of the canonical JSON without name and run.runsDir', () => {
  assert.equal(canonicalJson({ b: 1, a: [{ d: true, c: 'x' }], u: undefined }), '{"a":[{"c":"x","d":true}],"b":1}');
  const config = parsed(BASE).config;
  assert.ok(config);
  const { name: _n, run, ...rest } = config;
  void _n;
  const expected = createHash('sha256')
    .update(canonicalJson({ ...rest, run: { backend: run.backend } }))
    .digest('hex')
    .slice(0, 12);
  assert.equal(configId(config), expected);
});

test('derived settings follow each point: density axis re-derives dense_width, method axis re-derives pair', () => {
  const text = ['model: {width: 200}', 'sparsity: {method: random, dense_width: 20}', 'sweep:', '  seeds: [0]', '  grid:', '    sparsity.density: [0.25, 0.5]', ''].join('\n');
  const { config, sweep } = parsed(text);
  assert.ok(config && sweep);
  assert.deepEqual(expandSweep(config, sweep).map((r) => r.config.sparsity.denseWidth), [50, 100]);

  const methods = parsed(['sparsity: {method: random, dense_width: 20}', 'model: {width: 200}', 'sweep: {seeds: [0], grid: {sparsity.method: [none, random]}}', ''].join('\n'));
  assert.ok(methods.config && methods.sweep);
  assert.deepEqual(
    expandSweep(methods.config, methods.sweep).map((r) => [r.config.sparsity.method, r.config.sparsity.pair, r.config.sparsity.denseWidth]),
    [
      ['none', false, undefined],
      ['random', true, 20],
    ],
  );
});

test('an axis naming an unknown key is an error at the axis key, with did-you-mean', () => {
  const text = [...BASE.split('\n').slice(0, -1), 'sweep:', '  grid:', '    training.optimiser: [sgd]', '    batch_norm: [true]', '    model.xyzzy_quux: [1]', ''].join('\n');
  const result = parseExperiment(text, FILE);
  assert.equal(result.config, undefined);
  assert.equal(result.sweep, undefined);
  const optimiser = issueFor(result.issues, 'sweep.grid.training.optimiser');
  // Line 8 is "    training.optimiser: [sgd]": the key spans columns 5..22.
  assert.deepEqual(span(optimiser), [8, 5, 8, 23]);
  assert.equal(optimiser.message, "sweep axis names unknown key 'training.optimiser'; did you mean 'training.optimizer'?");
  assert.equal(optimiser.suggestion, 'training.optimizer');
  assert.equal(issueFor(result.issues, 'sweep.grid.batch_norm').suggestion, 'model.batch_norm');
  assert.match(issueFor(result.issues, 'sweep.grid.model.xyzzy_quux').message, /expected a dotted key path/);
});

test('axis values are validated against their key, positioned on the value', () => {
  const text = [...BASE.split('\n').slice(0, -1), 'sweep:', '  grid:', '    training.optimizer: [sgd, adm]', '    model.hidden_layers: [1, 0.5]', ''].join('\n');
  const issues = parseExperiment(text, FILE).issues;
  const adm = issueFor(issues, 'sweep.grid.training.optimizer.1');
  // "    training.optimizer: [sgd, " is 30 characters: 'adm' occupies columns 31..33.
  assert.deepEqual(span(adm), [8, 31, 8, 34]);
  assert.match(adm.message, /^unknown optimizer 'adm': .*did you mean 'adam'\?$/);
  assert.equal(issueFor(issues, 'sweep.grid.model.hidden_layers.1').message, 'expected an integer, found 0.5');
});

test('a combination that is invalid is reported on the axis value, naming the point', () => {
  const text = [...BASE.split('\n').slice(0, -1), 'sweep:', '  grid:', '    sparsity.dense_width: [5, 150]', ''].join('\n');
  const result = parseExperiment(text, FILE);
  assert.equal(result.config, undefined);
  const issue = issueFor(result.issues, 'sweep.grid.sparsity.dense_width.1');
  assert.deepEqual(span(issue), [8, 31, 8, 34]);
  assert.match(issue.message, /^in sweep point sparsity\.dense_width=150: sparsity\.dense_width: expected a dense width smaller than model\.width \(100\), found 150/);
});

test('forbidden axes and empty sweeps are errors', () => {
  const seedAxis = parseExperiment(`${BASE}sweep: {grid: {training.seed: [1, 2]}}\n`, FILE);
  assert.match(issueFor(seedAxis.issues, 'sweep.grid.training.seed').message, /use|sweep\.seeds/);
  const section = parseExperiment(`${BASE}sweep: {grid: {model: [1]}}\n`, FILE);
  assert.match(issueFor(section.issues, 'sweep.grid.model').message, /is a section/);
  const noSeeds = parseExperiment(`${BASE}sweep: {seeds: []}\n`, FILE);
  assert.equal(noSeeds.config, undefined);
  assert.match(issueFor(noSeeds.issues, 'sweep.seeds').message, /at least 1 value/);
  const emptyAxis = parseExperiment(`${BASE}sweep: {grid: {model.width: []}}\n`, FILE);
  assert.equal(emptyAxis.config, undefined);
  assert.match(issueFor(emptyAxis.issues, 'sweep.grid.model.width').message, /at least 1 value/);
  const dupSeed = parseExperiment(`${BASE}sweep: {seeds: [1, 1]}\n`, FILE);
  assert.match(issueFor(dupSeed.issues, 'sweep.seeds.1').message, /distinct/);
});

test('expandSweep on a programmatic spec validates values and throws ConfigError', () => {
  const config = parsed(BASE).config;
  assert.ok(config);
  const bad: SweepSpec = { seeds: [0], axes: [{ key: 'training.optimizer', values: ['adm'] }] };
  assert.throws(() => expandSweep(config, bad), (err: unknown) => err instanceof ConfigError && /unknown optimizer 'adm'/.test(err.message));
  assert.throws(() => expandSweep(config, { seeds: [], axes: [] }), ConfigError);
  assert.throws(() => expandSweep(config, { seeds: [0], axes: [{ key: 'model.width', values: [] }] }), ConfigError);
  // No axes: one run per seed.
  assert.equal(expandSweep(config, { seeds: [4, 5], axes: [] }).length, 2);
  // A config not produced by parseExperiment (a copy) still expands.
  const copy = JSON.parse(JSON.stringify(config)) as typeof config;
  const runs = expandSweep(copy, { seeds: [0], axes: [{ key: 'model.activation', values: ['elu', 'swish'] }] });
  assert.deepEqual(runs.map((r) => r.config.model.activation), ['elu', 'swish']);
  assert.equal(at(runs, 0).config.run.runsDir, config.run.runsDir);
});

test('an empty sweep section is a sweep over the default seeds', () => {
  const { config, sweep } = parsed(`${BASE}sweep:\n`);
  assert.ok(config && sweep);
  assert.deepEqual(sweep, { seeds: [0, 1, 2], axes: [] });
  assert.deepEqual(expandSweep(config, sweep).map((r) => r.config.training.seed), [0, 1, 2]);
});
