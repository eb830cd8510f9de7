/**
 * A local sweep is not a child of the window either (issue 23), through the real UI in code-server:
 * Run Sweep starts its scheduler detached (`gradflow sweep-host`), the window is reloaded while the
 * sweep is under way, and
 *
 * - the sweep goes on: every configuration finishes, its scheduler writes its `done`;
 * - the reloaded window follows it again (its log says so), the sweep view comes back and shows every
 *   row finished, the badge `finished`.
 *
 * And a local sweep cancelled mid-task (the progress notification's Cancel) shows each
 * configuration's reason: the running one `stopped` because the sweep was cancelled, the ones that
 * never started `pending` with why; the badge `stopped`, the closing message counting them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { budget, closeAll, e2eSkip, frameOfWebview, openFile, openWorkspace, outputChannelTail, runCommand, screenshot, screenshotOnFailure, testTimeout, waitFor, waitForLocator, type Workspace } from './harness';
import { listSessions, sessionState } from '../../src/runs/sweep-host';
import { listRuns } from '../../src/runs/store';
import { at } from '../../src/shared/checked';

after(closeAll);

const FILE = 'sweep-reload.gradflow.yaml';
const NAME = 'sweep-reload';
/**
 * Three seeds of a small SC-SDC pair, one at a time (≈ 7 s a run idle: 40 epochs of 29 steps), so
 * the window reloads while one configuration runs and another still waits.
 */
const TEXT = `name: ${NAME}
dataset:
  name: synthetic
  synthetic: { features: 32, classes: 4, train_size: 2048, test_size: 512 }
model:
  hidden_layers: 2
  width: 128
sparsity:
  method: random
  density: 0.25
training:
  optimizer: adam
  learning_rate: 0.003
  epochs: 40
  batch_size: 64
run:
  backend: cpu
sweep:
  seeds: [0, 1, 2]
  workers: 1
`;

interface RowView {
  id: string;
  status: string;
  note: string;
}

async function readRows(dash: FrameLocator): Promise<RowView[]> {
  return dash
    .locator('tr.gf-sweep-row')
    .evaluateAll((trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute('data-config-id') ?? '',
        status: tr.getAttribute('data-status') ?? '',
        note: tr.querySelector('td.gf-status-cell')?.getAttribute('title') ?? '',
      })),
    )
    .catch(() => []);
}

async function sweepBadge(dash: FrameLocator): Promise<string> {
  return ((await dash.locator('#gf-sweep-status').textContent({ timeout: budget(1000) }).catch(() => null)) ?? '').trim();
}

/** Ends what the test left running: the scheduler is in its own process group, outside code-server's. */
function killHosts(sweepDir: string): void {
  for (const files of listSessions(sweepDir)) {
    if (sessionState(files) !== 'live') continue;
    try {
      const beat = JSON.parse(fs.readFileSync(files.beat, 'utf8')) as { pid: number };
      process.kill(-beat.pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
}

const CANCEL_FILE = 'sweep-cancel.gradflow.yaml';
const CANCEL_NAME = 'sweep-cancel';
/** The same pair, long runs: the first configuration is still training when Cancel comes. */
const CANCEL_TEXT = TEXT.replace(`name: ${NAME}`, `name: ${CANCEL_NAME}`).replace('epochs: 40', 'epochs: 2000');

describe('a local sweep outlives a window reload (code-server)', { skip: e2eSkip(), timeout: testTimeout(600_000) }, () => {
  let w: Workspace | undefined;
  let sweepDir = '';

  before(async () => {
    w = await openWorkspace('sweep-reload', { [FILE]: TEXT, [CANCEL_FILE]: CANCEL_TEXT });
    sweepDir = path.join(w.dir, '.gradflow', 'runs', `sweep-${NAME}`);
  });

  after(async () => {
    if (w !== undefined) for (const name of [NAME, CANCEL_NAME]) killHosts(path.join(w.dir, '.gradflow', 'runs', `sweep-${name}`));
    await w?.close();
  });

  test('reload mid-sweep: the sweep finishes, the reloaded window follows it, the sweep view shows every row finished', { timeout: testTimeout(560_000) }, () =>
    screenshotOnFailure(w!.page, 'gradflow-sweep-reload', async () => {
      const { page } = w!;
      await openFile(page, FILE);
      await runCommand(page, 'Gradflow: Run Sweep');
      const dash = frameOfWebview(page);
      const log = (n: number): string => outputChannelTail(w!.server, /Gradflow/, n);

      // Under way before the reload: a row running, one still pending, the scheduler detached.
      const before = await waitFor(async () => {
        const rows = await readRows(dash);
        return rows.length === 3 && rows.some((r) => r.status === 'running') && rows.some((r) => r.status === 'pending') ? rows : undefined;
      }, 120_000, 'the sweep view with a running and a pending row', { seen: async () => ({ rows: await readRows(dash), log: log(8) }) });
      console.log(`[e2e] before the reload: ${JSON.stringify(before.map((r) => r.status))}`);
      assert.match(log(200), /scheduler started detached \(gradflow sweep-host/);
      const sessions = listSessions(sweepDir);
      assert.equal(sessions.length, 1, 'one session of the sweep');
      const session = at(sessions, 0);
      assert.equal(sessionState(session), 'live');
      await screenshot(page, 'gradflow-sweep-reload-1-before');

      await runCommand(page, 'Developer: Reload Window');
      await page.waitForLoadState('domcontentloaded');
      await waitForLocator(page.locator('.monaco-workbench .part.statusbar'), 'the reloaded workbench', 60_000, 'visible');
      const atReload = sessionState(session);
      console.log(`[e2e] the sweep's scheduler after the reload: ${atReload}`);
      assert.ok(atReload === 'live' || atReload === 'ended', `the reload did not end the scheduler (${atReload})`);

      // The reloaded window follows the sweep again.
      await waitFor(() => /following its running scheduler again/.test(log(400)), 90_000, 'the window reattaching to the sweep', { seen: () => log(10) });
      await runCommand(page, 'Gradflow: Show Dashboard');

      // It finishes on disk: every configuration, and the scheduler's done.
      await waitFor(() => (sessionState(session) === 'ended' ? true : undefined), 420_000, 'the sweep scheduler to write its done', {
        seen: () => ({ runs: listRuns(sweepDir).map((r) => r.status), log: log(6) }),
      });
      const runs = listRuns(sweepDir);
      assert.deepEqual(runs.map((r) => r.status).sort(), ['finished', 'finished', 'finished'], 'every configuration finished, once');

      // The sweep view shows it: every row finished, the badge finished.
      const end = await waitFor(async () => {
        const rows = await readRows(dash);
        return rows.length === 3 && rows.every((r) => r.status === 'finished') && (await sweepBadge(dash)) === 'finished' ? rows : undefined;
      }, 90_000, 'the sweep view: three finished rows, badge finished', { seen: async () => ({ rows: await readRows(dash), badge: await sweepBadge(dash), log: log(8) }) });
      console.log(`[e2e] the sweep view at the end: ${JSON.stringify(end.map((r) => r.status))}`);
      const message = page.locator('.notifications-toasts .notification-toast').filter({ hasText: `Gradflow sweep ${NAME}:` });
      await waitForLocator(message, 'the closing message of the sweep', 30_000, 'visible');
      assert.match((await message.textContent()) ?? '', /3 finished, 0 skipped \(done before\), 0 stopped, 0 failed/);
      await screenshot(page, 'gradflow-sweep-reload-2-finished');
    }));

  test('Cancel mid-task: the running configuration stopped by the cancelled sweep, the others pending saying why', { timeout: testTimeout(300_000) }, () =>
    screenshotOnFailure(w!.page, 'gradflow-sweep-cancel', async () => {
      const { page } = w!;
      const log = (n: number): string => outputChannelTail(w!.server, /Gradflow/, n);
      await openFile(page, CANCEL_FILE);
      await runCommand(page, 'Gradflow: Run Sweep');
      const dash = frameOfWebview(page);
      // The view shows one sweep at a time: Run Sweep brings this one to it.
      const rowsOf = (): Promise<RowView[]> => readRows(dash);
      await waitFor(async () => {
        const rows = await rowsOf();
        return rows.length === 3 && rows.some((r) => r.status === 'running') ? rows : undefined;
      }, 120_000, 'the cancel sweep running its first configuration', { seen: async () => ({ rows: await readRows(dash), log: log(8) }) });
      const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: `Gradflow sweep: ${CANCEL_NAME}` });
      await toast.locator('.monaco-button').filter({ hasText: /^Cancel$/ }).click({ timeout: budget(15_000) });
      await waitFor(async () => ((await sweepBadge(dash)) === 'stopped' ? true : undefined), 120_000, 'the sweep badge "stopped" after Cancel', {
        seen: async () => ({ badge: await sweepBadge(dash), rows: await rowsOf(), log: log(8) }),
      });
      const rows = await waitFor(async () => {
        const r = await rowsOf();
        return r.filter((x) => x.status === 'pending' && /not started/.test(x.note)).length === 2 ? r : undefined;
      }, 60_000, 'the pending rows saying why they did not start', { seen: rowsOf });
      console.log(`[e2e] the sweep view after Cancel: ${JSON.stringify(rows)}`);
      const stopped = rows.filter((r) => r.status === 'stopped');
      assert.equal(stopped.length, 1, 'the configuration that was running is stopped');
      assert.match(at(stopped, 0).note, /the sweep was cancelled/, `its reason: ${at(stopped, 0).note}`);
      for (const r of rows.filter((x) => x.status === 'pending')) assert.match(r.note, /^not started: the sweep was cancelled \(Cancel in VS Code\); Run Sweep again runs it$/);
      const message = page.locator('.notifications-toasts .notification-toast').filter({ hasText: `Gradflow sweep ${CANCEL_NAME} cancelled:` });
      await waitForLocator(message, 'the closing message of the cancelled sweep', 30_000, 'visible');
      assert.match((await message.textContent()) ?? '', /0 finished, 0 skipped \(done before\), 1 stopped, 0 failed/);
      await screenshot(page, 'gradflow-sweep-cancel');
    }));
});
