/**
 * The model interface shared with dynamic sparsity (COMMON engine interface): maskArray,
 * updateMask, denseKernelGradient. Gradients are checked against the PyTorch reference
 * (test/fixtures/engine/ref_flow.json); mask updates against hand-derived consequences of the
 * update rules (a momentum step from reset state moves a weight by exactly −lr·g).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createOptimizer } from '../../src/engine/optimizers';
import { optimizerParams, trainStep } from '../../src/engine/step';
import { assertClose, fixturePath, testBackend } from './helpers';
import { buildRefNet, disposeRefBatch, refBatch, type RefCase } from './ref-net';
import { at } from '../../src/shared/checked';

interface Ref {
  flow: { case: RefCase; expected: { layers: { raw_grad: number[] }[] } }[];
  train_case: RefCase;
}
const ref = JSON.parse(fs.readFileSync(fixturePath('ref_flow.json'), 'utf8')) as Ref;

before(async () => {
  await testBackend();
});

describe('model interface: denseKernelGradient', () => {
  for (const { case: c, expected } of ref.flow.filter((f) => f.case.l2 === 0)) {
    it(`equals the PyTorch gradient at every position: ${c.name}`, () => {
      const net = buildRefNet(c);
      const batch = refBatch(c);
      try {
        for (let l = 0; l <= c.H; l++) assertClose(net.denseKernelGradient(l, batch), at(expected.layers, l).raw_grad, `${c.name} layer ${l}`, 1e-3, 1e-5);
      } finally {
        net.dispose();
        disposeRefBatch(batch);
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
      // Drop two active entries, grow two pruned ones and re-grow one of the dropped: a connection is
      // new only if its old mask was 0 (the published RigL), so the re-grown one keeps value and momentum.
      const regrown = at(active, 1);
      const drop = Int32Array.from([active[0], regrown]);
      const grow = Int32Array.from([pruned[0], pruned[1], regrown]);
      const before = net.kernelArray(l);
      net.updateMask(l, drop, grow);
      const after = net.kernelArray(l);
      const m2 = net.maskArray(l);
      assert.equal(m2[at(active, 0)], 0);
      assert.equal(m2[regrown], 1);
      assert.equal(m2[at(pruned, 0)], 1);
      assert.equal(at(net.layerInfo, l).active, active.length + 1);
      // Dropped and newly grown entries are +0 (not −0: a dropped negative weight times a 0 mask is −0).
      for (const i of [at(active, 0), at(pruned, 0), at(pruned, 1)]) assert.ok(Object.is(after[i], 0), `entry ${i} is ${Object.is(after[i], -0) ? '-0' : after[i]}`);
      assert.ok(before[regrown] !== 0);
      for (const i of [regrown, ...active.slice(2)]) assert.equal(after[i], before[i]);
      // Next step: a fresh momentum buffer is g, so a reset entry moves by exactly −lr·g.
      const g = net.denseKernelGradient(l, batch);
      const survivor = at(active, 2);
      step();
      const w = net.kernelArray(l);
      for (const i of [at(pruned, 0), at(pruned, 1)]) assertClose([at(w, i)], [-lr * at(g, i)], `reset entry ${i}`, 1e-5, 1e-8);
      assert.ok(w[at(active, 0)] === 0, 'dropped entry stays 0');
      // A survivor kept its buffer: its move differs from −lr·g (μ·buf ≠ 0 after two steps).
      for (const i of [survivor, regrown]) assert.ok(Math.abs(at(w, i) - at(after, i) + lr * at(g, i)) > 1e-7, `entry ${i} kept its momentum`);
      assert.throws(() => net.updateMask(l, Int32Array.from([pruned[2]]), new Int32Array(0)), /not active/);
      assert.throws(() => net.updateMask(l, new Int32Array(0), Int32Array.from([survivor])), /already active/);
    } finally {
      opt.dispose();
      net.dispose();
      disposeRefBatch(batch);
    }
  });
});
