import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunWriter, listRuns, readMetrics, readRun, newRunId } from '../../src/runs/store';
import type { ExperimentConfig } from '../../src/shared/experiment';
import type { RunSummary } from '../../src/shared/protocol';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-store-'));
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

test('a partial last line (killed mid-write) is skipped; a bad middle line is an error', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"type":"log","level":"info","message":"a"}\n{"type":"st');
  assert.equal(readMetrics(dir).length, 1);
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"type":"log","level":"info","message":"a"}\n{"ty\n{"type":"log","level":"info","message":"b"}\n');
  assert.throws(() => readMetrics(dir), /metrics\.jsonl:2: unreadable line/);
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
