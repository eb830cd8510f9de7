/**
 * Diagnostics after a window reload: the latest run of each file is picked, its recorded log is
 * turned back into the run reports a live run sends, and the server's run state (the real
 * `RunReports` and language service) shows them on the file again, with the "from the run before …
 * was changed" note when the file was edited after the run. Lines hand-counted in the texts below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../src/languageservice';
import { RunReports } from '../../src/server/run-reports';
import { baselineText, latestRunPerFile, restoreReports } from '../../src/extension/restore-diagnostics';
import type { Alert, TrainerToHost } from '../../src/shared/protocol';
import { at } from '../../src/shared/checked';

const uri = 'file:///tmp/ws/restore.gradflow.yaml';
const lines = (lr: string, batchNorm = true): string =>
  ['dataset:', '  name: synthetic', 'model:', '  width: 64', ...(batchNorm ? ['  batch_norm: true'] : []), 'training:', '  optimizer: sgd', `  learning_rate: ${lr}`, ''].join('\n');
const SEEN = lines('5');
const config = analyse(SEEN, uri).parsed.config ?? assert.fail('the file resolves');
const alert = (step: number): Alert => ({ net: 'sparse', kind: 'explosion', step, layer: 0, value: 1e5, message: 'grew', severity: 'warning', key: 'training.learning_rate' });
const ready = (names: string[]): TrainerToHost =>
  ({
    type: 'ready',
    runId: 'r1',
    runDir: '/tmp/ws/.gradflow/runs/r1',
    backend: 'cpu',
    nets: [{ net: 'sparse', width: 64, layers: names.map((name) => ({ name })), activeWeights: 1 }],
    stepsPerEpoch: 1,
    totalSteps: 1,
    dataset: { name: 'synthetic', train: 1, validation: 1, test: 1, source: 'generated' },
  }) as unknown as TrainerToHost;
const LOG: TrainerToHost[] = [
  ready(['dense1', 'output']),
  { type: 'alert', alert: alert(10) },
  { type: 'alert', alert: alert(20) },
  { type: 'error', message: 'too wide for this machine', key: 'model.width' },
];

test('the latest run of each file is the one restored; runs without a file are skipped', () => {
  const runs = [
    { runId: '20261206-100000-a-0001', sourceFile: '/w/a.gradflow.yaml', startedAt: '2026-12-06T10:00:00Z' },
    { runId: '20261206-110000-a-0002', sourceFile: '/w/a.gradflow.yaml', startedAt: '2026-12-06T11:00:00Z' },
    { runId: '20261206-090000-b-0003', sourceFile: '/w/b.gradflow.yaml', startedAt: '2026-12-06T09:00:00Z' },
    { runId: '20261206-120000-c-0004', startedAt: '2026-12-06T12:00:00Z' },
  ];
  const latest = latestRunPerFile(runs);
  assert.deepEqual([...latest.entries()].map(([f, r]) => [f, r.runId]), [
    ['/w/a.gradflow.yaml', '20261206-110000-a-0002'],
    ['/w/b.gradflow.yaml', '20261206-090000-b-0003'],
  ]);
  // Order of the listing does not matter.
  assert.equal(latestRunPerFile([...runs].reverse()).get('/w/a.gradflow.yaml')?.runId, '20261206-110000-a-0002');
});

test('a recorded log becomes reset, alerts with layer names, and the refused setting', () => {
  const reports = restoreReports(uri, SEEN, LOG, config);
  assert.deepEqual(reports.map((r) => r.type), ['reset', 'alert', 'alert', 'trainer-error']);
  const a = at(reports, 1);
  assert.ok(a.type === 'alert');
  assert.deepEqual(a.layerNames, ['dense1', 'output']);
  assert.equal(a.alert.step, 10);
  // Without the run's config the alerts cannot be placed: only the refused setting comes back.
  assert.deepEqual(restoreReports(uri, SEEN, LOG, undefined).map((r) => r.type), ['reset', 'trainer-error']);
});

function restoredDiagnostics(seen: string, now: string) {
  const server = new RunReports();
  const runConfig = analyse(seen, uri).parsed.config ?? assert.fail('the file resolves');
  for (const r of restoreReports(uri, seen, LOG, runConfig)) server.apply(r);
  return server.render(uri, analyse(now, uri), analyse(seen, uri));
}

test('restored alerts land on their lines as before the reload', () => {
  const ds = restoredDiagnostics(SEEN, SEEN);
  assert.deepEqual(ds.map((d) => [d.range.start.line, d.code, d.severity]), [
    [3, 'trainer-error', 1],
    [7, 'explosion', 2],
  ]);
  assert.match(at(ds, 1).message, /\(1 more explosion alert in this run\)$/);
  assert.doesNotMatch(at(ds, 1).message, /from the run before/);
});

test('a setting edited after the run gets the "from the run before … was changed" note', () => {
  // Without batch norm an explosion also points at \`model\` (line 2): that diagnostic stays, with
  // the note, while the one on the edited learning rate goes.
  const ds = restoredDiagnostics(lines('5', false), lines('0.5', false));
  assert.deepEqual(ds.map((d) => [d.range.start.line, d.code]), [[3, 'trainer-error'], [2, 'explosion']]);
  const explosion = ds.find((d) => d.code === 'explosion') ?? assert.fail('the alert is restored');
  assert.match(explosion.message, /^\(from the run before training\.learning_rate was changed\) /);
  assert.equal(explosion.severity, 3); // information: it may no longer hold
});

test('the baseline is the recorded text of that run, else the file as it is now', () => {
  const records = { [uri]: { runId: 'r1', text: SEEN } };
  assert.equal(baselineText(records, uri, 'r1', 'now'), SEEN);
  assert.equal(baselineText(records, uri, 'r2', 'now'), 'now');
  assert.equal(baselineText(records, 'file:///other', 'r1', 'now'), 'now');
});
