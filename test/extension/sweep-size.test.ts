/** The editor runs sweeps it plans whole only up to the CLI's streaming bound (issue 18, row 8). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editorSweepRefusal } from '../../src/extension/sweep-size';
import { sweepRunCount } from '../../src/config/sweep';
import { parseExperiment } from '../../src/config/parse';

test('a sweep of up to 10,000 runs runs in the editor; one more is refused with the CLI command', () => {
  assert.equal(editorSweepRefusal(1, 'a.gradflow.yaml'), undefined);
  assert.equal(editorSweepRefusal(10_000, 'a.gradflow.yaml'), undefined);
  const why = editorSweepRefusal(10_001, 'big.gradflow.yaml');
  assert.ok(why !== undefined);
  assert.match(why, /10,001 runs, more than the 10,000 the editor plans ahead/);
  assert.match(why, /`gradflow sweep big\.gradflow\.yaml`/);
});

test('a 10⁶-run sweep file is refused from its run count, counted without planning', () => {
  // 100 × 100 × 100 points × 1 seed: counting is a product of axis sizes, so this returns at once.
  const values = (n: number, scale: number): string => `[${Array.from({ length: n }, (_, i) => ((i + 1) * scale).toPrecision(6)).join(', ')}]`;
  const text = [
    'name: huge',
    'dataset: { name: synthetic, synthetic: { features: 4, classes: 2, train_size: 64, test_size: 16 } }',
    'model: { hidden_layers: 1, width: 8 }',
    'sweep:',
    '  max_runs: 1000000',
    '  grid:',
    `    training.learning_rate: ${values(100, 1e-4)}`,
    `    training.weight_decay: ${values(100, 1e-6)}`,
    `    training.batch_size: [${Array.from({ length: 100 }, (_, i) => i + 1).join(', ')}]`,
    '  seeds: [1]',
    '',
  ].join('\n');
  const parsed = parseExperiment(text, 'huge.gradflow.yaml');
  assert.ok(parsed.sweep !== undefined, JSON.stringify(parsed.issues.slice(0, 3)));
  const runs = sweepRunCount(parsed.sweep);
  assert.equal(runs, 1_000_000);
  assert.match(editorSweepRefusal(runs, 'huge.gradflow.yaml') ?? '', /1,000,000 runs/);
});
