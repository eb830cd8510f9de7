import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../../src/shared/rng';
import { combineFlow, flowSchedule, meanFlow, normPair } from '../../src/engine/flow';
import { buildNets, disposeBatch, makeBatch } from '../../src/engine/train';
import { gradients, rawTensor } from '../../src/engine/step';
import { MaskedMLP } from '../../src/engine/model';
import { config, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

before(async () => {
  await testBackend();
});

describe('flow measures (pure helpers)', () => {
  it('combine per-layer norms: EGF = plain mean of masked norms, g = norms of the concatenation', () => {
    const layers = [
      { active: 10, raw: { l1: 3, l2: 2 }, masked: { l1: 1, l2: 1 } },
      { active: 1000, raw: { l1: 5, l2: 1 }, masked: { l1: 2, l2: 0.5 } },
    ];
    const f = combineFlow(layers);
    assert.equal(f.egf1, 1.5); // (1 + 2)/2 — no division by the active count
    assert.equal(f.egf2, 0.75);
    assert.equal(f.g1, 8);
    assert.equal(f.g2, Math.sqrt(5)); // √(2² + 1²)
    assert.deepEqual(normPair([3, -4]), { l1: 7, l2: 5 });
    assert.deepEqual(meanFlow([f, { egf1: 0.5, egf2: 0.25, g1: 2, g2: 0 }]), { egf1: 1, egf2: 0.5, g1: 5, g2: Math.sqrt(5) / 2 });
  });

  it('11-point schedule: epochs round(k·E/10) for E ≥ 10, steps round(k·T/10) for shorter runs', () => {
    const e = (E: number, spe: number): [number, number][] => flowSchedule(E, spe).map((p) => [p.index, p.step]);
    // E = 10, 5 steps per epoch: the end of every epoch.
    assert.deepEqual(e(10, 5), Array.from({ length: 11 }, (_, k) => [k, 5 * k]));
    assert.deepEqual(flowSchedule(500, 2).map((p) => p.epoch), [0, 50, 100, 150, 200, 250, 300, 350, 400, 450, 500]);
    // E = 15: epochs 0, 1.5→2, 3, 4.5→5, … (Math.round rounds halves up), 3 steps per epoch.
    assert.deepEqual(flowSchedule(15, 3).map((p) => p.epoch), [0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15]);
    // E = 3 with 10 steps per epoch: T = 30, a point every 3 steps, at fractional epochs.
    assert.deepEqual(e(3, 10), Array.from({ length: 11 }, (_, k) => [k, 3 * k]));
    assert.deepEqual(flowSchedule(3, 10).map((p) => p.epoch), [0, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.4, 2.7, 3]);
    // T = 4 steps: round(0.4·k) = 0,0,1,1,2,2,2,3,3,4,4; a repeated step is measured once.
    assert.deepEqual(e(1, 4), [[0, 0], [2, 1], [4, 2], [7, 3], [9, 4]]);
    assert.deepEqual(e(0, 5), [[0, 0]]);
  });
});

describe('masked weights ≠ masked gradients', () => {
  it('raw and masked gradients differ exactly at pruned positions', () => {
    const cfg = config({ model: { width: 16, hiddenLayers: 2, activation: 'relu' }, sparsity: { denseWidth: 8 } });
    const data = syntheticDataset();
    const [net] = buildNets(cfg, data.features, data.classes, createRng(9), { sparseKernels: 'off' }); // the masked-dense reference path
    assert.ok(net !== undefined);
    const idx = Uint32Array.from({ length: data.train.n }, (_, i) => i);
    const b = makeBatch(data.train, data.features, data.classes, idx, 0, 64);
    try {
      const per = tf.tidy(() => {
        const g = gradients(net, b, 0);
        return g.kernelRaw.map((r, l) => {
          const raw = rawTensor(net, l, r);
          return { raw: Array.from(MaskedMLP.toInOut(raw)), masked: Array.from(MaskedMLP.toInOut(net.applyMask(l, raw))) };
        });
      });
      per.forEach(({ raw, masked }, l) => {
        const m = at(net.spec.plans, l).mask as Float32Array;
        let prunedNonZero = 0;
        raw.forEach((r, i) => {
          if (m[i] === 1) assert.equal(masked[i], r, `active ${l}/${i}`);
          else {
            assert.ok(masked[i] === 0, `pruned ${l}/${i}`);
            if (r !== 0) prunedNonZero++;
          }
        });
        // The pruned weights are 0 but their raw gradients are not (the paper's point).
        assert.ok(prunedNonZero > 0, `layer ${l}: no pruned position has a gradient`);
      });
    } finally {
      disposeBatch(b);
      net.dispose();
    }
  });
});
