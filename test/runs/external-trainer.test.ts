/**
 * A script as the trainer (docs/torch.md), host side: real Python processes (test/fixtures/torch/,
 * the raw protocol, standard library only) started through `startRun` as every host starts runs,
 * and the run folders they leave read back with the store's own readers. Skipped where there is no
 * /usr/bin/python3.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseExperiment } from '../../src/config';
import { startRun } from '../../src/runs/session';
import { readMetrics, readRun, readSummary } from '../../src/runs/store';
import { flowDisagreement, flowOfLayers, firstNonFinite, meanOfFlow, scriptConfig } from '../../src/runs/external-trainer';
import { parseScriptLine } from '../../src/shared/external-protocol';
import type { ExperimentConfig } from '../../src/shared/experiment';
import type { TrainerToHost } from '../../src/shared/protocol';
import { analyse } from '../../src/languageservice/document';
import { alertRange } from '../../src/languageservice/run-fixes';
import { hover } from '../../src/languageservice/hover';
import { cliPath, repoRoot, tmpDir } from '../trainer/helpers';
import * as checked from '../../src/shared/checked';

const PYTHON = '/usr/bin/python3';
const noPython = fs.existsSync(PYTHON) ? false : 'no /usr/bin/python3 on this machine';
const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'torch');
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** An experiment file whose trainer is one of the fixture scripts; returns its path, text and config. */
function experiment(script: string, opts: { lr?: number; epochs?: number; args?: string; onNan?: string } = {}): { file: string; text: string; config: ExperimentConfig; dir: string } {
  const dir = tmpDir('ext');
  dirs.push(dir);
  const text = [
    'name: ext-test',
    'dataset:',
    '  name: synthetic',
    '  synthetic: { features: 8, classes: 2, train_size: 30, test_size: 10 }',
    'model: { hidden_layers: 2, width: 8 }',
    'sparsity: { method: random, dense_width: 4 }',
    'training:',
    '  optimizer: sgd',
    `  learning_rate: ${opts.lr ?? 0.5}`,
    `  epochs: ${opts.epochs ?? 2}`,
    `monitoring: { on_nan: ${opts.onNan ?? 'stop'} }`,
    'run: { runs_dir: runs }',
    'trainer:',
    `  command: [${PYTHON}, ${JSON.stringify(path.join(FIXTURES, script))}]`,
    `  cwd: ${JSON.stringify(FIXTURES)}`,
    ...(opts.args !== undefined ? [`  args: ${opts.args}`] : []),
    '',
  ].join('\n');
  const file = path.join(dir, 'ext.gradflow.yaml');
  fs.writeFileSync(file, text);
  const r = parseExperiment(text, file);
  assert.ok(r.config, JSON.stringify(r.issues));
  return { file, text, config: r.config, dir };
}

function run(config: ExperimentConfig, file: string, startupDeadlineMs?: number): { session: ReturnType<typeof startRun>; messages: TrainerToHost[] } {
  const session = startRun({ trainerPath: '/unused', config, sourceFile: file, ...(startupDeadlineMs !== undefined ? { startupDeadlineMs } : {}) });
  const messages: TrainerToHost[] = [];
  session.onMessage((m) => messages.push(m));
  return { session, messages };
}

/** Pids of the processes in a process group (ps), empty when none is left. */
function groupMembers(pgid: number): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 3 && Number(f[1]) === pgid && !checked.at(f, 2).startsWith('Z'))
    .map((f) => Number(f[0]));
}

describe('host-side numbers', () => {
  const layers = [
    { raw: { l1: 3, l2: 4 }, masked: { l1: 1, l2: 0.5 } },
    { raw: { l1: 5, l2: 12 }, masked: { l1: 2, l2: 1.5 } },
  ];
  test('flow measures from layer norms (method.md §3), by hand', () => {
    // EGF1 = (1 + 2)/2, EGF2 = (0.5 + 1.5)/2, g1 = 3 + 5, g2 = √(16 + 144) = √160.
    assert.deepEqual(flowOfLayers(layers), { egf1: 1.5, egf2: 1, g1: 8, g2: Math.sqrt(160) });
    const none = flowOfLayers([]);
    assert.ok(Number.isNaN(none.egf1) && Number.isNaN(none.g2));
  });
  test('the 11-point average is the plain mean; a script value off by more than 1e-6 relative is refused', () => {
    const m = meanOfFlow([{ egf1: 1, egf2: 2, g1: 3, g2: 4 }, { egf1: 3, egf2: 4, g1: 5, g2: 10 }]);
    assert.deepEqual(m, { egf1: 2, egf2: 3, g1: 4, g2: 7 });
    const c = flowOfLayers(layers);
    assert.equal(flowDisagreement({ egf1: 1.5 * (1 + 5e-7), g2: Math.sqrt(160) }, c), undefined);
    assert.match(flowDisagreement({ egf2: 1.00001 }, c) ?? '', /egf2 1\.00001 disagrees with 1 computed/);
  });
  test('the first non-finite number of a step: the loss, else the first layer', () => {
    assert.deepEqual(firstNonFinite(NaN, layers), { where: 'loss', value: NaN });
    assert.deepEqual(firstNonFinite(1, [checked.at(layers, 0), { raw: { l1: 1, l2: Infinity }, masked: { l1: 1, l2: 1 } }]), { where: 1, value: Infinity });
    assert.equal(firstNonFinite(1, layers), undefined);
  });
  test('the script receives the file spelling (snake_case) and trainer.args exactly as written', () => {
    const { config } = experiment('fake_train.py', { args: '{ steps_per_epoch: 2, camelKey: { innerKey: 1 } }' });
    const c = scriptConfig(config) as { training: Record<string, unknown>; trainer: { args: unknown; cwd: string } };
    assert.equal(c.training.learning_rate, 0.5);
    assert.equal(c.training.batch_size, 128);
    assert.deepEqual(c.trainer.args, { steps_per_epoch: 2, camelKey: { innerKey: 1 } });
    assert.equal(c.trainer.cwd, FIXTURES);
  });
});

test('hover on trainer keys shows the schema documentation', () => {
  const text = 'name: e\ntrainer:\n  command: [python3, t.py]\n  args: {a: 1}\n';
  const doc = analyse(text, 'file:///w/e.gradflow.yaml');
  const at = (line: number, character: number): string => JSON.stringify(hover(doc, { line, character })?.contents ?? null);
  assert.match(at(2, 4), /never through a shell/);
  assert.match(at(3, 4), /passed to the script exactly as written/);
  assert.match(at(1, 2), /Your own training script as the trainer/);
});

describe('script messages are decoded and refused with a reason', () => {
  test('non-finite numbers: null, strings and Python\'s bare NaN / Infinity', () => {
    const r = parseScriptLine('{"type": "step", "metrics": {"net": "sparse", "step": 1, "epoch": 0, "loss": NaN, "layers": [{"raw": {"l1": Infinity, "l2": null}, "masked": {"l1": "Infinity", "l2": 1}}]}}');
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(r.message.type, 'step');
    if (r.message.type !== 'step') return;
    assert.ok(Number.isNaN(r.message.metrics.loss));
    assert.equal(checked.at(r.message.metrics.layers, 0).raw.l1, Infinity);
    assert.ok(Number.isNaN(checked.at(r.message.metrics.layers, 0).raw.l2));
    assert.equal(checked.at(r.message.metrics.layers, 0).masked.l1, Infinity);
    // "NaN" inside a string stays a string.
    const log = parseScriptLine('{"type": "log", "level": "info", "message": "loss is NaN, Infinity"}');
    assert.ok(log.ok && log.message.type === 'log' && log.message.message === 'loss is NaN, Infinity');
  });
  for (const [line, reason] of [
    ['not json', /not JSON/],
    ['[1, 2]', /expected a JSON object/],
    ['{"type": "alert", "alert": {}}', /never sends 'alert'/],
    ['{"type": "party"}', /type: expected one of 'hello'/],
    ['{"type": "hello", "protocolVersion": 1}', /client: expected an object, found nothing/],
    ['{"type": "step", "metrics": {"net": "sparse", "step": 0, "epoch": 0, "loss": 1, "layers": []}}', /metrics\.step: expected an integer ≥ 1, found 0/],
    ['{"type": "step", "metrics": {"net": "big", "step": 1, "epoch": 0, "loss": 1, "layers": []}}', /metrics\.net: expected 'sparse' or 'dense', found "big"/],
    ['{"type": "flow", "point": {"net": "sparse", "index": 11, "epoch": 0, "layers": []}}', /point\.index: expected an index 0\.\.10, found 11/],
    ['{"type": "ready", "nets": [{"net": "sparse", "layers": [{"name": "a", "fanIn": 2, "fanOut": 2, "active": 5, "total": 4}]}]}', /active: expected at most total \(4\), found 5/],
    ['{"type": "ready", "nets": [{"net": "dense", "layers": [{"name": "a", "fanIn": 1, "fanOut": 1, "active": 1, "total": 1}]}, {"net": "dense", "layers": []}]}', /nets\[1\]/],
    ['{"type": "step", "metrics": {"net": "sparse", "step": 1, "epoch": 0, "loss": 1, "layers": [{"raw": {"l1": -1, "l2": 1}, "masked": {"l1": 1, "l2": 1}}]}}', /raw\.l1: expected a norm ≥ 0/],
  ] as const) {
    test(`refused: ${line.slice(0, 60)}`, () => {
      const r = parseScriptLine(line);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, reason);
    });
  }
});

describe('a Python trainer through startRun', { skip: noPython, timeout: 120_000 }, () => {
  test('finished: the run folder is complete and valid, alerts none, flow average of the points sent', async () => {
    const { config, file } = experiment('fake_train.py');
    const { session, messages } = run(config, file);
    const outcome = await session.ended;
    assert.equal(outcome.status, 'finished', outcome.error);
    assert.ok(outcome.runDir);
    const rec = readRun(outcome.runDir);
    assert.equal(rec?.status, 'finished');
    assert.equal(rec?.backend, 'external');
    assert.equal(rec?.sourceFile, file);
    const summary = readSummary(outcome.runDir);
    assert.ok(summary);
    assert.equal(summary.nets.length, 2);
    const sparse = summary.nets.find((n) => n.net === 'sparse');
    assert.ok(sparse);
    // 2 epochs × 3 steps; final = the last epoch message: loss 1/(1 + 0.5·6) = 0.25.
    assert.equal(sparse.steps, 6);
    assert.equal(sparse.epochs, 2);
    assert.equal(sparse.final.train.loss, 0.25);
    assert.equal(sparse.final.test.loss, 0.25 * 1.1);
    // Points 0, 1, 2 with layer scales 1, 1/2, 1/3: masked L1 of layer i = s(i+1)/2, EGF1 = s·(1+2+3)/2/3 = s.
    assert.deepEqual(sparse.flowPoints.map((p) => p.index), [0, 1, 2]);
    assert.ok(Math.abs(sparse.flowAverage.egf1 - (1 + 1 / 2 + 1 / 3) / 3) < 1e-12);
    assert.equal(checked.at(sparse.layers, 0).active, 16);
    assert.equal(checked.at(sparse.layers, 0).density, 0.5);
    assert.deepEqual(summary.alerts, []);
    // The log holds ready, every step and epoch in order, and the script's stdout.
    const log = readMetrics(outcome.runDir);
    assert.equal(log.filter((m) => m.type === 'step').length, 12);
    assert.equal(log.filter((m) => m.type === 'ready').length, 1);
    assert.ok(log.some((m) => m.type === 'log' && m.message.includes('[script stdout] fake trainer: lr=0.5 epochs=2')));
    const step = log.find((m) => m.type === 'step');
    assert.ok(step?.type === 'step');
    // Step 1, scale 1: EGF2 = (1/12 + 2/12 + 3/12)/3, g1 = 1 + 2 + 3.
    assert.ok(Math.abs(step.metrics.egf2 - 6 / 12 / 3) < 1e-12);
    assert.equal(step.metrics.g1, 6);
    assert.deepEqual(messages.map((m) => m.type).filter((t) => t === 'hello' || t === 'ready' || t === 'done'), ['hello', 'ready', 'done']);
    // config.json is the resolved experiment, the trainer's command included (the run record shows it).
    const cfg = JSON.parse(fs.readFileSync(path.join(outcome.runDir, 'config.json'), 'utf8')) as ExperimentConfig;
    assert.deepEqual(cfg.trainer?.command, [PYTHON, path.join(FIXTURES, 'fake_train.py')]);
  });

  test('a script that raises: failed, with its traceback tail, what it measured kept', async () => {
    const { config, file } = experiment('crash.py');
    const { session } = run(config, file);
    const outcome = await session.ended;
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.error ?? '', /exited with code 1 before finishing/);
    assert.match(outcome.error ?? '', /ValueError: shape mismatch in batch 7/);
    assert.ok(outcome.exit.stderrTail.some((l) => l.includes('Traceback (most recent call last)')));
    assert.ok(outcome.runDir);
    const rec = readRun(outcome.runDir);
    assert.equal(rec?.status, 'failed');
    assert.match(rec?.reason ?? '', /ValueError: shape mismatch/);
    const log = readMetrics(outcome.runDir);
    assert.equal(log.filter((m) => m.type === 'step').length, 1);
    const err = log.find((m) => m.type === 'error');
    assert.ok(err?.type === 'error' && (err.stack ?? '').includes('load_batch'));
  });

  test('NaN: diverged naming the net, the nan alert on training.learning_rate and its line', async () => {
    const { config, file, text } = experiment('fake_train.py', { args: '{ nan_at: 4 }' });
    const { session } = run(config, file);
    const outcome = await session.ended;
    assert.equal(outcome.status, 'diverged', outcome.error);
    assert.deepEqual(outcome.diverged, ['sparse']);
    const summary = outcome.summary;
    assert.ok(summary);
    assert.equal(summary.finished, true);
    assert.deepEqual(summary.nets.find((n) => n.net === 'sparse')?.diverged, { step: 4, reason: 'non-finite loss in the sparse net at step 4' });
    assert.equal(summary.nets.find((n) => n.net === 'dense')?.diverged, undefined);
    const nan = summary.alerts.find((a) => a.kind === 'nan');
    assert.ok(nan);
    assert.equal(nan.net, 'sparse');
    assert.equal(nan.step, 4);
    assert.equal(nan.key, 'training.learning_rate');
    // The diagnostics path: the alert's range is the learning_rate line of the file (0-based).
    const range = alertRange(analyse(text, `file://${file}`), nan);
    const lrLine = text.split('\n').findIndex((l) => l.trim().startsWith('learning_rate:'));
    assert.equal(range?.start.line, lrLine);
    assert.equal(readRun(outcome.runDir ?? '')?.status, 'diverged');
  });

  test('Stop: a script that ignores it is ended with its whole process group', async () => {
    process.env.GRADFLOW_STOP_GRACE_S = '1';
    try {
      const { config, file } = experiment('fake_train.py', { epochs: 1000, args: '{ ignore_stop: true, child: true }' });
      const { session, messages } = run(config, file);
      // Wait until it trains (its child is started before ready).
      await new Promise<void>((resolve) => session.onMessage((m) => m.type === 'step' && resolve()));
      const pgid = session.handle.pid;
      assert.ok(pgid);
      assert.ok(groupMembers(pgid).length >= 2, `script and its child in group ${pgid}`);
      session.stop();
      const outcome = await session.ended;
      assert.equal(outcome.status, 'stopped', outcome.error);
      assert.match(outcome.summary?.reason ?? '', /stopped by request; the script was ended \(SIGTERM\) without sending 'done'/);
      assert.deepEqual(groupMembers(pgid), [], 'no process of the group survives');
      assert.ok(messages.some((m) => m.type === 'step'));
      assert.equal(readRun(outcome.runDir ?? '')?.status, 'stopped');
    } finally {
      delete process.env.GRADFLOW_STOP_GRACE_S;
    }
  });

  test('Stop: a script that honours it sends done, stopped', async () => {
    const { config, file } = experiment('fake_train.py', { epochs: 1000 });
    const { session } = run(config, file);
    await new Promise<void>((resolve) => session.onMessage((m) => m.type === 'step' && resolve()));
    session.stop();
    const outcome = await session.ended;
    assert.equal(outcome.status, 'stopped');
    assert.equal(outcome.summary?.reason, 'stopped by request');
    assert.equal(outcome.exit.code, 0);
  });

  test('a script that never says hello: a start-up error by the deadline, its group ended', async () => {
    const { config, file } = experiment('silent.py');
    process.env.GRADFLOW_STARTUP_TIMEOUT_S = '1.5';
    let session: ReturnType<typeof startRun>;
    try {
      session = run(config, file).session;
    } finally {
      delete process.env.GRADFLOW_STARTUP_TIMEOUT_S;
    }
    const pgid = session.handle.pid;
    const outcome = await session.ended;
    assert.ok(outcome.status === 'killed' || outcome.status === 'failed', outcome.status);
    assert.match(outcome.error ?? '', /sent no 'hello' within 2 s of starting \(start-up deadline; GRADFLOW_STARTUP_TIMEOUT_S sets it\)/);
    assert.match(outcome.error ?? '', /loading a very large dataset/);
    assert.equal(outcome.runDir, undefined, 'no run folder for a run that never started');
    assert.ok(pgid);
    assert.deepEqual(groupMembers(pgid), []);
  });

  test('a malformed message: refused with the reason, the run failed, the steps before it kept', async () => {
    const { config, file } = experiment('malformed.py');
    const { session } = run(config, file);
    const outcome = await session.ended;
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.error ?? '', /refuses \(line 5 of its protocol pipe\): 'step' message: metrics\.layers\[0\]\.raw\.l1: expected a number .*found "big"/);
    assert.ok(outcome.runDir);
    const rec = readRun(outcome.runDir);
    assert.equal(rec?.status, 'failed');
    const log = readMetrics(outcome.runDir);
    assert.deepEqual(log.filter((m) => m.type === 'step').map((m) => (m.type === 'step' ? m.metrics.step : 0)), [1, 2]);
    assert.equal(readSummary(outcome.runDir)?.nets[0]?.steps, 2);
  });

  /** The fixture experiment with an inline Python program as its command (argv: python3 -c CODE). */
  function inline(code: string): { config: ExperimentConfig; file: string } {
    const { config, file } = experiment('fake_train.py');
    return { config: { ...config, trainer: { command: [PYTHON, '-c', `import sys; sys.path.insert(0, ${JSON.stringify(FIXTURES)}); import wire\n${code}`], cwd: FIXTURES } }, file };
  }

  test('another protocol version: failed, naming both versions', async () => {
    const { config, file } = inline('wire.send({"type": "hello", "protocolVersion": 2, "client": {"name": "future", "version": "9"}})\nimport time; time.sleep(60)');
    const outcome = await run(config, file).session.ended;
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.error ?? '', /speaks protocol 2, this Gradflow 1/);
  });

  test('a script that sends an alert or measures before ready is refused', async () => {
    for (const [code, reason] of [
      ['wire.handshake()\nwire.send({"type": "ready", "nets": [wire.net_decl("sparse", 1)]})\nwire.send({"type": "alert", "alert": {}})', /never sends 'alert'/],
      ['wire.handshake()\nwire.send({"type": "step", "metrics": {"net": "sparse", "step": 1, "epoch": 0, "loss": 1, "layers": []}})', /'step' before 'ready'/],
      ['wire.handshake()\nwire.send({"type": "ready", "nets": [wire.net_decl("sparse", 2)]})\nwire.send({"type": "epoch", "metrics": {"net": "dense", "epoch": 1, "step": 1, "train": {"loss": 1, "accuracy": 0}}})', /'epoch' of net 'dense', which its 'ready' did not declare \(declared: sparse\)/],
      ['wire.handshake()\nwire.send({"type": "ready", "nets": [wire.net_decl("sparse", 2)]})\nwire.send({"type": "step", "metrics": {"net": "sparse", "step": 1, "epoch": 0, "loss": 1, "layers": wire.layers(3, 1.0)}})', /'step' 1 has 3 layer entries, the sparse net declared 2 weight layers/],
      ['wire.handshake()\nwire.send({"type": "ready", "nets": [wire.net_decl("sparse", 2)]})\nwire.send({"type": "step", "metrics": {"net": "sparse", "step": 1, "epoch": 0, "loss": 1, "egf1": 99, "layers": wire.layers(2, 1.0)}})', /'step' 1: egf1 99 disagrees with 0\.75 computed from its layers/],
    ] as const) {
      const { config, file } = inline(`${code}\nimport time; time.sleep(60)`);
      const outcome = await run(config, file).session.ended;
      assert.equal(outcome.status, 'failed', code);
      assert.match(outcome.error ?? '', reason);
      assert.equal(readRun(outcome.runDir ?? '')?.status, 'failed');
    }
  });

  test('Kill: killed at once, its group gone, no summary (as an engine run killed)', async () => {
    const { config, file } = experiment('fake_train.py', { epochs: 1000, args: '{ ignore_stop: true, child: true }' });
    const { session } = run(config, file);
    await new Promise<void>((resolve) => session.onMessage((m) => m.type === 'step' && resolve()));
    const pgid = session.handle.pid;
    assert.ok(pgid);
    session.kill();
    const outcome = await session.ended;
    assert.equal(outcome.status, 'killed');
    assert.deepEqual(groupMembers(pgid), []);
    assert.equal(fs.existsSync(path.join(outcome.runDir ?? '', 'summary.json')), false);
    assert.ok(readMetrics(outcome.runDir ?? '').some((m) => m.type === 'step'), 'what was measured is kept');
  });

  test('a command that does not exist: an error on trainer.command', async () => {
    const { config, file } = experiment('fake_train.py');
    const bad: ExperimentConfig = { ...config, trainer: { command: ['/nonexistent/python9', 'x.py'], cwd: FIXTURES } };
    const { session } = run(bad, file);
    const messages: TrainerToHost[] = [];
    session.onMessage((m) => messages.push(m));
    const outcome = await session.ended;
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.error ?? '', /cannot start the trainer script \["\/nonexistent\/python9","x\.py"\].*was not found/);
  });
});

describe('gradflow run FILE with a Python trainer', { skip: noPython || (!fs.existsSync(cliPath) && 'dist/cli.js not built (npm run build)'), timeout: 120_000 }, () => {
  test('exit 0, status finished, the run listed by gradflow runs', () => {
    const { file, dir } = experiment('fake_train.py');
    const r = spawnSync(process.execPath, [cliPath, 'run', file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /backend external/);
    const runs = spawnSync(process.execPath, [cliPath, 'runs', path.join(dir, 'runs')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(runs.status, 0, runs.stderr);
    assert.match(runs.stdout, /finished/);
  });
});

const clientDir = path.join(repoRoot, 'clients', 'python');
const noClient =
  noPython ||
  (!fs.existsSync(path.join(clientDir, 'gradflow', '__init__.py')) && 'the Python client (clients/python/gradflow) is not in this checkout') ||
  (spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0 && 'python3-torch is not installed');

describe('gradflow run FILE with a PyTorch script using the Python client', { skip: noClient || (!fs.existsSync(cliPath) && 'dist/cli.js not built'), timeout: 180_000 }, () => {
  test('finished: 11 flow points, the pruned layer declared with its mask, norms every step', () => {
    const dir = tmpDir('ext-client');
    dirs.push(dir);
    const file = path.join(dir, 'client.gradflow.yaml');
    fs.writeFileSync(
      file,
      [
        'name: client-mlp',
        'sparsity: { method: random, dense_width: 4 }',
        'model: { width: 8, hidden_layers: 1 }',
        'training: { optimizer: sgd, learning_rate: 0.1, epochs: 4 }',
        'run: { runs_dir: runs }',
        'trainer:',
        `  command: [${PYTHON}, ${JSON.stringify(path.join(FIXTURES, 'client_mlp.py'))}]`,
        '',
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, [cliPath, 'run', file], { encoding: 'utf8', timeout: 170_000, env: { ...process.env, PYTHONPATH: clientDir } });
    assert.equal(r.status, 0, r.stderr);
    const runs = fs.readdirSync(path.join(dir, 'runs'));
    assert.equal(runs.length, 1);
    const runDir = path.join(dir, 'runs', checked.at(runs, 0));
    assert.equal(readRun(runDir)?.status, 'finished');
    const summary = readSummary(runDir);
    assert.ok(summary);
    const [net] = summary.nets;
    assert.ok(net);
    assert.equal(net.net, 'sparse');
    assert.equal(net.steps, 12);
    assert.equal(net.epochs, 4);
    // 4 epochs × 3 steps < 10 epochs: the points fall at steps round(k·12/10), all 11 distinct.
    assert.deepEqual(net.flowPoints.map((p) => p.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(Number.isFinite(net.flowAverage.egf1) && net.flowAverage.egf1 > 0);
    // prune.random_unstructured(amount 0.5) on the 6×8 kernel: 24 of 48 active; the output layer dense.
    assert.deepEqual(net.layers.map((l) => [l.active, l.total]), [[24, 48], [16, 16]]);
    const steps = readMetrics(runDir).flatMap((m) => (m.type === 'step' ? [m.metrics] : []));
    assert.equal(steps.length, 12);
    for (const s of steps) {
      assert.equal(s.layers.length, 2);
      // Masking only removes entries: masked ≤ raw; the unpruned layer's masked gradient is its raw one.
      assert.ok(checked.at(s.layers, 0).masked.l1 <= checked.at(s.layers, 0).raw.l1 * (1 + 1e-12));
      assert.ok(Math.abs(checked.at(s.layers, 1).masked.l2 - checked.at(s.layers, 1).raw.l2) <= 1e-9 * checked.at(s.layers, 1).raw.l2);
    }
  });
});
