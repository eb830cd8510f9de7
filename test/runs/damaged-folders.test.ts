/**
 * Issue 18, row 5 for lists: a damaged run folder is listed as corrupt with the reason (CLI `runs`,
 * the Runs view, Open Past Run all list through `listPastRuns`), never dropped, never fatal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listPastRuns } from '../../src/runs/folders';
import { RunWriter, readRun } from '../../src/runs/store';
import type { ExperimentConfig } from '../../src/shared/experiment';
import { MAX_RUN_JSON_BYTES } from '../../src/shared/bounded-read';
import { cliPath, tmpDir } from '../trainer/helpers';

const config = { name: 'listed' } as unknown as ExperimentConfig;

function finished(w: RunWriter): void {
  w.finish({ runId: w.runId, runDir: w.runDir, backend: 'cpu', finished: true, stopped: false, nets: [], alerts: [], startedAt: 'a', endedAt: 'b' });
}

test('damaged folders are listed corrupt with the reason; the good run is listed as it is', () => {
  const dir = tmpDir('damaged-list');
  try {
    const good = RunWriter.create(dir, config);
    finished(good);
    // No run.json, but the other files of a run.
    const noHeader = RunWriter.create(dir, config);
    finished(noHeader);
    fs.rmSync(path.join(noHeader.runDir, 'run.json'));
    // A summary.json far past the bound (a sparse file: cheap), never read whole.
    const huge = RunWriter.create(dir, config);
    huge.close();
    const fd = fs.openSync(path.join(huge.runDir, 'summary.json'), 'w');
    fs.ftruncateSync(fd, 3 * 1024 ** 3);
    fs.closeSync(fd);
    // A summary cut mid-write.
    const cut = RunWriter.create(dir, config);
    cut.close();
    fs.writeFileSync(path.join(cut.runDir, 'summary.json'), '{"finished": tr');
    // A folder that is not a run at all stays out of the list.
    fs.mkdirSync(path.join(dir, 'notes'));

    const byDir = new Map(listPastRuns([dir]).map((r) => [r.runDir, r]));
    assert.equal(byDir.size, 4);
    assert.equal(byDir.get(good.runDir)?.status, 'finished');
    assert.deepEqual([byDir.get(noHeader.runDir)?.status, byDir.get(noHeader.runDir)?.reason], ['corrupt', 'run.json is missing (the folder has config.json, metrics.jsonl, summary.json)']);
    assert.equal(byDir.get(huge.runDir)?.status, 'corrupt');
    assert.equal(MAX_RUN_JSON_BYTES, 16 * 1024 * 1024);
    assert.equal(byDir.get(huge.runDir)?.reason, 'summary.json is 3.2 GB, more than the 16.8 MB a run file may have: not read');
    assert.equal(byDir.get(cut.runDir)?.status, 'corrupt');
    assert.match(byDir.get(cut.runDir)?.reason ?? '', /^summary\.json is cut or not JSON/);
    assert.equal(readRun(path.join(dir, 'notes')), undefined);

    const r = spawnSync(process.execPath, [cliPath, 'runs', dir], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.split('\n');
    for (const [w, note] of [[noHeader, 'run.json is missing'], [huge, 'summary.json is 3.2 GB, more than the 16.8 MB'], [cut, 'summary.json is cut or not JSON']] as const) {
      const row = rows.find((l) => l.includes(w.runId));
      assert.ok(row, `${w.runId} listed`);
      assert.match(row, /corrupt/);
      assert.ok(row.includes(note), row);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
