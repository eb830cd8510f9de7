/**
 * The extension's sweep view follows a sweep on a REAL Slurm cluster (issue 8), through the UI in
 * code-server: `gradflow.sweep.executor: slurm`, Run Sweep from the palette on a tiny synthetic
 * 3-configuration sweep submitted as one `%1` array. While the array runs, the sweep view's rows
 * carry each configuration's Slurm state (one RUNNING, the others PENDING). The window is then
 * reloaded while the array runs (issue 23): the reloaded window follows the array again, the sweep
 * view comes back with its rows and their Slurm states, and a finished row its results. The new
 * progress notification's Cancel runs `scancel`, Slurm ends every remaining task (CANCELLED) and the
 * view ends `stopped`, with the unfinished rows stopped by Slurm CANCELLED.
 *
 * Needs code-server + chromium (GRADFLOW_E2E policy) and the one-node cluster of
 * scripts/setup-slurm.sh, started here (GRADFLOW_CLUSTER policy, test/cluster/cluster.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { arrayStates, cancelSweep, isTerminalState, readJobs } from '../../src/runs/slurm';
import { clusterSkip, startCluster, tinySweepYaml } from '../cluster/cluster';
import { budget, testTimeout, closeAll, e2eSkip, frameOfWebview, openFile, openWorkspace, outputChannelTail, runCommand, screenshot, screenshotOnFailure, waitFor, waitForLocator, type Workspace } from './harness';
import { at } from '../../src/shared/checked';

after(closeAll);

const FILE = 'slurm-sweep.gradflow.yaml';
const NAME = 'e2e-slurm';
/** Three seeds of a tiny SC-SDC pair; 20 epochs of 16 steps keep a task RUNNING for a few seconds. */
const SWEEP = tinySweepYaml(NAME, 3, { epochs: 20, trainSize: 512 });

interface RowView {
  id: string;
  status: string;
  /** The status cell's tooltip: the Slurm state while the array runs, the reason once over. */
  note: string;
  /** The Slurm state as the cell shows it in view (the first words of the note). */
  shown: string;
}

const skip = e2eSkip() || clusterSkip();

describe('the sweep view follows a Slurm sweep and Cancel cancels its array (code-server + real Slurm)', { skip, timeout: testTimeout(300_000) }, () => {
  let w: Workspace;
  let stopCluster: (() => void) | undefined;
  let sweepDir = '';

  before(async () => {
    stopCluster = startCluster();
    w = await openWorkspace('slurm', { [FILE]: SWEEP }, {
      'gradflow.sweep.executor': 'slurm',
      'gradflow.sweep.slurm.maxParallel': 1,
    });
    sweepDir = path.join(w.dir, '.gradflow', 'runs', `sweep-${NAME}`);
  });

  after(async () => {
    // Whatever happened, leave nothing of ours queued on the cluster.
    if (sweepDir !== '' && fs.existsSync(sweepDir)) {
      try {
        await cancelSweep(sweepDir);
      } catch {
        // the cluster is gone already
      }
    }
    await w?.close();
    stopCluster?.();
  });

  test('Run Sweep (executor slurm): rows show their Slurm state live; after a reload they come back; Cancel → scancel, rows stopped (Slurm CANCELLED)', { timeout: testTimeout(270_000) }, () =>
    screenshotOnFailure(w.page, 'gradflow-slurm', async () => {
      const { page } = w;
      const t0 = Date.now();
      await openFile(page, FILE);
      await runCommand(page, 'Gradflow: Run Sweep');
      const dash = frameOfWebview(page);
      // Every distinct table the view showed, for the failure message.
      const seen: string[] = [];
      const readRows = async (): Promise<RowView[]> => {
        const rows = await dash.locator('tr.gf-sweep-row').evaluateAll((trs) =>
          trs.map((tr) => ({
            id: tr.getAttribute('data-config-id') ?? '',
            status: tr.getAttribute('data-status') ?? '',
            note: tr.querySelector('td.gf-status-cell')?.getAttribute('title') ?? '',
            shown: tr.querySelector('td.gf-status-cell .gf-row-note')?.textContent ?? '',
          })),
        ).catch(() => []);
        const text = JSON.stringify(rows.map((r) => `${r.status}: ${r.note}`));
        if (seen[seen.length - 1] !== text) seen.push(text);
        return rows;
      };
      const states = (): string => `; the view showed, in turn:\n${seen.join('\n')}`;

      // Live: one task RUNNING while the other two wait PENDING (the array's %1), as Slurm says.
      const live = await waitFor(async () => {
        const rows = await readRows();
        const running = rows.filter((r) => /^Slurm RUNNING \(task \d+_\d\)$/.test(r.note));
        const pending = rows.filter((r) => /^Slurm PENDING \(task \d+_\d\)$/.test(r.note));
        return rows.length === 3 && running.length === 1 && pending.length === 2 ? rows : undefined;
      }, 120_000, 'one row "Slurm RUNNING" and two "Slurm PENDING"').catch((e: Error) => {
        throw new Error(e.message + states());
      });
      console.log(`[e2e] sweep view while the array runs: ${JSON.stringify(live)}`);
      await screenshot(page, 'gradflow-slurm-1-live');
      const jobs = readJobs(sweepDir);
      assert.equal(jobs.length, 1, 'one job array submitted');
      const jobId = at(jobs, 0).jobId;
      assert.equal(at(jobs, 0).from, 'vscode', 'the array is recorded as submitted from VS Code');
      assert.ok(live.every((r) => r.note.includes(`task ${jobId}_`)), `rows name tasks of job ${jobId}`);
      assert.ok(live.every((r) => r.shown === r.note), `each row shows its Slurm state in view, not only in the tooltip: ${JSON.stringify(live)}`);

      // Reload the window while the array runs (issue 23): the array is the cluster's, and the
      // reloaded window follows it again (its log says so), with the sweep view and its rows. The
      // pending tasks are held over the reload (`scontrol hold`: they stay PENDING, the running one
      // goes on) so that, however long the reload takes on a loaded machine, the array is still live
      // when the window is back; they are released once the sweep view is back.
      const log = (n: number): string => outputChannelTail(w.server, /Gradflow/, n);
      const scontrol = (verb: string): string => {
        const r = spawnSync('scontrol', [verb, jobId], { encoding: 'utf8', timeout: 30_000 });
        return `${r.stdout}${r.stderr}`.trim();
      };
      const held = scontrol('hold');
      const squeueNow = (): string => JSON.stringify([...(arrayStates(jobId) ?? new Map<number, string>())]);
      console.log(`[e2e] scontrol hold ${jobId}: ${held || 'ok'}; squeue: ${squeueNow()}`);
      const tReload = Date.now();
      await runCommand(page, 'Developer: Reload Window');
      await page.waitForLoadState('domcontentloaded');
      await waitForLocator(page.locator('.monaco-workbench .part.statusbar'), 'the reloaded workbench', 60_000, 'visible');
      const following = new RegExp(`following its Slurm array ${jobId} again`);
      await waitFor(() => following.test(log(5000)), 60_000, `the reloaded window following array ${jobId} again`, {
        seen: () => ({ squeue: squeueNow(), log: log(5000).split('\n').filter((l) => /Slurm|sweep|reattach/i.test(l)).slice(-12) }),
      });
      const back = await waitFor(async () => {
        const rows = await readRows();
        const shown = rows.filter((r) => r.status === 'finished' || new RegExp(`^Slurm (RUNNING|PENDING) \\(task ${jobId}_\\d\\)$`).test(r.note));
        return rows.length === 3 && shown.length === 3 && rows.filter((r) => /^Slurm PENDING/.test(r.note)).length >= 2 ? rows : undefined;
      }, 60_000, 'the sweep view back with its 3 rows: their Slurm states (the held two PENDING) or results').catch(async (e: Error) => {
        const frames = await page.locator('iframe.webview').count().catch(() => -1);
        throw new Error(`${e.message}${states()}\n${frames} webview frame(s); squeue ${squeueNow()}; the extension's log:\n${log(40)}`);
      });
      console.log(`[e2e timing] reload → sweep view back with its rows: ${Date.now() - tReload} ms; after the reload: ${JSON.stringify(back)}`);
      assert.ok(back.filter((r) => r.status !== 'finished').every((r) => r.shown === r.note), `each live row shows its Slurm state in view: ${JSON.stringify(back)}`);
      const released = scontrol('release');
      console.log(`[e2e] scontrol release ${jobId}: ${released || 'ok'}`);
      await screenshot(page, 'gradflow-slurm-2-reloaded');

      // The first task ends on the cluster; its row shows the result, the next task is RUNNING.
      const afterFirst = await waitFor(async () => {
        const rows = await readRows();
        return rows.some((r) => r.status === 'finished') && rows.some((r) => /^Slurm RUNNING/.test(r.note)) ? rows : undefined;
      }, 120_000, 'a finished row and the next task RUNNING');
      console.log(`[e2e] after the first task: ${JSON.stringify(afterFirst)}`);

      // Cancel on the sweep's progress notification: the one the reloaded window shows.
      const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: `Gradflow sweep: ${NAME}` });
      await toast.locator('.monaco-button').filter({ hasText: /^Cancel$/ }).click({ timeout: budget(15_000) });
      const tCancel = Date.now();

      // Slurm ends every task of the array (scancel), as squeue says.
      const squeue = await waitFor(() => {
        const s = arrayStates(jobId);
        return s !== undefined && s.size === 3 && [...s.values()].every(isTerminalState) ? s : undefined;
      }, 60_000, `every task of job ${jobId} over`);
      console.log(`[e2e] squeue after Cancel: ${JSON.stringify([...squeue])}`);

      // The view: the sweep stopped (scancel named), finished rows kept, the others stopped by Slurm
      // CANCELLED. One task finished before Cancel, or two if the machine was slow (the reload's time
      // is the cluster's too); at least the running task was cancelled.
      await waitFor(async () => ((await dash.locator('#gf-sweep-status').textContent({ timeout: budget(1000) }).catch(() => null)) ?? '').trim() === 'stopped', 90_000, 'the sweep badge "stopped"');
      console.log(`[e2e timing] Cancel → sweep view stopped: ${Date.now() - tCancel} ms; whole test ${Date.now() - t0} ms`);
      assert.match((await dash.locator('#gf-sweep-status').getAttribute('title')) ?? '', new RegExp(`scancel ${jobId}`));
      const end = await readRows();
      console.log(`[e2e] sweep view after Cancel: ${JSON.stringify(end)}`);
      const finished = end.filter((r) => r.status === 'finished');
      const others = end.filter((r) => r.status !== 'finished');
      assert.ok(finished.length >= 1 && finished.length <= 2 && finished.length + others.length === 3, `1 or 2 rows finished, the rest cancelled: ${JSON.stringify(end)}`);
      for (const r of afterFirst.filter((x) => x.status === 'finished')) assert.equal(end.find((x) => x.id === r.id)?.status, 'finished', `row ${r.id} stays finished`);
      assert.ok([...squeue.values()].filter((s) => s === 'CANCELLED').length >= others.length, 'the running and the pending tasks were cancelled');
      for (const r of others) {
        assert.equal(r.status, 'stopped', `row ${r.id}: ${r.note}`);
        assert.match(r.note, /CANCELLED|stopped/, `row ${r.id} says why`);
      }
      // The closing message counts what became of each configuration (stopped is not "ended normally").
      const message = page.locator('.notifications-toasts .notification-toast').filter({ hasText: `Gradflow sweep ${NAME} cancelled:` });
      await waitForLocator(message, 'the closing message of the sweep', 30_000, 'visible');
      assert.match((await message.textContent()) ?? '', new RegExp(`${finished.length} finished, 0 skipped \\(done before\\), ${others.length} stopped, 0 failed`));
      await screenshot(page, 'gradflow-slurm-3-cancelled');
    }));
});
