/**
 * A sweep over training.learning_rate whose trainer is a Python script (docs/torch.md), as one
 * Slurm job array on the REAL one-node cluster (scripts/setup-slurm.sh): each array task runs
 * `gradflow sweep-task`, which starts the script like any run. Skips with the reason without
 * Slurm or Python; `GRADFLOW_CLUSTER=required` makes a missing cluster a failure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJobs } from '../../src/runs/slurm';
import { cliPath, tmpDir } from '../trainer/helpers';
import { assertRatesReached, torchSweepYaml } from '../runs/torch-sweep-helpers';
import { clusterSkip, startCluster } from './cluster';

const skip = clusterSkip() || (!fs.existsSync('/usr/bin/python3') && 'no /usr/bin/python3 on this machine');
let stopCluster: (() => void) | undefined;
before(() => {
  if (!skip) stopCluster = startCluster();
});
after(() => stopCluster?.());

test('a Python-trainer sweep over training.learning_rate as one Slurm array', { skip, timeout: 300_000 }, () => {
  const root = tmpDir('torch-slurm');
  const file = path.join(root, 'lrs.gradflow.yaml');
  const rates = [0.5, 0.25];
  fs.writeFileSync(file, torchSweepYaml('lrs', rates));
  const r = spawnSync(process.execPath, [cliPath, 'sweep', file, '--executor', 'slurm', '--wait'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 280_000,
    env: { ...process.env, GRADFLOW_CLAIM_STALE_S: '600' },
  });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stderr, /submitted job array \d+ \(2 tasks/);
  assert.match(r.stdout, /2 finished/);
  const sweepDir = path.join(root, 'runs', 'sweep-lrs');
  assert.equal(readJobs(sweepDir).length, 1, 'one sbatch array');
  assertRatesReached(sweepDir, rates);
  fs.rmSync(root, { recursive: true, force: true });
});
