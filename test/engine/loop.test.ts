/**
 * The training loop (src/engine/loop.ts) on its own: the order in which it calls its hooks, how a
 * stop (from a step's numbers, or polled) ends it within the step, a net dropping out, skipped
 * updates, and the single read-back of stepNets. Real nets and real steps throughout; the hooks
 * record what they see. Equality of whole runs with the policies is train.test.ts's.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createRng, permutation } from '../../src/shared/rng';
import { AlertTracker } from '../../src/engine/alerts';
import { makeBatch } from '../../src/engine/batches';
import { runLoop, stepNets, type LoopHook, type LoopPlan, type NetRun } from '../../src/engine/loop';
import { mlpShapes, planLayers } from '../../src/engine/masks';
import { MaskedMLP } from '../../src/engine/model';
import { createOptimizer } from '../../src/engine/optimizers';
import { optimizerParams, trainStep } from '../../src/engine/step';
import { trainExperiment, type TrainHooks } from '../../src/engine/train';
import { config, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

before(async () => {
  await testBackend();
});

const data = syntheticDataset(12, 3, 40, 8, 8);

function run(role: 'sparse' | 'dense', seed: number): NetRun {
  const shapes = mlpShapes(12, 8, 1, 3);
  const plans = planLayers({ shapes, method: 'none', init: 'dense-fan-in', gain: Math.SQRT2, rng: createRng(seed) });
  const net = new MaskedMLP({ role, inputs: 12, classes: 3, width: 8, hiddenLayers: 1, activation: 'relu', batchNorm: false, skip: false, plans });
  return {
    role,
    net,
    opt: createOptimizer({ name: 'sgd', learningRate: 0.1, momentum: 0, decoupledDecay: 0 }),
    params: optimizerParams(net),
    alerts: new AlertTracker(role, { explosion: { maxNorm: 1e9, growthFactor: 1e9, window: 5 }, collapse: { minNorm: 0, steps: 1000 } }, net.layerInfo.map((l) => l.name)),
    flowPoints: [],
    stepMs: 0,
    steps: 0,
    epochs: 0,
    epochLoss: 0,
    epochCorrect: 0,
    epochN: 0,
    final: { train: { loss: NaN, accuracy: NaN }, validation: { loss: NaN, accuracy: NaN }, test: { loss: NaN, accuracy: NaN } },
    skipUpdate: false,
  };
}

function dispose(runs: NetRun[]): void {
  for (const r of runs) {
    r.net.dispose();
    r.opt.dispose();
  }
}

/** 40 rows in batches of 16: steps of 16, 16 and 8 rows per epoch. */
function plan(epochs: number): LoopPlan {
  const rng = createRng(3);
  return {
    epochs,
    stepsPerEpoch: 3,
    nTrain: 40,
    batchSize: 16,
    shuffle: () => permutation(40, rng),
    batch: (order, start, n) => makeBatch(data.train, 12, 3, order, start, n, undefined, true),
    stepOptions: (r) => ({ coupledL2: 0, collectNorms: true, checkIntegrity: false, skipUpdate: r.skipUpdate }),
  };
}

/** A hook that records every call as a short string. */
function recorder(log: string[], tag = ''): LoopHook {
  return {
    start: (s) => log.push(`${tag}start ${s.step}`),
    epochStart: (s) => log.push(`${tag}epochStart ${s.epoch}`),
    beforeStep: (s) => log.push(`${tag}before ${s.step}`),
    netStep: (s, r, res, n) => log.push(`${tag}net ${s.step} ${r.role} n=${n} layers=${res.layers?.length ?? 0}`),
    afterStep: (s, batch) => log.push(`${tag}after ${s.step} rows=${batch.n}`),
    afterBatch: (s) => log.push(`${tag}afterBatch ${s.step}`),
    epochEnd: (s) => log.push(`${tag}epochEnd ${s.epoch} done=${s.epochDone}`),
    polled: (s, at) => log.push(`${tag}polled ${at} ${s.step}`),
    end: (s) => log.push(`${tag}end ${s.step} stopped=${s.stopped} done=${s.epochDone}`),
  };
}

describe('runLoop', () => {
  it('calls the hooks in the documented order, nets in order, hooks in the order given', async () => {
    const runs = [run('sparse', 1), run('dense', 2)];
    const log: string[] = [];
    try {
      const s = await runLoop(plan(1), runs, [recorder(log, 'a:'), { netStep: (st, r) => log.push(`b:net ${st.step} ${r.role}`) }]);
      assert.equal(s.stopped, false);
      assert.equal(s.step, 3);
      const step = (k: number, n: number): string[] => [
        `a:before ${k}`,
        `a:net ${k} sparse n=${n} layers=2`,
        `b:net ${k} sparse`,
        `a:net ${k} dense n=${n} layers=2`,
        `b:net ${k} dense`,
        `a:after ${k} rows=${n}`,
        `a:afterBatch ${k}`,
        `a:polled step ${k}`,
      ];
      assert.deepEqual(log, ['a:start 0', 'a:epochStart 0', ...step(1, 16), ...step(2, 16), ...step(3, 8), 'a:epochEnd 0 done=true', 'a:polled epoch 3', 'a:end 3 stopped=false done=true']);
      for (const r of runs) assert.equal(r.steps, 3);
    } finally {
      dispose(runs);
    }
  });

  it('a stop raised by a step skips afterStep, afterBatch and polling, and ends the run mid-epoch', async () => {
    const runs = [run('sparse', 1), run('dense', 2)];
    const log: string[] = [];
    try {
      const stopper: LoopHook = { netStep: (s, r) => (s.step === 2 && r.role === 'sparse' ? s.stop('integrity', true) : undefined) };
      const s = await runLoop(plan(2), runs, [stopper, recorder(log), stopper]);
      assert.equal(s.stopped, true);
      assert.equal(s.failed, true);
      assert.equal(s.reason, 'integrity');
      // Both nets still report step 2 (the stop is read after the step); nothing after it but the end.
      assert.deepEqual(log.slice(log.indexOf('before 2')), ['before 2', 'net 2 sparse n=16 layers=2', 'net 2 dense n=16 layers=2', 'end 2 stopped=true done=false']);
    } finally {
      dispose(runs);
    }
  });

  it('a polled stop ends the loop after the step it was asked in; the first reason is kept', async () => {
    const runs = [run('sparse', 1)];
    const log: string[] = [];
    try {
      const ask: LoopHook = { polled: (s, at) => (at === 'epoch' && s.epoch === 0 ? s.stop('after epoch 1') : undefined) };
      const late: LoopHook = { polled: (s) => s.stop('second') };
      const s = await runLoop(plan(3), runs, [recorder(log), ask, late]);
      // 'late' stops at the first poll (step 1); 'ask' never gets its turn.
      assert.equal(s.reason, 'second');
      assert.equal(s.step, 1);
      assert.equal(log.at(-1), 'end 1 stopped=true done=false');
      const runs2 = [run('sparse', 1)];
      try {
        const s2 = await runLoop(plan(3), runs2, [ask]);
        assert.equal(s2.reason, 'after epoch 1');
        assert.equal(s2.step, 3);
        assert.equal(s2.epochDone, true);
      } finally {
        dispose(runs2);
      }
    } finally {
      dispose(runs);
    }
  });

  it('a net that drops out (diverged) stops stepping; when none is left the loop ends', async () => {
    const runs = [run('sparse', 1), run('dense', 2)];
    const log: string[] = [];
    try {
      const diverge: LoopHook = {
        netStep: (s, r) => {
          if ((r.role === 'dense' && s.step === 2) || (r.role === 'sparse' && s.step === 4)) r.diverged = { step: s.step, reason: 'test' };
        },
      };
      const s = await runLoop(plan(3), runs, [diverge, recorder(log)]);
      assert.equal(s.stopped, false);
      assert.equal(s.step, 4);
      assert.deepEqual(
        log.filter((l) => l.startsWith('net')),
        ['net 1 sparse n=16 layers=2', 'net 1 dense n=16 layers=2', 'net 2 sparse n=16 layers=2', 'net 2 dense n=16 layers=2', 'net 3 sparse n=8 layers=2', 'net 4 sparse n=16 layers=2'],
      );
      assert.equal(at(runs, 1).steps, 2);
      assert.equal(at(runs, 0).steps, 4);
      assert.equal(log.at(-1), 'end 4 stopped=false done=false');
    } finally {
      dispose(runs);
    }
  });

  it('skipUpdate computes the step without moving any weight; the next step moves them', async () => {
    const runs = [run('sparse', 1)];
    const r = at(runs, 0);
    const weights = (): number[] => Array.from(r.net.kernelArray(0)).concat(Array.from(r.net.kernelArray(1)));
    try {
      const seen: number[][] = [];
      const hook: LoopHook = {
        beforeStep: (s) => {
          r.skipUpdate = s.step === 1;
          seen.push(weights());
        },
      };
      await runLoop(plan(1), runs, [hook]);
      seen.push(weights());
      assert.deepEqual(seen[1], seen[0], 'step 1 skipped its update');
      assert.notDeepEqual(seen[2], seen[1], 'step 2 updated');
      assert.equal(r.opt.iterations, 2);
    } finally {
      dispose(runs);
    }
  });
});

describe('stepNets', () => {
  it('gives each net the numbers trainStep gives it alone (one read-back for all), leaking nothing', () => {
    const tensors = tf.memory().numTensors;
    const a = [run('sparse', 1), run('dense', 2)];
    const b = [run('sparse', 1), run('dense', 2)];
    const batch = makeBatch(data.train, 12, 3, permutation(40, createRng(5)), 0, 16, undefined, true);
    const o = { coupledL2: 0.01, collectNorms: true, checkIntegrity: false };
    try {
      const together = stepNets(a, batch, () => o, 2, 7);
      const alone = b.map((r) => trainStep(r.net, r.opt, r.params, batch, o));
      assert.deepEqual(
        together.map(([r]) => r.role),
        ['sparse', 'dense'],
      );
      together.forEach(([r, res], i) => {
        assert.deepEqual(res, alone[i]);
        assert.equal(r.steps, 7);
        assert.ok(r.stepMs >= 0);
      });
    } finally {
      dispose([...a, ...b]);
      batch.x.dispose();
      batch.xT?.dispose();
      batch.y.dispose();
      batch.labels.dispose();
    }
    assert.equal(tf.memory().numTensors, tensors);
  });
});

describe('trainExperiment frees every tensor', () => {
  // Criteria and gmp read dense-path kernels (kernelArray), which once left one tensor per read.
  const quiet: TrainHooks = { onReady: () => undefined, onStep: () => undefined, onEpoch: () => undefined, onFlowPoint: () => undefined, onAlert: () => undefined, shouldStop: () => false };
  const cases = {
    snip: config({ sparsity: { method: 'snip', denseWidth: 4, pair: true, init: 'dense-fan-in' }, training: { epochs: 1 } }),
    grasp: config({ sparsity: { method: 'grasp', denseWidth: 4, pair: true, init: 'dense-fan-in' }, training: { epochs: 1 } }),
    'gmp from density 0.6 (dense path)': config({
      sparsity: { method: 'gmp', denseWidth: 4, pair: true, init: 'dense-fan-in', gmp: { begin: 0, end: 0.75, every: 1, initialDensity: 0.6 } },
      training: { epochs: 2 },
    }),
  };
  for (const [name, cfg] of Object.entries(cases)) {
    it(name, async () => {
      const before = tf.memory().numTensors;
      await trainExperiment(cfg, syntheticDataset(), quiet);
      assert.equal(tf.memory().numTensors, before);
    });
  }
});
