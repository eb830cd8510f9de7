/**
 * Engine gradients, flow norms and optimizer updates against an independent PyTorch reference
 * (test/fixtures/engine/ref_flow.py → ref_flow.json, PyTorch autograd in float64).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerName } from '../../src/shared/experiment';
import { combineFlow } from '../../src/engine/flow';
import { MaskedMLP } from '../../src/engine/model';
import { createOptimizer } from '../../src/engine/optimizers';
import { gradients, measureFlowLayers, optimizerParams, trainStep, rawTensor } from '../../src/engine/step';
import { assertClose, fixturePath, testBackend } from './helpers';
import { buildRefNet, disposeRefBatch, refBatch, type RefCase } from './ref-net';
import { at } from '../../src/shared/checked';

interface RefNorm {
  l1: number;
  l2: number;
}
interface RefFlow {
  loss: number;
  correct: number;
  layers: { active: number; raw: RefNorm; masked: RefNorm; raw_grad: number[] }[];
  egf1: number;
  egf2: number;
  g1: number;
  g2: number;
  bias_grads: number[][];
  act_grads: Record<string, number[]>[];
  bn_grads: [number[], number[]][];
}
interface Ref {
  flow: { case: RefCase; expected: RefFlow }[];
  train: { optimizer: OptimizerName; lr: number; weight_decay: number; steps: number; kernels: number[][] }[];
  train_case: RefCase;
}

const ref = JSON.parse(fs.readFileSync(fixturePath('ref_flow.json'), 'utf8')) as Ref;

before(async () => {
  await testBackend();
});

describe('engine vs PyTorch reference', () => {
  ref.flow.forEach(({ case: c, expected: e }, caseIndex) => {
    it(`gradients and flow norms: ${c.name}`, () => {
      const net = buildRefNet(c);
      const batch = refBatch(c, caseIndex % 2 === 1);
      try {
        // Raw kernel gradients and every other parameter gradient, element by element.
        const got = tf.tidy(() => {
          const g = gradients(net, batch, c.l2);
          return { loss: at(g.loss.dataSync(), 0), correct: at(g.correct.dataSync(), 0), raw: g.kernelRaw.map((t, l) => Array.from(MaskedMLP.toInOut(rawTensor(net, l, t)))), other: g.other.map((t) => Array.from(t.dataSync())) };
        });
        assertClose([got.loss], [e.loss], `${c.name} loss`);
        assert.equal(got.correct, e.correct);
        got.raw.forEach((r, l) => assertClose(r, at(e.layers, l).raw_grad, `${c.name} raw grad layer ${l}`, 1e-3, 1e-5));
        // Other grads are in params order: biases, BN (γ, β per layer), activation params per layer.
        const expOther: number[][] = [...e.bias_grads];
        e.bn_grads.forEach(([gm, bt]) => expOther.push(gm, bt));
        const actOrder = c.activation === 'prelu' ? ['alpha'] : c.activation.startsWith('srelu') ? ['tl', 'al', 'tr', 'ar'] : [];
        e.act_grads.forEach((a) => actOrder.forEach((k) => expOther.push(a[k]!)));
        assert.equal(got.other.length, expOther.length);
        got.other.forEach((g, i) => assertClose(g, at(expOther, i), `${c.name} param grad ${i}`, 1e-3, 1e-5));

        // Flow measures through the flow-point path and through a training step (lr 0: no change).
        const layers = measureFlowLayers(net, [batch], c.l2);
        const fm = combineFlow(layers);
        assertClose([fm.egf1, fm.egf2, fm.g1, fm.g2], [e.egf1, e.egf2, e.g1, e.g2], `${c.name} flow`);
        layers.forEach((ls, l) => {
          assert.equal(ls.active, at(e.layers, l).active);
          assertClose([ls.raw.l1, ls.raw.l2, ls.masked.l1, ls.masked.l2], [at(e.layers, l).raw.l1, at(e.layers, l).raw.l2, at(e.layers, l).masked.l1, at(e.layers, l).masked.l2], `${c.name} layer ${l} norms`);
        });
        const opt = createOptimizer({ name: 'sgd', learningRate: 0, momentum: 0, decoupledDecay: 0 });
        const res = trainStep(net, opt, optimizerParams(net), batch, { coupledL2: c.l2, collectNorms: true, checkIntegrity: true });
        opt.dispose();
        assert.ok(res.layers);
        const sfm = combineFlow(res.layers);
        assertClose([res.loss, sfm.egf1, sfm.egf2, sfm.g1, sfm.g2], [e.loss, e.egf1, e.egf2, e.g1, e.g2], `${c.name} step flow`);
        assert.equal(res.nonFinite, null);
        assert.deepEqual(res.integrity, []);
      } finally {
        net.dispose();
        disposeRefBatch(batch);
      }
    });
  });

  for (const t of ref.train) {
    it(`masked training matches torch.optim: ${t.optimizer}, weight decay ${t.weight_decay}`, () => {
      const c = ref.train_case;
      const net = buildRefNet(c);
      const batch = refBatch(c);
      const decoupled = t.optimizer === 'adamw';
      const opt = createOptimizer({ name: t.optimizer, learningRate: t.lr, momentum: 0.9, decoupledDecay: decoupled ? t.weight_decay : 0 });
      const params = optimizerParams(net);
      try {
        for (let s = 0; s < t.steps; s++) {
          const r = trainStep(net, opt, params, batch, { coupledL2: decoupled ? 0 : t.weight_decay, collectNorms: s % 2 === 0, checkIntegrity: true });
          assert.deepEqual(r.integrity, []);
        }
        net.kernels.forEach((_k, l) => {
          const w = net.kernelArray(l);
          assertClose(w, at(t.kernels, l), `${t.optimizer} kernel ${l}`, 1e-3, 2e-5);
          // Pruned weights exactly zero.
          at(c.masks, l).forEach((m, i) => {
            // === so that −0 (a masked negative update) counts as the exact zero it is.
            if (m === 0) assert.ok(w[i] === 0, `pruned weight ${l}/${i} is ${w[i]}`);
          });
        });
      } finally {
        opt.dispose();
        net.dispose();
        disposeRefBatch(batch);
      }
    });
  }
});
