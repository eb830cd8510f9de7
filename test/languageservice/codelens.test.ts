import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../src/languageservice/document';
import { codeLens } from '../../src/languageservice/codelens';

const uri = 'file:///w/a.gradflow.yaml';
const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

test('a plain experiment gets one run lens at the top', () => {
  assert.deepEqual(codeLens(analyse('# header\nmodel:\n  width: 3\n', uri)), [
    { range: top, command: { title: '▶ Run experiment', command: 'gradflow.run', arguments: [uri] } },
  ]);
});

test('a file with a sweep section also gets a sweep lens; a nested `sweep` key does not count', () => {
  assert.equal(codeLens(analyse('model:\n  sweep: 1\n', uri)).length, 1);
  const lenses = codeLens(analyse('model:\n  width: 3\nsweep:\n  seeds: [0, 1]\n', uri));
  assert.deepEqual(lenses.map((l) => [l.command.title, l.command.command]), [
    ['▶ Run experiment', 'gradflow.run'],
    ['▶ Run sweep', 'gradflow.runSweep'],
  ]);
});
