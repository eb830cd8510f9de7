import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Throttle } from '../../src/extension/throttle';
import { FakeClock } from '../helpers/fake-clock';
import * as checked from '../../src/shared/checked';

test('Throttle: the first call runs on the next tick; a burst within the interval folds into one run at its end, reading the latest state', () => {
  const clock = new FakeClock();
  let state = 0;
  const seen: [number, number][] = [];
  const t = new Throttle(() => seen.push([clock.now(), state]), 250, clock);
  state = 1;
  t.call();
  t.call(); // made in the same go: the same run
  assert.equal(seen.length, 0);
  clock.advance(0);
  assert.deepEqual(seen, [[0, 1]]);
  // 80 calls a second for one second, as a trainer reporting two nets at 40 steps/s.
  for (let i = 0; i < 80; i++) {
    clock.advance(12.5);
    state++;
    t.call();
  }
  clock.advance(250);
  // Runs at 0, 250, …, 1000, and once more at 1250 for the call made at 1000: six, not 81, the last
  // with the last state.
  assert.deepEqual(seen.map(([at]) => at), [0, 250, 500, 750, 1000, 1250]);
  assert.equal(checked.at(seen, seen.length - 1)[1], 81);
  // Quiet for longer than the interval: the next call runs on the next tick again.
  clock.advance(1000);
  state = 99;
  t.call();
  clock.advance(0);
  assert.deepEqual(seen[seen.length - 1], [2250, 99]);
});

test('Throttle: dispose drops a pending run and ignores later calls', () => {
  const clock = new FakeClock();
  let runs = 0;
  const t = new Throttle(() => runs++, 100, clock);
  t.call();
  clock.advance(0);
  t.call(); // pending until 100
  t.dispose();
  clock.advance(500);
  t.call();
  assert.equal(runs, 1);
});

test('Throttle: ranNow drops a pending run and counts the interval from then; cancel drops it only', () => {
  const clock = new FakeClock();
  const at: number[] = [];
  const t = new Throttle(() => at.push(clock.now()), 100, clock);
  t.call();
  t.ranNow(); // e.g. a full replay was sent instead
  clock.advance(50);
  t.call();
  clock.advance(200);
  assert.deepEqual(at, [100]);
  t.call(); // would run at 200
  t.cancel();
  clock.advance(500);
  assert.deepEqual(at, [100]);
});
