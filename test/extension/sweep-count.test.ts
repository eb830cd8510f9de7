/** The Runs view counts a sweep's configurations, as the sweep view does, not its run folders. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countSweepConfigs } from '../../src/extension/sweep-count';

test('pending configurations count in the total; a re-run configuration counts once', () => {
  const runs = [
    { runId: 'r1', configId: 'c1', status: 'finished' as const },
    { runId: 'r2', configId: 'c2', status: 'stopped' as const },
    { runId: 'r3', configId: 'c1', status: 'failed' as const },
  ];
  // The case of issue 23: 2 run folders of a 4-configuration sweep, 1 finished → "1/4", not "1/2".
  assert.deepEqual(countSweepConfigs(runs.slice(0, 2), ['c1', 'c2', 'c3', 'c4']), { finished: 1, total: 4 });
  assert.deepEqual(countSweepConfigs(runs, ['c1', 'c2', 'c3', 'c4']), { finished: 1, total: 4 });
  // Without a manifest the configurations with a folder are all that is known.
  assert.deepEqual(countSweepConfigs(runs), { finished: 1, total: 2 });
  // Diverged trained to the end: finished as a configuration.
  assert.deepEqual(countSweepConfigs([{ runId: 'r9', configId: 'c9', status: 'diverged' }], ['c9']), { finished: 1, total: 1 });
});
