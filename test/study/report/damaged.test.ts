/**
 * Issue 18, row 5: one damaged run folder (no config.json, a cut summary, a corrupt run.json) never
 * takes down a report: it is skipped and named with the reason; the rest is reported (exit 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { loadSweepResults, reportCommand } from '../../../src/study/report';
import { mainSweepRuns, makeConfig, tmpDir, writeSweep, type HandRun } from './fixture';
import { cliPath } from '../../trainer/helpers';
import { at } from '../../../src/shared/checked';

function runFolders(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n !== 'sweep.json' && n !== 'report').sort();
}

function sink(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('a run folder without config.json is skipped and named; the other 23 configurations are reported', async () => {
  const dir = writeSweep(path.join(tmpDir(), 'sweep-hand'), mainSweepRuns());
  const victim = runFolders(dir)[3];
  assert.ok(victim);
  fs.rmSync(path.join(dir, victim, 'config.json'));
  const r = loadSweepResults(dir);
  assert.equal(r.rows.length, 23);
  assert.equal(r.skipped.length, 1);
  assert.deepEqual(r.skipped[0], { configId: r.unfinished[0]?.id, runId: victim, runDir: path.join(dir, victim), reason: `run ${victim}: cannot read config.json (missing)` });
  assert.equal(r.unfinished.length, 1, 'its configuration has no usable run');

  const out = sink();
  const err = sink();
  assert.equal(await reportCommand(dir, { format: 'md,csv', stdout: out.stream, stderr: err.stream }), 0, err.text());
  assert.match(err.text(), new RegExp(`note: skipped damaged run folder ${path.join(dir, victim).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: run ${victim}: cannot read config\\.json \\(missing\\)`));
  assert.match(err.text(), /report of 23 run\(s\) written to/);
  const md = fs.readFileSync(path.join(dir, 'report', 'report.md'), 'utf8');
  assert.ok(md.includes(`- skipped: 1 damaged run folder(s), not in the tables:\n  - \`${victim}\`: run ${victim}: cannot read config.json (missing)`), md.slice(0, 800));

  // The built CLI, as a user runs it: exit 0, not 2.
  const cli = spawnSync(process.execPath, [cliPath, 'report', dir, '--format', 'md', '--out', path.join(dir, 'report-cli')], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stderr, /note: skipped damaged run folder .*cannot read config\.json \(missing\)/);
});

test('a damaged newest run falls back to an older finished run of the same configuration, and is named', () => {
  const config = makeConfig();
  const runs: HandRun[] = [
    { id: 'a', point: { 'training.seed': 0 }, config, sparse: { accuracy: 0.2 }, dense: { accuracy: 0.2 }, startedAt: '2026-11-26T08:00:00.000Z' },
    { id: 'a', point: { 'training.seed': 0 }, config, sparse: { accuracy: 0.3 }, dense: { accuracy: 0.3 }, startedAt: '2026-11-26T09:00:00.000Z' },
    { id: 'b', point: { 'training.seed': 1 }, config, sparse: { accuracy: 0.4 }, dense: { accuracy: 0.4 } },
  ];
  const dir = writeSweep(path.join(tmpDir(), 'sweep-x'), runs);
  const [older, newer, b] = runFolders(dir);
  assert.ok(newer);
  assert.ok(b);
  fs.writeFileSync(path.join(dir, newer, 'config.json'), '{"dataset": '); // cut mid-write
  fs.writeFileSync(path.join(dir, b, 'run.json'), '[]'); // not a run header: the folder is corrupt
  const r = loadSweepResults(dir);
  assert.equal(r.rows.length, 1);
  assert.equal(at(r.rows, 0).runId, older);
  assert.equal(at(r.rows, 0).nets.sparse?.final.test.accuracy, 0.2);
  assert.deepEqual(r.skipped.map((s) => s.runId), [newer, b]);
  assert.match(at(r.skipped, 0).reason, new RegExp(`^run ${newer}: config\\.json is not valid JSON`));
  assert.equal(at(r.skipped, 1).reason, `run ${b}: run.json is not an object`);
  assert.deepEqual(r.unfinished.map((u) => u.id), ['b']);
});

test('when every run is damaged the report fails with the first reason and counts the rest', () => {
  const config = makeConfig();
  const dir = writeSweep(path.join(tmpDir(), 'sweep-y'), [
    { id: 'a', point: {}, config, sparse: { accuracy: 0.2 } },
    { id: 'b', point: {}, config, sparse: { accuracy: 0.2 } },
  ]);
  const [a, b] = runFolders(dir);
  assert.ok(a);
  assert.ok(b);
  fs.rmSync(path.join(dir, a, 'config.json'));
  fs.writeFileSync(path.join(dir, b, 'config.json'), Buffer.alloc(0));
  assert.throws(() => loadSweepResults(dir), (e: Error) => e.message.startsWith(`run ${a}: cannot read config.json (missing) (and 1 more damaged run folder(s): ${b}); no finished run of ${dir} could be read`));
});
