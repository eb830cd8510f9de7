/**
 * Conv nets through the whole training loop (trainExperiment → buildExperimentNets → ConvNet): an
 * SC-SDC pair of a small CNN on synthetic 6×6×2 images, per mask method; what the loop must refuse
 * for conv nets, with the key at fault. The conv passes and norms themselves are checked against
 * PyTorch in conv-reference.test.ts; here the counts are checked by hand from the architecture.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../../src/data/types';
import type { ExperimentConfig, SparsityConfig } from '../../src/shared/experiment';
import type { Alert, FlowPoint, MaskUpdate, NetInfo, StepMetrics } from '../../src/shared/protocol';
import { flowSchedule } from '../../src/engine/flow';
import { makeBatch } from '../../src/engine/batches';
import { blueprint } from '../../src/engine/nn/arch';
import { buildConvNet } from '../../src/engine/nn/build';
import { measureFlowLayers } from '../../src/engine/step';
import { createRng } from '../../src/shared/rng';
import { trainExperiment, type TrainHooks, type TrainResult } from '../../src/engine/train';
import { config, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

let backend = '';
before(async () => {
  backend = await testBackend();
});

/** 64 training images 6×6×2 (NHWC rows), 3 classes. */
function images(): Dataset {
  return { ...syntheticDataset(72, 3, 64, 16, 16), shape: [6, 6, 2] };
}

function cnn(sparsity: Partial<SparsityConfig>, over: Partial<ExperimentConfig['model']> = {}): ExperimentConfig {
  return config({
    model: { architecture: 'cnn', channels: [4, 8], pool: 'auto', skip: true, batchNorm: true, ...over },
    sparsity: { method: 'random', density: 0.5, pair: true, init: 'dense-fan-in', ...sparsity },
    training: { epochs: 2, batchSize: 16 },
  });
}

interface Run {
  ready: NetInfo[];
  steps: StepMetrics[];
  flows: FlowPoint[];
  alerts: Alert[];
  masks: MaskUpdate[];
  res: TrainResult;
}

async function train(cfg: ExperimentConfig): Promise<Run> {
  const r: Omit<Run, 'res'> = { ready: [], steps: [], flows: [], alerts: [], masks: [] };
  const hooks: TrainHooks = {
    onReady: (n) => r.ready.push(...n),
    onStep: (m) => r.steps.push(m),
    onEpoch: () => undefined,
    onFlowPoint: (p) => r.flows.push(p),
    onAlert: (a) => r.alerts.push(a),
    onMaskUpdate: (u) => r.masks.push(u),
    shouldStop: () => false,
  };
  const before = tf.memory().numTensors;
  const res = await trainExperiment(cfg, images(), hooks);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  return { ...r, res };
}

// Channels [4, 8] on 2 input channels, skips with 1×1 projections, ρ = 0.5 → twin [2, 4]:
//   block1.conv 3·3·2×4 = 72 (twin 3·3·2×2 = 36), block1.shortcut 2×4 = 8 (twin 2×2 = 4),
//   block2.conv 3·3·4×8 = 288 (twin 3·3·2×4 = 72), block2.shortcut 4×8 = 32 (twin 2×4 = 8),
//   fc 8×3 = 24 (twin 4×3 = 12).
const NAMES = ['block1.conv', 'block1.shortcut', 'block2.conv', 'block2.shortcut', 'fc'];
const TOTAL = [72, 8, 288, 32, 24];
const TWIN = [36, 4, 72, 8, 12];

describe(`conv nets in the training loop`, () => {
  it('a flow point holds one batch of activations at a time, not every batch of its set', async () => {
    // A WRN-16-4 at batch 128 holds ≈ 2 GB of activations and gradients per batch; the four flow
    // batches held at once exhausted the wasm backend's 4 GB heap (the cifar10-wrn example).
    const data = images();
    const net = buildConvNet({ role: 'dense', blueprint: blueprint({ architecture: 'cnn', input: [6, 6, 2], classes: 3, activation: 'relu', batchNorm: true, channels: [16, 16], pool: 'auto', skip: true }), method: 'none', init: 'dense-fan-in', rng: createRng(3) });
    const order = Int32Array.from({ length: data.train.n }, (_v, i) => i);
    const batches = [0, 1, 2, 3].map((b) => makeBatch(data.train, data.features, data.classes, order, b * 16, 16, undefined, true));
    const peak = async (n: number): Promise<number> => (await tf.profile(() => void measureFlowLayers(net, batches.slice(0, n), 0))).peakBytes;
    const one = await peak(1);
    const four = await peak(4);
    assert.ok(four < 1.5 * one, `peak ${four} bytes for four batches against ${one} for one`);
    batches.forEach((b) => tf.dispose([b.x, b.y, b.labels, ...(b.xT ? [b.xT] : [])]));
    net.dispose();
  });

  it('evaluates a conv net in batches of its training batch: a large test split costs no more memory', async (t) => {
    // The cifar10-wrn example crashed ("memory access out of bounds") at its first evaluation: the
    // MLP's 1000-image evaluation batch holds 1000 images' activations of a WRN-16-4, more than the
    // wasm backend's heap. Here, a 16×16×2 CNN trained at batch 16: the peak of a whole run with 512
    // test images stays that of a run with 16; evaluating 512 at once would hold them all.
    const cfg = config({
      model: { architecture: 'cnn', channels: [8, 8], pool: 'auto', skip: false, batchNorm: true },
      sparsity: { method: 'none', pair: false },
      training: { epochs: 1, batchSize: 16 },
    });
    const hooks: TrainHooks = { onReady: () => undefined, onStep: () => undefined, onEpoch: () => undefined, onFlowPoint: () => undefined, onAlert: () => undefined, shouldStop: () => false };
    const peak = async (test: number, evalBatchSize?: number): Promise<number> => {
      const data: Dataset = { ...syntheticDataset(512, 3, 32, 16, test), shape: [16, 16, 2] };
      const options = evalBatchSize === undefined ? {} : { evalBatchSize };
      return (await tf.profile(async () => void (await trainExperiment(cfg, data, hooks, options)))).peakBytes;
    };
    const small = await peak(16);
    const large = await peak(512);
    assert.ok(large < 1.5 * small, `peak ${large} bytes with 512 test images against ${small} with 16`);
    // What the test guards against: the same run evaluating 512 images at once.
    const whole = await peak(512, 1000);
    t.diagnostic(`peak bytes: 16 test images ${small}, 512 ${large}, 512 in one batch ${whole}`);
    assert.ok(whole > 3 * small, `peak ${whole} bytes when the 512 are one batch, against ${small}`);
  });

  for (const method of ['random', 'magnitude', 'snip'] as const) {
    it(`${method}: an SC-SDC pair trains end to end with per-layer counts, norms, flow points, memory`, async () => {
      const r = await train(cnn({ method }));
      assert.ok(['cpu', 'wasm'].includes(backend));
      assert.equal(r.res.stopped, false);
      assert.equal(r.res.failed, undefined, r.res.reason);
      assert.deepEqual(r.ready.map((n) => n.net), ['sparse', 'dense']);
      const [sparse, dense] = r.ready;
      assert.ok(sparse !== undefined && dense !== undefined);
      assert.deepEqual(sparse.layers.map((l) => l.name), NAMES);
      assert.deepEqual(dense.layers.map((l) => l.name), NAMES);
      assert.deepEqual(sparse.layers.map((l) => l.total), TOTAL);
      // SC-SDC per layer: the sparse layer keeps exactly the twin's weight count.
      assert.deepEqual(sparse.layers.map((l) => l.active), TWIN);
      assert.deepEqual(dense.layers.map((l) => l.total), TWIN);
      assert.equal(sparse.activeWeights, dense.activeWeights);
      // 64 / 16 = 4 steps per epoch, 2 epochs, both nets every step, all five layers' norms.
      assert.equal(r.steps.length, 16);
      for (const m of r.steps) {
        assert.equal(m.layers.length, 5);
        const egf2 = m.layers.reduce((s, l) => s + l.masked.l2, 0) / 5;
        assert.ok(Math.abs(m.egf2 - egf2) <= 1e-9 * egf2 && egf2 > 0, `EGF₂ is the mean of the 5 masked L2 norms at step ${m.step}`);
        // On wasm, auto runs the masked convs on the sparse kernel: raw norms every 10th step only (NaN otherwise).
        const rawSkipped = (l: { raw: { l2: number } }): boolean => Number.isNaN(l.raw.l2);
        if (m.net === 'sparse' && backend !== 'wasm') assert.ok(!m.layers.some(rawSkipped), `raw norms every step on ${backend}`);
        if (m.net === 'sparse' && m.step % 10 === 0) assert.ok(!m.layers.some(rawSkipped), `raw norms on cadence step ${m.step}`);
        if (m.net === 'sparse') m.layers.forEach((l, i) => assert.ok(rawSkipped(l) || l.masked.l2 <= l.raw.l2 + 1e-12, `masked ≤ raw, ${NAMES[i]}`));
        else m.layers.forEach((l) => assert.deepEqual(l.masked, l.raw));
      }
      assert.equal(r.flows.length, 2 * flowSchedule(2, 4).length);
      for (const s of r.res.nets) {
        assert.equal(s.steps, 8);
        assert.ok(Number.isFinite(s.flowAverage.egf2) && s.flowAverage.egf2 > 0);
        assert.ok(s.memoryBytes && s.memoryBytes.parameters > 0 && s.memoryBytes.optimizer > 0);
        assert.deepEqual(s.layers.map((l) => l.active), TWIN, 'the masks held');
      }
      // Parameters: the sparse net's kernels are its full kernels (pruned zeros stored), plus BN and biases.
      const [ms, md] = r.res.nets.map((n) => n.memoryBytes);
      assert.ok(ms && md);
      assert.ok(ms.parameters >= 4 * TOTAL.reduce((a, b) => a + b, 0));
      assert.ok(ms.index > 0, 'masks are held');
      assert.equal(md.index, 0, 'the twin has no mask');
    });
  }

  it('gmp prunes a conv net to exactly the twin counts, through the mask-update interface', async () => {
    const r = await train(cnn({ method: 'gmp', gmp: { begin: 0, end: 0.75, every: 2, initialDensity: 1 } }));
    assert.deepEqual(at(r.ready, 0).layers.map((l) => l.active), TOTAL, 'starts dense');
    assert.ok(r.masks.length > 0 && r.masks.every((u) => u.net === 'sparse' && u.method === 'gmp'));
    assert.deepEqual(at(r.res.nets, 0).layers.map((l) => l.active), TWIN);
  });

  for (const dyn of ['set', 'rigl'] as const) {
    it(`${dyn}: masks move on every conv and linear kernel, per-layer counts constant`, async () => {
      const r = await train(cnn({ dynamic: { method: dyn, every: 2, fraction: 0.5, schedule: 'constant', until: 0.75 } }));
      assert.ok(r.masks.length > 0);
      for (const u of r.masks) {
        assert.deepEqual(u.layers.map((l) => l.layer), [0, 1, 2, 3, 4]);
        u.layers.forEach((l) => assert.equal(l.active, TWIN[l.layer]));
      }
      assert.ok(r.masks.some((u) => u.layers.some((l) => l.dropped > 0 && l.overlap < 1)), 'some mask moved');
      assert.deepEqual(at(r.res.nets, 0).layers.map((l) => l.active), TWIN);
    });
  }

  it('alerts name conv layers', async () => {
    const cfg = cnn({});
    const r = await train({ ...cfg, monitoring: { ...cfg.monitoring, collapse: { minNorm: 1e9, steps: 1 } } });
    const collapse = r.alerts.filter((a) => a.kind === 'collapse');
    assert.ok(collapse.length > 0);
    for (const a of collapse) assert.ok(a.layer === -1 || NAMES.some((n) => a.message.includes(n)), a.message);
  });

  it('a dense conv net (method none) trains alone', async () => {
    const r = await train(cnn({ method: 'none', pair: false }));
    assert.deepEqual(r.ready.map((n) => n.net), ['dense']);
    assert.deepEqual(at(r.ready, 0).layers.map((l) => l.active), TOTAL);
    assert.equal(at(r.res.nets, 0).steps, 8);
  });
});
