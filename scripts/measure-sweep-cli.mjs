// Time to the first run and peak RSS of `gradflow sweep` (the built CLI, dist/cli.js) on a permitted
// 10^6-run sweep (issue 18, row 8). A measurement, not a test. Usage (after `npm run build`):
//   node scripts/measure-sweep-cli.mjs [SECONDS_AFTER_FIRST_RUN=30]
// Peak RSS is the CLI process's VmHWM (Linux), read at the first run's start and again later; the
// CLI is then killed (its runs folder is a temporary folder, removed at the end).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const after = Number(process.argv[2] ?? 30);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-sweep-cli-'));
const values = (n, f) => `[${Array.from({ length: n }, (_, i) => f(i)).join(', ')}]`;
const file = path.join(dir, 'plan.gradflow.yaml');
fs.writeFileSync(
  file,
  [
    'name: plan-1e6',
    'dataset: {name: synthetic, synthetic: {features: 8, classes: 2, train_size: 64, test_size: 16}}',
    'model: {hidden_layers: 1, width: 128}',
    'sparsity: {method: random, dense_width: 32}',
    'training: {optimizer: adam, batch_size: 32}',
    `run: {backend: cpu, runs_dir: ${JSON.stringify(path.join(dir, 'runs'))}}`,
    'sweep:',
    '  max_runs: 1000000',
    `  seeds: ${values(10, (i) => i)}`,
    '  grid:',
    `    training.learning_rate: ${values(100, (i) => (i + 1) / 10000)}`,
    `    training.epochs: ${values(100, (i) => i + 1)}`,
    `    model.width: ${values(10, (i) => 100 + i)}`,
    '',
  ].join('\n'),
);
const hwm = (pid) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
};
const t0 = process.hrtime.bigint();
const s = () => (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2);
const cli = spawn(process.execPath, [path.resolve('dist/cli.js'), 'sweep', file, '--workers', '2', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
let buf = '';
let starts = 0;
let firstAt;
cli.stderr.on('data', () => undefined);
cli.stdout.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    let e;
    try { e = JSON.parse(line); } catch { continue; }
    if (e.type === 'plan') console.log(`plan event after ${s()} s: ${e.total} runs, ${e.toRun} to run, ${e.workers} workers; RSS peak so far ${hwm(cli.pid)} MB`);
    if (e.type === 'start' && ++starts === 1) {
      firstAt = s();
      console.log(`first run started after ${firstAt} s; CLI peak RSS ${hwm(cli.pid)} MB`);
      setTimeout(() => {
        const sweepDir = path.join(dir, 'runs', 'sweep-plan-1e6');
        const tmp = fs.readdirSync(sweepDir).filter((f) => f.startsWith('sweep.json.'));
        const planned = tmp.length > 0 ? fs.readFileSync(path.join(sweepDir, tmp[0]), 'utf8').split('\n').length - 1 : 0;
        console.log(`${after} s later: ${starts} runs started, manifest ${planned} runs written so far; CLI peak RSS ${hwm(cli.pid)} MB`);
        cli.kill('SIGKILL');
      }, after * 1000);
    }
  }
});
cli.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
