import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { reportCommand } from '../../../src/study/report';
import { mainSweepRuns, tmpDir, writeSweep } from './fixture';

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
