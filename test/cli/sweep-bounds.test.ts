import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { parseExperiment } from '../../src/config';
import { MAX_SLURM_SWEEP_RUNS, sweepCommand } from '../../src/cli/sweep';
import { CliUsageError } from '../../src/cli/load';
import { tmpDir, trainerPath } from '../trainer/helpers';

test('the Slurm executor refuses a sweep past its bound before planning, naming the count and the bound', async () => {
  const runsDir = tmpDir('sweep-slurm-bound');
  const values = (n: number): string => Array.from({ length: n }, (_, i) => (i + 1) / 10000).join(', ');
  const r = parseExperiment(
    `name: too-big
dataset: { name: synthetic }
model: { width: 64 }
sparsity: { method: random, dense_width: 16 }
run: { runs_dir: ${JSON.stringify(runsDir)} }
sweep:
  max_runs: 1000000
  seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
  grid:
    training.learning_rate: [${values(1000)}]
    training.epochs: [${Array.from({ length: 100 }, (_, i) => i + 1).join(', ')}]
`,
    '/virtual/too-big.gradflow.yaml',
  );
  assert.ok(r.config && r.sweep, r.issues.map((i) => i.message).join('\n'));
  assert.equal(MAX_SLURM_SWEEP_RUNS, 100_000);
  const out = new PassThrough();
  const err = new PassThrough();
  await assert.rejects(
    sweepCommand(r.config, r.sweep, '/virtual/too-big.gradflow.yaml', { trainerPath, err, out, json: false, executor: 'slurm', wait: false, slurm: { cliPath: '/nonexistent/cli.js' } }),
    (e: Error) => {
      assert.ok(e instanceof CliUsageError);
      assert.match(e.message, /has 1,000,000 runs, more than the 100,000 the Slurm executor accepts/);
      assert.match(e.message, /--executor local/);
      return true;
    },
  );
  // Refused before anything was planned or written.
  assert.equal(fs.existsSync(path.join(runsDir, 'sweep-too-big')), false);
});
