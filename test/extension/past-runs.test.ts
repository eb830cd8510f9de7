import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunWriter } from '../../src/runs/store';
import { listPastRuns, summaryEgf, readRunConfig } from '../../src/extension/runs/past-runs';
import { parseExperiment } from '../../src/config/parse';
import type { RunSummary } from '../../src/shared/protocol';

function config(name: string) {
  const r = parseExperiment(`name: ${name}\n`, '/tmp/x.gradflow.yaml');
  assert.ok(r.config);
  return r.config;
}

function summary(runId: string, runDir: string, egf2: number[]): RunSummary {
  const zero = { loss: 0, accuracy: 0 };
  return {
    runId,
    runDir,
    backend: 'cpu',
    finished: true,
    stopped: false,
    nets: [
      {
        net: 'sparse',
        steps: 1,
        epochs: 1,
        final: { train: zero, validation: zero, test: zero },
        flowAverage: { egf1: 0, egf2: egf2.reduce((a, b) => a + b, 0) / egf2.length, g1: 0, g2: 0 },
        flowPoints: egf2.map((v, index) => ({ net: 'sparse', epoch: index, index, egf1: 0, egf2: v, g1: 0, g2: 0 })),
        layers: [],
        msPerStep: 1,
      },
    ],
    alerts: [],
    startedAt: '2026-01-01T00:00:00Z',
    endedAt: '2026-01-01T00:01:00Z',
  };
}

test('runs directly in a runs folder and in its sweep-* folders, each once, newest first', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-past-'));
  try {
    const a = RunWriter.create(dir, config('alpha'));
    a.finish(summary(a.runId, a.runDir, [1, 2, 4]));
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
  const s = summary('r', '/d', [1, 2, 3]);
  assert.deepEqual(summaryEgf(s), { average: 2, points: [1, 2, 3] });
  assert.deepEqual(summaryEgf(undefined), { points: [] });
});
