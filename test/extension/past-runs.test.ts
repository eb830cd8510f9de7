import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunWriter } from '../../src/runs/store';
import { listPastRuns, summaryEgf, readRunConfig } from '../../src/extension/runs/past-runs';
import { parseExperiment } from '../../src/config/parse';
import { finishedSummary } from '../helpers/run-summary';
import { tempFolder } from '../tmp';

function config(name: string) {
  const r = parseExperiment(`name: ${name}\n`, '/tmp/x.gradflow.yaml');
  assert.ok(r.config);
  return r.config;
}


test('runs directly in a runs folder and in its sweep-* folders, each once, newest first', async () => {
  const dir = tempFolder('gf-past-');
  try {
    const a = RunWriter.create(dir, config('alpha'));
    a.finish(finishedSummary(a.runId, a.runDir, [1, 2, 4]));
    await new Promise((r) => setTimeout(r, 1100)); // run ids and start times have 1 s resolution
    const b = RunWriter.create(path.join(dir, 'sweep-grid'), config('beta'));
    b.close(); // no summary, and its pid (ours) is alive: still running
    const runs = listPastRuns([dir, dir]);
    assert.deepEqual(runs.map((r) => [r.name, r.sweep, r.status]), [
      ['beta', 'grid', 'running'],
      ['alpha', undefined, 'finished'],
    ]);
    assert.equal(readRunConfig(a.runDir)?.name, 'alpha');
    assert.equal(readRunConfig(path.join(dir, 'nope')), undefined);
    assert.deepEqual(listPastRuns([path.join(dir, 'missing')]), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('EGF from a summary', () => {
  const s = finishedSummary('r', '/d', [1, 2, 3]);
  assert.deepEqual(summaryEgf(s), { average: 2, points: [1, 2, 3] });
  assert.deepEqual(summaryEgf(undefined), { points: [] });
});
