/**
 * Write errors while a run writes (issue 18, rows 3 and 11), on real file systems: a tiny tmpfs
 * that fills up, and a read-only tmpfs. Skipped with the reason without root (a failure under CI).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RESERVE_BYTES, RunWriter, readMetricsLog, readRun } from '../../src/runs/store';
import type { ExperimentConfig } from '../../src/shared/experiment';
import type { RunSummary, StepMetrics } from '../../src/shared/protocol';
import { cliPath, configOf, runTrainer, syntheticYaml, tmpDir } from '../trainer/helpers';
import { withTmpfs } from './tmpfs';

const config = { name: 'disk-full' } as unknown as ExperimentConfig;

function step(i: number): StepMetrics {
  // A realistic step line (about 300 bytes: two layers).
  const layer = { active: 1024, raw: { l1: 12.5, l2: 0.75 }, masked: { l1: 6.25, l2: 0.5 } };
  return { net: 'sparse', step: i, epoch: 0, loss: 1 / (i + 1), accuracy: 0.5, egf1: 0.1, egf2: 0.2, g1: 1.25, g2: 0.5, layers: [layer, layer] };
}

/** Every line of the log is a whole JSON line and the file ends with a newline. */
function assertWholeLines(runDir: string): number {
  const text = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), `metrics.jsonl ends in a torn line: …${JSON.stringify(text.slice(-60))}`);
  const lines = text.split('\n').filter((l) => l !== '');
  for (const [i, l] of lines.entries()) assert.doesNotThrow(() => JSON.parse(l), `line ${i + 1} is not JSON`);
  return lines.length;
}

test('disk full while a run writes: failure kept, log cut at its last whole line, summary written from the reserve', async (t) => {
  // 32 pages: the reserve (16), run.json + config.json (2), and 14 pages of log before it is full.
  await withTmpfs(t, { sizeBytes: 32 * 4096 }, (dir) => {
    const w = RunWriter.create(path.join(dir, 'runs'), config);
    assert.ok(fs.existsSync(path.join(w.runDir, '.reserve')), 'the reserve is set aside at start');
    assert.equal(fs.statSync(path.join(w.runDir, '.reserve')).size, RESERVE_BYTES);
    let i = 0;
    for (; i < 10_000 && w.failure === undefined; i++) {
      w.append({ type: 'step', metrics: step(i) });
      if (i % 7 === 0) w.flush(); // batches of several lines, as the 500 ms timer makes them
    }
    w.flush();
    assert.ok(w.failure, `the disk never filled after ${i} steps`);
    assert.equal(w.failure.code, 'ENOSPC');
    assert.equal(w.failure.message, `no space left on device while writing metrics.jsonl, run folder ${w.runDir}`);
    assert.equal(fs.existsSync(path.join(w.runDir, '.reserve')), false, 'the reserve was given up for the summary');
    const kept = assertWholeLines(w.runDir);
    assert.ok(kept > 100, `some steps were kept (${kept})`);
    const log = readMetricsLog(w.runDir);
    assert.equal(log.skipped, 0);
    assert.equal(log.messages.length, kept);
    // Lines are in order and none is duplicated: step i is line i.
    log.messages.forEach((m, k) => assert.equal(m.type === 'step' ? m.metrics.step : -1, k));
    w.append({ type: 'error', message: w.failure.message, runDir: w.runDir });
    const summary: RunSummary = { runId: w.runId, runDir: w.runDir, backend: 'cpu', finished: false, stopped: false, reason: w.failure.message, nets: [], alerts: [], startedAt: 'a', endedAt: 'b' };
    w.finish(summary);
    assertWholeLines(w.runDir);
    const rec = readRun(w.runDir);
    assert.equal(rec?.status, 'failed');
    assert.match(rec?.reason ?? '', /^no space left on device while writing metrics\.jsonl, run folder /);
  });
});

test('disk full in the real trainer: the run ends failed with the reason, whole lines, a summary', { timeout: 120_000 }, async (t) => {
  await withTmpfs(t, { sizeBytes: 40 * 4096 }, async (dir) => {
    const runsDir = path.join(dir, 'runs');
    const cfg = configOf(syntheticYaml({ runsDir, epochs: 30 }));
    const { messages, exit } = await runTrainer(cfg);
    const err = messages.find((m) => m.type === 'error');
    assert.ok(err && err.type === 'error', `the trainer reported no error (exit ${JSON.stringify(exit)})`);
    assert.match(err.message, /^no space left on device while writing metrics\.jsonl, run folder /);
    assert.equal(messages.some((m) => m.type === 'done'), false);
    const runDir = err.runDir ?? '';
    assert.ok(runDir.startsWith(runsDir), runDir);
    assertWholeLines(runDir);
    const rec = readRun(runDir);
    assert.equal(rec?.status, 'failed', 'failed, not killed: summary.json was written');
    assert.equal(rec?.reason, err.message);
  });
});

test('a read-only runs folder: a clear error naming the folder and the cause (writer and CLI)', { timeout: 120_000 }, async (t) => {
  await withTmpfs(t, { sizeBytes: 16 * 4096, readOnly: true }, (dir) => {
    const runsDir = path.join(dir, 'project', '.gradflow', 'runs');
    assert.throws(
      () => RunWriter.create(runsDir, config),
      (e: Error) => e.message === `cannot create the runs folder ${runsDir}: read-only file system (${dir} cannot be written); set run.runs_dir (or the gradflow.runsDir setting) to a writable folder`,
    );
    const work = tmpDir('ro-cli');
    try {
      const file = path.join(work, 'ro.gradflow.yaml');
      fs.writeFileSync(file, syntheticYaml({ runsDir, epochs: 1 }));
      const r = spawnSync(process.execPath, [cliPath, 'run', file], { encoding: 'utf8', timeout: 90_000 });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr + r.stdout, new RegExp(`cannot create the runs folder ${runsDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: read-only file system`));
      assert.doesNotMatch(r.stderr + r.stdout, /ENOENT/);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
