/**
 * Issue 11: each alert scenario through the real trainer process (dist/trainer.js, tiny nets on
 * synthetic data, a few steps), then through what the extension does with the alerts (the remedy
 * table, the file's key positions, the run diagnostics and the quick fixes). Asserted: the alert
 * kinds raised, the key each alert carries, the lines of the experiment file the diagnostics land
 * on (hand-counted below), and that the offered fixes point the right way (no "lower the learning
 * rate" for a vanishing net).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../src/languageservice/document';
import { parseExperiment } from '../../src/config/parse';
import { emptyRunState, planRunDiagnostics, type PlannedDiagnostic } from '../../src/languageservice/run-plan';
import { fixesFor, type QuickFix } from '../../src/languageservice/quick-fixes';
import { applyEdits } from '../../src/languageservice/yaml-edit';
import type { ExperimentConfig } from '../../src/shared/experiment';
import type { Alert, AlertKind } from '../../src/shared/protocol';
import { runTrainer, tmpDir } from '../trainer/helpers';
import { at } from '../../src/shared/checked';

interface Scenario {
  text: string;
  config: ExperimentConfig;
  alerts: Alert[];
  diagnostics: PlannedDiagnostic[];
  kinds: Set<AlertKind>;
}

/** Lines 1-3 of every scenario: a small synthetic task (128 examples, 3 classes). */
function syntheticData(features: number): string[] {
  return ['dataset:', '  name: synthetic', `  synthetic: { features: ${features}, classes: 3, train_size: 128, test_size: 64 }`];
}

/** Lines of an experiment file, with the run section (a fresh runs folder) appended last. */
function experiment(lines: string[]): string {
  return [...lines, `run: { backend: cpu, runs_dir: ${JSON.stringify(tmpDir('scenario'))} }`, ''].join('\n');
}

/** Train the file with the real trainer, then plan its run diagnostics as the language server does on the run's reports. */
async function scenario(text: string): Promise<Scenario> {
  const parsed = parseExperiment(text, '/virtual/scenario.gradflow.yaml');
  assert.ok(parsed.config, JSON.stringify(parsed.issues));
  const config = parsed.config;
  const { messages, exit } = await runTrainer(config);
  assert.equal(exit.code, 0, exit.stderrTail.join('\n'));
  const alerts = messages.flatMap((m) => (m.type === 'alert' ? [m.alert] : []));
  const state = emptyRunState();
  state.config = config;
  for (const a of alerts) {
    const entry = state.kinds.get(a.kind);
    if (entry !== undefined) entry.count++;
    else state.kinds.set(a.kind, { first: a, count: 1, layerNames: [] });
  }
  return { text, config, alerts, diagnostics: planRunDiagnostics(state, analyse(text), analyse(text)), kinds: new Set(alerts.map((a) => a.kind)) };
}

/** [0-based line, alert kind] of every diagnostic, in the plan's order. */
function lines(s: Scenario): Array<[number, string]> {
  return s.diagnostics.map((d) => [d.range.start.line, d.code]);
}

/** The diagnostic that stands first for a kind (its main culprit). */
function primary(s: Scenario, kind: AlertKind): PlannedDiagnostic {
  return s.diagnostics.find((d) => d.code === kind) ?? assert.fail(`no ${kind} diagnostic`);
}

function fixes(s: Scenario, kind: AlertKind): QuickFix[] {
  return fixesFor(kind, analyse(s.text), s.config, s.kinds);
}

/** The config after applying a fix to the file. */
function afterFix(s: Scenario, f: QuickFix): ExperimentConfig {
  const r = parseExperiment(applyEdits(s.text, f.edits), '/virtual/fixed.gradflow.yaml');
  assert.ok(r.config, `${f.title}: ${JSON.stringify(r.issues)}`);
  return r.config;
}

function keysOf(s: Scenario, kind: AlertKind): Set<string | undefined> {
  return new Set(s.alerts.filter((a) => a.kind === kind).map((a) => a.key));
}

test('exploding: SGD at a learning rate far too high, no BatchNorm', async () => {
  const s = await scenario(
    experiment([
      'name: exploding', //                                                        0
      ...syntheticData(16), //                                            1-3
      'model:', //                                                                 4
      '  hidden_layers: 3', //                                                     5
      '  width: 32', //                                                            6
      '  activation: relu', //                                                     7
      'training:', //                                                              8
      '  optimizer: sgd', //                                                       9
      '  learning_rate: 3', //                                                     10
      '  epochs: 1', //                                                            11
      '  batch_size: 16', //                                                       12
    ]),
  );
  assert.ok(s.kinds.has('explosion'), `kinds: ${[...s.kinds].join(', ')}`);
  assert.ok(!s.kinds.has('collapse') && !s.kinds.has('collapse-at-mask'));
  assert.deepEqual(keysOf(s, 'explosion'), new Set(['training.learning_rate']));
  // The learning rate first, then the missing BatchNorm on the `model:` line; plain SGD is not blamed.
  assert.deepEqual(lines(s).filter(([, k]) => k === 'explosion'), [[10, 'explosion'], [4, 'explosion']]);
  if (s.kinds.has('nan')) {
    // The blow-up ran on into NaN (on_nan: stop): that one goes on the learning rate too.
    assert.deepEqual(keysOf(s, 'nan'), new Set(['training.learning_rate']));
    assert.deepEqual(lines(s).filter(([, k]) => k === 'nan'), [[10, 'nan']]);
  }
  const offered = fixes(s, 'explosion');
  assert.deepEqual(offered.map((f) => [f.id, f.preferred]), [['lower-learning-rate', true], ['add-batch-norm', false]]);
  assert.equal(afterFix(s, at(offered, 0)).training.learningRate, 0.3);
  assert.equal(afterFix(s, at(offered, 1)).model.batchNorm, true);
});

test('vanishing: a deep sigmoid net raises collapse on the activation, never explosion or lower-the-learning-rate', async () => {
  const s = await scenario(
    experiment([
      'name: vanishing', //                                                        0
      ...syntheticData(16), //                                            1-3
      'model:', //                                                                 4
      '  hidden_layers: 10', //                                                    5
      '  width: 16', //                                                            6
      '  activation: sigmoid', //                                                  7
      'training:', //                                                              8
      '  optimizer: sgd', //                                                       9
      '  learning_rate: 0.01', //                                                  10
      '  epochs: 1', //                                                            11
      '  batch_size: 16', //                                                       12
      'monitoring:', //                                                            13
      '  collapse: { min_norm: 1.0e-6, steps: 5 }', //                             14
    ]),
  );
  assert.deepEqual([...s.kinds], ['collapse']);
  // The first layer, furthest from the loss, is the one whose flow vanished.
  assert.ok(s.alerts.some((a) => a.layer === 0));
  assert.deepEqual(keysOf(s, 'collapse'), new Set(['model.activation']));
  // Dense (method none): the activation, then the missing BatchNorm; no density to blame.
  assert.deepEqual(lines(s), [[7, 'collapse'], [4, 'collapse']]);
  assert.doesNotMatch(s.diagnostics.map((d) => d.message).join('\n'), /learning rate|too high/i);
  const offered = fixes(s, 'collapse');
  assert.ok(offered.every((f) => f.id !== 'lower-learning-rate'));
  assert.deepEqual(offered.map((f) => f.title), ['Add BatchNorm (model.batch_norm: true)', 'Switch activation to swish', 'Switch activation to prelu']);
  assert.equal(afterFix(s, at(offered, 1)).model.activation, 'swish');
});

test('vanishing: a very sparse sigmoid net is collapsed at mask time, and its collapse is blamed on the density', async () => {
  const s = await scenario(
    experiment([
      'name: very-sparse', //                                                      0
      ...syntheticData(16), //                                            1-3
      'model:', //                                                                 4
      '  hidden_layers: 4', //                                                     5
      '  width: 64', //                                                            6
      '  activation: sigmoid', //                                                  7
      'sparsity:', //                                                              8
      '  method: random', //                                                       9
      '  density: 0.03', //                                                        10
      'training:', //                                                              11
      '  optimizer: sgd', //                                                       12
      '  learning_rate: 0.01', //                                                  13
      '  epochs: 1', //                                                            14
      '  batch_size: 16', //                                                       15
      'monitoring:', //                                                            16
      '  collapse: { min_norm: 1.0e-6, steps: 5 }', //                             17
    ]),
  );
  // dense_width = round(64 × 0.03) = 2: hidden-to-hidden layers keep round(64² × (2/64)²) = 4 weights.
  assert.deepEqual([...s.kinds].sort(), ['collapse', 'collapse-at-mask']);
  assert.ok(!s.kinds.has('explosion'));
  assert.ok(s.alerts.every((a) => a.net === 'sparse'), 'the dense twin trains');
  // The trainer stamps the registry's key; the file writes the other spelling (density), which is where it lands.
  assert.deepEqual(keysOf(s, 'collapse-at-mask'), new Set(['sparsity.dense_width']));
  assert.deepEqual(keysOf(s, 'collapse'), new Set(['sparsity.dense_width']));
  assert.deepEqual(lines(s), [
    [10, 'collapse-at-mask'], // density
    [6, 'collapse-at-mask'], // model.width
    [10, 'collapse'], // density first: the mask cut the layers off
    [7, 'collapse'], // activation
    [4, 'collapse'], // no BatchNorm
  ]);
  assert.match(primary(s, 'collapse').message, /raise the density \(sparsity\.density\)/);
  for (const kind of ['collapse-at-mask', 'collapse'] as const) {
    const [first] = fixes(s, kind);
    assert.ok(first);
    assert.equal(first.id, 'raise-density', kind);
    assert.match(applyEdits(s.text, first.edits), /\n {2}density: 0\.06\n/, kind);
    assert.equal(afterFix(s, first).sparsity.denseWidth, 4); // round(64 × 0.06), up from 2
    assert.ok(fixes(s, kind).every((f) => f.id !== 'lower-learning-rate'));
  }
});

test('NaN: a learning rate that overflows stops the net with a NaN alert on the learning rate', async () => {
  const s = await scenario(
    experiment([
      'name: nan', //                                                              0
      ...syntheticData(16), //                                            1-3
      'model:', //                                                                 4
      '  width: 32', //                                                            5
      'training:', //                                                              6
      '  optimizer: sgd', //                                                       7
      '  learning_rate: 1.0e+30', //                                               8
      '  epochs: 1', //                                                            9
      '  batch_size: 16', //                                                       10
    ]),
  );
  assert.ok(s.kinds.has('nan'), `kinds: ${[...s.kinds].join(', ')}`);
  const nan = s.alerts.find((a) => a.kind === 'nan') ?? assert.fail();
  assert.equal(nan.severity, 'error');
  assert.equal(nan.key, 'training.learning_rate');
  assert.deepEqual(lines(s).filter(([, k]) => k === 'nan'), [[8, 'nan']]);
  const [first] = fixes(s, 'nan');
  assert.ok(first);
  assert.equal(first.id, 'lower-learning-rate');
  assert.equal(afterFix(s, first).training.learningRate, 1e29);
  assert.match(applyEdits(s.text, first.edits), /learning_rate: 1e29\n/); // exponent form kept
});

test('collapse at mask time: global magnitude pruning empties the first layer; the scope is blamed first', async () => {
  const s = await scenario(
    experiment([
      'name: mask-collapse', //                                                     0
      ...syntheticData(512), //                                            1-3
      'model:', //                                                                  4
      '  hidden_layers: 2', //                                                      5
      '  width: 64', //                                                             6
      'sparsity:', //                                                               7
      '  method: magnitude', //                                                     8
      '  scope: global', //                                                         9
      '  density: 0.05', //                                                         10
      'training:', //                                                               11
      '  epochs: 1', //                                                             12
      '  batch_size: 16', //                                                        13
    ]),
  );
  // The first layer's He-normal weights (fan-in 512) are the smallest of the net: a global
  // magnitude cut at SC-SDC's total count keeps none of them.
  const empty = s.alerts.find((a) => a.kind === 'collapse-at-mask' && a.layer === 0 && a.severity === 'error') ?? assert.fail(JSON.stringify(s.alerts));
  assert.equal(empty.step, 0);
  assert.equal(empty.key, 'sparsity.scope');
  assert.ok(!s.kinds.has('explosion'));
  assert.deepEqual(lines(s).filter(([, k]) => k === 'collapse-at-mask'), [
    [9, 'collapse-at-mask'], // scope: global
    [8, 'collapse-at-mask'], // magnitude
    [10, 'collapse-at-mask'], // density
    [6, 'collapse-at-mask'], // width
  ]);
  const offered = fixes(s, 'collapse-at-mask');
  assert.deepEqual(offered.map((f) => f.id), ['use-layerwise-scope', 'raise-density', 'switch-to-synflow']);
  assert.equal(afterFix(s, at(offered, 0)).sparsity.scope, 'layerwise');
  assert.match(applyEdits(s.text, at(offered, 1).edits), /\n {2}density: 0\.1\n/);
  assert.equal(afterFix(s, at(offered, 1)).sparsity.denseWidth, 6); // round(64 × 0.1), up from 3
  assert.equal(afterFix(s, at(offered, 2)).sparsity.method, 'synflow');
});
