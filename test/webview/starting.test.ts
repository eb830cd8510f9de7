/** The provisional "starting" entry of a run (dashboard at once on Run) and its replacement. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DashboardState } from '../../src/extension/dashboard/state';
import { SweepState } from '../../src/extension/dashboard/sweep-state';
import { emptyModel, isHostToPage } from '../../src/shared/webview-protocol';
import { init, pageApply, ready, step, wire } from './fixtures';
import { at } from '../../src/shared/checked';

test('starting entry → phases → replaced by the real run: the page model equals the host snapshot at each point', () => {
  const state = new DashboardState();
  let page = pageApply(emptyModel(), [init(state)]);
  state.drainUpdates();

  state.addRun({ runId: 'starting-run-1', title: 'exp', sourceFile: '/w/exp.gradflow.yaml', status: 'starting' });
  state.setStatus('starting-run-1', 'starting', 'starting the trainer process');
  state.focus('starting-run-1');
  state.setStatus('starting-run-1', 'starting', 'loading the wasm backend');
  page = pageApply(page, state.drainUpdates());
  assert.deepEqual(wire(page), wire(state.snapshot()));
  assert.equal(at(page.runs, 0).meta.status, 'starting');
  assert.equal(at(page.runs, 0).meta.message, 'loading the wasm backend');
  assert.equal(page.focusRunId, 'starting-run-1');

  state.addRun({ runId: 'real', title: 'exp', status: 'running' });
  state.apply('real', ready('real'));
  state.apply('real', step('sparse', 1, true));
  state.removeRun('starting-run-1', 'real');
  page = pageApply(page, state.drainUpdates());
  assert.deepEqual(wire(page), wire(state.snapshot()));
  assert.deepEqual(page.runs.map((r) => r.meta.runId), ['real']);
  assert.equal(page.focusRunId, 'real');
});

test('a run that fails before `ready` keeps its starting entry, marked failed with the reason', () => {
  const state = new DashboardState();
  state.addRun({ runId: 'starting-run-2', title: 'exp', status: 'starting' });
  state.setStatus('starting-run-2', 'failed', 'Dataset "cifar10": not found (exit code 1)');
  const snap = state.snapshot();
  assert.equal(at(snap.runs, 0).meta.status, 'failed');
  assert.match(at(snap.runs, 0).meta.message ?? '', /cifar10/);
  // removing an unknown run is a no-op; the guard rejects a removal without an id
  state.drainUpdates();
  state.removeRun('nope');
  assert.deepEqual(state.drainUpdates(), []);
  assert.equal(isHostToPage({ type: 'runRemoved', runId: '' }), false);
  assert.equal(isHostToPage({ type: 'runRemoved', runId: 'a', replacedBy: 'b' }), true);
});

test('lazily registered runs (restored after a reload) are listed at once and read when first shown', () => {
  const state = new DashboardState();
  const loaded: string[] = [];
  for (const id of ['old', 'new']) {
    state.addLazyRun({ runId: id, title: id, status: 'finished' }, () => {
      loaded.push(id);
      state.addRun({ runId: id, title: id, status: 'finished' });
      state.apply(id, ready(id));
    });
  }
  let page = pageApply(emptyModel(), [init(state)]);
  state.drainUpdates();
  assert.deepEqual(page.runs.map((r) => r.meta.runId), ['old', 'new']);
  assert.deepEqual(loaded, []);
  state.focus('new');
  assert.deepEqual(loaded, ['new']);
  state.selectRun('old');
  state.selectRun('old');
  assert.deepEqual(loaded, ['new', 'old']);
  page = pageApply(page, state.drainUpdates());
  assert.deepEqual(wire(page).runs, wire(state.snapshot()).runs);
  assert.ok(page.runs.every((r) => r.setup !== null));
});

test('shownRun: the run the page will show when it loads (the host draws it first), by the page rule', () => {
  const state = new DashboardState();
  assert.equal(state.shownRun(), undefined, 'no run: nothing to draw');
  state.addRun({ runId: 'a', title: 'a', status: 'finished' });
  state.addRun({ runId: 'starting-run-1', title: 'b', status: 'starting' });
  state.setStatus('starting-run-1', 'starting', 'reading the experiment file');
  // No focus: the last run, as the page's selectedRun().
  assert.equal(state.shownRun()?.shown.runId, 'starting-run-1');
  assert.equal(state.shownRun()?.shown.message, 'reading the experiment file');
  state.focus('a');
  assert.deepEqual(state.shownRun()?.runs.map((m) => m.runId), ['a', 'starting-run-1']);
  assert.equal(state.shownRun()?.shown.runId, 'a');
  // The starting entry replaced by its run: the focus follows, and so does the first view.
  state.focus('starting-run-1');
  state.addRun({ runId: 'real', title: 'b', status: 'running' });
  state.removeRun('starting-run-1', 'real');
  assert.equal(state.shownRun()?.shown.runId, 'real');
  // A sweep in focus: the page opens on the sweep table, not on a run.
  state.addSweep(new SweepState({ sweepId: '/w/s', name: 's', status: 'running' }, []));
  state.focusSweep('/w/s');
  assert.equal(state.shownRun(), undefined);
});
