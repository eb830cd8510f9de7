/**
 * Cross-boundary contract: everything a real trainer run sends, once it has gone through the
 * extension's DashboardState, must pass the page's validators. (Each side's own tests use
 * hand-made messages; this one uses the trainer's actual output.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configOf, runTrainer, syntheticYaml, tmpDir } from './helpers';
import { DashboardState } from '../../src/extension/dashboard/state';
import { WEBVIEW_PROTOCOL_VERSION, isHostToPage } from '../../src/shared/webview-protocol';

test('a real run replayed through DashboardState yields only messages the page accepts', async () => {
  // 3 epochs (< 10): fractional flow-point epochs; monitoring.every 2: steps without norms (null measures).
  const yaml = syntheticYaml({ runsDir: tmpDir('runs'), epochs: 3 }).replace('monitoring: { every: 1', 'monitoring: { every: 2');
  const { messages, exit } = await runTrainer(configOf(yaml));
  assert.equal(exit.code, 0);
  const state = new DashboardState();
  state.addRun({ runId: 'r1', title: 'contract', status: 'running' });
  const updates: unknown[] = [];
  for (const m of messages) {
    state.apply('r1', m);
    updates.push(...state.drainUpdates());
  }
  assert.ok(messages.some((m) => m.type === 'flow' && !Number.isInteger(m.point.epoch)), 'the run has fractional flow epochs');
  assert.ok(updates.length > 0);
  updates.forEach((u, i) => assert.ok(isHostToPage(u), `incremental update ${i} rejected: ${JSON.stringify(u).slice(0, 300)}`));
  const init = { type: 'init', protocolVersion: WEBVIEW_PROTOCOL_VERSION, model: state.snapshot() };
  assert.ok(isHostToPage(init), 'the replay (init) message is rejected by the page');
});
