/**
 * Gradual magnitude pruning: the schedule against an independent re-implementation of TensorFlow
 * Model Optimization's PolynomialDecay (scripts/reference/gmp_schedule.py →
 * test/fixtures/engine/ref_gmp.json); runs that must end at exactly SC-SDC's per-layer counts (or
 * their total, global) and never revive a pruned weight.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { ExperimentConfig, PruningScope } from '../../src/shared/experiment';
import type { MaskUpdate } from '../../src/shared/protocol';
import { drawKernels, mlpShapes, scsdcActiveCounts, type InitSpec } from '../../src/engine/masks';
import { createOptimizer } from '../../src/engine/optimizers';
import { GradualPruning, gmpKept, isPruneStep, planPrune, type GmpTiming } from '../../src/engine/pruning/gmp';
import { optimizerParams, trainStep } from '../../src/engine/step';
import { buildNets, gmpScheduleNote, makeBatch, trainExperiment } from '../../src/engine/train';
import { createRng, permutation } from '../../src/shared/rng';
import { config, fixturePath, recordingHooks, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

interface Ref {
  gmp: { config: { name: string; sizes: number[]; k_init: number[]; k_final: number[]; begin: number; end: number; every: number }; steps: { step: number; kept: number[] }[] }[];
}
const ref = JSON.parse(fs.readFileSync(fixturePath('ref_gmp.json'), 'utf8')) as Ref;

function gmpConfig(scope: PruningScope, initialDensity = 1): ExperimentConfig {
  return config({
    model: { hiddenLayers: 2, width: 16, activation: 'relu', batchNorm: false, skip: false },
    sparsity: { method: 'gmp', denseWidth: 4, pair: true, init: 'dense-fan-in', scope, gmp: { begin: 0, end: 0.75, every: 2, initialDensity } },
    training: { epochs: 4, optimizer: 'momentum', learningRate: 0.05 },
  });
}

describe('gradual magnitude pruning', () => {
  before(async () => {
    await testBackend();
  });

  for (const { config: c, steps } of ref.gmp) {
    it(`schedule matches the reference (tfmot PolynomialDecay, power 3): ${c.name}`, () => {
      const t: GmpTiming = { t0: c.begin, tEnd: c.end, every: c.every };
      const want = new Map(steps.map((s) => [s.step, s.kept]));
      for (let g = 0; g <= c.end + 4; g++) {
        assert.equal(isPruneStep(g, t), want.has(g), `step ${g}`);
        const kept = want.get(g);
        if (kept) assert.deepEqual(c.sizes.map((n, l) => gmpKept(n, at(c.k_init, l), at(c.k_final, l), g, t)), kept, `kept at ${g}`);
      }
      assert.deepEqual(at(steps, steps.length - 1).kept, c.k_final);
    });
  }

  it('an end that is not on the `every` grid is a pruning step too, at exactly the final count (by hand)', () => {
    const t: GmpTiming = { t0: 0, tEnd: 10, every: 3 };
    assert.deepEqual([...Array(14).keys()].filter((g) => isPruneStep(g, t)), [0, 3, 6, 9, 10]);
    assert.equal(gmpKept(1000, 1000, 37, 0, t), 1000);
    assert.equal(gmpKept(1000, 1000, 37, 10, t), 37);
    assert.equal(gmpKept(1000, 1000, 37, 12, t), 37);
    // Cubic: at p = 1/2, kept = k_f + (k_i − k_f)/8 = 37 + 963/8 = 157.4 → 157.
    assert.equal(gmpKept(1000, 1000, 37, 5, t), 157);
    // planPrune drops the active entries outside the largest |w|, never an inactive one.
    assert.deepEqual(Array.from(planPrune([1, 1, 0, 1, 1], [0.5, -0.1, 9, 0.3, -0.2], 2)), [1, 4]);
  });

  for (const scope of ['layerwise', 'global'] as const) {
    it(`a run (${scope}) starts dense, prunes on the schedule and ends at exactly the SC-SDC counts${scope === 'global' ? ' in total' : ' per layer'}`, async () => {
      const data = syntheticDataset(12, 3, 96, 24, 24);
      const cfg = gmpConfig(scope);
      const updates: MaskUpdate[] = [];
      let start: number[] = [];
      const result = await trainExperiment(cfg, data, {
        onReady: (nets) => {
          start = at(nets, 0).layers.map((l) => l.active);
        },
        onStep: () => undefined,
        onEpoch: () => undefined,
        onFlowPoint: () => undefined,
        onAlert: () => undefined,
        shouldStop: () => false,
        onMaskUpdate: (u) => updates.push(u),
      });
      const want = scsdcActiveCounts(12, 4, 2, 3);
      assert.deepEqual(start, [12 * 16, 16 * 16, 16 * 3], 'dense at the start');
      // 12 steps, end 0.75 → t_end = 9; every 2 → pruning after steps 2, 4, 6, 8 and 9 (an event
      // when something was dropped: at 9 small layers may already be at their final count).
      assert.ok(updates.length >= 4);
      for (const u of updates) assert.ok([2, 4, 6, 8, 9].includes(u.step) && u.net === 'sparse' && u.method === 'gmp', `update at ${u.step}`);
      const final = at(updates, updates.length - 1).layers.map((l) => l.active);
      if (scope === 'layerwise') assert.deepEqual(final, want);
      else assert.equal(final.reduce((a, b) => a + b, 0), want.reduce((a, b) => a + b, 0));
      let prev = start;
      for (const u of updates) {
        const now = u.layers.map((l) => l.active);
        u.layers.forEach((l, i) => {
          assert.equal(l.grown, 0);
          assert.equal(l.regrown, 0);
          assert.equal(now[i], at(prev, i) - l.dropped);
        });
        prev = now;
      }
      assert.deepEqual(result.nets.find((n) => n.net === 'sparse')?.layers.map((l) => l.active), final);
      assert.deepEqual(result.nets.find((n) => n.net === 'dense')?.layers.map((l) => l.active), want, 'the dense twin has the SC-SDC counts');
    });
  }

  it('init: sparse-fan-in draws each layer for the fan-in it starts with; dense-fan-in for the twin (by hand)', () => {
    // 12 → 16 → 16 → 3, twin width 4: final counts 48, 16, 12; the twin's fan-ins 12, 4, 4.
    const shapes = mlpShapes(12, 16, 2, 3);
    const base = { shapes, activeCounts: scsdcActiveCounts(12, 4, 2, 3), denseFanIns: [12, 4, 4], gain: Math.SQRT2, rng: createRng(1) };
    const stds = (spec: Omit<InitSpec, 'shapes' | 'activeCounts' | 'denseFanIns' | 'gain' | 'rng'>): number[] => drawKernels({ ...base, ...spec }).stds;
    const he = (fan: number): number => Math.SQRT2 / Math.sqrt(fan);
    const close = (got: number[], want: number[]): void => got.forEach((g, l) => assert.ok(Math.abs(g - at(want, l)) < 1e-12, `layer ${l}: ${g} vs ${at(want, l)}`));
    // Dense start: every unit sums over its whole fan-in (12, 16, 16).
    close(stds({ method: 'gmp', init: 'sparse-fan-in', initialCounts: [192, 256, 48] }), [he(12), he(16), he(16)]);
    // initial_density 0.6: 115 of 192, 154 of 256, 29 of 48 → mean fan-ins 115/16, 154/16, 29/3.
    close(stds({ method: 'gmp', init: 'sparse-fan-in', initialCounts: [115, 154, 29] }), [he(115 / 16), he(154 / 16), he(29 / 3)]);
    // dense-fan-in: the twin's fan-in, whatever the start.
    close(stds({ method: 'gmp', init: 'dense-fan-in', initialCounts: [192, 256, 48] }), [he(12), he(4), he(4)]);
    // A fixed mask keeps its nominal counts: 48/16, 16/16, 12/3.
    close(stds({ method: 'random', init: 'sparse-fan-in' }), [he(3), he(1), he(4)]);
  });

  it('a gmp schedule that prunes at one or two steps is said, with an every that prunes about 10 times (by hand)', () => {
    const cfg = (gmp?: { begin: number; end: number; every: number; initialDensity: number }): ExperimentConfig => {
      const c = gmpConfig('layerwise');
      const { gmp: _omit, ...rest } = c.sparsity;
      return { ...c, sparsity: gmp === undefined ? rest : { ...rest, gmp } };
    };
    // Defaults (every 100, end 0.75) on 80 steps: t_end = 60, so step 60 alone.
    assert.equal(
      gmpScheduleNote(cfg(), 80),
      'gmp: sparsity.gmp.every is 100 steps and pruning spans steps 0–60 of 80, so it prunes only at step 60: the net drops to its final counts at once rather than gradually. sparsity.gmp.every: 6 prunes about 10 times.',
    );
    // every 50 on 100 steps from 0.1: t₀ = 10, t_end = 75 → steps 10 and 60, then 75: three, not said.
    assert.equal(gmpScheduleNote(cfg({ begin: 0.1, end: 0.75, every: 50, initialDensity: 1 }), 100), undefined);
    // every 40 from 0.5 on 100 steps: t₀ = 50, t_end = 75 → 50 and 75.
    assert.match(gmpScheduleNote(cfg({ begin: 0.5, end: 0.75, every: 40, initialDensity: 1 }), 100) ?? '', /only at steps 50 and 75: .* sparsity\.gmp\.every: 2 prunes/);
    assert.equal(gmpScheduleNote(cfg({ begin: 0, end: 0.75, every: 6, initialDensity: 1 }), 80), undefined);
    assert.equal(gmpScheduleNote({ ...cfg(), sparsity: { ...cfg().sparsity, method: 'random' } }, 80), undefined);
  });

  it('gmp with init dense-fan-in warns that the start is drawn for the twin; sparse-fan-in does not', async () => {
    const logs = async (init: 'dense-fan-in' | 'sparse-fan-in'): Promise<string[]> => {
      const cfg = gmpConfig('layerwise');
      const rec = recordingHooks();
      await trainExperiment({ ...cfg, sparsity: { ...cfg.sparsity, init }, training: { ...cfg.training, epochs: 1 } }, syntheticDataset(12, 3, 96, 24, 24), rec.hooks);
      return rec.logs;
    };
    // dense2 starts with fan-in 16 against the twin's 4 (dense1: 12 and 12; output 16 and 4).
    const warned = (await logs('dense-fan-in')).filter((m) => m.startsWith('warn: gmp: the sparse net starts'));
    assert.equal(warned.length, 1);
    assert.match(at(warned, 0), /each unit of dense2 sums 4\.0× as many/);
    assert.match(at(warned, 0), /sparsity\.init: sparse-fan-in/);
    assert.deepEqual((await logs('sparse-fan-in')).filter((m) => m.includes('gmp: the sparse net starts')), []);
  });

  it('never revives a pruned weight: masks only shrink, pruned weights and their optimizer state stay 0', () => {
    const data = syntheticDataset(12, 3, 96, 24, 24);
    const cfg = gmpConfig('layerwise', 0.6);
    const [net] = buildNets(cfg, 12, 3, createRng(3), { sparseKernels: 'off' });
    assert.ok(net !== undefined);
    const opt = createOptimizer({ name: 'adam', learningRate: 0.01, momentum: 0.9, decoupledDecay: 0 });
    net.attachOptimizer(opt);
    const params = optimizerParams(net);
    const total = 24;
    const initial = [0, 1, 2].map((l) => net.maskArray(l));
    const starts = net.layerInfo.map((l) => l.active);
    assert.deepEqual(starts, [Math.round(0.6 * 192), Math.round(0.6 * 256), Math.round(0.6 * 48)], 'initial_density 0.6');
    const gp = new GradualPruning({ begin: 0.1, end: 0.8, every: 3, initialDensity: 0.6 }, total, 'layerwise', starts, scsdcActiveCounts(12, 4, 2, 3), initial);
    const perm = permutation(data.train.n, createRng(1));
    let masks = initial;
    let events = 0;
    try {
      for (let s = 0; s < total; s++) {
        const batch = makeBatch(data.train, 12, 3, perm, (s * 8) % 88, 8, undefined, true);
        try {
          const r = trainStep(net, opt, params, batch, { coupledL2: 0, collectNorms: false, checkIntegrity: true });
          assert.deepEqual(r.integrity, []);
          if (gp.afterStep(net, opt.iterations)) events++;
        } finally {
          batch.x.dispose();
          batch.xT?.dispose();
          batch.y.dispose();
          batch.labels.dispose();
        }
        const now = [0, 1, 2].map((l) => net.maskArray(l));
        now.forEach((m, l) => {
          const w = net.kernelArray(l);
          const st = net.kernelState(l, opt);
          for (let i = 0; i < m.length; i++) {
            if (at(masks, l)[i] === 0) assert.equal(m[i], 0, `step ${s + 1} layer ${l}: pruned entry ${i} revived`);
            if (m[i] === 0) {
              assert.ok(w[i] === 0, `weight ${w[i]}`); // −0 counts as 0
              for (const slot of st) assert.ok(slot[i] === 0, `state ${slot[i]}`);
            }
          }
        });
        masks = now;
      }
      assert.ok(events >= 5, `${events} pruning events`);
      assert.deepEqual(net.layerInfo.map((l) => l.active), scsdcActiveCounts(12, 4, 2, 3));
    } finally {
      net.dispose();
      opt.dispose();
      tf.disposeVariables();
    }
  });
});
