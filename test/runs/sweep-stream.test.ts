import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseExperiment, expandSweep, iterateSweep } from '../../src/config';
import { localExecutor, planStreamedSweep, planSweep, readManifest, runStreamedSweep, type PlannedRun, type SweepEvent } from '../../src/runs/sweep';
import { tmpDir, trainerPath } from '../trainer/helpers';
import { at } from '../../src/shared/checked';

function parsed(yaml: string): NonNullable<ReturnType<typeof parseExperiment>['config']> extends infer C ? { config: C & object; sweep: NonNullable<ReturnType<typeof parseExperiment>['sweep']> } : never {
  const r = parseExperiment(yaml, '/virtual/stream.gradflow.yaml');
  assert.ok(r.config && r.sweep, r.issues.map((i) => i.message).join('\n'));
  return { config: r.config, sweep: r.sweep };
}

test('a 100,000-run streamed sweep starts its first run after generating one point, and writes the whole manifest', async () => {
  const runsDir = tmpDir('sweep-stream-big');
  const lrs = Array.from({ length: 100 }, (_, i) => (i + 1) / 10000).join(', ');
  const epochs = Array.from({ length: 100 }, (_, i) => i + 1).join(', ');
  const { config, sweep } = parsed(`name: big
dataset: { name: synthetic }
model: { width: 64 }
sparsity: { method: random, dense_width: 16 }
run: { runs_dir: ${JSON.stringify(runsDir)} }
sweep:
  max_runs: 100000
  seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
  grid:
    training.learning_rate: [${lrs}]
    training.epochs: [${epochs}]
`);
  // Count what the workers' pass generates (the manifest's pass is a second, separate one).
  let passes = 0;
  const generatedAtLaunch: number[] = [];
  let workerPassCount = 0;
  const s = planStreamedSweep(config.name, 100_000, () => {
    passes++;
    const mine = passes;
    return (function* counted(): Generator<PlannedRun> {
      for (const r of iterateSweep(config, sweep)) {
        if (mine === 1) workerPassCount++;
        yield r;
      }
    })();
  }, runsDir);
  const launched: PlannedRun[] = [];
  const events: SweepEvent[] = [];
  const handle = runStreamedSweep(
    s,
    localExecutor({
      trainerPath,
      workers: 2,
      launch: (r) => {
        launched.push(r);
        generatedAtLaunch.push(workerPassCount);
        handle.stop();
        return undefined; // counted as failed; no trainer needed to see the plan stream
      },
    }),
    (e) => events.push(e),
  );
  const counts = await handle.done;
  // The workers' pass is created first (pass 1); each worker took one run before the first launch.
  assert.ok(at(generatedAtLaunch, 0) <= 2, `${generatedAtLaunch[0]} generated at the first launch`); // one per worker
  assert.ok(launched.length <= 2, `${launched.length} launched`);
  assert.ok(workerPassCount <= 4, `workers' pass generated ${workerPassCount} runs`);
  assert.equal(counts.failed, launched.length);
  const plan = at(events, 0);
  assert.equal(plan.type, 'plan');
  if (plan.type === 'plan') assert.deepEqual([plan.total, plan.skipped, plan.toRun, plan.workers], [100_000, 0, 100_000, 2]);
  // Stopped or not, the manifest holds the whole plan, in iterateSweep's order with its ids.
  const m = readManifest(s.dir);
  assert.equal(m.runs.length, 100_000);
  const it = iterateSweep(config, sweep);
  for (let k = 0; k < 25; k++) {
    const r = it.next();
    assert.ok(!r.done);
    assert.equal(at(m.runs, k).id, r.value.id);
    assert.deepEqual(at(m.runs, k).point, r.value.point);
  }
  assert.equal(at(launched, 0).id, at(m.runs, 0).id);
  assert.equal(at(launched, 0).config.run.runsDir, s.dir);
  assert.equal(fs.readdirSync(s.dir).filter((f) => f.endsWith('.tmp')).length, 0);
});

const small = (runsDir: string): string => `name: stream-small
dataset:
  name: synthetic
  synthetic: { features: 8, classes: 2, train_size: 128, test_size: 32 }
model: { hidden_layers: 1, width: 16 }
sparsity: { method: random, dense_width: 4 }
training: { optimizer: adam, learning_rate: 0.01, epochs: 1, batch_size: 32 }
run: { backend: cpu, runs_dir: ${JSON.stringify(runsDir)} }
sweep:
  seeds: [0, 1]
  grid:
    training.optimizer: [sgd, adam]
`;

test('a streamed sweep runs what the eager plan runs, writes the same manifest, and resumes', async () => {
  const runsDir = tmpDir('sweep-stream-small');
  const { config, sweep } = parsed(small(runsDir));
  const eager = planSweep(config.name, expandSweep(config, sweep), runsDir);
  const s = planStreamedSweep(config.name, 4, () => iterateSweep(config, sweep), runsDir);
  assert.equal(s.dir, eager.dir);
  const started: string[] = [];
  const errors: string[] = [];
  const first = await runStreamedSweep(s, localExecutor({ trainerPath, workers: 1 }), (e) => {
    if (e.type === 'start') started.push(e.id);
    if (e.type === 'end' && e.error !== undefined) errors.push(e.error);
  }).done;
  assert.deepEqual(errors, []);
  assert.deepEqual(started, eager.runs.map((r) => r.id)); // one worker: plan order
  assert.equal(first.finished, 4);
  const m = readManifest(s.dir);
  assert.deepEqual(m.runs, eager.runs.map((r) => ({ id: r.id, point: r.point })));
  assert.equal(m.name, 'stream-small');
  // Resume: everything is done, nothing starts, all four are counted as skipped.
  const again: SweepEvent[] = [];
  const second = await runStreamedSweep(s, localExecutor({ trainerPath, workers: 2 }), (e) => again.push(e)).done;
  assert.equal(second.skipped, 4);
  assert.equal(second.finished, 0);
  assert.equal(again.filter((e) => e.type === 'start').length, 0);
  // One run folder removed: only that configuration runs again.
  const victim = fs.readdirSync(s.dir).find((f) => fs.existsSync(path.join(s.dir, f, 'run.json')));
  assert.ok(victim);
  const victimId = (JSON.parse(fs.readFileSync(path.join(s.dir, victim, 'run.json'), 'utf8')) as { configId: string }).configId;
  fs.rmSync(path.join(s.dir, victim), { recursive: true });
  const redo: string[] = [];
  const third = await runStreamedSweep(s, localExecutor({ trainerPath, workers: 2 }), (e) => {
    if (e.type === 'start') redo.push(e.id);
  }).done;
  assert.deepEqual(redo, [victimId]);
  assert.equal(third.skipped, 3);
});
