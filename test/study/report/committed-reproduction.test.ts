/**
 * Issue 22: the committed larger reproduction (docs/reproduction/large/) is regenerable. `gradflow
 * report --from-table` on its committed per-net table writes every committed report file byte for
 * byte, so a change to the report code that would change the committed numbers fails here instead
 * of leaving docs/reproduction.md quoting tables the code no longer produces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { reportCommand } from '../../../src/study/report';
import { findRepoFolder } from '../find-up';
import { tempFolder } from '../../tmp';

const committed = findRepoFolder(path.join('docs', 'reproduction', 'large'), 'nets.jsonl');
/** What `report` writes (nets.jsonl is its input; the early-warning files come from `early-warning`). */
const isReportFile = (f: string): boolean => f !== 'nets.jsonl' && !f.startsWith('early-warning');

test('the committed larger reproduction: report --from-table nets.jsonl rewrites every committed report file byte for byte', async () => {
  const out = tempFolder('gradflow-committed-repro-');
  try {
    const err = new PassThrough();
    const chunks: Buffer[] = [];
    err.on('data', (c: Buffer) => chunks.push(c));
    const stdout = new PassThrough();
    stdout.resume();
    const code = await reportCommand(undefined, { fromTable: path.join(committed, 'nets.jsonl'), out, format: 'md,csv,tex,svg', stdout, stderr: err });
    assert.equal(code, 0, Buffer.concat(chunks).toString());
    const want = fs.readdirSync(committed).filter(isReportFile).sort();
    assert.ok(want.length >= 60, `committed report files: ${want.length}`);
    assert.deepEqual(fs.readdirSync(out).sort(), want);
    for (const f of want) assert.ok(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(committed, f))), `${f} differs from the committed copy`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
