/**
 * Issue 10: the validator against about 1,100 hostile and broken files (seeded, reproducible: the
 * seed is in the test name; GRADFLOW_FUZZ_SEED picks another). In a child process whose heap is
 * capped at 256 MB (a file that blew up memory would kill it): no exception, no stack trace or raw
 * control character in any message, every position inside the file and consistent with its
 * offset, each file checked in at most 2 s of CPU time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CorpusReport } from './check-corpus';

const repoRoot = ((): string => {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'examples'))) return d;
  }
  return process.cwd();
})();

const SEED = Number(process.env.GRADFLOW_FUZZ_SEED ?? '20261201');
const HEAP_MB = 256;
const PER_FILE_MS = 2000;

test(`fuzz: ≥ 1,000 generated files through the validator (seed ${SEED})`, { timeout: 300_000 }, () => {
  const child = path.join(__dirname, 'check-corpus.js');
  const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--stack-size=984', child, repoRoot, String(SEED)], {
    encoding: 'utf8',
    env: { ...process.env, GRADFLOW_FUZZ_CHILD: '1' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 280_000,
  });
  assert.equal(r.status, 0, `the checker died (heap capped at ${HEAP_MB} MB): ${r.signal ?? ''} ${r.stderr.slice(-2000)}`);
  const report = JSON.parse(r.stdout) as CorpusReport;
  assert.ok(report.files.length >= 1000, `${report.files.length} files`);
  const bad = report.files.filter((f) => f.problems.length > 0);
  assert.deepEqual(
    bad.slice(0, 10).map((f) => ({ name: f.name, problems: f.problems.slice(0, 3) })),
    [],
    `${bad.length} of ${report.files.length} files were mishandled`,
  );
  // CPU time, not wall time: the suite shares two cores with other tests.
  const slow = report.files.filter((f) => f.cpuMs > PER_FILE_MS);
  assert.deepEqual(slow.map((f) => `${f.name}: ${f.cpuMs.toFixed(0)} ms CPU (${f.bytes} bytes)`), []);
  // Every file-level case of the issue is in the corpus and is refused with an error.
  const issue = report.files.filter((f) => f.name.startsWith('issue/'));
  for (const name of ['sweep-1e8', 'runs-dir-proc', 'dataset-dev-zero', 'keys-100000', 'escapes-value', 'synthetic-classes-1e9', 'epochs-1e308', 'proto-keys', 'tag-set', 'billion-laughs']) {
    const f = issue.find((x) => x.name === `issue/${name}`);
    assert.ok(f, name);
    assert.ok(f.errors > 0, `${name} was accepted`);
  }
  // The 300-character sweep name is fine (its folder name is bounded where it is made).
  assert.equal(issue.find((x) => x.name === 'issue/name-300')?.errors, 0);
  assert.ok(report.peakHeapBytes < HEAP_MB * 1024 * 1024);
});
