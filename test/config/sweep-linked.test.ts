import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/config/parse';
import { configId, expandSweep } from '../../src/config/sweep';
import { ConfigError, type SweepSpec } from '../../src/config/types';
import { FILE, issueFor, span } from './helpers';
import { at } from '../../src/shared/checked';

const BASE = ['model:', '  width: 100', 'sparsity:', '  method: random', '  dense_width: 10', ''].join('\n');
/** Lines 1-5 are BASE; the sweep starts on line 6. */
const LINKED = [
  'sweep:',
  '  seeds: [0, 1]',
  '  grid:',
  '    model.batch_norm: [false, true]',
  '  linked:',
  '    - { training.optimizer: sgd, training.learning_rate: 0.05 }',
  '    - { training.optimizer: adam, training.learning_rate: 0.001 }',
  '',
].join('\n');

function parsed(text: string) {
  const result = parseExperiment(text, FILE);
  assert.ok(result.config && result.sweep, JSON.stringify(result.issues, null, 1));
  return { config: result.config, sweep: result.sweep };
}

function single(text: string) {
  const result = parseExperiment(text, FILE);
  assert.ok(result.config, JSON.stringify(result.issues, null, 1));
  return result.config;
}

test('a linked axis: items taken together, crossed with the grid after its axes, seeds innermost', () => {
  const { config, sweep } = parsed(BASE + LINKED);
  assert.deepEqual(sweep.axes, [
    { key: 'model.batch_norm', values: [false, true] },
    {
      linked: [
        { 'training.optimizer': 'sgd', 'training.learning_rate': 0.05 },
        { 'training.optimizer': 'adam', 'training.learning_rate': 0.001 },
      ],
    },
  ]);
  const runs = expandSweep(config, sweep);
  assert.equal(runs.length, 2 * 2 * 2);
  assert.deepEqual(
    runs.map((r) => Object.entries(r.point).map(([k, v]) => `${k}=${String(v)}`).join(' ')),
    [
      'model.batch_norm=false training.optimizer=sgd training.learning_rate=0.05 training.seed=0',
      'model.batch_norm=false training.optimizer=sgd training.learning_rate=0.05 training.seed=1',
      'model.batch_norm=false training.optimizer=adam training.learning_rate=0.001 training.seed=0',
      'model.batch_norm=false training.optimizer=adam training.learning_rate=0.001 training.seed=1',
      'model.batch_norm=true training.optimizer=sgd training.learning_rate=0.05 training.seed=0',
      'model.batch_norm=true training.optimizer=sgd training.learning_rate=0.05 training.seed=1',
      'model.batch_norm=true training.optimizer=adam training.learning_rate=0.001 training.seed=0',
      'model.batch_norm=true training.optimizer=adam training.learning_rate=0.001 training.seed=1',
    ],
  );
  for (const run of runs) {
    assert.equal(run.config.training.optimizer, run.point['training.optimizer']);
    assert.equal(run.config.training.learningRate, run.point['training.learning_rate']);
    assert.equal(run.config.model.batchNorm, run.point['model.batch_norm']);
  }
  assert.equal(new Set(runs.map((r) => r.id)).size, runs.length);
});

test('linked written above grid is the outermost axis; block-style items work too', () => {
  const text = [
    BASE.trimEnd(),
    'sweep:',
    '  seeds: [0]',
    '  linked:',
    '    - training.optimizer: sgd',
    '      training.learning_rate: 0.05',
    '    - training.learning_rate: 0.001', // key order differs: points follow the first item's order
    '      training.optimizer: adam',
    '  grid:',
    '    model.batch_norm: [false, true]',
    '',
  ].join('\n');
  const { config, sweep } = parsed(text);
  assert.ok('linked' in at(sweep.axes, 0));
  const runs = expandSweep(config, sweep);
  assert.deepEqual(
    runs.map((r) => [r.point['training.optimizer'], r.point['model.batch_norm']]),
    [
      ['sgd', false],
      ['sgd', true],
      ['adam', false],
      ['adam', true],
    ],
  );
  assert.deepEqual(Object.keys(at(runs, 2).point), ['training.optimizer', 'training.learning_rate', 'model.batch_norm', 'training.seed']);
});

test('ids are the ids of the same configurations however they are swept (crossed grid, linked, single file)', () => {
  const linked = parsed(BASE + LINKED);
  const crossed = parsed(
    `${BASE}sweep:\n  seeds: [0, 1]\n  grid:\n    model.batch_norm: [false, true]\n    training.optimizer: [sgd, adam]\n    training.learning_rate: [0.05, 0.001]\n`,
  );
  const crossedIds = new Map(expandSweep(crossed.config, crossed.sweep).map((r) => [JSON.stringify(r.point), r.id]));
  for (const run of expandSweep(linked.config, linked.sweep)) {
    const p = run.point;
    const key = JSON.stringify({ 'model.batch_norm': p['model.batch_norm'], 'training.optimizer': p['training.optimizer'], 'training.learning_rate': p['training.learning_rate'], 'training.seed': p['training.seed'] });
    assert.equal(run.id, crossedIds.get(key), key);
  }
  // The last run (batch_norm true, adam at 0.001, seed 1) has the id of the same single file.
  const file = 'model: {width: 100, batch_norm: true}\nsparsity: {method: random, dense_width: 10}\ntraining: {optimizer: adam, learning_rate: 0.001, seed: 1}\n';
  assert.equal(configId(single(file)), expandSweep(linked.config, linked.sweep).at(-1)?.id);
});

test('linked values are validated against their key, positioned on the value', () => {
  const text = [
    BASE.trimEnd(),
    'sweep:',
    '  linked:',
    '    - { training.optimizer: sgd, training.learning_rate: 0.05 }',
    '    - { training.optimizer: adm, training.learning_rate: -1 }',
    '',
  ].join('\n');
  const result = parseExperiment(text, FILE);
  assert.equal(result.config, undefined);
  const adm = issueFor(result.issues, 'sweep.linked.1.training.optimizer');
  // Line 9 is "    - { training.optimizer: adm, …": 'adm' occupies columns 29..31.
  assert.deepEqual(span(adm), [9, 29, 9, 32]);
  assert.match(adm.message, /^unknown optimizer 'adm': .*did you mean 'adam'\?$/);
  const lr = issueFor(result.issues, 'sweep.linked.1.training.learning_rate');
  assert.deepEqual(span(lr), [9, 58, 9, 60]);
  assert.equal(lr.message, 'expected a number greater than 0, found -1');
});

test('unknown and forbidden keys in a linked item: at the key, with did-you-mean', () => {
  const text = [
    BASE.trimEnd(),
    'sweep:',
    '  linked:',
    '    - training.optimiser: sgd',
    '      training.seed: 3',
    '    - training.optimiser: adam',
    '      training.seed: 4',
    '',
  ].join('\n');
  const result = parseExperiment(text, FILE);
  assert.equal(result.config, undefined);
  const typo = issueFor(result.issues, 'sweep.linked.0.training.optimiser');
  assert.deepEqual(span(typo), [8, 7, 8, 25]);
  assert.equal(typo.message, "sweep axis names unknown key 'training.optimiser'; did you mean 'training.optimizer'?");
  assert.equal(typo.suggestion, 'training.optimizer');
  assert.equal(typo.code, 'unknown-key');
  assert.match(issueFor(result.issues, 'sweep.linked.1.training.seed').message, /cannot be a sweep axis: seeds are swept with 'sweep\.seeds'/);
  // Items with bad keys are not also reported as having different keys.
  assert.ok(!result.issues.some((i) => /same keys/.test(i.message)));
});

test('items that set different keys: an error on each item that lacks a key, naming it', () => {
  const text = [
    BASE.trimEnd(),
    'sweep:',
    '  linked:',
    '    - { training.optimizer: sgd, training.learning_rate: 0.05 }',
    '    - { training.optimizer: adam }',
    '    - { training.optimizer: rmsprop, training.learning_rate: 0.01 }',
    '',
  ].join('\n');
  const result = parseExperiment(text, FILE);
  assert.equal(result.config, undefined);
  const errors = result.issues.filter((i) => i.severity === 'error');
  assert.equal(errors.length, 1, JSON.stringify(errors));
  const issue = issueFor(errors, 'sweep.linked.1');
  assert.deepEqual(span(issue), [9, 7, 9, 35]);
  assert.equal(issue.message, "linked item 2 does not set 'training.learning_rate', which item 1 sets: every linked item must set the same keys");
  const empty = parseExperiment(`${BASE}sweep:\n  linked:\n    - {}\n`, FILE);
  assert.match(issueFor(empty.issues, 'sweep.linked.0').message, /^linked item 1 sets no key/);
});

test('a key both in grid and in linked is an error at the linked key (also for density vs dense_width)', () => {
  const text = [
    BASE.trimEnd(),
    'sweep:',
    '  grid:',
    '    training.optimizer: [sgd, adam]',
    '    sparsity.density: [0.1, 0.5]',
    '  linked:',
    '    - { training.optimizer: sgd, sparsity.dense_width: 20 }',
    '    - { training.optimizer: adam, sparsity.dense_width: 30 }',
    '',
  ].join('\n');
  const result = parseExperiment(text, FILE);
  assert.equal(result.config, undefined);
  const opt = issueFor(result.issues, 'sweep.linked.0.training.optimizer');
  // Line 11: "    - { training.optimizer: sgd, …": the key spans columns 9..26.
  assert.deepEqual(span(opt), [11, 9, 11, 27]);
  assert.equal(opt.message, "'training.optimizer' is also a grid axis: a setting is swept either in 'grid' or in 'linked', not both");
  assert.equal(opt.code, 'conflict');
  assert.match(issueFor(result.issues, 'sweep.linked.1.sparsity.dense_width').message, /two spellings of one setting/);
  // No combination was tried (no "in sweep point" errors).
  assert.ok(!result.issues.some((i) => /in sweep point/.test(i.message)));
});

test('schema checks of the linked list: not empty, distinct items, items are mappings', () => {
  const empty = parseExperiment(`${BASE}sweep:\n  linked: []\n`, FILE);
  assert.match(issueFor(empty.issues, 'sweep.linked').message, /at least 1 value/);
  const dup = parseExperiment(`${BASE}sweep:\n  linked:\n    - {model.width: 50}\n    - {model.width: 50}\n`, FILE);
  assert.match(issueFor(dup.issues, 'sweep.linked.1').message, /distinct/);
  const scalar = parseExperiment(`${BASE}sweep:\n  linked:\n    - training.optimizer\n`, FILE);
  assert.match(issueFor(scalar.issues, 'sweep.linked.0').message, /expected a mapping/);
});

test('a combination that is invalid is reported on the linked value that set the key', () => {
  const text = [BASE.trimEnd(), 'sweep:', '  linked:', '    - { model.width: 200, sparsity.dense_width: 20 }', '    - { model.width: 50, sparsity.dense_width: 60 }', ''].join('\n');
  const result = parseExperiment(text, FILE);
  assert.equal(result.config, undefined);
  const issue = issueFor(result.issues, 'sweep.linked.1.sparsity.dense_width');
  // Line 9: "    - { model.width: 50, sparsity.dense_width: 60 }": '60' at columns 48..49.
  assert.deepEqual(span(issue), [9, 48, 9, 50]);
  assert.match(issue.message, /^in sweep point model\.width=50, sparsity\.dense_width=60: sparsity\.dense_width: expected a dense width smaller than model\.width \(50\)/);
});

test('expandSweep on a programmatic spec with a linked axis validates keys and values', () => {
  const config = single(BASE);
  const spec: SweepSpec = { seeds: [0], axes: [{ linked: [{ 'training.optimizer': 'sgd', 'training.learning_rate': 0.05 }, { 'training.optimizer': 'adam', 'training.learning_rate': 0.001 }] }] };
  assert.deepEqual(expandSweep(config, spec).map((r) => r.config.training.learningRate), [0.05, 0.001]);
  const bad = (axes: SweepSpec['axes'], re: RegExp) => assert.throws(() => expandSweep(config, { seeds: [0], axes }), (err: unknown) => err instanceof ConfigError && re.test(err.message));
  bad([{ linked: [{ 'training.optimizer': 'adm' }] }], /unknown optimizer 'adm'/);
  bad([{ linked: [{ 'training.optimiser': 'adam' }] }], /did you mean 'training\.optimizer'/);
  bad([{ linked: [] }], /at least one item/);
  bad([{ linked: [{ 'model.width': 50 }, { 'model.skip': true }] }], /every linked item must set the same keys/);
  bad([{ key: 'model.width', values: [50] }, { linked: [{ 'model.width': 60 }] }], /also a grid axis/);
});
