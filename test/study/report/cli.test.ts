import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { reportCommand } from '../../../src/study/report';
import { parseBootstrapFlags } from '../../../src/study/report/cli';
import { mainSweepRuns, tmpDir, writeSweep } from './fixture';

const repoRoot = ((): string => {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'src'))) return d;
  }
  return process.cwd();
})();
const cli = path.join(repoRoot, 'dist', 'cli.js');

function sink(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('reportCommand writes into <sweep>/report by default and lists the files', async () => {
  const dir = writeSweep(path.join(tmpDir(), 'sweep-hand'), mainSweepRuns());
  const out = sink();
  const err = sink();
  const code = await reportCommand(dir, { format: 'md,csv', stdout: out.stream, stderr: err.stream });
  assert.equal(code, 0);
  const files = out.text().trim().split('\n');
  assert.equal(files[0], path.join(dir, 'report', 'report.md'));
  assert.ok(files.every((f) => fs.existsSync(f)));
  assert.match(err.text(), /report of 24 run\(s\) written to/);
});

test('reportCommand: bad input is exit code 2 with the message', async () => {
  const err = sink();
  assert.equal(await reportCommand(tmpDir(), { stdout: sink().stream, stderr: err.stream }), 2);
  assert.match(err.text(), /^gradflow report: .*sweep\.json: not a sweep folder/);
  const err2 = sink();
  assert.equal(await reportCommand(tmpDir(), { format: 'md,docx', stdout: sink().stream, stderr: err2.stream }), 2);
  assert.match(err2.text(), /unknown report format 'docx'/);
});

test('bootstrap flags: parsed and checked, each error names the flag and the value as typed', () => {
  assert.deepEqual(parseBootstrapFlags({}), {});
  assert.deepEqual(parseBootstrapFlags({ bootstrapResamples: '500', bootstrapSeed: '7', confidence: '0.9' }), { bootstrapResamples: 500, bootstrapSeed: 7, confidence: 0.9 });
  assert.deepEqual(parseBootstrapFlags({ bootstrapResamples: '2e3', bootstrapSeed: '4294967295', confidence: '.99' }), { bootstrapResamples: 2000, bootstrapSeed: 4294967295, confidence: 0.99 });
  for (const bad of ['0', '-5', '1.5', 'abc', '0x10', ' ', 'Infinity', '1e400']) {
    assert.throws(() => parseBootstrapFlags({ bootstrapResamples: bad }), new RegExp(`^Error: --bootstrap-resamples: expected a positive integer .*got '${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'$`), bad);
  }
  for (const bad of ['-1', '4294967296', '2.5', 'seed']) {
    assert.throws(() => parseBootstrapFlags({ bootstrapSeed: bad }), new RegExp(`^Error: --bootstrap-seed: expected an integer from 0 to 4294967295 .*got '${bad.replace(/\./g, '\\.')}'$`), bad);
  }
  for (const bad of ['0', '1', '95', '-0.5', 'NaN', '0.9x']) {
    assert.throws(() => parseBootstrapFlags({ confidence: bad }), new RegExp(`^Error: --confidence: expected a level strictly between 0 and 1.*got '${bad.replace(/\./g, '\\.')}'$`), bad);
  }
});

test('reportCommand: the bootstrap flags reach the bootstrap table; a bad value is exit code 2 naming the flag', async () => {
  const dir = writeSweep(path.join(tmpDir(), 'sweep-hand'), mainSweepRuns());
  const out = path.join(tmpDir(), 'report');
  const code = await reportCommand(dir, { out, format: 'md', bootstrapResamples: '300', bootstrapSeed: '99', confidence: '0.8', stdout: sink().stream, stderr: sink().stream });
  assert.equal(code, 0);
  const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
  assert.match(md, /Paired bootstrap: 300 resamples with replacement \(Mulberry32, seed 99;/);
  assert.match(md, /\| 80 % CI low \| 80 % CI high \|/);
  const err = sink();
  assert.equal(await reportCommand(dir, { out, confidence: '1.5', stdout: sink().stream, stderr: err.stream }), 2);
  assert.equal(err.text(), "gradflow report: --confidence: expected a level strictly between 0 and 1, e.g. 0.95 (default 0.95), got '1.5'\n");
});

test('gradflow report (the built CLI): --bootstrap-resamples, --bootstrap-seed and --confidence', { skip: !fs.existsSync(cli) && 'dist/cli.js missing (npm run build)', timeout: 120_000 }, () => {
  const dir = writeSweep(path.join(tmpDir(), 'sweep-hand'), mainSweepRuns());
  const out = path.join(tmpDir(), 'report');
  const ok = spawnSync(process.execPath, [cli, 'report', dir, '--out', out, '--format', 'csv', '--bootstrap-resamples', '250', '--bootstrap-seed=5', '--confidence', '0.9'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  const csv = fs.readFileSync(path.join(out, 'correlation-bootstrap-fashion-mnist.csv'), 'utf8');
  assert.ok(csv.length > 0);
  const md = spawnSync(process.execPath, [cli, 'report', dir, '--out', out, '--format', 'md', '--bootstrap-resamples=250', '--bootstrap-seed', '5', '--confidence=0.9'], { encoding: 'utf8' });
  assert.equal(md.status, 0, md.stderr);
  assert.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /250 resamples with replacement \(Mulberry32, seed 5;[^\n]*90 % percentile intervals/);
  for (const [flag, value, expected] of [
    ['--bootstrap-resamples', '0', /--bootstrap-resamples: expected a positive integer/],
    ['--bootstrap-seed', '-3', /--bootstrap-seed: expected an integer from 0 to 4294967295/],
    ['--confidence', '95', /--confidence: expected a level strictly between 0 and 1/],
  ] as const) {
    const bad = spawnSync(process.execPath, [cli, 'report', dir, '--out', out, flag, value], { encoding: 'utf8' });
    assert.equal(bad.status, 2, `${flag} ${value}`);
    assert.match(bad.stderr, expected);
  }
  const missing = spawnSync(process.execPath, [cli, 'report', dir, '--confidence'], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--confidence: missing value/);
});
