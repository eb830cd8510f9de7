/**
 * `gradflow sweep --executor slurm` against a REAL one-node Slurm cluster (scripts/setup-slurm.sh),
 * which this file starts and stops itself. Without Slurm (or without root to start it) the tests
 * skip with the reason; `GRADFLOW_CLUSTER=required` (set by .ci/run) makes that a failure.
 *
 * Every wait polls; nothing sleeps a fixed time. Configurations are tiny synthetic SC-SDC pairs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listRuns } from '../../src/runs/store';
import { readJobs, arrayStates, followJob, isTerminalState, viewJob } from '../../src/runs/slurm';
import { readManifest, type SweepEvent } from '../../src/runs/sweep';
import { cliPath, tmpDir } from '../trainer/helpers';
import { clusterSkip, setupSlurm, startCluster, tinySweepYaml } from './cluster';
import { injectionTests } from './injection';
import { at } from '../../src/shared/checked';

const skip = clusterSkip();

let stopCluster: (() => void) | undefined;
before(() => {
  if (skip) return;
  stopCluster = startCluster();
});

after(() => {
  // Leave a cluster someone else started running; stop the one started here.
  stopCluster?.();
});

function project(name: string, seeds: number, extra = ''): { file: string; sweepDir: string; root: string } {
  const root = tmpDir('cluster');
  const file = path.join(root, `${name}.gradflow.yaml`);
  fs.writeFileSync(file, tinySweepYaml(name, seeds, { runsDir: 'runs', extra }));
  return { file, sweepDir: path.join(root, 'runs', `sweep-${name}`), root };
}

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string): { child: ChildProcess; done: Promise<Done> } {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, GRADFLOW_CLAIM_STALE_S: '600' } });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Done>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

async function gradflow(args: string[], cwd: string): Promise<Done> {
  return cli(args, cwd).done;
}

/** Poll until `check` is true (or fail after `limitMs`). */
async function until(what: string, check: () => boolean, limitMs = 90_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Completed runs per configuration id. */
function trainedCount(sweepDir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of listRuns(sweepDir)) {
    if (r.configId === undefined) continue;
    if (r.status === 'finished' || r.status === 'diverged') out.set(r.configId, (out.get(r.configId) ?? 0) + 1);
  }
  return out;
}

function assertEachOnce(sweepDir: string, configs: number): void {
  const counts = trainedCount(sweepDir);
  assert.equal(counts.size, configs, `every configuration trained: ${JSON.stringify([...counts])}`);
  assert.ok([...counts.values()].every((n) => n === 1), `each exactly once: ${JSON.stringify([...counts])}`);
  // Only complete runs: no configuration was started twice either.
  const all = listRuns(sweepDir).filter((r) => r.configId !== undefined);
  assert.equal(all.length, configs, `one run folder per configuration: ${all.map((r) => `${r.configId}:${r.status}`).join(' ')}`);
}

test('a 6-configuration sweep as one %1 array finishes every configuration once', { skip }, async () => {
  const p = project('six', 6);
  const r = await gradflow(['sweep', p.file, '--executor', 'slurm', '--max-parallel', '1', '--wait'], p.root);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stderr, /submitted job array \d+ \(6 tasks, at most 1 at once\)/);
  assert.match(r.stdout, /6 finished/);
  assertEachOnce(p.sweepDir, 6);
  const jobs = readJobs(p.sweepDir);
  assert.equal(jobs.length, 1, 'one sbatch array');
  // %1: never two tasks at once — their run folders' lifetimes do not overlap.
  const runs = listRuns(p.sweepDir).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  for (let i = 1; i < runs.length; i++) assert.ok((at(runs, i - 1).endedAt ?? '') <= at(runs, i).startedAt, `${at(runs, i - 1).runId} ended before ${at(runs, i).runId} started`);
  for (let i = 0; i < 6; i++) assert.ok(fs.existsSync(path.join(p.sweepDir, 'slurm', 'logs', `${at(jobs, 0).jobId}_${i}.log`)), `task ${i} log in the sweep folder`);
  const status = await gradflow(['sweep', '--status', p.sweepDir], p.root);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /6 of 6 configurations finished/);
  assert.equal((status.stdout.match(/COMPLETED/g) ?? []).length, 6);
});

test('a task cancelled with scancel is reported cancelled; re-submitting runs only it', { skip }, async () => {
  const p = project('cancel', 3);
  const run = cli(['sweep', p.file, '--executor', 'slurm', '--max-parallel', '1', '--wait'], p.root);
  await until('the array to be submitted', () => readJobs(p.sweepDir).length === 1);
  const job = at(readJobs(p.sweepDir), 0);
  // With %1 the last task is still pending: cancel it.
  const c = spawnSync('scancel', [`${job.jobId}_2`], { encoding: 'utf8' });
  assert.equal(c.status, 0, c.stderr);
  const r = await run.done;
  assert.equal(r.code, 0, `a cancelled task is not a failure of the sweep:\n${r.stderr}`);
  const cancelledId = JSON.parse(fs.readFileSync(job.batch, 'utf8')).tasks[2].id as string;
  assert.match(r.stderr, new RegExp(`stopped\\s+${cancelledId}\\s+— Slurm CANCELLED`));
  assert.match(r.stdout, /not finished \(1\): /);
  assert.match(r.stdout, new RegExp(`not finished \\(1\\): ${cancelledId}`));
  const views = viewJob(p.sweepDir, job, arrayStates(job.jobId));
  assert.equal(at(views, 2).slurmState, 'CANCELLED');
  const status = await gradflow(['sweep', '--status', p.sweepDir], p.root);
  assert.match(status.stdout, new RegExp(`${job.jobId}_2\\s+${cancelledId}\\s+CANCELLED`));
  assert.match(status.stdout, new RegExp(`not finished: ${cancelledId}`));
  // Re-submit: only the cancelled configuration goes into the new array.
  const again = await gradflow(['sweep', p.file, '--executor', 'slurm', '--wait'], p.root);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /3 runs, 2 already finished, 1 to run/);
  const jobs = readJobs(p.sweepDir);
  assert.equal(jobs.length, 2);
  assert.equal(at(jobs, 1).tasks, 1);
  assert.deepEqual(
    (JSON.parse(fs.readFileSync(at(jobs, 1).batch, 'utf8')).tasks as Array<{ id: string }>).map((t) => t.id),
    [cancelledId],
  );
  assertEachOnce(p.sweepDir, 3);
});

test('slurmctld restarted mid-sweep: the sweep still completes', { skip }, async () => {
  const p = project('restart', 3);
  const run = cli(['sweep', p.file, '--executor', 'slurm', '--max-parallel', '1', '--wait'], p.root);
  await until('the first task to run', () => {
    const job = readJobs(p.sweepDir)[0];
    return job !== undefined && [...(arrayStates(job.jobId)?.values() ?? [])].includes('RUNNING');
  });
  const restart = spawnSync(setupSlurm, ['restart-controller'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(restart.status, 0, restart.stderr);
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /3 finished/);
  assertEachOnce(p.sweepDir, 3);
});

test('following an array in-process never blocks: squeue is asked asynchronously, every task ends', { skip }, async () => {
  const p = project('follow', 2);
  // Submitted without --wait: the CLI returns once sbatch has answered, and this process follows.
  const submitted = await gradflow(['sweep', p.file, '--executor', 'slurm', '--max-parallel', '1'], p.root);
  assert.equal(submitted.code, 0, submitted.stderr);
  const job = at(readJobs(p.sweepDir), 0);
  const events: SweepEvent[] = [];
  const following = followJob(p.sweepDir, job, 200, (e) => events.push(e), () => false);
  // followJob runs in the extension host: had it asked squeue synchronously, its first poll (and
  // the PENDING/RUNNING events it yields) would have happened before the call returned.
  assert.equal(events.length, 0, `events before the call returned: ${JSON.stringify(events)}`);
  let turns = 0;
  const ticker = setInterval(() => turns++, 50);
  let views;
  try {
    views = await following;
  } finally {
    clearInterval(ticker);
  }
  assert.ok(turns > 0, 'the event loop turned while the array was followed');
  assert.equal(views.length, 2);
  assert.ok(views.every((v) => v.slurmState === 'COMPLETED'), JSON.stringify(views.map((v) => v.slurmState)));
  const ends = events.filter((e) => e.type === 'end');
  assert.deepEqual(ends.map((e) => (e.type === 'end' ? e.status : '')), ['finished', 'finished']);
  assert.ok(events.some((e) => e.type === 'slurm' && e.state === 'COMPLETED'));
  assertEachOnce(p.sweepDir, 2);
});

test('gradflow sweep --cancel scancels the live array; a second --cancel has nothing left to cancel', { skip }, async () => {
  const p = project('cli-cancel', 3);
  const submitted = await gradflow(['sweep', p.file, '--executor', 'slurm', '--max-parallel', '1'], p.root);
  assert.equal(submitted.code, 0, submitted.stderr);
  const job = at(readJobs(p.sweepDir), 0);
  const r = await gradflow(['sweep', '--cancel', p.sweepDir], p.root);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `cancelled job ${job.jobId} (finished runs are kept; re-run the sweep to resume)\n`);
  // Slurm ends every task: none is left pending or running.
  await until('squeue to show every task over', () => {
    const states = [...(arrayStates(job.jobId)?.values() ?? [])];
    return states.length === 0 || states.every((s) => isTerminalState(s));
  });
  const again = await gradflow(['sweep', '--cancel', p.sweepDir], p.root);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^nothing to cancel in /);
});

test('the same sweep submitted twice at once trains every configuration exactly once', { skip }, async () => {
  const p = project('twice', 3);
  const [a, b] = await Promise.all([
    gradflow(['sweep', p.file, '--executor', 'slurm', '--wait'], p.root),
    gradflow(['sweep', p.file, '--executor', 'slurm', '--wait'], p.root),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assertEachOnce(p.sweepDir, 3);
});

test('a local sweep racing a Slurm sweep: every configuration trains exactly once', { skip }, async () => {
  const p = project('race', 4);
  const [a, b] = await Promise.all([
    gradflow(['sweep', p.file, '--executor', 'slurm', '--wait'], p.root),
    gradflow(['sweep', p.file, '--workers', '2'], p.root),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assertEachOnce(p.sweepDir, 4);
});

test('a task whose trainer fails is reported failed with its Slurm state and log tail; the others finish', { skip }, async () => {
  // The cifar10 configurations point at a folder without the dataset: their trainer exits with an error.
  const p = project('crash', 1, `  grid:\n    dataset.name: [synthetic, cifar10]\n`);
  fs.writeFileSync(p.file, fs.readFileSync(p.file, 'utf8').replace('  name: synthetic\n  synthetic', `  name: synthetic\n  path: ${JSON.stringify(path.join(p.root, 'no-data'))}\n  synthetic`));
  const r = await gradflow(['sweep', p.file, '--executor', 'slurm', '--wait'], p.root);
  assert.equal(r.code, 1, 'a failed configuration fails the sweep');
  const manifest = readManifest(p.sweepDir);
  const bad = manifest.runs.find((x) => x.point['dataset.name'] === 'cifar10');
  assert.ok(bad);
  assert.match(r.stdout, /1 finished/);
  assert.match(r.stdout, new RegExp(`failed ${bad.id}:\\n\\s+Slurm FAILED: .*\\n(.|\\n)*configuration ${bad.id}: failed`));
  const status = await gradflow(['sweep', '--status', p.sweepDir], p.root);
  assert.match(status.stdout, new RegExp(`\\d+_\\d+\\s+${bad.id}\\s+FAILED`));
  assert.match(status.stdout, /1 of 2 configurations finished/);
});

test('before submitting: no sbatch on PATH, an unknown partition, an array over MaxArraySize are clear errors', { skip }, async () => {
  const p = project('preflight', 2);
  const noSbatch = spawnSync(process.execPath, [cliPath, 'sweep', p.file, '--executor', 'slurm'], { cwd: p.root, encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } });
  assert.equal(noSbatch.status, 2);
  assert.match(noSbatch.stderr, /sbatch is not on PATH.*nothing was submitted/);
  const part = await gradflow(['sweep', p.file, '--executor', 'slurm', '--partition', 'gpu-nope'], p.root);
  assert.equal(part.code, 2);
  assert.match(part.stderr, /unknown partition 'gpu-nope': this cluster has debug; nothing was submitted/);
  // MaxArraySize is 1001 on the test cluster: 1002 seeds need a larger array.
  const big = project('toobig', 1002);
  const huge = await gradflow(['sweep', big.file, '--executor', 'slurm'], big.root);
  assert.equal(huge.code, 2, huge.stderr);
  assert.match(huge.stderr, /array of 1002 tasks but this cluster's MaxArraySize is 1001/);
  assert.equal(readJobs(p.sweepDir).length + readJobs(big.sweepDir).length, 0, 'nothing submitted');
});

// Issue 18: hostile names through the cluster (test/cluster/injection.ts), in this file's process.
injectionTests(skip);
