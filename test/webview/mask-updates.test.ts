/**
 * Mask updates (dynamic sparse training) on the dashboard, from a real run: test/fixtures/webview/
 * dyn-run was recorded with `gradflow run test/fixtures/webview/dyn.gradflow.yaml` (SNIP, global
 * scope, RigL every 4 steps until 75 % of 27 steps: updates at steps 4, 8, 12, 16, 20).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DashboardState } from '../../src/extension/dashboard/state';
import { loadIntoDashboard } from '../../src/extension/runs/past-runs';
import { readMetrics, readRun } from '../../src/runs/store';
import { maskDrift, maskUpdateSteps } from '../../src/shared/webview/mask-drift';
import { emptyModel } from '../../src/shared/webview-protocol';
import { init, pageApply } from './fixtures';
import { at } from '../../src/shared/checked';

const RUN = path.resolve(__dirname, '../../../test/fixtures/webview/dyn-run');

interface RawUpdate {
  type: 'mask-update';
  update: { net: string; step: number; epoch: number; method: string; fraction: number; layers: { layer: number; dropped: number; grown: number; regrown: number; active: number; overlap: number }[] };
}

/** The mask-update lines of the fixture, read as plain JSON (not through the code under test). */
function rawUpdates(): RawUpdate['update'][] {
  return fs
    .readFileSync(path.join(RUN, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"mask-update"'))
    .map((l) => (JSON.parse(l) as RawUpdate).update);
}

describe('mask updates on the dashboard', () => {
  const record = readRun(RUN);
  assert.ok(record);

  it('live: every update reaches the page in order, and the page equals a replay', () => {
    const state = new DashboardState();
    let page = pageApply(emptyModel(), [init(state)]);
    let k = 0;
    for (const m of readMetrics(RUN)) {
      state.apply(record.runId, m);
      if (++k % 7 === 0) page = pageApply(page, state.drainUpdates());
    }
    page = pageApply(page, state.drainUpdates());
    assert.deepEqual(page, pageApply(emptyModel(), [init(state)]));
    const sparse = at(page.runs, 0).nets.find((n) => n.net === 'sparse');
    const dense = at(page.runs, 0).nets.find((n) => n.net === 'dense');
    assert.ok(sparse && dense);
    assert.deepEqual(dense.maskUpdates, [], 'the dense twin has no masks to move');
    const raw = rawUpdates();
    assert.deepEqual(raw.map((u) => u.step), [4, 8, 12, 16, 20]);
    assert.ok(raw.every((u) => u.net === 'sparse'));
    assert.deepEqual(sparse.maskUpdates, raw.map((u) => ({ step: u.step, epoch: u.epoch, method: u.method, fraction: u.fraction, layers: u.layers })));
    assert.deepEqual(maskUpdateSteps(at(page.runs, 0).nets), [4, 8, 12, 16, 20]);
  });

  it('past run: the same updates, read back from the folder', () => {
    const state = new DashboardState();
    loadIntoDashboard(state, record);
    const sparse = at(pageApply(emptyModel(), [init(state)]).runs, 0).nets.find((n) => n.net === 'sparse');
    assert.deepEqual(sparse?.maskUpdates.map((u) => u.step), [4, 8, 12, 16, 20]);
  });

  it('mask drift per layer: 1 − overlap from 0 at step 0, with each update\'s counts', () => {
    const state = new DashboardState();
    for (const m of readMetrics(RUN)) state.apply(record.runId, m);
    const sparse = at(state.snapshot().runs, 0).nets.find((n) => n.net === 'sparse');
    assert.ok(sparse);
    const drift = maskDrift(sparse.maskUpdates);
    assert.deepEqual(drift.map((d) => d.layer), [0, 1, 2]);
    // By hand from the fixture's first update: layer 0 keeps 59 of its 63 initial active weights
    // (overlap 59/63), so 4/63 moved; 17 dropped, 17 grown, 13 of them the dropped ones regrown.
    const first = at(at(drift, 0).points, 1);
    assert.equal(first.step, 4);
    assert.ok(Math.abs((first.moved ?? NaN) - 4 / 63) < 1e-12, String(first.moved));
    assert.deepEqual([first.dropped, first.grown, first.regrown, first.active], [17, 17, 13, 63]);
    assert.deepEqual(at(drift, 0).points[0], { step: 0, moved: 0, dropped: 0, grown: 0, regrown: 0, active: 63 });
    // Layer 1 (67 active) at step 8: overlap 51/67.
    assert.ok(Math.abs((at(at(drift, 1).points, 2).moved ?? NaN) - 16 / 67) < 1e-12);
    for (const d of drift) assert.equal(d.points.length, 6);
  });

  it('CSV export of the updates: one row per update and layer, full precision', () => {
    const state = new DashboardState();
    for (const m of readMetrics(RUN)) state.apply(record.runId, m);
    const lines = state.toCsv(record.runId, 'masks').trimEnd().split('\n');
    assert.equal(lines[0], 'net,step,epoch,method,fraction,layer,name,dropped,grown,regrown,active,overlap');
    assert.equal(lines.length, 1 + 5 * 3);
    const u = at(rawUpdates(), 0);
    assert.equal(lines[1], `sparse,4,0,rigl,${u.fraction},0,dense1,17,17,13,63,${at(u.layers, 0).overlap}`);
  });
});
