/**
 * Dynamic sparse training as the published code does it: several consecutive RigL and SET updates
 * with momentum and Adam against an independent PyTorch re-implementation of google-research/rigl
 * (scripts/reference/rigl_update.py → test/fixtures/engine/ref_rigl.json), on both kernel paths;
 * the timing and schedule by hand; an end-to-end run emitting mask-update events.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { DynamicSparsityConfig } from '../../src/shared/experiment';
import type { MaskUpdate } from '../../src/shared/protocol';
import { mlpShapes, plansFrom } from '../../src/engine/masks';
import { MaskedMLP, type KernelPath } from '../../src/engine/model';
import { createOptimizer } from '../../src/engine/optimizers';
import { dropCount, DynamicSparsity, endStep, overlapWithInitial, planDropGrow, updateFraction, UpdateTimer } from '../../src/engine/pruning/dynamic';
import { optimizerParams, trainStep, type Batch } from '../../src/engine/step';
import { trainExperiment } from '../../src/engine/train';
import { createRng } from '../../src/shared/rng';
import { config, fixturePath, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

interface RefScenario {
  d: number;
  width: number;
  H: number;
  C: number;
  n: number;
  iterations: number;
  total: number;
  until: number;
  every: number;
  alpha: number;
  schedule: 'cosine' | 'constant';
  end: number;
  kernels: number[][];
  masks: number[][];
  x: number[][];
  y: number[][];
  method: 'rigl' | 'set';
  optimizer: 'momentum' | 'adam';
  lr: number;
  momentum: number;
  steps: number;
  updates: { g: number; iteration: number; fraction: number; layers: { drop: number[]; grow: number[]; grow_scores: number[] | null }[] }[];
  masks_after: number[][];
  kernels_after: number[][];
  state_after: number[][][];
}

const ref = JSON.parse(fs.readFileSync(fixturePath('ref_rigl.json'), 'utf8')) as { scenarios: RefScenario[] };

function makeBatch(x: number[], y: number[], d: number, C: number): Batch {
  const labels = tf.tensor1d(y, 'int32');
  const xt = tf.tensor2d(x, [y.length, d]);
  return { x: xt, xT: tf.transpose(xt), y: tf.cast(tf.oneHot(labels, C), 'float32') as tf.Tensor2D, labels, n: y.length };
}

/** |a − b| within tol of the array's largest |b| (float32 engine against the float64 reference). */
function close(a: ArrayLike<number>, b: number[], tol: number, what: string): number {
  const scale = Math.max(1e-30, ...b.map(Math.abs));
  let worst = 0;
  b.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(a[i]! - v) / scale);
  });
  assert.ok(worst <= tol, `${what}: worst error ${worst.toExponential(2)} of the largest entry > ${tol}`);
  if (process.env.GRADFLOW_PRINT_ERRORS) console.log(`${what}: ${worst.toExponential(2)}`);
  return worst;
}

describe('dynamic sparse training', () => {
  before(async () => {
    await testBackend();
  });

  it('timing: update at g = 0, every `every` steps, end inclusive; fractions in float32 (by hand)', () => {
    const d: DynamicSparsityConfig = { method: 'rigl', every: 3, fraction: 0.3, schedule: 'cosine', until: 0.75 };
    assert.equal(endStep(16, d), 12);
    const t = new UpdateTimer(3, 12);
    const seen: number[] = [];
    for (let g = 0; g <= 20; g++) {
      if (t.due(g)) {
        seen.push(g);
        t.mark(g);
      }
    }
    assert.deepEqual(seen, [0, 3, 6, 9, 12]); // 12 = end: inclusive
    // α/2·(1 + cos(π·3/12)) = 0.15·(1 + √2/2) = 0.256066…, in float32.
    assert.equal(updateFraction(3, 12, d), Math.fround(0.15 * (1 + Math.SQRT1_2)));
    assert.equal(updateFraction(12, 12, d), 0);
    assert.equal(updateFraction(20, 12, d), 0);
    assert.equal(updateFraction(5, 12, { ...d, schedule: 'constant' }), Math.fround(0.3));
    // ⌊f32(30)·f32(0.3)⌋: 0.3 in float32 is 0.30000001192…, 30 × that rounds to 9.000000357… → 9.
    assert.equal(dropCount(30, 0.3), 9);
    assert.equal(dropCount(10, 0.05), 0);
    assert.equal(overlapWithInitial([1, 1, 0, 1], [1, 0, 1, 1]), 2 / 3);
  });

  it('planDropGrow: drops smallest |w| among active, grows largest score among the rest, a dropped entry may return', () => {
    const mask = [1, 1, 1, 1, 0, 0, 0, 0];
    const w = [0.5, -0.1, 0.3, 0.2, 0, 0, 0, 0];
    // Drop 2 of 4 (indices 1 and 3); grow 2 by score: index 3 (score 9, just dropped) and 6 (score 5).
    const u = planDropGrow({ mask, weights: w, growScore: [0, 1, 7, 9, 0, 2, 5, 1] }, 0.5, 0, createRng(0));
    assert.deepEqual(Array.from(u.drop), [1, 3]);
    assert.deepEqual(Array.from(u.grow), [3, 6]); // index 2 (score 7) is kept, not a candidate
    assert.deepEqual(Array.from(u.revive), []);
    // An active weight at exactly 0 ties with inactive positions in the reference's ranking over all
    // positions; the lower index wins: inactive 0 is kept (revived), active 2 (w = 0) is dropped, even
    // with nothing to drop by count (⌊3·0.2⌋ = 0).
    const z = planDropGrow({ mask: [0, 1, 1, 1], weights: [0, 0.4, 0, 0.3] }, 0.2, 0, createRng(0));
    assert.deepEqual([Array.from(z.drop), Array.from(z.grow), Array.from(z.revive)], [[2], [], [0]]);
    // Noise of 1e-5 reorders only near-ties: |0.2| vs |0.2 + 1e-9| can swap, 0.1 vs 0.2 cannot.
    for (let s = 0; s < 20; s++) {
      const v = planDropGrow({ mask, weights: [0.5, -0.1, 0.3, 0.2 + 1e-9, 0, 0, 0, 0], growScore: [0, 1, 7, 9, 0, 2, 5, 1] }, 0.25, 1e-5, createRng(s));
      assert.deepEqual(Array.from(v.drop), [1]);
    }
    const ties = new Set<number>();
    for (let s = 0; s < 40; s++) ties.add(at(planDropGrow({ mask: [1, 1, 1, 0], weights: [0.2, 0.2, 0.5, 0] }, 0.34, 1e-5, createRng(s)).drop, 0));
    assert.deepEqual([...ties].sort(), [0, 1]); // exact ties broken at random by the noise
    // SET: uniform scores from the rng, seeded.
    const a = planDropGrow({ mask, weights: w }, 0.5, 0, createRng(3));
    assert.deepEqual(planDropGrow({ mask, weights: w }, 0.5, 0, createRng(3)), a);
    assert.equal(a.grow.length, 2);
    for (const i of a.grow) assert.ok(i === 1 || i === 3 || i >= 4);
  });

  for (const path of ['dense', 'sparse'] as KernelPath[]) {
    for (const sc of ref.scenarios) {
      it(`${sc.method} + ${sc.optimizer}, ${sc.updates.length} updates over ${sc.iterations} iterations (${path} path): masks, weights and optimizer state match the PyTorch reference`, () => {
        const shapes = mlpShapes(sc.d, sc.width, sc.H, sc.C);
        const plans = plansFrom(shapes, sc.kernels.map((k) => Float32Array.from(k)), shapes.map(() => 0), sc.masks.map((m) => Float32Array.from(m)));
        const net = new MaskedMLP({ role: 'sparse', inputs: sc.d, classes: sc.C, width: sc.width, hiddenLayers: sc.H, activation: 'relu', batchNorm: false, skip: false, plans, paths: shapes.map(() => path) });
        const opt = createOptimizer({ name: sc.optimizer, learningRate: sc.lr, momentum: sc.momentum, decoupledDecay: 0 });
        net.attachOptimizer(opt);
        const params = optimizerParams(net);
        const cfg: DynamicSparsityConfig = { method: sc.method, every: sc.every, fraction: sc.alpha, schedule: sc.schedule, until: sc.until, noise: 0 };
        const initial = sc.masks.map((m) => Float32Array.from(m));
        const ds = new DynamicSparsity(cfg, sc.total, createRng(0), initial);
        assert.equal(ds.end, sc.end);
        const seen: { iteration: number; g: number; fraction: number; dropped: number[]; grown: number[]; regrown: number[] }[] = [];
        try {
          for (let it = 0; it < sc.iterations; it++) {
            const batch = makeBatch(at(sc.x, it), at(sc.y, it), sc.d, sc.C);
            try {
              const replaced = ds.replacesStep(opt.iterations);
              const res = trainStep(net, opt, params, batch, { coupledL2: 0, collectNorms: false, checkIntegrity: true, skipUpdate: replaced });
              assert.deepEqual(res.integrity, []);
              // SET's random grow scores: the reference's draws for its next update.
              const next = sc.updates[seen.length] as RefScenario['updates'][number] | undefined;
              const growScores = sc.method === 'set' && next ? next.layers.map((l) => l.grow_scores ?? undefined) : undefined;
              const u = ds.afterStep(net, batch, opt.iterations, replaced, growScores ? { growScores } : {});
              if (u) {
                seen.push({ iteration: it, g: opt.iterations, fraction: u.fraction, dropped: u.layers.map((l) => l.dropped), grown: u.layers.map((l) => l.grown), regrown: u.layers.map((l) => l.regrown) });
              }
            } finally {
              batch.x.dispose();
              batch.xT?.dispose();
              batch.y.dispose();
              batch.labels.dispose();
            }
          }
          assert.equal(opt.iterations, sc.steps, 'optimizer steps (RigL updates replace steps)');
          const want = sc.updates.map((u) => ({
            iteration: u.iteration,
            g: u.g,
            fraction: u.fraction,
            dropped: u.layers.map((l) => l.drop.length),
            grown: u.layers.map((l) => l.drop.length), // grow + revived (inactive entries the drop ranking kept)
            regrown: u.layers.map((l) => l.grow.filter((i) => l.drop.includes(i)).length),
          }));
          assert.deepEqual(seen, want);
          assert.ok(want.some((u) => u.regrown.some((r) => r > 0)), 'the fixture exercises dropped-and-regrown weights');
          for (let l = 0; l <= sc.H; l++) {
            assert.deepEqual(Array.from(net.maskArray(l)), sc.masks_after[l], `layer ${l} mask`);
            close(net.kernelArray(l), at(sc.kernels_after, l), 1e-6, `layer ${l} weights`);
            const state = net.kernelState(l, opt);
            assert.equal(state.length, at(sc.state_after, l).length, `layer ${l} slots`);
            state.forEach((s, k) => close(s, at(at(sc.state_after, l), k), 1e-6, `layer ${l} slot ${k}`));
          }
        } finally {
          net.dispose();
          opt.dispose();
        }
      });
    }
  }

  for (const method of ['set', 'rigl'] as const) {
    it(`${method}: a run emits mask updates on the published timing, counts constant, EGF continues`, async () => {
      const data = syntheticDataset(12, 3, 96, 24, 24);
      // 3 steps per epoch × 4 epochs = 12 iterations; every 2, until 0.75 → end = 9.
      // RigL: updates at g = 0, 2, 4, 6, 8, each replacing a step (iterations 1, 4, 7, 10, 13 → only
      // the first four fit in 12 iterations: 1, 4, 7, 10). SET: after the steps making g = 1, 3, 5, 7, 9.
      const cfg = config({
        sparsity: { method: 'random', denseWidth: 8, pair: true, init: 'dense-fan-in', dynamic: { method, every: 2, fraction: 0.5, schedule: 'constant', until: 0.75 } },
        training: { epochs: 4 },
      });
      const updates: MaskUpdate[] = [];
      const egf: number[] = [];
      let counts: number[] = [];
      const result = await trainExperiment(cfg, data, {
        onReady: (nets) => {
          counts = at(nets, 0).layers.map((l) => l.active);
        },
        onStep: (s) => {
          if (s.net === 'sparse') egf.push(s.egf2);
        },
        onEpoch: () => undefined,
        onFlowPoint: () => undefined,
        onAlert: () => undefined,
        shouldStop: () => false,
        onMaskUpdate: (u) => updates.push(u),
      });
      assert.deepEqual(updates.map((u) => [u.net, u.step]), method === 'rigl' ? [['sparse', 1], ['sparse', 4], ['sparse', 7], ['sparse', 10]] : [['sparse', 1], ['sparse', 3], ['sparse', 5], ['sparse', 7], ['sparse', 9]]);
      for (const u of updates) {
        assert.equal(u.method, method);
        assert.deepEqual(u.layers.map((l) => l.active), counts);
        u.layers.forEach((l) => {
          assert.equal(l.dropped, dropCount(at(counts, l.layer), 0.5));
          assert.equal(l.grown, l.dropped);
          assert.ok(l.overlap >= 0 && l.overlap <= 1);
        });
      }
      assert.ok(at(updates, 3).layers.some((l) => l.overlap < 1));
      assert.equal(egf.length, 12);
      assert.ok(egf.every((v) => Number.isFinite(v) && v > 0));
      const sparse = result.nets.find((n) => n.net === 'sparse');
      assert.deepEqual(sparse?.layers.map((l) => l.active), counts);
      assert.equal(sparse?.steps, 12);
    });
  }
});
