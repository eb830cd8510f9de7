/** Claims (src/runs/claims.ts): exclusive, released, stale takeover logged. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { claimState, tryClaim } from '../../src/runs/claims';

const dir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-claims-'));

test('a claim is exclusive until released; the next claimant gets the next attempt', () => {
  const d = dir();
  const a = tryClaim(d, 'cfg1', 'local a');
  assert.ok(a);
  assert.equal(a.info.attempt, 1);
  assert.equal(tryClaim(d, 'cfg1', 'local b'), undefined, 'held: a second claimant is refused');
  const st = claimState(d, 'cfg1');
  assert.equal(st.kind, 'held');
  assert.equal(st.kind === 'held' ? st.claim?.holder : '', 'local a');
  a.release();
  assert.equal(claimState(d, 'cfg1').kind, 'released');
  const b = tryClaim(d, 'cfg1', 'local b');
  assert.equal(b?.info.attempt, 2);
  assert.equal(b?.tookOver, undefined, 'a released claim is not a takeover');
  b?.release();
});

test('a stale claim (old heartbeat) is taken over once, and the takeover is logged', () => {
  const d = dir();
  const a = tryClaim(d, 'cfg', 'slurm 7_3');
  assert.ok(a);
  const old = new Date(Date.now() - 60 * 60_000);
  fs.utimesSync(a.file, old, old);
  assert.equal(claimState(d, 'cfg').kind, 'stale');
  const logged: string[] = [];
  const b = tryClaim(d, 'cfg', 'local b', (m) => logged.push(m));
  assert.ok(b);
  assert.equal(b.info.attempt, 2);
  assert.equal(b.tookOver?.claim?.holder, 'slurm 7_3');
  assert.match(logged[0] ?? '', /took over the stale claim of slurm 7_3 on .* no heartbeat for 3600 s/);
  assert.match(fs.readFileSync(path.join(d, 'claims', 'takeovers.log'), 'utf8'), /cfg attempt 2 by local b .* took over attempt 1/);
  // A second taker racing on the same stale attempt loses: attempt 2 exists.
  assert.equal(tryClaim(d, 'cfg', 'local c'), undefined);
  // The heartbeat keeps a claim held.
  fs.utimesSync(b.file, old, old);
  b.beat();
  assert.equal(claimState(d, 'cfg').kind, 'held');
  b.release();
});

test('claim ids cannot escape the claims folder', () => {
  assert.throws(() => tryClaim(dir(), '../x', 'h'), /bad configuration id/);
});
