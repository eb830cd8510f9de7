import { fake, FakeUri, type FakeWebviewPanel } from './vscode-fake'; // first: installs the `vscode` stand-in
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { DashboardPanel, type DashboardLog } from '../../src/extension/dashboard/panel';
import { DashboardState } from '../../src/extension/dashboard/state';
import { SweepState } from '../../src/extension/dashboard/sweep-state';
import { WEBVIEW_PROTOCOL_VERSION, type HostToPage } from '../../src/shared/webview-protocol';
import { at } from '../../src/shared/checked';

/**
 * The panel's side of the sweep view, against the `vscode` stand-in: opening on a sweep, replay,
 * throttled row updates, the page's sweep commands (select, open a row's run, CSV export).
 */
const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 10));
/** The repository: the panel inlines its media/dashboard.css. */
const root = path.resolve(__dirname, '..', '..', '..');
const ext = FakeUri.file(root) as unknown as vscode.Uri;

function logger(): DashboardLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
}

const PLAN = [
  { id: 'a', point: { 'training.optimizer': 'sgd', 'training.seed': 0 } },
  { id: 'b', point: { 'training.optimizer': 'adam', 'training.seed': 0 } },
];

describe('DashboardPanel sweep commands (against a vscode stand-in)', () => {
  const state = new DashboardState();
  const sweepId = '/ws/.gradflow/runs/sweep-tiny';
  state.addSweep(new SweepState({ sweepId, name: 'tiny', status: 'running' }, PLAN));
  const log = logger();
  let fp: FakeWebviewPanel;

  it('opens on the sweep and replays it with the sweep in focus', async () => {
    DashboardPanel.createOrShow(ext, state, { sweepId, log });
    fp = at(fake.panels, 0);
    fp.received.fire({ type: 'ready', protocolVersion: WEBVIEW_PROTOCOL_VERSION });
    await flush();
    const init = fp.posted[0] as Extract<HostToPage, { type: 'init' }>;
    assert.equal(init.type, 'init');
    assert.equal(init.model.focusSweepId, sweepId);
    assert.deepEqual(init.model.sweeps?.[0]?.rows.map((r) => r.status), ['pending', 'pending']);
  });

  it('streams a burst of progress as one row update', async () => {
    state.applySweepEvent(sweepId, { type: 'start', id: 'a', point: at(PLAN, 0).point });
    state.applySweepEvent(sweepId, { type: 'run', id: 'a', runId: 'run-a', runDir: `${sweepId}/run-a` });
    for (let s = 1; s <= 200; s++) state.applySweepEvent(sweepId, { type: 'progress', id: 'a', step: s, totalSteps: 400 });
    await new Promise((r) => setTimeout(r, 300));
    const rows = fp.posted.slice(1) as HostToPage[];
    assert.deepEqual(rows.map((m) => m.type), ['sweepRow']);
    const row = (rows[0] as Extract<HostToPage, { type: 'sweepRow' }>).row;
    assert.equal(row.progress, 0.5);
    assert.equal(row.runId, 'run-a');
  });

  it('delivers a row click with the run and its folder; a row without a run is logged', async () => {
    const got: unknown[] = [];
    const sub = DashboardPanel.onDidOpenSweepRun((r) => got.push(r));
    fp.received.fire({ type: 'openSweepRun', sweepId, configId: 'a' });
    fp.received.fire({ type: 'openSweepRun', sweepId, configId: 'b' });
    fp.received.fire({ type: 'openSweepRun', sweepId: '/nowhere', configId: 'a' });
    await flush();
    assert.deepEqual(got, [{ sweepId, configId: 'a', runId: 'run-a', runDir: `${sweepId}/run-a` }]);
    assert.equal(log.lines.filter((l) => /warn dashboard: configuration .* has no run yet/.test(l)).length, 2);
    sub.dispose();
    fp.received.fire({ type: 'openSweepRun', sweepId, configId: 'a' });
    await flush();
    assert.equal(got.length, 1, 'unsubscribed');
  });

  it('remembers the view the page switched to for the next replay', async () => {
    fp.received.fire({ type: 'selectSweep', sweepId: null });
    await flush();
    assert.equal(state.snapshot().focusSweepId, null);
    fp.received.fire({ type: 'selectSweep', sweepId });
    await flush();
    assert.equal(state.snapshot().focusSweepId, sweepId);
  });

  it('exports the table as the page shows it, through a save dialog', async () => {
    fake.saveDialogAnswer = FakeUri.file('/ws/tiny.csv');
    const view = { sort: { column: 'axis:training.optimizer', direction: 'asc' as const }, text: '', statuses: ['running' as const, 'pending' as const] };
    fp.received.fire({ type: 'exportSweepCsv', sweepId, view });
    await flush();
    const csv = Buffer.from(fake.written.get('/ws/tiny.csv') ?? new Uint8Array()).toString('utf8');
    assert.equal(
      csv,
      'config_id,run_id,training.optimizer,training.seed,status,sparse_test_accuracy,dense_test_accuracy,accuracy_diff,' +
        'sparse_test_loss,dense_test_loss,sparse_egf1,sparse_egf2,dense_egf1,dense_egf2,progress,message\n' +
        'b,,adam,0,pending,,,,,,,,,,,\n' +
        'a,run-a,sgd,0,running,,,,,,,,,,0.5,\n',
    );
    assert.equal((fake.saveDialogCalls[0] as { defaultUri: FakeUri }).defaultUri.fsPath, '/ws/sweep-tiny-runs.csv');
    // An unknown sweep is an error shown to the user; nothing is written.
    fake.saveDialogAnswer = FakeUri.file('/ws/none.csv');
    fp.received.fire({ type: 'exportSweepCsv', sweepId: '/nowhere', view });
    await flush();
    assert.equal(fake.written.has('/ws/none.csv'), false);
    assert.deepEqual(fake.errors, ['Gradflow: no sweep /nowhere to export']);
  });

  it('refuses malformed sweep commands', async () => {
    const before = log.lines.length;
    fp.received.fire({ type: 'exportSweepCsv', sweepId, view: { sort: null, text: '', statuses: ['everything'] } });
    fp.received.fire({ type: 'openSweepRun', sweepId });
    await flush();
    assert.equal(log.lines.slice(before).filter((l) => l.startsWith('warn dashboard: ignored malformed message')).length, 2);
    fp.dispose();
  });
});
