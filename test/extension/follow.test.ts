/**
 * Following a run from its folder (src/extension/runs/follow.ts): how a window shows a run it did
 * not start (a window before a reload, the CLI). Every message in order, the ones written before
 * the follower started first; a torn line completed later; the end from the folder's status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunFollower } from '../../src/extension/runs/follow';
import { RunWriter, type RunRecord } from '../../src/runs/store';
import { startTrainer } from '../../src/runs/trainer-client';
import type { ExperimentConfig } from '../../src/shared/experiment';
import type { TrainerToHost } from '../../src/shared/protocol';
import { configOf, syntheticYaml, tmpDir, trainerPath } from '../trainer/helpers';

function follow(runDir: string): { messages: TrainerToHost[]; caughtUp: number[]; ended: Promise<RunRecord>; follower: RunFollower } {
  const messages: TrainerToHost[] = [];
  const caughtUp: number[] = [];
  let resolve: (r: RunRecord) => void = () => undefined;
  const ended = new Promise<RunRecord>((r) => (resolve = r));
  const follower = new RunFollower(runDir, { message: (m) => messages.push(m), ended: (r) => resolve(r), caughtUp: (n) => caughtUp.push(n) }, { pollMs: 10, statusMs: 30 });
  follower.start();
  return { messages, caughtUp, ended, follower };
}

async function until(what: string, cond: () => boolean, boundMs = 10_000): Promise<void> {
  const end = Date.now() + boundMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not seen within ${boundMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const logText = (ms: TrainerToHost[]): string[] => ms.map((m) => (m.type === 'log' ? m.message : m.type));

test('a followed run: the messages written before, then the new ones, in order; its end from the summary', async () => {
  const dir = tmpDir('follow');
  const w = RunWriter.create(dir, { name: 'followed' } as unknown as ExperimentConfig);
  w.append({ type: 'log', level: 'info', message: 'before-1' });
  w.append({ type: 'log', level: 'info', message: 'before-2' });
  w.flush();
  const f = follow(w.runDir);
  await until('the two lines written before', () => f.messages.length === 2);
  // The backlog is told once, with its count (the window logs how long reading it took).
  await until('caught up', () => f.caughtUp.length === 1);
  assert.deepEqual(f.caughtUp, [2]);
  // A line written in two parts (a flush that cut it): emitted once, whole, when it is complete.
  const line = JSON.stringify({ type: 'log', level: 'warn', message: 'split' });
  const file = path.join(w.runDir, 'metrics.jsonl');
  w.append({ type: 'log', level: 'info', message: 'after-1' });
  w.flush();
  await until('after-1', () => f.messages.length === 3);
  fs.appendFileSync(file, line.slice(0, 10));
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(f.messages.length, 3, 'half a line is not a message');
  fs.appendFileSync(file, line.slice(10) + '\nnot json\n');
  await until('the split line', () => f.messages.length === 4);
  // The writer's own offset is behind the lines added by hand: write the summary directly.
  w.finish({ runId: w.runId, runDir: w.runDir, backend: 'cpu', finished: true, stopped: false, nets: [], alerts: [], startedAt: 'a', endedAt: 'b' });
  const rec = await f.ended;
  assert.equal(rec.status, 'finished');
  assert.deepEqual(logText(f.messages), ['before-1', 'before-2', 'after-1', 'split']);
  assert.deepEqual(f.caughtUp, [2], 'caught up once only');
  assert.equal(f.follower.skipped, 1, 'the damaged line is skipped and counted');
});

test('a followed run whose trainer is killed ends killed (pid gone, no summary), after its last messages', async () => {
  const runsDir = tmpDir('follow');
  const config = configOf(syntheticYaml({ runsDir, epochs: 5000, trainSize: 256 }));
  const h = startTrainer({ trainerPath, config });
  const runDir = await new Promise<string>((resolve) => h.onMessage((m) => m.type === 'ready' && resolve(m.runDir)));
  const f = follow(runDir);
  await until('steps of the live run', () => f.messages.some((m) => m.type === 'step'), 60_000);
  h.kill();
  await h.exited;
  const rec = await f.ended;
  assert.equal(rec.status, 'killed');
  assert.equal(f.messages[0]?.type, 'ready', 'the log is read from its start');
  const steps = f.messages.filter((m): m is Extract<TrainerToHost, { type: 'step' }> => m.type === 'step').map((m) => m.metrics.step);
  assert.ok(steps.length > 0);
  // In order, none twice (per net).
  const sparse = f.messages.filter((m): m is Extract<TrainerToHost, { type: 'step' }> => m.type === 'step' && m.metrics.net === 'sparse').map((m) => m.metrics.step);
  assert.deepEqual(sparse, [...sparse].sort((a, b) => a - b));
  assert.equal(new Set(sparse).size, sparse.length);
});

test('a disposed follower reads and tells nothing more', async () => {
  const dir = tmpDir('follow');
  const w = RunWriter.create(dir, { name: 'followed' } as unknown as ExperimentConfig);
  const f = follow(w.runDir);
  f.follower.dispose();
  w.append({ type: 'log', level: 'info', message: 'late' });
  w.finish({ runId: w.runId, runDir: w.runDir, backend: 'cpu', finished: true, stopped: false, nets: [], alerts: [], startedAt: 'a', endedAt: 'b' });
  const raced = await Promise.race([f.ended.then(() => 'ended'), new Promise((r) => setTimeout(() => r('quiet'), 200))]);
  assert.equal(raced, 'quiet');
  assert.deepEqual(f.messages, []);
});
