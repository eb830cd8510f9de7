/** The notice each run end gets: diverged names its nets, stopped says why, finished is status bar only. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runEndNotice } from '../../src/extension/run-end';

test('a diverged run gets a warning naming the nets', () => {
  const n = runEndNotice('fmnist', 'diverged', ['sparse'], undefined, 'test acc 0.1');
  assert.equal(n.level, 'warning');
  assert.equal(n.message, 'Gradflow: run "fmnist" diverged: the sparse net hit NaN or Infinity.');
  assert.equal(n.statusBar, 'Gradflow: fmnist diverged (sparse) · test acc 0.1');
  assert.match(runEndNotice('x', 'diverged', ['sparse', 'dense'], undefined, undefined).message, /the sparse and dense nets hit/);
});

test('a stopped run says why, in the notification and the status bar', () => {
  const n = runEndNotice('fmnist', 'stopped', [], 'stopped by the user (Stop)', undefined);
  assert.equal(n.level, 'info');
  assert.equal(n.message, 'Gradflow: run "fmnist" stopped (stopped by the user (Stop)).');
  assert.equal(n.statusBar, 'Gradflow: fmnist stopped (stopped by the user (Stop))');
  assert.equal(runEndNotice('fmnist', 'stopped', [], undefined, undefined).message, 'Gradflow: run "fmnist" stopped.');
});

test('a finished run is told in the status bar only', () => {
  assert.deepEqual(runEndNotice('fmnist', 'finished', [], undefined, 'test acc 0.85'), { level: 'none', message: '', statusBar: 'Gradflow: fmnist finished · test acc 0.85' });
});
