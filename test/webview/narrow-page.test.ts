/**
 * Browser test of the dashboard at the default split width (half of a 1280–1400 px window: a
 * webview about 600–700 px wide) on an MLP SC-SDC pair with a sweep, and on a synthetic 56-layer
 * conv net (deep-fixture.ts): no horizontal page scroll, every column reachable, readable ticks and
 * labels, every layer reachable through the groups. Real bundle, real DashboardState, chromium.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { DashboardState } from '../../src/extension/dashboard/state';
import { loadIntoDashboard } from '../../src/extension/runs/past-runs';
import { readRun } from '../../src/runs/store';
import { SweepState, type PlannedConfig } from '../../src/extension/dashboard/sweep-state';
import { WebviewPage, repoRoot, skip } from './browser-harness';
import { DEEP_LAYERS, deepLayerNames, deepRunMessages } from './deep-fixture';
import { init, pairRun } from './fixtures';
import { runSummary, wire } from './sweep-fixtures';
import * as checked from '../../src/shared/checked';

/* Page code is written as strings: this file compiles with the Node tsconfig (no DOM lib). */

/** The page's horizontal overflow, and the deepest elements that stick out on the right (for the message). */
const OVERFLOW = `(() => {
  const se = document.scrollingElement;
  const w = se.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= w + 0.5) continue;
    // Inside an element that scrolls by itself: not the page's problem.
    let p = el.parentElement, inner = false;
    while (p && p !== document.body) { const s = getComputedStyle(p); if (s.overflowX === 'auto' || s.overflowX === 'scroll' || s.overflowX === 'hidden') { inner = true; break; } p = p.parentElement; }
    if (inner) continue;
    if ([...el.children].some((c) => c.getBoundingClientRect().right > w + 0.5)) continue;
    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' right=' + Math.round(r.right));
  }
  return { scrollWidth: se.scrollWidth, clientWidth: w, culprits: out.slice(0, 8) };
})()`;

/** Painted pixels in a canvas's outermost `px` columns on either side (text cut at an edge paints there). */
const EDGE_INK = `(sel, px) => {
  const c = document.querySelector(sel);
  const ctx = c.getContext('2d');
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let left = 0, right = 0;
  for (let y = 0; y < c.height; y++) for (let k = 0; k < px; k++) {
    if (d[(y * c.width + k) * 4 + 3] > 0) left++;
    if (d[(y * c.width + c.width - 1 - k) * 4 + 3] > 0) right++;
  }
  return { left, right };
}`;

/** Pixels of a canvas close to each of the given #rrggbb colours. */
const COLOUR_INK = `(sel, hexes) => {
  const c = document.querySelector(sel);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return hexes.map((hex) => {
    const t = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && Math.abs(d[i] - t[0]) < 10 && Math.abs(d[i + 1] - t[1]) < 10 && Math.abs(d[i + 2] - t[2]) < 10) n++;
    return n;
  });
}`;

const FIXTURES = join(repoRoot(), 'test', 'fixtures', 'webview');

const SHOTS = join(repoRoot(), 'test-results', 'webview');
const SWEEP_ID = '/work/demo/.gradflow/runs/sweep-fmnist-narrow';

function plan(): PlannedConfig[] {
  const out: PlannedConfig[] = [];
  for (const optimizer of ['sgd', 'adam']) {
    for (const width of [32, 64]) {
      const point = { 'training.optimizer': optimizer, 'model.batch_norm': width === 64, 'sparsity.dense_width': width, 'training.learning_rate': 0.001 };
      out.push({ id: createHash('sha256').update(JSON.stringify(point)).digest('hex').slice(0, 12), point });
    }
  }
  return out;
}

describe('dashboard at the default split width (chromium, 600 px)', { skip }, () => {
  const web = new WebviewPage({ tmpPrefix: 'gradflow-narrow-', viewport: { width: 600, height: 900 }, printPageErrorStacks: true });
  const { pageErrors, send } = web;
  let page: Page;
  const state = new DashboardState({ maxPoints: 600 });
  const mlp = 'run-mlp-20261206-fmnist-scsdc-a long run title to fill the picker';
  const deep = 'run-deep';
  const short = 'run-short';
  let dynId = '';

  before(async () => {
    state.addRun({ runId: mlp, title: 'fmnist-scsdc-with-a-rather-long-experiment-name [lr=0.001, width=64]', sourceFile: '/work/examples/fmnist-scsdc.gradflow.yaml', status: 'running' });
    for (const m of pairRun(mlp, 516)) state.apply(mlp, m);
    state.addRun({ runId: deep, title: 'wrn-deep', status: 'running' });
    for (const m of deepRunMessages(deep, '/tmp/runs/run-deep', 60)) state.apply(deep, m);
    state.addRun({ runId: short, title: 'tiny', status: 'running' });
    for (const m of pairRun(short, 7)) state.apply(short, m);
    // A recorded pair run with its 11 flow points (both nets).
    const dyn = readRun(join(FIXTURES, 'dyn-run'));
    assert.ok(dyn);
    loadIntoDashboard(state, dyn);
    dynId = dyn.runId;
    const configs = plan();
    state.addSweep(new SweepState({ sweepId: SWEEP_ID, name: 'fmnist-narrow', sourceFile: '/work/demo/fmnist-narrow.gradflow.yaml', status: 'finished' }, configs));
    configs.forEach((c, i) => {
      const runId = `20261206-0800${String(i).padStart(2, '0')}-fmnist-narrow-${c.id.slice(0, 4)}`;
      state.applySweepEvent(SWEEP_ID, { type: 'start', id: c.id, point: c.point });
      state.applySweepEvent(SWEEP_ID, { type: 'run', id: c.id, runId, runDir: `${SWEEP_ID}/${runId}` });
      const nets = { sparse: { acc: 0.81 + i / 100, loss: 0.5, egf1: 21.5 + i, egf2: 0.51234 }, dense: { acc: 0.8234, loss: 0.41, egf1: 30.25, egf2: 0.8 } };
      state.applySweepEvent(SWEEP_ID, { type: 'end', id: c.id, status: 'finished', summary: wire(runSummary(runId, `${SWEEP_ID}/${runId}`, nets)) });
    });
    state.focus(mlp);
    state.drainUpdates();
    page = await web.open();
    await send([init(state)]);
  });

  after(() => web.close());

  async function overflow(): Promise<{ scrollWidth: number; clientWidth: number; culprits: string[] }> {
    return page.evaluate(OVERFLOW);
  }

  /** A full-page picture for review (test-results/webview/, gitignored). */
  async function shot(name: string): Promise<void> {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  async function showRun(runId: string): Promise<void> {
    await page.selectOption('#gf-run', runId);
    await send([]);
  }

  it('an MLP run: no horizontal page scroll', async () => {
    await shot('narrow-mlp');
    const o = await overflow();
    assert.ok(o.scrollWidth <= o.clientWidth, `page scrolls sideways: ${JSON.stringify(o)}`);
    assert.deepEqual(pageErrors, []);
  });

  it('the run picker fits and the layers table shows its last column', async () => {
    const w = await page.evaluate<number>('document.scrollingElement.clientWidth');
    const pick = await page.$eval('#gf-run', (e) => e.getBoundingClientRect().right);
    assert.ok(pick <= w, `run picker ends at ${pick}, page is ${w} wide`);
    const lastTh = await page.$eval('#gf-density thead th:last-child', (e) => {
      const r = e.getBoundingClientRect();
      return { right: r.right, text: e.textContent };
    });
    assert.ok(lastTh.right <= w, `last column ends at ${lastTh.right}`);
    // An MLP's total row gives its hidden width.
    const totals = await page.$$eval('#gf-density tr.gf-total td.gf-width', (tds) => tds.map((td) => td.textContent));
    assert.ok(totals.length > 0 && totals.every((t) => /^width \d+$/.test(t ?? '')), `MLP total rows: ${JSON.stringify(totals)}`);
  });

  it('the sweep table: every metric column visible or scrolled inside the table', async () => {
    await page.click('#gf-tab-sweep');
    await send([]);
    await shot('narrow-sweep');
    const o = await overflow();
    assert.ok(o.scrollWidth <= o.clientWidth, `page scrolls sideways on the sweep tab: ${JSON.stringify(o)}`);
    await page.click('#gf-tab-run');
    await send([]);
  });

  it('the 56-layer run: no horizontal page scroll, the layers table names each net once and shows its last column', async () => {
    await showRun(deep);
    await shot('narrow-deep');
    const o = await overflow();
    assert.ok(o.scrollWidth <= o.clientWidth, `page scrolls sideways: ${JSON.stringify(o)}`);
    const lastTh = await page.$eval('#gf-density thead th:last-child', (e) => e.getBoundingClientRect().right);
    assert.ok(lastTh <= o.clientWidth, `last column ends at ${lastTh}`);
    assert.deepEqual(await page.$$eval('#gf-density tr.gf-net-row', (trs) => trs.map((tr) => tr.textContent)), ['sparse net', 'dense twin']);
    assert.equal(deepLayerNames().length, DEEP_LAYERS);
    // A conv net's total row counts channels (its widest layer), not an MLP's hidden width.
    const widths = await page.$$eval('#gf-density tr.gf-total td.gf-width', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(widths, ['≤ 64 ch', '≤ 64 ch']);
    assert.deepEqual(pageErrors, []);
  });

  async function xTicks(card: string): Promise<number[]> {
    const t = await page.$eval(`#gf-${card} canvas`, (c) => (c as unknown as { dataset: { xTicks?: string } }).dataset.xTicks ?? '');
    return t.split(' ').filter((x) => x !== '').map(Number);
  }

  it('the last step tick (516) stands alone: the round tick next to it is dropped', async () => {
    await showRun(mlp);
    for (const card of ['l1', 'l2', 'layers']) {
      const t = await xTicks(card);
      assert.equal(t[t.length - 1], 516, `${card}: ${t.join(' ')}`);
      assert.ok(!t.includes(500), `${card}: ${t.join(' ')}`);
      const spacing = checked.at(t, 1) - checked.at(t, 0);
      assert.ok(checked.at(t, t.length - 1) - checked.at(t, t.length - 2) >= spacing / 2, `${card}: ${t.join(' ')}`);
    }
  });

  it('a 7-step run gets whole step ticks', async () => {
    await showRun(short);
    for (const card of ['l1', 'l2', 'layers']) {
      const t = await xTicks(card);
      assert.ok(t.length >= 2, `${card}: ${t.join(' ')}`);
      assert.ok(t.every((v) => Number.isInteger(v)), `${card}: ${t.join(' ')}`);
    }
  });

  it('the heatmap draws nothing at its left and right edges: no label or colour-bar text is cut', async () => {
    for (const run of [mlp, deep]) {
      await showRun(run);
      const e = await page.evaluate<{ left: number; right: number }>(`(${EDGE_INK})('#gf-heatmap canvas', 2)`);
      assert.deepEqual(e, { left: 0, right: 0 }, run);
    }
  });

  it('sparse and dense EGF evaluation points have two colours', async () => {
    await showRun(dynId);
    // The page's theme: charts-purple for the sparse net's points, charts-green for the dense twin's.
    const [purple, green] = await page.evaluate<number[]>(`(${COLOUR_INK})('#gf-l2 canvas', ['#b180d7', '#89d185'])`);
    assert.ok(purple);
    assert.ok(green);
    assert.ok(purple > 20 && green > 20, `purple ${purple} px, green ${green} px`);
    await shot('narrow-flow-points');
  });

  it('56 layers: the layers table groups them; expanding every group reaches every layer of both nets', async () => {
    await showRun(deep);
    const names = deepLayerNames();
    const rowsOf = (): Promise<string[]> => page.$$eval('#gf-density td.gf-layer-name', (tds) => tds.map((td) => td.getAttribute('title') ?? ''));
    // Collapsed: stem, three group rows, fc per net.
    assert.deepEqual(await rowsOf(), ['stem', 'fc', 'stem', 'fc']);
    const toggles = await page.$$eval('#gf-density [data-group-toggle]', (bs) => bs.map((b) => [b.textContent, b.getAttribute('aria-expanded')]));
    assert.deepEqual(toggles, [['▸ group1 (18)', 'false'], ['▸ group2 (19)', 'false'], ['▸ group3 (17)', 'false'], ['▸ group1 (18)', 'false'], ['▸ group2 (19)', 'false'], ['▸ group3 (17)', 'false']]);
    for (const g of ['group1', 'group2', 'group3']) {
      await page.click(`#gf-density [data-group-toggle="sparse:${g}"]`);
      await send([]);
    }
    // Groups open for both nets at once (one choice per group name).
    assert.deepEqual(await rowsOf(), [...names, ...names]);
    // Inside a group a row is named without the group; its full name is its title.
    const shown = await page.$$eval('#gf-density tr.gf-in-group td.gf-layer-name', (tds) => tds.slice(0, 2).map((td) => td.textContent));
    assert.deepEqual(shown, ['block1.conv1', 'block1.conv2']);
    const o = await overflow();
    assert.ok(o.scrollWidth <= o.clientWidth, `page scrolls sideways with every group open: ${JSON.stringify(o)}`);
    await shot('narrow-deep-open');
    for (const g of ['group1', 'group2', 'group3']) {
      await page.click(`#gf-density [data-group-toggle="sparse:${g}"]`);
      await send([]);
    }
    assert.deepEqual(await rowsOf(), ['stem', 'fc', 'stem', 'fc']);
  });

  it('56 layers: the group selector narrows the chart, heatmap and table to one group', async () => {
    await showRun(deep);
    const options = await page.$$eval('#gf-layer-group option', (os) => os.map((o) => o.textContent));
    assert.deepEqual(options, ['all 56', 'stem', 'group1 (18)', 'group2 (19)', 'group3 (17)', 'fc']);
    await page.selectOption('#gf-layer-group', 'group2');
    await send([]);
    const want = deepLayerNames().filter((n) => n.startsWith('group2.'));
    const rows = await page.$$eval('#gf-density td.gf-layer-name', (tds) => tds.map((td) => td.getAttribute('title')));
    assert.deepEqual(rows, [...want, ...want]);
    await shot('narrow-deep-group2');
    const o = await overflow();
    assert.ok(o.scrollWidth <= o.clientWidth, JSON.stringify(o));
    await page.selectOption('#gf-layer-group', '');
    await send([]);
  });

  it('56 layers: every heatmap row is reachable (scrolled inside its card) and names its layer on hover', async () => {
    await showRun(deep);
    const box = await page.$eval('#gf-heatmap .gf-heat-box', (b) => {
      const r = b.getBoundingClientRect();
      return { scrollHeight: b.scrollHeight, clientHeight: b.clientHeight, left: r.left, top: r.top, width: r.width };
    });
    assert.ok(box.scrollHeight > box.clientHeight, 'a 112-row map scrolls inside its card');
    const seen = new Set<string>();
    await page.$eval('#gf-heatmap .gf-heat-box', (b) => b.scrollIntoView({ block: 'center' }));
    const record = (title: string): void => {
      const m = /^(sparse|dense) · (\S+) · step/.exec(title);
      if (m) seen.add(`${m[1]}:${m[2]}`);
    };
    // Two round trips a sample: one evaluation reads the title the last move left and scrolls for
    // the next, then the pointer moves (the hover's own mousemove handler sets the title).
    for (let y = 0; y < box.scrollHeight; y += 9) {
      const top = Math.max(0, y - 100);
      const at = await page.$eval('#gf-heatmap .gf-heat-box', (b, t) => {
        const title = b.querySelector('canvas')?.getAttribute('title') ?? '';
        b.scrollTop = t;
        return { title, top: b.getBoundingClientRect().top, scrollTop: b.scrollTop, left: b.getBoundingClientRect().left, width: b.getBoundingClientRect().width };
      }, top);
      record(at.title);
      await page.mouse.move(at.left + at.width * 0.6, at.top + (y - at.scrollTop));
    }
    record(await page.$eval('#gf-heatmap canvas', (c) => c.getAttribute('title') ?? ''));
    const want = ['sparse', 'dense'].flatMap((n) => deepLayerNames().map((l) => `${n}:${l}`));
    assert.deepEqual(want.filter((w) => !seen.has(w)), [], 'rows never named on hover');
    assert.equal(seen.size, want.length);
  });
});
