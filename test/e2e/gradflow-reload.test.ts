/**
 * Runs and local sweeps are not children of the window (issue 23), through the real UI in
 * code-server. One window starts a run and a local sweep from the palette, then is reloaded once
 * while both are under way, and
 *
 * - the run goes on and finishes (its trainer runs under a detached supervisor), its summary written;
 *   the reloaded window follows it again: the dashboard shows it live, its step advancing, to
 *   `finished`; its alerts come back as diagnostics on the experiment file;
 * - the sweep goes on (its scheduler, `gradflow sweep-host`, is detached too): every configuration
 *   finishes, its scheduler writes its `done`; the reloaded window follows it again (its log says
 *   so), the sweep view shows every row finished, the badge `finished`, the closing message counts.
 *
 * And a local sweep cancelled mid-task (the progress notification's Cancel) shows each
 * configuration's reason: the running one `stopped` because the sweep was cancelled, the ones that
 * never started `pending` with why; the badge `stopped`, the closing message counting them.
 *
 * One window and one reload for both (they were two files, each starting its own code-server and
 * waiting for its own reload): the run and the sweep train side by side, so the file takes about as
 * long as the longer of the two.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { budget, closeAll, e2eSkip, frameOfWebview, openFile, openWorkspace, outputChannelTail, problemsCount, runCommand, screenshot, screenshotOnFailure, testTimeout, waitFor, waitForLocator, type Workspace } from './harness';
import { listRuns, readRun } from '../../src/runs/store';
import { listSessions, sessionState } from '../../src/runs/sweep-host';
import { at } from '../../src/shared/checked';

after(closeAll);

const FILE = 'long-run.gradflow.yaml';
const RUN_NAME = 'reload-me';
/**
 * A small run (≈ 6 ms a step idle, 29 steps an epoch) long enough to reload the window in its
 * middle, with alerts from its first steps: `max_norm` far below any real gradient norm makes the
 * explosion rule fire once per layer, while training goes on normally. It starts after the sweep
 * and has to outlive its own first steps, the reload and the reloaded window's activation (which
 * reattaches to it). Beside the sweep it is sized to end about when the sweep does (three runs of
 * 26 epochs, one after the other), so its length costs no wall time. Measured in a clean-clone CI
 * run (quiet, 2 cores) with 80 epochs beside 3 × 40: the reload was done 26 s after the sweep
 * started, the run ended at 67 s and the sweep at 82 s; at load 6, with 60 epochs beside 3 × 40,
 * the run ended 35 s after the reload. With 3 × 26 beside it: at 56 epochs the run ended 30 s
 * after the reload on a quiet machine, but with two busy processes beside the test the reloaded
 * dashboard reached it only as it finished (the Run view took 17 s to show it after the reload);
 * 64 epochs keep it running until the dashboard follows it, ending about when the sweep does.
 */
const EPOCHS = 64;
/** The small SC-SDC pair both files train: `training` and `rest` add each file's own keys. */
function pairYaml(name: string, epochs: number, training: string, rest: string): string {
  return `name: ${name}
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
  epochs: ${epochs}
  batch_size: 64
${training}run:
  backend: cpu
${rest}`;
}

const TEXT = pairYaml(RUN_NAME, EPOCHS, `  seed: 1\nmonitoring:\n  explosion:\n    max_norm: 0.0001\n`, '');

const SWEEP_FILE = 'sweep-reload.gradflow.yaml';
const SWEEP_NAME = 'sweep-reload';
/**
 * Three seeds of a small SC-SDC pair, one at a time (≈ 5 s a run idle: 26 epochs of 29 steps), so
 * the window reloads while one configuration runs and another still waits.
 */
const SWEEP_TEXT = pairYaml(SWEEP_NAME, 26, '', `sweep:
  seeds: [0, 1, 2]
  workers: 1
`);

const CANCEL_FILE = 'sweep-cancel.gradflow.yaml';
const CANCEL_NAME = 'sweep-cancel';
/** The same pair, long runs: the first configuration is still training when Cancel comes. */
const CANCEL_TEXT = SWEEP_TEXT.replace(`name: ${SWEEP_NAME}`, `name: ${CANCEL_NAME}`).replace('epochs: 26', 'epochs: 2000');

async function readStep(dash: FrameLocator): Promise<{ step: number; total: number } | undefined> {
  const info = (await dash.locator('#gf-run-view .gf-info').textContent({ timeout: budget(2000) }).catch(() => null)) ?? '';
  const m = /step ([\d,]+) \/ ([\d,]+)/.exec(info);
  return m ? { step: Number(at(m, 1).replace(/,/g, '')), total: Number(at(m, 2).replace(/,/g, '')) } : undefined;
}

async function badge(dash: FrameLocator): Promise<string> {
  return ((await dash.locator('#gf-run-view .gf-badge').first().textContent({ timeout: budget(2000) }).catch(() => null)) ?? '').trim();
}

/** The run the dashboard's Run view shows (its picker's chosen option). */
async function shownRun(dash: FrameLocator): Promise<string> {
  return ((await dash.locator('#gf-run option:checked').textContent({ timeout: budget(1000) }).catch(() => null)) ?? '').trim();
}

/**
 * The dashboard's Run view on the run titled `title`: its tab (shown once a sweep is known) and the
 * run picker, as a user switches from a sweep's table back to a run.
 */
async function showRunView(dash: FrameLocator, title: string): Promise<void> {
  await waitFor(
    async () => {
      const runTab = dash.locator('#gf-tab-run');
      if ((await runTab.isVisible().catch(() => false)) && (await runTab.getAttribute('aria-selected').catch(() => null)) !== 'true') {
        await runTab.click({ timeout: budget(2000) }).catch(() => undefined);
        return undefined;
      }
      if ((await shownRun(dash)).startsWith(`${title} — `)) return true;
      const value = await dash
        .locator('#gf-run option')
        .evaluateAll((os, t) => os.find((o) => (o.textContent ?? '').startsWith(`${String(t)} — `))?.getAttribute('value') ?? null, title)
        .catch(() => null);
      if (value !== null) await dash.locator('#gf-run').selectOption(value, { timeout: budget(2000) }).catch(() => undefined);
      return undefined;
    },
    30_000,
    `the dashboard's Run view on ${title}`,
    { seen: async () => ({ shown: await shownRun(dash), options: await dash.locator('#gf-run option').allTextContents().catch(() => []) }) },
  );
}

/** The dashboard's Sweep view (its tab). */
async function showSweepView(dash: FrameLocator): Promise<void> {
  await waitFor(
    async () => {
      const tab = dash.locator('#gf-tab-sweep');
      if ((await tab.getAttribute('aria-selected', { timeout: budget(1000) }).catch(() => null)) === 'true') return true;
      await tab.click({ timeout: budget(2000) }).catch(() => undefined);
      return undefined;
    },
    30_000,
    "the dashboard's Sweep view",
  );
}

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

/**
 * The text of the notification starting with `prefix`: its toast, or, once the toast has timed out
 * (the run and the sweep end while the test looks at the other), its entry in the notification
 * center.
 */
async function notificationText(page: Page, prefix: string, what: string): Promise<string> {
  const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: prefix });
  const listed = page.locator('.notifications-center .notification-list-item').filter({ hasText: prefix });
  let centerOpened = false;
  return waitFor(
    async () => {
      for (const l of [toast, listed]) {
        if (await l.first().isVisible().catch(() => false)) return (await l.first().textContent({ timeout: budget(1000) }).catch(() => null)) ?? undefined;
      }
      if (!centerOpened) {
        centerOpened = true;
        await runCommand(page, 'Notifications: Show Notifications');
      }
      return undefined;
    },
    30_000,
    what,
    { seen: () => page.locator('.notification-toast, .notification-list-item').allTextContents().catch(() => []) },
  );
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

describe('a run and a local sweep outlive a window reload (code-server)', { skip: e2eSkip(), timeout: testTimeout(720_000) }, () => {
  let w: Workspace | undefined;
  let runDir: string | undefined;
  let sweepDir = '';

  before(async () => {
    w = await openWorkspace('reload', { [FILE]: TEXT, [SWEEP_FILE]: SWEEP_TEXT, [CANCEL_FILE]: CANCEL_TEXT });
    sweepDir = path.join(w.dir, '.gradflow', 'runs', `sweep-${SWEEP_NAME}`);
  });

  after(async () => {
    // The run is not the window's: end it if the test left it going (its supervisor then exits too).
    if (runDir !== undefined && readRun(runDir)?.status === 'running') {
      const header = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { pid: number };
      try {
        process.kill(header.pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    if (w !== undefined) for (const name of [SWEEP_NAME, CANCEL_NAME]) killHosts(path.join(w.dir, '.gradflow', 'runs', `sweep-${name}`));
    await w?.close();
  });

  test('reload mid-run and mid-sweep: both finish, the reloaded window follows both, the run\'s alerts come back', { timeout: testTimeout(560_000) }, () =>
    screenshotOnFailure(w!.page, 'gradflow-reload', async () => {
      const { page, dir } = w!;
      const log = (n: number): string => outputChannelTail(w!.server, /Gradflow/, n);
      // The channel's whole text, both windows' logs (the tail mixes the two log files and the
      // training lines of the run and the sweep would push a reattach message out of it).
      const logAll = (): string => outputChannelTail(w!.server, /Gradflow/, Number.MAX_SAFE_INTEGER);
      const t0 = Date.now();

      // The sweep first: a row running, two still pending, the scheduler detached. It is the longer
      // of the two (three runs one after the other), so it outlives the start of the run and the
      // reload by a wide margin.
      await openFile(page, SWEEP_FILE);
      await runCommand(page, 'Gradflow: Run Sweep');
      const dash = frameOfWebview(page);
      const rowsBefore = await waitFor(async () => {
        const rows = await readRows(dash);
        return rows.length === 3 && rows.some((r) => r.status === 'running') && rows.some((r) => r.status === 'pending') ? rows : undefined;
      }, 120_000, 'the sweep view with a running and a pending row', { seen: async () => ({ rows: await readRows(dash), log: log(8) }) });
      console.log(`[e2e] the sweep before the reload: ${JSON.stringify(rowsBefore.map((r) => r.status))} (${Date.now() - t0} ms)`);
      assert.match(logAll(), /scheduler started detached \(gradflow sweep-host/);
      const sessions = listSessions(sweepDir);
      assert.equal(sessions.length, 1, 'one session of the sweep');
      const session = at(sessions, 0);
      assert.equal(sessionState(session), 'live');
      await screenshot(page, 'gradflow-sweep-reload-1-before');

      // The run beside it: started from the palette, live in the dashboard, its alerts on the file
      // (counted on top of whatever the sweep's runs reported).
      const problemsBase = await problemsCount(page);
      await openFile(page, FILE);
      await runCommand(page, 'Gradflow: Run Experiment');
      const runsDir = path.join(dir, '.gradflow', 'runs');
      const folder = await waitFor(
        () => (fs.existsSync(runsDir) ? fs.readdirSync(runsDir).find((d) => !d.startsWith('sweep-') && fs.existsSync(path.join(runsDir, d, 'run.json'))) : undefined),
        60_000,
        'the run folder',
      );
      runDir = path.join(runsDir, folder);
      await showRunView(dash, RUN_NAME);
      const first = await waitFor(async () => {
        const s = await readStep(dash);
        return s !== undefined && s.step > 0 ? s : undefined;
      }, 60_000, 'steps in the dashboard before the reload', { seen: () => log(6) });
      const alertsBefore = await waitFor(async () => {
        const c = await problemsCount(page);
        return c.warnings + c.errors > problemsBase.warnings + problemsBase.errors ? c : undefined;
      }, 60_000, 'the alerts as diagnostics before the reload', { seen: () => ({ base: problemsBase.label }) });
      console.log(`[e2e] the run before the reload: step ${first.step}/${first.total}; problems ${alertsBefore.label}, ${problemsBase.label} before it started (${Date.now() - t0} ms)`);
      await screenshot(page, 'gradflow-reload-1-before');
      const runNow = readRun(runDir);
      assert.equal(runNow?.status, 'running', `the run is still running when the window reloads (raise EPOCHS if this machine trains it faster): ${first.step}/${first.total}`);
      assert.equal(sessionState(session), 'live', 'the sweep is still under way when the window reloads');

      // One reload for both.
      await runCommand(page, 'Developer: Reload Window');
      await page.waitForLoadState('domcontentloaded');
      await waitForLocator(page.locator('.monaco-workbench .part.statusbar'), 'the reloaded workbench', 60_000, 'visible');
      const runAtReload = readRun(runDir)?.status;
      const sweepAtReload = sessionState(session);
      console.log(`[e2e] after the reload (${Date.now() - t0} ms): the run ${runAtReload}, the sweep's scheduler ${sweepAtReload}`);
      assert.notEqual(runAtReload, 'killed', 'the reload did not kill the run');
      assert.ok(sweepAtReload === 'live' || sweepAtReload === 'ended', `the reload did not end the scheduler (${sweepAtReload})`);

      // The reloaded window follows the sweep again …
      await waitFor(() => /following its running scheduler again/.test(logAll()), 90_000, 'the window reattaching to the sweep', { seen: () => log(10) });
      // … and the run: the dashboard shows it live again, its step moving on.
      await runCommand(page, 'Gradflow: Show Dashboard');
      await showRunView(dash, RUN_NAME);
      const again = await waitFor(async () => {
        const s = await readStep(dash);
        return s !== undefined && s.step > first.step ? s : undefined;
      }, 90_000, 'the dashboard following the run after the reload', {
        seen: async () => ({ badge: await badge(dash), shown: await shownRun(dash), info: await dash.locator('#gf-run-view .gf-info').textContent({ timeout: budget(1000) }).catch(() => null), log: log(8) }),
      });
      console.log(`[e2e] after the reload the dashboard shows step ${again.step}/${again.total} (${await badge(dash)})`);
      assert.match(logAll(), new RegExp(`\\[${RUN_NAME}\\] following run .* from its folder`), 'the window reattached to the run');
      await screenshot(page, 'gradflow-reload-2-followed');

      // The run finishes: summary written, and the window saw its end from the folder.
      const end = await waitFor(() => {
        const r = readRun(runDir!);
        return r !== undefined && r.status !== 'running' ? r : undefined;
      }, 300_000, 'the run to end after the reload');
      assert.equal(end.status, 'finished', `the run finished (${end.reason ?? ''})`);
      assert.ok(fs.existsSync(path.join(runDir, 'summary.json')), 'summary.json written');
      await waitFor(() => new RegExp(`\\[${RUN_NAME}\\] ended finished \\(followed from its folder\\)`).test(logAll()), 60_000, 'the window telling the end of the followed run', {
        seen: () => log(10),
      });
      console.log(`[e2e] the run ended ${end.status} (${Date.now() - t0} ms)`);

      // The sweep finishes on disk: every configuration, and the scheduler's done.
      await waitFor(() => (sessionState(session) === 'ended' ? true : undefined), 420_000, 'the sweep scheduler to write its done', {
        seen: () => ({ runs: listRuns(sweepDir).map((r) => r.status), log: log(6) }),
      });
      const sweepRuns = listRuns(sweepDir);
      assert.deepEqual(sweepRuns.map((r) => r.status).sort(), ['finished', 'finished', 'finished'], 'every configuration finished, once');
      console.log(`[e2e] the sweep's scheduler wrote its done (${Date.now() - t0} ms)`);

      // The sweep view shows it: every row finished, the badge finished; the closing message counts.
      await showSweepView(dash);
      const rowsEnd = await waitFor(async () => {
        const rows = await readRows(dash);
        return rows.length === 3 && rows.every((r) => r.status === 'finished') && (await sweepBadge(dash)) === 'finished' ? rows : undefined;
      }, 90_000, 'the sweep view: three finished rows, badge finished', { seen: async () => ({ rows: await readRows(dash), badge: await sweepBadge(dash), log: log(8) }) });
      console.log(`[e2e] the sweep view at the end: ${JSON.stringify(rowsEnd.map((r) => r.status))}`);
      await screenshot(page, 'gradflow-sweep-reload-2-finished');
      const message = await notificationText(page, `Gradflow sweep ${SWEEP_NAME}:`, 'the closing message of the sweep');
      assert.match(message, /3 finished, 0 skipped \(done before\), 0 stopped, 0 failed/);

      // The dashboard's state followed the run to its end: a page opened now (a fresh init from the
      // extension's state) shows it finished at its last step.
      await runCommand(page, 'View: Close All Editors');
      await runCommand(page, 'Gradflow: Show Dashboard');
      await showRunView(dash, RUN_NAME);
      await waitFor(async () => ((await badge(dash)) === 'finished' ? true : undefined), 60_000, 'the dashboard badge at the end', {
        seen: async () => ({ badge: await badge(dash), step: await readStep(dash), log: log(10) }),
      });
      const last = await readStep(dash);
      assert.equal(last?.step, last?.total, 'the dashboard followed it to its last step');
      await openFile(page, FILE);

      // Its alerts are diagnostics again.
      const alertsAfter = await waitFor(async () => {
        const c = await problemsCount(page);
        return c.warnings + c.errors >= alertsBefore.warnings + alertsBefore.errors ? c : undefined;
      }, 60_000, 'the alerts as diagnostics after the reload', { seen: () => problemsCount(page) });
      console.log(`[e2e] problems before the reload ${alertsBefore.label}; after ${alertsAfter.label} (${Date.now() - t0} ms)`);
      await screenshot(page, 'gradflow-reload-3-finished');
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
