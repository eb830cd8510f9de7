/**
 * A conv net end to end in VS Code (issue 19, "Tests"): code-server with the repository as the
 * extension under development, driven by chromium.
 *
 * A small simple-CNN SC-SDC pair (3 conv blocks of 8-16-16 channels, density ρ = 0.25, synthetic
 * 12×12×1 images, 2 epochs, 16 steps; the shape of examples/fmnist-cnn.gradflow.yaml, shrunk to run
 * in seconds) is run from the palette:
 *
 * 1. the dashboard shows the per-layer chart with the conv layer names (`block1.conv` … `fc`, for
 *    the sparse net and its twin) and the Layers table groups them by block (`block1` … opened
 *    shows `block1.conv`);
 * 2. its mask leaves some channels without a path (seed 0: 1 of 8 units of `block1.conv` has no
 *    active incoming weight, 4 of 16 of `block3.conv` no outgoing one): the `collapse-at-mask`
 *    alerts name the conv layers and become warnings on the `density` line (squiggle and Problems
 *    view), the key a conv net's collapse blames first;
 * 3. the quick fix "Raise the density" on that line rewrites `density` in the file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import {
  budget,
  closeAll,
  e2eSkip,
  frameOfWebview,
  openFile,
  openWorkspace,
  runCommand,
  screenshot,
  screenshotOnFailure,
  testTimeout,
  waitFor,
  waitForLocator,
  type Workspace,
} from './harness';
import { at } from '../../src/shared/checked';

after(closeAll);

const CNN = 'cnn.gradflow.yaml';
const CNN_TEXT = [
  '# A small simple-CNN SC-SDC pair on synthetic 12x12 images (end-to-end test).', // 1
  'name: cnn-e2e', //                                                                  2
  '', //                                                                               3
  'dataset:', //                                                                       4
  '  name: synthetic', //                                                              5
  '  synthetic: { shape: [12, 12, 1], classes: 4, train_size: 256, test_size: 64 }', // 6
  '', //                                                                               7
  'model:', //                                                                         8
  '  architecture: cnn', //                                                            9
  '  channels: [8, 16, 16]', //                                                        10
  '  activation: relu', //                                                             11
  '  batch_norm: false', //                                                            12
  '', //                                                                               13
  'sparsity:', //                                                                      14
  '  method: random', //                                                               15
  '  density: 0.25              # the twin has channels [2, 4, 4]', //                 16
  '', //                                                                               17
  'training:', //                                                                      18
  '  optimizer: adam', //                                                              19
  '  learning_rate: 0.01', //                                                          20
  '  epochs: 2', //                                                                    21
  '  batch_size: 32', //                                                               22
  '  seed: 0', //                                                                      23
  '', //                                                                               24
  'monitoring:', //                                                                    25
  '  every: 1', //                                                                     26
  '',
].join('\n');
/** 1-based line of `density:`. */
const DENSITY_LINE = 16;
const LAYERS = ['block1.conv', 'block2.conv', 'block3.conv', 'fc'];

async function badge(dash: FrameLocator): Promise<string> {
  return ((await dash.locator('.gf-badge').first().textContent({ timeout: budget(2000) }).catch(() => null)) ?? '').trim();
}

/** The "Ln X, Col Y" status-bar item of the active editor. */
async function cursorLine(page: Page): Promise<number | undefined> {
  const text = (await page.locator('[id="status.editor.selection"]').textContent({ timeout: budget(2000) }).catch(() => null)) ?? '';
  const m = /Ln (\d+), Col (\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** 1-based lines of the active editor that carry a squiggle, matched to the gutter's line numbers. */
async function squiggleLines(page: Page): Promise<number[]> {
  const editor = page.locator('.editor-group-container.active .monaco-editor').first();
  return editor.evaluate((root) => {
    const numbers = [...root.querySelectorAll('.margin-view-overlays .line-numbers')].map((el) => {
      const r = el.getBoundingClientRect();
      return { line: Number(el.textContent?.trim()), mid: r.top + r.height / 2 };
    });
    const lines = new Set<number>();
    for (const sq of root.querySelectorAll('.view-overlays .squiggly-error, .view-overlays .squiggly-warning')) {
      const r = sq.getBoundingClientRect();
      const mid = r.top + r.height / 2;
      const hit = numbers.find((n) => Math.abs(n.mid - mid) < r.height);
      if (hit && Number.isFinite(hit.line)) lines.add(hit.line);
    }
    return [...lines].sort((a, b) => a - b);
  }).catch(() => []);
}

describe('A conv net in VS Code (code-server UI)', { skip: e2eSkip(), timeout: testTimeout(240_000) }, () => {
  let w: Workspace | undefined;
  let page: Page;

  before(async () => {
    assert.match(at(CNN_TEXT.split('\n'), DENSITY_LINE - 1), /^ {2}density: 0\.25\b/);
    w = await openWorkspace('cnn', { [CNN]: CNN_TEXT });
    page = w.page;
  });

  after(async () => {
    await w?.close();
  });

  test('the CNN pair runs from the palette; the per-layer chart and the Layers table name its conv layers', { timeout: testTimeout(120_000) }, () =>
    screenshotOnFailure(page, 'gradflow-cnn-run', async () => {
      const t0 = Date.now();
      await openFile(page, CNN);
      await runCommand(page, 'Gradflow: Run Experiment');
      const groups = page.locator('.editor-group-container');
      await waitForLocator(groups.nth(1).locator('.tab.active').filter({ hasText: /^\s*Gradflow\s*$/ }), 'the Gradflow tab in the second group', 30_000, 'visible');
      const dash = frameOfWebview(page);
      await waitFor(async () => ((await dash.locator('.gf-info').textContent({ timeout: budget(2000) }).catch(() => '')) ?? '').includes(CNN) || undefined, 30_000, 'the dashboard showing the CNN run');
      let status = '';
      await waitFor(async () => (status = await badge(dash)) === 'finished' || undefined, 60_000, 'the CNN run finished', { seen: () => status });
      console.log(`[e2e timing] CNN run from the palette to finished: ${Date.now() - t0} ms`);

      // The per-layer chart: one line per conv layer and the classifier, for each net of the pair.
      const canvas = dash.locator('#gf-layers canvas');
      await waitForLocator(canvas, 'the per-layer chart', 10_000, 'visible');
      let series: string[] = [];
      await waitFor(async () => {
        series = ((await canvas.getAttribute('data-series', { timeout: budget(2000) }).catch(() => null)) ?? '').split('\n');
        return series.length === 2 * LAYERS.length || undefined;
      }, 10_000, 'the per-layer chart lines of both nets', { seen: () => series });
      assert.deepEqual(series, [...LAYERS.map((l) => `${l} · sparse`), ...LAYERS.map((l) => `${l} · dense`)]);
      // The Layers table, per net: the conv layers under their block's group row (collapsed, one
      // layer each), the classifier as a row of its own.
      const toggles = (await dash.locator('#gf-density button.gf-group-toggle').allTextContents()).map((t) => t.trim());
      const blocks = ['▸ block1 (1)', '▸ block2 (1)', '▸ block3 (1)'];
      assert.deepEqual(toggles, [...blocks, ...blocks]);
      const rows = (await dash.locator('#gf-density td.gf-layer-name').allTextContents()).map((t) => t.trim());
      assert.deepEqual(rows, ['fc', 'fc']);
      // Opening block1 shows its conv layer (`conv` in the group, titled with its full name).
      await dash.locator('#gf-density button.gf-group-toggle').first().click({ timeout: budget(5000) });
      const opened = dash.locator('#gf-density td.gf-layer-name[title="block1.conv"]');
      await waitForLocator(opened.first(), 'block1.conv in the opened block1 group', 10_000, 'visible');
      assert.equal(((await opened.first().textContent()) ?? '').trim(), 'conv');
      await dash.locator('#gf-layers').scrollIntoViewIfNeeded({ timeout: budget(5000) });
      await screenshot(page, 'gradflow-cnn-1-layers');
    }));

  test('collapse-at-mask alerts name the conv layers and land on the density line: squiggle and Problems view', { timeout: testTimeout(60_000) }, () =>
    screenshotOnFailure(page, 'gradflow-cnn-alert', async () => {
      const dash = frameOfWebview(page);
      const alerts = dash.locator('button.gf-alert').filter({ has: dash.locator('.gf-alert-kind', { hasText: /^collapse-at-mask$/ }) });
      await waitForLocator(alerts.first(), 'a collapse-at-mask alert in the dashboard', 10_000, 'visible');
      const metas = (await alerts.locator('.gf-alert-meta').allTextContents()).map((t) => t.trim());
      console.log(`[e2e] collapse-at-mask alerts: ${JSON.stringify(metas)}`);
      assert.ok(metas.some((m) => m.includes('block1.conv')), JSON.stringify(metas));
      assert.ok(metas.every((m) => /block\d\.conv|fc/.test(m) && m.includes('sparse')), JSON.stringify(metas));

      // The editor: the file in the first group, a squiggle on the density line.
      await runCommand(page, 'View: Focus First Editor Group');
      const lines = await waitFor(async () => {
        const l = await squiggleLines(page);
        return l.includes(DENSITY_LINE) ? l : undefined;
      }, 20_000, `a squiggle on line ${DENSITY_LINE} (density)`);
      console.log(`[e2e] squiggles on lines ${lines.join(', ')}`);

      await runCommand(page, 'Problems: Focus on Problems View');
      const rows = page.locator('.markers-panel .monaco-list-row');
      await waitForLocator(rows.first(), 'a Problems row', 10_000, 'visible');
      const row = await waitFor(async () => {
        const texts = await rows.allTextContents();
        return texts.find((t) => t.includes(`[Ln ${DENSITY_LINE}, Col`) && /gradflow run/.test(t) && /block\d\.conv/.test(t));
      }, 10_000, `a Problems row from the run at Ln ${DENSITY_LINE} naming a conv layer`, { seen: () => rows.allTextContents() });
      assert.match(row, /collapse-at-mask|no active/, row);
      await screenshot(page, 'gradflow-cnn-2-problems');
    }));

  test('the quick fix "Raise the density" on the density line rewrites it', { timeout: testTimeout(60_000) }, () =>
    screenshotOnFailure(page, 'gradflow-cnn-quickfix', async () => {
      // The cursor to the density line with the keyboard (a click can land on the code lens).
      await runCommand(page, 'View: Focus First Editor Group');
      await page.keyboard.press('Control+Home');
      await waitFor(async () => (await cursorLine(page)) === 1 || undefined, 5000, 'the cursor on line 1');
      for (let i = 1; i < DENSITY_LINE; i++) await page.keyboard.press('ArrowDown');
      await waitFor(async () => (await cursorLine(page)) === DENSITY_LINE || undefined, 5000, `the cursor on line ${DENSITY_LINE}`, { seen: () => cursorLine(page) });
      // Into the key `density` (the run diagnostic's range is the key).
      await page.keyboard.press('Home');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Control+.');
      const wanted = /Raise the density \(0\.25 → /;
      const item = page.locator('.action-widget .monaco-list-row').filter({ hasText: wanted }).first();
      await waitForLocator(item, 'the Raise the density quick fix', 10_000, 'visible');
      const title = ((await item.textContent()) ?? '').trim();
      await screenshot(page, 'gradflow-cnn-3-quickfix-menu');
      // The menu's pointer block swallows clicks: choose with the keyboard.
      const focused = page.locator('.action-widget .monaco-list-row.focused');
      for (let i = 0; i < 10 && !wanted.test((await focused.textContent().catch(() => '')) ?? ''); i++) await page.keyboard.press('ArrowDown');
      assert.match((await focused.textContent()) ?? '', wanted);
      await page.keyboard.press('Enter');
      await waitForLocator(page.locator('.action-widget'), 'the quick fix menu closed', 5000, 'hidden');
      await page.keyboard.press('Control+S');
      const next = /→ ([\d.]+)\)/.exec(title)?.[1];
      assert.ok(next !== undefined && Number(next) > 0.25 && Number(next) < 1, title);
      const file = path.join(w!.dir, CNN);
      const line = await waitFor(() => {
        const l = fs.readFileSync(file, 'utf8').split('\n')[DENSITY_LINE - 1];
        return l !== undefined && l.startsWith(`  density: ${next}`) ? l : undefined;
      }, 10_000, `density: ${next} saved`, { seen: () => fs.readFileSync(file, 'utf8').split('\n')[DENSITY_LINE - 1] });
      assert.match(line, /# the twin has channels/, 'the comment is kept');
      console.log(`[e2e] quick fix "${title}" → ${line.trim()}`);
    }));
});
