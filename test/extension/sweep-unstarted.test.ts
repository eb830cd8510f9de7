/**
 * A local sweep cancelled mid-task: every row says what became of its configuration. The running
 * one ends `stopped` with its run's reason; the ones that never started stay `pending` (a later Run
 * Sweep runs them) and say why they did not start (`unstarted`, sweep-state.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SweepState } from '../../src/extension/dashboard/sweep-state';
import { at } from '../../src/shared/checked';

const PLAN = [
  { id: 'a', point: { 'training.seed': 0 } },
  { id: 'b', point: { 'training.seed': 1 } },
  { id: 'c', point: { 'training.seed': 2 } },
];

test('cancelled mid-task: finished, stopped with its reason, pending with why it did not start', () => {
  const s = new SweepState({ sweepId: '/s', name: 's', status: 'running' }, PLAN);
  s.apply({ type: 'start', id: 'a', point: at(PLAN, 0).point });
  s.apply({ type: 'end', id: 'a', status: 'finished' });
  s.apply({ type: 'start', id: 'b', point: at(PLAN, 1).point });
  s.apply({ type: 'progress', id: 'b', step: 3, totalSteps: 10 });
  s.apply({ type: 'end', id: 'b', status: 'stopped', error: 'stopped by request at step 4: asked by the sweep was cancelled' });
  const why = 'not started: the sweep was cancelled (Cancel in VS Code); Run Sweep again runs it';
  for (const p of PLAN) s.apply({ type: 'unstarted', id: p.id, reason: why });
  const rows = s.model().rows;
  assert.deepEqual(rows.map((r) => [r.configId, r.status, r.message]), [
    ['a', 'finished', undefined],
    ['b', 'stopped', 'stopped by request at step 4: asked by the sweep was cancelled'],
    ['c', 'pending', why],
  ]);
  assert.deepEqual(s.apply({ type: 'unstarted', id: 'a', reason: why }), [], 'a row that ran is not touched');
  assert.deepEqual(s.apply({ type: 'unstarted', id: 'zz', reason: why }), [], 'an unknown id changes nothing');
});
