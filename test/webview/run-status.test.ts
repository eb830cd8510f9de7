/**
 * The dashboard speaks the one run status (src/shared/run-status.ts) end to end: real run folders
 * (test/fixtures/webview/*-run, recorded with `gradflow run` from the .gradflow.yaml files beside
 * them) read back through the extension's loader, the live message stream, the guards and the
 * page's reducer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DashboardState } from '../../src/extension/dashboard/state';
import { loadIntoDashboard } from '../../src/extension/runs/past-runs';
import { readMetrics, readRun, type RunRecord } from '../../src/runs/store';
import { RUN_STATUSES, statusDescription, statusLabel } from '../../src/shared/run-status';
import { MAX_LOG_TAIL, emptyModel, isHostToPage, type RunMeta } from '../../src/shared/webview-protocol';
import { init, pageApply, ready, wire } from './fixtures';
import { at } from '../../src/shared/checked';
import { tempFolder } from '../tmp';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/webview');

/** A copy of a fixture run folder in a temporary runs folder (tests may damage it). */
function copyRun(name: string): string {
  const runs = tempFolder('gradflow-status-');
  const dir = path.join(runs, name);
  fs.cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

/** The folder's record, checked to have `status`, and the meta the page shows after Open Past Run. */
function openPast(dir: string, status: RunRecord['status']): { record: RunRecord; meta: RunMeta } {
  const record = readRun(dir);
  assert.ok(record);
  assert.equal(record.status, status);
  const state = new DashboardState();
  loadIntoDashboard(state, record);
  return { record, meta: metaOf(state, record.runId) };
}

function metaOf(state: DashboardState, runId: string): RunMeta {
  const page = pageApply(emptyModel(), [init(state)]);
  const run = page.runs.find((r) => r.meta.runId === runId);
  assert.ok(run, `run ${runId} on the page`);
  return run.meta;
}

describe('run status on the dashboard', () => {
  it('a run where both nets hit NaN is diverged, naming both nets, not done', () => {
    const dir = copyRun('nan-run');
    // Replayed from the folder (Open Past Run) ...
    const { record, meta } = openPast(dir, 'diverged');
    assert.equal(meta.status, 'diverged');
    assert.deepEqual(meta.diverged, ['sparse', 'dense']);
    assert.equal(meta.startedAt, '2026-12-01T05:36:32.675Z');
    assert.equal(meta.logTail, undefined, 'a diverged run trained to its end: no failure panel');
    // ... and live, from the same messages, page and replay agree.
    const live = new DashboardState();
    let page = pageApply(emptyModel(), [init(live)]);
    for (const m of readMetrics(dir)) {
      live.apply(record.runId, m);
      page = pageApply(page, live.drainUpdates());
    }
    assert.equal(at(page.runs, 0).meta.status, 'diverged');
    assert.deepEqual(at(page.runs, 0).meta.diverged, ['sparse', 'dense']);
    assert.deepEqual(page, pageApply(emptyModel(), [init(live)]));
    assert.equal(statusLabel('diverged', meta.diverged), 'diverged (sparse, dense)');
    assert.match(statusDescription('diverged', meta.diverged), /the sparse and dense nets hit NaN or Infinity/);
  });

  it('a finished run is finished', () => {
    const { meta } = openPast(copyRun('dyn-run'), 'finished');
    assert.equal(meta.status, 'finished');
    assert.equal(meta.diverged, undefined);
  });

  it('a killed run (log cut mid-line, no summary, stale heartbeat) opens killed, with what it measured and its log tail', () => {
    const dir = copyRun('dyn-run');
    const lines = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n');
    // What a SIGKILL leaves: the first 40 lines and half of the 41st.
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.slice(0, 40).join('\n') + '\n' + at(lines, 40).slice(0, 30));
    fs.rmSync(path.join(dir, 'summary.json'));
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(path.join(dir, 'heartbeat'), old, old);
    const record = readRun(dir);
    assert.ok(record);
    assert.equal(record.status, 'killed');
    const state = new DashboardState();
    loadIntoDashboard(state, record);
    const page = pageApply(emptyModel(), [init(state)]);
    const run = at(page.runs, 0);
    assert.equal(run.meta.status, 'killed');
    assert.match(run.meta.message ?? '', /^killed: the trainer died without writing a summary; 1 unreadable line\(s\) in metrics.jsonl skipped \(first: line 41\) \(the last line is partial: the trainer stopped mid-write\)$/);
    // The log lines of the fixture's first 40 lines, in order.
    const expected = lines
      .slice(0, 40)
      .map((l) => JSON.parse(l) as { type: string; level?: string; message?: string })
      .filter((m) => m.type === 'log')
      .map((m) => `${m.level === 'info' ? '' : `${m.level ?? ''}: `}${m.message ?? ''}`);
    assert.ok(expected.length >= 2);
    assert.deepEqual(run.meta.logTail, expected);
    assert.ok(at(run.nets, 0).series.count > 0, 'what it measured before it died is kept');
  });

  it('a corrupt run says why', () => {
    const dir = copyRun('nan-run');
    fs.writeFileSync(path.join(dir, 'summary.json'), '{"finished": tr');
    const { meta } = openPast(dir, 'corrupt');
    assert.equal(meta.status, 'corrupt');
    assert.match(meta.message ?? '', /^corrupt: summary\.json is cut or not JSON/);
    assert.ok((meta.logTail ?? []).some((l) => l.startsWith('warn: non-finite loss in the sparse net at step 3')));
  });

  it('a trainer error: failed, its message, the log tail with the error and its stack, the stderr lines added on exit', () => {
    const state = new DashboardState();
    state.addRun({ runId: 'r', title: 't', status: 'running', startedAt: '2026-12-01T10:00:00.000Z' });
    state.apply('r', ready('r', ['sparse']));
    for (let i = 0; i < MAX_LOG_TAIL + 5; i++) state.apply('r', { type: 'log', level: i % 2 === 0 ? 'info' : 'warn', message: `line ${i}` });
    let page = pageApply(emptyModel(), [init(state)]);
    assert.equal(at(page.runs, 0).meta.logTail, undefined, 'no tail while it runs');
    state.apply('r', { type: 'error', message: 'out of memory', stack: 'Error: out of memory\n    at train (engine.js:1:1)\n    at main (trainer.js:2:2)' });
    state.setStatus('r', 'failed', 'out of memory (exit code 1)', { log: ['stderr: Aborted'] });
    page = pageApply(page, state.drainUpdates());
    const meta = at(page.runs, 0).meta;
    assert.equal(meta.status, 'failed');
    assert.equal(meta.message, 'out of memory (exit code 1)');
    assert.equal(meta.startedAt, '2026-12-01T10:00:00.000Z');
    const tail = meta.logTail ?? [];
    assert.equal(tail.length, MAX_LOG_TAIL);
    assert.deepEqual(tail.slice(-4), ['error: out of memory', '    at train (engine.js:1:1)', '    at main (trainer.js:2:2)', 'stderr: Aborted']);
    // MAX_LOG_TAIL + 5 log lines + 4 error/stack/stderr lines: the first 9 log lines are dropped.
    assert.equal(tail[0], 'warn: line 9', 'the oldest lines are dropped');
    assert.deepEqual(page, pageApply(emptyModel(), [init(state)]));
    // A later success (a re-read folder) drops the failure's tail.
    state.setStatus('r', 'finished');
    page = pageApply(page, state.drainUpdates());
    assert.equal(at(page.runs, 0).meta.logTail, undefined);
  });

  it("a sweep's run opened from its folder has the title it had live: the sweep name and its configuration", () => {
    const dir = copyRun('nan-run');
    const file = path.join(dir, 'run.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...json, name: 'tiny-sweep', sweep: 'tiny-sweep', configId: 'a19a3c0f7e' }));
    const { record, meta } = openPast(dir, 'diverged');
    assert.equal(meta.title, 'tiny-sweep [a19a3c]');
    // An entry the run manager made live (same title) keeps it when the folder is read over it.
    const state = new DashboardState();
    state.addRun({ runId: record.runId, title: 'tiny-sweep [a19a3c]', status: 'running' });
    loadIntoDashboard(state, record);
    assert.equal(metaOf(state, record.runId).title, 'tiny-sweep [a19a3c]');
  });

  it('a new run without a start time is stamped when added', () => {
    const state = new DashboardState();
    const before = Date.now();
    state.addRun({ runId: 'x', title: 'x', status: 'running' });
    const t = Date.parse(metaOf(state, 'x').startedAt ?? '');
    assert.ok(t >= before && t <= Date.now());
  });

  it('guards take every status of the one vocabulary and nothing else', () => {
    for (const status of RUN_STATUSES) assert.equal(isHostToPage({ type: 'runStatus', runId: 'r', status }), true, status);
    for (const status of ['done', 'paused', 'FINISHED', '']) assert.equal(isHostToPage({ type: 'runStatus', runId: 'r', status }), false, status);
    assert.equal(isHostToPage({ type: 'runStatus', runId: 'r', status: 'diverged', diverged: ['sparse', 'medium'] }), false);
    assert.equal(isHostToPage({ type: 'runStatus', runId: 'r', status: 'failed', logTail: new Array<string>(MAX_LOG_TAIL + 1).fill('x') }), false);
    assert.equal(isHostToPage(wire({ type: 'runStatus', runId: 'r', status: 'failed', logTail: ['a', 'b'] })), true);
  });
});
