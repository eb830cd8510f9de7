import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  WEBVIEW_PROTOCOL_VERSION,
  applyNotification,
  emptyModel,
  emptySeries,
  isHostToPage,
  isPageToHost,
  type HostToPage,
  type PageToHost,
  type RunState,
} from '../../src/shared/webview-protocol';
import { assertRejectsMissingFields, assertRejectsNonFinite, assertRejectsWrongTypes, netInfo } from './fixtures';
import { at } from '../../src/shared/checked';

const series = {
  lastStep: 3,
  count: 3,
  loss: { x: [1, 2, 3], y: [2.3, null, 2.1] },
  accuracy: { x: [1, 2, 3], y: [0.1, 0.2, 0.3] },
  egf1: { x: [1, 3], y: [0.5, 0.4] },
  egf2: { x: [1, 3], y: [0.05, 0.04] },
  g1: { x: [1, 3], y: [1, 0.9] },
  g2: { x: [1, 3], y: [0.1, 0.09] },
  layerL2: [{ x: [1, 3], y: [0.1, 0.2] }, { x: [1, 3], y: [0.01, null] }],
  active: [100, 20],
};
const epochPoint = {
  epoch: 1, step: 100, elapsed: 2.5,
  train: { loss: 0.5, accuracy: 0.8 }, validation: { loss: null, accuracy: 0.7 }, test: { loss: 0.6, accuracy: 0.75 },
};
const flowPoint = { index: 0, epoch: 0, egf1: 0.5, egf2: 0.05, g1: 1, g2: null };
const maskUpdate = {
  step: 4, epoch: 0, method: 'rigl', fraction: 0.272,
  layers: [{ layer: 0, dropped: 17, grown: 17, regrown: 13, active: 63, overlap: 0.9365 }, { layer: 2, dropped: 5, grown: 5, regrown: 2, active: 22, overlap: null }],
};
const alertValue = { net: 'sparse', kind: 'nan', step: 3, layer: -1, value: 'NaN', message: 'loss is NaN at step 3', severity: 'error' };
const setup = {
  backend: 'cpu', totalSteps: 300, stepsPerEpoch: 100,
  dataset: { name: 'fashion-mnist', train: 54000, validation: 6000, test: 10000, source: 'package' },
  nets: [netInfo('sparse')],
};
const run: RunState = JSON.parse(JSON.stringify({
  meta: {
    runId: 'r1', title: 'fmnist', sourceFile: '/w/a.gradflow.yaml', backend: 'cpu', startedAt: '2026-12-01T10:00:00.000Z',
    status: 'diverged', diverged: ['sparse'], message: 'non-finite loss', logTail: ['warn: non-finite loss in the sparse net at step 3'],
  },
  setup,
  nets: [{ net: 'sparse', series, epochs: [epochPoint], flowPoints: [flowPoint], maskUpdates: [maskUpdate] }],
  alerts: [alertValue],
})) as RunState;

/** One valid sample of every host → page message. */
const hostSamples: HostToPage[] = JSON.parse(JSON.stringify([
  { type: 'init', protocolVersion: WEBVIEW_PROTOCOL_VERSION, model: { runs: [run], focusRunId: 'r1' } },
  { type: 'runAdded', run },
  { type: 'runSetup', runId: 'r1', setup },
  { type: 'series', runId: 'r1', net: 'sparse', series },
  { type: 'epoch', runId: 'r1', net: 'dense', point: epochPoint },
  { type: 'flowPoint', runId: 'r1', net: 'sparse', point: flowPoint },
  { type: 'alert', runId: 'r1', index: 0, alert: { ...alertValue, value: 12.5, kind: 'explosion', severity: 'warning' } },
  { type: 'runStatus', runId: 'r1', status: 'failed', message: 'trainer exited with code 1' },
  { type: 'runStatus', runId: 'r1', status: 'killed', message: 'killed (signal SIGKILL)', diverged: ['dense'], logTail: ['loading data', 'stderr: Killed'] },
  { type: 'focusRun', runId: 'r1' },
  { type: 'maskUpdate', runId: 'r1', net: 'sparse', update: maskUpdate },
])) as HostToPage[];

const pageSamples: PageToHost[] = [
  { type: 'ready', protocolVersion: WEBVIEW_PROTOCOL_VERSION },
  { type: 'revealAlert', runId: 'r1', alertIndex: 0 },
  { type: 'exportCsv', runId: 'r1', what: 'layers' },
  { type: 'savePng', name: 'fmnist-l2', dataUrl: 'data:image/png;base64,iVBORw0KGgo=' },
  { type: 'selectRun', runId: 'r1' },
];

/** Fields whose absence is legal. */
const OPTIONAL = new Set(['sourceFile', 'backend', 'message', 'startedAt', 'diverged', 'logTail']);

const suites: [string, unknown[], (v: unknown) => boolean][] = [
  ['host → page', hostSamples, isHostToPage],
  ['page → host', pageSamples, isPageToHost],
];

for (const [name, samples, guard] of suites) {
  describe(`${name} guards`, () => {
    it('accept one valid sample of every message type', () => {
      for (const s of samples) assert.equal(guard(s), true, JSON.stringify(s));
    });

    it('reject a missing required field, anywhere in the message', () => {
      const checked = assertRejectsMissingFields(samples, guard, (key) => OPTIONAL.has(key));
      assert.ok(checked >= samples.length * 2, `checked ${checked} fields`);
    });

    it('reject a wrong type in every field', () => {
      assertRejectsWrongTypes(samples, guard);
    });

    it('reject NaN and Infinity in every number field', () => {
      assertRejectsNonFinite(samples, guard);
    });

    it('reject unknown types, non-objects and arrays', () => {
      for (const v of [null, undefined, 42, 'init', [], [samples[0]], { type: 'nope' }, { type: 'toString' }, { type: '__proto__' }, {}]) {
        assert.equal(guard(v), false, JSON.stringify(v));
      }
    });
  });
}

describe('specific rules', () => {
  it('series points need equal x and y lengths', () => {
    const bad = { ...hostSamples[3], series: { ...series, egf1: { x: [1, 2], y: [0.5] } } };
    assert.equal(isHostToPage(bad), false);
  });

  it('counts must be non-negative integers', () => {
    assert.equal(isPageToHost({ type: 'revealAlert', runId: 'r1', alertIndex: -1 }), false);
    assert.equal(isPageToHost({ type: 'revealAlert', runId: 'r1', alertIndex: 1.5 }), false);
    assert.equal(isHostToPage({ ...hostSamples[6], index: 2.5 }), false);
  });

  it('metrics may be null (non-finite on the host) but not strings', () => {
    assert.equal(isHostToPage({ ...hostSamples[5], point: { ...flowPoint, egf1: null } }), true);
    assert.equal(isHostToPage({ ...hostSamples[5], point: { ...flowPoint, egf1: 'NaN' } }), false);
  });

  it('alert values: finite number or the trainer protocol strings', () => {
    const a = hostSamples[6] as Extract<HostToPage, { type: 'alert' }>;
    for (const v of ['NaN', 'Infinity', '-Infinity', 0, -3.5]) assert.equal(isHostToPage({ ...a, alert: { ...a.alert, value: v } }), true, String(v));
    for (const v of ['nan', '1', null]) assert.equal(isHostToPage({ ...a, alert: { ...a.alert, value: v } }), false, String(v));
    assert.equal(isHostToPage({ ...a, alert: { ...a.alert, layer: -2 } }), false);
    assert.equal(isHostToPage({ ...a, alert: { ...a.alert, kind: 'meltdown' } }), false);
  });

  it('enumerations reject values outside the set', () => {
    assert.equal(isPageToHost({ type: 'exportCsv', runId: 'r1', what: 'everything' }), false);
    assert.equal(isHostToPage({ type: 'runStatus', runId: 'r1', status: 'paused' }), false);
    assert.equal(isHostToPage({ type: 'runStatus', runId: 'r1', status: 'done' }), false, 'the old vocabulary');
    assert.equal(isHostToPage({ ...hostSamples[3], net: 'medium' }), false);
  });

  it('mask updates: a known method, shares in [0, 1] or null, count fields whole', () => {
    const m = hostSamples.find((s) => s.type === 'maskUpdate') as Extract<HostToPage, { type: 'maskUpdate' }>;
    const layer = m.update.layers[0];
    assert.equal(isHostToPage({ ...m, update: { ...m.update, method: 'prune' } }), false);
    assert.equal(isHostToPage({ ...m, update: { ...m.update, fraction: 1.5 } }), false);
    assert.equal(isHostToPage({ ...m, update: { ...m.update, layers: [{ ...layer, overlap: -0.1 }] } }), false);
    assert.equal(isHostToPage({ ...m, update: { ...m.update, layers: [{ ...layer, dropped: 2.5 }] } }), false);
    assert.equal(isHostToPage({ ...m, update: { ...m.update, layers: [{ ...layer, overlap: 1 }] } }), true);
  });

  it('savePng: plain file names and PNG data URLs only', () => {
    const ok = pageSamples[3];
    for (const name of ['../../etc/passwd', '/abs', 'a/b', '', '.hidden', 'x'.repeat(101), 'a\u0000b']) {
      assert.equal(isPageToHost({ ...ok, name }), false, name);
    }
    assert.equal(isPageToHost({ ...ok, dataUrl: 'data:image/svg+xml;base64,PHN2Zz4=' }), false);
    assert.equal(isPageToHost({ ...ok, dataUrl: 'https://example.com/x.png' }), false);
  });

  it('empty run ids are rejected', () => {
    assert.equal(isPageToHost({ type: 'selectRun', runId: '' }), false);
  });
});

describe('applyNotification', () => {
  it('ignores notifications for unknown runs and out-of-order alert indices', () => {
    let m = emptyModel();
    m = applyNotification(m, { type: 'epoch', runId: 'ghost', net: 'sparse', point: JSON.parse(JSON.stringify(epochPoint)) });
    assert.deepEqual(m, emptyModel());
    m = applyNotification(m, { type: 'runAdded', run: { meta: { runId: 'r', title: 't', status: 'running' }, setup: null, nets: [], alerts: [] } });
    const a = (hostSamples[6] as Extract<HostToPage, { type: 'alert' }>).alert;
    m = applyNotification(m, { type: 'alert', runId: 'r', index: 1, alert: a }); // index 0 missing: stale
    assert.equal(at(m.runs, 0).alerts.length, 0);
    m = applyNotification(m, { type: 'alert', runId: 'r', index: 0, alert: a });
    m = applyNotification(m, { type: 'alert', runId: 'r', index: 0, alert: a }); // duplicate
    assert.equal(at(m.runs, 0).alerts.length, 1);
  });

  it('runStatus replaces the diverged nets and the log tail, keeps an earlier message when it has none', () => {
    let m = emptyModel();
    m = applyNotification(m, { type: 'runAdded', run: { meta: { runId: 'r', title: 't', status: 'running' }, setup: null, nets: [], alerts: [] } });
    m = applyNotification(m, { type: 'runStatus', runId: 'r', status: 'failed', message: 'boom', logTail: ['a', 'error: boom'] });
    assert.deepEqual(at(m.runs, 0).meta, { runId: 'r', title: 't', status: 'failed', message: 'boom', logTail: ['a', 'error: boom'] });
    m = applyNotification(m, { type: 'runStatus', runId: 'r', status: 'diverged', diverged: ['sparse'] });
    assert.deepEqual(at(m.runs, 0).meta, { runId: 'r', title: 't', status: 'diverged', message: 'boom', diverged: ['sparse'] });
  });

  it('creates a net on its first series and replaces the series after', () => {
    let m = emptyModel();
    m = applyNotification(m, { type: 'runAdded', run: { meta: { runId: 'r', title: 't', status: 'running' }, setup: null, nets: [], alerts: [] } });
    m = applyNotification(m, { type: 'series', runId: 'r', net: 'dense', series: emptySeries() });
    assert.deepEqual(at(m.runs, 0).nets.map((n) => n.net), ['dense']);
    const s = JSON.parse(JSON.stringify(series)) as typeof series;
    m = applyNotification(m, { type: 'series', runId: 'r', net: 'dense', series: s });
    assert.equal(at(at(m.runs, 0).nets, 0).series, s);
  });
});
