/**
 * training.nesterov: PyTorch's SGD(nesterov=True) on the TF.js path (by hand) and, through the
 * training loop, on the sparse kernels as on the masked-dense path. The wasm and TypeScript
 * kernels' rule is checked against float64 by hand in sparse.test.ts.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createOptimizer } from '../../src/engine/optimizers';
import { trainExperiment, type EngineOptions } from '../../src/engine/train';
import type { StepMetrics } from '../../src/shared/protocol';
import { config, recordingHooks, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

before(async () => {
  await testBackend();
});

describe('Nesterov momentum', () => {
  it('two updates on the TF.js path (by hand; torch 1.13 SGD(lr=0.1, momentum=0.5, nesterov=True) gives 0.85, 0.675)', () => {
    const w = tf.variable(tf.tensor1d([1]));
    const opt = createOptimizer({ name: 'momentum', learningRate: 0.1, momentum: 0.5, nesterov: true, decoupledDecay: 0 });
    const g = tf.tensor1d([1]);
    // buf 1, w − 0.1·(1 + 0.5·1) = 0.85; buf 1.5, w − 0.1·(1 + 0.5·1.5) = 0.675.
    const seen: number[] = [];
    for (let i = 0; i < 2; i++) {
      opt.apply([{ variable: w, decay: true }], [g]);
      seen.push(at(w.dataSync(), 0));
    }
    seen.forEach((v, i) => assert.ok(Math.abs(v - at([0.85, 0.675], i)) < 1e-7, `update ${i + 1}: ${v}`));
    tf.dispose([w, g]);
    opt.dispose();
  });

  it('through the loop: the sparse kernels agree with the masked-dense path; heavy ball differs from step 2', async () => {
    const run = async (nesterov: boolean, opts: Partial<EngineOptions>): Promise<StepMetrics[]> => {
      const rec = recordingHooks();
      const cfg = config({ model: { width: 20 }, sparsity: { denseWidth: 6 }, training: { epochs: 2, batchSize: 8, optimizer: 'momentum', learningRate: 0.05, momentum: 0.9 } });
      await trainExperiment({ ...cfg, training: { ...cfg.training, nesterov } }, syntheticDataset(12, 3, 96), rec.hooks, opts);
      return rec.steps.filter((s) => s.net === 'sparse');
    };
    const on = await run(true, { sparseKernels: 'on' });
    const off = await run(true, { sparseKernels: 'off' });
    const heavy = await run(false, { sparseKernels: 'on' });
    assert.equal(on.length, 24);
    on.forEach((s, i) => assert.ok(Math.abs(s.loss - at(off, i).loss) <= 1e-5 * Math.abs(at(off, i).loss), `step ${s.step}: ${s.loss} vs ${at(off, i).loss}`));
    assert.equal(at(on, 0).loss, at(heavy, 0).loss, 'step 1: before any update');
    assert.notEqual(at(on, 1).loss, at(heavy, 1).loss, 'step 2 follows a Nesterov update');
  });
});
