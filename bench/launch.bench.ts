/**
 * What the detached supervisor costs a run started from VS Code (issue 23): the time from asking
 * for a run to its first `ready` and first `step` message at the host, with the trainer started
 * directly (as the extension did before) and through `gradflow supervise` (as it does now).
 * Alternated run by run, so machine load hits both alike. Needs `npm run build` (dist/).
 *
 *   scripts/run-ts.sh bench/launch.bench.ts [--runs N]     (default 6 per way)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseExperiment } from '../src/config';
import { startRun } from '../src/runs/session';
import type { ExperimentConfig } from '../src/shared/experiment';
import { at } from '../src/shared/checked';

function repoRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) if (fs.existsSync(path.join(d, 'dist', 'cli.js'))) return d;
  return process.cwd();
}

function config(runsDir: string): ExperimentConfig {
  const text = fs.readFileSync(path.join(repoRoot(), 'examples', 'quick-synthetic.gradflow.yaml'), 'utf8').replace(/^(\s+epochs:\s*)\d+/m, '$11');
  const parsed = parseExperiment(text, path.join(runsDir, 'quick.gradflow.yaml'));
  if (parsed.config === undefined) throw new Error('the quick example does not parse');
  return { ...parsed.config, run: { ...parsed.config.run, runsDir } };
}

async function once(supervised: boolean, runsDir: string): Promise<{ ready: number; step: number }> {
  const dist = path.join(repoRoot(), 'dist');
  const t0 = performance.now();
  const s = startRun({
    trainerPath: path.join(dist, supervised ? 'cli.js' : 'trainer.js'),
    ...(supervised ? { args: ['supervise'], detached: true } : {}),
    config: config(runsDir),
  });
  let ready = NaN;
  let step = NaN;
  s.onMessage((m) => {
    if (m.type === 'ready' && Number.isNaN(ready)) ready = performance.now() - t0;
    if (m.type === 'step' && Number.isNaN(step)) step = performance.now() - t0;
  });
  const o = await s.ended;
  if (o.status !== 'finished') throw new Error(`run ${o.status}: ${o.error ?? ''}`);
  return { ready, step };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? at(s, (s.length - 1) / 2) : (at(s, s.length / 2 - 1) + at(s, s.length / 2)) / 2;
};

async function main(): Promise<void> {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 6;
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-launch-bench-'));
  const out = { direct: { ready: [] as number[], step: [] as number[] }, supervised: { ready: [] as number[], step: [] as number[] } };
  for (let k = 0; k < runs; k++) {
    for (const way of k % 2 === 0 ? (['direct', 'supervised'] as const) : (['supervised', 'direct'] as const)) {
      const r = await once(way === 'supervised', runsDir);
      out[way].ready.push(r.ready);
      out[way].step.push(r.step);
    }
  }
  const fmt = (xs: number[]): string => `${(median(xs) / 1000).toFixed(2)} s [${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)}]`;
  console.log(`launch → first message at the host, median [range] of ${runs} runs each, load ${at(os.loadavg(), 0).toFixed(1)} on ${os.availableParallelism()} cores`);
  console.log(`| | ready | first step |\n|---|---|---|`);
  for (const way of ['direct', 'supervised'] as const) console.log(`| ${way} | ${fmt(out[way].ready)} | ${fmt(out[way].step)} |`);
  fs.rmSync(runsDir, { recursive: true, force: true });
}

void main();
