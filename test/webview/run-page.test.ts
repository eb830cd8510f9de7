/**
 * Browser test of the run view's status, failure panel and run picker, on real run folders
 * (test/fixtures/webview/*-run, recorded with `gradflow run`) read back by the extension's loader
 * into the real DashboardState, rendered by the real bundle in chromium (browser-harness.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { DashboardState } from '../../src/extension/dashboard/state';
import { loadIntoDashboard } from '../../src/extension/runs/past-runs';
import { readRun, type RunRecord } from '../../src/runs/store';
import { startLabel } from '../../src/shared/run-status';
import { WebviewPage, skip } from './browser-harness';
import { init } from './fixtures';
import { at } from '../../src/shared/checked';
import { tempFolder } from '../tmp';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/webview');

function record(dir: string): RunRecord {
  const r = readRun(dir);
  assert.ok(r, dir);
  return r;
}

describe('run view: status, failure panel, run picker (chromium)', { skip }, () => {
  const web = new WebviewPage({ tmpPrefix: 'gradflow-run-page-', viewport: { width: 1200, height: 900 }, printPageErrorStacks: true });
  const { pageErrors, send } = web;
  let page: Page;
  let tmp: string;
  const state = new DashboardState();
  let nan: RunRecord;
  let dyn: RunRecord;
  let killed: RunRecord;
  let still: RunRecord;

  before(async () => {
    tmp = tempFolder('gradflow-run-page-');
    nan = record(path.join(FIXTURES, 'nan-run'));
    // The same dynamic-sparsity run twice under one name: once as recorded, once killed mid-run.
    dyn = record(path.join(FIXTURES, 'dyn-run'));
    const cut = path.join(tmp, 'killed-run');
    fs.cpSync(dyn.runDir, cut, { recursive: true });
    const run = JSON.parse(fs.readFileSync(path.join(cut, 'run.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(cut, 'run.json'), JSON.stringify({ ...run, runId: 'killed-run', startedAt: '2026-12-01T06:00:00.000Z' }));
    const lines = fs.readFileSync(path.join(cut, 'metrics.jsonl'), 'utf8').split('\n');
    fs.writeFileSync(path.join(cut, 'metrics.jsonl'), lines.slice(0, 50).join('\n') + '\n');
    fs.rmSync(path.join(cut, 'summary.json'));
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(path.join(cut, 'heartbeat'), old, old);
    killed = record(cut);
    assert.equal(killed.status, 'killed');
    // And once with its mask-update lines removed: the same charts without the markers.
    const plain = path.join(tmp, 'still-run');
    fs.cpSync(dyn.runDir, plain, { recursive: true });
    fs.writeFileSync(path.join(plain, 'run.json'), JSON.stringify({ ...run, runId: 'still-run' }));
    fs.writeFileSync(path.join(plain, 'metrics.jsonl'), lines.filter((l) => !l.includes('"type":"mask-update"')).join('\n'));
    still = record(plain);
    for (const r of [still, dyn, nan, killed]) loadIntoDashboard(state, r);
    // A run that failed before the trainer named it: only its provisional entry exists.
    state.addRun({ runId: 'starting-run-7', title: 'no-data', status: 'starting', startedAt: '2026-12-01T07:00:00.000Z' });
    state.setStatus('starting-run-7', 'failed', 'Dataset "mnist": the folder given as dataset.path does not hold a valid copy');
    state.drainUpdates();
    page = await web.open();
    await send([init(state)]);
  });

  after(async () => {
    await web.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const badge = async (): Promise<{ text: string; cls: string; title: string }> =>
    page.$eval('#gf-run-view .gf-badge', (b) => {
      const e = b as unknown as { textContent: string; className: string; title: string };
      return { text: e.textContent, cls: e.className, title: e.title };
    });

  it('the run picker tells same-named runs apart by start time and id', async () => {
    const options = await page.$$eval('#gf-run option', (os) => os.map((o) => o.textContent ?? ''));
    assert.deepEqual(options.slice(1, 4), [
      `dyn-fixture — finished · ${startLabel(dyn.startedAt)} · 20261201-053627-dyn-fixture-32aa`,
      `nan-fixture — diverged (sparse, dense) · ${startLabel(nan.startedAt)} · ${nan.runId}`,
      `dyn-fixture — killed · ${startLabel('2026-12-01T06:00:00.000Z')} · killed-run`,
    ]);
    // No provisional id for a run that never got a real one.
    assert.equal(options[4], `no-data — failed · ${startLabel('2026-12-01T07:00:00.000Z')}`);
    await page.selectOption('#gf-run', 'killed-run');
    await send([]);
  });

  it('a killed run opens with what it measured, its error and its log tail', async () => {
    // The newest (last) run is shown: the killed one.
    assert.deepEqual(await badge(), {
      text: 'killed',
      cls: 'gf-badge gf-status-killed',
      title: 'Killed: the trainer died without writing a summary (signal, crash or lost machine).\nkilled: the trainer died without writing a summary',
    });
    await page.waitForSelector('#gf-failure:not([hidden])');
    const panel = await page.textContent('#gf-failure h2');
    assert.match(panel ?? '', /^Killed: .* What it measured is below\.$/);
    assert.equal(await page.textContent('#gf-failure p'), 'killed: the trainer died without writing a summary');
    const tail = (await page.textContent('#gf-failure pre')) ?? '';
    assert.match(tail, /^sparsity: snip, global scope: per-layer densities chosen by the criterion/);
    assert.match(tail, /sparse net kernel paths/);
    assert.equal(await page.$eval('#gf-run-view .gf-grid', (g) => (g as unknown as { hidden: boolean }).hidden), false);
  });

  it('a diverged run: its badge names the nets, its tooltip says what that means, no failure panel', async () => {
    await page.selectOption('#gf-run', nan.runId);
    await send([]);
    const b = await badge();
    assert.equal(b.text, 'diverged (sparse, dense)');
    assert.equal(b.cls, 'gf-badge gf-status-diverged');
    assert.match(b.title, /^Diverged: the sparse and dense nets hit NaN or Infinity/);
    assert.equal(await page.$eval('#gf-failure', (p) => (p as unknown as { hidden: boolean }).hidden), true);
    // Colours come from the theme: the diverged badge is not the finished one's.
    const colours = await page.evaluate<string[]>(`(() => {
      const b = document.createElement('span');
      document.body.append(b);
      const out = [];
      for (const s of ['finished', 'diverged', 'failed']) { b.className = 'gf-badge gf-status-' + s; out.push(getComputedStyle(b).color); }
      b.remove();
      return out;
    })()`);
    assert.equal(new Set(colours).size, 3, colours.join(' '));
    assert.deepEqual(pageErrors, []);
  });

  it('mask updates: dotted markers on the time axis of the norm charts, and the per-layer drift chart', async () => {
    await page.selectOption('#gf-run', still.runId);
    await send([]);
    assert.equal(await page.$eval('#gf-drift', (c) => (c as unknown as { hidden: boolean }).hidden), true, 'no drift chart without updates');
    await page.evaluate(`window.__before = Object.fromEntries(['l1', 'l2', 'layers'].map((id) => {
      const c = document.querySelector('#gf-' + id + ' canvas');
      return [id, { w: c.width, d: c.getContext('2d').getImageData(0, 0, c.width, c.height).data }];
    }))`);
    await page.selectOption('#gf-run', dyn.runId);
    await send([]);
    // The same data drawn with markers: the pixels that changed lie in a few columns, one line per update.
    const columns = await page.evaluate<Record<string, number[]>>(`Object.fromEntries(['l1', 'l2', 'layers'].map((id) => {
      const c = document.querySelector('#gf-' + id + ' canvas');
      const before = window.__before[id];
      if (before.w !== c.width) return [id, [-1]];
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const b = before.d;
      const cols = new Set();
      for (let i = 0; i < d.length; i += 4) if (d[i] !== b[i] || d[i + 1] !== b[i + 1] || d[i + 2] !== b[i + 2]) cols.add((i / 4) % c.width);
      return [id, [...cols].sort((a, b) => a - b)];
    }))`);
    for (const [id, cols] of Object.entries(columns)) {
      // Runs of adjacent columns = vertical lines (an anti-aliased line may take two columns).
      const groups = cols.filter((c, i) => i === 0 || c !== at(cols, i - 1) + 1).length;
      assert.equal(groups, 5, `${id}: one line per update (steps 4, 8, 12, 16, 20); changed columns ${JSON.stringify(cols)}`);
      assert.ok(cols.length <= 10, `${id}: thin lines, ${cols.length} columns`);
    }
    assert.match((await page.textContent('.gf-info')) ?? '', /5 mask updates \(rigl\)/);
    assert.equal(await page.$eval('#gf-drift', (c) => (c as unknown as { hidden: boolean }).hidden), false);
    const ink = await page.evaluate<number>(`(() => {
      const c = document.querySelector('#gf-drift canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n / (c.width * c.height);
    })()`);
    assert.ok(ink > 0.01, `drift chart drawn (${ink})`);
    assert.deepEqual(pageErrors, []);
  });

  it('a global-scope pair says at the top that it is not SC-SDC per layer, with the densities the criterion chose', async () => {
    // dyn-run: SNIP, global scope; active/total per layer 63/128, 67/256, 22/48 (its ready message).
    await page.selectOption('#gf-run', dyn.runId);
    await send([]);
    assert.equal(
      await page.textContent('#gf-pairing:not([hidden])'),
      'Not SC-SDC per layer: snip with global scope chose the per-layer densities (dense1 49.2%, dense2 26.2%, output 45.8%); the dense twin is matched in total active weights (152) only, not layer by layer.',
    );
    assert.match((await page.textContent('.gf-pruning')) ?? '', /this pair is not SC-SDC per layer/);
    // nan-run: random, layerwise: SC-SDC in every layer, no warning.
    await page.selectOption('#gf-run', nan.runId);
    await send([]);
    assert.equal(await page.$eval('#gf-pairing', (p) => (p as unknown as { hidden: boolean }).hidden), true);
    assert.match((await page.textContent('.gf-pruning')) ?? '', /layerwise \(SC-SDC counts in every layer\)/);
  });
});
