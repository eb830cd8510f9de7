/**
 * Issue 18, row 2: an experiment file is sized before it is read. A 3 GB `*.gradflow.yaml` (a
 * sparse file: cheap to make) is refused from its size, naming the file, its size and the bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadForCli, CliUsageError } from '../../src/cli/load';
import { loadExperimentFile } from '../../src/config';
import { MAX_FILE_CHARS } from '../../src/config/limits';
import { BoundedReadError, readBoundedText } from '../../src/shared/bounded-read';
import { MAX_EXPERIMENT_FILE_BYTES } from '../../src/config/read-file';
import { cliPath } from '../trainer/helpers';
import { tempFolder } from '../tmp';

const GB3 = 3 * 1024 ** 3;

function tmp(): string {
  return tempFolder('gradflow-size-');
}

function sparseFile(file: string, bytes: number): void {
  const fd = fs.openSync(file, 'w');
  fs.ftruncateSync(fd, bytes);
  fs.closeSync(fd);
}

test('the byte bound is three bytes per allowed character (no UTF-8 character is longer per UTF-16 unit)', () => {
  assert.equal(MAX_FILE_CHARS, 262_144);
  assert.equal(MAX_EXPERIMENT_FILE_BYTES, 786_432);
});

test('a 3 GB experiment file is refused from its size by the CLI loader and loadExperimentFile', () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'huge.gradflow.yaml');
    sparseFile(file, GB3);
    const before = process.memoryUsage().rss;
    assert.throws(
      () => loadForCli(file, []),
      (e: unknown) =>
        e instanceof CliUsageError &&
        e.message === `${file}: the experiment file is 3,221,225,472 bytes (3.2 GB), more than the limit of 786,432 bytes: an experiment file may have at most 262,144 characters (real ones are a few kB); not read`,
    );
    assert.throws(() => loadExperimentFile(file), (e: unknown) => e instanceof BoundedReadError && e.problem === 'too-large' && e.message.startsWith(`${file}: the experiment file is 3,221,225,472 bytes`));
    // Not a timing or memory assertion on the machine, only that the body was not read into memory.
    assert.ok(process.memoryUsage().rss - before < 256 * 1024 * 1024, 'the file body was not read');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('one byte over the bound is refused; at the bound the parser counts characters', () => {
  const dir = tmp();
  try {
    const over = path.join(dir, 'over.gradflow.yaml');
    fs.writeFileSync(over, '#'.repeat(MAX_EXPERIMENT_FILE_BYTES + 1));
    assert.throws(() => loadForCli(over, []), /the experiment file is 786,433 bytes .*more than the limit of 786,432 bytes/);
    const at = path.join(dir, 'at.gradflow.yaml');
    fs.writeFileSync(at, '#'.repeat(MAX_EXPERIMENT_FILE_BYTES));
    // Read (within the byte bound), then refused by the character limit with the file's line.
    assert.throws(() => loadForCli(at, []), (e: unknown) => e instanceof CliUsageError && /786,432 characters, more than the limit of 262,144/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a FIFO or a folder named *.gradflow.yaml is not read (no hang waiting for a writer)', () => {
  const dir = tmp();
  try {
    const fifo = path.join(dir, 'pipe.gradflow.yaml');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => readBoundedText(fifo, { maxBytes: 10, what: 'experiment file' }), (e: unknown) => e instanceof BoundedReadError && e.problem === 'not-a-file');
    assert.throws(() => loadForCli(fifo, []), new RegExp(`${fifo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the experiment file is not a regular file`));
    assert.throws(() => loadForCli(path.join(dir, 'nope.gradflow.yaml'), []), /cannot read experiment file .*nope\.gradflow\.yaml: ENOENT/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('gradflow run on a 3 GB file: exit 2 and the message, without reading the file', { timeout: 60_000 }, () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'huge.gradflow.yaml');
    sparseFile(file, GB3);
    const r = spawnSync(process.execPath, [cliPath, 'run', file], { encoding: 'utf8', timeout: 50_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /huge\.gradflow\.yaml: the experiment file is 3,221,225,472 bytes \(3\.2 GB\), more than the limit of 786,432 bytes/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
