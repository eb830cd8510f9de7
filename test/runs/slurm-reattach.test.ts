/**
 * Issue 23: which Slurm sweeps a window follows again on activation (src/runs/slurm-reattach.ts),
 * on sweep folders written here as the Slurm executor writes them (jobs.jsonl, batch files, task
 * records, manifest, run folders). Slurm's answer is an input of the decision (`ask`): here a table
 * of squeue answers; the real squeue is asked in test/e2e/gradflow-slurm.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { arrayStatesAsync, readJobs } from '../../src/runs/slurm';
import { arrayIsLive, candidateJobs, findLiveSlurmSweeps, reattachPlan, type SlurmAnswer } from '../../src/runs/slurm-reattach';
import { RunWriter } from '../../src/runs/store';
import { parseExperiment } from '../../src/config/parse';
import { finishedSummary } from '../helpers/run-summary';
import { tempFolder } from '../tmp';

interface JobSpec {
  jobId: string;
  /** Config ids of the array, in index order. */
  ids: string[];
  from?: unknown;
  maxParallel?: unknown;
  /** Indices whose task recorded its end. */
  recorded?: number[];
}

/** A sweep folder as `gradflow sweep --executor slurm` / Run Sweep leave it. */
function writeSweep(runsDir: string, name: string, manifestIds: string[], jobs: JobSpec[], sourceFile = `/ws/${name}.gradflow.yaml`): string {
  const dir = path.join(runsDir, `sweep-${name}`);
  fs.mkdirSync(path.join(dir, 'slurm', 'tasks'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'sweep.json'), JSON.stringify({ name, sourceFile, createdAt: '2026-12-06T00:00:00Z', runs: manifestIds.map((id, i) => ({ id, point: { seed: i } })) }));
  const lines: string[] = [];
  for (const j of jobs) {
    const batch = path.join(dir, 'slurm', `batch-${j.jobId}.json`);
    fs.writeFileSync(batch, JSON.stringify({ createdAt: '2026-12-06T00:00:00Z', tasks: j.ids.map((id) => ({ id, point: {}, config: {} })) }));
    lines.push(
      JSON.stringify({
        jobId: j.jobId,
        batch,
        tasks: j.ids.length,
        submittedAt: '2026-12-06T00:00:00Z',
        ...(j.from !== undefined ? { from: j.from } : {}),
        ...(j.maxParallel !== undefined ? { maxParallel: j.maxParallel } : {}),
      }),
    );
    for (const i of j.recorded ?? [])
      fs.writeFileSync(path.join(dir, 'slurm', 'tasks', `${j.jobId}_${i}.json`), JSON.stringify({ jobId: j.jobId, index: i, configId: j.ids[i], status: 'finished', endedAt: '2026-12-06T00:01:00Z' }));
  }
  fs.writeFileSync(path.join(dir, 'slurm', 'jobs.jsonl'), lines.join('\n') + '\n');
  return dir;
}

function tmp(): string {
  return tempFolder('gradflow-reattach-');
}

/** squeue's answers by job id; records which jobs were asked. */
function squeue(answers: Record<string, SlurmAnswer>): { ask: (jobId: string) => Promise<SlurmAnswer>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    ask: (jobId) => {
      asked.push(jobId);
      const a = answers[jobId];
      assert.ok(a !== undefined, `job ${jobId} was not expected to be asked about`);
      return Promise.resolve(a);
    },
  };
}

const states = (...s: string[]): Map<number, string> => new Map(s.map((v, i) => [i, v]));

test('the arrays a window may follow again: submitted from VS Code, with a task that has not recorded its end', () => {
  const runs = tmp();
  try {
    const dir = writeSweep(runs, 's', ['a', 'b', 'c'], [
      { jobId: '11', ids: ['a', 'b'], from: 'vscode' }, // nothing recorded: a candidate
      { jobId: '12', ids: ['a', 'b'], from: 'vscode', recorded: [0, 1] }, // every task recorded its end: over
      { jobId: '13', ids: ['c'] }, // the CLI's (no `from`): the terminal's to follow
      { jobId: '14', ids: ['a', 'b', 'c'], from: 'vscode', recorded: [0, 2] }, // task 1 not recorded: a candidate
      { jobId: '15', ids: ['c'], from: 'VSCode', maxParallel: '2' }, // an edited line: not VS Code's, no %N
      { jobId: '16', ids: ['c'], from: 'vscode', maxParallel: 1 },
    ]);
    assert.deepEqual(candidateJobs(dir).map((j) => j.jobId), ['11', '14', '16']);
    const jobs = readJobs(dir);
    assert.equal(jobs.find((j) => j.jobId === '15')?.from, undefined, 'only the exact `vscode` is kept');
    assert.equal(jobs.find((j) => j.jobId === '15')?.maxParallel, undefined, 'a %N that is not a positive integer is dropped');
    assert.equal(jobs.find((j) => j.jobId === '16')?.maxParallel, 1);
  } finally {
    fs.rmSync(runs, { recursive: true, force: true });
  }
});

test("live by squeue's answer: a task in a state that is not over; all over, or forgotten by Slurm, is not live", () => {
  assert.equal(arrayIsLive(states('COMPLETED', 'RUNNING', 'PENDING')), true);
  assert.equal(arrayIsLive(states('COMPLETED', 'PENDING')), true, 'pending tasks alone keep it live');
  assert.equal(arrayIsLive(states('CANCELLED', 'COMPLETING')), true, 'a task still completing (KillWait after scancel)');
  assert.equal(arrayIsLive(states('SUSPENDED')), true);
  assert.equal(arrayIsLive(states('REQUEUED')), true, 'requeued: it will run again');
  assert.equal(arrayIsLive(states('COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT')), false);
  assert.equal(arrayIsLive(states('OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED')), false);
  assert.equal(arrayIsLive(new Map()), false, 'squeue no longer knows the job (MinJobAge passed)');
});

test('which sweeps to follow: the live VS Code arrays of every runs folder; ended ones are not announced again', async () => {
  const a = tmp();
  const b = tmp();
  try {
    const live = writeSweep(a, 'live', ['c1', 'c2', 'c3'], [
      { jobId: '100', ids: ['c1'], from: 'vscode' }, // an earlier array, over
      { jobId: '101', ids: ['c2', 'c3'], from: 'vscode' },
    ]);
    writeSweep(a, 'ended', ['c1', 'c2'], [{ jobId: '200', ids: ['c1', 'c2'], from: 'vscode' }]);
    writeSweep(a, 'forgotten', ['c1'], [{ jobId: '300', ids: ['c1'], from: 'vscode' }]);
    writeSweep(b, 'cli', ['c1'], [{ jobId: '400', ids: ['c1'] }]);
    const other = writeSweep(b, 'other', ['x', 'y'], [{ jobId: '500', ids: ['x', 'y'], from: 'vscode' }], '/ws/other.gradflow.yaml');
    writeSweep(b, 'recorded', ['x'], [{ jobId: '600', ids: ['x'], from: 'vscode', recorded: [0] }]);
    fs.writeFileSync(path.join(b, 'sweep-not-a-folder'), 'x');
    const slurm = squeue({
      '100': states('COMPLETED'),
      '101': states('RUNNING', 'PENDING'),
      '200': states('COMPLETED', 'CANCELLED'),
      '300': new Map(),
      '500': states('CANCELLED', 'COMPLETING'),
    });
    const scan = await findLiveSlurmSweeps([a, b, path.join(b, 'missing')], { ask: slurm.ask });
    assert.deepEqual(
      scan.live.map((s) => ({ dir: s.dir, name: s.name, sourceFile: s.sourceFile, jobs: s.jobs.map((j) => j.jobId) })),
      [
        { dir: path.resolve(live), name: 'live', sourceFile: '/ws/live.gradflow.yaml', jobs: ['101'] },
        { dir: path.resolve(other), name: 'other', sourceFile: '/ws/other.gradflow.yaml', jobs: ['500'] },
      ],
    );
    // The CLI's array and the one whose tasks all recorded their end are not even asked about.
    assert.deepEqual(slurm.asked.sort(), ['100', '101', '200', '300', '500']);
    assert.deepEqual(scan.notAsked, []);
    assert.deepEqual(scan.errors, []);

    // Folders this window follows already are skipped (and Slurm not asked about them).
    const again = squeue({ '100': states('COMPLETED'), '200': states('COMPLETED', 'COMPLETED'), '300': new Map() });
    const skipped = await findLiveSlurmSweeps([a, b], { ask: again.ask, skip: (dir) => dir === path.resolve(live) || dir === path.resolve(other) });
    assert.deepEqual(skipped.live, []);
    assert.deepEqual(again.asked.sort(), ['200', '300']);
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
});

test('when Slurm cannot be asked nothing is followed, the caller is told why, and squeue is not tried again', async () => {
  const runs = tmp();
  try {
    writeSweep(runs, 'one', ['c1'], [{ jobId: '7', ids: ['c1'], from: 'vscode' }]);
    writeSweep(runs, 'two', ['c1', 'c2'], [
      { jobId: '8', ids: ['c1'], from: 'vscode' },
      { jobId: '9', ids: ['c2'], from: 'vscode' },
    ]);
    const slurm = squeue({ '7': 'squeue failed: slurm_load_jobs error: Unable to contact slurm controller (connect failure)' });
    const scan = await findLiveSlurmSweeps([runs], { ask: slurm.ask });
    assert.deepEqual(scan.live, []);
    assert.deepEqual(slurm.asked, ['7'], 'asked once: every further try would wait for the same failure');
    assert.deepEqual(
      scan.notAsked.map((n) => [path.basename(n.dir), n.jobId]),
      [
        ['sweep-one', '7'],
        ['sweep-two', '8'],
        ['sweep-two', '9'],
      ],
    );
    assert.ok(scan.notAsked.every((n) => /Unable to contact slurm controller/.test(n.why)));
  } finally {
    fs.rmSync(runs, { recursive: true, force: true });
  }
});


test('the plan of a sweep followed again: the arrays are what runs; other configurations done before or left to another scheduler', () => {
  const runs = tmp();
  try {
    // Four configurations; c1 finished before the array (skipped), c4 is in no array and unfinished
    // (it was held by another scheduler at submission), c2 and c3 are the %1 array's two tasks.
    const dir = writeSweep(runs, 'plan', ['c1', 'c2', 'c3', 'c4'], [{ jobId: '21', ids: ['c2', 'c3'], from: 'vscode', maxParallel: 1 }]);
    const parsed = parseExperiment('name: plan\n', '/ws/plan.gradflow.yaml');
    assert.ok(parsed.config);
    const done = RunWriter.create(dir, parsed.config, { configId: 'c1' });
    done.finish(finishedSummary(done.runId, done.runDir));
    const stopped = RunWriter.create(dir, parsed.config, { configId: 'c4' });
    stopped.finish({ ...finishedSummary(stopped.runId, stopped.runDir), finished: false, stopped: true, reason: 'stopped by request' });
    const jobs = readJobs(dir);
    const one = reattachPlan({ dir, name: 'plan', jobs });
    assert.deepEqual(one.event, { type: 'plan', total: 4, skipped: 1, toRun: 2, workers: 1, otherVersions: [] });
    assert.equal(one.busy, 1, 'c4: in no live array and not complete');

    // Two live arrays: their tasks add up, each runs at its own %N (or its size without one).
    fs.writeFileSync(path.join(dir, 'slurm', 'batch-22.json'), JSON.stringify({ createdAt: '', tasks: [{ id: 'c4', point: {}, config: {} }] }));
    const two = reattachPlan({ dir, name: 'plan', jobs: [...jobs, { jobId: '22', batch: path.join(dir, 'slurm', 'batch-22.json'), tasks: 1, submittedAt: '' }] });
    assert.deepEqual(two.event, { type: 'plan', total: 4, skipped: 1, toRun: 3, workers: 2, otherVersions: [] });
    assert.equal(two.busy, 0);

    // A batch file that is gone: said, not guessed.
    assert.throws(() => reattachPlan({ dir, name: 'plan', jobs: [{ jobId: '23', batch: path.join(dir, 'slurm', 'gone.json'), tasks: 1, submittedAt: '' }] }), /cannot read the batch file/);
  } finally {
    fs.rmSync(runs, { recursive: true, force: true });
  }
});

test('without squeue on PATH, Slurm cannot be asked: said in words, not taken for an ended array', async () => {
  const empty = tmp();
  const saved = process.env.PATH;
  try {
    process.env.PATH = empty;
    const answer = await arrayStatesAsync('12345');
    assert.equal(answer, 'squeue is not on PATH');
  } finally {
    process.env.PATH = saved;
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
