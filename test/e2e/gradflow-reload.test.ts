/**
 * Runs are not children of the window (issue 23), through the real UI in code-server: a run is
 * started from the palette, the window is reloaded mid-run, and
 *
 * - the run goes on and finishes (its trainer runs under a detached supervisor), its summary written;
 * - the reloaded window follows it again: the dashboard shows it live, its step advancing, to `finished`;
 * - its alerts come back as diagnostics on the experiment file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { budget, closeAll, e2eSkip, frameOfWebview, openFile, openWorkspace, outputChannelTail, problemsCount, runCommand, screenshot, screenshotOnFailure, testTimeout, waitFor, waitForLocator, type Workspace } from './harness';
import { readRun } from '../../src/runs/store';
import { at } from '../../src/shared/checked';

after(closeAll);

const FILE = 'reload.gradflow.yaml';
/**
 * A small run (≈ 6 ms a step idle, 29 steps an epoch) long enough to reload the window in its
 * middle, with alerts from its first steps: `max_norm` far below any real gradient norm makes the
 * explosion rule fire once per layer, while training goes on normally.
 */
const EPOCHS = 120;
const TEXT = `name: reload-me
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
  epochs: ${EPOCHS}
  batch_size: 64
  seed: 1
monitoring:
  explosion:
    max_norm: 0.0001
run:
  backend: cpu
`;

async function readStep(dash: FrameLocator): Promise<{ step: number; total: number } | undefined> {
  const info = (await dash.locator('.gf-info').textContent({ timeout: budget(2000) }).catch(() => null)) ?? '';
  const m = /step ([\d,]+) \/ ([\d,]+)/.exec(info);
  return m ? { step: Number(at(m, 1).replace(/,/g, '')), total: Number(at(m, 2).replace(/,/g, '')) } : undefined;
}

async function badge(dash: FrameLocator): Promise<string> {
  return ((await dash.locator('#gf-run-view .gf-badge').first().textContent({ timeout: budget(2000) }).catch(() => null)) ?? '').trim();
}

describe('a run outlives a window reload (code-server)', { skip: e2eSkip(), timeout: testTimeout(420_000) }, () => {
  let w: Workspace | undefined;
  let runDir: string | undefined;

  before(async () => {
    w = await openWorkspace('reload', { [FILE]: TEXT });
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
    await w?.close();
  });

  test('reload mid-run: the run finishes with its summary, the dashboard follows it again, its alerts come back', { timeout: testTimeout(400_000) }, () =>
    screenshotOnFailure(w!.page, 'gradflow-reload', async () => {
      const { page, dir } = w!;
      await openFile(page, FILE);
      await runCommand(page, 'Gradflow: Run Experiment');
      const dash = frameOfWebview(page);
      const runsDir = path.join(dir, '.gradflow', 'runs');
      const folder = await waitFor(
        () => (fs.existsSync(runsDir) ? fs.readdirSync(runsDir).find((d) => fs.existsSync(path.join(runsDir, d, 'run.json'))) : undefined),
        60_000,
        'the run folder',
      );
      runDir = path.join(runsDir, folder);
      // Live before the reload: steps in the dashboard, the alerts on the file.
      const first = await waitFor(async () => {
        const s = await readStep(dash);
        return s !== undefined && s.step > 0 ? s : undefined;
      }, 60_000, 'steps in the dashboard before the reload', { seen: () => outputChannelTail(w!.server, /Gradflow/, 6) });
      const alertsBefore = await waitFor(async () => {
        const c = await problemsCount(page);
        return c.warnings + c.errors > 0 ? c : undefined;
      }, 60_000, 'the alerts as diagnostics before the reload');
      console.log(`[e2e] before the reload: step ${first.step}/${first.total}; problems ${alertsBefore.label}`);
      await screenshot(page, 'gradflow-reload-1-before');
      assert.equal(readRun(runDir)?.status, 'running', `still running when the window reloads (raise EPOCHS if this machine trains it faster): ${first.step}/${first.total}`);

      await runCommand(page, 'Developer: Reload Window');
      await page.waitForLoadState('domcontentloaded');
      await waitForLocator(page.locator('.monaco-workbench .part.statusbar'), 'the reloaded workbench', 60_000, 'visible');
      const atReload = readRun(runDir)?.status;
      console.log(`[e2e] the run after the reload: ${atReload}`);
      assert.notEqual(atReload, 'killed', 'the reload did not kill the run');

      // The reloaded window follows it: the dashboard shows it live again, its step moving on.
      await runCommand(page, 'Gradflow: Show Dashboard');
      const again = await waitFor(async () => {
        const s = await readStep(dash);
        return s !== undefined && s.step > first.step ? s : undefined;
      }, 90_000, 'the dashboard following the run after the reload', {
        seen: async () => ({ badge: await badge(dash), info: await dash.locator('.gf-info').textContent({ timeout: budget(1000) }).catch(() => null), log: outputChannelTail(w!.server, /Gradflow/, 8) }),
      });
      console.log(`[e2e] after the reload the dashboard shows step ${again.step}/${again.total} (${await badge(dash)})`);
      assert.match(outputChannelTail(w!.server, /Gradflow/, 200), /following run .* from its folder/, 'the window reattached to the run');
      await screenshot(page, 'gradflow-reload-2-followed');

      // It finishes: summary written, and the window saw its end from the folder.
      const end = await waitFor(() => {
        const r = readRun(runDir!);
        return r !== undefined && r.status !== 'running' ? r : undefined;
      }, 300_000, 'the run to end after the reload');
      assert.equal(end.status, 'finished', `the run finished (${end.reason ?? ''})`);
      assert.ok(fs.existsSync(path.join(runDir, 'summary.json')), 'summary.json written');
      await waitFor(() => /\[reload-me\] ended finished \(followed from its folder\)/.test(outputChannelTail(w!.server, /Gradflow/, 400)), 60_000, 'the window telling the end of the followed run', {
        seen: () => outputChannelTail(w!.server, /Gradflow/, 10),
      });
      // The dashboard's state followed it to its end: a page opened now (a fresh init from the
      // extension's state) shows it finished at its last step.
      await runCommand(page, 'View: Close All Editors');
      await runCommand(page, 'Gradflow: Show Dashboard');
      await waitFor(async () => ((await badge(dash)) === 'finished' ? true : undefined), 60_000, 'the dashboard badge at the end', {
        seen: async () => ({ badge: await badge(dash), step: await readStep(dash), log: outputChannelTail(w!.server, /Gradflow/, 10) }),
      });
      const last = await readStep(dash);
      assert.equal(last?.step, last?.total, 'the dashboard followed it to its last step');
      await openFile(page, FILE);

      // Its alerts are diagnostics again.
      const alertsAfter = await waitFor(async () => {
        const c = await problemsCount(page);
        return c.warnings + c.errors >= alertsBefore.warnings + alertsBefore.errors ? c : undefined;
      }, 60_000, 'the alerts as diagnostics after the reload', { seen: () => problemsCount(page) });
      console.log(`[e2e] problems before the reload ${alertsBefore.label}; after ${alertsAfter.label}`);
      await screenshot(page, 'gradflow-reload-3-finished');
    }));
});
