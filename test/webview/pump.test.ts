import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UpdatePump } from '../../src/extension/dashboard/pump';
import { FakeClock } from '../helpers/fake-clock';
import { DashboardState } from '../../src/extension/dashboard/state';
import type { HostToPage } from '../../src/shared/webview-protocol';
import { step } from './fixtures';
import { at } from '../../src/shared/checked';

function setup(): { state: DashboardState; clock: FakeClock; sent: { t: number; m: HostToPage }[]; pump: UpdatePump } {
  const state = new DashboardState();
  const clock = new FakeClock();
  const sent: { t: number; m: HostToPage }[] = [];
  const pump = new UpdatePump(state, (m) => sent.push({ t: clock.now(), m }), 250, clock);
  return { state, clock, sent, pump };
}

describe('UpdatePump', () => {
  it('sends nothing before the page is ready, then a full init', () => {
    const { state, clock, sent, pump } = setup();
    state.addRun({ runId: 'r', title: 't', status: 'running' });
    for (let s = 1; s <= 10; s++) state.apply('r', step('sparse', s, true));
    clock.advance(5000);
    assert.equal(sent.length, 0);
    pump.pageReady();
    assert.deepEqual(sent.map((x) => x.m.type), ['init']);
    assert.equal(state.hasPendingUpdates(), false, 'pending updates are folded into the init');
  });

  it('throttles a step every 10 ms to at most 4 flushes per second', () => {
    const { state, clock, sent, pump } = setup();
    state.addRun({ runId: 'r', title: 't', status: 'running' });
    pump.pageReady();
    sent.length = 0;
    for (let s = 1; s <= 300; s++) {
      state.apply('r', step('sparse', s, true));
      clock.advance(10);
    }
    clock.advance(1000);
    const times = [...new Set(sent.map((x) => x.t))];
    assert.ok(times.length >= 11 && times.length <= 13, `${times.length} flushes over 3 s`);
    for (let i = 1; i < times.length; i++) assert.ok(at(times, i) - at(times, i - 1) >= 250, `gap ${at(times, i) - at(times, i - 1)} ms`);
    assert.ok(sent.every((x) => x.m.type === 'series'));
    const last = at(sent, sent.length - 1).m as Extract<HostToPage, { type: 'series' }>;
    assert.equal(last.series.lastStep, 300);
  });

  it('holds updates while the page is gone and replays on the next ready', () => {
    const { state, clock, sent, pump } = setup();
    state.addRun({ runId: 'r', title: 't', status: 'running' });
    pump.pageReady();
    state.apply('r', step('sparse', 1, true));
    pump.pageGone(); // tab hidden before the timer fired
    clock.advance(1000);
    assert.deepEqual(sent.map((x) => x.m.type), ['init']);
    state.apply('r', step('sparse', 2, true));
    clock.advance(1000);
    pump.pageReady();
    assert.deepEqual(sent.map((x) => x.m.type), ['init', 'init']);
    const init = at(sent, 1).m as Extract<HostToPage, { type: 'init' }>;
    assert.equal(at(at(init.model.runs, 0).nets, 0).series.lastStep, 2);
  });

  it('stops after dispose', () => {
    const { state, clock, sent, pump } = setup();
    state.addRun({ runId: 'r', title: 't', status: 'running' });
    pump.pageReady();
    pump.dispose();
    state.apply('r', step('sparse', 1, true));
    clock.advance(1000);
    pump.pageReady();
    assert.equal(sent.length, 1);
  });
});
