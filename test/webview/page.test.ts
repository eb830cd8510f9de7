/**
 * Browser test of the dashboard page: the real bundle (built here with webview/build.mjs), the real
 * HTML shell with its CSP (as header and meta), a stub `acquireVsCodeApi`, messages produced by the
 * real DashboardState. Runs Debian's chromium through playwright-core (browser-harness.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { DashboardState } from '../../src/extension/dashboard/state';
import { decodePngDataUrl } from '../../src/extension/dashboard/png';
import { WEBVIEW_PROTOCOL_VERSION, isPageToHost, type PageToHost } from '../../src/shared/webview-protocol';
import { WebviewPage, repoRoot, skip } from './browser-harness';
import { alert, init, pairRun, ready, step } from './fixtures';
import { at } from '../../src/shared/checked';

/* Page code is written as strings: this file compiles with the Node tsconfig (no DOM lib). */

const INK = `(selector) => {
  const c = document.querySelector(selector);
  const ctx = c && c.getContext('2d');
  if (!ctx || c.width === 0 || c.height === 0) return { share: 0, colours: 0, w: c ? c.width : 0, h: c ? c.height : 0 };
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let painted = 0;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0) {
      painted++;
      colours.add(((d[i] >> 4) << 8) | ((d[i + 1] >> 4) << 4) | (d[i + 2] >> 4));
    }
  }
  return { share: painted / (c.width * c.height), colours: colours.size, w: c.width, h: c.height };
}`;

describe('dashboard page in chromium', { skip }, () => {
  const root = repoRoot();
  const web = new WebviewPage({ tmpPrefix: 'gradflow-webview-', viewport: { width: 1280, height: 900 }, printPageErrorStacks: true });
  const { consoleLines, pageErrors, send, posted } = web;
  let page: Page;

  before(async () => {
    page = await web.open();
  });

  after(() => web.close());

  /** Share of painted pixels and number of distinct (4-bit quantised) colours of a canvas. */
  async function ink(selector: string): Promise<{ share: number; colours: number; w: number; h: number }> {
    return page.evaluate<{ share: number; colours: number; w: number; h: number }>(`(${INK})(${JSON.stringify(selector)})`);
  }

  it('says ready with the protocol version', async () => {
    const p = await posted();
    assert.deepEqual(p[0], { type: 'ready', protocolVersion: WEBVIEW_PROTOCOL_VERSION });
  });

  it('renders init + incremental updates into non-blank charts, heatmap, table and alerts', async () => {
    const state = new DashboardState({ maxPoints: 600 });
    state.addRun({ runId: 'r1', title: 'fmnist-scsdc', sourceFile: '/work/examples/fmnist-scsdc.gradflow.yaml', status: 'running' });
    const msgs = pairRun('r1', 400);
    msgs.slice(0, 300).forEach((m) => state.apply('r1', m));
    state.drainUpdates();
    await send([init(state)]);
    msgs.slice(300).forEach((m) => state.apply('r1', m));
    state.apply('r1', step('sparse', 401, true, 401));
    state.apply('r1', alert('sparse', 'nan', 401, 1, 'NaN', 'dense2: masked gradient norm is NaN at step 401'));
    await send(state.drainUpdates());

    for (const id of ['l1', 'l2', 'layers', 'accuracy', 'loss']) {
      const r = await ink(`#gf-${id} canvas`);
      assert.ok(r.w > 100 && r.h > 100, `${id}: canvas ${r.w}×${r.h}`);
      assert.ok(r.share > 0.01 && r.colours >= 4, `${id}: ${JSON.stringify(r)}`);
    }
    const heat = await ink('#gf-heatmap canvas');
    assert.ok(heat.share > 0.3 && heat.colours > 20, `heatmap: ${JSON.stringify(heat)}`);

    const rows = await page.$$eval('#gf-density tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    assert.equal(rows.length, 8, rows.join('\n')); // 3 layers + total, per net
    assert.match(rows[0], /sparse.*dense1.*784×32/);
    const info = await page.textContent('.gf-info');
    assert.match(info ?? '', /step 401 \/ 400/);
    assert.equal(await page.textContent('.gf-badge'), 'running');
  });

  it('lists alerts and posts revealAlert with the right ids on click', async () => {
    const items = await page.$$eval('.gf-alerts li', (lis) => lis.map((li) => li.textContent ?? ''));
    assert.equal(items.length, 3);
    assert.match(items[0], /collapse.*step 150.*dense2.*4\.20e-4/);
    assert.match(items[2], /nan.*step 401.*NaN/);
    await page.click('.gf-alerts li:nth-child(2) button');
    await page.click('.gf-alerts li:nth-child(3) button');
    const p = await posted();
    assert.deepEqual(p.filter((m) => m.type === 'revealAlert'), [
      { type: 'revealAlert', runId: 'r1', alertIndex: 1 },
      { type: 'revealAlert', runId: 'r1', alertIndex: 2 },
    ]);
  });

  it('ignores (and logs) malformed messages', async () => {
    const before = await page.$$eval('.gf-alerts li', (lis) => lis.length);
    await send([
      { type: 'alert', runId: 'r1', index: 3, alert: { kind: 'nan' } },
      { type: 'series', runId: 'r1', net: 'sparse', series: { lastStep: NaN } },
      { type: 'selfDestruct' },
      'not even an object',
    ]);
    assert.equal(await page.$$eval('.gf-alerts li', (lis) => lis.length), before);
    assert.equal(consoleLines.filter((l) => l.startsWith('warning: gradflow: ignored malformed message')).length, 4, consoleLines.join('\n'));
    assert.deepEqual(pageErrors, []);
  });

  it('exports: PNG as a data URL, CSV as a command; every posted message is valid', async () => {
    await page.click('#gf-l2 .gf-actions button');
    await page.selectOption('.gf-toolbar select[aria-label="CSV data"]', 'layers');
    await page.click('.gf-toolbar button');
    const p = await posted();
    const png = p.find((m): m is Extract<PageToHost, { type: 'savePng' }> => m.type === 'savePng');
    assert.ok(png);
    assert.equal(png.name, 'fmnist-scsdc-l2');
    assert.ok(decodePngDataUrl(png.dataUrl).length > 1000);
    assert.deepEqual(p.filter((m) => m.type === 'exportCsv'), [{ type: 'exportCsv', runId: 'r1', what: 'layers' }]);
    for (const m of p) assert.ok(isPageToHost(m), JSON.stringify(m).slice(0, 200));
  });

  it('draws a 100,000-step pair run decimated to 2,000 points per series (time printed, not asserted)', async () => {
    const state = new DashboardState();
    state.addRun({ runId: 'big', title: 'long run', status: 'running' });
    state.apply('big', ready('big', ['sparse', 'dense'], 100_000));
    for (let s = 1; s <= 100_000; s++) for (const net of ['sparse', 'dense'] as const) state.apply('big', step(net, s, true));
    const updates = state.drainUpdates();
    const t0 = Date.now();
    await send([...updates, { type: 'focusRun', runId: 'big' }]);
    // Speed is for benchmarks, not tests: the time is a figure in the output, the decimation is asserted.
    console.log(`[webview] update + render of a 100,000-step pair run: ${Date.now() - t0} ms`);
    assert.match((await page.textContent('.gf-info')) ?? '', /plotting 2,000 of 100,000 points/);
    assert.ok((await ink('#gf-layers canvas')).share > 0.01);
    // Back to the first run for the screenshots.
    await page.selectOption('#gf-run', 'r1');
    await send([]);
    assert.deepEqual((await posted()).filter((m) => m.type === 'selectRun'), [{ type: 'selectRun', runId: 'r1' }]);
  });

  it('follows a theme change and saves a screenshot', async () => {
    // Light theme (VS Code Light Modern variables), then back to dark: the observer re-reads them.
    const setTheme = async (vars: Record<string, string>, from: string, to: string): Promise<void> => {
      await page.evaluate(
        `for (const [k, x] of Object.entries(${JSON.stringify(vars)})) document.documentElement.style.setProperty(k, x);
         document.body.classList.replace(${JSON.stringify(from)}, ${JSON.stringify(to)});`,
      );
      await send([]);
    };
    const dir = join(resolve(root), 'test-results', 'webview');
    mkdirSync(dir, { recursive: true });
    const lightBg = '#ffffff';
    await setTheme(
      {
        '--vscode-editor-foreground': '#3b3b3b', '--vscode-editor-background': lightBg, '--vscode-sideBar-background': '#f8f8f8',
        '--vscode-panel-border': '#e5e5e5', '--vscode-descriptionForeground': '#717171', '--vscode-charts-lines': 'rgba(0,0,0,0.12)',
      },
      'vscode-dark',
      'vscode-light',
    );
    // The PNG export paints the theme background: its corner pixel must now be white.
    await page.click('#gf-loss .gf-actions button');
    const lightPng = (await posted()).filter((m): m is Extract<PageToHost, { type: 'savePng' }> => m.type === 'savePng').pop();
    assert.ok(lightPng);
    const corner = await page.evaluate<number[]>(`(async () => {
      const img = new Image();
      img.src = ${JSON.stringify(lightPng.dataUrl)};
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      return Array.from(ctx.getImageData(0, 0, 1, 1).data);
    })()`);
    assert.deepEqual(corner, [255, 255, 255, 255]);
    await page.evaluate('window.scrollTo(0, 0)');
    writeFileSync(join(dir, 'dashboard-light.png'), await page.screenshot({ fullPage: true }));
    await setTheme(
      {
        '--vscode-editor-foreground': '#cccccc', '--vscode-editor-background': '#1f1f1f', '--vscode-sideBar-background': '#181818',
        '--vscode-panel-border': '#2b2b2b', '--vscode-descriptionForeground': '#9d9d9d', '--vscode-charts-lines': 'rgba(204,204,204,0.15)',
      },
      'vscode-light',
      'vscode-dark',
    );
    assert.ok((await ink('#gf-l1 canvas')).share > 0.01);
    await page.evaluate('window.scrollTo(0, 0)'); // the sticky toolbar follows the scroll position the clicks left
    const shot = await page.screenshot({ fullPage: true });
    writeFileSync(join(dir, 'dashboard.png'), shot);
    assert.deepEqual(pageErrors, []);
  });

  it('caused no CSP violation (and the recorder does catch one)', async () => {
    const rec = await page.evaluate<string[]>('window.__gradflow.csp');
    assert.deepEqual(rec, []);
    assert.deepEqual(consoleLines.filter((l) => /Content Security Policy|Refused to/i.test(l)), []);
    // Control: an inline style attribute is exactly what the policy forbids.
    await page.evaluate(`{
      const d = document.createElement('div');
      d.setAttribute('style', 'color: red');
      document.body.append(d);
    }`);
    await page.waitForFunction('window.__gradflow.csp.length > 0');
  });
  it('shows a starting run at once, then the real run in its place; tiny densities are not "0.0%"', async () => {
    const state = new DashboardState();
    state.drainUpdates();
    await send([init(state)]);
    state.addRun({ runId: 'starting-run-9', title: 'tiny-density', status: 'starting' });
    state.setStatus('starting-run-9', 'starting', 'loading fashion-mnist');
    state.focus('starting-run-9');
    await send(state.drainUpdates());
    await page.waitForSelector('.gf-starting:not([hidden])');
    assert.equal(await page.textContent('.gf-starting'), 'Starting tiny-density: loading fashion-mnist…');
    assert.equal((await page.textContent('#gf-run-view .gf-badge'))?.trim(), 'starting');
    assert.equal(await page.$eval('#gf-run-view .gf-grid', (g) => (g as unknown as { hidden: boolean }).hidden), true);

    // The trainer names the run: the real run is added, the starting entry removed, the focus follows.
    const r = ready('real-9', ['sparse']);
    const info = at(r.nets, 0);
    info.layers[1] = { ...at(info.layers, 1), active: 16, total: 40000, density: 16 / 40000 };
    state.addRun({ runId: 'real-9', title: 'tiny-density', status: 'running' });
    state.apply('real-9', r);
    state.removeRun('starting-run-9', 'real-9');
    await send(state.drainUpdates());
    await page.waitForSelector('.gf-starting[hidden]', { state: 'attached' });
    const options = await page.$$eval('#gf-run option', (os) => os.map((o) => o.textContent ?? ''));
    assert.ok(!options.some((o) => o.includes('starting')), options.join(' | '));
    assert.equal(await page.$eval('#gf-run', (s) => (s as unknown as { value: string }).value), 'real-9');
    const rows = await page.$$eval('#gf-density tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    assert.match(rows[1], /dense2.*16.*40,000.*0\.040%/);
  });
});
