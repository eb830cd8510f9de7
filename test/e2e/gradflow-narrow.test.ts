/**
 * The dashboard at the default split width, in code-server (issue 23 item 7, issue 19 "readable at
 * 50+ layers"): a 1280 px window, side bar closed, an experiment file in the first editor group and
 * the dashboard beside it (half the window). Two recorded runs are opened with Open Past Run: an MLP
 * SC-SDC pair (test/fixtures/webview/dyn-run) and a synthetic 56-layer conv-net pair
 * (test/webview/deep-fixture.ts). For each, the page inside the webview has no horizontal scroll
 * (document.scrollingElement.scrollWidth ≤ clientWidth), the run picker and the Layers table's last
 * column are inside it, and screenshots go to test-results/e2e/
 * for review by eye.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { writeDeepRun } from '../webview/deep-fixture';
import { budget, closeAll, e2eSkip, frameOfWebview, openFile, openWorkspace, repoRoot, runCommand, screenshot, screenshotOnFailure, testTimeout, waitFor, waitForLocator, type Workspace } from './harness';

after(closeAll);

const FILE = 'quick.gradflow.yaml';

/** Every file of a run folder, as workspace-relative path → text, under `.gradflow/runs/<name>/`. */
function runFiles(dir: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir)) out[path.join('.gradflow', 'runs', name, f)] = fs.readFileSync(path.join(dir, f), 'utf8');
  return out;
}

interface PageWidth {
  scrollWidth: number;
  clientWidth: number;
  pickerRight: number;
  lastHeaderRight: number;
}

async function width(page: Page): Promise<PageWidth> {
  // Page code as a string: the e2e tests compile without the DOM library.
  const measured: unknown = await frameOfWebview(page).locator('html').evaluate(`(() => {
    const se = document.scrollingElement;
    const right = (sel) => { const e = document.querySelector(sel); return e ? e.getBoundingClientRect().right : -1; };
    return { scrollWidth: se.scrollWidth, clientWidth: se.clientWidth, pickerRight: right('#gf-run'), lastHeaderRight: right('#gf-density thead th:last-child') };
  })()`);
  return measured as PageWidth;
}

async function shownTitle(page: Page): Promise<string> {
  return (await frameOfWebview(page).locator('#gf-run option:checked').textContent({ timeout: budget(1000) }).catch(() => null)) ?? '';
}

describe('the dashboard at the default split width (code-server)', { skip: e2eSkip(), timeout: testTimeout(300_000) }, () => {
  let w: Workspace;
  let tmp: string;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-e2e-narrow-runs-'));
    const deep = writeDeepRun(tmp);
    const dyn = path.join(repoRoot(), 'test', 'fixtures', 'webview', 'dyn-run');
    const quick = fs.readFileSync(path.join(repoRoot(), 'examples', 'quick-synthetic.gradflow.yaml'), 'utf8');
    w = await openWorkspace('narrow', { [FILE]: quick, ...runFiles(dyn, '20261201-053627-dyn-fixture-32aa'), ...runFiles(deep, path.basename(deep)) });
  });

  after(async () => {
    await w?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Opens a recorded run with Open Past Run (the dashboard beside the file) and waits for its Layers table. */
  async function open(name: string, rows: number): Promise<void> {
    const { page } = w;
    // The pick lists the newest run first: type the name so that its row is the focused one.
    await runCommand(page, 'Gradflow: Open Past Run…');
    await waitForLocator(page.locator('.quick-input-list .monaco-list-row').filter({ hasText: name }), `Open Past Run offering ${name}`, 10_000);
    await page.keyboard.type(name);
    await waitForLocator(page.locator('.quick-input-list .monaco-list-row.focused').filter({ hasText: name }), `${name} focused in Open Past Run`, 10_000);
    await page.keyboard.press('Enter');
    await waitFor(
      async () => (await shownTitle(page)).includes(name) && (await frameOfWebview(page).locator('#gf-density tbody tr').count().catch(() => 0)) >= rows ? true : undefined,
      30_000,
      `the dashboard on ${name}`,
      { seen: async () => ({ title: await shownTitle(page), frames: await page.locator('iframe.webview.ready').count().catch(() => -1) }) },
    );
  }

  test('an MLP pair and a 56-layer pair: no horizontal scroll in the dashboard beside the editor', { timeout: testTimeout(240_000) }, () =>
    screenshotOnFailure(w.page, 'gradflow-narrow', async () => {
      const { page } = w;
      await openFile(page, FILE);
      await runCommand(page, 'View: Close Primary Side Bar');

      await open('dyn-fixture', 6);
      const mlp = await width(page);
      console.log(`[e2e] MLP dashboard: ${JSON.stringify(mlp)} (window ${page.viewportSize()?.width ?? '?'} px)`);
      // Half of a 1280 px window, less the editor chrome: the default split width.
      assert.ok(mlp.clientWidth >= 500 && mlp.clientWidth <= 700, `webview width ${mlp.clientWidth}`);
      assert.ok(mlp.scrollWidth <= mlp.clientWidth, `the MLP dashboard scrolls sideways: ${JSON.stringify(mlp)}`);
      assert.ok(mlp.pickerRight <= mlp.clientWidth, `run picker cut: ${JSON.stringify(mlp)}`);
      assert.ok(mlp.lastHeaderRight > 0 && mlp.lastHeaderRight <= mlp.clientWidth, `Layers table's last column off-screen: ${JSON.stringify(mlp)}`);
      await screenshot(page, 'gradflow-narrow-1-mlp');
      // The heatmap and the Layers table, lower down.
      await frameOfWebview(page).locator('#gf-heatmap').scrollIntoViewIfNeeded({ timeout: budget(5000) });
      await screenshot(page, 'gradflow-narrow-2-mlp-heatmap');

      await open('wrn-deep', 5);
      const deep = await width(page);
      console.log(`[e2e] 56-layer dashboard: ${JSON.stringify(deep)}`);
      assert.ok(deep.scrollWidth <= deep.clientWidth, `the 56-layer dashboard scrolls sideways: ${JSON.stringify(deep)}`);
      assert.ok(deep.pickerRight <= deep.clientWidth, `run picker cut: ${JSON.stringify(deep)}`);
      assert.ok(deep.lastHeaderRight > 0 && deep.lastHeaderRight <= deep.clientWidth, `Layers table's last column off-screen: ${JSON.stringify(deep)}`);
      const groups = await frameOfWebview(page).locator('#gf-layer-group option').allTextContents();
      assert.deepEqual(groups, ['all 56', 'stem', 'group1 (18)', 'group2 (19)', 'group3 (17)', 'fc']);
      await screenshot(page, 'gradflow-narrow-3-deep');
      await frameOfWebview(page).locator('#gf-heatmap').scrollIntoViewIfNeeded({ timeout: budget(5000) });
      await screenshot(page, 'gradflow-narrow-4-deep-heatmap');
      // One group: chart, heatmap and table narrow to it; still no sideways scroll.
      await frameOfWebview(page).locator('#gf-layer-group').selectOption('group2', { timeout: budget(5000) });
      await waitFor(async () => ((await frameOfWebview(page).locator('#gf-density td.gf-layer-name').count()) === 38 ? true : undefined), 10_000, 'the Layers table on group2 (19 layers × 2 nets)');
      const one = await width(page);
      assert.ok(one.scrollWidth <= one.clientWidth, `group2 scrolls sideways: ${JSON.stringify(one)}`);
      await frameOfWebview(page).locator('#gf-layers').scrollIntoViewIfNeeded({ timeout: budget(5000) });
      await screenshot(page, 'gradflow-narrow-5-deep-group2');
      await frameOfWebview(page).locator('#gf-density').scrollIntoViewIfNeeded({ timeout: budget(5000) });
      await screenshot(page, 'gradflow-narrow-6-deep-group2-table');
    }));
});
