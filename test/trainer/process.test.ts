import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { configOf, runTrainer, syntheticYaml, tmpDir, trainerPath, cliPath } from './helpers';
import { readMetrics, readRun, readSummary, listRuns } from '../../src/runs/store';
import { startTrainer } from '../../src/runs/trainer-client';
import type { StepMessage } from '../../src/shared/protocol';
import { at } from '../../src/shared/checked';

test('a run speaks the protocol in order and leaves a complete run folder', async () => {
  const runsDir = tmpDir('runs');
  const config = configOf(syntheticYaml({ runsDir }));
  const { messages, exit } = await runTrainer(config);
  assert.equal(exit.code, 0, exit.stderrTail.join('\n'));
  const types = messages.map((m) => m.type);
  assert.equal(types[0], 'hello');
  assert.equal(types[types.length - 1], 'done');
  assert.ok(types.indexOf('ready') < types.indexOf('step'));
  const ready = messages.find((m) => m.type === 'ready');
  assert.ok(ready && ready.type === 'ready');
  assert.equal(ready.backend, 'cpu');
  // SC-SDC: both nets have the same active weights per layer.
  const [s, d] = ready.nets;
  assert.ok(s !== undefined && d !== undefined);
  assert.deepEqual(s.layers.map((l) => l.active), d.layers.map((l) => l.active));
  const steps = messages.filter((m): m is StepMessage => m.type === 'step');
  // 512 train examples less 10 % validation = 461 → ceil(461/32) = 15 steps per epoch, 2 epochs, 2 nets.
  assert.equal(ready.stepsPerEpoch, 15);
  assert.equal(steps.length, 2 * 15 * 2);
  for (const st of steps) {
    assert.equal(st.metrics.layers.length, 3);
    // EGF_p is the mean of the per-layer masked norms (method.md §3).
    const mean2 = st.metrics.layers.reduce((a, l) => a + l.masked.l2, 0) / 3;
    assert.ok(Math.abs(st.metrics.egf2 - mean2) <= 1e-6 * Math.max(1, mean2));
  }
  const done = at(messages, messages.length - 1);
  assert.ok(done.type === 'done');
  const runDir = done.summary.runDir;
  assert.equal(done.summary.finished, true);
  assert.equal(done.summary.nets.length, 2);
  // The 11 EGF points of method.md §3 for each net.
  assert.equal(at(done.summary.nets, 0).flowPoints.length, 11);
  // Everything sent was logged, in order (the hello precedes the run folder).
  const logged = readMetrics(runDir);
  assert.deepEqual(logged.map((m) => m.type), types.slice(types.indexOf('ready')));
  assert.equal(readRun(runDir)?.status, 'finished');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')), config);
  assert.equal(readSummary(runDir)?.runId, done.summary.runId);
});

test('a stop request is honoured within one step and still writes a summary', async () => {
  const runsDir = tmpDir('runs');
  const config = configOf(syntheticYaml({ runsDir, epochs: 20 }));
  let stopAt = -1;
  const { messages, exit } = await runTrainer(config, (m, h) => {
    if (m.type === 'step' && m.metrics.step === 5 && stopAt < 0) {
      stopAt = 5;
      h.stop();
    }
  });
  assert.equal(exit.code, 0);
  const last = Math.max(...messages.filter((m): m is StepMessage => m.type === 'step').map((m) => m.metrics.step));
  // The host reads step 5 some time after the trainer sent it, and the trainer may have trained on
  // meanwhile; the bound is on the step the request reached, which the trainer says in a log line.
  const ack = messages.find((m) => m.type === 'log' && /^stop requested after step \d+/.test(m.message));
  assert.ok(ack && ack.type === 'log', 'the trainer says where the stop request reached it');
  const reached = Number(/after step (\d+)/.exec(ack.message)?.[1]);
  assert.ok(reached >= stopAt, `the request reached step ${reached}, before the host asked at ${stopAt}`);
  // The stop may land while the next step is already in flight; never later.
  assert.ok(last <= reached + 1, `last step ${last} after a stop that reached step ${reached}`);
  assert.ok(last < 20 * 16, 'the run did not train to its end');
  const done = at(messages, messages.length - 1);
  assert.ok(done.type === 'done');
  assert.equal(done.summary.finished, false);
  assert.equal(done.summary.stopped, true);
  assert.equal(readRun(done.summary.runDir)?.status, 'stopped');
});

test('a killed trainer leaves a parseable log and a run marked as not finished', async () => {
  const runsDir = tmpDir('runs');
  const config = configOf(syntheticYaml({ runsDir, epochs: 50 }));
  let runDir = '';
  let seen = 0;
  const { messages, exit } = await runTrainer(config, (m, h) => {
    if (m.type === 'ready') runDir = m.runDir;
    if (m.type === 'epoch' && ++seen === 2) h.kill();
  });
  assert.equal(exit.signal, 'SIGKILL');
  const last = at(messages, messages.length - 1);
  assert.ok(last.type === 'error' && /killed \(SIGKILL\)/.test(last.message), 'the host is told, not left hanging');
  const logged = readMetrics(runDir);
  // Epoch messages are flushed at once, so everything up to the second epoch is on disk.
  assert.ok(logged.filter((m) => m.type === 'epoch').length >= 2);
  assert.ok(logged.filter((m) => m.type === 'step').length >= 15);
  assert.equal(fs.existsSync(path.join(runDir, 'summary.json')), false);
  assert.equal(readRun(runDir)?.status, 'killed');
});

test('NaN in the loss stops the run cleanly with an alert naming the layer', async () => {
  const runsDir = tmpDir('runs');
  const config = configOf(syntheticYaml({ runsDir, optimizer: 'sgd', lr: 1e6, epochs: 5 }));
  const { messages, exit } = await runTrainer(config);
  assert.equal(exit.code, 0);
  const nan = messages.find((m) => m.type === 'alert' && m.alert.kind === 'nan');
  assert.ok(nan && nan.type === 'alert', 'a nan alert was raised');
  assert.match(nan.alert.message, /step \d+/);
  const done = at(messages, messages.length - 1);
  assert.ok(done.type === 'done');
  // Divergence is the outcome of this configuration: the run is complete (a sweep does not redo it),
  // and each net says where it diverged.
  assert.equal(done.summary.finished, true);
  assert.equal(readRun(done.summary.runDir)?.status, 'diverged', 'trained to its end, but a net hit NaN: never shown as finished');
  assert.ok(done.summary.nets.some((n) => n.diverged !== undefined));
  assert.match(done.summary.reason ?? '', /non-finite/i);
});

test('a missing dataset is an error naming the dataset and where it looked; nothing hangs', async () => {
  const runsDir = tmpDir('runs');
  const empty = tmpDir('nodata');
  const yaml = syntheticYaml({ runsDir }).replace(/dataset:\n {2}name: synthetic\n {2}synthetic: .*\n/, `dataset:\n  name: cifar10\n  path: ${JSON.stringify(empty)}\n`);
  const { messages, exit } = await runTrainer(configOf(yaml));
  assert.equal(exit.code, 1);
  const err = at(messages, messages.length - 1);
  assert.ok(err.type === 'error');
  assert.match(err.message, /cifar/i);
  assert.ok(err.message.includes(empty), err.message);
  assert.equal(err.key, 'dataset.path', 'the key at fault is named for the editor');
  assert.equal(listRuns(runsDir).length, 0, 'no run folder for a run that never started');
});

test('a trainer that dies at start is reported with its exit code and last output', async () => {
  const config = configOf(syntheticYaml({ runsDir: tmpDir('runs') }));
  const bogus = path.join(tmpDir('bogus'), 'trainer.js');
  fs.writeFileSync(bogus, 'console.error("cannot load libtensorflow"); process.exit(3);\n');
  const h = startTrainer({ trainerPath: bogus, config });
  const messages: string[] = [];
  h.onMessage((m) => {
    if (m.type === 'error') messages.push(m.message);
  });
  const exit = await h.exited;
  assert.equal(exit.code, 3);
  assert.equal(messages.length, 1);
  assert.match(at(messages, 0), /exited with code 3 at start, before the handshake/);
  assert.match(at(messages, 0), /cannot load libtensorflow/);
});

test('the CLI rejects an invalid file with file:line:col and runs nothing (exit 2)', () => {
  const dir = tmpDir('cli');
  const file = path.join(dir, 'bad.gradflow.yaml');
  fs.writeFileSync(file, 'training:\n  optimizer: adm\n  epochs: 1\n');
  const r = spawnSync(process.execPath, [cliPath, 'run', file], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.gradflow\.yaml:2:14: error: training\.optimizer: .*adm.*did you mean 'adam'/);
  assert.equal(fs.existsSync(path.join(dir, '.gradflow')), false);
});

test('the CLI trains a pair, prints the side-by-side summary and streams JSON with --json', () => {
  const dir = tmpDir('cli');
  const file = path.join(dir, 'ok.gradflow.yaml');
  fs.writeFileSync(file, syntheticYaml({ runsDir: path.join(dir, 'runs'), epochs: 1 }));
  const r = spawnSync(process.execPath, [cliPath, 'run', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /sparse\s+dense/);
  assert.match(r.stdout, /EGF_2 \(11-pt avg\)/);
  assert.match(r.stderr, /backend cpu/);
  const j = spawnSync(process.execPath, [cliPath, 'run', file, '--json'], { encoding: 'utf8' });
  assert.equal(j.status, 0, j.stderr);
  const events = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
  assert.equal(at(events, 0).type, 'hello');
  assert.equal(at(events, events.length - 1).type, 'done');
  assert.ok(fs.existsSync(trainerPath));
});
