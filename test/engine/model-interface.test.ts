/**
 * The model interface shared with dynamic sparsity (COMMON engine interface): maskArray,
 * updateMask, denseKernelGradient. Gradients are checked against the PyTorch reference
 * (test/fixtures/engine/ref_flow.json); mask updates against hand-derived consequences of the
 * update rules (a momentum step from reset state moves a weight by exactly −lr·g).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../src/shared/experiment';
import { MaskedMLP, type KernelPath } from '../../src/engine/model';
import { mlpShapes } from '../../src/engine/masks';
import { createOptimizer } from '../../src/engine/optimizers';
import { optimizerParams, trainStep, type Batch } from '../../src/engine/step';
import { assertClose, fixturePath, testBackend } from './helpers';

interface RefCase {
  name: string;
  d: number;
  width: number;
  H: number;
  C: number;
  n: number;
  activation: Activation;
  batch_norm: boolean;
  skip: boolean;
  l2: number;
  kernels: number[][];
  masks: number[][];
  biases: number[][];
  x: number[];
  y: number[];
}
interface Ref {
  flow: { case: RefCase; expected: { layers: { raw_grad: number[] }[] } }[];
  train_case: RefCase;
}
const ref = JSON.parse(fs.readFileSync(fixturePath('ref_flow.json'), 'utf8')) as Ref;

export function buildRefNet(c: RefCase, path: KernelPath = 'dense'): MaskedMLP {
  const plans = mlpShapes(c.d, c.width, c.H, c.C).map((shape, l) => ({
    shape,
    kernel: Float32Array.from(c.kernels[l]),
    mask: Float32Array.from(c.masks[l]),
    active: c.masks[l].reduce((s, v) => s + v, 0),
    std: 0,
  }));
  const net = new MaskedMLP({ role: 'sparse', inputs: c.d, classes: c.C, width: c.width, hiddenLayers: c.H, activation: c.activation, batchNorm: c.batch_norm, skip: c.skip, plans, paths: plans.map(() => path) });
  net.biases.forEach((b, l) => b.assign(tf.tensor1d(c.biases[l])));
  return net;
}

function refBatch(c: RefCase): Batch {
  const labels = tf.tensor1d(c.y, 'int32');
  return { x: tf.tensor2d(c.x, [c.n, c.d]), y: tf.cast(tf.oneHot(labels, c.C), 'float32') as tf.Tensor2D, labels, n: c.n };
}
const disposeBatch = (b: Batch): void => tf.dispose([b.x, b.y, b.labels]);

before(async () => {
  await testBackend();
});

describe('model interface: denseKernelGradient', () => {
  for (const { case: c, expected } of ref.flow.filter((f) => f.case.l2 === 0)) {
    it(`equals the PyTorch gradient at every position: ${c.name}`, () => {
      const net = buildRefNet(c);
      const batch = refBatch(c);
      try {
        for (let l = 0; l <= c.H; l++) assertClose(net.denseKernelGradient(l, batch), expected.layers[l].raw_grad, `${c.name} layer ${l}`, 1e-3, 1e-5);
      } finally {
        net.dispose();
        disposeBatch(batch);
      }
    });
  }
});

describe('model interface: maskArray / updateMask', () => {
  for (const path of ['dense', 'sparse'] as const) it(`drops, grows and resets optimizer state exactly (${path} path)`, () => {
    const c = ref.train_case;
    const net = buildRefNet(c, path);
    const batch = refBatch(c);
    const lr = 0.05;
    const opt = createOptimizer({ name: 'momentum', learningRate: lr, momentum: 0.9, decoupledDecay: 0 });
    net.attachOptimizer(opt);
    const params = optimizerParams(net);
    try {
      const step = (): void => {
        const r = trainStep(net, opt, params, batch, { coupledL2: 0, collectNorms: true, checkIntegrity: true });
        assert.deepEqual(r.integrity, [], 'no pruned weight may move (state of dropped entries reset)');
      };
      step();
      step();
      const l = 0;
      const mask = net.maskArray(l);
      assert.deepEqual(Array.from(mask), c.masks[l]);
      const active = [...mask.keys()].filter((i) => mask[i] !== 0);
      const pruned = [...mask.keys()].filter((i) => mask[i] === 0);
      // Drop two active entries, grow two pruned ones and re-grow one of the dropped (its momentum
      // buffer must restart from zero).
      const regrown = active[1];
      const drop = Int32Array.from([active[0], regrown]);
      const grow = Int32Array.from([pruned[0], pruned[1], regrown]);
      const before = net.kernelArray(l);
      net.updateMask(l, drop, grow);
      const after = net.kernelArray(l);
      const m2 = net.maskArray(l);
      assert.equal(m2[active[0]], 0);
      assert.equal(m2[regrown], 1);
      assert.equal(m2[pruned[0]], 1);
      assert.equal(net.layerInfo[l].active, active.length + 1);
      // Dropped and grown entries are +0 (not −0: a dropped negative weight times a 0 mask is −0).
      for (const i of [active[0], regrown, pruned[0], pruned[1]]) assert.ok(Object.is(after[i], 0), `entry ${i} is ${Object.is(after[i], -0) ? '-0' : after[i]}`);
      for (const i of active.slice(2)) assert.equal(after[i], before[i]);
      // Next step: a fresh momentum buffer is g, so a reset entry moves by exactly −lr·g.
      const g = net.denseKernelGradient(l, batch);
      const survivor = active[2];
      step();
      const w = net.kernelArray(l);
      for (const i of [regrown, pruned[0], pruned[1]]) assertClose([w[i]], [-lr * g[i]], `reset entry ${i}`, 1e-5, 1e-8);
      assert.ok(w[active[0]] === 0, 'dropped entry stays 0');
      // A survivor kept its buffer: its move differs from −lr·g (μ·buf ≠ 0 after two steps).
      assert.ok(Math.abs(w[survivor] - after[survivor] + lr * g[survivor]) > 1e-7, 'survivor kept its momentum');
      assert.throws(() => net.updateMask(l, Int32Array.from([pruned[2]]), new Int32Array(0)), /not active/);
      assert.throws(() => net.updateMask(l, new Int32Array(0), Int32Array.from([survivor])), /already active/);
    } finally {
      opt.dispose();
      net.dispose();
      disposeBatch(batch);
    }
  });
});
