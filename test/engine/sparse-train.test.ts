/**
 * engine.sparse_kernels and engine.raw_l1_every / raw_l2_every through trainExperiment: the paths
 * chosen per layer, the same run on both paths, the memory reported per net, the raw-norm cadence.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { FlowPoint, NetInfo, NetSummary, StepMetrics } from '../../src/shared/protocol';
import { kernelPaths, SPARSE_AUTO_MAX_DENSITY, trainExperiment, type EngineOptions, type TrainHooks } from '../../src/engine/train';
import type { LayerMaskPlan } from '../../src/engine/masks';
import { assertClose, config, fixturePath, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

before(async () => {
  await testBackend();
});

async function run(opts: Partial<EngineOptions>): Promise<{ ready: NetInfo[]; steps: StepMetrics[]; flows: FlowPoint[]; nets: NetSummary[]; logs: string[] }> {
  const ready: NetInfo[] = [];
  const steps: StepMetrics[] = [];
  const flows: FlowPoint[] = [];
  const logs: string[] = [];
  const hooks: TrainHooks = {
    onReady: (n) => ready.push(...n),
    onStep: (m) => steps.push(m),
    onEpoch: () => undefined,
    onFlowPoint: (p) => flows.push(p),
    onAlert: () => undefined,
    shouldStop: () => false,
    onLog: (_l, m) => logs.push(m),
  };
  const cfg = config({ model: { width: 20 }, sparsity: { denseWidth: 6 }, training: { epochs: 2, weightDecay: 1e-3, optimizer: 'adam' } });
  const res = await trainExperiment(cfg, syntheticDataset(), hooks, opts);
  return { ready, steps, flows, nets: res.nets, logs };
}

const plan = (fanIn: number, fanOut: number, active: number, masked = true): LayerMaskPlan => ({
  shape: { fanIn, fanOut },
  kernel: new Float32Array(0),
  ...(masked ? { mask: new Float32Array(0) } : {}),
  active,
  std: 1,
});

describe('engine.sparse_kernels', () => {
  it('kernelPaths: auto by density and backend, on / off, unmasked layers dense', () => {
    const plans = [plan(10, 10, 50), plan(10, 10, 51), plan(10, 10, 100, false)];
    assert.ok(SPARSE_AUTO_MAX_DENSITY >= 0.5 && SPARSE_AUTO_MAX_DENSITY < 0.51, 'the test densities straddle the threshold');
    assert.deepEqual(kernelPaths(plans, 'auto', 'wasm'), ['sparse', 'dense', 'dense']);
    assert.deepEqual(kernelPaths(plans, 'auto', 'tensorflow'), ['dense', 'dense', 'dense']);
    assert.deepEqual(kernelPaths(plans, 'on', 'cpu'), ['sparse', 'sparse', 'dense']);
    assert.deepEqual(kernelPaths(plans, 'off', 'wasm'), ['dense', 'dense', 'dense']);
    assert.deepEqual(kernelPaths([plan(70000, 2, 10)], 'auto', 'wasm'), ['dense']);
    assert.throws(() => kernelPaths([plan(70000, 2, 10)], 'on', 'wasm'), /exceeds the sparse path/);
  });

  it('the documented auto threshold is the one in the code', () => {
    const schema = fs.readFileSync(fixturePath('../../../src/config/gradflow.schema.json'), 'utf8');
    assert.ok(schema.includes(`density ≤ ${SPARSE_AUTO_MAX_DENSITY}`), 'engine.sparse_kernels description names SPARSE_AUTO_MAX_DENSITY');
  });

  it('on and off train the same SC-SDC pair; paths and memory are reported', async () => {
    // Raw norms on every step on both paths (auto would take them every 10th on the sparse path).
    const on = await run({ sparseKernels: 'on', rawL1Every: 1, rawL2Every: 1 });
    const off = await run({ sparseKernels: 'off', rawL1Every: 1, rawL2Every: 1 });
    assert.deepEqual(at(on.ready, 0).layers.map((l) => l.path), ['sparse', 'sparse', 'sparse']);
    assert.deepEqual(at(off.ready, 0).layers.map((l) => l.path), ['dense', 'dense', 'dense']);
    assert.deepEqual(at(on.ready, 1).layers.map((l) => l.path), ['dense', 'dense', 'dense'], 'the dense twin stays on TF.js');
    assert.ok(on.logs.some((m) => /sparse net kernel paths: dense1 sparse, dense2 sparse, output sparse/.test(m)));
    assert.equal(on.steps.length, off.steps.length);
    on.steps.forEach((s, i) => {
      const e = at(off.steps, i);
      assertClose([s.loss, s.egf1, s.egf2, s.g1, s.g2], [e.loss, e.egf1, e.egf2, e.g1, e.g2], `step ${s.step} ${s.net}`, 1e-5, 1e-9);
    });
    on.flows.forEach((p, i) => assertClose([p.egf1, p.egf2, p.g1, p.g2], [at(off.flows, i).egf1, at(off.flows, i).egf2, at(off.flows, i).g1, at(off.flows, i).g2], `flow point ${p.index}`, 1e-5, 1e-9));

    // Memory, counted by hand: Adam keeps 2 floats per trained value; biases 4 bytes each.
    const sp = at(on.nets, 0);
    const shapes = at(on.ready, 0).layers;
    const k = shapes.reduce((s, l) => s + l.active, 0);
    const biases = shapes.reduce((s, l) => s + l.fanOut, 0);
    const index = shapes.reduce((s, l) => s + 4 * (l.fanIn + 1) + 4 * (l.fanOut + 1) + 2 * l.active + 2 * l.active + 4 * l.active, 0);
    assert.deepEqual(sp.memoryBytes, { parameters: 4 * (k + biases), index, optimizer: 8 * (k + biases) });
    const total = shapes.reduce((s, l) => s + l.total, 0);
    const offSp = at(off.nets, 0).memoryBytes;
    assert.equal(offSp?.parameters, 4 * (total + biases));
    assert.equal(offSp?.optimizer, 8 * (total + biases));
    const dense = at(on.nets, 1);
    const dk = at(on.ready, 1).layers.reduce((s, l) => s + l.total, 0);
    const db = at(on.ready, 1).layers.reduce((s, l) => s + l.fanOut, 0);
    assert.deepEqual(dense.memoryBytes, { parameters: 4 * (dk + db), index: 0, optimizer: 8 * (dk + db) });
  });

  it('raw_l1_every / raw_l2_every: skipped raw norms of masked layers are NaN, on both paths alike', async () => {
    for (const mode of ['on', 'off'] as const) {
      const r = await run({ sparseKernels: mode, rawL1Every: 3, rawL2Every: 2 });
      for (const s of r.steps.filter((x) => x.net === 'sparse')) {
        assert.ok(Number.isFinite(s.egf1) && Number.isFinite(s.egf2), 'masked norms on every step');
        assert.equal(Number.isFinite(s.g1), s.step % 3 === 0, `${mode} step ${s.step} g1 ${s.g1}`);
        assert.equal(Number.isFinite(s.g2), s.step % 2 === 0, `${mode} step ${s.step} g2 ${s.g2}`);
      }
      for (const s of r.steps.filter((x) => x.net === 'dense')) assert.ok(Number.isFinite(s.g1) && Number.isFinite(s.g2), 'unmasked layers always report raw norms');
      for (const p of r.flows) assert.ok(Number.isFinite(p.g1) && Number.isFinite(p.g2), 'flow points carry every number');
    }
  });
});
