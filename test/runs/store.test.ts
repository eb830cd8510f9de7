import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunWriter, listRuns, readMetrics, readMetricsLog, readRun, newRunId } from '../../src/runs/store';
import type { ExperimentConfig } from '../../src/shared/experiment';
import type { RunSummary } from '../../src/shared/protocol';
import { tempFolder } from '../tmp';

function tmp(): string {
  return tempFolder('gradflow-store-');
}

const config = { name: 'My Exp!' } as unknown as ExperimentConfig;

function summary(w: RunWriter, finished: boolean): RunSummary {
  return { runId: w.runId, runDir: w.runDir, backend: 'cpu', finished, stopped: !finished, nets: [], alerts: [], startedAt: 'a', endedAt: 'b' };
}

test('run ids are sortable by time and unique', () => {
  const d = new Date(Date.UTC(2026, 10, 26, 8, 5, 9));
  const a = newRunId('My Exp!', d);
  assert.match(a, /^20261126-080509-my-exp-[0-9a-f]{4}$/);
  const ids = new Set(Array.from({ length: 50 }, () => newRunId('x', d)));
  assert.ok(ids.size > 45, 'random suffix distinguishes runs started in the same second');
});

test('a run folder gets header, config, append-only log and summary; status finished', () => {
  const dir = tmp();
  const w = RunWriter.create(dir, config, { sourceFile: '/x/a.gradflow.yaml' });
  w.append({ type: 'log', level: 'info', message: 'one' });
  w.append({ type: 'log', level: 'info', message: 'two' });
  w.flush();
  assert.deepEqual(readMetrics(w.runDir).map((m) => (m.type === 'log' ? m.message : m.type)), ['one', 'two']);
  assert.equal(readRun(w.runDir)?.status, 'running', 'no summary and our own pid alive');
  w.finish(summary(w, true));
  const r = readRun(w.runDir);
  assert.equal(r?.status, 'finished');
  assert.equal(r?.sourceFile, '/x/a.gradflow.yaml');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(w.runDir, 'config.json'), 'utf8')), config);
  // Nothing is overwritten: a second summary is refused.
  assert.throws(() => fs.writeFileSync(path.join(w.runDir, 'summary.json'), '{}', { flag: 'wx' }));
});

test('two runs of the same experiment never share a folder', () => {
  const dir = tmp();
  const a = RunWriter.create(dir, config);
  const b = RunWriter.create(dir, config);
  assert.notEqual(a.runDir, b.runDir);
  a.close();
  b.close();
  assert.equal(listRuns(dir).length, 2);
});

test('unreadable metrics lines (a partial last line, damage in the middle) are skipped and counted', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"type":"log","level":"info","message":"a"}\n{"type":"st');
  assert.equal(readMetrics(dir).length, 1);
  fs.writeFileSync(
    path.join(dir, 'metrics.jsonl'),
    '{"type":"log","level":"info","message":"a"}\n{"ty\n[1,2]\n{"type":"nonsense"}\n{"type":"log","level":"info","message":"b"}\n',
  );
  const log = readMetricsLog(dir);
  assert.deepEqual(
    log.messages.map((m) => (m.type === 'log' ? m.message : m.type)),
    ['a', 'b'],
  );
  assert.equal(log.skipped, 3, 'a cut line, a JSON value that is not a message, an unknown message type');
  assert.equal(log.firstSkippedLine, 2);
});

function runFolder(files: Record<string, string>): string {
  const runDir = path.join(tmp(), 'r1');
  fs.mkdirSync(runDir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(runDir, name), text);
  return runDir;
}

const header = JSON.stringify({ runId: 'r1', name: 'x', startedAt: '2026-12-01T00:00:00.000Z', pid: 4194305 });

test('a cut or empty summary.json reads as corrupt with the reason, never killed', () => {
  const cut = readRun(runFolder({ 'run.json': header, 'summary.json': '{"runId":"r1","finished":tr' }));
  assert.equal(cut?.status, 'corrupt');
  assert.match(cut?.reason ?? '', /summary\.json is cut or not JSON/);
  const empty = readRun(runFolder({ 'run.json': header, 'summary.json': '' }));
  assert.equal(empty?.status, 'corrupt');
  assert.match(empty?.reason ?? '', /summary\.json is empty/);
});

test('wrong-typed fields are reported per run and the other runs still list', () => {
  const dir = tmp();
  const good = RunWriter.create(dir, config);
  good.finish(summary(good, true));
  fs.mkdirSync(path.join(dir, 'bad-header'));
  fs.writeFileSync(path.join(dir, 'bad-header', 'run.json'), JSON.stringify({ runId: 7, name: 'x', startedAt: 't', pid: 'one' }));
  fs.mkdirSync(path.join(dir, 'bad-summary'));
  fs.writeFileSync(path.join(dir, 'bad-summary', 'run.json'), header);
  fs.writeFileSync(path.join(dir, 'bad-summary', 'summary.json'), JSON.stringify({ finished: 'yes', stopped: false, nets: {} }));
  const runs = listRuns(dir);
  assert.equal(runs.length, 3);
  const byDir = new Map(runs.map((r) => [path.basename(r.runDir), r]));
  assert.equal(byDir.get(path.basename(good.runDir))?.status, 'finished');
  const h = byDir.get('bad-header');
  assert.equal(h?.status, 'corrupt');
  assert.equal(h?.runId, 'bad-header', 'named by its folder');
  assert.match(h?.reason ?? '', /run\.json runId is not a non-empty string.*run\.json pid is not a number/);
  const sm = byDir.get('bad-summary');
  assert.equal(sm?.status, 'corrupt');
  assert.match(sm?.reason ?? '', /summary\.json finished is not true\/false.*summary\.json nets is not a list/);
});

test('a finished run with a diverged net reads as diverged, naming the net', () => {
  const dir = tmp();
  const w = RunWriter.create(dir, config);
  const s = summary(w, true);
  s.nets = [
    { net: 'sparse', diverged: { step: 3, reason: 'NaN loss' } },
    { net: 'dense' },
  ] as unknown as RunSummary['nets'];
  w.finish(s);
  const r = readRun(w.runDir);
  assert.equal(r?.status, 'diverged');
  assert.deepEqual(r?.diverged, ['sparse']);
});

test('running is judged by the heartbeat: a stale heartbeat is killed even when the pid is alive', () => {
  const dir = tmp();
  const w = RunWriter.create(dir, config);
  assert.equal(readRun(w.runDir)?.status, 'running', 'fresh heartbeat, our pid');
  const old = new Date(Date.now() - 10 * 60_000);
  fs.utimesSync(path.join(w.runDir, 'heartbeat'), old, old);
  assert.equal(readRun(w.runDir)?.status, 'killed', 'our pid lives (a reused pid would too) but the heartbeat is 10 min old');
  w.beat();
  assert.equal(readRun(w.runDir)?.status, 'running');
  w.close();
});

test('a run whose process is gone without a summary reads as killed', () => {
  const dir = tmp();
  const runDir = path.join(dir, 'r1');
  fs.mkdirSync(runDir);
  // pid 2^22+1 is above Linux's pid_max default range for this machine's containers; never alive.
  fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ runId: 'r1', name: 'x', startedAt: 't', pid: 4194305 }));
  fs.writeFileSync(path.join(runDir, 'metrics.jsonl'), '');
  assert.equal(readRun(runDir)?.status, 'killed');
});

test('a reader polling while another process ends runs never sees a half-written summary.json', async () => {
  // The window follower and the Runs view read run folders while trainers write them: an empty or
  // cut summary.json, seen between its creation and its write, would read as corrupt. A child
  // process creates and ends 150 runs one after another; this process reads each as fast as it can.
  const dir = tmp();
  const store = path.join(__dirname, '../../src/runs/store.js');
  const script = `
    const { RunWriter } = require(${JSON.stringify(store)});
    const summary = (w) => ({ runId: w.runId, runDir: w.runDir, backend: 'cpu', finished: true, stopped: false,
      nets: Array.from({ length: 40 }, (_, i) => ({ net: 'n' + i, finalLoss: 0.5, diverged: null, note: 'x'.repeat(5000) })),
      alerts: [], startedAt: 'a', endedAt: 'b' });
    for (let i = 0; i < 150; i++) {
      const w = RunWriter.create(process.argv[1], { name: 'race' });
      w.finish(summary(w));
    }`;
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', script, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let done = false;
  void exited.then(() => (done = true));
  const seen = new Map<string, string>();
  let reads = 0;
  while (!done) {
    for (const name of fs.readdirSync(dir)) {
      const r = readRun(path.join(dir, name));
      reads++;
      if (r !== undefined && r.status === 'corrupt') seen.set(name, r.reason ?? '');
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(await exited, 0, stderr);
  assert.deepEqual([...seen], [], `runs read as corrupt mid-write (${reads} reads)`);
  const names = fs.readdirSync(dir);
  assert.equal(names.length, 150);
  for (const name of names) {
    assert.equal(readRun(path.join(dir, name))?.status, 'finished');
    assert.deepEqual(fs.readdirSync(path.join(dir, name)).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
  }
});
