/** The training loop: events, leaks, NaN handling, stop, determinism, integrity, monitoring.every. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Alert, EpochMetrics, FlowPoint, NetInfo, StepMetrics } from '../../src/shared/protocol';
import type { Dataset } from '../../src/data/types';
import type { ExperimentConfig, OptimizerName } from '../../src/shared/experiment';
import { createRng } from '../../src/shared/rng';
import { trainExperiment, buildNets, makeBatch, disposeBatch, type TrainHooks } from '../../src/engine/train';
import { createOptimizer, type Optimizer } from '../../src/engine/optimizers';
import { optimizerParams, trainStep } from '../../src/engine/step';
import { config, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

before(async () => {
  await testBackend();
});

interface Recorded {
  ready: NetInfo[];
  steps: StepMetrics[];
  epochs: EpochMetrics[];
  flows: FlowPoint[];
  alerts: Alert[];
  tensorsAtEpoch: number[];
  augmentCalls: number;
}

function recorder(stopAfter?: (m: StepMetrics) => boolean, augment = false): { hooks: TrainHooks; rec: Recorded } {
  const rec: Recorded = { ready: [], steps: [], epochs: [], flows: [], alerts: [], tensorsAtEpoch: [], augmentCalls: 0 };
  let stop = false;
  const hooks: TrainHooks = {
    onReady: (nets) => rec.ready.push(...nets),
    onStep: (m) => {
      rec.steps.push(m);
      if (stopAfter?.(m)) stop = true;
    },
    onEpoch: (m) => {
      rec.epochs.push(m);
      rec.tensorsAtEpoch.push(tf.memory().numTensors);
    },
    onFlowPoint: (p) => rec.flows.push(p),
    onAlert: (a) => rec.alerts.push(a),
    shouldStop: () => stop,
  };
  if (augment) {
    hooks.augment = (x) => {
      rec.augmentCalls++;
      return x;
    };
  }
  return { hooks, rec };
}

describe('trainExperiment', () => {
  it('trains an SC-SDC pair on identical batches, emits all events, leaks no tensors', async () => {
    const data = syntheticDataset();
    const before = tf.memory().numTensors;
    // Raw norms on every step (auto takes them every 10th on the sparse path: raw-cadence.test.ts), so
    // masked ≤ raw can be checked on the first step.
    const cfg = { ...config({ model: { batchNorm: true, skip: true, activation: 'swish' }, training: { epochs: 3, augmentation: true, weightDecay: 1e-3 } }), engine: { sparseKernels: 'auto' as const, rawL1Every: 1, rawL2Every: 1 } };
    const { hooks, rec } = recorder(undefined, true);
    const res = await trainExperiment(cfg, data, hooks);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked by the run');
    assert.equal(res.stopped, false);
    assert.deepEqual(rec.ready.map((n) => n.net), ['sparse', 'dense']);
    assert.equal(at(rec.ready, 0).activeWeights, at(rec.ready, 1).activeWeights);
    // 96 examples / 32 = 3 steps per epoch, 3 epochs, two nets.
    assert.equal(rec.steps.length, 18);
    // One augmented batch per step, shared by both nets (identical batches).
    assert.equal(rec.augmentCalls, 9);
    for (let s = 1; s <= 9; s++) assert.deepEqual(rec.steps.filter((m) => m.step === s).map((m) => m.net), ['sparse', 'dense']);
    // numTensors constant across epochs.
    assert.equal(rec.epochs.length, 6);
    assert.equal(new Set(rec.tensorsAtEpoch).size, 1, `numTensors per epoch: ${rec.tensorsAtEpoch.join(',')}`);
    // Per-step norms present; EGF is the mean of masked layer norms.
    const m = at(rec.steps, 0);
    assert.equal(m.layers.length, 3);
    const egf1 = m.layers.reduce((s, l) => s + l.masked.l1, 0) / 3;
    assert.ok(Math.abs(m.egf1 - egf1) <= 1e-9 * Math.abs(egf1));
    // The dense twin's masked norms are its raw norms.
    const d = at(rec.steps, 1);
    d.layers.forEach((l) => assert.deepEqual(l.masked, l.raw));
    // Sparse masked ≤ raw (pruned positions removed).
    m.layers.forEach((l) => assert.ok(l.masked.l1 <= l.raw.l1));
    // Flow points for E = 3 (< 10) at steps round(k·9/10) of T = 9: 0,1,2,3,4,5,5,6,7,8,9 → step 5 once,
    // so 10 points; epoch = step / 3.
    const sparseFlows = rec.flows.filter((p) => p.net === 'sparse');
    assert.deepEqual(sparseFlows.map((p) => [p.epoch * 3, p.index]), [[0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 7], [7, 8], [8, 9], [9, 10]]);
    const sum = at(res.nets, 0);
    assert.equal(sum.flowPoints.length, 10);
    const mean = sparseFlows.reduce((s, p) => s + p.egf2, 0) / 10;
    assert.ok(Math.abs(sum.flowAverage.egf2 - mean) < 1e-12);
    assert.equal(sum.steps, 9);
    assert.equal(sum.epochs, 3);
    assert.deepEqual(sum.final.test, at(rec.epochs.filter((e) => e.net === 'sparse'), 2).test);
    // Training works on this easy problem.
    assert.ok(sum.final.train.loss < at(rec.steps, 0).loss, 'loss did not decrease');
  });

  it('is deterministic for a seed and changes with the seed', async () => {
    const data = syntheticDataset();
    const run = async (seed: number): Promise<number[]> => {
      const { hooks, rec } = recorder();
      await trainExperiment(config({ training: { seed, epochs: 1 } }), data, hooks);
      return rec.steps.map((s) => s.loss);
    };
    const a = await run(3);
    assert.deepEqual(await run(3), a);
    assert.notDeepEqual(await run(4), a);
  });

  it('method none trains one dense net of model.width', async () => {
    const { hooks, rec } = recorder();
    const res = await trainExperiment(config({ sparsity: { method: 'none', pair: false }, model: { width: 10 }, training: { epochs: 1 } }), syntheticDataset(), hooks);
    assert.deepEqual(res.nets.map((n) => n.net), ['dense']);
    assert.equal(at(rec.ready, 0).width, 10);
    assert.deepEqual(at(rec.ready, 0).layers.map((l) => l.density), [1, 1, 1]);
  });

  it('handles a net without hidden layers (softmax regression)', async () => {
    const { hooks, rec } = recorder();
    const res = await trainExperiment(config({ sparsity: { method: 'none', pair: false }, model: { hiddenLayers: 0 }, training: { epochs: 2 } }), syntheticDataset(), hooks);
    assert.equal(at(rec.ready, 0).layers.length, 1);
    assert.equal(at(at(rec.ready, 0).layers, 0).name, 'output');
    assert.equal(at(rec.steps, 0).layers.length, 1);
    assert.ok(at(res.nets, 0).final.train.loss < at(rec.steps, 0).loss);
  });

  it('a sparse run without pair trains only the sparse net', async () => {
    const { hooks, rec } = recorder();
    const res = await trainExperiment(config({ sparsity: { pair: false }, training: { epochs: 1 } }), syntheticDataset(), hooks);
    assert.deepEqual(res.nets.map((n) => n.net), ['sparse']);
    // h_S = 16, h_D = 8, d = 12, C = 3: densities 8/16, (8/16)², 8/16 → active 96, 64, 24.
    assert.deepEqual(at(rec.ready, 0).layers.map((l) => [l.active, l.total]), [[96, 192], [64, 256], [24, 48]]);
  });

  it('rejects a sparse method without dense_width or with dense_width > width', async () => {
    const { hooks } = recorder();
    const noDenseWidth = config();
    delete noDenseWidth.sparsity.denseWidth;
    await assert.rejects(trainExperiment(noDenseWidth, syntheticDataset(), hooks), /dense_width is required/);
    await assert.rejects(trainExperiment(config({ sparsity: { denseWidth: 17 } }), syntheticDataset(), hooks), /must not exceed/);
  });

  it('honours stop within one step', async () => {
    const { hooks, rec } = recorder((m) => m.step === 4 && m.net === 'dense');
    const res = await trainExperiment(config({ training: { epochs: 5 } }), syntheticDataset(), hooks);
    assert.equal(res.stopped, true);
    assert.match(res.reason ?? '', /step 4/);
    assert.equal(Math.max(...rec.steps.map((s) => s.step)), 4);
    assert.deepEqual(res.nets.map((n) => n.steps), [4, 4]);
    assert.equal(at(res.nets, 0).epochs, 1);
  });

  it('detects a non-finite loss, names it, and stops the nets that diverged', async () => {
    const data = syntheticDataset();
    data.train.x.fill(NaN, 0, data.features); // one bad example
    const { hooks, rec } = recorder();
    const res = await trainExperiment(config({ training: { epochs: 2, batchSize: 96 } }), data, hooks);
    // Divergence is an outcome of the configuration, not a stop request: the run is complete.
    assert.equal(res.stopped, false);
    assert.deepEqual(res.nets.map((n) => n.diverged?.step), [1, 1]);
    assert.match(at(res.nets, 0).diverged?.reason ?? '', /non-finite loss in the sparse net at step 1/);
    assert.match(res.reason ?? '', /non-finite loss in the sparse net at step 1/);
    const nan = rec.alerts.filter((a) => a.kind === 'nan');
    // Both nets finish step 1 (the step is the unit of work), each raising its own alert.
    assert.deepEqual(nan.map((a) => a.net), ['sparse', 'dense']);
    assert.equal(at(nan, 0).layer, -1);
    assert.equal(at(nan, 0).value, 'NaN');
    assert.equal(Math.max(...rec.steps.map((s) => s.step)), 1);
  });

  it('names the layer whose gradient is non-finite', async () => {
    // Inputs of 1e30 keep the float32 forward pass finite but the squared gradient norms overflow.
    const data = syntheticDataset();
    data.train.x.fill(1e30);
    const { hooks, rec } = recorder();
    const res = await trainExperiment(config({ sparsity: { method: 'none', pair: false }, training: { epochs: 2, batchSize: 96 } }), data, hooks);
    assert.equal(res.stopped, false);
    assert.ok(at(res.nets, 0).diverged, 'the net is marked diverged');
    const nan = rec.alerts.filter((a) => a.kind === 'nan');
    assert.equal(nan.length, 1);
    assert.ok(at(nan, 0).layer >= 0, `layer ${at(nan, 0).layer}`);
    const name = at(at(rec.ready, 0).layers, at(nan, 0).layer).name;
    assert.match(at(nan, 0).message, new RegExp(name));
    assert.match(res.reason ?? '', new RegExp(`gradient \\(${name}\\)`));
  });

  it("onNan 'continue' keeps training", async () => {
    const data = syntheticDataset();
    data.train.x.fill(NaN, 0, data.features);
    const { hooks, rec } = recorder();
    const res = await trainExperiment(config({ training: { epochs: 1 }, monitoring: { onNan: 'continue' } }), data, hooks);
    assert.equal(res.stopped, false);
    assert.equal(rec.steps.length, 6);
  });

  it('monitoring.every skips norms on other steps (NaN flow fields, empty layers)', async () => {
    const { hooks, rec } = recorder();
    await trainExperiment(config({ training: { epochs: 2 }, monitoring: { every: 2 } }), syntheticDataset(), hooks);
    for (const m of rec.steps) {
      if (m.step % 2 === 0) {
        assert.equal(m.layers.length, 3);
        assert.ok(Number.isFinite(m.egf1));
      } else {
        assert.equal(m.layers.length, 0);
        assert.ok(Number.isNaN(m.egf1));
      }
    }
  });

  it('streams explosion and collapse alerts once per (net, layer)', async () => {
    const { hooks, rec } = recorder();
    // Every masked L2 norm exceeds 1e-9 and is below 1e9: explosion at step 1, collapse after 2 steps.
    await trainExperiment(
      config({ training: { epochs: 2 }, monitoring: { explosion: { maxNorm: 1e-9, growthFactor: 1e9, window: 3 }, collapse: { minNorm: 1e9, steps: 2 } } }),
      syntheticDataset(),
      hooks,
    );
    for (const kind of ['explosion', 'collapse'] as const) {
      const a = rec.alerts.filter((x) => x.kind === kind);
      assert.deepEqual(a.map((x) => `${x.net}:${x.layer}`).sort(), ['dense:0', 'dense:1', 'dense:2', 'sparse:0', 'sparse:1', 'sparse:2']);
      a.forEach((x) => assert.equal(x.step, kind === 'explosion' ? 1 : 2));
    }
  });

  it('raises collapse-at-mask alerts for a nearly empty sparse net', async () => {
    const { hooks, rec } = recorder();
    await trainExperiment(config({ model: { width: 40 }, sparsity: { denseWidth: 1 }, training: { epochs: 1 } }), syntheticDataset(), hooks);
    const atMask = rec.alerts.filter((a) => a.kind === 'collapse-at-mask');
    assert.ok(atMask.length > 0);
    atMask.forEach((a) => assert.equal(a.step, 0));
    // first layer: 12 active of 12×40 → at least 28 of 40 units have no fan-in
    const first = atMask.find((a) => a.layer === 0 && a.severity === 'warning');
    assert.ok(first && typeof first.value === 'number' && first.value >= 28);
  });
});

describe('masks survive training', () => {
  const optimizers: OptimizerName[] = ['sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad'];
  for (const name of optimizers) {
    for (const wd of [0, 0.01]) {
      it(`pruned weights exactly 0 after training: ${name}, L2 ${wd}`, async () => {
        const cfg: ExperimentConfig = config({ training: { optimizer: name, weightDecay: wd, learningRate: 0.05, epochs: 1 }, model: { batchNorm: true } });
        const data: Dataset = syntheticDataset();
        const [net] = buildNets(cfg, data.features, data.classes, createRng(1));
        assert.ok(net !== undefined);
        const opt = createOptimizer({ name, learningRate: 0.05, momentum: 0.9, decoupledDecay: name === 'adamw' ? wd : 0 });
        const params = optimizerParams(net);
        const idx = Uint32Array.from({ length: data.train.n }, (_, i) => i);
        try {
          for (let s = 0; s < 6; s++) {
            const b = makeBatch(data.train, data.features, data.classes, idx, (s % 3) * 32, 32);
            const r = trainStep(net, opt, params, b, { coupledL2: name === 'adamw' ? 0 : wd, collectNorms: true, checkIntegrity: true });
            disposeBatch(b);
            assert.deepEqual(r.integrity, []);
          }
          net.kernels.forEach((_k, l) => {
            const w = net.kernelArray(l);
            const m = at(net.spec.plans, l).mask as Float32Array;
            let changed = 0;
            w.forEach((v, i) => {
              if (m[i] === 0) assert.ok(v === 0, `${name}: pruned weight ${l}/${i} = ${v}`);
              else if (v !== at(net.spec.plans, l).kernel[i]) changed++;
            });
            assert.ok(changed > 0, 'active weights did not train');
          });
        } finally {
          net.dispose();
          opt.dispose();
        }
      });
    }
  }

  it('the integrity check reports an optimizer that writes to pruned weights', async () => {
    const cfg = config();
    const data = syntheticDataset();
    const [net] = buildNets(cfg, data.features, data.classes, createRng(1), { sparseKernels: 'off' }); // pruned entries exist only on the masked-dense path
    assert.ok(net !== undefined);
    // A deliberately broken optimizer: adds 0.01 everywhere, ignoring the mask.
    const leaky: Optimizer = {
      name: 'sgd',
      iterations: 0,
      learningRate: 0.01,
      setLearningRate: () => undefined,
      apply: (ps) => tf.tidy(() => ps.forEach((p) => p.variable.assign(tf.add(p.variable, 0.01)))),
      resetState: () => undefined,
      stateBytes: () => 0,
      slotsOf: () => undefined,
      dispose: () => undefined,
    };
    const idx = Uint32Array.from({ length: data.train.n }, (_, i) => i);
    const b = makeBatch(data.train, data.features, data.classes, idx, 0, 32);
    try {
      const r = trainStep(net, leaky, optimizerParams(net), b, { coupledL2: 0, collectNorms: false, checkIntegrity: true });
      assert.deepEqual(r.integrity.map((x) => x.layer), [0, 1, 2]);
      // Σ 0.01 over the pruned entries of layer 0: (12·16 − 12·8) · 0.01 = 0.96.
      assert.ok(Math.abs(at(r.integrity, 0).value - 0.96) < 1e-4, String(at(r.integrity, 0).value));
      // …and the re-mask still restored exact zeros.
      const w = net.kernelArray(0);
      const m = at(net.spec.plans, 0).mask as Float32Array;
      w.forEach((v, i) => {
        if (m[i] === 0) assert.ok(v === 0);
      });
    } finally {
      disposeBatch(b);
      net.dispose();
    }
  });
});
