/**
 * Browser test of the sweep view: the real page bundle (webview/build.mjs) and HTML shell with its
 * CSP, a stub `acquireVsCodeApi`, messages produced by the real DashboardState + SweepState.
 * Runs Debian's chromium through playwright-core, with page.test.ts's harness (browser-harness.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { DashboardState } from '../../src/extension/dashboard/state';
import { SweepState, type PlannedConfig } from '../../src/extension/dashboard/sweep-state';
import { isPageToHost, type PageToHost, type SweepTableView } from '../../src/shared/webview-protocol';
import { SETTLE, WebviewPage, repoRoot, skip } from './browser-harness';
import { init, pairRun } from './fixtures';
import { runSummary, wire } from './sweep-fixtures';
import { at } from '../../src/shared/checked';

const SWEEP_ID = '/work/demo/.gradflow/runs/sweep-fmnist-bn';

/** 2 optimizers × BN × 2 widths × 2 seeds = 16 configurations, in grid order (last axis fastest). */
function plan(): PlannedConfig[] {
  const out: PlannedConfig[] = [];
  for (const optimizer of ['sgd', 'adam']) {
    for (const bn of [false, true]) {
      for (const width of [32, 64]) {
        for (const seed of [0, 1]) {
          const point = { 'training.optimizer': optimizer, 'model.batch_norm': bn, 'sparsity.dense_width': width, 'training.seed': seed };
          out.push({ id: createHash('sha256').update(JSON.stringify(point)).digest('hex').slice(0, 12), point });
        }
      }
    }
  }
  return out;
}

/**
 * Results shaped like the paper's: with BN the sparse net wins, without it the dense one; Adam
 * without BN diverges once. Deterministic, so the expected order is computed by hand below.
 */
function sparseAcc(i: number, p: PlannedConfig['point']): number {
  const bn = p['model.batch_norm'] === true;
  return 0.8 + (bn ? 0.04 : -0.02) + 0.001 * i;
}

describe('sweep view in chromium', { skip }, () => {
  const root = repoRoot();
  const web = new WebviewPage({ tmpPrefix: 'gradflow-sweep-page-', viewport: { width: 1400, height: 760 } });
  const { consoleLines, pageErrors, send, posted } = web;
  let page: Page;
  const state = new DashboardState({ maxPoints: 400 });
  const configs = plan();
  const sweep = new SweepState({ sweepId: SWEEP_ID, name: 'fmnist-bn', sourceFile: '/work/demo/fmnist-bn.gradflow.yaml', status: 'running' }, configs);

  before(async () => {
    // The sweep as the run manager feeds it: 12 finished, 1 stopped, 1 failed, 1 running, 1 pending.
    state.addSweep(sweep);
    configs.forEach((c, i) => {
      if (i === 15) return; // pending
      const runId = `20261126-0800${String(i).padStart(2, '0')}-fmnist-bn-${c.id.slice(0, 4)}`;
      const runDir = `${SWEEP_ID}/${runId}`;
      state.applySweepEvent(SWEEP_ID, { type: 'start', id: c.id, point: c.point });
      state.applySweepEvent(SWEEP_ID, { type: 'run', id: c.id, runId, runDir });
      if (i === 14) {
        state.applySweepEvent(SWEEP_ID, { type: 'progress', id: c.id, step: 150, totalSteps: 500 });
        return; // running at 30%
      }
      const diverged = i === 9;
      const sa = sparseAcc(i, c.point);
      const nets = {
        sparse: diverged ? { acc: null, loss: null, egf1: null, egf2: null } : { acc: sa, loss: 1.2 - sa, egf1: 20 + i, egf2: 0.5 + 0.01 * i },
        dense: { acc: 0.82, loss: 0.41, egf1: 30 + i, egf2: 0.8 },
      };
      if (i === 13) {
        state.applySweepEvent(SWEEP_ID, { type: 'end', id: c.id, status: 'failed', error: 'trainer exited with code 1' });
      } else if (i === 12) {
        state.applySweepEvent(SWEEP_ID, { type: 'end', id: c.id, status: 'stopped', summary: wire(runSummary(runId, runDir, nets, { finished: false, stopped: true, reason: 'stopped by the user' })) });
      } else {
        state.applySweepEvent(SWEEP_ID, { type: 'end', id: c.id, status: 'finished', summary: wire(runSummary(runId, runDir, nets)) });
      }
    });
    state.addRun({ runId: 'r1', title: 'fmnist-bn [a1b2c3]', status: 'running' });
    pairRun('r1', 200).forEach((m) => state.apply('r1', m));
    state.focusSweep(SWEEP_ID);

    page = await web.open();
    state.drainUpdates();
    await send([init(state)]);
  });

  after(() => web.close());

  /** Config ids of the table's rows, top to bottom. */
  async function order(): Promise<string[]> {
    return page.$$eval('#gf-sweep tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-config-id') ?? ''));
  }

  async function cells(configId: string): Promise<string[]> {
    return page.$$eval(`#gf-sweep tbody tr[data-config-id="${configId}"] td`, (tds) => tds.map((td) => (td.textContent ?? '').trim()));
  }

  const ids = (idx: number[]): string[] => idx.map((i) => at(configs, i).id);

  it('opens on the sweep tab with one row per configuration, in grid order', async () => {
    assert.equal(await page.isVisible('#gf-sweep'), true);
    assert.equal(await page.isVisible('#gf-run-view'), false);
    assert.equal(await page.getAttribute('#gf-tab-sweep', 'aria-selected'), 'true');
    assert.deepEqual(await order(), ids([...Array(16).keys()]));
    const headers = await page.$$eval('#gf-sweep thead th', (ths) => ths.map((th) => (th.textContent ?? '').trim()));
    assert.deepEqual(headers, [
      'optimizer', 'batch_norm', 'dense_width', 'seed', 'status',
      'sparse acc', 'dense acc', 'Δ acc', 'sparse loss', 'dense loss', 'sparse EGF₁', 'sparse EGF₂', 'dense EGF₁', 'dense EGF₂',
    ]);
    // Row 5 = sgd, BN, width 32, seed 1: sparse 0.8 + 0.04 + 0.005 = 84.50%, dense 82.00%, loss 1.2 − 0.845.
    assert.deepEqual(await cells(at(configs, 5).id), [
      'sgd', 'true', '32', '1', 'finished', '84.50%', '82.00%', '+2.50 pp', '0.355', '0.41', '25', '0.55', '35', '0.8',
    ]);
    assert.deepEqual((await cells(at(configs, 9).id)).slice(4, 8), ['finished', 'NaN', '82.00%', 'NaN']);
    assert.deepEqual((await cells(at(configs, 14).id)).slice(4, 6), ['running 30%', '—']);
    assert.equal(await page.getAttribute(`tr[data-config-id="${at(configs, 14).id}"] [role=progressbar]`, 'aria-valuenow'), '30');
    assert.deepEqual((await cells(at(configs, 15).id)).slice(4, 6), ['pending', '—']);
    assert.equal(await page.textContent('#gf-sweep-summary'), '12 of 16 finished · 1 running · 1 failed');
    assert.equal(await page.textContent('#gf-sweep-shown'), '16 rows');
  });

  it('sorts on a header click (numbers numerically, NaN and missing last) and toggles the direction', async () => {
    await page.click('#gf-sweep th button[data-column="sparse.testAccuracy"]');
    await page.evaluate(SETTLE);
    // sparse acc = 0.8 + (BN ? 0.04 : −0.02) + 0.001·i: no-BN rows (0–3, 8–11) below BN rows; 9 diverged;
    // 12 stopped, 13 failed, 14 running, 15 pending have no results.
    const asc = [0, 1, 2, 3, 8, 10, 11, 4, 5, 6, 7, 9, 12, 13, 14, 15];
    assert.deepEqual(await order(), ids(asc));
    assert.equal(await page.getAttribute('#gf-sweep th:has(button[data-column="sparse.testAccuracy"])', 'aria-sort'), 'ascending');
    await page.click('#gf-sweep th button[data-column="sparse.testAccuracy"]');
    await page.evaluate(SETTLE);
    assert.deepEqual(await order(), ids([7, 6, 5, 4, 11, 10, 8, 3, 2, 1, 0, 9, 12, 13, 14, 15]));
    assert.equal(await page.getAttribute('#gf-sweep th:has(button[data-column="sparse.testAccuracy"])', 'aria-sort'), 'descending');
    assert.equal(await page.getAttribute('#gf-sweep th:has(button[data-column="status"])', 'aria-sort'), 'none');
  });

  it('sorts from the keyboard and keeps focus on the header', async () => {
    await page.focus('#gf-sweep th button[data-column="axis:training.seed"]');
    await page.keyboard.press('Enter');
    await page.evaluate(SETTLE);
    // Stable: seed 0 rows in grid order, then seed 1 rows.
    assert.deepEqual(await order(), ids([0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15]));
    assert.equal(await page.evaluate<string | null>("document.activeElement && document.activeElement.getAttribute('data-column')"), 'axis:training.seed');
    await page.keyboard.press('Space');
    await page.evaluate(SETTLE);
    assert.deepEqual((await order()).slice(0, 2), ids([1, 3]));
  });

  it('filters by text (every word in some cell) and by status', async () => {
    await page.fill('#gf-sweep-filter', 'adam true');
    await page.evaluate(SETTLE);
    assert.deepEqual([...(await order())].sort(), ids([12, 13, 14, 15]).sort());
    assert.equal(await page.textContent('#gf-sweep-shown'), 'showing 4 of 16');
    await page.fill('#gf-sweep-filter', '');
    await page.uncheck('#gf-sweep input[data-status="finished"]');
    await page.evaluate(SETTLE);
    assert.deepEqual([...(await order())].sort(), ids([12, 13, 14, 15]).sort());
    await page.fill('#gf-sweep-filter', 'ADAM false');
    await page.evaluate(SETTLE);
    assert.deepEqual(await order(), []);
    assert.equal(await page.isVisible('#gf-sweep .gf-empty'), true);
    await page.fill('#gf-sweep-filter', '');
    await page.check('#gf-sweep input[data-status="finished"]');
    await page.evaluate(SETTLE);
    assert.equal((await order()).length, 16);
  });

  it('exports CSV of the table as shown: the host writes the same rows in the same order', async () => {
    await page.click('#gf-sweep th button[data-column="accuracyDiff"]');
    await page.uncheck('#gf-sweep input[data-status="pending"]');
    await page.evaluate(SETTLE);
    const shown = await order();
    await page.click('#gf-sweep-csv');
    const cmd = (await posted()).filter((m): m is Extract<PageToHost, { type: 'exportSweepCsv' }> => m.type === 'exportSweepCsv').pop();
    assert.ok(cmd && isPageToHost(cmd));
    const expected: SweepTableView = { sort: { column: 'accuracyDiff', direction: 'asc' }, text: '', statuses: ['running', 'finished', 'stopped', 'failed'] };
    assert.deepEqual(cmd.view, expected);
    const csv = state.sweepCsv(cmd.sweepId, cmd.view).trim().split('\n').slice(1);
    assert.deepEqual(csv.map((l) => l.split(',')[0]), shown);
    await page.check('#gf-sweep input[data-status="pending"]');
    await page.evaluate(SETTLE);
  });

  it('clicking (or Enter on) a row posts openSweepRun; a pending row is inert', async () => {
    const before = (await posted()).length;
    await page.click(`#gf-sweep tr[data-config-id="${at(configs, 5).id}"]`);
    await page.click(`#gf-sweep tr[data-config-id="${at(configs, 15).id}"]`);
    await page.focus(`#gf-sweep tr[data-config-id="${at(configs, 14).id}"]`);
    await page.keyboard.press('Enter');
    const p = (await posted()).slice(before);
    assert.deepEqual(p, [
      { type: 'openSweepRun', sweepId: SWEEP_ID, configId: at(configs, 5).id },
      { type: 'openSweepRun', sweepId: SWEEP_ID, configId: at(configs, 14).id },
    ]);
    assert.equal(await page.getAttribute(`#gf-sweep tr[data-config-id="${at(configs, 15).id}"]`, 'tabindex'), null);
  });

  it('updates live from throttled row updates, keeping sort and filter', async () => {
    await page.click('#gf-sweep th button[data-column="status"]');
    await page.evaluate(SETTLE);
    state.applySweepEvent(SWEEP_ID, { type: 'progress', id: at(configs, 14).id, step: 300, totalSteps: 500 });
    state.applySweepEvent(SWEEP_ID, { type: 'start', id: at(configs, 15).id, point: at(configs, 15).point });
    state.applySweepEvent(SWEEP_ID, { type: 'progress', id: at(configs, 15).id, step: 400, totalSteps: 500 });
    await send(state.drainUpdates());
    assert.deepEqual((await cells(at(configs, 14).id))[4], 'running 60%');
    // Status ascending: running rows first, furthest first.
    assert.deepEqual((await order()).slice(0, 2), ids([15, 14]));
    assert.equal(await page.textContent('#gf-sweep-summary'), '12 of 16 finished · 2 running · 1 failed');
  });

  it('saves a screenshot', async () => {
    await page.evaluate('window.scrollTo(0, 0)');
    await page.mouse.move(5, 5);
    const dir = join(resolve(root), 'test-results', 'webview');
    mkdirSync(dir, { recursive: true });
    // Sorted by Δ acc descending: the sparse-wins-with-BN pattern reads top-down.
    await page.click('#gf-sweep th button[data-column="accuracyDiff"]');
    await page.click('#gf-sweep th button[data-column="accuracyDiff"]');
    await page.evaluate(SETTLE);
    await page.mouse.move(5, 5);
    writeFileSync(join(dir, 'sweep.png'), await page.screenshot({ fullPage: true }));
    // Light Modern: the table takes its colours from the theme variables, nothing is hard-coded dark.
    const light = {
      '--vscode-editor-foreground': '#3b3b3b', '--vscode-editor-background': '#ffffff', '--vscode-sideBar-background': '#f8f8f8',
      '--vscode-panel-border': '#e5e5e5', '--vscode-descriptionForeground': '#717171', '--vscode-list-hoverBackground': '#f2f2f2',
      '--vscode-input-background': '#ffffff', '--vscode-input-border': '#cecece', '--vscode-input-foreground': '#3b3b3b',
      '--vscode-charts-green': '#388a34', '--vscode-errorForeground': '#f85149',
    };
    await page.evaluate(`for (const [k, x] of Object.entries(${JSON.stringify(light)})) document.documentElement.style.setProperty(k, x);
      document.body.classList.replace('vscode-dark', 'vscode-light');`);
    await page.evaluate(SETTLE);
    const bg = await page.evaluate<string>("getComputedStyle(document.body).backgroundColor");
    assert.equal(bg, 'rgb(255, 255, 255)');
    const text = await page.evaluate<string>("getComputedStyle(document.querySelector('#gf-sweep tbody td')).color");
    assert.equal(text, 'rgb(59, 59, 59)');
    writeFileSync(join(dir, 'sweep-light.png'), await page.screenshot({ fullPage: true }));
    assert.deepEqual(pageErrors, []);
  });

  it('switches views: focusRun from the host, and the tabs post the choice back', async () => {
    await send([{ type: 'focusRun', runId: 'r1' }]);
    assert.equal(await page.isVisible('#gf-run-view'), true);
    assert.equal(await page.isVisible('#gf-sweep'), false);
    assert.equal(await page.getAttribute('#gf-tab-run', 'aria-selected'), 'true');
    const before = (await posted()).length;
    await page.click('#gf-tab-sweep');
    await page.evaluate(SETTLE);
    assert.equal(await page.isVisible('#gf-sweep'), true);
    await page.focus('#gf-tab-sweep');
    await page.keyboard.press('ArrowLeft');
    await page.evaluate(SETTLE);
    assert.equal(await page.isVisible('#gf-run-view'), true);
    assert.deepEqual((await posted()).slice(before), [
      { type: 'selectSweep', sweepId: SWEEP_ID },
      { type: 'selectSweep', sweepId: null },
    ]);
    assert.equal(await page.evaluate<string | null>("document.activeElement && document.activeElement.id"), 'gf-tab-run');
  });

  it('every posted message is valid; no CSP violation, no page error', async () => {
    for (const m of await posted()) assert.ok(isPageToHost(m), JSON.stringify(m).slice(0, 200));
    assert.deepEqual(await page.evaluate<string[]>('window.__gradflow.csp'), []);
    assert.deepEqual(consoleLines.filter((l) => /Content Security Policy|Refused to|ignored malformed/i.test(l)), []);
    assert.deepEqual(pageErrors, []);
  });
});
