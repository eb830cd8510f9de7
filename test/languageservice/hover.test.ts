import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse, type ExperimentDocument } from '../../src/languageservice/document';
import { hover } from '../../src/languageservice/hover';
import { nodeAt, propertiesOf, type SchemaNode } from '../../src/config/schema';
import { keyEntries } from '../../src/config/positions';
import schemaJson from '../../src/config/gradflow.schema.json';
import { atCursor } from './cursor';

const schema = schemaJson as unknown as SchemaNode;

test('hover on a nested key shows its description, type, default and allowed values', () => {
  const { text, position } = atCursor('model:\n  hidden_layers: 2\n  activ|ation: relu  # comment\n');
  const h = hover(analyse(text), position, schema);
  assert.ok(h);
  assert.deepEqual(h.range, { start: { line: 2, character: 2 }, end: { line: 2, character: 12 } });
  const md = h.contents.value;
  assert.match(md, /^\*\*model\.activation\*\*/);
  assert.match(md, /Hidden activation/);
  assert.match(md, /Default: `relu`/);
  assert.match(md, /Allowed: `relu`, `prelu`, `elu`, `swish`, `srelu`, `srelu-slide`, `sigmoid`/);
});

test('hover on a value documents its key', () => {
  const { text, position } = atCursor('training:\n  learning_rate: 0.0|1\n');
  const h = hover(analyse(text), position, schema);
  assert.ok(h);
  assert.match(h.contents.value, /^\*\*training\.learning_rate\*\*: `number > 0`/);
  assert.match(h.contents.value, /Default: `0.001`/);
});

test('hover on a section key documents the section', () => {
  const { text, position } = atCursor('spar|sity:\n  method: random\n');
  const h = hover(analyse(text), position, schema);
  assert.ok(h);
  assert.match(h.contents.value, /SC-SDC/);
});

test('hover on a sweep grid axis documents the key it sweeps; an unknown axis falls back to the grid schema', () => {
  const { text, position } = atCursor('sweep:\n  grid:\n    training.optim|izer: [adam, sgd]\n');
  const h = hover(analyse(text), position, schema);
  assert.ok(h);
  assert.match(h.contents.value, /^Sweep axis: the values to try for `training.optimizer`/);
  assert.match(h.contents.value, /Optimizer: the paper's five/);
  const other = hover(...args('sweep:\n  grid:\n    nonsen|se: [1]\n'));
  assert.match(other?.contents.value ?? '', /Values to try/);
});

test('no hover on unknown keys, comments, blank lines or block-scalar text', () => {
  assert.equal(hover(...args('model:\n  colour|: red\n')), null);
  assert.equal(hover(...args('# a co|mment\nmodel:\n')), null);
  assert.equal(hover(...args('model:\n|\n')), null);
  assert.equal(hover(...args('name: >\n  wid|th: 3\n')), null);
});

test('every key of the schema has a hover with a description', () => {
  // Build a file holding every key path the schema declares (objects as sections), then hover each.
  const lines: string[] = [];
  const walk = (node: SchemaNode, path: string[]): void => {
    for (const [k, sub] of propertiesOf(node)) {
      const p = [...path, k];
      const isSection = sub.properties !== undefined;
      lines.push(`${'  '.repeat(path.length)}${k}:${isSection ? '' : ' x'}`);
      if (isSection) walk(sub, p);
    }
  };
  walk(schema, []);
  const text = lines.join('\n');
  const entries = keyEntries(text);
  assert.ok(entries.length > 40);
  for (const e of entries) {
    const h = hover(analyse(text), { line: e.line, character: e.keyStart }, schema);
    assert.ok(h, `hover for ${e.path.join('.')}`);
    assert.ok(nodeAt(schema, e.path)?.description, `${e.path.join('.')} has a description`);
    assert.ok(h.contents.value.split('\n\n').length >= 2, `${e.path.join('.')} hover has text`);
  }
});

function args(marked: string): [ExperimentDocument, { line: number; character: number }, SchemaNode] {
  const { text, position } = atCursor(marked);
  return [analyse(text), position, schema];
}

test('hover on a key of a sweep.linked item documents the key it sets', () => {
  const h = hover(...args('sweep:\n  linked:\n    - training.optimizer: sgd\n      training.learn|ing_rate: 0.05\n'));
  assert.ok(h);
  assert.match(h.contents.value, /^Linked sweep setting: `training.learning_rate`/);
  assert.match(h.contents.value, /Constant learning rate/);
  assert.match(hover(...args('sweep:\n  lin|ked:\n    - {model.width: 3}\n'))?.contents.value ?? '', /Settings that go together/);
});
