import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSweepResults, ReportError } from '../../../src/study/report';
import { mainSweepRuns, makeConfig, tmpDir, writeSweep, type HandRun } from './fixture';
import { at } from '../../../src/shared/checked';

function expectReportError(fn: () => unknown, code: ReportError['code'], message: RegExp): ReportError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ReportError, `expected a ReportError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.match(caught.message, message);
  return caught;
}

test('reads every planned configuration with a finished run: point, config, both nets', () => {
  const dir = writeSweep(path.join(tmpDir(), 'sweep-hand'), mainSweepRuns());
  const r = loadSweepResults(dir);
  assert.equal(r.name, 'hand-sweep');
  assert.equal(r.planned, 24);
  assert.equal(r.rows.length, 24);
  assert.deepEqual(r.unfinished, []);
  const first = at(r.rows, 0);
  assert.equal(first.configId, 'sgd-nr-0');
  assert.deepEqual(first.point, { 'training.optimizer': 'sgd', 'model.batch_norm': false, 'training.seed': 0 });
  assert.equal(first.config.training.optimizer, 'sgd');
  assert.equal(first.nets.sparse?.final.test.accuracy, 0.49);
  assert.equal(first.nets.dense?.flowAverage.egf1, 1);
});

test('newest finished run per configuration; unfinished and orphaned runs are reported, not tabulated', () => {
  const config = makeConfig();
  const runs: HandRun[] = [
    { id: 'a', point: { 'training.seed': 0 }, config, sparse: { accuracy: 0.1 }, dense: { accuracy: 0.1 }, startedAt: '2026-11-26T08:00:00.000Z' },
    { id: 'a', point: { 'training.seed': 0 }, config, sparse: { accuracy: 0.2 }, dense: { accuracy: 0.2 }, startedAt: '2026-11-26T09:00:00.000Z' },
    { id: 'a', point: { 'training.seed': 0 }, config, sparse: { accuracy: 0.3 }, dense: { accuracy: 0.3 }, startedAt: '2026-11-26T10:00:00.000Z', finished: false },
    { id: 'b', point: { 'training.seed': 1 }, config, sparse: { accuracy: 0.4 }, dense: { accuracy: 0.4 }, finished: false },
    { id: 'old', point: { 'training.seed': 2 }, config, sparse: { accuracy: 0.5 }, dense: { accuracy: 0.5 }, orphan: true },
  ];
  const r = loadSweepResults(writeSweep(path.join(tmpDir(), 'sweep-x'), runs));
  assert.equal(r.rows.length, 1);
  assert.equal(at(r.rows, 0).nets.sparse?.final.test.accuracy, 0.2, 'the newest *finished* run of a');
  assert.deepEqual(r.unfinished, [{ id: 'b', point: { 'training.seed': 1 } }]);
  assert.deepEqual(r.orphaned, ['old']);
});

test('a diverged net (null in JSON) is read as NaN, not as a missing metric', () => {
  const runs: HandRun[] = [{ id: 'a', point: {}, config: makeConfig(), sparse: { accuracy: 0.1 }, dense: { accuracy: 0.1 }, mutate: (s) => {
    (at((s.nets as Array<{ final: { test: { loss: unknown } } }>), 0)).final.test.loss = null;
  } }];
  const r = loadSweepResults(writeSweep(path.join(tmpDir(), 'sweep-nan'), runs));
  assert.ok(Number.isNaN(at(r.rows, 0).nets.sparse?.final.test.loss));
});

test('every null of a net (flow points, layers, final splits) is read as NaN; alerts come through', () => {
  const runs: HandRun[] = [{
    id: 'a', point: {}, config: makeConfig(),
    sparse: { accuracy: NaN, loss: NaN, init: { egf1: NaN, egf2: 2 }, densities: [NaN, 0.5] },
    dense: { accuracy: 0.4 },
    alerts: [{ net: 'sparse', kind: 'nan', step: 3, layer: -1, value: 'NaN', message: 'loss is NaN', severity: 'error' }],
  }];
  const dir = writeSweep(path.join(tmpDir(), 'sweep-nulls'), runs);
  const run = fs.readdirSync(dir).find((f) => f !== 'sweep.json');
  assert.ok(run);
  assert.match(fs.readFileSync(path.join(dir, run, 'summary.json'), 'utf8'), /"egf1":null.*"density":null/);
  const sparse = at(loadSweepResults(dir).rows, 0).nets.sparse;
  assert.ok(sparse);
  assert.ok(Number.isNaN(at(sparse.flowPoints, 0).egf1));
  assert.equal(at(sparse.flowPoints, 0).egf2, 2);
  assert.ok(Number.isNaN(at(sparse.layers, 0).density));
  assert.equal(at(sparse.layers, 1).density, 0.5);
  assert.ok(Number.isNaN(sparse.final.validation.accuracy));
  assert.equal(at(at(loadSweepResults(dir).rows, 0).alerts, 0).kind, 'nan');
});

test('errors: no folder, a folder that is not a sweep, no finished runs', () => {
  const base = tmpDir();
  expectReportError(() => loadSweepResults(path.join(base, 'nope')), 'not-a-sweep', /nope: no such folder/);
  const empty = path.join(base, 'empty');
  fs.mkdirSync(empty);
  expectReportError(() => loadSweepResults(empty), 'not-a-sweep', /sweep\.json: not a sweep folder \(ENOENT\).*gradflow sweep FILE/);
  const bad = path.join(base, 'bad');
  fs.mkdirSync(bad);
  fs.writeFileSync(path.join(bad, 'sweep.json'), '{"name": "x"}');
  expectReportError(() => loadSweepResults(bad), 'not-a-sweep', /not a sweep manifest/);
  const unfinished = writeSweep(path.join(base, 'sweep-u'), [
    { id: 'a', point: {}, config: makeConfig(), sparse: { accuracy: 0.1 }, finished: false },
  ]);
  expectReportError(() => loadSweepResults(unfinished), 'no-finished-runs', /none of the 1 planned runs has finished/);
});

test('errors: a run lacking a metric or a config field names the run and the field', () => {
  const base = tmpDir();
  const noEgf = writeSweep(path.join(base, 'sweep-m'), [
    { id: 'a', point: {}, config: makeConfig(), sparse: { accuracy: 0.1 }, dense: { accuracy: 0.1 }, mutate: (s) => {
      delete (at((s.nets as Array<{ flowAverage: Record<string, unknown> }>), 1)).flowAverage.egf2;
    } },
  ]);
  const runId = fs.readdirSync(noEgf).find((n) => n !== 'sweep.json') ?? '';
  const e = expectReportError(() => loadSweepResults(noEgf), 'missing-metric', new RegExp(`run ${runId}: the dense net has no flowAverage\\.egf2 in summary\\.json`));
  assert.equal(e.run, runId);
  assert.equal(e.metric, 'dense.flowAverage.egf2');
  const noAcc = writeSweep(path.join(base, 'sweep-acc'), [
    { id: 'a', point: {}, config: makeConfig(), sparse: { accuracy: 0.1 }, mutate: (s) => {
      (at((s.nets as Array<{ final: { test: Record<string, unknown> } }>), 0)).final.test.accuracy = 'high';
    } },
  ]);
  expectReportError(() => loadSweepResults(noAcc), 'missing-metric', /the sparse net has no final\.test\.accuracy in summary\.json \(found "high"\)/);
  const noNets = writeSweep(path.join(base, 'sweep-n'), [{ id: 'a', point: {}, config: makeConfig() }]);
  expectReportError(() => loadSweepResults(noNets), 'missing-metric', /summary\.json has no nets/);
  const cfg = makeConfig() as unknown as { training: Record<string, unknown> };
  delete cfg.training.augmentation;
  const noAug = writeSweep(path.join(base, 'sweep-c'), [
    { id: 'a', point: {}, config: cfg as unknown as ReturnType<typeof makeConfig>, sparse: { accuracy: 0.1 } },
  ]);
  expectReportError(() => loadSweepResults(noAug), 'bad-run', /config\.json has no boolean training\.augmentation/);
});
