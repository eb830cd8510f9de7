/**
 * engine.raw_l1_every / raw_l2_every: the `auto` cadence (flow.ts rawNormEvery) and what a run
 * reports with it: raw norms on every 10th step for a net with sparse-path layers, every step
 * for the dense twin, the 11 flow points always exact, an explicit 1 as before.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineConfig } from '../../src/shared/experiment';
import type { FlowPoint, NetInfo, NetSummary, StepMetrics } from '../../src/shared/protocol';
import { AUTO_SPARSE_RAW_EVERY, rawEveryNote, rawNormEvery } from '../../src/engine/flow';
import { everyNth } from '../../src/shared/format';
import { trainExperiment, type EngineOptions, type TrainHooks } from '../../src/engine/train';
import { assertClose, config, syntheticDataset, testBackend } from './helpers';

before(async () => {
  await testBackend();
});

const sparse = { masked: true, path: 'sparse' as const };
const maskedDense = { masked: true, path: 'dense' as const };
const unmasked = { masked: false, path: 'dense' as const };

describe('rawNormEvery (the cadence rule)', () => {
  it('auto: every step on the dense path, every 10th with a sparse-path layer', () => {
    assert.equal(AUTO_SPARSE_RAW_EVERY, 10);
    assert.equal(rawNormEvery('auto', [unmasked, unmasked]), 1, 'the dense twin');
    assert.equal(rawNormEvery('auto', [maskedDense, maskedDense, maskedDense]), 1, 'a sparse net on the masked-dense path');
    assert.equal(rawNormEvery('auto', [maskedDense, sparse, maskedDense]), 10, 'one sparse-path layer is enough');
    assert.equal(rawNormEvery('auto', [sparse, sparse, sparse]), 10);
    assert.equal(rawNormEvery(undefined, [sparse]), 10, 'absent = auto');
    assert.equal(rawNormEvery(undefined, [unmasked]), 1);
  });
  it('a number is used as given for a net with masked layers; a net without any reports every step', () => {
    assert.equal(rawNormEvery(1, [sparse, sparse]), 1);
    assert.equal(rawNormEvery(3, [sparse]), 3);
    assert.equal(rawNormEvery(3, [maskedDense]), 3);
    assert.equal(rawNormEvery(7.9, [sparse]), 7);
    assert.equal(rawNormEvery(5, [unmasked, unmasked]), 1);
  });
  it('the header line names each net\'s steps, lcm with monitoring.every', () => {
    assert.equal(everyNth(1), 'every step');
    assert.equal(everyNth(10), 'every 10th step');
    assert.equal(everyNth(2), 'every 2nd step');
    assert.equal(everyNth(21), 'every 21st step');
    assert.equal(everyNth(12), 'every 12th step');
    const note = rawEveryNote([{ role: 'sparse', every: { l1: 10, l2: 10 } }, { role: 'dense', every: { l1: 1, l2: 1 } }], 4);
    assert.match(note, /sparse net every 20th step; dense net every 4th step/);
    assert.match(note, /EGF and masked norms every 4th step/);
    assert.match(rawEveryNote([{ role: 'sparse', every: { l1: 10, l2: 2 } }], 1), /sparse net: L1 every 10th step, L2 every 2nd step/);
  });
});

interface Recorded {
  ready: NetInfo[];
  steps: StepMetrics[];
  flows: FlowPoint[];
  nets: NetSummary[];
  logs: string[];
}

/** 36 steps (3 epochs of 12): flow points at steps 0, 4, 7, 11, 14, 18, 22, 25, 29, 32, 36. */
async function run(engine: EngineConfig | undefined, opts: Partial<EngineOptions> = {}): Promise<Recorded> {
  const rec: Recorded = { ready: [], steps: [], flows: [], nets: [], logs: [] };
  const hooks: TrainHooks = {
    onReady: (n) => rec.ready.push(...n),
    onStep: (m) => rec.steps.push(m),
    onEpoch: () => undefined,
    onFlowPoint: (p) => rec.flows.push(p),
    onAlert: () => undefined,
    shouldStop: () => false,
    onLog: (_l, m) => rec.logs.push(m),
  };
  const base = config({ model: { width: 20 }, sparsity: { denseWidth: 6 }, training: { epochs: 3, batchSize: 8, weightDecay: 1e-3, optimizer: 'adam' } });
  const cfg = engine ? { ...base, engine } : base;
  const res = await trainExperiment(cfg, syntheticDataset(12, 3, 96), hooks, opts);
  rec.nets = res.nets;
  return rec;
}

describe('a run under the auto cadence', () => {
  let auto: Recorded;
  let every: Recorded;
  let reference: Recorded;
  before(async () => {
    auto = await run(undefined, { sparseKernels: 'on' }); // no engine section: the defaults
    every = await run({ sparseKernels: 'on', rawL1Every: 1, rawL2Every: 1 }); // an old file with an explicit 1
    reference = await run({ sparseKernels: 'off', rawL1Every: 'auto', rawL2Every: 'auto' }); // the masked-dense path: auto is every step
  });

  it('the header and the summary say which steps carry the raw norms', () => {
    assert.deepEqual(auto.ready.map((n) => [n.net, n.rawEvery]), [['sparse', { l1: 10, l2: 10 }], ['dense', { l1: 1, l2: 1 }]]);
    assert.deepEqual(auto.nets.map((n) => [n.net, n.rawEvery]), [['sparse', { l1: 10, l2: 10 }], ['dense', { l1: 1, l2: 1 }]]);
    assert.ok(auto.logs.some((m) => /raw gradient norms .*sparse net every 10th step; dense net every step/.test(m)), auto.logs.join('\n'));
    assert.deepEqual(reference.ready.map((n) => n.rawEvery), [{ l1: 1, l2: 1 }, { l1: 1, l2: 1 }], 'auto on the masked-dense path is every step');
    assert.ok(!reference.logs.some((m) => m.startsWith('raw gradient norms')), 'no note when every step carries them');
  });

  it('sparse net: raw norms on steps 10, 20, 30 only (null elsewhere), EGF on every step; dense twin: every step', () => {
    const sp = auto.steps.filter((s) => s.net === 'sparse');
    assert.equal(sp.length, 36);
    for (const s of sp) {
      assert.ok(Number.isFinite(s.egf1) && Number.isFinite(s.egf2), `EGF at step ${s.step}`);
      const carried = s.step % 10 === 0;
      assert.equal(Number.isFinite(s.g1), carried, `g1 at step ${s.step}: ${s.g1}`);
      assert.equal(Number.isFinite(s.g2), carried, `g2 at step ${s.step}: ${s.g2}`);
      for (const l of s.layers) assert.equal(Number.isFinite(l.raw.l1), carried, `layer raw L1 at step ${s.step}`);
    }
    for (const s of auto.steps.filter((x) => x.net === 'dense')) assert.ok(Number.isFinite(s.g1) && Number.isFinite(s.g2), `dense twin at step ${s.step}`);
  });

  it('the carried steps have the numbers of a run that takes them every step (the masked-dense path, independently)', () => {
    for (const s of auto.steps.filter((x) => x.step % 10 === 0)) {
      const e = reference.steps.find((x) => x.net === s.net && x.step === s.step);
      assert.ok(e);
      assertClose([s.g1, s.g2, s.egf1, s.egf2], [e.g1, e.g2, e.egf1, e.egf2], `${s.net} step ${s.step}`, 1e-5, 1e-9);
    }
  });

  it('the 11 flow points, at steps that are not multiples of 10, carry every number exactly', () => {
    const stepsOf = auto.flows.filter((p) => p.net === 'sparse').map((p) => Math.round(p.epoch * 12));
    assert.deepEqual(stepsOf, [0, 4, 7, 11, 14, 18, 22, 25, 29, 32, 36]);
    assert.ok(stepsOf.some((s) => s % 10 !== 0));
    assert.equal(auto.flows.length, 22);
    for (const p of auto.flows) {
      assert.ok([p.g1, p.g2, p.egf1, p.egf2].every(Number.isFinite), `flow point ${p.index} ${p.net}`);
      const same = every.flows.find((q) => q.net === p.net && q.index === p.index);
      const ref = reference.flows.find((q) => q.net === p.net && q.index === p.index);
      assert.ok(same && ref);
      // The cadence changes nothing measured at a flow point: identical to the every-step run …
      assert.deepEqual([p.g1, p.g2, p.egf1, p.egf2], [same.g1, same.g2, same.egf1, same.egf2], `flow point ${p.index} ${p.net}`);
      // … and the masked-dense path's full gradient agrees to float32 rounding.
      assertClose([p.g1, p.g2, p.egf1, p.egf2], [ref.g1, ref.g2, ref.egf1, ref.egf2], `flow point ${p.index} ${p.net} vs masked-dense`, 1e-5, 1e-9);
    }
  });

  it('an explicit 1 (an old file) keeps every step\'s raw norms on the sparse path', () => {
    assert.deepEqual(every.ready.map((n) => n.rawEvery), [{ l1: 1, l2: 1 }, { l1: 1, l2: 1 }]);
    for (const s of every.steps) assert.ok(Number.isFinite(s.g1) && Number.isFinite(s.g2), `${s.net} step ${s.step}`);
    assert.ok(!every.logs.some((m) => m.startsWith('raw gradient norms')));
  });
});
