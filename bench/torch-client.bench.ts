/**
 * Python client benchmark (npm run bench): runs bench/torch-client.bench.py (per-step overhead of
 * run.step on the WRN example, CPU, one thread) with GRADFLOW_PYTHON or /usr/bin/python3. Without
 * python3 + torch it says so and exits 0 (the other benchmarks do not need Python). Arguments are
 * passed through (--pairs N, --warmup N, --batch N, --blocks a,b,c,d).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

function repo(): string {
  for (let d = __dirname; path.dirname(d) !== d; d = path.dirname(d)) if (fs.existsSync(path.join(d, 'bench', 'torch-client.bench.py'))) return d;
  return process.cwd();
}

const python = process.env.GRADFLOW_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.log(`torch client bench: skipped, ${python} cannot import torch and torchvision (Debian: python3-torch python3-torchvision)`);
} else {
  const r = spawnSync(python, [path.join(repo(), 'bench', 'torch-client.bench.py'), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' },
  });
  process.exitCode = r.status ?? 1;
}
