/**
 * Guards and reducer of the sweep messages (src/shared/webview-protocol.ts): every field of every
 * new message is checked (missing, wrong type, NaN/Infinity), plus the rules specific to sweeps;
 * an `init` without sweep fields (an older host) is still accepted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  WEBVIEW_PROTOCOL_VERSION,
  applyNotification,
  emptyModel,
  isHostToPage,
  isPageToHost,
  type DashboardModel,
  type HostToPage,
  type PageToHost,
  type SweepModel,
  type SweepRow,
} from '../../src/shared/webview-protocol';
import { assertRejectsMissingFields, assertRejectsNonFinite, assertRejectsWrongTypes, type Path } from './fixtures';

const finishedRow: SweepRow = {
  configId: 'c1',
  point: { 'training.optimizer': 'adam', 'model.batch_norm': true, 'sparsity.dense_width': 64, 'training.seed': 0, 'x.y': null },
  status: 'finished',
  progress: null,
  runId: 'run-1',
  message: 'done',
  sparse: { testAccuracy: 0.875, testLoss: 0.25, egf1: 12, egf2: null, g1: 30, g2: null },
  dense: { testAccuracy: 0.75, testLoss: 0.5, egf1: 10, egf2: 0.125, g1: 10, g2: 0.125 },
};
const runningRow: SweepRow = { ...finishedRow, configId: 'c2', status: 'running', progress: 0.5, sparse: null, dense: null };
const sweep: SweepModel = {
  info: {
    sweepId: '/w/.gradflow/runs/sweep-fmnist',
    name: 'fmnist',
    sourceFile: '/w/fmnist.gradflow.yaml',
    createdAt: '2026-11-26T08:00:00.000Z',
    status: 'running',
    axes: ['training.optimizer', 'model.batch_norm', 'sparsity.dense_width', 'training.seed'],
    message: 'note',
  },
  rows: [finishedRow, runningRow],
};
const view = { sort: { column: 'sparse.testAccuracy', direction: 'desc' }, text: 'adam', statuses: ['finished', 'running'] };

const hostSamples: HostToPage[] = JSON.parse(JSON.stringify([
  { type: 'init', protocolVersion: WEBVIEW_PROTOCOL_VERSION, model: { runs: [], focusRunId: null, sweeps: [sweep], focusSweepId: sweep.info.sweepId } },
  { type: 'sweepAdded', sweep },
  { type: 'sweepRow', sweepId: sweep.info.sweepId, row: finishedRow },
  { type: 'sweepStatus', sweepId: sweep.info.sweepId, status: 'stopped', message: 'cancelled' },
  { type: 'focusSweep', sweepId: sweep.info.sweepId },
])) as HostToPage[];

const pageSamples: PageToHost[] = JSON.parse(JSON.stringify([
  { type: 'selectSweep', sweepId: sweep.info.sweepId },
  { type: 'openSweepRun', sweepId: sweep.info.sweepId, configId: 'c1' },
  { type: 'exportSweepCsv', sweepId: sweep.info.sweepId, view },
])) as PageToHost[];

/** Fields whose absence is legal. */
const OPTIONAL = new Set(['sourceFile', 'message', 'sweeps', 'focusSweepId']);

/** A grid point may hold any axes: removing one leaves a valid (smaller) point. */
const inPoint = (p: Path): boolean => p.length >= 2 && p[p.length - 2] === 'point';

for (const [name, samples, guard] of [
  ['host → page', hostSamples, isHostToPage],
  ['page → host', pageSamples, isPageToHost],
] as [string, unknown[], (v: unknown) => boolean][]) {
  describe(`sweep messages, ${name}`, () => {
    it('accepts one valid sample of every new message type', () => {
      for (const s of samples) assert.equal(guard(s), true, JSON.stringify(s));
    });

    it('rejects a missing required field, anywhere in the message', () => {
      const checked = assertRejectsMissingFields(samples, guard, (key, p) => OPTIONAL.has(key) || inPoint(p));
      assert.ok(checked >= samples.length * 2, `checked ${checked} fields`);
    });

    it('rejects a wrong type in every field', () => {
      assertRejectsWrongTypes(samples, guard);
    });

    it('rejects NaN and Infinity in every number field', () => {
      assertRejectsNonFinite(samples, guard);
    });
  });
}

describe('sweep-specific rules', () => {
  const rowMsg = hostSamples[2] as Extract<HostToPage, { type: 'sweepRow' }>;
  const withRow = (over: Partial<Record<keyof SweepRow, unknown>>): unknown => ({ ...rowMsg, row: { ...finishedRow, ...over } });

  it('progress is a fraction or null', () => {
    for (const p of [0, 0.5, 1, null]) assert.equal(isHostToPage(withRow({ progress: p })), true, String(p));
    for (const p of [-0.01, 1.01, 50, '0.5']) assert.equal(isHostToPage(withRow({ progress: p })), false, String(p));
  });

  it('statuses, run ids and grid values', () => {
    assert.equal(isHostToPage(withRow({ status: 'killed' })), false, 'killed is shown as failed');
    assert.equal(isHostToPage(withRow({ runId: '' })), false);
    assert.equal(isHostToPage(withRow({ runId: null })), true);
    assert.equal(isHostToPage(withRow({ point: {} })), true);
    assert.equal(isHostToPage(withRow({ point: { a: [1, 2] } })), false, 'structured values travel as JSON text');
    assert.equal(isHostToPage(withRow({ point: { a: '[1,2]' } })), true);
    assert.equal(isHostToPage(JSON.parse(`{"type":"sweepRow","sweepId":"/s","row":${JSON.stringify({ ...finishedRow, point: {} }).replace('"point":{}', '"point":{"__proto__":1}')}}`)), false);
    assert.equal(isHostToPage({ ...hostSamples[3], status: 'paused' }), false);
    assert.equal(isHostToPage({ type: 'focusSweep', sweepId: '' }), false);
  });

  it('a sweep may not list a configuration twice, nor name an empty axis', () => {
    assert.equal(isHostToPage({ type: 'sweepAdded', sweep: { ...sweep, rows: [finishedRow, finishedRow] } }), false);
    assert.equal(isHostToPage({ type: 'sweepAdded', sweep: { ...sweep, info: { ...sweep.info, axes: [''] } } }), false);
    assert.equal(isHostToPage({ type: 'sweepAdded', sweep: { ...sweep, rows: [] } }), true);
  });

  it('table views: known directions, distinct statuses, bounded text, null sort', () => {
    const cmd = pageSamples[2] as Extract<PageToHost, { type: 'exportSweepCsv' }>;
    const withView = (v: unknown): unknown => ({ ...cmd, view: v });
    assert.equal(isPageToHost(withView({ ...view, sort: null })), true);
    assert.equal(isPageToHost(withView({ ...view, statuses: [] })), true);
    assert.equal(isPageToHost(withView({ ...view, sort: { column: 'status', direction: 'up' } })), false);
    assert.equal(isPageToHost(withView({ ...view, sort: { column: '', direction: 'asc' } })), false);
    assert.equal(isPageToHost(withView({ ...view, statuses: ['finished', 'finished'] })), false);
    assert.equal(isPageToHost(withView({ ...view, statuses: ['done'] })), false);
    // The sweep's own status speaks the run-status vocabulary: no `done` (issue 23).
    assert.equal(isHostToPage({ type: 'sweepStatus', sweepId: 's', status: 'done' }), false);
    assert.equal(isPageToHost(withView({ ...view, text: 'x'.repeat(1001) })), false);
  });

  it('selectSweep takes a sweep id or null (back to the runs), never an empty id', () => {
    assert.equal(isPageToHost({ type: 'selectSweep', sweepId: null }), true);
    assert.equal(isPageToHost({ type: 'selectSweep', sweepId: '' }), false);
    assert.equal(isPageToHost({ type: 'selectSweep' }), false);
    assert.equal(isPageToHost({ type: 'openSweepRun', sweepId: '/s', configId: '' }), false);
  });

  it('an init without sweep fields (an older host) is valid and reads as no sweeps', () => {
    const old = { type: 'init', protocolVersion: WEBVIEW_PROTOCOL_VERSION, model: { runs: [], focusRunId: null } };
    assert.equal(isHostToPage(old), true);
    const m = applyNotification(emptyModel(), old as HostToPage);
    assert.deepEqual(m, { runs: [], focusRunId: null, sweeps: [], focusSweepId: null });
    assert.equal(isHostToPage({ ...old, model: { runs: [], focusRunId: null, sweeps: null } }), false);
    assert.equal(isHostToPage({ ...old, model: { runs: [], focusRunId: null, focusSweepId: '' } }), false);
  });
});

describe('applyNotification for sweeps', () => {
  const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

  it('adds, replaces, updates rows and status, and drops stale rows', () => {
    let m: DashboardModel = emptyModel();
    m = applyNotification(m, { type: 'sweepAdded', sweep: copy(sweep) });
    m = applyNotification(m, { type: 'sweepAdded', sweep: copy({ ...sweep, info: { ...sweep.info, sweepId: '/other' } }) });
    assert.deepEqual(m.sweeps?.map((s) => s.info.sweepId), [sweep.info.sweepId, '/other']);
    const done = { ...runningRow, status: 'finished' as const, progress: null };
    m = applyNotification(m, { type: 'sweepRow', sweepId: sweep.info.sweepId, row: copy(done) });
    assert.deepEqual(m.sweeps?.[0]?.rows[1], done);
    m = applyNotification(m, { type: 'sweepRow', sweepId: sweep.info.sweepId, row: copy({ ...done, configId: 'ghost' }) });
    m = applyNotification(m, { type: 'sweepRow', sweepId: '/nowhere', row: copy(done) });
    assert.equal(m.sweeps?.[0]?.rows.length, 2);
    m = applyNotification(m, { type: 'sweepStatus', sweepId: sweep.info.sweepId, status: 'finished' });
    assert.equal(m.sweeps?.[0]?.info.status, 'finished');
    assert.equal(m.sweeps?.[0]?.info.message, 'note', 'a status without a message keeps the old one');
    m = applyNotification(m, { type: 'sweepAdded', sweep: copy({ ...sweep, rows: [] }) });
    assert.equal(m.sweeps?.length, 2);
    assert.equal(m.sweeps?.[0]?.rows.length, 0, 'replaced whole');
  });

  it('focusSweep shows a sweep; focusRun goes back to the run view', () => {
    let m: DashboardModel = emptyModel();
    m = applyNotification(m, { type: 'focusSweep', sweepId: '/s' });
    assert.equal(m.focusSweepId, '/s');
    m = applyNotification(m, { type: 'focusRun', runId: 'r1' });
    assert.equal(m.focusSweepId, null);
    assert.equal(m.focusRunId, 'r1');
  });
});
