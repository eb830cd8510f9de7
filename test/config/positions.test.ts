import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/config/parse';
import { keyRange } from '../../src/config/positions';
import { FILE, span } from './helpers';

const TEXT = [
  '# comment line',
  'model:',
  '  activation: relu   # trailing comment',
  '  batch_norm: true',
  'training:',
  '  learning_rate: 0.1',
  'sweep:',
  '  seeds: [0, 7]',
  '',
].join('\n');

test('keyRange of present keys covers the key and its value (not the trailing comment)', () => {
  const result = parseExperiment(TEXT, FILE);
  assert.deepEqual(result.issues, []);
  const lr = keyRange(result, 'training.learning_rate');
  assert.ok(lr);
  // "  learning_rate: 0.1": key at column 3, value ends after column 20.
  assert.deepEqual(span(lr), [6, 3, 6, 21]);
  assert.equal(TEXT.slice(lr.offset, lr.endOffset), 'learning_rate: 0.1');
  const act = keyRange(result, 'model.activation');
  assert.ok(act);
  assert.deepEqual(span(act), [3, 3, 3, 19]);
  assert.deepEqual(span(keyRange(result, 'model.batch_norm') ?? assert.fail()), [4, 3, 4, 19]);
  // A section spans from its key to the end of its last value.
  assert.deepEqual(span(keyRange(result, 'model') ?? assert.fail()), [2, 1, 4, 19]);
  // List items are addressed by index.
  // "  seeds: [0, 7]": the 7 is in column 14.
  assert.deepEqual(span(keyRange(result, 'sweep.seeds.1') ?? assert.fail()), [8, 14, 8, 15]);
});

test('keyRange accepts camelCase paths of ExperimentConfig', () => {
  const result = parseExperiment(TEXT, FILE);
  assert.deepEqual(keyRange(result, 'training.learningRate'), keyRange(result, 'training.learning_rate'));
  assert.deepEqual(keyRange(result, 'model.batchNorm'), keyRange(result, 'model.batch_norm'));
});

test('absent keys map to the key of the nearest section present, else to line 1', () => {
  const result = parseExperiment(TEXT, FILE);
  // training.optimizer is not in the file: the `training` key (line 5, columns 1..8).
  assert.deepEqual(span(keyRange(result, 'training.optimizer') ?? assert.fail()), [5, 1, 5, 9]);
  assert.deepEqual(span(keyRange(result, 'model.skip') ?? assert.fail()), [2, 1, 2, 6]);
  // No `monitoring` section at all: line 1 ("# comment line", 14 characters).
  assert.deepEqual(span(keyRange(result, 'monitoring.explosion.max_norm') ?? assert.fail()), [1, 1, 1, 15]);
  assert.equal(keyRange(result, ''), undefined);
});

test('keyRange works on a text, and on a text with errors', () => {
  assert.deepEqual(span(keyRange(TEXT, 'model.activation') ?? assert.fail()), [3, 3, 3, 19]);
  const broken = 'training:\n  optimizer: adm\n  learning_rate: 5\n';
  assert.deepEqual(span(keyRange(broken, 'training.learning_rate') ?? assert.fail()), [3, 3, 3, 19]);
  assert.deepEqual(parseExperiment(broken, FILE).keyRanges.get('training.optimizer') && span(parseExperiment(broken, FILE).keyRanges.get('training.optimizer') ?? assert.fail()), [2, 3, 2, 17]);
});

test('an empty section value: the key stands for its own range', () => {
  const result = parseExperiment('model:\ntraining:\n  epochs: 2\n', FILE);
  assert.ok(result.config, JSON.stringify(result.issues));
  assert.deepEqual(span(keyRange(result, 'model') ?? assert.fail()), [1, 1, 1, 6]);
  assert.deepEqual(span(keyRange(result, 'model.width') ?? assert.fail()), [1, 1, 1, 6]);
});
