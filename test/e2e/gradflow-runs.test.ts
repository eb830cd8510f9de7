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
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { budget, testTimeout, closeAll, e2eSkip, frameOfWebview, openFile, openWorkspace, outputChannelTail, repoRoot, runCommand, screenshot, screenshotOnFailure, waitFor, waitForLocator, type Workspace } from './harness';
import { at } from '../../src/shared/checked';

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
});
