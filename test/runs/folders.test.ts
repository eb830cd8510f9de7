import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runsDirOf, shortRunId } from '../../src/runs/folders';
import { newRunId } from '../../src/runs/store';

test('shortRunId: the random suffix of a run id, for lists that show name and start time beside it', () => {
  assert.equal(shortRunId('20261126-081500-fmnist-scsdc-a1b2'), '#a1b2');
  const id = newRunId('Quick synthetic', new Date(Date.UTC(2026, 11, 1, 5, 43, 23)));
  assert.match(id, /^20261201-054323-quick-synthetic-[0-9a-f]{4}$/);
  assert.equal(shortRunId(id), `#${id.slice(-4)}`);
  // Any other shape is shown whole (hand-made folders, ids of other versions).
  assert.equal(shortRunId('my-run'), 'my-run');
  assert.equal(shortRunId('20261126-081500-run-a1b2c'), '20261126-081500-run-a1b2c');
});

test('runsDirOf: the runs folder a watched path belongs to', () => {
  assert.equal(runsDirOf('/ws/experiments/.gradflow'), '/ws/experiments/.gradflow/runs');
  assert.equal(runsDirOf('/ws/.gradflow/runs'), '/ws/.gradflow/runs');
  assert.equal(runsDirOf('/ws/.gradflow/runs/20261201-054323-quick-a1b2/run.json'), '/ws/.gradflow/runs');
  assert.equal(runsDirOf('/ws/e/.gradflow/runs/sweep-s/20261201-054323-s-a1b2/summary.json'), '/ws/e/.gradflow/runs');
  assert.equal(runsDirOf('/ws/experiments/quick.gradflow.yaml'), undefined);
  assert.equal(runsDirOf('/ws/.gradflowx/runs'), undefined);
});
