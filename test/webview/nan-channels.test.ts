/**
 * A NaN through every channel: trainer → host (IPC and the run log are JSON: NaN becomes null,
 * decoded back to NaN), host → webview (sent as null, accepted by the page's guard, drawn as a gap),
 * and the run log read back from disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DashboardState } from '../../src/extension/dashboard/state';
import { readTrainerMessage, type TrainerToHost } from '../../src/shared/protocol';
import { emptyModel } from '../../src/shared/webview-protocol';
import { readMetrics, readSummary } from '../../src/runs/store';
import { epoch, pageApply, step, wire } from './fixtures';
import { at } from '../../src/shared/checked';
import { tempFolder } from '../tmp';

test('trainer → host: a NaN loss and norm arrive as null over JSON and are read back as NaN', () => {
  const sent = step('sparse', 7, true, 7); // NaN in the first layer's norms at step 7
  const withNaN: TrainerToHost = { ...sent, metrics: { ...sent.metrics, loss: NaN, egf2: Infinity } };
  const json = wire(withNaN) as unknown as { metrics: Record<string, unknown> };
  assert.equal(json.metrics.loss, null); // what JSON does
  const back = readTrainerMessage(json);
  assert.ok(back && back.type === 'step');
  assert.ok(Number.isNaN(back.metrics.loss));
  assert.ok(Number.isNaN(back.metrics.egf2)); // ±Infinity is not kept apart from NaN by JSON
  assert.ok(back.metrics.layers.some((l) => Number.isNaN(l.masked.l2)));
  assert.equal(back.metrics.step, 7);
  const e = epoch('dense', 1);
  assert.ok(e.type === 'epoch');
  const nanEpoch = readTrainerMessage(wire({ ...e, metrics: { ...e.metrics, test: { loss: NaN, accuracy: 0.1 } } }));
  assert.ok(nanEpoch && nanEpoch.type === 'epoch' && Number.isNaN(nanEpoch.metrics.test.loss));
});

test('host → webview: the decoded NaN is sent as null, passes the page guard, and stays a gap', () => {
  const state = new DashboardState({ maxPoints: 100 });
  state.addRun({ runId: 'r', title: 't', status: 'running' });
  for (let s = 1; s <= 5; s++) {
    const m = step('sparse', s, true);
    const decoded = readTrainerMessage(wire(s === 3 ? { ...m, metrics: { ...m.metrics, loss: NaN } } : m));
    assert.ok(decoded);
    state.apply('r', decoded);
  }
  const page = pageApply(emptyModel(), state.drainUpdates()); // asserts isHostToPage on each wired message
  const loss = at(at(page.runs, 0).nets, 0).series.loss;
  assert.deepEqual(loss.x, [1, 2, 3, 4, 5]);
  assert.equal(loss.y[2], null);
  assert.ok(loss.y.every((y, i) => (i === 2 ? y === null : typeof y === 'number')));
});

test('run log on disk: a NaN step written by the trainer is read back as NaN', () => {
  const dir = tempFolder('gf-nan-');
  try {
    const m = step('dense', 1, true);
    const line = JSON.stringify({ ...m, metrics: { ...m.metrics, loss: NaN } });
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${line}\n`);
    const [first] = readMetrics(dir);
    assert.ok(first !== undefined && first.type === 'step');
    assert.ok(Number.isNaN(first.metrics.loss));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('summary.json on disk: a diverged net\'s NaN measures are read back as NaN, not null', () => {
  const dir = tempFolder('gf-nan-sum-');
  try {
    const nan = { loss: NaN, accuracy: 0.1 };
    const net = {
      net: 'sparse', steps: 3, epochs: 1, final: { train: nan, validation: nan, test: nan },
      flowAverage: { egf1: NaN, egf2: 0.5, g1: Infinity, g2: 1 }, flowPoints: [], layers: [], msPerStep: 2,
      diverged: { step: 3, reason: 'loss is NaN' },
    };
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ runId: 'r', name: 'x', startedAt: '2026-12-01T00:00:00.000Z', pid: 1 }));
    const text = JSON.stringify({ runId: 'r', runDir: dir, backend: 'cpu', finished: true, stopped: false, nets: [net], alerts: [], startedAt: 'a', endedAt: 'b' });
    assert.match(text, /"loss":null/); // what JSON does
    fs.writeFileSync(path.join(dir, 'summary.json'), text);
    const s = readSummary(dir);
    assert.ok(s !== undefined);
    const [n] = s.nets;
    assert.ok(n);
    assert.ok(Number.isNaN(n.final.test.loss) && Number.isNaN(n.flowAverage.egf1) && Number.isNaN(n.flowAverage.g1));
    assert.equal(n.flowAverage.egf2, 0.5);
    assert.equal(n.steps, 3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
