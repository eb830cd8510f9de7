/**
 * Issue 18, row 4: metrics logs are read line by line with bounded memory; skipped, torn and
 * left-out lines are counted and said, never silently dropped. Logs are made in the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MetricsLogParser, logOmissions, readMetricsLog, readMetricsLogAsync, type MetricsLog } from '../../src/runs/store';
import type { StepMetrics, TrainerToHost } from '../../src/shared/protocol';
import { DashboardState } from '../../src/extension/dashboard/state';
import { loadIntoDashboard, loadIntoDashboardAsync } from '../../src/extension/runs/past-runs';
import type { RunRecord } from '../../src/runs/store';
import { at } from '../../src/shared/checked';
import { tempFolder } from '../tmp';

function tmp(): string {
  return tempFolder('gradflow-mlog-');
}

function stepLine(net: 'sparse' | 'dense', step: number): string {
  const layer = { active: 10, raw: { l1: 1, l2: 0.5 }, masked: { l1: 0.5, l2: 0.25 } };
  const metrics: StepMetrics = { net, step, epoch: Math.floor(step / 100), loss: 1 / step, accuracy: 0.5, egf1: 0.1, egf2: 0.2, g1: 1, g2: 0.5, layers: [layer] };
  return JSON.stringify({ type: 'step', metrics });
}

function logLine(message: string): string {
  return JSON.stringify({ type: 'log', level: 'info', message });
}

function label(m: TrainerToHost): string {
  return m.type === 'step' ? `${m.metrics.net}:${m.metrics.step}` : m.type === 'log' ? `log:${m.message}` : m.type;
}

test('chunk boundaries do not matter: the same log fed in any pieces parses the same', () => {
  const text = [logLine('a'), stepLine('sparse', 1), '{"ty', logLine('é ünïcode ✓'), stepLine('dense', 1), ''].join('\n');
  const bytes = Buffer.from(text, 'utf8');
  const whole = new MetricsLogParser();
  whole.push(bytes);
  const expected = whole.end();
  assert.deepEqual(expected.messages.map(label), ['log:a', 'sparse:1', 'log:é ünïcode ✓', 'dense:1']);
  assert.equal(expected.skipped, 1);
  assert.equal(expected.firstSkippedLine, 3);
  for (const size of [1, 2, 3, 7, 64]) {
    const p = new MetricsLogParser();
    for (let i = 0; i < bytes.length; i += size) p.push(bytes.subarray(i, i + size));
    assert.deepEqual(p.end(), expected, `pieces of ${size} bytes`);
  }
});

test('a torn last line (no newline) is counted, flagged and said', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${logLine('a')}\n${logLine('b')}\n{"type":"st`);
  const log = readMetricsLog(dir);
  assert.deepEqual(log.messages.map(label), ['log:a', 'log:b']);
  assert.equal(log.tornLastLine, true);
  assert.equal(log.skipped, 1);
  assert.equal(log.firstSkippedLine, 3);
  assert.equal(logOmissions(log), '1 unreadable line(s) in metrics.jsonl skipped (first: line 3) (the last line is partial: the trainer stopped mid-write)');
  // A whole message that only lacks its newline is kept (nothing is lost), and is not torn.
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${logLine('a')}\n${logLine('b')}`);
  const clean = readMetricsLog(dir);
  assert.deepEqual(clean.messages.map(label), ['log:a', 'log:b']);
  assert.equal(clean.tornLastLine, false);
  assert.equal(logOmissions(clean), undefined);
});

test('a line past the line bound is skipped without being held whole, and the next line is read', () => {
  const dir = tmp();
  const long = `{"type":"log","level":"info","message":"${'x'.repeat(5000)}"}`;
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), [logLine('a'), long, logLine('b'), ''].join('\n'));
  const log = readMetricsLog(dir, { maxLineBytes: 1000 });
  assert.deepEqual(log.messages.map(label), ['log:a', 'log:b']);
  assert.equal(log.skipped, 1);
  assert.equal(log.firstSkippedLine, 2);
  // Fed byte by byte, the long line never accumulates (it is dropped as it streams by).
  const p = new MetricsLogParser({ maxLineBytes: 1000 });
  for (const b of Buffer.from([logLine('a'), long, logLine('b'), ''].join('\n'))) p.push(Buffer.from([b]));
  assert.deepEqual(p.end().messages.map(label), ['log:a', 'log:b']);
});

/** 10,000 steps of each net, an epoch message every 100 steps, in the trainer's order. */
function bigLog(dir: string): void {
  const lines: string[] = [];
  for (let s = 1; s <= 10_000; s++) {
    lines.push(stepLine('sparse', s), stepLine('dense', s));
    if (s % 100 === 0) lines.push(logLine(`epoch ${s / 100}`));
  }
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
}

test('a huge log keeps a decimated series plus the last steps and every other message, and counts the rest', () => {
  const dir = tmp();
  bigLog(dir);
  const log = readMetricsLog(dir, { keepSteps: 100, keepLastSteps: 50 });
  // By hand: stride doubles while more than 100 of the 10,000 steps (indices 0…9,999) would be
  // sampled: stride 64 samples 157, stride 128 samples ⌈10,000/128⌉ = 79 (indices 0, 128, …, 9,984).
  assert.equal(log.stepStride, 128);
  const sparse = log.messages.filter((m) => m.type === 'step' && m.metrics.net === 'sparse').map((m) => (m.type === 'step' ? m.metrics.step : 0));
  const expected = new Set<number>();
  for (let i = 0; i < 10_000; i += 128) expected.add(i + 1); // step numbers are indices + 1
  for (let s = 9_951; s <= 10_000; s++) expected.add(s); // the last 50
  assert.deepEqual(sparse, [...expected].sort((a, b) => a - b));
  assert.equal(sparse.length, 79 + 50 - 1, 'step 9,985 (index 9,984) is both sampled and among the last 50');
  assert.equal(log.omittedSteps, 2 * (10_000 - 128));
  assert.equal(log.messages.filter((m) => m.type === 'log').length, 100, 'every non-step message kept');
  assert.equal(log.lines, 20_100);
  // File order is kept.
  const order = log.messages.map(label);
  assert.equal(order.indexOf('log:epoch 1') > order.indexOf('dense:1'), true);
  assert.equal(order.at(-1), 'log:epoch 100');
  assert.match(logOmissions(log) ?? '', /^a large log \(20,100 lines, [\d.]+ MB\): the charts show one step in 128 and the last steps in full; 19,744 steps left out$/);
});

test('the async reader reads the same and reports progress up to the file size', async () => {
  const dir = tmp();
  bigLog(dir);
  const size = fs.statSync(path.join(dir, 'metrics.jsonl')).size;
  const progress: number[] = [];
  const a = await readMetricsLogAsync(dir, { keepSteps: 100, keepLastSteps: 50, onProgress: (read, total) => {
    assert.equal(total, size);
    progress.push(read);
  } });
  const s: MetricsLog = readMetricsLog(dir, { keepSteps: 100, keepLastSteps: 50 });
  assert.deepEqual(a, s);
  assert.ok(progress.length >= 2, `read in several chunks (${size} bytes)`);
  assert.deepEqual(progress, [...progress].sort((x, y) => x - y));
  assert.equal(progress.at(-1), size);
  // Cancelled at once: nothing read, and it says so through the dashboard loader.
  const state = new DashboardState();
  const record: RunRecord = { runId: 'r1', name: 'big', startedAt: '2026-01-01T00:00:00Z', pid: 0, runDir: dir, status: 'killed' };
  await loadIntoDashboardAsync(state, record, { cancelled: () => true });
  assert.match(at(state.snapshot().runs, 0).meta.message ?? '', /reading metrics\.jsonl was cancelled after 0 lines: what was read is shown/);
});

test('the dashboard shows a damaged log and says what was skipped and left out', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${stepLine('sparse', 1)}\nnot json\n${stepLine('sparse', 2)}\n`);
  const state = new DashboardState();
  const record: RunRecord = { runId: 'r2', name: 'damaged', startedAt: '2026-01-01T00:00:00Z', pid: 0, runDir: dir, status: 'killed' };
  loadIntoDashboard(state, record);
  const run = at(state.snapshot().runs, 0);
  assert.equal(run.nets[0]?.series.count, 2);
  assert.equal(run.meta.message, 'killed: the trainer died without writing a summary; 1 unreadable line(s) in metrics.jsonl skipped (first: line 2)');
});
