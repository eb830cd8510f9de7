/**
 * The keys WRN training needs: training.lr_schedule (values, the default γ, positioned errors, the
 * never-reached warning) and training.nesterov.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/config/parse';
import { FILE, issueFor } from './helpers';

const text = (lines: string[]): string => ['training:', '  epochs: 200', ...lines, ''].join('\n');
const parse = (lines: string[]) => parseExperiment(text(lines), FILE);

test('absent: no schedule; given: milestones and γ, with PyTorch’s default γ 0.1', () => {
  assert.equal(parse([]).config?.training.lrSchedule, undefined);
  const wrn = parse(['  lr_schedule: {milestones: [60, 120, 160], gamma: 0.2}']);
  assert.deepEqual(wrn.issues, []);
  assert.deepEqual(wrn.config?.training.lrSchedule, { milestones: [60, 120, 160], gamma: 0.2 });
  assert.deepEqual(parse(['  lr_schedule:', '    milestones: [100]']).config?.training.lrSchedule, { milestones: [100], gamma: 0.1 });
});

test('errors name the key: milestones missing, not increasing, not integers; γ out of range; unknown keys', () => {
  assert.match(issueFor(parse(['  lr_schedule: {gamma: 0.5}']).issues, 'training.lr_schedule.milestones').message, /missing required key/);
  const order = parse(['  lr_schedule: {milestones: [60, 60, 160]}']);
  assert.equal(order.config, undefined);
  const o = issueFor(order.issues, 'training.lr_schedule.milestones.1');
  assert.match(o.message, /strictly increasing order, found 60 after 60/);
  assert.equal(text(['  lr_schedule: {milestones: [60, 60, 160]}']).slice(o.offset, o.endOffset), '60');
  assert.ok(issueFor(parse(['  lr_schedule: {milestones: [1.5]}']).issues, 'training.lr_schedule.milestones.0'));
  assert.ok(issueFor(parse(['  lr_schedule: {milestones: [10], gamma: 0}']).issues, 'training.lr_schedule.gamma'));
  assert.ok(issueFor(parse(['  lr_schedule: {milestones: [10], gamma: 2}']).issues, 'training.lr_schedule.gamma'));
  const unknown = issueFor(parse(['  lr_schedule: {milestones: [10], gama: 0.5}']).issues, 'training.lr_schedule.gama');
  assert.equal(unknown.suggestion, 'gamma');
});

test('a schedule whose milestones are all at or past the last epoch is a warning: it never changes the rate', () => {
  const r = parseExperiment(['training:', '  epochs: 10', '  lr_schedule: {milestones: [10, 20]}', ''].join('\n'), FILE);
  assert.ok(r.config, 'still runs');
  const w = issueFor(r.issues, 'training.lr_schedule');
  assert.equal(w.severity, 'warning');
  assert.match(w.message, /never changes/);
});

test('training.nesterov: with momentum it is read; elsewhere a warning; absent, the config (and its id) has no such field', () => {
  const on = parseExperiment(['training:', '  optimizer: momentum', '  nesterov: true', ''].join('\n'), FILE);
  assert.deepEqual(on.issues, []);
  assert.equal(on.config?.training.nesterov, true);
  const adam = parseExperiment(['training:', '  optimizer: adam', '  nesterov: true', ''].join('\n'), FILE);
  const w = issueFor(adam.issues, 'training.nesterov');
  assert.equal(w.severity, 'warning');
  assert.match(w.message, /only optimizer 'momentum'/);
  const plain = parseExperiment(['training:', '  optimizer: momentum', ''].join('\n'), FILE);
  assert.ok(plain.config);
  assert.equal('nesterov' in plain.config.training, false, 'a file written before the key resolves as it did');
  // So files without the keys keep their configuration ids (architecture.test.ts pins the examples').
  assert.equal('lrSchedule' in plain.config.training, false);
});
