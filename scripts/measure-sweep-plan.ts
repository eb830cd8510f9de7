/**
 * Planning cost of a 10⁶-run sweep (issue 18, row 8): time to the first run and peak RSS, for the
 * eager plan (`expandSweep`, what `gradflow sweep` does before its first run) and the lazy one
 * (`iterateSweep`). A measurement, not a test. Usage:
 *   scripts/run-ts.sh scripts/measure-sweep-plan.ts lazy [N]   # first run, then N runs (default 10,000)
 *   scripts/run-ts.sh scripts/measure-sweep-plan.ts eager      # the whole plan (minutes, ~1 GB)
 */
import { parseExperiment, expandSweep, iterateSweep, sweepRunCount } from '../src/config';

const values = (n: number, f: (i: number) => number): string => `[${Array.from({ length: n }, (_, i) => f(i)).join(', ')}]`;
const text = [
  'name: plan-1e6',
  'dataset: {name: synthetic}',
  'model: {width: 128}',
  'sparsity: {method: random, dense_width: 32}',
  'training: {optimizer: adam}',
  'sweep:',
  '  max_runs: 1000000',
  `  seeds: ${values(10, (i) => i)}`,
  '  grid:',
  `    training.learning_rate: ${values(100, (i) => (i + 1) / 10000)}`,
  `    training.epochs: ${values(100, (i) => i + 1)}`,
  `    model.width: ${values(10, (i) => 100 + i)}`,
  '',
].join('\n');
const mode = process.argv[2] ?? 'lazy';
const t0 = process.hrtime.bigint();
const ms = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
const rssMb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);
let peak = rssMb();
const sample = setInterval(() => (peak = Math.max(peak, rssMb())), 50);
const r = parseExperiment(text, '/virtual/plan.gradflow.yaml');
if (!r.config || !r.sweep) throw new Error(r.issues.map((i) => i.message).join('\n'));
console.log(`sweep of ${sweepRunCount(r.sweep)} runs; parsed and checked in ${ms().toFixed(0)} ms, RSS ${rssMb()} MB`);
if (mode === 'eager') {
  const runs = expandSweep(r.config, r.sweep);
  peak = Math.max(peak, rssMb());
  console.log(`eager: ${runs.length} runs planned, first run available after ${(ms() / 1000).toFixed(1)} s; peak RSS ${peak} MB`);
} else {
  const n = Number(process.argv[3] ?? 10_000);
  const it = iterateSweep(r.config, r.sweep);
  const first = it.next();
  console.log(`lazy: first run ${first.done ? '-' : first.value.id} after ${ms().toFixed(0)} ms, RSS ${rssMb()} MB`);
  let k = 1;
  for (let x = it.next(); !x.done && k < n; x = it.next()) k++;
  peak = Math.max(peak, rssMb());
  console.log(`lazy: ${k} runs after ${(ms() / 1000).toFixed(1)} s; peak RSS ${peak} MB`);
}
clearInterval(sample);
