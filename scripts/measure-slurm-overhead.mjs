#!/usr/bin/env node
// Scheduling overhead of `gradflow sweep --executor slurm` on the cluster this machine reaches
// (scripts/setup-slurm.sh for a local one). Prints, from one run:
//  - submit → first task RUNNING (polling squeue every 20 ms);
//  - for a 20-task array at %1 of tiny configurations: wall time, time spent training (run.json
//    start → summary end, summed), and the per-task overhead (wall − training) / 20, which is
//    Slurm's dispatch plus Node/TensorFlow.js start-up and the claim.
// Usage: npm run build && node scripts/measure-slurm-overhead.mjs
import { spawnSync, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cli = path.join(root, 'dist', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-overhead-'));
const file = path.join(dir, 'overhead.gradflow.yaml');
const N = 20;
fs.writeFileSync(
  file,
  `name: overhead
dataset:
  name: synthetic
  synthetic: { features: 6, classes: 2, train_size: 64, test_size: 16 }
model: { hidden_layers: 1, width: 8 }
sparsity: { method: random, dense_width: 4 }
training: { optimizer: adam, learning_rate: 0.01, epochs: 1, batch_size: 32 }
run: { backend: cpu, runs_dir: runs }
sweep:
  seeds: [${Array.from({ length: N }, (_, i) => i).join(', ')}]
`,
);
const sweepDir = path.join(dir, 'runs', 'sweep-overhead');

const t0 = Date.now();
const sub = spawnSync(process.execPath, [cli, 'sweep', file, '--executor', 'slurm', '--max-parallel', '1'], { cwd: dir, encoding: 'utf8' });
if (sub.status !== 0) throw new Error(sub.stderr);
const tSubmitted = Date.now();
const job = JSON.parse(fs.readFileSync(path.join(sweepDir, 'slurm', 'jobs.jsonl'), 'utf8').split('\n')[0]).jobId;
let tFirstRunning;
for (;;) {
  const out = execFileSync('squeue', ['-h', '-r', '-t', 'all', '-j', job, '-o', '%T'], { encoding: 'utf8' });
  if (tFirstRunning === undefined && /RUNNING|COMPLETED/.test(out)) tFirstRunning = Date.now();
  const states = out.split('\n').filter((s) => s.trim() !== '');
  if (states.length === N && states.every((s) => /COMPLETED|FAILED|CANCELLED/.test(s))) break;
  await new Promise((r) => setTimeout(r, 20));
}
const tEnd = Date.now();
let training = 0;
let finished = 0;
for (const name of fs.readdirSync(sweepDir)) {
  const s = path.join(sweepDir, name, 'summary.json');
  if (!fs.existsSync(s)) continue;
  const head = JSON.parse(fs.readFileSync(path.join(sweepDir, name, 'run.json'), 'utf8'));
  const sum = JSON.parse(fs.readFileSync(s, 'utf8'));
  training += Date.parse(sum.endedAt) - Date.parse(head.startedAt);
  finished++;
}
const wall = tEnd - tSubmitted;
console.log(`cpus ${os.cpus().length}, load average ${os.loadavg()[0].toFixed(2)}`);
console.log(`gradflow sweep (plan + preflight + sbatch): ${tSubmitted - t0} ms`);
console.log(`sbatch returned → first task RUNNING: ${tFirstRunning - tSubmitted} ms`);
console.log(`${N}-task array at %1: ${finished} finished, wall ${(wall / 1000).toFixed(1)} s, training ${(training / 1000).toFixed(1)} s`);
console.log(`per-task overhead (wall - training) / ${N}: ${((wall - training) / N / 1000).toFixed(2)} s`);
fs.rmSync(dir, { recursive: true, force: true });
