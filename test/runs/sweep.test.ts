import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseExperiment, expandSweep } from '../../src/config';
import { countsText, planSweep, runSweep, finishedRuns, readManifest, localExecutor, type SweepEvent, type SweepCounts } from '../../src/runs/sweep';
import { listRuns } from '../../src/runs/store';
import { repoRoot, tmpDir, trainerPath } from '../trainer/helpers';
import { at } from '../../src/shared/checked';

function sweepYaml(runsDir: string, datasets: string[]): string {
  return `name: sweep-test
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
    dataset.name: [${datasets.join(', ')}]
`;
}

function counts(c: Partial<SweepCounts>): SweepCounts {
  return { finished: 0, diverged: 0, failed: 0, stopped: 0, killed: 0, skipped: 0, busy: 0, ...c };
}

function plan(yaml: string, runsDir: string): ReturnType<typeof planSweep> {
  const r = parseExperiment(yaml, '/virtual/sweep.gradflow.yaml');
  assert.ok(r.config && r.sweep, r.issues.map((i) => i.message).join('\n'));
  return planSweep(r.config.name, expandSweep(r.config, r.sweep), runsDir);
}

test('a sweep runs every point once in a pool, and re-running it skips finished runs', async () => {
  const runsDir = tmpDir('sweep');
  const p = plan(sweepYaml(runsDir, ['synthetic']), runsDir);
  assert.equal(p.runs.length, 4); // 2 optimizers × 2 seeds
  assert.equal(new Set(p.runs.map((r) => r.id)).size, 4, 'distinct configurations get distinct ids');
  const events: SweepEvent[] = [];
  const first = await runSweep(p, localExecutor({ trainerPath, workers: 2 }), (e) => events.push(e)).done;
  assert.deepEqual(first, counts({ finished: 4 }));
  assert.deepEqual(events[0], { type: 'plan', total: 4, skipped: 0, toRun: 4, workers: 2, otherVersions: [] });
  assert.equal(finishedRuns(p.dir).size, 4);
  assert.deepEqual(readManifest(p.dir).runs.map((r) => r.id), p.runs.map((r) => r.id));
  // Same file again: the same ids, all finished, nothing runs.
  const again = plan(sweepYaml(runsDir, ['synthetic']), runsDir);
  assert.deepEqual(again.runs.map((r) => r.id), p.runs.map((r) => r.id));
  const second = await runSweep(again, localExecutor({ trainerPath, workers: 2 }), () => undefined).done;
  assert.deepEqual(second, counts({ skipped: 4 }));
  assert.equal(listRuns(p.dir).length, 4, 'no new run folders');
  // Every run records the version that made it; one made by another version is reused but reported.
  const runs = listRuns(p.dir);
  const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  assert.ok(runs.every((r) => r.gradflowVersion === version));
  const header = path.join(at(runs, 0).runDir, 'run.json');
  fs.chmodSync(header, 0o644);
  fs.writeFileSync(header, JSON.stringify({ ...JSON.parse(fs.readFileSync(header, 'utf8')), gradflowVersion: '0.0.1' }));
  const third: SweepEvent[] = [];
  await runSweep(again, localExecutor({ trainerPath, workers: 2 }), (e) => third.push(e)).done;
  assert.deepEqual(third[0], { type: 'plan', total: 4, skipped: 4, toRun: 0, workers: 1, otherVersions: [{ version: '0.0.1', runs: 1 }] });
});

test('a run whose trainer fails fails alone; the sweep goes on and a re-run retries only it', async () => {
  const runsDir = tmpDir('sweep');
  // cifar10 without files: its trainer exits with an error before training.
  const p = plan(sweepYaml(runsDir, ['synthetic', 'cifar10']).replace('name: synthetic\n  synthetic', `name: synthetic\n  path: ${JSON.stringify(path.join(runsDir, 'no-such-folder'))}\n  synthetic`), runsDir);
  assert.equal(p.runs.length, 8);
  const ends: Extract<SweepEvent, { type: 'end' }>[] = [];
  const got = await runSweep(p, localExecutor({ trainerPath, workers: 2 }), (e) => {
    if (e.type === 'end') ends.push(e);
  }).done;
  assert.equal(got.failed + got.finished, 8);
  assert.equal(got.failed, 4, 'the four cifar10 points fail');
  for (const e of ends.filter((x) => x.status === 'failed')) assert.match(e.error ?? '', /cifar/i);
  const retry = await runSweep(p, localExecutor({ trainerPath, workers: 2 }), () => undefined).done;
  assert.equal(retry.skipped, 4);
  assert.equal(retry.failed, 4);
});

test('a sweep with no runs is an error that says so', () => {
  assert.throws(() => planSweep('empty', [], tmpDir('sweep')), /sweep 'empty' has no runs/);
});

test('two local sweeps of the same file at once train every configuration exactly once', async () => {
  const runsDir = tmpDir('sweep');
  const p = plan(sweepYaml(runsDir, ['synthetic']), runsDir);
  const [a, b] = await Promise.all([
    runSweep(p, localExecutor({ trainerPath, workers: 2 }), () => undefined).done,
    runSweep(p, localExecutor({ trainerPath, workers: 2 }), () => undefined).done,
  ]);
  assert.equal(a.finished + b.finished, 4, 'four trainings between the two');
  assert.equal(a.busy + b.busy + a.skipped + b.skipped, 4, 'each configuration left to the other sweep once');
  const byConfig = new Map<string, number>();
  for (const r of listRuns(p.dir)) byConfig.set(r.configId ?? '', (byConfig.get(r.configId ?? '') ?? 0) + 1);
  assert.deepEqual([...byConfig.values()], [1, 1, 1, 1]);
});

test('countsText says what became of every configuration: stopped runs are not finished, killed ones count as failed', () => {
  const counts: SweepCounts = { finished: 1, diverged: 0, failed: 1, stopped: 2, killed: 1, skipped: 0, busy: 0 };
  assert.equal(countsText(counts), '1 finished, 0 skipped (done before), 2 stopped, 2 failed');
  assert.equal(countsText({ ...counts, diverged: 3, busy: 1 }), '1 finished, 3 diverged, 0 skipped (done before), 1 left to another scheduler, 2 stopped, 2 failed');
});
