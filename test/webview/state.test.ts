import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DashboardState } from '../../src/extension/dashboard/state';
import type { TrainerToHost } from '../../src/shared/protocol';
import { emptyModel, type HostToPage } from '../../src/shared/webview-protocol';
import { alert, epoch, init, pageApply, pairRun, ready, step, wire } from './fixtures';
import { at } from '../../src/shared/checked';

describe('DashboardState replay', () => {
  it('incremental updates drained at random points equal a replay of the final snapshot', () => {
    const state = new DashboardState({ maxPoints: 40 });
    let page = pageApply(emptyModel(), [init(state)]);
    state.drainUpdates();
    state.addRun({ runId: 'r1', title: 'fmnist pair', sourceFile: '/w/fmnist.gradflow.yaml', status: 'running' });
    const msgs = pairRun('r1', 300);
    msgs.splice(200, 0, step('sparse', 5, true, 5)); // a NaN norm mid-stream (a duplicate step number is fine for the state)
    let k = 0;
    for (const m of msgs) {
      state.apply('r1', m);
      // Drain at irregular intervals, like a 250 ms timer against a bursty trainer.
      if (++k % 37 === 0) page = pageApply(page, state.drainUpdates());
    }
    state.apply('r1', { type: 'done', summary: { runId: 'r1', runDir: '/tmp', backend: 'cpu', finished: true, stopped: false, nets: [], alerts: [], startedAt: '', endedAt: '' } });
    page = pageApply(page, state.drainUpdates());
    const replay = pageApply(emptyModel(), [init(state)]);
    assert.deepEqual(page, replay);
    assert.deepEqual(page, wire(state.snapshot()));
    const r = at(replay.runs, 0);
    assert.equal(r.meta.status, 'finished');
    assert.equal(r.alerts.length, 2);
    assert.deepEqual(r.nets.map((n) => n.net), ['sparse', 'dense']);
    assert.equal(at(r.nets, 0).epochs.length, 3);
    assert.equal(at(r.nets, 0).series.count, 301);
    for (const n of r.nets) for (const p of [n.series.loss, n.series.egf2, ...n.series.layerL2]) assert.ok(p.x.length <= 40);
  });

  it('a page that joins mid-run (snapshot) and then takes updates ends equal too', () => {
    const state = new DashboardState({ maxPoints: 16 });
    const msgs = pairRun('r2', 250);
    state.addRun({ runId: 'r2', title: 't', status: 'running' });
    msgs.slice(0, 120).forEach((m) => state.apply('r2', m));
    state.drainUpdates(); // what the panel does before replaying
    let page = pageApply(emptyModel(), [init(state)]);
    msgs.slice(120).forEach((m) => state.apply('r2', m));
    state.addRun({ runId: 'r3', title: 'second', status: 'running' });
    state.apply('r3', ready('r3', ['sparse']));
    state.apply('r3', { type: 'error', message: 'out of memory' });
    state.focus('r3');
    page = pageApply(page, state.drainUpdates());
    assert.deepEqual(page, pageApply(emptyModel(), [init(state)]));
    assert.equal(page.focusRunId, 'r3');
    assert.equal(at(page.runs, 1).meta.status, 'failed');
    assert.equal(at(page.runs, 1).meta.message, 'out of memory');
  });

  it('collapses a burst of steps into one series message per net', () => {
    const state = new DashboardState();
    state.addRun({ runId: 'r', title: 't', status: 'running' });
    state.drainUpdates();
    for (let s = 1; s <= 500; s++) state.apply('r', step('sparse', s, true));
    const u = state.drainUpdates();
    assert.deepEqual(u.map((m) => m.type), ['series']);
    assert.equal(state.drainUpdates().length, 0);
    assert.equal(state.hasPendingUpdates(), false);
  });

  it('keeps 100,000 steps at full resolution and sends at most 2,000 points per series', () => {
    const state = new DashboardState();
    state.addRun({ runId: 'big', title: 'big', status: 'running' });
    for (let s = 1; s <= 100_000; s++) state.apply('big', step('sparse', s, true));
    const u = state.drainUpdates().filter((m) => m.type === 'series');
    assert.equal(u.length, 1);
    const series = (u[0] as Extract<HostToPage, { type: 'series' }>).series;
    assert.equal(series.count, 100_000);
    assert.equal(series.lastStep, 100_000);
    for (const p of [series.loss, series.accuracy, series.egf1, series.egf2, series.g1, series.g2, ...series.layerL2]) {
      assert.ok(p.x.length <= 2000, String(p.x.length));
      assert.equal(p.x[0], 1);
      assert.equal(p.x[p.x.length - 1], 100_000);
    }
    // Noisy series fill (almost) every bucket with two points; flat stretches need fewer.
    assert.ok(series.loss.x.length > 1900, String(series.loss.x.length));
    assert.equal(state.toCsv('big', 'steps').split('\n').length, 100_000 + 2); // header + rows + final newline
  });

  it('registers an unknown run on its first message and ignores hello/log', () => {
    const state = new DashboardState();
    state.apply('x', { type: 'hello', protocolVersion: 1, pid: 1 });
    state.apply('x', { type: 'log', level: 'info', message: 'hi' });
    assert.deepEqual(state.runIds(), ['x']);
    assert.equal(at(state.snapshot().runs, 0).meta.title, 'x');
  });

  it('normalises a raw NaN alert value to the protocol string', () => {
    const state = new DashboardState();
    state.apply('x', alert('sparse', 'nan', 3, -1, NaN, 'loss NaN'));
    assert.equal(state.getAlert('x', 0)?.value, 'NaN');
    assert.ok(at(pageApply(emptyModel(), [init(state)]).runs, 0).alerts.length === 1);
  });

  it('notifies listeners on change', () => {
    const state = new DashboardState();
    let n = 0;
    const sub = state.onDidChange(() => n++);
    state.addRun({ runId: 'a', title: 'a', status: 'running' });
    state.apply('a', step('sparse', 1, false));
    sub.dispose();
    state.apply('a', step('sparse', 2, false));
    assert.equal(n, 2);
  });
});

describe('DashboardState.toCsv', () => {
  const state = new DashboardState();
  state.addRun({ runId: 'r1', title: 'small', status: 'running' });
  const r: TrainerToHost = ready('r1', ['sparse'], 2);
  state.apply('r1', r);
  state.apply('r1', {
    type: 'step',
    metrics: {
      net: 'sparse', step: 1, epoch: 0, loss: 2.5, accuracy: 0.125, egf1: 0.5, egf2: 0.25, g1: 1, g2: 0.75,
      layers: [
        { active: 10, raw: { l1: 0.6, l2: 0.3 }, masked: { l1: 0.4, l2: 0.2 } },
        { active: 4, raw: { l1: 1.4, l2: 0.9 }, masked: { l1: 0.6, l2: 0.3 } },
      ],
    },
  });
  state.apply('r1', { type: 'step', metrics: { net: 'sparse', step: 2, epoch: 0, loss: NaN, accuracy: 0.25, egf1: 0, egf2: 0, g1: 0, g2: 0, layers: [] } });
  state.apply('r1', epoch('sparse', 1));
  state.apply('r1', alert('sparse', 'explosion', 2, 1, 1e9, 'norm 1e9, "big"'));
  state.apply('r1', alert('sparse', 'nan', 2, -1, 'NaN', 'loss is NaN'));

  it('steps: flow columns empty where norms were skipped, NaN by name', () => {
    assert.equal(
      state.toCsv('r1', 'steps'),
      'net,step,epoch,loss,accuracy,egf1,egf2,g1,g2\n' +
        'sparse,1,0,2.5,0.125,0.5,0.25,1,0.75\n' +
        'sparse,2,0,NaN,0.25,,,,\n',
    );
  });

  it('layers: one row per layer per measured step, with names from ready', () => {
    assert.equal(
      state.toCsv('r1', 'layers'),
      'net,step,layer,name,active,raw_l1,raw_l2,masked_l1,masked_l2\n' +
        'sparse,1,0,dense1,10,0.6,0.3,0.4,0.2\n' +
        'sparse,1,1,dense2,4,1.4,0.9,0.6,0.3\n',
    );
  });

  it('epochs', () => {
    // epoch('sparse', 1): acc = 0.6 + 0.08 - 0.02 = 0.66 (floating: 0.6600000000000001), losses 1.2, 1.3, 1.35.
    const acc = 0.6 + 0.08 * 1 - 0.02;
    assert.equal(
      state.toCsv('r1', 'epochs'),
      'net,epoch,step,train_loss,train_accuracy,validation_loss,validation_accuracy,test_loss,test_accuracy,elapsed_s\n' +
        `sparse,1,100,1.2,${acc + 0.03},1.3,${acc},1.35,${acc - 0.01},2.5\n`,
    );
  });

  it('alerts: RFC 4180 quoting', () => {
    assert.equal(
      state.toCsv('r1', 'alerts'),
      'net,kind,severity,step,layer,value,message\n' +
        'sparse,explosion,warning,2,1,1000000000,"norm 1e9, ""big"""\n' +
        'sparse,nan,error,2,-1,NaN,loss is NaN\n',
    );
  });

  it('throws for an unknown run', () => {
    assert.throws(() => state.toCsv('nope', 'steps'), /no run nope/);
  });
});
