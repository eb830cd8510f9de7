/**
 * `gradflow supervise` (src/cli/supervise.ts), the detached host of a run started from VS Code,
 * driven as the extension drives it (dist/cli.js, built by `pretest`): a run outlives its host, a
 * stop request in the run folder stops it with its reason, and only a run whose trainer really died
 * is `killed`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startRun, type RunSession } from '../../src/runs/session';
import { HEARTBEAT_MS, readRun, requestStop, type RunRecord } from '../../src/runs/store';
import { UNRECORDED_STOP } from '../../src/runs/status';
import { PROTOCOL_VERSION, type TrainerToHost } from '../../src/shared/protocol';
import type { ExperimentConfig } from '../../src/shared/experiment';
import { cliPath, configOf, syntheticYaml, tmpDir } from '../trainer/helpers';
import { at } from '../../src/shared/checked';

/** Long enough to be stopped or killed mid-run (thousands of small steps), short when let finish. */
function config(runsDir: string, epochs: number): ExperimentConfig {
  return configOf(syntheticYaml({ runsDir, epochs, trainSize: 256 }));
}

function supervised(cfg: ExperimentConfig): { session: RunSession; messages: TrainerToHost[]; ready: Promise<{ runDir: string; pid: number }> } {
  const session = startRun({ trainerPath: cliPath, args: ['supervise'], detached: true, config: cfg });
  const messages: TrainerToHost[] = [];
  let resolveReady: (r: { runDir: string; pid: number }) => void = () => undefined;
  const ready = new Promise<{ runDir: string; pid: number }>((r) => (resolveReady = r));
  session.onMessage((m) => {
    messages.push(m);
    if (m.type === 'ready') {
      const header = JSON.parse(fs.readFileSync(path.join(m.runDir, 'run.json'), 'utf8')) as { pid: number };
      resolveReady({ runDir: m.runDir, pid: header.pid });
    }
  });
  return { session, messages, ready };
}

/** Polls the run folder until it is no longer running (the bound is generous: a loaded 2-core machine). */
async function folderEnds(runDir: string, boundMs = 120_000): Promise<RunRecord> {
  const until = Date.now() + boundMs;
  for (;;) {
    const r = readRun(runDir);
    if (r !== undefined && r.status !== 'running') return r;
    if (Date.now() > until) throw new Error(`${runDir} still ${r?.status ?? 'unreadable'} after ${boundMs} ms`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a supervised run relays the trainer protocol once, ends finished, and is its own process group', async () => {
  const runsDir = tmpDir('supervise');
  const { session, messages, ready } = supervised(config(runsDir, 1));
  const { runDir, pid } = await ready;
  const supervisorPid = session.handle.pid;
  assert.ok(supervisorPid !== undefined && pid !== supervisorPid, 'the trainer is a process of its own, under the supervisor');
  // Detached: the supervisor leads its own process group (a reload of the window does not reach it).
  const pgid = at(fs.readFileSync(`/proc/${supervisorPid}/stat`, 'utf8').split(') '), 1).split(' ')[2];
  assert.equal(Number(pgid), supervisorPid);
  const o = await session.ended;
  assert.equal(o.status, 'finished');
  assert.equal(o.exit.code, 0);
  assert.equal(messages.filter((m) => m.type === 'hello').length, 1, 'one hello (the supervisor’s), the trainer’s is not relayed');
  assert.equal(messages.filter((m) => m.type === 'done').length, 1);
  assert.equal(readRun(runDir)?.status, 'finished');
});

test('a stop request recorded in the run folder stops a supervised run: stopped, by whom, summary written', async () => {
  const runsDir = tmpDir('supervise');
  const { session, ready } = supervised(config(runsDir, 500));
  const { runDir } = await ready;
  // Another window (or this one after a reload) asks through the folder, not the channel.
  assert.equal(requestStop(runDir, { by: 'vscode' }), true);
  const o = await session.ended;
  assert.equal(o.status, 'stopped');
  assert.ok(fs.existsSync(path.join(runDir, 'summary.json')), 'the summary is written');
  const r = readRun(runDir);
  assert.equal(r?.status, 'stopped');
  assert.equal(r?.stoppedBy, 'Stop in VS Code');
  assert.match(r?.reason ?? '', /^stopped by request (at step \d+|after epoch \d+): asked by Stop in VS Code$/);
});

test("the host's stop (Stop in VS Code on the channel) is recorded in the folder too", async () => {
  const runsDir = tmpDir('supervise');
  const { session, ready } = supervised(config(runsDir, 500));
  const { runDir } = await ready;
  session.stop();
  const o = await session.ended;
  assert.equal(o.status, 'stopped');
  assert.equal(readRun(runDir)?.stoppedBy, 'Stop in VS Code');
});

test('SIGTERM to the supervisor stops the run cleanly and says so', async () => {
  const runsDir = tmpDir('supervise');
  const { session, ready } = supervised(config(runsDir, 500));
  const { runDir } = await ready;
  process.kill(session.handle.pid ?? 0, 'SIGTERM');
  const o = await session.ended;
  assert.equal(o.status, 'stopped');
  assert.equal(readRun(runDir)?.stoppedBy, 'SIGTERM');
});

test('killing the supervisor with its trainer (its process group) leaves the run killed: no summary, pid gone', async () => {
  const runsDir = tmpDir('supervise');
  const { session, ready } = supervised(config(runsDir, 500));
  const { runDir, pid } = await ready;
  process.kill(-(session.handle.pid ?? 0), 'SIGKILL');
  const o = await session.ended;
  assert.equal(o.status, 'killed', 'the host reads the supervisor’s death as killed');
  const r = await folderEnds(runDir);
  assert.equal(r.status, 'killed');
  assert.equal(alive(pid), false);
  assert.equal(fs.existsSync(path.join(runDir, 'summary.json')), false);
});

test('the supervisor killed alone: its trainer stops cleanly (stopped, no request recorded), nothing is lost', async () => {
  const runsDir = tmpDir('supervise');
  const { session, ready } = supervised(config(runsDir, 500));
  const { runDir } = await ready;
  process.kill(session.handle.pid ?? 0, 'SIGKILL');
  const r = await folderEnds(runDir);
  assert.equal(r.status, 'stopped');
  assert.match(r.reason ?? '', new RegExp(`: ${UNRECORDED_STOP}$`));
  assert.equal((await session.ended).status, 'killed', 'the host saw its supervisor killed');
});

/**
 * A host process (as the extension host) that starts the supervisor detached, waits for `ready`,
 * prints the run folder and dies at once without a word to it (SIGKILL, as a crashed host).
 */
async function runWithDyingHost(dir: string, cfg: ExperimentConfig): Promise<string> {
  const host = path.join(dir, 'host.js');
  fs.writeFileSync(
    host,
    `const { fork } = require('node:child_process');
const child = fork(${JSON.stringify(cliPath)}, ['supervise'], { detached: true, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
child.on('message', (m) => {
  if (m.type === 'hello') child.send({ type: 'start', protocolVersion: ${PROTOCOL_VERSION}, config: ${JSON.stringify(cfg)} });
  if (m.type === 'ready') { process.stdout.write(m.runDir + '\\n'); process.kill(process.pid, 'SIGKILL'); }
});
`,
  );
  const proc = spawn(process.execPath, [host], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => proc.on('close', (_code, sig) => resolve(sig)));
  assert.equal(signal, 'SIGKILL', 'the host died');
  const runDir = out.trim();
  assert.ok(fs.existsSync(path.join(runDir, 'run.json')), `the host printed the run folder: ${out}`);
  return runDir;
}

test('the run outlives its host: a host that dies mid-run leaves a run that finishes and writes its summary', async () => {
  const runsDir = tmpDir('supervise');
  const runDir = await runWithDyingHost(runsDir, config(runsDir, 12));
  assert.equal(readRun(runDir)?.status, 'running', 'the run goes on without its host');
  const r = await folderEnds(runDir);
  assert.equal(r.status, 'finished');
  assert.ok(fs.existsSync(path.join(runDir, 'summary.json')));
});

test('a run whose host died keeps its heartbeat and still obeys a stop request in its folder', async () => {
  const runsDir = tmpDir('supervise');
  const runDir = await runWithDyingHost(runsDir, config(runsDir, 5000));
  const born = fs.statSync(path.join(runDir, 'heartbeat')).mtimeMs;
  // The trainer refreshes the heartbeat every HEARTBEAT_MS: wait (bounded) until it has, hostless.
  const until = Date.now() + 20 * HEARTBEAT_MS;
  while (fs.statSync(path.join(runDir, 'heartbeat')).mtimeMs <= born) {
    assert.ok(Date.now() < until, 'the heartbeat was refreshed');
    assert.equal(readRun(runDir)?.status, 'running');
    await new Promise((res) => setTimeout(res, 200));
  }
  // A later window (reattached) asks it to stop through the folder.
  requestStop(runDir, { by: 'vscode' });
  const r = await folderEnds(runDir);
  assert.equal(r.status, 'stopped');
  assert.equal(r.stoppedBy, 'Stop in VS Code');
  assert.ok(fs.existsSync(path.join(runDir, 'summary.json')));
});

test('gradflow supervise refuses to run without a host channel', async () => {
  const proc = spawn(process.execPath, [cliPath, 'supervise'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  assert.equal(code, 2);
  assert.match(err, /started by the VS Code extension/);
});
