/**
 * Hover, completion and the code lens read the file through the YAML parser's positions
 * (`config/positions.ts` `keyEntries`), not a line reader: the cases a line reader got wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../src/languageservice/document';
import { keyEntries } from '../../src/config/positions';
import { codeLens } from '../../src/languageservice/codelens';
import { completion } from '../../src/languageservice/completion';
import { hover } from '../../src/languageservice/hover';
import { atCursor } from './cursor';
import { at } from '../../src/shared/checked';

function hoverTitle(marked: string): string | undefined {
  const { text, position } = atCursor(marked);
  return hover(analyse(text), position)?.contents.value.split('\n')[0];
}

function labels(marked: string): string[] {
  const { text, position } = atCursor(marked);
  return completion(analyse(text), position).map((i) => i.label);
}

test('key entries: paths, columns of key, colon and value; comments, quotes, flow mappings, block scalars', () => {
  const text = [
    '# header', //                                   0
    'model:   # the net', //                         1
    '  width: 300   # h_S', //                       2
    '  "batch_norm": true', //                       3
    '',
    'training: {optimizer: sgd, epochs: 2}', //      5
    'name: "a # not: a comment"', //                 6
    'run: |', //                                     7
    '  backend: cpu', //                             8
  ].join('\n');
  const e = keyEntries(text);
  assert.deepEqual(e.map((x) => [x.line, x.path.join('.'), x.valueKind, x.value, x.inFlow]), [
    [1, 'model', 'block', '', false],
    [2, 'model.width', 'scalar', '300', false],
    [3, 'model.batch_norm', 'scalar', 'true', false],
    [5, 'training', 'flow', '{optimizer: sgd, epochs: 2}', false],
    [5, 'training.optimizer', 'scalar', 'sgd', true],
    [5, 'training.epochs', 'scalar', '2', true],
    [6, 'name', 'scalar', '"a # not: a comment"', false],
    [7, 'run', 'text', '', false],
  ]);
  const width = at(e, 1);
  assert.deepEqual([width.keyStart, width.keyEnd, width.colon, width.valueStart, width.valueEnd], [2, 7, 7, 9, 12]);
  assert.equal(at(e, 2).keyEnd, 14); // the quotes are part of the key's text
  assert.deepEqual(at(e, 3).flowClose, { at: { line: 5, character: 36 }, empty: false });
  assert.deepEqual(keyEntries('a: [1\n  b: {\n'), keyEntries('a: [1\n  b: {\n')); // a broken file: no throw
});

test('hover inside flow mappings documents the key under the cursor, not the line\'s first key', () => {
  assert.match(hoverTitle('model: {width: 3, activ|ation: relu}\n') ?? '', /^\*\*model\.activation\*\*/);
  assert.match(hoverTitle('model: {width: 3, activation: re|lu}\n') ?? '', /^\*\*model\.activation\*\*/);
  assert.match(hoverTitle('mod|el: {width: 3}\n') ?? '', /^\*\*model\*\*/);
  assert.match(hoverTitle('sweep:\n  linked: [{training.optimizer: sgd}, {training.learn|ing_rate: 0.1}]\n') ?? '', /^Linked sweep setting: `training.learning_rate`/);
  // A key split over two lines of a flow mapping.
  assert.match(hoverTitle('model: {width: 3,\n  activ|ation: relu}\n') ?? '', /^\*\*model\.activation\*\*/);
  // Quoted keys and a `#` in a quoted value.
  assert.match(hoverTitle('"model":\n  \'wid|th\': 3\n') ?? '', /^\*\*model\.width\*\*/);
  assert.equal(hoverTitle('name: "x # y: z"\nmodel:\n  # wid|th: 3\n'), undefined);
});

test('completion: values inside a flow mapping; sections found by the parser around comments and flow values', () => {
  assert.deepEqual(labels('training: {epochs: 2, optimizer: ad|}\n'), ['sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad']);
  // Keys set in a flow mapping on the section's line are present; a comment line at column 0 does not end the section.
  const inSection = labels('model: {width: 3}\ntraining:\n  optimizer: sgd\n# a note\n  epo|\n');
  assert.ok(!inSection.includes('optimizer') && inSection.includes('epochs'));
  // Keys sharing a prefix: the axis `model.width` is present; `model.width_x` (unknown) hides nothing.
  const prefixed = labels('sweep:\n  grid:\n    model.width_x: [1]\n    model.width: [8, 16]\n    |\n');
  assert.ok(!prefixed.includes('model.width') && prefixed.includes('model.hidden_layers') && prefixed.includes('sparsity.dense_width'));
  assert.ok(labels('model:\n  width_note: 3\n  |\n').includes('width'));
  // The key being typed does not swallow the next line's key.
  assert.ok(!labels('training:\n  lea|\n  epochs: 3\n').includes('epochs'));
});

test('the code lens sees a sweep section written in flow style or with a quoted key', () => {
  assert.equal(codeLens(analyse('"sweep": {seeds: [1, 2]}\n', 'file:///x.gradflow.yaml')).length, 2);
  assert.equal(codeLens(analyse('name: x  # sweep: no\n', 'file:///x.gradflow.yaml')).length, 1);
});
