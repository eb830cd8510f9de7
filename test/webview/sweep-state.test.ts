/**
 * SweepState and its place in DashboardState: a sweep followed through the runner's events ends up
 * exactly as reading its folder afterwards; the page's model built from throttled incremental
 * updates equals a replay; row updates are coalesced.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DashboardState } from '../../src/extension/dashboard/state';
import { SweepState, axesOf, pointValue, type SweepStateEvent } from '../../src/extension/dashboard/sweep-state';
import { loadSweepFolder } from '../../src/extension/dashboard/sweep-folder';
import { emptyModel, type HostToPage } from '../../src/shared/webview-protocol';
import { defaultView } from '../../src/shared/sweep-table';
import { init, pageApply } from './fixtures';
import { runSummary, wire, writeSweepFolder, type RecordedRun } from './sweep-fixtures';
import { at } from '../../src/shared/checked';

const root = mkdtempSync(join(tmpdir(), 'gradflow-sweep-state-'));
after(() => rmSync(root, { recursive: true, force: true }));

const PLAN = [
  { id: 'c-sgd-0', point: { 'training.optimizer': 'sgd', 'sparsity.dense_width': 32, 'training.seed': 0 } },
  { id: 'c-sgd-1', point: { 'training.optimizer': 'sgd', 'sparsity.dense_width': 32, 'training.seed': 1 } },
  { id: 'c-adam-0', point: { 'training.optimizer': 'adam', 'sparsity.dense_width': 32, 'training.seed': 0 } },
  { id: 'c-adam-1', point: { 'training.optimizer': 'adam', 'sparsity.dense_width': 32, 'training.seed': 1 } },
];

/** Finished runs with hand-picked results; one Adam net diverged (null = NaN on disk). */
const RESULTS: Record<string, Parameters<typeof runSummary>[2]> = {
  'c-sgd-0': { sparse: { acc: 0.875, loss: 0.25, egf1: 12, egf2: 0.5 }, dense: { acc: 0.75, loss: 0.5, egf1: 10, egf2: 0.25 } },
  'c-sgd-1': { sparse: { acc: 0.8125, loss: 0.375, egf1: 11, egf2: 0.5 }, dense: { acc: 0.8125, loss: 0.375, egf1: 9, egf2: 0.25 } },
  'c-adam-0': { sparse: { acc: 0.5, loss: 1.5, egf1: 3, egf2: 0.125 }, dense: { acc: 0.625, loss: 1.25, egf1: 4, egf2: 0.25 } },
  'c-adam-1': { sparse: { acc: null, loss: null, egf1: null, egf2: null }, dense: { acc: 0.625, loss: 1, egf1: 4, egf2: 0.5 } },
};

function finishedFolder(name: string): { dir: string; summaries: Map<string, ReturnType<typeof runSummary>> } {
  const dir = join(root, `sweep-${name}`);
  const runs: RecordedRun[] = PLAN.map((p, i) => ({
    runId: `20261126-08000${i}-${name}-${p.id}`,
    configId: p.id,
    startedAt: `2026-11-26T08:00:0${i}.000Z`,
    summary: (runDir) => runSummary(`20261126-08000${i}-${name}-${p.id}`, runDir, RESULTS[p.id] ?? assert.fail(`no results for ${p.id}`)),
  }));
  const summaries = writeSweepFolder(dir, { name, sourceFile: '/w/fmnist.gradflow.yaml', runs: PLAN }, runs);
  return { dir, summaries };
}

describe('SweepState: events vs folder', () => {
  it('folding the runner events of a whole sweep equals loading the finished folder', () => {
    const { dir, summaries } = finishedFolder('fmnist');
    const loaded = loadSweepFolder(dir);

    // Live: the state starts from the folder as it was when the sweep began (only the manifest).
    const live = new SweepState({ sweepId: dir, name: 'fmnist', sourceFile: '/w/fmnist.gradflow.yaml', createdAt: '2026-11-26T07:59:00.000Z', status: 'recorded' }, PLAN);
    const events: SweepStateEvent[] = [{ type: 'plan', total: 4, skipped: 0, toRun: 4, workers: 2, otherVersions: [] }];
    const byConfig = new Map([...summaries.values()].map((s) => [PLAN.find((p) => s.runId.endsWith(p.id))?.id ?? '', s]));
    // Two workers: starts and ends interleave as they would.
    for (const pair of [PLAN.slice(0, 2), PLAN.slice(2)]) {
      for (const p of pair) events.push({ type: 'start', id: p.id, point: p.point });
      for (const p of pair) {
        const s = byConfig.get(p.id);
        assert.ok(s);
        events.push({ type: 'run', id: p.id, runId: s.runId, runDir: s.runDir });
      }
      for (let step = 10; step <= 100; step += 30) for (const p of pair) events.push({ type: 'progress', id: p.id, step, totalSteps: 100 });
      for (const p of [...pair].reverse()) {
        const summary = byConfig.get(p.id);
        assert.ok(summary);
        events.push({ type: 'end', id: p.id, status: 'finished', summary });
      }
    }
    for (const e of events) live.apply(e);
    assert.deepEqual(live.model(), loaded.model());
    for (const p of PLAN) assert.deepEqual(live.runOf(p.id), loaded.runOf(p.id));

    const m = loaded.model();
    assert.deepEqual(m.info.axes, ['training.optimizer', 'sparsity.dense_width', 'training.seed']);
    assert.equal(m.info.name, 'fmnist');
    assert.equal(m.info.sourceFile, '/w/fmnist.gradflow.yaml');
    assert.deepEqual(m.rows.map((r) => r.status), ['finished', 'finished', 'finished', 'finished']);
    assert.deepEqual(at(m.rows, 0).sparse, { testAccuracy: 0.875, testLoss: 0.25, egf1: 12, egf2: 0.5, g1: 1, g2: 0.1 });
    assert.deepEqual(at(m.rows, 3).sparse, { testAccuracy: null, testLoss: null, egf1: null, egf2: null, g1: 1, g2: 0.1 });
    assert.equal(at(m.rows, 3).dense?.testAccuracy, 0.625);
  });

  it('a Slurm sweep: rows show each task\'s Slurm state until the run ends', () => {
    const s = new SweepState({ sweepId: '/s', name: 's', status: 'running' }, PLAN);
    s.apply({ type: 'slurm', id: 'c-sgd-0', state: 'PENDING', task: '12_0' });
    assert.equal(s.row('c-sgd-0')?.status, 'pending');
    assert.equal(s.row('c-sgd-0')?.message, 'Slurm PENDING (task 12_0)');
    s.apply({ type: 'slurm', id: 'c-sgd-0', state: 'RUNNING', task: '12_0' });
    assert.equal(s.row('c-sgd-0')?.status, 'running');
    assert.equal(s.row('c-sgd-0')?.message, 'Slurm RUNNING (task 12_0)');
    s.apply({ type: 'end', id: 'c-sgd-0', status: 'stopped', error: 'Slurm CANCELLED' });
    assert.equal(s.row('c-sgd-0')?.status, 'stopped');
    assert.equal(s.row('c-sgd-0')?.message, 'Slurm CANCELLED');
    s.apply({ type: 'slurm', id: 'c-sgd-0', state: 'CANCELLED', task: '12_0' });
    assert.equal(s.row('c-sgd-0')?.message, 'Slurm CANCELLED', 'an ended row keeps its outcome');
  });

  it('mid-sweep rows: running with progress, pending, and a restart clears the old run', () => {
    const s = new SweepState({ sweepId: '/s', name: 's', status: 'running' }, PLAN);
    assert.deepEqual(s.apply({ type: 'start', id: 'c-sgd-0', point: at(PLAN, 0).point }), ['c-sgd-0']);
    assert.deepEqual(s.apply({ type: 'progress', id: 'c-sgd-0', step: 25, totalSteps: 100 }), ['c-sgd-0']);
    assert.deepEqual(s.apply({ type: 'progress', id: 'c-sgd-0', step: 25, totalSteps: 100 }), [], 'no change, no update');
    assert.deepEqual(s.apply({ type: 'progress', id: 'ghost', step: 1, totalSteps: 2 }), [], 'unknown configuration');
    let r = s.row('c-sgd-0');
    assert.equal(r?.status, 'running');
    assert.equal(r?.progress, 0.25);
    assert.equal(r?.runId, null, 'no run id before the trainer names it');
    s.apply({ type: 'run', id: 'c-sgd-0', runId: 'run-1', runDir: '/s/run-1' });
    assert.deepEqual(s.runOf('c-sgd-0'), { runId: 'run-1', runDir: '/s/run-1' });
    s.apply({ type: 'end', id: 'c-sgd-0', status: 'stopped', summary: wire(runSummary('run-1', '/s/run-1', RESULTS['c-sgd-0'] ?? assert.fail('no results for c-sgd-0'), { finished: false, stopped: true, reason: 'stopped by the user' })) });
    r = s.row('c-sgd-0');
    assert.equal(r?.status, 'stopped');
    assert.equal(r?.message, 'stopped by the user');
    assert.equal(r?.sparse, null, 'only a finished run shows final metrics (as in the report)');
    s.apply({ type: 'progress', id: 'c-sgd-0', step: 50, totalSteps: 100 });
    assert.equal(s.row('c-sgd-0')?.progress, null, 'progress after the end is stale');
    s.apply({ type: 'start', id: 'c-sgd-0', point: at(PLAN, 0).point });
    assert.equal(s.runOf('c-sgd-0'), undefined, 'a restarted configuration has no run until the trainer names it');
    s.apply({ type: 'end', id: 'c-sgd-0', status: 'failed', error: 'trainer exited with code 1' });
    assert.deepEqual(s.row('c-sgd-0'), {
      configId: 'c-sgd-0', point: at(PLAN, 0).point, status: 'failed', progress: null, runId: null,
      message: 'trainer exited with code 1', sparse: null, dense: null,
    });
    assert.equal(s.row('c-adam-1')?.status, 'pending');
  });

  it('grid values: primitives kept, structures as JSON text; axes in file order with the seed last', () => {
    assert.equal(pointValue(0.1), 0.1);
    assert.equal(pointValue('adam'), 'adam');
    assert.equal(pointValue(false), false);
    assert.equal(pointValue(null), null);
    assert.equal(pointValue([1, 2]), '[1,2]');
    assert.equal(pointValue({ a: 1 }), '{"a":1}');
    assert.deepEqual(axesOf([{ 'training.seed': 0, b: 1 }, { c: 2, b: 3, 'training.seed': 1 }]), ['b', 'c', 'training.seed']);
  });
});

describe('DashboardState with sweeps', () => {
  it('incremental updates drained at random points equal a replay of the final snapshot', () => {
    const { dir, summaries } = finishedFolder('replay');
    const state = new DashboardState();
    let page = pageApply(emptyModel(), [init(state)]);
    state.drainUpdates();
    const sweep = new SweepState({ sweepId: dir, name: 'replay', status: 'running' }, PLAN);
    state.addSweep(sweep);
    state.focusSweep(dir);
    let k = 0;
    for (const s of summaries.values()) {
      const id = PLAN.find((p) => s.runId.endsWith(p.id))?.id ?? '';
      state.applySweepEvent(dir, { type: 'start', id, point: {} });
      state.applySweepEvent(dir, { type: 'run', id, runId: s.runId, runDir: s.runDir });
      for (let step = 1; step <= 50; step++) {
        state.applySweepEvent(dir, { type: 'progress', id, step, totalSteps: 50 });
        if (++k % 17 === 0) page = pageApply(page, state.drainUpdates());
      }
      state.applySweepEvent(dir, { type: 'end', id, status: 'finished', summary: s });
    }
    state.applySweepEvent('/elsewhere', { type: 'start', id: 'x', point: {} }); // unknown sweep: dropped
    state.setSweepStatus(dir, 'finished');
    page = pageApply(page, state.drainUpdates());
    const replay = pageApply(emptyModel(), [init(state)]);
    assert.deepEqual(page, replay);
    assert.equal(page.focusSweepId, dir);
    assert.equal(page.sweeps?.[0]?.info.status, 'finished');
    // … and equal to what a later window reads from the folder (but for the sweep's own status).
    const fromDisk = loadSweepFolder(dir).model();
    assert.deepEqual(page.sweeps?.[0]?.rows, wire(fromDisk.rows));
  });

  it('coalesces a burst of progress into one row update per drain, after the discrete events', () => {
    const state = new DashboardState();
    state.addSweep(new SweepState({ sweepId: '/s', name: 's', status: 'running' }, PLAN));
    state.drainUpdates();
    state.applySweepEvent('/s', { type: 'start', id: 'c-sgd-0', point: {} });
    state.applySweepEvent('/s', { type: 'start', id: 'c-adam-0', point: {} });
    for (let step = 1; step <= 1000; step++) state.applySweepEvent('/s', { type: 'progress', id: 'c-sgd-0', step, totalSteps: 1000 });
    state.setSweepStatus('/s', 'stopped', 'cancelled');
    const out = state.drainUpdates();
    assert.deepEqual(out.map((m) => m.type), ['sweepStatus', 'sweepRow', 'sweepRow']);
    const rows = out.filter((m): m is Extract<HostToPage, { type: 'sweepRow' }> => m.type === 'sweepRow');
    assert.deepEqual(rows.map((m) => [m.row.configId, m.row.progress]), [['c-sgd-0', 1], ['c-adam-0', null]]);
    assert.equal(state.hasPendingUpdates(), false);
    // Re-adding the sweep (a re-read folder) supersedes its pending rows.
    state.applySweepEvent('/s', { type: 'progress', id: 'c-adam-0', step: 1, totalSteps: 2 });
    state.addSweep(new SweepState({ sweepId: '/s', name: 's', status: 'recorded' }, PLAN));
    assert.deepEqual(state.drainUpdates().map((m) => m.type), ['sweepAdded']);
  });

  it('focus: a sweep, then a run, then the page going back to the runs', () => {
    const state = new DashboardState();
    state.addRun({ runId: 'r1', title: 'r1', status: 'running' });
    state.addSweep(new SweepState({ sweepId: '/s', name: 's', status: 'running' }, PLAN));
    state.focusSweep('/s');
    state.focusSweep('/unknown'); // ignored
    assert.equal(state.snapshot().focusSweepId, '/s');
    state.focus('r1');
    assert.equal(state.snapshot().focusSweepId, null, 'showing a run leaves the sweep view');
    state.selectSweep('/s');
    assert.equal(state.snapshot().focusSweepId, '/s');
    state.selectSweep(null);
    assert.equal(state.snapshot().focusSweepId, null);
    state.selectSweep('/s');
    state.selectRun('r1');
    assert.equal(state.snapshot().focusSweepId, null);
  });

  it('answers the page: the run of a row, and the CSV of a view', () => {
    const state = new DashboardState();
    const s = new SweepState({ sweepId: '/s', name: 's', status: 'running' }, PLAN.slice(0, 2));
    state.addSweep(s);
    state.applySweepEvent('/s', { type: 'start', id: 'c-sgd-1', point: {} });
    state.applySweepEvent('/s', { type: 'run', id: 'c-sgd-1', runId: 'run-9', runDir: '/s/run-9' });
    assert.deepEqual(state.sweepRun('/s', 'c-sgd-1'), { runId: 'run-9', runDir: '/s/run-9' });
    assert.equal(state.sweepRun('/s', 'c-sgd-0'), undefined);
    assert.equal(state.sweepRun('/t', 'c-sgd-0'), undefined);
    assert.equal(
      state.sweepCsv('/s', { ...defaultView(), statuses: ['running'] }),
      'config_id,run_id,training.optimizer,sparsity.dense_width,training.seed,status,sparse_test_accuracy,dense_test_accuracy,accuracy_diff,' +
        'sparse_test_loss,dense_test_loss,sparse_egf1,sparse_egf2,dense_egf1,dense_egf2,progress,message\n' +
        'c-sgd-1,run-9,sgd,32,1,running,,,,,,,,,,,\n',
    );
    assert.throws(() => state.sweepCsv('/t', defaultView()), /no sweep \/t/);
    assert.deepEqual(state.getSweep('/s'), { name: 's', status: 'running' });
  });
});
