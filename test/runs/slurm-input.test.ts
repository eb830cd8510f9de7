/**
 * Issue 18: what the Slurm executor passes to a shell or a Slurm command, without a cluster (the
 * real-cluster regression is test/cluster/injection.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SLURM_LOG_PATTERN, batchScript, readJobs } from '../../src/runs/slurm';

test('the batch script: sh reads its exec line back as exactly the four paths, whatever they hold', () => {
  const dir = "/shared/we ird 'q' $HOME `id` $(touch x); y\nz/runs/sweep-a";
  const script = batchScript('/opt/node 20/bin/node', "/opt/it's/cli.js", dir, `${dir}/slurm/batch-1.json`);
  assert.equal(script.split('\n')[0], '#!/bin/sh');
  assert.ok(!script.includes('#SBATCH'));
  const r = spawnSync('sh', ['-c', script.replace(/^exec /m, "printf '%s\\0' ")], { encoding: 'utf8', env: { ...process.env, SLURM_ARRAY_TASK_ID: '3' } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), ['/opt/node 20/bin/node', "/opt/it's/cli.js", 'sweep-task', dir, '3', '--batch', `${dir}/slurm/batch-1.json`]);
});

test('the task log pattern is relative (to --chdir): no folder name reaches a Slurm file-name pattern', () => {
  assert.equal(SLURM_LOG_PATTERN, 'slurm/logs/%A_%a.log');
});

test('readJobs keeps only digit job ids: an edited jobs.jsonl cannot pass options to squeue or scancel', () => {
  const sweep = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-jobs-'));
  try {
    fs.mkdirSync(path.join(sweep, 'slurm'));
    const rec = (jobId: string): string => JSON.stringify({ jobId, batch: '/b.json', tasks: 1, submittedAt: '2026-12-06T00:00:00Z' });
    fs.writeFileSync(path.join(sweep, 'slurm', 'jobs.jsonl'), [rec('123'), rec('--user=root'), rec('1 2'), rec('-1'), rec('456'), ''].join('\n'));
    assert.deepEqual(readJobs(sweep).map((j) => j.jobId), ['123', '456']);
  } finally {
    fs.rmSync(sweep, { recursive: true, force: true });
  }
});
