/**
 * Issue 18: what the Slurm executor passes to a shell or a Slurm command, without a cluster (the
 * real-cluster regression is test/cluster/injection.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_BATCH_FILE_BYTES, MAX_JOBS_FILE_BYTES, MAX_TASK_RECORD_BYTES, SLURM_LOG_PATTERN, SlurmError, TASK_LOG_TAIL_BYTES, batchScript, logTailOf, readBatch, readJobs, readTaskRecord } from '../../src/runs/slurm';
import { tempFolder } from '../tmp';

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
  const sweep = tempFolder('gradflow-jobs-');
  try {
    fs.mkdirSync(path.join(sweep, 'slurm'));
    const rec = (jobId: string): string => JSON.stringify({ jobId, batch: '/b.json', tasks: 1, submittedAt: '2026-12-06T00:00:00Z' });
    fs.writeFileSync(path.join(sweep, 'slurm', 'jobs.jsonl'), [rec('123'), rec('--user=root'), rec('1 2'), rec('-1'), rec('456'), ''].join('\n'));
    assert.deepEqual(readJobs(sweep).map((j) => j.jobId), ['123', '456']);
  } finally {
    fs.rmSync(sweep, { recursive: true, force: true });
  }
});

function withSweep(body: (sweep: string) => void): void {
  const sweep = tempFolder('gradflow-bounds-');
  try {
    fs.mkdirSync(path.join(sweep, 'slurm', 'tasks'), { recursive: true });
    body(sweep);
  } finally {
    fs.rmSync(sweep, { recursive: true, force: true });
  }
}

test('an over-size jobs.jsonl is refused from its size with the file, size and bound', () => {
  withSweep((sweep) => {
    const file = path.join(sweep, 'slurm', 'jobs.jsonl');
    fs.writeFileSync(file, JSON.stringify({ jobId: '1', batch: '/b.json', tasks: 1 }) + '\n');
    fs.truncateSync(file, MAX_JOBS_FILE_BYTES + 1); // sparse
    assert.throws(() => readJobs(sweep), (e: Error) => e instanceof SlurmError && e.message.includes(file) && /more than the limit|more than/.test(e.message));
  });
});

test('an over-size batch file is refused from its size with the file, size and bound', () => {
  withSweep((sweep) => {
    const file = path.join(sweep, 'slurm', 'batch.json');
    fs.writeFileSync(file, '{"tasks":[]}');
    fs.truncateSync(file, MAX_BATCH_FILE_BYTES + 1); // sparse
    assert.throws(() => readBatch(file), (e: Error) => e instanceof SlurmError && e.message.includes(file) && e.message.includes('batch file'));
  });
});

test('an over-size task record is not read (no record), a normal one is', () => {
  withSweep((sweep) => {
    const file = path.join(sweep, 'slurm', 'tasks', '7_0.json');
    const record = JSON.stringify({ configId: 'abc', error: 'planted' });
    fs.writeFileSync(file, record);
    assert.equal(readTaskRecord(sweep, '7', 0)?.configId, 'abc');
    // Valid JSON padded past the bound: parsed if read whole, refused bounded.
    fs.writeFileSync(file, record + ' '.repeat(MAX_TASK_RECORD_BYTES));
    assert.equal(readTaskRecord(sweep, '7', 0), undefined);
  });
});

test('a task log tail reads only the end of a big log', () => {
  withSweep((sweep) => {
    const file = path.join(sweep, 'slurm', 'task.log');
    // 4 MiB of a first line, then the lines that matter: the whole file is never needed.
    fs.writeFileSync(file, 'x'.repeat(4 * 1024 * 1024) + '\nline a\n\nline b\nline c\n');
    assert.deepEqual(logTailOf(file, 2), ['line b', 'line c']);
    assert.deepEqual(logTailOf(file, 10), ['line a', 'line b', 'line c']); // the cut first line of the window is dropped
    fs.writeFileSync(file, 'only\nlines\n');
    assert.deepEqual(logTailOf(file, 10), ['only', 'lines']);
    assert.ok(TASK_LOG_TAIL_BYTES < 4 * 1024 * 1024);
  });
});
