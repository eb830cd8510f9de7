/**
 * The language service on the conv-net keys: completion and hover document them (from the schema),
 * problems land on their lines, and training alerts of a conv run map to their keys with quick fixes
 * that edit them (lines hand-counted in each file below).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../src/languageservice/document';
import { completion } from '../../src/languageservice/completion';
import { hover } from '../../src/languageservice/hover';
import { validate } from '../../src/languageservice/validate';
import { responsibleRanges } from '../../src/languageservice/alert-rules';
import { fixesFor } from '../../src/languageservice/quick-fixes';
import { applyEdits } from '../../src/languageservice/yaml-edit';
import { parseExperiment } from '../../src/config/parse';
import { fileKeys } from '../../src/config/keys';
import { primaryKey } from '../../src/config/remedies';
import { GRADFLOW_SCHEMA } from '../../src/config/schema';
import type { Alert } from '../../src/shared/protocol';
import type { ExperimentConfig } from '../../src/shared/experiment';
import { atCursor } from './cursor';
import { at } from '../../src/shared/checked';

const uri = 'file:///tmp/ws/conv.gradflow.yaml';

function complete(marked: string) {
  const { text, position } = atCursor(marked);
  return completion(analyse(text), position, GRADFLOW_SCHEMA);
}

function hoverText(marked: string): string {
  const { text, position } = atCursor(marked);
  const h = hover(analyse(text), position, GRADFLOW_SCHEMA);
  assert.ok(h, marked);
  return h.contents.value;
}

test('completion under model: every architecture key, documented from the schema; a written architecture hides the others', () => {
  const all = complete('model:\n  |\n');
  assert.deepEqual(
    all.map((i) => i.label),
    ['architecture', 'hidden_layers', 'width', 'activation', 'batch_norm', 'skip', 'channels', 'pool', 'depth', 'widen_factor', 'block'],
  );
  const channels = all.find((i) => i.label === 'channels');
  assert.match(channels?.documentation?.value ?? '', /`cnn` only: output channels of each conv block/);
  const block = all.find((i) => i.label === 'block');
  assert.equal(block?.textEdit.newText, 'block: ${1|basic,bottleneck|}');
  const depth = all.find((i) => i.label === 'depth');
  assert.equal(depth?.textEdit.newText, 'depth: ${1:16}');
  assert.deepEqual(complete('model:\n  architecture: cnn\n  |\n').map((i) => i.label), ['activation', 'batch_norm', 'skip', 'channels', 'pool']);
  assert.deepEqual(complete('model:\n  |\n  architecture: "wrn"\n').map((i) => i.label), ['activation', 'batch_norm', 'skip', 'depth', 'widen_factor', 'block']);
  assert.deepEqual(complete('model:\n  architecture: mlp\n  |\n').map((i) => i.label), ['hidden_layers', 'width', 'activation', 'batch_norm', 'skip']);
  const twin = complete('model: {architecture: wrn}\nsparsity:\n  method: random\n  |\n').map((i) => i.label);
  assert.ok(twin.includes('dense_widen_factor') && twin.includes('density') && !twin.includes('dense_width'));
});

test('completion of values: architecture, block, pool', () => {
  assert.deepEqual(complete('model:\n  architecture: |\n').map((i) => i.label), ['mlp', 'cnn', 'wrn']);
  const arch = complete('model:\n  architecture: |\n');
  assert.equal(at(arch, 0).detail, 'model.architecture (default)');
  assert.match(at(arch, 0).documentation?.value ?? '', /Wide ResNet/);
  assert.deepEqual(complete('model:\n  block: b|\n').map((i) => i.label), ['basic', 'bottleneck']);
  assert.deepEqual(complete('model:\n  pool: |\n').map((i) => i.label), ['auto']);
  assert.ok(complete('sparsity:\n  |\n').some((i) => i.label === 'dense_widen_factor'));
  assert.ok(complete('dataset:\n  synthetic:\n    |\n').some((i) => i.label === 'shape'));
});

test('hover documents the new keys with type and default', () => {
  const ch = hoverText('model:\n  architecture: cnn\n  chan|nels: [8, 16]\n');
  assert.match(ch, /^\*\*model\.channels\*\*: `array`/);
  assert.match(ch, /Default: `\[32,64,64,128,128\]`/);
  assert.match(hoverText('model:\n  po|ol: auto\n'), /2×2 max-pooling/);
  assert.match(hoverText('model:\n  wid|en_factor: 4\n'), /^\*\*model\.widen_factor\*\*: `integer ≥ 1, ≤ 64`/);
  assert.match(hoverText('model:\n  dep|th: 16\n'), /\(d − 4\) divisible by 6/);
  assert.match(hoverText('model:\n  architecture: wr|n\n'), /Allowed: `mlp`, `cnn`, `wrn`/);
  assert.match(hoverText('sparsity:\n  dense_widen|_factor: 2\n'), /density` = k_D \/ k/);
  assert.match(hoverText('dataset:\n  synthetic:\n    sha|pe: [8, 8, 3]\n'), /Image shape \[height, width, channels\]/);
  assert.match(hoverText('model:\n  batch_no|rm: true\n'), /`wrn` always has BatchNorm/);
});

test('problems land on their lines: an MLP key with a cnn, a wrn on Fashion-MNIST, a bad depth', () => {
  const text = ['model:', '  architecture: wrn', '  depth: 18', '  hidden_layers: 3', ''].join('\n');
  const diags = validate(analyse(text, uri));
  const by = (key: string) => diags.find((d) => d.message.startsWith(`${key}: `));
  const arch = by('model.architecture');
  assert.equal(arch?.severity, 1);
  assert.equal(arch?.range.start.line, 1);
  assert.match(arch?.message ?? '', /32×32 inputs/);
  assert.deepEqual(by('model.depth')?.range, { start: { line: 2, character: 9 }, end: { line: 2, character: 11 } });
  const hidden = by('model.hidden_layers');
  assert.equal(hidden?.severity, 2);
  assert.deepEqual(hidden?.range, { start: { line: 3, character: 2 }, end: { line: 3, character: 15 } });
});

// A sparse simple CNN on Fashion-MNIST (0-based lines).
const CNN = [
  'model:', //                               0
  '  architecture: cnn', //                  1
  '  channels: [8, 16, 16]   # small', //    2
  '  activation: relu', //                   3
  'sparsity:', //                            4
  '  method: random', //                     5
  '  density: 0.25', //                      6
  'training:', //                            7
  '  learning_rate: 0.1', //                 8
  '',
].join('\n');

// A sparse WRN-16-4 on CIFAR-10 whose twin is given by its widen factor.
const WRN = [
  'dataset:', //                              0
  '  name: cifar10', //                       1
  'model:', //                                2
  '  architecture: wrn', //                   3
  '  depth: 16', //                           4
  '  widen_factor: 4', //                     5
  'sparsity:', //                             6
  '  method: magnitude', //                   7
  '  dense_widen_factor: 1', //               8
  '',
].join('\n');

function resolved(text: string): ExperimentConfig {
  const r = parseExperiment(text, '/tmp/ws/conv.gradflow.yaml');
  assert.ok(r.config, JSON.stringify(r.issues));
  return r.config;
}

const alert = (kind: Alert['kind'], layer = 2): Alert => ({ net: 'sparse', kind, step: 300, layer, value: 1e-9, message: 'masked L2 norm below min_norm', severity: 'warning' });

test('a collapse on a conv layer maps to the density first, then model.channels; an explosion to the learning rate', () => {
  const config = resolved(CNN);
  const keys = fileKeys(parseExperiment(CNN, '/tmp/ws/conv.gradflow.yaml'));
  assert.equal(primaryKey(alert('collapse'), config), 'sparsity.density');
  const ranges = responsibleRanges({ ...alert('collapse'), key: 'sparsity.density' }, config, keys);
  assert.deepEqual(
    ranges.map((r) => [r.key, r.range.start.line, r.primary]),
    [
      ['sparsity.density', 6, true],
      ['model.channels', 2, false],
      ['model.activation', 3, false],
      // batch_norm is absent: it points at the model section's line.
      ['model.batch_norm', 0, false],
    ],
  );
  assert.match(at(ranges, 1).hint, /widen the blocks \(model\.channels\)/);
  assert.equal(primaryKey(alert('explosion'), config), 'training.learning_rate');
  const explosion = responsibleRanges({ ...alert('explosion'), key: 'training.learning_rate' }, config, keys);
  assert.deepEqual([at(explosion, 0).key, at(explosion, 0).range.start.line], ['training.learning_rate', 8]);
});

test('a wrn collapse maps to the dense widen factor the file writes, then widen_factor and depth; never to BatchNorm', () => {
  const config = resolved(WRN);
  const keys = fileKeys(parseExperiment(WRN, '/tmp/ws/conv.gradflow.yaml'));
  const key = primaryKey(alert('collapse'), config);
  assert.ok(key !== undefined);
  const ranges = responsibleRanges({ ...alert('collapse'), key }, config, keys);
  assert.deepEqual(
    ranges.map((r) => [r.key, r.range.start.line]),
    [
      ['sparsity.dense_widen_factor', 8],
      ['model.widen_factor', 5],
      ['model.activation', 2],
      ['model.depth', 4],
    ],
  );
  assert.ok(!ranges.some((r) => r.key === 'model.batch_norm'));
  const explosion = responsibleRanges(alert('explosion'), config, keys);
  assert.ok(!explosion.some((r) => r.key === 'model.batch_norm'), 'a wrn already has BatchNorm');
});

test('collapse quick fixes on a cnn: raise the density, widen the channels (flow list, comment kept), add BatchNorm', () => {
  const fixes = fixesFor('collapse', analyse(CNN), resolved(CNN));
  assert.deepEqual(
    fixes.map((f) => [f.id, f.title, f.preferred]),
    [
      ['raise-density', 'Raise the density (0.25 → 0.5)', true],
      ['widen-net', 'Widen the conv blocks (channels [8, 16, 16] → [16, 32, 32])', false],
      ['add-batch-norm', 'Add BatchNorm (model.batch_norm: true)', false],
      ['switch-activation', 'Switch activation to swish', false],
      ['switch-activation', 'Switch activation to prelu', false],
    ],
  );
  const widened = applyEdits(CNN, at(fixes, 1).edits);
  assert.equal(widened.split('\n')[2], '  channels: [16, 32, 32]   # small');
  assert.ok(resolved(widened).model.channels?.every((c, i) => c === [16, 32, 32][i]));
  assert.equal(applyEdits(CNN, at(fixes, 0).edits).split('\n')[6], '  density: 0.5');
});

test('widening a cnn whose channels are a block list offers no edit (never a broken file); absent channels are written', () => {
  const block = CNN.replace('  channels: [8, 16, 16]   # small', '  channels:\n    - 8\n    - 16');
  const ids = fixesFor('collapse', analyse(block), resolved(block)).map((f) => f.id);
  assert.ok(!ids.includes('widen-net'));
  const absent = CNN.replace('  channels: [8, 16, 16]   # small\n', '');
  const fix = fixesFor('collapse', analyse(absent), resolved(absent)).find((f) => f.id === 'widen-net');
  assert.ok(fix);
  const out = applyEdits(absent, fix.edits);
  assert.deepEqual(resolved(out).model.channels, [64, 128, 128, 256, 256]);
});

test('collapse quick fixes on a wrn: dense_widen_factor 1 → 2, widen_factor 4 → 8, depth 16 → 10; no BatchNorm fix', () => {
  const fixes = fixesFor('collapse', analyse(WRN), resolved(WRN));
  assert.deepEqual(
    fixes.map((f) => [f.id, f.title]),
    [
      ['raise-density', 'Raise the density (dense_widen_factor 1 → 2)'],
      ['widen-net', 'Widen the network (widen_factor 4 → 8)'],
      ['switch-activation', 'Switch activation to swish'],
      ['switch-activation', 'Switch activation to prelu'],
      ['reduce-depth', 'Make the WRN shallower (depth 16 → 10)'],
    ],
  );
  const lines = (i: number): string[] => applyEdits(WRN, at(fixes, i).edits).split('\n');
  assert.equal(lines(0)[8], '  dense_widen_factor: 2');
  assert.equal(lines(1)[5], '  widen_factor: 8');
  assert.equal(lines(4)[4], '  depth: 10');
  // Each fixed file still resolves; the raised twin is density 2/4.
  assert.equal(resolved(applyEdits(WRN, at(fixes, 0).edits)).sparsity.density, 0.5);
  // Halfway to k when doubling would reach it: k_D 3 of k 4 → 3.5.
  const near = WRN.replace('dense_widen_factor: 1', 'dense_widen_factor: 3');
  assert.equal(at(fixesFor('collapse', analyse(near), resolved(near)), 0).title, 'Raise the density (dense_widen_factor 3 → 3.5)');
});

test('a mask-time collapse of a conv net blames the channels, not the MLP width', () => {
  const config = resolved(CNN);
  const keys = fileKeys(parseExperiment(CNN, '/tmp/ws/conv.gradflow.yaml'));
  const ranges = responsibleRanges({ ...alert('collapse-at-mask'), step: 0 }, config, keys);
  assert.deepEqual(ranges.map((r) => r.key), ['sparsity.density', 'model.channels']);
  assert.ok(fixesFor('collapse-at-mask', analyse(CNN), config).some((f) => f.id === 'widen-net'));
});
