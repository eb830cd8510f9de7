import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outline, parentPathAt, commentColumn } from '../../src/languageservice/outline';

test('key paths, columns of key and value, trailing comments', () => {
  const text = [
    '# header', //                           0
    'model:   # the net', //                 1
    '  width: 300   # h_S', //               2
    '  "batch_norm": true', //               3
    '',
    'training:', //                          5
    '    learning_rate: 1e-3', //            6
    'name: "a # not a comment"', //          7
  ].join('\n');
  const e = outline(text);
  assert.deepEqual(e.map((x) => [x.line, x.path.join('.'), x.value]), [
    [1, 'model', ''],
    [2, 'model.width', '300'],
    [3, 'model.batch_norm', 'true'],
    [5, 'training', ''],
    [6, 'training.learning_rate', '1e-3'],
    [7, 'name', '"a # not a comment"'],
  ]);
  const width = e[1];
  assert.deepEqual([width.keyStart, width.keyEnd, width.colon, width.valueStart, width.valueEnd, width.commentStart], [2, 7, 7, 9, 12, 15]);
  assert.equal(e[2].keyEnd, 14); // the quotes are part of the key's text
});

test('block scalars are text, list items are skipped into their parent', () => {
  const text = ['name: |', '  width: 3', '  still text', 'sweep:', '  seeds:', '    - 0', '  grid:', '    model.width: [1, 2]'].join('\n');
  assert.deepEqual(outline(text).map((x) => x.path.join('.')), ['name', 'sweep', 'sweep.seeds', 'sweep.grid', 'sweep.grid.model.width']);
});

test('parent path of a position by indentation', () => {
  const text = ['model:', '  width: 3', '', 'training:', '  epochs: 1', '  '].join('\n');
  const e = outline(text);
  assert.deepEqual(parentPathAt(e, 2, 2), ['model']);
  assert.deepEqual(parentPathAt(e, 2, 0), []);
  assert.deepEqual(parentPathAt(e, 5, 2), ['training']);
});

test('comment column ignores # inside quotes and without preceding space', () => {
  assert.equal(commentColumn('a: "x # y" # z', 2), 11);
  assert.equal(commentColumn('a: x#y', 2), undefined);
});
