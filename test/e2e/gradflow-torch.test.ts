/**
 * A PyTorch training script as the trainer (issue 20), through the UI in code-server: the SC-SDC
 * example of `examples/torch/` (a pair built with torch.nn.utils.prune, watched by the Python
 * client), run with *Gradflow: Run Experiment* from the command palette. The dashboard fills as for
 * an engine run: step counter to the end, the `finished` badge, the last masked L2 norm of every
 * layer; the run folder records the run as `external`.
 *
 * Needs Debian's python3-torch at /usr/bin/python3 (CI installs it): skipped with the reason
 * without it, failing instead under GRADFLOW_TORCH=required.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { budget, testTimeout, closeAll, e2eSkip, frameOfWebview, openFile, openWorkspace, outputChannelTail, repoRoot, runCommand, screenshot, screenshotOnFailure, waitFor, type Workspace } from './harness';
import { at } from '../../src/shared/checked';

after(closeAll);

const PYTHON = '/usr/bin/python3';
const FILE = 'torch.gradflow.yaml';

function torchSkip(): string | false {
  const ok = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  if (ok) return false;
  if (process.env.GRADFLOW_TORCH === 'required') throw new Error(`GRADFLOW_TORCH=required but ${PYTHON} cannot import torch (apt install python3-torch)`);
  return `${PYTHON} with torch not available (apt install python3-torch)`;
}

/** The example's experiment file, made small (1 epoch of 2,000 images) and pointed at the repository's script. */
function experimentText(): string {
  const text = fs.readFileSync(path.join(repoRoot(), 'examples', 'torch', 'scsdc_mlp.gradflow.yaml'), 'utf8');
  const scriptDir = path.join(repoRoot(), 'examples', 'torch');
  const out = text
    .replace(/^(\s*command:\s*)\[python3,/m, `$1[${JSON.stringify(PYTHON)},`)
    .replace(/^(\s*cwd:\s*)\.(\s|$)/m, `$1${JSON.stringify(scriptDir)}$2`)
    .replace(/^(\s*train_limit:\s*)\d+/m, '$12000')
    .replace(/^(\s*test_limit:\s*)\d+/m, '$1500')
    .replace(/^(\s*epochs:\s*)\d+/m, '$11');
  // Each edit must have landed, or the test would run something else than it says.
  for (const needle of [PYTHON, scriptDir, 'train_limit: 2000', 'test_limit: 500', 'epochs: 1']) assert.ok(out.includes(needle.startsWith('/') ? JSON.stringify(needle) : needle), `the example file was adapted: ${needle}`);
  return out;
}

async function badge(dash: FrameLocator): Promise<string> {
  return ((await dash.locator('.gf-badge').first().textContent({ timeout: budget(2000) }).catch(() => null)) ?? '').trim();
}

async function readStep(dash: FrameLocator): Promise<{ step: number; total: number; info: string } | undefined> {
  const info = (await dash.locator('.gf-info').textContent({ timeout: budget(2000) }).catch(() => null)) ?? '';
  const m = /step ([\d,]+) \/ ([\d,]+)/.exec(info);
  if (!m) return undefined;
  return { step: Number(at(m, 1).replace(/,/g, '')), total: Number(at(m, 2).replace(/,/g, '')), info };
}

const skip = e2eSkip() || torchSkip();

describe('a PyTorch script as the trainer, run from the command palette (code-server)', { skip, timeout: testTimeout(360_000) }, () => {
  let w: Workspace;

  before(async () => {
    w = await openWorkspace('torch', { [FILE]: experimentText() });
  });

  after(async () => {
    await w?.close();
  });

  test('Run Experiment on the PyTorch example: the dashboard fills and the run ends finished', { timeout: testTimeout(300_000) }, () =>
    screenshotOnFailure(w.page, 'gradflow-torch', async () => {
      const { page } = w;
      await openFile(page, FILE);
      await runCommand(page, 'Gradflow: Run Experiment');
      const dash = frameOfWebview(page);
      // Torch's import and the data come first (the badge says starting), then steps stream in.
      let lastStatus = '';
      const running = await waitFor(async () => {
        const s = await readStep(dash);
        lastStatus = await badge(dash);
        return s !== undefined && s.step > 0 ? s : undefined;
      }, 120_000, 'the first steps of the script on the dashboard', { seen: () => ({ status: lastStatus, gradflowLog: outputChannelTail(w.server, /Gradflow/, 10) }) });
      console.log(`[e2e] PyTorch run on the dashboard: ${running.info}`);
      await screenshot(page, 'gradflow-torch-1-running');

      await waitFor(async () => ((lastStatus = await badge(dash)) !== 'running' && lastStatus !== 'starting' && lastStatus !== '') || undefined, 120_000, 'the PyTorch run to end', {
        seen: () => ({ status: lastStatus, gradflowLog: outputChannelTail(w.server, /Gradflow/, 10) }),
      });
      const end = await readStep(dash);
      const info = (await dash.locator('.gf-info').textContent()) ?? '';
      assert.equal(lastStatus, 'finished', `run status; dashboard: ${info}\n${outputChannelTail(w.server, /Gradflow/, 20)}`);
      assert.ok(end, 'step counter shown at the end');
      assert.equal(end.step, end.total, end.info);
      const rows = await dash.locator('#gf-density tbody tr').allTextContents();
      console.log(`[e2e] layers table rows: ${JSON.stringify(rows)}`);
      const lastNorms = await dash.locator('#gf-density tbody tr:not(.gf-total) td:last-child').allTextContents();
      // The script's layers are `linears.0…2` (a ModuleList), so the table folds them into one group
      // row per net ("▸ linears (3)"), whose last column is the group's last masked L2.
      assert.ok(lastNorms.length >= 2 && lastNorms.every((t) => t !== '—' && t !== ''), `a last masked L2 for each net's layers: ${JSON.stringify(lastNorms)}`);
      assert.ok(rows.some((r) => /sparse/.test(r)) && rows.some((r) => /dense/.test(r)), `both nets in the layers table: ${JSON.stringify(rows)}`);
      await screenshot(page, 'gradflow-torch-2-finished');

      // The run folder: the script's run, recorded like an engine run.
      const runsDir = path.join(w.dir, '.gradflow', 'runs');
      const runDir = fs.readdirSync(runsDir).map((d) => path.join(runsDir, d)).find((d) => fs.existsSync(path.join(d, 'summary.json')));
      assert.ok(runDir, `a run with summary.json in ${runsDir}`);
      const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as { finished?: boolean; backend?: string; nets?: { net: string; steps: number; layers?: unknown[] }[] };
      assert.equal(summary.finished, true);
      assert.equal(summary.backend, 'external');
      assert.deepEqual(summary.nets?.map((n) => n.net).sort(), ['dense', 'sparse']);
      assert.ok(summary.nets?.every((n) => n.steps === end.total), JSON.stringify(summary.nets?.map((n) => n.steps)));
      assert.deepEqual(summary.nets?.map((n) => n.layers?.length), [3, 3], 'three weight layers per net');
    }));
});
