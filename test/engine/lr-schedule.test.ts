/**
 * training.lr_schedule: the rate per epoch (PyTorch's MultiStepLR stepped once per epoch, by hand),
 * the optimizer applying the rate set before each update, and the training loop changing it at the
 * milestones on both kernel paths of an SC-SDC pair.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createOptimizer } from '../../src/engine/optimizers';
import { trainExperiment, type EngineOptions } from '../../src/engine/train';
import { learningRateAt, type LrSchedule } from '../../src/shared/experiment';
import type { StepMetrics } from '../../src/shared/protocol';
import { config, recordingHooks, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

before(async () => {
  await testBackend();
});

const close = (got: number, want: number, what: string): void => assert.ok(Math.abs(got - want) <= 1e-15 * Math.abs(want), `${what}: ${got} vs ${want}`);

describe('learning-rate schedule', () => {
  it('the rate of each epoch is base × γ^(milestones ≤ epoch), as MultiStepLR stepped per epoch (by hand)', () => {
    // The WRN paper's schedule in small: base 0.1, ×0.2 at the start of epochs 2 and 4.
    const s: LrSchedule = { milestones: [2, 4], gamma: 0.2 };
    const want = [0.1, 0.1, 0.02, 0.02, 0.004, 0.004];
    want.forEach((w, e) => close(learningRateAt(0.1, s, e), w, `epoch ${e}`));
    assert.equal(learningRateAt(0.1, undefined, 7), 0.1, 'no schedule: constant');
    close(learningRateAt(1, { milestones: [1], gamma: 0.5 }, 0), 1, 'before the first milestone');
  });

  it('an update applies the rate set before it (SGD and momentum, by hand)', () => {
    for (const name of ['sgd', 'momentum'] as const) {
      const w = tf.variable(tf.tensor1d([1]));
      const opt = createOptimizer({ name, learningRate: 0.1, momentum: 0.5, decoupledDecay: 0 });
      const g = tf.tensor1d([1]);
      opt.apply([{ variable: w, decay: true }], [g]);
      opt.setLearningRate(0.05);
      assert.equal(opt.learningRate, 0.05);
      opt.apply([{ variable: w, decay: true }], [g]);
      // sgd: 1 − 0.1 − 0.05; momentum (buf 1, then 0.5·1 + 1 = 1.5): 1 − 0.1 − 0.05·1.5.
      const want = name === 'sgd' ? 1 - 0.1 - 0.05 : 1 - 0.1 - 0.075;
      assert.ok(Math.abs(at(w.dataSync(), 0) - want) < 1e-7, `${name}: ${at(w.dataSync(), 0)} vs ${want}`);
      assert.throws(() => opt.setLearningRate(0), /positive/);
      tf.dispose([w, g]);
      opt.dispose();
    }
  });

  describe('through the training loop', () => {
    // 96 examples, batch 8: 12 steps per epoch, 3 epochs. The loss of step k is computed before its
    // update, on the weights after k − 1 updates.
    const run = async (schedule: LrSchedule | undefined, opts: Partial<EngineOptions>): Promise<{ steps: StepMetrics[]; logs: string[] }> => {
      const rec = recordingHooks();
      const cfg = config({ model: { width: 20 }, sparsity: { denseWidth: 6 }, training: { epochs: 3, batchSize: 8, optimizer: 'momentum', learningRate: 0.1, momentum: 0.9 } });
      await trainExperiment(schedule ? { ...cfg, training: { ...cfg.training, lrSchedule: schedule } } : cfg, syntheticDataset(12, 3, 96), rec.hooks, opts);
      return rec;
    };
    const loss = (r: { steps: StepMetrics[] }, net: string): number[] => r.steps.filter((s) => s.net === net).map((s) => s.loss);
    const schedule: LrSchedule = { milestones: [1, 2], gamma: 0.5 };

    it('the rate halves at epochs 2 and 3, said in the log; updates 1–12 are the constant run’s', async () => {
      const sched = await run(schedule, { sparseKernels: 'off' });
      const constant = await run(undefined, { sparseKernels: 'off' });
      assert.deepEqual(
        sched.logs.filter((m) => m.startsWith('info: learning rate')),
        ['info: learning rate 0.05 from epoch 2 (training.lr_schedule)', 'info: learning rate 0.025 from epoch 3 (training.lr_schedule)'],
      );
      // Printed without float noise: 0.1 × 0.2 is 0.020000000000000004 in float64.
      const noisy = await run({ milestones: [1], gamma: 0.2 }, { sparseKernels: 'off' });
      assert.ok(noisy.logs.includes('info: learning rate 0.02 from epoch 2 (training.lr_schedule)'), noisy.logs.join('\n'));
      assert.deepEqual(constant.logs.filter((m) => m.includes('learning rate')), []);
      for (const net of ['sparse', 'dense']) {
        const a = loss(sched, net);
        const b = loss(constant, net);
        assert.equal(a.length, 36);
        // Steps 1–13 see the weights of updates made at 0.1 in both runs; step 14 the first at 0.05.
        assert.deepEqual(a.slice(0, 13), b.slice(0, 13), `${net}: identical before the first milestone takes effect`);
        assert.notEqual(at(a, 13), at(b, 13), `${net}: step 14 follows an update at the decayed rate`);
      }
    });

    it('the sparse kernels follow the schedule as the masked-dense path does', async () => {
      const on = await run(schedule, { sparseKernels: 'on' });
      const off = await run(schedule, { sparseKernels: 'off' });
      const a = loss(on, 'sparse');
      const b = loss(off, 'sparse');
      a.forEach((l, i) => assert.ok(Math.abs(l - at(b, i)) <= 1e-5 * Math.abs(at(b, i)), `step ${i + 1}: ${l} vs ${at(b, i)}`));
      // Had the sparse path kept 0.1, its losses would part from the masked-dense path's after step 13.
      const constant = loss(await run(undefined, { sparseKernels: 'on' }), 'sparse');
      assert.ok(Math.abs(at(constant, 35) - at(a, 35)) > 1e-4 * Math.abs(at(a, 35)), 'the schedule changes the sparse path');
    });
  });
});
