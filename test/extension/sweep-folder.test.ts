/**
 * Reading sweep folders for the sweep view (src/extension/dashboard/sweep-folder.ts): which run a
 * configuration shows, how unfinished runs read, what is refused, and the Open Sweep listing.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseRun, listSweepFolders, loadSweepFolder, rowStatus } from '../../src/extension/dashboard/sweep-folder';
import type { RunRecord } from '../../src/runs/store';
import { runSummary, writeSweepFolder } from '../webview/sweep-fixtures';
import { at } from '../../src/shared/checked';

const root = fs.mkdtempSync(join(tmpdir(), 'gradflow-sweep-folder-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const NETS = { sparse: { acc: 0.75, loss: 0.5, egf1: 2, egf2: 0.25 }, dense: { acc: 0.5, loss: 1, egf1: 4, egf2: 0.5 } };

describe('loadSweepFolder', () => {
  const dir = join(root, 'runs', 'sweep-mixed');
  writeSweepFolder(
    dir,
    {
      name: 'mixed',
      runs: [
        { id: 'a', point: { 'training.optimizer': 'sgd', 'training.seed': 0 } },
        { id: 'b', point: { 'training.optimizer': 'sgd', 'training.seed': 1 } },
        { id: 'c', point: { 'training.optimizer': 'adam', 'training.seed': 0 } },
        { id: 'd', point: { 'training.optimizer': 'adam', 'training.seed': 1 } },
      ],
    },
    [
      // a: finished earlier, then re-run and stopped: the finished run is the one the report reads.
      { runId: 'a-1', configId: 'a', startedAt: '2026-11-26T08:00:00Z', summary: (d) => runSummary('a-1', d, NETS) },
      { runId: 'a-2', configId: 'a', startedAt: '2026-11-26T09:00:00Z', summary: (d) => runSummary('a-2', d, NETS, { finished: false, stopped: true, reason: 'stopped' }) },
      // b: stopped, then failed later: the newest (failed) shows, with the trainer's reason.
      { runId: 'b-1', configId: 'b', startedAt: '2026-11-26T08:00:00Z', summary: (d) => runSummary('b-1', d, NETS, { finished: false, stopped: true, reason: 'stopped' }) },
      { runId: 'b-2', configId: 'b', startedAt: '2026-11-26T08:30:00Z', summary: (d) => runSummary('b-2', d, {}, { finished: false, stopped: false, reason: 'NaN loss at step 3' }) },
      // c: killed (no summary, dead pid).
      { runId: 'c-1', configId: 'c', startedAt: '2026-11-26T08:00:00Z' },
      // d: never ran. An orphan from an earlier grid is ignored.
      { runId: 'z-1', configId: 'z', startedAt: '2026-11-26T08:00:00Z', summary: (d) => runSummary('z-1', d, NETS) },
    ],
  );
  // A folder that is not a run (the report's output) is skipped.
  fs.mkdirSync(join(dir, 'report'));

  it('shows each configuration its newest finished run, else its newest run', () => {
    const m = loadSweepFolder(dir).model();
    assert.deepEqual(m.rows.map((r) => [r.configId, r.status, r.runId, r.message ?? '']), [
      ['a', 'finished', 'a-1', ''],
      ['b', 'failed', 'b-2', 'NaN loss at step 3'],
      ['c', 'failed', 'c-1', 'killed (no summary written)'],
      ['d', 'pending', null, ''],
    ]);
    assert.deepEqual(at(m.rows, 0).sparse, { testAccuracy: 0.75, testLoss: 0.5, egf1: 2, egf2: 0.25, g1: 1, g2: 0.1 });
    assert.equal(at(m.rows, 1).sparse, null);
    assert.equal(m.info.status, 'recorded');
    assert.equal(m.info.sweepId, dir);
    assert.equal(m.info.createdAt, '2026-11-26T07:59:00.000Z');
    assert.deepEqual(loadSweepFolder(dir).runOf('a'), { runId: 'a-1', runDir: join(dir, 'a-1') });
    assert.equal(loadSweepFolder(dir, 'running').model().info.status, 'running');
  });

  it('reads a run whose trainer is alive as running (progress unknown)', () => {
    const live = join(root, 'runs', 'sweep-live');
    writeSweepFolder(live, { name: 'live', runs: [{ id: 'a', point: { 'training.seed': 0 } }] }, [
      { runId: 'a-1', configId: 'a', startedAt: '2026-11-26T08:00:00Z' },
    ]);
    // This test process stands in for the trainer.
    const runJson = join(live, 'a-1', 'run.json');
    fs.writeFileSync(runJson, JSON.stringify({ ...JSON.parse(fs.readFileSync(runJson, 'utf8')), pid: process.pid }));
    const r = at(loadSweepFolder(live).model().rows, 0);
    assert.equal(r.status, 'running');
    assert.equal(r.progress, null);
  });

  it('refuses a folder without a readable manifest, naming it; skips malformed manifest entries', () => {
    assert.throws(() => loadSweepFolder(join(root, 'nowhere')), /nowhere.*sweep\.json: not a sweep folder/);
    const bad = join(root, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(join(bad, 'sweep.json'), '{"name": "x", "runs": 3}');
    assert.throws(() => loadSweepFolder(bad), /not a sweep manifest/);
    fs.writeFileSync(join(bad, 'sweep.json'), '{"runs": [{"id": "ok", "point": {}}, {"id": 5}, null, {"id": "", "point": {}}]}');
    const m = loadSweepFolder(bad).model();
    assert.deepEqual(m.rows.map((r) => r.configId), ['ok']);
    assert.equal(m.info.name, 'bad', 'no name in the manifest: the folder name');
  });

  it('maps recorded statuses and picks runs as documented', () => {
    assert.deepEqual((['running', 'finished', 'stopped', 'failed', 'killed'] as const).map(rowStatus), ['running', 'finished', 'stopped', 'failed', 'failed']);
    const rec = (runId: string, status: RunRecord['status']): RunRecord => ({ runId, status, name: 'n', startedAt: '', pid: 1, runDir: `/r/${runId}` });
    assert.equal(chooseRun([rec('new', 'failed'), rec('old', 'finished')])?.runId, 'old');
    assert.equal(chooseRun([rec('new', 'failed'), rec('old', 'stopped')])?.runId, 'new');
    assert.equal(chooseRun([]), undefined);
  });
});

describe('listSweepFolders', () => {
  it('lists sweep-* folders with a manifest under each runs folder, newest first', () => {
    const a = join(root, 'list-a');
    const b = join(root, 'list-b');
    writeSweepFolder(join(a, 'sweep-one'), { name: 'one', runs: [{ id: 'x', point: {} }, { id: 'y', point: {} }] }, []);
    writeSweepFolder(join(b, 'sweep-two'), { name: 'two', runs: [{ id: 'x', point: {} }] }, []);
    fs.mkdirSync(join(a, 'sweep-empty')); // no manifest: not a sweep
    fs.mkdirSync(join(a, 'plain-run'));
    fs.writeFileSync(join(b, 'sweep-broken'), ''); // a file, not a folder
    const old = new Date('2026-01-01T00:00:00Z');
    fs.utimesSync(join(a, 'sweep-one', 'sweep.json'), old, old);
    const got = listSweepFolders([a, b, join(root, 'missing'), a]);
    assert.deepEqual(got.map((f) => [f.name, f.planned, f.dir]), [
      ['two', 1, join(b, 'sweep-two')],
      ['one', 2, join(a, 'sweep-one')],
    ]);
    assert.deepEqual(listSweepFolders([]), []);
  });
});
