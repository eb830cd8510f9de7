/**
 * The extension's sweep view follows a sweep on a REAL Slurm cluster (issue 8), through the UI in
 * code-server: `gradflow.sweep.executor: slurm`, Run Sweep from the palette on a tiny synthetic
 * 3-configuration sweep submitted as one `%1` array. While the array runs, the sweep view's rows
 * carry each configuration's Slurm state (one RUNNING, the others PENDING) and the finished one its
 * results; the progress notification's Cancel runs `scancel`, Slurm ends every remaining task
 * (CANCELLED) and the view ends `stopped`, with the unfinished rows stopped by Slurm CANCELLED.
 *
 * Needs code-server + chromium (GRADFLOW_E2E policy) and the one-node cluster of
 * scripts/setup-slurm.sh, started here (GRADFLOW_CLUSTER policy, test/cluster/cluster.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { arrayStates, cancelSweep, isTerminalState, readJobs } from '../../src/runs/slurm';
import { clusterSkip, startCluster, tinySweepYaml } from '../cluster/cluster';
import { budget, testTimeout, closeAll, e2eSkip, frameOfWebview, openFile, openWorkspace, runCommand, screenshot, screenshotOnFailure, waitFor, waitForLocator, type Workspace } from './harness';
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
        cancelSweep(sweepDir);
      } catch {
        // the cluster is gone already
      }
    }
    await w?.close();
    stopCluster?.();
  });

  test('Run Sweep (executor slurm): rows show their Slurm state live; Cancel → scancel, rows stopped (Slurm CANCELLED)', { timeout: testTimeout(240_000) }, () =>
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
      assert.ok(live.every((r) => r.note.includes(`task ${jobId}_`)), `rows name tasks of job ${jobId}`);
      assert.ok(live.every((r) => r.shown === r.note), `each row shows its Slurm state in view, not only in the tooltip: ${JSON.stringify(live)}`);

      // The first task ends on the cluster; its row shows the result, the next task is RUNNING.
      const afterFirst = await waitFor(async () => {
        const rows = await readRows();
        return rows.some((r) => r.status === 'finished') && rows.some((r) => /^Slurm RUNNING/.test(r.note)) ? rows : undefined;
      }, 120_000, 'a finished row and the next task RUNNING');
      console.log(`[e2e] after the first task: ${JSON.stringify(afterFirst)}`);
      const finishedId = afterFirst.find((r) => r.status === 'finished')!.id;

      // Cancel on the sweep's progress notification.
      const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: `Gradflow sweep: ${NAME}` });
      await toast.locator('.monaco-button').filter({ hasText: /^Cancel$/ }).click({ timeout: budget(15_000) });
      const tCancel = Date.now();

      // Slurm ends every task of the array (scancel), as squeue says.
      const squeue = await waitFor(() => {
        const s = arrayStates(jobId);
        return s !== undefined && s.size === 3 && [...s.values()].every(isTerminalState) ? s : undefined;
      }, 60_000, `every task of job ${jobId} over`);
      console.log(`[e2e] squeue after Cancel: ${JSON.stringify([...squeue])}`);
      assert.ok([...squeue.values()].filter((s) => s === 'CANCELLED').length >= 2, 'the running and the pending task were cancelled');

      // The view: the sweep stopped (scancel named), the finished row kept, the others stopped by Slurm CANCELLED.
      await waitFor(async () => ((await dash.locator('#gf-sweep-status').textContent({ timeout: budget(1000) }).catch(() => null)) ?? '').trim() === 'stopped', 90_000, 'the sweep badge "stopped"');
      console.log(`[e2e timing] Cancel → sweep view stopped: ${Date.now() - tCancel} ms; whole test ${Date.now() - t0} ms`);
      assert.match((await dash.locator('#gf-sweep-status').getAttribute('title')) ?? '', new RegExp(`scancel ${jobId}`));
      const end = await readRows();
      console.log(`[e2e] sweep view after Cancel: ${JSON.stringify(end)}`);
      assert.equal(end.find((r) => r.id === finishedId)?.status, 'finished');
      const others = end.filter((r) => r.id !== finishedId);
      assert.equal(others.length, 2);
      for (const r of others) {
        assert.equal(r.status, 'stopped', `row ${r.id}: ${r.note}`);
        assert.match(r.note, /CANCELLED|stopped/, `row ${r.id} says why`);
      }
      // The closing message counts what became of each configuration (stopped is not "ended normally").
      const message = page.locator('.notifications-toasts .notification-toast').filter({ hasText: `Gradflow sweep ${NAME} cancelled:` });
      await waitForLocator(message, 'the closing message of the sweep', 30_000, 'visible');
      assert.match((await message.textContent()) ?? '', /1 finished, 0 skipped \(done before\), 2 stopped, 0 failed/);
      await screenshot(page, 'gradflow-slurm-2-cancelled');
    }));
});
