import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, num, bar, table, progressLine } from '../../src/cli/format';
import { applyOverrides } from '../../src/cli/load';

test('durations', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(65), '1:05');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(NaN), '--:--');
});

test('numbers keep 4 significant digits and switch to exponents at the extremes', () => {
  assert.equal(num(0.123456), '0.1235');
  assert.equal(num(1234.56), '1235');
  assert.equal(num(0.0001234), '1.23e-4');
  assert.equal(num(NaN), 'NaN');
  assert.equal(num(-Infinity), '-Inf');
  // A NaN read back from JSON is null: it must not print as an infinity.
  assert.equal(num(null), 'NaN');
});

test('bar fills proportionally with eighth blocks', () => {
  assert.equal(bar(0, 4), '    ');
  assert.equal(bar(1, 4), '████');
  assert.equal(bar(0.5, 4), '██  ');
  assert.equal(bar(0.5625, 4), '██▎ '); // 2.25 cells: two full, a quarter (2/8) block
});

test('table aligns columns', () => {
  assert.equal(table(['', 'a'], [['x', '1'], ['long', '22']]), '       a\n────  ──\nx      1\nlong  22');
});

test('progress line shows step, epoch, rate, ETA and each net', () => {
  const s = progressLine({ step: 50, totalSteps: 100, epoch: 0, epochs: 2, stepsPerSecond: 10, nets: [{ net: 'sparse', loss: 0.5, egf2: 0.25 }] }, 200);
  assert.match(s, / 50% step 50\/100 ep 1\/2 10\.0 st\/s ETA 0:05 │ sparse loss 0\.5 EGF₂ 0\.25/);
});

test('progress line: a net with no step yet shows "—", a real NaN stays NaN', () => {
  const s = progressLine({ step: 1, totalSteps: 100, epoch: 0, epochs: 2, stepsPerSecond: 10, nets: [{ net: 'sparse', loss: NaN, egf2: 0.25 }, { net: 'dense' }] }, 200);
  assert.match(s, /sparse loss NaN EGF₂ 0\.25 │ dense loss — EGF₂ —/);
});

test('--set overrides edit the YAML and keep the rest', () => {
  const out = applyOverrides('# c\ntraining:\n  epochs: 5 # five\n  optimizer: adam\n', ['training.epochs=1', 'model.batch_norm=true']);
  assert.match(out, /epochs: 1/);
  assert.match(out, /optimizer: adam/);
  assert.match(out, /batch_norm: true/);
});
