/** Claims (src/runs/claims.ts): exclusive, released, stale takeover logged, dead holders of this host taken over at once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { claimStaleMs, claimState, holderLiveness, MAX_CLAIM_BYTES, processStartTicks, tryClaim, type ClaimInfo } from '../../src/runs/claims';
import { finishedRuns, readManifest } from '../../src/runs/sweep';
import { cliPath } from '../trainer/helpers';
import { tempFolder } from '../tmp';

const dir = (): string => tempFolder('gradflow-claims-');

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

test('a claim records this process: host, pid, boot, pid namespace and start time (Linux /proc)', () => {
  const d = dir();
  const a = tryClaim(d, 'me', 'local me');
  assert.ok(a);
  const saved = JSON.parse(fs.readFileSync(a.file, 'utf8')) as ClaimInfo;
  assert.equal(saved.host, os.hostname());
  assert.equal(saved.pid, process.pid);
  if (fs.existsSync('/proc/self/stat')) {
    assert.equal(saved.bootId, fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    assert.equal(saved.pidNs, fs.readlinkSync('/proc/self/ns/pid'));
    // Field 22 of /proc/self/stat, read here independently (the command name has no spaces for node).
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    assert.equal(saved.pidStart, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]));
    assert.equal(processStartTicks(process.pid), saved.pidStart);
  }
  assert.equal(holderLiveness(saved), 'alive');
  a.release();
});

/** Rewrite a claim file's recorded holder (what another process would have written there). */
function rewrite(file: string, change: (c: ClaimInfo) => void): void {
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as ClaimInfo;
  change(c);
  fs.writeFileSync(file, JSON.stringify(c) + '\n');
}

test('the claim of a process of this host that no longer exists is taken over at once; a fresh one of another host is not', async () => {
  const d = dir();
  // A real process that exits: its pid is then free (or, rarely, reused, which the start time catches).
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid);
  const childStart = processStartTicks(pid);
  const a = tryClaim(d, 'gone', 'local child');
  assert.ok(a);
  a.release = () => undefined; // the holder dies without releasing
  rewrite(a.file, (c) => {
    c.pid = pid;
    if (childStart !== undefined) c.pidStart = childStart;
  });
  assert.equal(claimState(d, 'gone').kind, 'held', 'held while the holder runs, heartbeat fresh');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  const st = claimState(d, 'gone');
  assert.equal(st.kind, 'stale');
  assert.equal(st.kind === 'stale' ? st.reason : '', 'gone');
  assert.ok(st.kind === 'stale' && st.heartbeatAgeMs < claimStaleMs(), 'taken over long before the heartbeat limit');
  const logged: string[] = [];
  const b = tryClaim(d, 'gone', 'local resumed', (m) => logged.push(m));
  assert.ok(b, 'taken over at once');
  assert.equal(b.tookOver?.reason, 'gone');
  assert.match(logged[0] ?? '', new RegExp(`took over the dead claim of local child .*: its process \\(pid ${pid}\\) no longer exists on this host`));
  assert.match(fs.readFileSync(path.join(d, 'claims', 'takeovers.log'), 'utf8'), /gone attempt 2 by local resumed .* no longer exists/);
  b.release();

  // Another host's claim with a fresh heartbeat: only the heartbeat can tell, so it is held.
  const c = tryClaim(d, 'remote', 'slurm 9_1');
  assert.ok(c);
  rewrite(c.file, (x) => {
    x.host = `not-${os.hostname()}`;
    x.pid = pid;
  });
  assert.equal(claimState(d, 'remote').kind, 'held');
  assert.equal(tryClaim(d, 'remote', 'local x'), undefined);
});

test('a reused pid (same pid, another start time) or an earlier boot does not keep a claim held', () => {
  const d = dir();
  const a = tryClaim(d, 'reused', 'local old');
  assert.ok(a);
  const start = processStartTicks(process.pid);
  if (start === undefined) return; // no /proc: nothing to compare
  // Our own pid, but recorded with another start time: the process that claimed is not us.
  rewrite(a.file, (c) => (c.pidStart = start + 1));
  const st = claimState(d, 'reused');
  assert.equal(st.kind === 'stale' ? st.reason : st.kind, 'gone');
  const b = tryClaim(d, 'boot', 'local old');
  assert.ok(b);
  rewrite(b.file, (c) => (c.bootId = '00000000-0000-0000-0000-000000000000'));
  assert.equal(holderLiveness(JSON.parse(fs.readFileSync(b.file, 'utf8')) as ClaimInfo), 'gone');
  // Another pid namespace (a container): its pids are not ours to check.
  const c = tryClaim(d, 'ns', 'local old');
  assert.ok(c);
  rewrite(c.file, (x) => (x.pidNs = 'pid:[1]'));
  assert.equal(claimState(d, 'ns').kind, 'held');
});

test('a local sweep killed with SIGKILL resumes at once and finishes all its configurations', { timeout: 240_000 }, async () => {
  const d = dir();
  const file = path.join(d, 'resume.gradflow.yaml');
  fs.writeFileSync(
    file,
    [
      'name: resume-test',
      'dataset:',
      '  name: synthetic',
      '  synthetic: { features: 8, classes: 2, train_size: 2048, test_size: 64 }',
      'model: { hidden_layers: 1, width: 16 }',
      'sparsity: { method: random, dense_width: 4 }',
      'training: { optimizer: adam, learning_rate: 0.01, epochs: 6, batch_size: 16 }',
      'run: { backend: cpu, runs_dir: runs }',
      'sweep:',
      '  seeds: [0, 1, 2]',
      '  grid:',
      '    training.optimizer: [sgd, adam]',
      '',
    ].join('\n'),
  );
  const sweepDir = path.join(d, 'runs', 'sweep-resume-test');
  const first = spawn(process.execPath, [cliPath, 'sweep', file, '--workers', '2'], { cwd: d, stdio: 'ignore' });
  const exited = new Promise((r) => first.once('exit', r));
  // Wait until both workers hold a claim and train (the trainer has written its run folder).
  const held = (): number =>
    fs.existsSync(path.join(sweepDir, 'claims'))
      ? fs.readdirSync(path.join(sweepDir, 'claims')).filter((id) => id !== 'takeovers.log' && claimState(sweepDir, id).kind === 'held').length
      : 0;
  for (let i = 0; i < 600 && held() < 2; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(held(), 2, 'two configurations claimed by the first sweep');
  first.kill('SIGKILL');
  await exited;
  // Resumed at once, well inside the 120 s heartbeat limit.
  const second = spawnSync(process.execPath, [cliPath, 'sweep', file, '--workers', '2'], { cwd: d, encoding: 'utf8', timeout: 200_000 });
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.doesNotMatch(second.stdout, /left to another scheduler/);
  assert.match(second.stderr, /took over the dead claim of local .*no longer exists on this host/);
  const ids = readManifest(sweepDir).runs.map((r) => r.id);
  assert.equal(ids.length, 6);
  const done = finishedRuns(sweepDir);
  assert.deepEqual(ids.filter((id) => !done.has(id)), [], 'every configuration has a finished run');
});

test('an over-size claim file is not read: it counts as a claim without info, its heartbeat decides', () => {
  const d = dir();
  const a = tryClaim(d, 'big', 'local a');
  assert.ok(a);
  // A planted 1 MiB claim, valid JSON (padded with spaces): refused from its size, never parsed,
  // so its holder is not believed.
  fs.writeFileSync(a.file, '{"host":"x","pid":1,"holder":"planted","token":"t"}' + ' '.repeat(1024 * 1024));
  assert.ok(fs.statSync(a.file).size > MAX_CLAIM_BYTES);
  const fresh = claimState(d, 'big');
  assert.equal(fresh.kind, 'held'); // fresh heartbeat, unknown holder: held
  assert.equal(fresh.kind === 'held' ? fresh.claim : 'x', undefined);
  const old = new Date(Date.now() - 60 * 60_000);
  fs.utimesSync(a.file, old, old);
  const b = tryClaim(d, 'big', 'local b');
  assert.ok(b);
  assert.equal(b.tookOver?.claim, undefined);
  b.release();
});
