/**
 * Browser test of the sweep view's granulated Kendall Ψ line (webview/sweep.ts + src/shared/sweep-psi.ts):
 * the real page bundle in Debian's chromium, fed by the real DashboardState + SweepState.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { DashboardState } from '../../src/extension/dashboard/state';
import { SweepState, type PlannedConfig } from '../../src/extension/dashboard/sweep-state';
import { SETTLE, WebviewPage, skip } from './browser-harness';
import { init } from './fixtures';
import { PSI_SWEEP, runSummary, wire } from './sweep-fixtures';
import { at } from '../../src/shared/checked';

const SWEEP_ID = '/work/demo/.gradflow/runs/sweep-psi';


describe('sweep view Ψ line in chromium', { skip }, () => {
  const web = new WebviewPage({ tmpPrefix: 'gradflow-sweep-psi-', viewport: { width: 1200, height: 700 } });
  let page: Page;
  const state = new DashboardState({ maxPoints: 400 });
  const configs: PlannedConfig[] = PSI_SWEEP.map(([opt, dw, seed], i) => ({ id: `c${i}`, point: { 'training.optimizer': opt, 'sparsity.dense_width': dw, 'training.seed': seed } }));
  const sweep = new SweepState({ sweepId: SWEEP_ID, name: 'psi', status: 'running' }, configs);

  const finish = (i: number): void => {
    const [, , , egf1, loss] = at(PSI_SWEEP, i);
    const runId = `run-c${i}`;
    state.applySweepEvent(SWEEP_ID, { type: 'start', id: `c${i}`, point: at(configs, i).point });
    state.applySweepEvent(SWEEP_ID, {
      type: 'end',
      id: `c${i}`,
      status: 'finished',
      summary: wire(runSummary(runId, `${SWEEP_ID}/${runId}`, { sparse: { acc: 1 - loss, loss, egf1, egf2: egf1 * 2, g1: 10 - i, g2: (i * 5) % 7 } })),
    });
  };

  before(async () => {
    state.addSweep(sweep);
    // Only the first run finishes before the page opens: no group yet.
    finish(0);
    state.focusSweep(SWEEP_ID);
    page = await web.open();
    state.drainUpdates();
    await web.send([init(state)]);
  });

  after(() => web.close());

  it('says Ψ appears later while no group exists, then shows Ψ per measure as runs finish', async () => {
    assert.equal((await page.textContent('#gf-sweep-psi'))?.trim(), 'Granulated Kendall Ψ: appears once two finished runs differ in one sweep axis only.');
    for (let i = 1; i < PSI_SWEEP.length; i++) finish(i);
    await web.send(state.drainUpdates());
    await page.evaluate(SETTLE);
    const lines = await page.$$eval('#gf-sweep-psi li', (lis) => lis.map((li) => (li.textContent ?? '').trim()));
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^sparse · test loss: Ψ ‖g‖₁ 0\.500 · Ψ ‖g‖₂ -?\d\.\d{3} · Ψ EGF₁ -0\.500 · Ψ EGF₂ -0\.500$/);
    assert.match(lines[1], /^sparse · test accuracy: /);
    // The runs table is still the only table of the view.
    assert.equal(await page.$$eval('#gf-sweep table', (ts) => ts.length), 1);
  });
});
