/**
 * The detached scheduler of a local sweep (src/runs/sweep-host.ts, `gradflow sweep-host`): it runs
 * in its own process group, outlives the process that started it (a window reload), is followed
 * from its events file by whoever comes later, honours a cancel request, and is told dead when it
 * goes without its `done`. Real trainers on a tiny synthetic sweep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseExperiment, expandSweep } from '../../src/config';
import { planSweep } from '../../src/runs/sweep';
import { listRuns, readStopRequest } from '../../src/runs/store';
import {
  liveSessions,
  listSessions,
  requestSweepCancel,
  sessionFiles,
  sessionState,
  SweepSessionFollower,
  writeSessionPlan,
  START_GRACE_MS,
  type SweepHostRecord,
  type SweepSessionFiles,
} from '../../src/runs/sweep-host';
import { cliPath, tmpDir } from '../trainer/helpers';
import { at } from '../../src/shared/checked';

function sweepPlan(runsDir: string, epochs: number, seeds: number[]): ReturnType<typeof planSweep> {
  const yaml = `name: hosted
dataset:
  name: synthetic
  synthetic: { features: 8, classes: 2, train_size: 128, test_size: 32 }
model: { hidden_layers: 1, width: 16 }
sparsity: { method: random, dense_width: 4 }
training: { optimizer: adam, learning_rate: 0.01, epochs: ${epochs}, batch_size: 32 }
run: { backend: cpu, runs_dir: ${JSON.stringify(runsDir)} }
sweep:
  seeds: [${seeds.join(', ')}]
`;
  const r = parseExperiment(yaml, '/virtual/hosted.gradflow.yaml');
  assert.ok(r.config && r.sweep, r.issues.map((i) => i.message).join('\n'));
  return planSweep(r.config.name, expandSweep(r.config, r.sweep), runsDir);
}

/**
 * Starts the host the way the extension does, but from a short-lived starter process that exits at
 * once (the window that goes away): resolves with the host's pid once the starter has exited.
 */
function startFromShortLivedStarter(files: SweepSessionFiles): Promise<number> {
  const hostModule = require.resolve('../../src/runs/sweep-host');
  const script = `const h = require(${JSON.stringify(hostModule)});
const pid = h.startSweepHost({ nodePath: process.execPath, cliPath: ${JSON.stringify(cliPath)}, files: h.sessionFiles(${JSON.stringify(path.dirname(files.dir))}, ${JSON.stringify(files.id)}), cwd: ${JSON.stringify(path.dirname(files.dir))} });
process.stdout.write(String(pid));`;
  return new Promise((resolve, reject) => {
    const starter = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    starter.stdout.on('data', (d: Buffer) => (out += d.toString()));
    starter.on('error', reject);
    starter.on('exit', (code) => (code === 0 && /^\d+$/.test(out) ? resolve(Number(out)) : reject(new Error(`starter exited ${code}: ${out}`))));
  });
}

/** Follows a session to its end; resolves with every record and whether it was found dead. */
function followToEnd(files: SweepSessionFiles, onRecord: (r: SweepHostRecord) => void = () => undefined): Promise<{ records: SweepHostRecord[]; dead: boolean }> {
  return new Promise((resolve, reject) => {
    const records: SweepHostRecord[] = [];
    const f = new SweepSessionFollower(files, {
      record: (r) => {
        records.push(r);
        onRecord(r);
        if (r.kind === 'done') resolve({ records, dead: false });
      },
      dead: () => resolve({ records, dead: true }),
      error: reject,
    }, 100, 300);
    f.start();
  });
}

function pgidOf(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
}

test('a hosted sweep runs in its own process group, outlives its starter, and is followed from its events to done', async () => {
  const runsDir = tmpDir('sweep-host');
  const plan = sweepPlan(runsDir, 1, [0, 1]);
  const files = writeSessionPlan({ plan, workers: 2 });
  const pid = await startFromShortLivedStarter(files);
  // The starter is gone; the host goes on, leading its own process group (a reload kills the
  // extension host's group, not this one).
  assert.equal(pgidOf(pid), pid, 'the host leads its own process group');
  assert.notEqual(pgidOf(pid), pgidOf(process.pid));
  assert.deepEqual(liveSessions(plan.dir).map((f) => f.id), [files.id], 'a later window finds it running');
  const { records, dead } = await followToEnd(files);
  assert.equal(dead, false);
  const events = records.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
  assert.deepEqual(events[0], { type: 'plan', total: 2, skipped: 0, toRun: 2, workers: 2, otherVersions: [] });
  const ends = events.filter((e) => e.type === 'end');
  assert.deepEqual(ends.map((e) => e.status), ['finished', 'finished']);
  for (const e of ends) {
    assert.ok(e.type === 'end' && e.runDir !== undefined && e.runDir.startsWith(plan.dir), 'each end names its run folder');
    assert.ok(e.type === 'end' && e.summary !== undefined && e.summary.nets.length === 2);
  }
  const done = at(records, records.length - 1);
  assert.ok(done.kind === 'done');
  assert.equal(done.counts.finished, 2);
  assert.equal(done.cancelled, false);
  assert.equal(sessionState(files), 'ended');
  assert.deepEqual(liveSessions(plan.dir), []);
  assert.equal(listRuns(plan.dir).filter((r) => r.status === 'finished').length, 2);
  // A second follower (the window after a reload) reads the same story from the first line.
  const again = await followToEnd(files);
  assert.deepEqual(again.records, records);
  // Run again: a new session, nothing left to run.
  const second = writeSessionPlan({ plan, workers: 2 });
  await startFromShortLivedStarter(second);
  const r2 = await followToEnd(second);
  const done2 = at(r2.records, r2.records.length - 1);
  assert.ok(done2.kind === 'done' && done2.counts.skipped === 2 && done2.counts.finished === 0);
  assert.deepEqual(listSessions(plan.dir).map((f) => f.id), [files.id, second.id].sort());
});

test('Cancel: no more runs start, the running one stops asked by the sweep, and done says cancelled', async () => {
  const runsDir = tmpDir('sweep-host');
  // Long runs (one worker): the first is running when Cancel comes, the second never starts.
  const plan = sweepPlan(runsDir, 400, [0, 1]);
  const files = writeSessionPlan({ plan, workers: 1 });
  await startFromShortLivedStarter(files);
  let cancelled = false;
  const { records, dead } = await followToEnd(files, (r) => {
    if (!cancelled && r.kind === 'event' && r.event.type === 'progress' && r.event.step >= 3) {
      cancelled = true;
      assert.equal(requestSweepCancel(files, 'vscode'), true);
      assert.equal(requestSweepCancel(files, 'vscode'), false, 'the first request is the one kept');
    }
  });
  assert.equal(dead, false);
  assert.ok(cancelled, 'the run was seen progressing');
  const done = at(records, records.length - 1);
  assert.ok(done.kind === 'done');
  assert.equal(done.cancelled, true);
  assert.deepEqual({ stopped: done.counts.stopped, finished: done.counts.finished }, { stopped: 1, finished: 0 });
  const ends = records.flatMap((r) => (r.kind === 'event' && r.event.type === 'end' ? [r.event] : []));
  assert.equal(ends.length, 1, 'the second configuration never started');
  const end = at(ends, 0);
  assert.ok(end.type === 'end' && end.status === 'stopped' && end.runDir !== undefined);
  assert.equal(readStopRequest(end.runDir)?.by, 'sweep', 'the run says the sweep asked');
  assert.match(end.summary?.reason ?? '', /sweep/);
  assert.ok(records.some((r) => r.kind === 'event' && r.event.type === 'log' && /Cancel in VS Code/.test(r.event.message)));
});

test('Cancel before the running configuration has its folder: the run still says the sweep asked', async () => {
  const runsDir = tmpDir('sweep-host');
  const plan = sweepPlan(runsDir, 400, [0, 1]);
  const files = writeSessionPlan({ plan, workers: 1 });
  await startFromShortLivedStarter(files);
  const { records } = await followToEnd(files, (r) => {
    // At its start event the trainer has not named its run folder yet.
    if (r.kind === 'event' && r.event.type === 'start') requestSweepCancel(files, 'vscode');
  });
  const done = at(records, records.length - 1);
  assert.ok(done.kind === 'done' && done.cancelled);
  const ends = records.flatMap((r) => (r.kind === 'event' && r.event.type === 'end' ? [r.event] : []));
  assert.equal(ends.length, 1);
  const end = at(ends, 0);
  assert.ok(end.type === 'end');
  if (end.runDir !== undefined && end.status === 'stopped') {
    assert.equal(readStopRequest(end.runDir)?.by, 'sweep');
    assert.match(end.summary?.reason ?? '', /the sweep was cancelled/);
  } else {
    // The trainer ended before it had a folder: nothing measured, nothing to say it in.
    assert.equal(end.runDir, undefined, `status ${end.status}`);
  }
});

test('a host killed without its done is told dead; a plan whose host never started is dead after the grace', async () => {
  const runsDir = tmpDir('sweep-host');
  const plan = sweepPlan(runsDir, 400, [0]);
  const files = writeSessionPlan({ plan, workers: 1 });
  const pid = await startFromShortLivedStarter(files);
  const { records, dead } = await followToEnd(files, (r) => {
    if (r.kind === 'event' && r.event.type === 'progress' && r.event.step === 2) process.kill(-pid, 'SIGKILL'); // the whole group: host and trainer
  });
  assert.equal(dead, true);
  assert.ok(!records.some((r) => r.kind === 'done'));
  assert.equal(sessionState(files), 'dead');

  const orphan = writeSessionPlan({ plan, workers: 1 });
  assert.equal(sessionState(orphan), 'starting', 'just written: its host may still be starting');
  assert.equal(sessionState(orphan, Date.now() + START_GRACE_MS + 1000), 'dead');
  assert.throws(() => sessionFiles(plan.dir, '../x'), /not a sweep session id/);
  fs.rmSync(runsDir, { recursive: true, force: true });
});
