/**
 * The Runs view as a user meets it (issue 11 items 2, 4, 5, 7), through the UI in code-server:
 *
 * - a run started from a terminal (`gradflow run`, the CLI) on a file in a subfolder of a fresh
 *   project appears in the Runs view once its folder lands, without Refresh; it diverged, and the
 *   row says `diverged (…)` (not finished, no green check);
 * - a run that fails before its run folder exists (a dataset path that is not there) is not a dead
 *   end: its Runs view row says `failed`, names its start time, and clicking it shows the dashboard
 *   on that run (after the dashboard was moved to another run): its failure panel with the error
 *   and the trainer's last lines.
 *
 * And, last (it closes the side bar), the dashboard at the default split width (issue 23 item 7,
 * issue 19 "readable at 50+ layers"): the 1280 px window, side bar closed, an experiment file in the
 * first editor group and the dashboard beside it (half the window). Two recorded runs are copied
 * into the workspace and opened with Open Past Run: an MLP SC-SDC pair
 * (test/fixtures/webview/dyn-run) and a synthetic 56-layer conv-net pair
 * (test/webview/deep-fixture.ts). For each, the page inside the webview has no horizontal scroll
 * (document.scrollingElement.scrollWidth ≤ clientWidth), the run picker and the Layers table's last
 * column are inside it, and screenshots go to test-results/e2e/ for review by eye. (It had a window
 * of its own, whose start cost about 15 s of every CI run.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { budget, testTimeout, closeAll, e2eSkip, frameOfWebview, openFile, openWorkspace, outputChannelTail, repoRoot, runCommand, screenshot, screenshotOnFailure, waitFor, waitForLocator, type Workspace } from './harness';
import { at } from '../../src/shared/checked';
import { writeDeepRun } from '../webview/deep-fixture';

after(closeAll);

const EXPLODING = 'experiments/exploding.gradflow.yaml';
const NODATA = 'nodata.gradflow.yaml';
const NODATA_TEXT = 'name: no-data\ndataset:\n  name: mnist\n  path: ./no-such-folder\nrun:\n  backend: cpu\n';

interface RowText {
  name: string;
  description: string;
}

/** The rows of the Runs view: label and description, as the side bar shows them. */
async function runsRows(page: Page): Promise<RowText[]> {
  const pane = page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: /Runs/ }) });
  return pane.locator('.monaco-list-row').evaluateAll((rows) =>
    rows.map((r) => ({
      name: r.querySelector('.label-name')?.textContent?.trim() ?? '',
      description: r.querySelector('.label-description')?.textContent?.trim() ?? '',
    })),
  ).catch(() => []);
}

function runsRow(page: Page, name: string) {
  const pane = page.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: /Runs/ }) });
  return pane.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: name }) }).first();
}

/**
 * Clicks a row of the Runs view. The pointer leaves first and any hover is let go: after a click
 * the pointer rests on that row, its tooltip opens below it, and it can cover the next row to click
 * (CI: "<p> from <div class=context-view> subtree intercepts pointer events").
 */
async function clickRunsRow(page: Page, name: string): Promise<void> {
  await page.mouse.move(1, 1);
  await page.locator('.context-view').filter({ has: page.locator('p') }).first().waitFor({ state: 'hidden', timeout: budget(5000) }).catch(() => undefined);
  await runsRow(page, name).click();
}

async function badge(page: Page): Promise<string> {
  return ((await frameOfWebview(page).locator('#gf-run-view .gf-badge').first().textContent({ timeout: budget(1000) }).catch(() => null)) ?? '').trim();
}

/** What a wait for the dashboard saw: its webview frames, the editor tabs, the badge, the extension's last log lines. */
async function dashboardSeen(w: Workspace): Promise<Record<string, unknown>> {
  const { page } = w;
  return {
    webviewFrames: await page.locator('iframe.webview').count().catch(() => -1),
    readyFrames: await page.locator('iframe.webview.ready').count().catch(() => -1),
    tabs: await page.locator('.editor-group-container .tab').allTextContents().catch(() => []),
    badge: await badge(page),
    gradflowLog: outputChannelTail(w.server, /Gradflow/, 8),
  };
}

/** Copies a recorded run folder into `<workspace>/.gradflow/runs/<name>/`. */
function copyRun(workspace: string, dir: string, name: string): void {
  fs.cpSync(dir, path.join(workspace, '.gradflow', 'runs', name), { recursive: true });
}

interface PageWidth {
  scrollWidth: number;
  clientWidth: number;
  pickerRight: number;
  lastHeaderRight: number;
}

async function pageWidth(page: Page): Promise<PageWidth> {
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

describe('the Runs view: runs from the CLI, diverged and failed runs (code-server)', { skip: e2eSkip(), timeout: testTimeout(300_000) }, () => {
  let w: Workspace;

  before(async () => {
    const exploding = fs.readFileSync(path.join(repoRoot(), 'examples', 'exploding.gradflow.yaml'), 'utf8');
    w = await openWorkspace('runs', { [EXPLODING]: exploding, [NODATA]: NODATA_TEXT });
  });

  after(async () => {
    await w?.close();
  });

  test('a diverged run started from the CLI appears in the Runs view by itself, as diverged', { timeout: testTimeout(120_000) }, () =>
    screenshotOnFailure(w.page, 'gradflow-runs-cli', async () => {
      const { page } = w;
      await runCommand(page, 'Gradflow: Focus on Runs View');
      const cli = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'run', EXPLODING], { cwd: w.dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
      cli.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => cli.on('close', resolve));
      assert.ok(code !== null, `the CLI ended:\n${out}`);
      // One runs location: the project's (here the workspace has no marker yet, so the file's folder).
      const runsDirs = ['.gradflow/runs', 'experiments/.gradflow/runs'].map((d) => path.join(w.dir, d)).filter((d) => fs.existsSync(d));
      assert.equal(runsDirs.length, 1, `one runs folder: ${runsDirs.join(', ')}`);
      // It appears (followed live from its folder while it runs: a progress %), and once its end is
      // read, as diverged (the CLI has exited already).
      const row = await waitFor(async () => (await runsRows(page)).find((r) => r.name === 'exploding-sgd' && !/running|…|\d%/.test(r.description)), 30_000, 'the ended CLI run in the Runs view (no Refresh)', {
        seen: async () => ({ rows: await runsRows(page), gradflowLog: outputChannelTail(w.server, /Gradflow/, 8) }),
      });
      console.log(`[e2e] CLI run in the Runs view: ${JSON.stringify(row)} (runs in ${path.relative(w.dir, at(runsDirs, 0))}; CLI exit ${code})`);
      assert.match(row.description, /diverged \((sparse|dense)/, 'the row says diverged');
      assert.match(row.description, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, 'start time');
      assert.match(row.description, /#[0-9a-f]{4}\b/, 'run id (its suffix)');
      // Opening it: the dashboard on that run, not "done".
      await clickRunsRow(page, 'exploding-sgd');
      await waitFor(async () => ((await badge(page)) !== '' ? true : undefined), 30_000, 'the dashboard on the CLI run', { seen: () => dashboardSeen(w) });
      const b = await badge(page);
      const view = (await frameOfWebview(page).locator('#gf-run-view').textContent({ timeout: budget(5000) })) ?? '';
      console.log(`[e2e] dashboard of the diverged CLI run: badge "${b}"; ${view.replace(/\s+/g, ' ').slice(0, 200)}`);
      assert.notEqual(b, 'finished');
      assert.match(view, /diverged/, 'the dashboard says it diverged');
      await screenshot(page, 'gradflow-runs-1-cli-diverged');
    }));

  test('a run that fails before its run folder exists: its row says failed and opens the dashboard on its error', { timeout: testTimeout(120_000) }, () =>
    screenshotOnFailure(w.page, 'gradflow-runs-failed', async () => {
      const { page } = w;
      await openFile(page, NODATA);
      await runCommand(page, 'Gradflow: Run Experiment');
      const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: /run "no-data" failed/ });
      await waitForLocator(toast, 'the failure message of no-data', 60_000, 'visible');
      console.log(`[e2e] failure message: ${((await toast.textContent()) ?? '').slice(0, 300)}`);
      const row = await waitFor(async () => (await runsRows(page)).find((r) => r.name === 'no-data' && /failed/.test(r.description)), 15_000, 'the failed row');
      console.log(`[e2e] failed row: ${JSON.stringify(row)}`);
      assert.doesNotMatch(row.description, /…/, 'no endless "…"');
      assert.match(row.description, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, 'start time');
      // Move the dashboard to the other run, then click the failed row: it comes back to the failure.
      await clickRunsRow(page, 'exploding-sgd');
      await waitFor(async () => ((await badge(page)) !== 'failed' ? true : undefined), 15_000, 'the dashboard on the other run', { seen: () => dashboardSeen(w) });
      await clickRunsRow(page, 'no-data');
      await waitFor(async () => ((await badge(page)) === 'failed' ? true : undefined), 15_000, 'the dashboard on the failed run', { seen: () => dashboardSeen(w) });
      const view = (await frameOfWebview(page).locator('#gf-run-view').textContent({ timeout: budget(5000) })) ?? '';
      console.log(`[e2e] dashboard of the failed run: ${view.replace(/\s+/g, ' ').slice(0, 400)}`);
      assert.match(view, /no-such-folder|dataset/i, 'the dashboard shows the error');
      // The failure panel: the error and the trainer's last lines (issue 11: its error and log tail).
      const failure = frameOfWebview(page).locator('#gf-failure');
      await waitForLocator(failure, 'the failure panel', 10_000, 'visible');
      const tail = ((await failure.locator('.gf-log-tail').textContent({ timeout: budget(5000) })) ?? '').trim();
      console.log(`[e2e] failure panel log tail: ${tail.replace(/\n/g, ' ⏎ ').slice(0, 300)}`);
      assert.match((await failure.textContent()) ?? '', /dataset/i, 'the failure panel names the error');
      assert.ok(tail !== '' && tail !== 'No log lines were recorded.', `a log tail: ${tail}`);
      await screenshot(page, 'gradflow-runs-2-failed');
    }));
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
      // The two recorded runs join the workspace now: the tests above count its runs folders.
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-e2e-narrow-runs-'));
      try {
        const deepRun = writeDeepRun(tmp);
        copyRun(w.dir, path.join(repoRoot(), 'test', 'fixtures', 'webview', 'dyn-run'), '20261201-053627-dyn-fixture-32aa');
        copyRun(w.dir, deepRun, path.basename(deepRun));
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      // From a window with only the file open (the tests above left the dashboard in its group).
      await runCommand(page, 'View: Close All Editors');
      await runCommand(page, 'Notifications: Clear All Notifications');
      await openFile(page, NODATA);
      await runCommand(page, 'View: Close Primary Side Bar');

      await open('dyn-fixture', 6);
      const mlp = await pageWidth(page);
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
      const deep = await pageWidth(page);
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
      const one = await pageWidth(page);
      assert.ok(one.scrollWidth <= one.clientWidth, `group2 scrolls sideways: ${JSON.stringify(one)}`);
      await frameOfWebview(page).locator('#gf-layers').scrollIntoViewIfNeeded({ timeout: budget(5000) });
      await screenshot(page, 'gradflow-narrow-5-deep-group2');
      await frameOfWebview(page).locator('#gf-density').scrollIntoViewIfNeeded({ timeout: budget(5000) });
      await screenshot(page, 'gradflow-narrow-6-deep-group2-table');
    }));
});
