import { fake, FakeUri, type FakeWebviewPanel } from './vscode-fake'; // first: installs the `vscode` stand-in
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { DashboardPanel, type DashboardLog } from '../../src/extension/dashboard/panel';
import { DashboardState } from '../../src/extension/dashboard/state';
import type { Alert } from '../../src/shared/protocol';
import { WEBVIEW_PROTOCOL_VERSION, type HostToPage } from '../../src/shared/webview-protocol';
import { alert, pairRun } from './fixtures';
import { at } from '../../src/shared/checked';

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 10));
/** The repository: the panel inlines its media/dashboard.css. */
const root = path.resolve(__dirname, '..', '..', '..');
const ext = FakeUri.file(root) as unknown as vscode.Uri;

function logger(): DashboardLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
}

function types(p: FakeWebviewPanel): string[] {
  return p.posted.map((m) => (m as HostToPage).type);
}

describe('DashboardPanel (against a vscode stand-in)', () => {
  const state = new DashboardState();
  state.addRun({ runId: 'r1', title: 'fmnist pair', status: 'running' });
  pairRun('r1', 200).forEach((m) => state.apply('r1', m));
  const log = logger();
  let panel: DashboardPanel;
  let fp: FakeWebviewPanel;

  it('opens one panel beside the editor with the CSP html, and reuses it', () => {
    panel = DashboardPanel.createOrShow(ext, state, { log });
    fp = at(fake.panels, 0);
    assert.equal(fake.panels.length, 1);
    assert.equal(fp.viewType, 'gradflow.dashboard');
    assert.deepEqual(fp.showOptions, { viewColumn: -2, preserveFocus: true });
    const opts = fp.options as { enableScripts: boolean; retainContextWhenHidden: boolean; localResourceRoots: FakeUri[] };
    assert.equal(opts.enableScripts, true);
    assert.equal(opts.retainContextWhenHidden, false);
    assert.deepEqual(opts.localResourceRoots.map((u) => u.fsPath), [path.join(root, 'dist')]);
    assert.match(fp.webview.html, /script-src 'nonce-[A-Za-z0-9+/]{22}=='/);
    assert.ok(fp.webview.html.includes(`s.src = "https://webview.test${root}/dist/webview.js"`));
    // The stylesheet inlined, and a first view of the run the page will show.
    assert.ok(fp.webview.html.includes(fs.readFileSync(path.join(root, 'media', 'dashboard.css'), 'utf8')));
    assert.match(fp.webview.html, /<span class="gf-badge gf-status-running"[^>]*>running<\/span>/);
    assert.equal(DashboardPanel.createOrShow(ext, state, { runId: 'r1', log }), panel);
    assert.equal(fake.panels.length, 1);
    assert.equal(fp.revealed, 1);
    assert.equal(fp.posted.length, 0, 'nothing is posted before the page says ready');
  });

  it('replays the state on ready, then streams throttled updates', async () => {
    fp.received.fire({ type: 'ready', protocolVersion: WEBVIEW_PROTOCOL_VERSION });
    await flush();
    assert.deepEqual(types(fp), ['init']);
    const init = fp.posted[0] as Extract<HostToPage, { type: 'init' }>;
    assert.equal(init.model.focusRunId, 'r1');
    assert.equal(at(at(init.model.runs, 0).nets, 0).series.lastStep, 200);
    state.apply('r1', alert('sparse', 'nan', 201, -1, 'NaN', 'loss NaN'));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(types(fp), ['init', 'alert']);
  });

  it('replays again after the tab was hidden and the page reloaded', async () => {
    fp.setVisible(false);
    state.apply('r1', alert('dense', 'explosion', 202, 0, 1e6, 'boom'));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(types(fp), ['init', 'alert'], 'nothing posted to a hidden page');
    fp.setVisible(true);
    fp.received.fire({ type: 'ready', protocolVersion: WEBVIEW_PROTOCOL_VERSION });
    await flush();
    assert.deepEqual(types(fp), ['init', 'alert', 'init']);
    assert.equal(at((fp.posted[2] as Extract<HostToPage, { type: 'init' }>).model.runs, 0).alerts.length, 3); // collapse at 150, nan, explosion
  });

  it('delivers revealAlert to subscribers with the alert itself', async () => {
    const got: [string, Alert][] = [];
    const sub = DashboardPanel.onDidRevealAlert((runId, a) => got.push([runId, a]));
    panel.onDidRevealAlert((runId, a) => got.push([runId, a])); // a second, different subscriber
    fp.received.fire({ type: 'revealAlert', runId: 'r1', alertIndex: 1 });
    fp.received.fire({ type: 'revealAlert', runId: 'r1', alertIndex: 99 }); // no such alert: logged, not delivered
    await flush();
    assert.equal(got.length, 2);
    assert.equal(at(got, 0)[0], 'r1');
    assert.equal(at(got, 0)[1].kind, 'nan');
    assert.ok(log.lines.some((l) => l.startsWith('warn dashboard: no alert 99')));
    sub.dispose();
  });

  it('ignores and logs malformed commands', async () => {
    const before = fp.posted.length;
    fp.received.fire({ type: 'exportCsv', runId: 'r1', what: '../../etc' });
    fp.received.fire({ type: 'ready' });
    fp.received.fire('hello');
    await flush();
    assert.equal(fp.posted.length, before);
    assert.equal(log.lines.filter((l) => l.startsWith('warn dashboard: ignored malformed message')).length, 3);
  });

  it('exports CSV and PNG through a save dialog', async () => {
    fake.saveDialogAnswer = FakeUri.file('/ws/out.csv');
    fp.received.fire({ type: 'exportCsv', runId: 'r1', what: 'alerts' });
    await flush();
    const csv = Buffer.from(fake.written.get('/ws/out.csv') ?? new Uint8Array()).toString('utf8');
    assert.equal(csv, state.toCsv('r1', 'alerts'));
    assert.equal((fake.saveDialogCalls[0] as { defaultUri: FakeUri }).defaultUri.fsPath, '/ws/fmnist-pair-alerts.csv');

    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    fake.saveDialogAnswer = FakeUri.file('/ws/chart.png');
    fp.received.fire({ type: 'savePng', name: 'fmnist-l2', dataUrl: `data:image/png;base64,${png.toString('base64')}` });
    await flush();
    assert.deepEqual(Buffer.from(fake.written.get('/ws/chart.png') ?? new Uint8Array()), png);
    assert.equal((fake.saveDialogCalls[1] as { defaultUri: FakeUri }).defaultUri.fsPath, '/ws/fmnist-l2.png');

    // Valid shape, but not a PNG: refused with an error, nothing written.
    fake.saveDialogAnswer = FakeUri.file('/ws/bad.png');
    fp.received.fire({ type: 'savePng', name: 'x', dataUrl: `data:image/png;base64,${Buffer.from('GIF89a').toString('base64')}` });
    await flush();
    assert.equal(fake.written.has('/ws/bad.png'), false);
    assert.equal(fake.errors.length, 1);
  });

  it('refuses a page speaking another protocol version', async () => {
    const before = fp.posted.length;
    fp.received.fire({ type: 'ready', protocolVersion: WEBVIEW_PROTOCOL_VERSION + 1 });
    await flush();
    assert.equal(fp.posted.length, before);
    assert.ok(log.lines.some((l) => l.startsWith('error dashboard: page speaks protocol')));
  });

  it('draws the first view anew when the page goes away (it reloads from that HTML when shown again)', () => {
    const before = fp.webview.html;
    state.setStatus('r1', 'stopped', 'stopped from the test');
    fp.setVisible(false);
    assert.notEqual(fp.webview.html, before);
    assert.match(fp.webview.html, /<span class="gf-badge gf-status-stopped"[^>]*>stopped<\/span>/);
    fp.setVisible(true);
  });

  it('forgets the panel when it is closed; the next createOrShow opens a new one', () => {
    fp.dispose();
    assert.equal(DashboardPanel.currentPanel, undefined);
    const again = DashboardPanel.createOrShow(ext, state, { log });
    assert.equal(fake.panels.length, 2);
    again.dispose();
    assert.equal(at(fake.panels, 1).disposed, true);
  });
});
