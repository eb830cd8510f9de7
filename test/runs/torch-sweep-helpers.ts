/** A sweep whose trainer is the Python fixture script: shared by the local and the Slurm sweep tests. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { listRuns, readMetrics, readSummary } from '../../src/runs/store';
import { readManifest } from '../../src/runs/sweep';
import { repoRoot } from '../trainer/helpers';

const PYTHON = '/usr/bin/python3';

/** The sweep file: the fixture trainer, the learning rates × one seed. */
export function torchSweepYaml(name: string, rates: readonly number[]): string {
  const fixtures = path.join(repoRoot, 'test', 'fixtures', 'torch');
  return `name: ${name}
dataset:
  name: synthetic
  synthetic: { features: 6, classes: 2, train_size: 64, test_size: 16 }
model: { hidden_layers: 1, width: 8 }
sparsity: { method: random, dense_width: 4 }
training: { optimizer: sgd, learning_rate: 0.01, epochs: 2 }
run: { runs_dir: runs }
trainer:
  command: [${PYTHON}, ${JSON.stringify(path.join(fixtures, 'fake_train.py'))}]
  cwd: ${JSON.stringify(fixtures)}
sweep:
  seeds: [0]
  grid:
    training.learning_rate: [${rates.join(', ')}]
`;
}

/** Each run of the sweep got its own rate: the script printed it, and its losses follow 1/(1 + lr·step). */
export function assertRatesReached(sweepDir: string, rates: readonly number[]): void {
  const manifest = readManifest(sweepDir);
  assert.equal(manifest.runs.length, rates.length);
  const runs = listRuns(sweepDir);
  assert.equal(runs.length, rates.length, runs.map((r) => `${r.runId}:${r.status}`).join(' '));
  const seen: number[] = [];
  for (const r of runs) {
    assert.equal(r.status, 'finished', `${r.runId}: ${r.reason ?? ''}`);
    assert.equal(r.backend, 'external');
    const planned = manifest.runs.find((x) => x.id === r.configId);
    assert.ok(planned, `run ${r.runId} belongs to a planned configuration`);
    const lr = planned.point['training.learning_rate'] as number;
    seen.push(lr);
    const log = readMetrics(r.runDir);
    assert.ok(log.some((m) => m.type === 'log' && m.message.includes(`fake trainer: lr=${lr} epochs=2`)), `run ${r.runId} trained with lr ${lr}`);
    // 2 epochs × 3 steps: final train loss 1/(1 + 6·lr).
    assert.equal(readSummary(r.runDir)?.nets[0]?.final.train.loss, 1 / (1 + 6 * lr));
  }
  assert.deepEqual(seen.sort(), [...rates].sort());
}

