/**
 * The direct sparse convolution wired into the conv net's training step (engine.sparse_kernels on
 * conv nets, nn/convnet.ts): the same net trained on the sparse path and on the masked-dense path
 * from the same plans and batches must give the same numbers. On the wasm backend, where `auto`
 * takes the kernel.
 *
 * Tolerance: the two paths sum the same products in different orders (the sparse kernel: float32
 * vector partial sums over N·Ho·Wo per active entry; TF.js: im2col products), so values differ by
 * float32 rounding, ≈ 1e-7 relative per sum, grown over k = 6 updates through BN and
 * momentum SGD (whose updates are linear in the gradient, so relative errors stay relative); the
 * largest seen was 2e-6 (a masked L2 norm of the first step). rtol 1e-5 (as the MLP's sparse path,
 * sparse-train.test.ts) leaves a margin over that, while a wrong index (one misplaced or missing active entry
 * out of ≤ 144) moves a layer's norms by ≥ 0.5 %. (Adam is not used for the weight comparison: its
 * first steps are ≈ lr·sign(g), so an entry whose gradient is ≈ 0 can flip sign on a rounding
 * difference and move by 2·lr; the loop test below compares EGF under Adam, which sums over layers.)
 * The masked-dense net runs every convolution in the backend's kernels (XNNPACK), not the Winograd
 * convolution `auto` would take for its 3×3 layers: Winograd's rounding is relative to a tile's
 * largest value rather than each output's, and BN over these 16-image, 1×1 maps amplifies it to
 * 1e-5 of a layer's norm (measured: 9e-6 at step 0, against 4e-7 between the sparse kernel and
 * XNNPACK), which would hide a wrong index no better than a looser tolerance. Winograd's own error
 * is bounded against float64 in winograd.test.ts and against PyTorch in conv-reference-wasm.test.ts.
 */
import './wasm-backend';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../../src/data/types';
import type { NetInfo, StepMetrics } from '../../src/shared/protocol';
import { blueprint, layerShape, type ConvNetSpec } from '../../src/engine/nn/arch';
import { SPARSE_CONV_AUTO_MAX_DENSITY, SPARSE_CONV_AUTO_MAX_DENSITY_STRIDED, convKernelPaths, scsdcConvPair } from '../../src/engine/nn/build';
import { ConvNet } from '../../src/engine/nn/convnet';
import { typescriptConvKernels } from '../../src/engine/nn/sparse-conv';
import { sparseKernels } from '../../src/engine/sparse';
import { heGain, planLayers, type LayerMaskPlan } from '../../src/engine/masks';
import { createOptimizer } from '../../src/engine/optimizers';
import { makeBatch } from '../../src/engine/batches';
import { optimizerParams, trainStep, type StepResult } from '../../src/engine/step';
import { trainExperiment, type EngineOptions, type TrainHooks } from '../../src/engine/train';
import { createRng } from '../../src/shared/rng';
import { assertClose, config, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

before(async () => {
  const b = await testBackend();
  assert.equal(b, 'wasm');
  const k = sparseKernels();
  assert.equal(k.kernels.impl, process.env.GRADFLOW_SPARSE_KERNELS === 'typescript' ? 'typescript' : 'wasm-simd', `sparse kernels: ${k.note ?? ''}`);
});

const RTOL = 1e-5;
const ATOL = 1e-7;

/** 64 training images 6×6×2 (NHWC rows), 3 classes. */
function images(): Dataset {
  return { ...syntheticDataset(72, 3, 64, 16, 16), shape: [6, 6, 2] };
}

const SPEC: ConvNetSpec = { architecture: 'cnn', input: [6, 6, 2], classes: 3, activation: 'relu', batchNorm: true, channels: [4, 8, 8], pool: 'auto', skip: true };

function plans(density = 0.5): LayerMaskPlan[] {
  const pair = scsdcConvPair(SPEC, { density });
  return planLayers({
    shapes: pair.sparse.layers.map(layerShape),
    activeCounts: pair.activeCounts,
    denseFanIns: pair.denseFanIns,
    method: 'random',
    init: 'dense-fan-in',
    gain: heGain('relu'),
    rng: createRng(11),
  });
}

describe('sparse convolution in the conv net step (wasm)', () => {
  it('convKernelPaths: masked conv layers only; auto on wasm, on everywhere, off none', () => {
    const p = plans();
    const layers = blueprint(SPEC).layers;
    const kinds = layers.map((d) => d.kind);
    const expectOn = p.map((q, l) => (q.mask && at(kinds, l) === 'conv' ? 'sparse' : 'dense'));
    assert.ok(expectOn.includes('sparse') && expectOn.includes('dense'), 'the case has both kinds of layers');
    assert.deepEqual(convKernelPaths(p, layers, 'on', 'cpu'), expectOn);
    // auto on wasm: only masked conv layers of density ≤ SPARSE_CONV_AUTO_MAX_DENSITY (0.25) at
    // stride 1, ≤ SPARSE_CONV_AUTO_MAX_DENSITY_STRIDED (0.1) at stride 2. Channels 4-8-8 rounded: at
    // ρ = 0.65 (twin 3-5-5) the stem conv at 0.75 and the others at 0.47 and 0.39 stay dense; at
    // ρ = 0.4 (twin 2-3-3) the conv-to-conv layers (0.19, 0.14) take the kernel, the stem (0.5) does
    // not, and the same layers at stride 2 do not.
    assert.equal(SPARSE_CONV_AUTO_MAX_DENSITY, 0.25);
    assert.equal(SPARSE_CONV_AUTO_MAX_DENSITY_STRIDED, 0.1);
    const p65 = plans(0.65);
    assert.deepEqual(convKernelPaths(p65, layers, 'auto', 'wasm'), p65.map(() => 'dense'));
    const p4 = plans(0.4);
    const densities = p4.map((q) => q.active / (q.shape.fanIn * q.shape.fanOut));
    const auto4 = convKernelPaths(p4, layers, 'auto', 'wasm');
    assert.deepEqual(
      auto4,
      p4.map((q, l) => (q.mask && at(kinds, l) === 'conv' && at(densities, l) <= 0.25 ? 'sparse' : 'dense')),
    );
    assert.equal(at(auto4, 0), 'dense', `the first conv at density ${at(densities, 0)}`);
    assert.ok(auto4.includes('sparse'), `a conv-to-conv layer below 0.25: densities ${densities.map((d) => d.toFixed(3)).join(', ')}`);
    const strided = layers.map((d) => ({ ...d, stride: 2 }));
    assert.deepEqual(
      convKernelPaths(p4, strided, 'auto', 'wasm'),
      p4.map((q, l) => (q.mask && at(kinds, l) === 'conv' && at(densities, l) <= 0.1 ? 'sparse' : 'dense')),
    );
    assert.deepEqual(convKernelPaths(p, layers, 'auto', 'cpu'), p.map(() => 'dense'));
    assert.deepEqual(convKernelPaths(p, layers, 'auto', 'tensorflow'), p.map(() => 'dense'));
    assert.deepEqual(convKernelPaths(p, layers, 'off', 'wasm'), p.map(() => 'dense'));
  });

  for (const impl of ['wasm-simd', 'typescript'] as const)
  it(`k steps on both paths (${impl} kernels): masked norms every step, raw norms on cadence steps, weights after`, () => {
    const kernels = impl === 'typescript' ? typescriptConvKernels : sparseKernels().kernels.conv;
    const bp = blueprint(scsdcConvPair(SPEC, { density: 0.5 }).sparse.spec);
    const p = plans();
    const paths = convKernelPaths(p, bp.layers, 'on', 'wasm');
    const copy = (): LayerMaskPlan[] => p.map((q) => ({ ...q, kernel: Float32Array.from(q.kernel), ...(q.mask ? { mask: Float32Array.from(q.mask) } : {}) }));
    const sparse = new ConvNet({ role: 'sparse', blueprint: bp, plans: copy(), paths, convKernels: kernels });
    const dense = new ConvNet({ role: 'sparse', blueprint: bp, plans: copy(), forward: 'backend', filterGrad: 'conv', inputGrad: 'forward' });
    assert.deepEqual(sparse.layerInfo.map((l) => l.path), paths);
    const data = images();
    const nets = [sparse, dense].map((net) => {
      const opt = createOptimizer({ name: 'momentum', learningRate: 0.05, momentum: 0.9, decoupledDecay: 0 });
      net.attachOptimizer(opt);
      return { net, opt, params: optimizerParams(net) };
    });
    const before = tf.memory().numTensors;
    const results: StepResult[][] = [[], []];
    const order = Int32Array.from({ length: data.train.n }, (_v, i) => i);
    for (let step = 0; step < 6; step++) {
      const batch = makeBatch(data.train, data.features, data.classes, order, (step % 4) * 16, 16, undefined, true);
      // Raw norms every third step (the cadence); masked norms and integrity every step.
      const o = { coupledL2: 1e-3, collectNorms: true, checkIntegrity: true, rawL1: step % 3 === 0, rawL2: step % 3 === 0 };
      nets.forEach((r, i) => at(results, i).push(trainStep(r.net, r.opt, r.params, batch, o)));
      tf.dispose([batch.x, batch.y, batch.labels, ...(batch.xT ? [batch.xT] : [])]);
    }
    at(results, 0).forEach((s, step) => {
      const e = at(at(results, 1), step);
      assert.deepEqual(s.integrity, []);
      assert.equal(s.nonFinite, null);
      assertClose([s.loss], [e.loss], `loss, step ${step}`, RTOL, ATOL);
      const sl = s.layers ?? [];
      const el = e.layers ?? [];
      assertClose(sl.flatMap((l) => [l.masked.l1, l.masked.l2]), el.flatMap((l) => [l.masked.l1, l.masked.l2]), `masked norms, step ${step}`, RTOL, ATOL);
      // EGF (method.md §3) from the per-layer masked norms of both paths.
      const egf = (ls: typeof sl): number[] => [1, 2].map((q) => ls.reduce((a, l) => a + (q === 1 ? l.masked.l1 : l.masked.l2) / Math.sqrt(l.active), 0) / ls.length);
      assertClose(egf(sl), egf(el), `EGF, step ${step}`, RTOL, ATOL);
      if (step % 3 === 0) {
        assertClose(sl.flatMap((l) => [l.raw.l1, l.raw.l2]), el.flatMap((l) => [l.raw.l1, l.raw.l2]), `raw norms, step ${step}`, RTOL, ATOL);
        // Raw ≠ masked on a masked layer: the raw gradient was really the full one.
        sl.forEach((l, i) => {
          if (at(paths, i) === 'sparse') assert.ok(l.raw.l1 > l.masked.l1 * (1 + 1e-3), `layer ${i} raw L1 ${l.raw.l1} vs masked ${l.masked.l1}`);
        });
      } else {
        sl.forEach((l, i) => {
          if (at(paths, i) === 'sparse') assert.ok(Number.isNaN(l.raw.l1) && Number.isNaN(l.raw.l2), `step ${step}: raw norms of sparse layer ${i} skipped`);
        });
      }
    }
    );
    for (let l = 0; l < sparse.numLayers; l++) {
      const a = sparse.kernelArray(l);
      const b = dense.kernelArray(l);
      assertClose(a, b, `weights of layer ${l} after 6 steps`, RTOL, 1e-6);
      const m = sparse.maskArray(l);
      a.forEach((w, i) => assert.ok(m[i] !== 0 || w === 0, `layer ${l} entry ${i} pruned but ${w}`));
    }
    nets.forEach((r) => r.opt.dispose());
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    nets.forEach((r) => r.net.dispose());
  });
});

describe('engine.sparse_kernels on a conv net through trainExperiment (wasm)', () => {
  async function run(opts: Partial<EngineOptions>): Promise<{ ready: NetInfo[]; steps: StepMetrics[]; logs: string[] }> {
    const ready: NetInfo[] = [];
    const steps: StepMetrics[] = [];
    const logs: string[] = [];
    const hooks: TrainHooks = {
      onReady: (n) => ready.push(...n),
      onStep: (m) => steps.push(m),
      onEpoch: () => undefined,
      onFlowPoint: () => undefined,
      onAlert: () => undefined,
      shouldStop: () => false,
      onLog: (_l, m) => logs.push(m),
    };
    const cfg = config({
      model: { architecture: 'cnn', channels: [4, 8], pool: 'auto', skip: true, batchNorm: true },
      sparsity: { method: 'random', density: 0.5, pair: true, init: 'dense-fan-in' },
      training: { epochs: 1, batchSize: 16, weightDecay: 1e-3 },
    });
    await trainExperiment(cfg, images(), hooks, opts);
    return { ready, steps, logs };
  }

  it('on (default cadence) and off: the paths reported, the same EGF, raw norms every 10th step', async () => {
    const on = await run({ sparseKernels: 'on' });
    const off = await run({ sparseKernels: 'off' });
    const sp = at(on.ready, 0).layers;
    assert.ok(sp.some((l) => l.path === 'sparse'));
    assert.equal(sp.at(-1)?.path, 'dense', 'the linear classifier stays masked-dense');
    assert.ok(at(off.ready, 0).layers.every((l) => l.path === 'dense'));
    assert.ok(at(on.ready, 1).layers.every((l) => l.path === 'dense'), 'the twin stays on TF.js');
    assert.ok(on.logs.some((m) => /sparse net kernel paths: .*sparse/.test(m)));
    // The conv kernels in use, per net (nn/conv.ts convKernelNote). The sparse net masked-dense:
    // block1's 3×3 conv and 1×1 shortcut (2 → 4) have too few input channels for the engine's
    // kernels; block2's 3×3 conv (4 → 8) is Winograd on every pass; its 1×1 stride-1 shortcut takes
    // the im2col products for the filter gradient only.
    const kernelLine = (logs: string[], role: string): string => logs.find((m) => m.startsWith(`${role} net conv kernels over`)) ?? '';
    assert.equal(
      kernelLine(off.logs, 'sparse'),
      'sparse net conv kernels over 4 conv layers (wasm SIMD): forward 1 Winograd, 0 im2col, 3 XNNPACK; input 1 Winograd, 0 im2col, 3 XNNPACK; filter 1 Winograd, 1 im2col, 2 XNNPACK',
    );
    // On the sparse path, the layers the sparse kernels take are not counted here; with `on` they
    // take all four, and a net with no conv layer left for these kernels has no such line.
    assert.equal(sp.filter((l) => l.path === 'sparse').length, 4);
    assert.equal(kernelLine(on.logs, 'sparse'), '');
    // The twin (channels × 0.5: 2 → 2, 2 → 4) has too few channels for any of them.
    assert.match(kernelLine(on.logs, 'dense'), /over 4 conv layers \(wasm SIMD\): forward 0 Winograd, 0 im2col, 4 XNNPACK; input 0 Winograd, 0 im2col, 4 XNNPACK; filter 0 Winograd, 0 im2col, 4 XNNPACK$/);
    assert.equal(at(on.ready, 0).rawEvery?.l1, 10);
    assert.equal(on.steps.length, off.steps.length);
    on.steps.forEach((s, i) => {
      const e = at(off.steps, i);
      assertClose([s.loss, s.egf1, s.egf2], [e.loss, e.egf1, e.egf2], `step ${s.step} ${s.net}`, RTOL, ATOL);
      if (s.net === 'sparse' && s.step % 10 !== 0) assert.ok(Number.isNaN(s.g1), `step ${s.step}: raw norms off the cadence`);
    });
  });
});
