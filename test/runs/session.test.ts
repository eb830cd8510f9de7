/** Run sessions (src/runs/session.ts) and the trainer start-up deadline. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startRun } from '../../src/runs/session';
import type { ExperimentConfig } from '../../src/shared/experiment';
import { configOf, syntheticYaml, tmpDir, trainerPath } from '../trainer/helpers';

test('a trainer that sends nothing is killed at the start-up deadline and reported', async () => {
  const dir = tmpDir('session');
  // A "trainer" that hangs before saying hello (as one stuck in a recursive mkdir would).
  const hang = path.join(dir, 'hang.js');
  fs.writeFileSync(hang, 'setInterval(() => undefined, 1000);\n');
  const s = startRun({ trainerPath: hang, config: { name: 'x' } as unknown as ExperimentConfig, startupDeadlineMs: 1000 });
  const o = await s.ended;
  assert.equal(o.status, 'killed');
  assert.match(o.error ?? '', /the trainer sent nothing within 1 s of starting \(start-up deadline; GRADFLOW_STARTUP_TIMEOUT_S sets it\)/);
});

test('a session folds the trainer into progress and one status', async () => {
  const runsDir = tmpDir('session');
  const s = startRun({ trainerPath, config: configOf(syntheticYaml({ runsDir, epochs: 1 })) });
  let steps = 0;
  s.onMessage((m) => {
    if (m.type === 'step') steps++;
  });
  const o = await s.ended;
  assert.equal(o.status, 'finished');
  assert.ok(steps > 0 && s.step === s.totalSteps, `progress reached the end: ${s.step}/${s.totalSteps}`);
  assert.ok(o.runDir !== undefined && fs.existsSync(path.join(o.runDir, 'summary.json')));
  assert.deepEqual(o.diverged, []);
});
