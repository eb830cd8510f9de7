/**
 * The dashboard's ‖g‖ series under a raw-norm cadence (engine.raw_l1_every / raw_l2_every, the
 * net's `rawEvery` in `ready`): steps that do not carry the raw norms are no point at all, so the
 * line goes through the steps that do; a NaN on a carrying step stays a gap (a divergence).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DashboardState } from '../../src/extension/dashboard/state';
import type { StepMessage } from '../../src/shared/protocol';
import { ready, step } from '../webview/fixtures';
import { at } from '../../src/shared/checked';

/** A step as the trainer sends it on a step that skipped the raw norms: g1 / g2 and the layers' raw sums NaN. */
function skipped(m: StepMessage, l1: boolean, l2: boolean): StepMessage {
  const x = m.metrics;
  return {
    type: 'step',
    metrics: {
      ...x,
      g1: l1 ? x.g1 : NaN,
      g2: l2 ? x.g2 : NaN,
      layers: x.layers.map((l) => ({ ...l, raw: { l1: l1 ? l.raw.l1 : NaN, l2: l2 ? l.raw.l2 : NaN } })),
    },
  };
}

function seriesOf(state: DashboardState, runId: string, net: 'sparse' | 'dense') {
  const run = state.snapshot().runs.find((r) => r.meta.runId === runId);
  const n = run?.nets.find((x) => x.net === net);
  assert.ok(n, `${net} net of ${runId}`);
  return n.series;
}

test('a sparse net with raw norms every 10th step: ‖g‖ drawn through steps 10, 20, …; the dense twin every step', () => {
  const state = new DashboardState({ maxPoints: 2000 });
  state.addRun({ runId: 'r', title: 't', status: 'running' });
  const r = ready('r');
  r.nets[0] = { ...at(r.nets, 0), rawEvery: { l1: 10, l2: 10 } };
  r.nets[1] = { ...at(r.nets, 1), rawEvery: { l1: 1, l2: 1 } };
  state.apply('r', r);
  for (let s = 1; s <= 45; s++) {
    state.apply('r', skipped(step('sparse', s, true), s % 10 === 0, s % 10 === 0));
    state.apply('r', step('dense', s, true));
  }
  const sp = seriesOf(state, 'r', 'sparse');
  assert.deepEqual(sp.g1.x, [10, 20, 30, 40]);
  assert.deepEqual(sp.g2.x, [10, 20, 30, 40]);
  assert.ok(sp.g1.y.every((v) => v !== null && v > 0), `no gap and no zero: ${JSON.stringify(sp.g1.y)}`);
  // The masked norms (EGF) are on every step.
  assert.equal(sp.egf1.x.length, 45);
  const de = seriesOf(state, 'r', 'dense');
  assert.equal(de.g1.x.length, 45);
  assert.ok(de.g1.y.every((v) => v !== null));
});

test('L1 and L2 on different cadences; a NaN on a carrying step is still a gap', () => {
  const state = new DashboardState();
  state.addRun({ runId: 'q', title: 't', status: 'running' });
  const r = ready('q', ['sparse']);
  r.nets[0] = { ...at(r.nets, 0), rawEvery: { l1: 4, l2: 2 } };
  state.apply('q', r);
  for (let s = 1; s <= 12; s++) {
    const m = skipped(step('sparse', s, true), s % 4 === 0, s % 2 === 0);
    if (s === 8) m.metrics.g1 = NaN; // diverged on a step that carries ‖g‖₁
    state.apply('q', m);
  }
  const sp = seriesOf(state, 'q', 'sparse');
  assert.deepEqual(sp.g1.x, [4, 8, 12]);
  assert.equal(sp.g1.y[1], null, 'the NaN at step 8 is kept as a gap');
  assert.ok(sp.g1.y[0] !== null && sp.g1.y[2] !== null);
  assert.deepEqual(sp.g2.x, [2, 4, 6, 8, 10, 12]);
});

test('a run recorded before rawEvery existed (absent = every step): skipped steps stay gaps, as they were', () => {
  const state = new DashboardState();
  state.addRun({ runId: 'old', title: 't', status: 'finished' });
  state.apply('old', ready('old', ['sparse']));
  for (let s = 1; s <= 6; s++) state.apply('old', skipped(step('sparse', s, true), s % 3 === 0, true));
  const sp = seriesOf(state, 'old', 'sparse');
  assert.deepEqual(sp.g1.x, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(sp.g1.y.map((v) => v === null), [true, true, false, true, true, false]);
});
