/**
 * A local sweep over training.learning_rate whose trainer is a Python script (docs/torch.md):
 * `gradflow sweep FILE` (the built CLI) runs every configuration through the script, each run
 * receiving its own learning rate. The Slurm twin is test/cluster/torch-sweep.test.ts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliPath, tmpDir } from '../trainer/helpers';
import { assertRatesReached, torchSweepYaml } from './torch-sweep-helpers';

const skip = !fs.existsSync('/usr/bin/python3') ? 'no /usr/bin/python3 on this machine' : !fs.existsSync(cliPath) ? 'dist/cli.js is missing (npm run build)' : false;
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

test('gradflow sweep over training.learning_rate with a Python trainer, locally', { skip, timeout: 120_000 }, () => {
  const root = tmpDir('torch-sweep');
  dirs.push(root);
  const file = path.join(root, 'lr.gradflow.yaml');
  const rates = [0.5, 0.25, 0.125];
  fs.writeFileSync(file, torchSweepYaml('lr', rates));
  const r = spawnSync(process.execPath, [cliPath, 'sweep', file, '--workers', '2'], { cwd: root, encoding: 'utf8', timeout: 100_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /3 finished/);
  assertRatesReached(path.join(root, 'runs', 'sweep-lr'), rates);
});
