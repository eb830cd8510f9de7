/**
 * The rules of a run's end (src/runs/status.ts): when a run without a summary is `killed`, and how a
 * `stopped` run says by whom or what; the stop request in the run folder (src/runs/store.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunWriter, STOP_REQUEST_FILE, readRun, readStopRequest, requestStop, watchStopRequest } from '../../src/runs/store';
import { STOP_SOURCES, UNRECORDED_STOP, runLabel, statusWithoutSummary, stopSourceText, stoppedReason, type LivenessFacts } from '../../src/runs/status';
import { stopCause } from '../../src/runs/slurm';
import type { ExperimentConfig } from '../../src/shared/experiment';
import type { RunSummary } from '../../src/shared/protocol';
import { tempFolder } from '../tmp';

const STALE = 90_000;
const facts = (f: Partial<LivenessFacts>): LivenessFacts => ({ heartbeatAgeMs: 1000, sameHost: true, pidAlive: true, staleMs: STALE, ...f });

test('a run without a summary is running only while its trainer shows signs of life', () => {
  // Fresh heartbeat and a live pid on this host: running.
  assert.equal(statusWithoutSummary(facts({})), 'running');
  // The trainer really died: its pid is gone (on its own host, known at once) …
  assert.equal(statusWithoutSummary(facts({ pidAlive: false })), 'killed');
  // … or its heartbeat went stale (another host, where the pid cannot be asked).
  assert.equal(statusWithoutSummary(facts({ heartbeatAgeMs: STALE + 1, sameHost: false, pidAlive: false })), 'killed');
  // A stale heartbeat is not outweighed by a live pid: pids are reused.
  assert.equal(statusWithoutSummary(facts({ heartbeatAgeMs: STALE + 1 })), 'killed');
  // Another host with a fresh heartbeat: running (its pid means nothing here).
  assert.equal(statusWithoutSummary(facts({ sameHost: false, pidAlive: false })), 'running');
  // Exactly at the limit still counts as fresh.
  assert.equal(statusWithoutSummary(facts({ heartbeatAgeMs: STALE })), 'running');
  // Runs made before heartbeats: the pid is all there is.
  assert.equal(statusWithoutSummary(facts({ heartbeatAgeMs: undefined })), 'running');
  assert.equal(statusWithoutSummary(facts({ heartbeatAgeMs: undefined, pidAlive: false })), 'killed');
  assert.equal(statusWithoutSummary(facts({ heartbeatAgeMs: undefined, sameHost: false })), 'killed');
});

test('every stop source says who or what asked, in words', () => {
  const said = Object.fromEntries(STOP_SOURCES.map((by) => [by, stopSourceText({ by })]));
  assert.deepEqual(said, {
    vscode: 'Stop in VS Code',
    'ctrl-c': 'Ctrl-C in the terminal',
    'stdout-closed': 'the reader of --json went away',
    signal: 'a signal',
    sweep: 'the sweep was cancelled',
    slurm: 'Slurm',
  });
  assert.equal(stopSourceText({ by: 'signal', detail: 'SIGTERM' }), 'SIGTERM');
  assert.equal(stopSourceText({ by: 'slurm', detail: 'CANCELLED' }), 'Slurm CANCELLED');
  assert.equal(stopSourceText({ by: 'slurm', detail: '' }), 'Slurm');
});

test("a stopped run's reason is the trainer's words and who asked; never a bare 'stopped'", () => {
  assert.equal(stoppedReason('stopped by request at step 120', { by: 'vscode' }), 'stopped by request at step 120: asked by Stop in VS Code');
  assert.equal(stoppedReason(undefined, { by: 'ctrl-c' }), 'stopped: asked by Ctrl-C in the terminal');
  assert.equal(stoppedReason('  ', { by: 'slurm', detail: 'TIMEOUT' }), 'stopped: asked by Slurm TIMEOUT');
  assert.equal(stoppedReason('stopped by request after epoch 3', undefined), `stopped by request after epoch 3: ${UNRECORDED_STOP}`);
});

const config = { name: 'stop-me' } as unknown as ExperimentConfig;
function stoppedSummary(w: RunWriter, reason: string): RunSummary {
  return { runId: w.runId, runDir: w.runDir, backend: 'cpu', finished: false, stopped: true, reason, nets: [], alerts: [], startedAt: 'a', endedAt: 'b' };
}

test('a stop request is recorded once (the first wins) and folded into the stopped run it stopped', () => {
  const dir = tempFolder('gradflow-stop-');
  const w = RunWriter.create(dir, config);
  assert.equal(readStopRequest(w.runDir), undefined);
  assert.equal(requestStop(w.runDir, { by: 'vscode' }), true);
  assert.equal(requestStop(w.runDir, { by: 'ctrl-c' }), false, 'a second request does not replace the first');
  const r = readStopRequest(w.runDir);
  assert.equal(r?.by, 'vscode');
  assert.equal(r?.pid, process.pid);
  assert.equal(r?.host, os.hostname());
  assert.ok(r !== undefined && !Number.isNaN(Date.parse(r.at)));
  // Still running: the request alone does not end a run (its host stops the trainer, which writes the summary).
  assert.equal(readRun(w.runDir)?.status, 'running');
  w.finish(stoppedSummary(w, 'stopped by request at step 7'));
  const rec = readRun(w.runDir);
  assert.equal(rec?.status, 'stopped');
  assert.equal(rec?.stoppedBy, 'Stop in VS Code');
  assert.equal(rec?.reason, 'stopped by request at step 7: asked by Stop in VS Code');
});

test('a stopped run with no request recorded says so; a malformed request reads as none', () => {
  const dir = tempFolder('gradflow-stop-');
  const w = RunWriter.create(dir, config);
  fs.writeFileSync(path.join(w.runDir, STOP_REQUEST_FILE), '{"by":"the-cat","at":"now"}');
  assert.equal(readStopRequest(w.runDir), undefined);
  w.finish(stoppedSummary(w, 'stopped by request at step 3'));
  const rec = readRun(w.runDir);
  assert.equal(rec?.status, 'stopped');
  assert.equal(rec?.stoppedBy, undefined);
  assert.equal(rec?.reason, `stopped by request at step 3: ${UNRECORDED_STOP}`);
});

test('a stop request in a folder that cannot be written is an error naming the file and folder', { skip: process.getuid?.() === 0 ? 'root writes anywhere' : false }, () => {
  const dir = tempFolder('gradflow-stop-');
  fs.chmodSync(dir, 0o500);
  assert.throws(() => requestStop(dir, { by: 'vscode' }), /permission denied while writing stop-request\.json, run folder /);
});

test('a stop request in a missing folder is an error naming the file and folder', () => {
  const dir = path.join(os.tmpdir(), `gradflow-stop-missing-${process.pid}`, 'run');
  assert.throws(() => requestStop(dir, { by: 'vscode' }), /ENOENT while writing stop-request\.json, run folder .*run/);
});

test('watchStopRequest calls back once, with the request, when it appears', async () => {
  const dir = tempFolder('gradflow-stop-');
  const seen: string[] = [];
  let resolve: () => void = () => undefined;
  const got = new Promise<void>((r) => (resolve = r));
  const unwatch = watchStopRequest(
    dir,
    (r) => {
      seen.push(`${r.by}/${r.detail ?? ''}`);
      resolve();
    },
    20,
  );
  requestStop(dir, { by: 'slurm', detail: 'CANCELLED' });
  // The watcher's timer does not keep a process alive (unref): this test's does.
  const keep = setInterval(() => undefined, 1000);
  await got;
  clearInterval(keep);
  // Later ticks do not call again.
  await new Promise((r) => setTimeout(r, 100));
  unwatch();
  assert.deepEqual(seen, ['slurm/CANCELLED']);
});

test('a list names who stopped a run; other statuses as before', () => {
  assert.equal(runLabel({ status: 'stopped', stoppedBy: 'Stop in VS Code' }), 'stopped (Stop in VS Code)');
  assert.equal(runLabel({ status: 'stopped', stoppedBy: 'Slurm CANCELLED' }), 'stopped (Slurm CANCELLED)');
  assert.equal(runLabel({ status: 'stopped' }), 'stopped');
  assert.equal(runLabel({ status: 'diverged', diverged: ['sparse'] }), 'diverged (sparse)');
  assert.equal(runLabel({ status: 'killed', stoppedBy: 'ignored' }), 'killed');
});

test("a Slurm task's stop: Slurm's state when Slurm ended it, else the request in the folder", () => {
  const at = '2026-01-01T00:00:00Z';
  // scancel: the task recorded Slurm's SIGTERM (its state unknown at that moment); the follower knows CANCELLED.
  assert.deepEqual(stopCause('CANCELLED', { by: 'slurm', detail: 'SIGTERM', at }), { by: 'slurm', detail: 'CANCELLED' });
  assert.deepEqual(stopCause('CANCELLED by 0', undefined), { by: 'slurm', detail: 'CANCELLED' });
  assert.deepEqual(stopCause('TIMEOUT', undefined), { by: 'slurm', detail: 'TIMEOUT' });
  // Someone asked through the folder (Stop in VS Code on the task's run): that is who stopped it.
  assert.deepEqual(stopCause('COMPLETED', { by: 'vscode', at }), { by: 'vscode', at });
  assert.deepEqual(stopCause('CANCELLED', { by: 'vscode', at }), { by: 'vscode', at });
  assert.equal(stopCause('COMPLETED', undefined), undefined);
  assert.equal(stoppedReason('stopped by request at step 4', stopCause('CANCELLED', undefined)), 'stopped by request at step 4: asked by Slurm CANCELLED');
});
