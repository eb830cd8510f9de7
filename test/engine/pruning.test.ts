/**
 * Pruning criteria at initialisation against an independent PyTorch reference
 * (scripts/reference/pruning_criteria.py → test/fixtures/engine/ref_pruning.json, autograd in
 * float64; GraSP's Hg by double backward). Scores agree to 1e-5 relative (to the entry, or 1e-6 of the
 * layer's largest score for entries below a tenth of it, see `assertScores`); masks are identical.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { activePaths, drawKernels, mlpShapes, plansFrom, scsdcActiveCounts } from '../../src/engine/masks';
import { maskAlerts } from '../../src/engine/alerts';
import { buildNets, disposeBatch, makeBatch, trainExperiment } from '../../src/engine/train';
import { createRng } from '../../src/shared/rng';
import { MaskedMLP } from '../../src/engine/model';
import type { Batch } from '../../src/engine/step';
import { graspScores } from '../../src/engine/pruning/grasp';
import { criterionBatchRows, pruningHeader, pruningInfo, selectMasks } from '../../src/engine/pruning';
import { snipScores } from '../../src/engine/pruning/snip';
import { synflowKeep, synflowMasks } from '../../src/engine/pruning/synflow';
import { selectGlobal, selectLayerwise, topKMask } from '../../src/engine/pruning/select';
import { config, fixturePath, syntheticDataset, testBackend } from './helpers';
import type { RefNetShape } from './ref-net';
import { at } from '../../src/shared/checked';

interface RefCase extends RefNetShape {
  kernels: number[][];
  xs: number[][];
  ys: number[][];
  counts: number[];
}
type Masks = Record<'layerwise' | 'global', number[][]>;
interface Ref {
  snip: { case: RefCase; scores: number[][]; masks: Masks }[];
  grasp: { case: RefCase; scores: number[][]; g: number[][]; hg: number[][]; masks: Masks }[];
  synflow: { case: RefCase; rounds: number; result: Record<'layerwise' | 'global', { scores: number[][]; masks: number[][]; schedule: number[][] }> }[];
}

const ref = JSON.parse(fs.readFileSync(fixturePath('ref_pruning.json'), 'utf8')) as Ref;

function buildNet(c: RefCase): MaskedMLP {
  const shapes = mlpShapes(c.d, c.width, c.H, c.C);
  const plans = plansFrom(shapes, c.kernels.map((k) => Float32Array.from(k)), shapes.map(() => 0));
  return new MaskedMLP({ role: 'sparse', inputs: c.d, classes: c.C, width: c.width, hiddenLayers: c.H, activation: c.activation, batchNorm: c.batch_norm, skip: c.skip, plans });
}

function buildBatches(c: RefCase): Batch[] {
  return c.xs.map((x, b) => {
    const labels = tf.tensor1d(at(c.ys, b), 'int32');
    return { x: tf.tensor2d(x, [c.n, c.d]), y: tf.cast(tf.oneHot(labels, c.C), 'float32') as tf.Tensor2D, labels, n: c.n };
  });
}

function dispose(batches: Batch[]): void {
  for (const b of batches) [b.x, b.y, b.labels].forEach((t) => t.dispose());
}

/**
 * Entry-wise |got − want| ≤ rel·max(|want|, 0.1·max_layer|want|): `rel` (1e-5) relative to the entry for
 * entries of at least 10 % of the layer's largest score; for smaller entries, whose float32 gradients
 * lose digits to cancellation (the engine runs float32, the reference float64), the bound is
 * rel/10 of the layer's largest score. Measured worst cases are in docs/pruning.md.
 */
function assertScores(got: ArrayLike<number>[], want: number[][], what: string, rel = 1e-5): number {
  let worst = 0;
  want.forEach((w, l) => {
    const scale = Math.max(...w.map(Math.abs));
    assert.equal(at(got, l).length, w.length, `${what} layer ${l} length`);
    for (let i = 0; i < w.length; i++) {
      const denom = Math.max(Math.abs(at(w, i)), 0.1 * scale);
      const err = denom > 0 ? Math.abs(at(got, l)[i]! - at(w, i)) / denom : Math.abs(at(got, l)[i]!);
      worst = Math.max(worst, err);
      assert.ok(err <= rel, `${what} layer ${l} entry ${i}: got ${at(got, l)[i]}, want ${w[i]} (rel err ${err})`);
    }
  });
  return worst;
}

function assertMasks(got: Float32Array[], want: number[][], what: string): void {
  want.forEach((w, l) => assert.deepEqual(Array.from(at(got, l)), w, `${what}: mask of layer ${l}`));
}

describe('pruning criteria vs PyTorch reference', () => {
  before(async () => {
    await testBackend();
  });

  for (const r of ref.snip) {
    it(`SNIP: ${r.case.name}`, () => {
      const net = buildNet(r.case);
      const batches = buildBatches(r.case);
      try {
        const scores = snipScores(net, batches);
        assertScores(scores, r.scores, 'snip scores');
        for (const scope of ['layerwise', 'global'] as const) assertMasks(selectMasks('snip', scores, r.case.counts, scope), r.masks[scope], `snip ${scope}`);
      } finally {
        net.dispose();
        dispose(batches);
      }
    });
  }

  for (const r of ref.grasp) {
    it(`GraSP (exact Hg by R-operator): ${r.case.name}`, () => {
      const net = buildNet(r.case);
      const batches = buildBatches(r.case);
      try {
        const res = graspScores(net, batches);
        assertScores(res.g, r.g, 'grasp g');
        assertScores(res.hg, r.hg, 'grasp Hg');
        assertScores(res.scores, r.scores, 'grasp scores');
        for (const scope of ['layerwise', 'global'] as const) assertMasks(selectMasks('grasp', res.scores, r.case.counts, scope), r.masks[scope], `grasp ${scope}`);
      } finally {
        net.dispose();
        dispose(batches);
      }
    });
  }

  for (const r of ref.synflow) {
    for (const scope of ['layerwise', 'global'] as const) {
      it(`SynFlow ${scope}, ${r.rounds} rounds: ${r.case.name}`, () => {
        const c = r.case;
        const shapes = mlpShapes(c.d, c.width, c.H, c.C);
        const skips = shapes.slice(0, -1).map((s, l) => c.skip && l > 0 && s.fanIn === s.fanOut);
        const want = r.result[scope];
        const sizes = shapes.map((s) => s.fanIn * s.fanOut);
        // The kept-count schedule, round by round.
        want.schedule.forEach((ks, i) => {
          const got = scope === 'layerwise' ? sizes.map((n, l) => synflowKeep(n, at(c.counts, l), i + 1, r.rounds)) : [synflowKeep(sizes.reduce((a, b) => a + b, 0), c.counts.reduce((a, b) => a + b, 0), i + 1, r.rounds)];
          assert.deepEqual(got, ks, `round ${i + 1}`);
        });
        const res = synflowMasks(
          { shapes, kernels: c.kernels.map((k) => Float32Array.from(k)), skips, ...(c.batch_norm ? { batchNormEpsilon: 1e-5 } : {}) },
          c.counts,
          scope,
          r.rounds,
        );
        assertScores(res.scores, want.scores, `synflow ${scope} scores (last round)`, 1e-9);
        assertMasks(res.masks, want.masks, `synflow ${scope}`);
      });
    }
  }
});

describe('exact-count selection and its tie rule', () => {
  it('keeps the k largest, lower index first among ties, NaN last', () => {
    // Scores by hand: ties at 2 (indices 1, 3, 5), NaN at 4.
    const s = [1, 2, 3, 2, NaN, 2, 0];
    assert.deepEqual(Array.from(topKMask(s, 1)), [0, 0, 1, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(topKMask(s, 3)), [0, 1, 1, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(topKMask(s, 6)), [1, 1, 1, 1, 0, 1, 1]);
    assert.deepEqual(Array.from(topKMask(s, 7)), [1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(Array.from(topKMask(s, 0)), [0, 0, 0, 0, 0, 0, 0]);
    assert.throws(() => topKMask(s, 8), /out of range/);
  });

  it('excluded entries come after all others', () => {
    const s = [5, 1, 4, 0];
    const ex = [1, 0, 0, 0];
    assert.deepEqual(Array.from(topKMask(s, 2, ex)), [0, 1, 1, 0]);
    assert.deepEqual(Array.from(topKMask(s, 3, ex)), [0, 1, 1, 1]);
    assert.deepEqual(Array.from(topKMask(s, 4, ex)), [1, 1, 1, 1]);
  });

  it('agrees with a full sort on random data with many ties', () => {
    let seed = 12345;
    const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(next() * 300);
      const s = Array.from({ length: n }, () => Math.floor(next() * 7));
      const k = Math.floor(next() * (n + 1));
      const order = s.map((_, i) => i).sort((a, b) => at(s, b) - at(s, a) || a - b);
      const want = new Array<number>(n).fill(0);
      order.slice(0, k).forEach((i) => (want[i] = 1));
      assert.deepEqual(Array.from(topKMask(s, k)), want);
    }
  });

  it('global scope ranks across layers in layer order; layerwise per layer', () => {
    const a = [3, 1];
    const b = [3, 2, 0];
    assert.deepEqual(selectGlobal([a, b], 3).map((m) => Array.from(m)), [[1, 0], [1, 1, 0]]);
    assert.deepEqual(selectGlobal([a, b], 1).map((m) => Array.from(m)), [[1, 0], [0, 0, 0]]);
    assert.deepEqual(selectLayerwise([a, b], [1, 1]).map((m) => Array.from(m)), [[1, 0], [1, 0, 0]]);
  });
});

describe('criteria in the engine (buildNets, trainExperiment)', () => {
  before(async () => {
    await testBackend();
  });

  const data = syntheticDataset(12, 3, 96, 24, 24);
  for (const method of ['snip', 'grasp', 'synflow'] as const) {
    for (const scope of ['layerwise', 'global'] as const) {
      it(`${method} ${scope}: exact counts, same initial kernels as random, pruned entries +0`, () => {
        const cfg = config({ sparsity: { method, scope, denseWidth: 8, pair: true, init: 'dense-fan-in', synflowRounds: 10 } });
        const rows = criterionBatchRows(cfg, data.train.n, createRng(5));
        assert.equal(rows.length, method === 'synflow' ? 0 : 1);
        const batches = rows.map((r) => makeBatch(data.train, data.features, data.classes, r, 0, r.length));
        const [sparse, dense] = buildNets(cfg, data.features, data.classes, createRng(1), {}, batches);
        assert.ok(sparse !== undefined && dense !== undefined);
        batches.forEach(disposeBatch);
        try {
          const shapes = mlpShapes(data.features, 16, 2, data.classes);
          const counts = scsdcActiveCounts(data.features, 8, 2, data.classes);
          const full = drawKernels({ shapes, activeCounts: counts, denseFanIns: mlpShapes(data.features, 8, 2, data.classes).map((s) => s.fanIn), method: 'scored', init: 'dense-fan-in', gain: Math.SQRT2, rng: createRng(1).fork('net:sparse') }).kernels;
          const actives = sparse.layerInfo.map((l) => l.active);
          if (scope === 'layerwise') assert.deepEqual(actives, counts);
          assert.equal(actives.reduce((a, b) => a + b, 0), counts.reduce((a, b) => a + b, 0));
          assert.equal(sparse.activeWeights, dense.activeWeights);
          for (let l = 0; l < shapes.length; l++) {
            const w = sparse.kernelArray(l);
            const m = at(sparse.spec.plans, l).mask as Float32Array;
            for (let i = 0; i < w.length; i++) {
              if (m[i] === 1) assert.equal(w[i], at(full, l)[i]);
              else assert.ok(Object.is(w[i], 0), `layer ${l} entry ${i} is ${w[i]}`);
            }
          }
        } finally {
          sparse.dispose();
          dense.dispose();
        }
      });
    }
  }

  it('a data-driven criterion without batches is an error', () => {
    const cfg = config({ sparsity: { method: 'snip', denseWidth: 8, pair: true, init: 'dense-fan-in' } });
    assert.throws(() => buildNets(cfg, 12, 3, createRng(1)), /needs at least one training batch/);
  });

  it('trains a grasp / global pair end to end', async () => {
    const cfg = config({ sparsity: { method: 'grasp', scope: 'global', batches: 2, denseWidth: 8, pair: true, init: 'dense-fan-in' }, training: { epochs: 1 } });
    let ready = 0;
    const result = await trainExperiment(cfg, data, {
      onReady: (nets) => {
        ready = nets.length;
      },
      onStep: () => undefined,
      onEpoch: () => undefined,
      onFlowPoint: () => undefined,
      onAlert: () => undefined,
      shouldStop: () => false,
    });
    assert.equal(ready, 2);
    assert.equal(result.stopped, false);
    assert.ok(result.nets.every((n) => Number.isFinite(n.final.test.accuracy)));
  });
});

describe('layer collapse at mask time', () => {
  // 3 → 2 → 2 → 1, hand-made masks ([fanIn, fanOut] row-major).
  const shapes = mlpShapes(3, 2, 2, 1);
  const info = (masks: Float32Array[]) =>
    shapes.map((s, l) => {
      const active = at(masks, l).reduce((a, v) => a + v, 0);
      let dead = 0;
      for (let j = 0; j < s.fanOut; j++) {
        let any = false;
        for (let i = 0; i < s.fanIn; i++) any ||= at(masks, l)[i * s.fanOut + j] !== 0;
        if (!any) dead++;
      }
      return { name: l === 2 ? 'output' : `dense${l + 1}`, fanIn: s.fanIn, fanOut: s.fanOut, active, total: s.fanIn * s.fanOut, density: active / (s.fanIn * s.fanOut), deadUnits: dead };
    });

  it('an emptied layer is an error naming the method and the global scope', () => {
    const masks = [Float32Array.from([1, 0, 0, 1, 1, 1]), new Float32Array(4), Float32Array.from([1, 1])];
    const paths = activePaths(masks, shapes);
    assert.equal(paths.brokenLayer, 1);
    const alerts = maskAlerts('sparse', info(masks), paths, { method: 'grasp', scope: 'global' });
    assert.equal(alerts.length, 1, JSON.stringify(alerts));
    assert.deepEqual([at(alerts, 0).kind, at(alerts, 0).layer, at(alerts, 0).severity, at(alerts, 0).step], ['collapse-at-mask', 1, 'error', 0]);
    assert.match(at(alerts, 0).message, /layer 1 \(dense2\) has no active weight \(grasp, global scope: the criterion chose this layer's density\)/);
  });

  it('units without active outgoing weights are a warning on their layer (not with a skip around the next layer)', () => {
    // dense1 unit 1 has no outgoing weight in dense2 (row 1 of dense2's mask is zero).
    const masks = [Float32Array.from([1, 1, 1, 1, 1, 1]), Float32Array.from([1, 1, 0, 0]), Float32Array.from([1, 1])];
    const paths = activePaths(masks, shapes);
    assert.deepEqual(paths.noOutgoing, [1, 0, 0]);
    const alerts = maskAlerts('sparse', info(masks), paths, { method: 'snip', scope: 'layerwise' });
    assert.deepEqual(alerts.map((a) => [a.layer, a.severity, a.value]), [[0, 'warning', 1]]);
    assert.match(at(alerts, 0).message, /1 of 2 units of layer 0 \(dense1\) have no active outgoing weight in layer 1 \(dense2, density 0\.5000\) \(snip, layerwise scope\): they reach nothing/);
    // With an identity skip around dense2, unit 1 still feeds the output.
    assert.deepEqual(activePaths(masks, shapes, [false, true, false]).noOutgoing, [0, 0, 0]);
  });

  it('the run header spells out a global scope and the unmatched pair', () => {
    const cfg = config({ sparsity: { method: 'synflow', scope: 'global', denseWidth: 8, pair: true, init: 'dense-fan-in' } });
    const layers = info([Float32Array.from([1, 0, 0, 1, 1, 1]), Float32Array.from([0, 0, 0, 1]), Float32Array.from([1, 1])]);
    assert.equal(
      pruningHeader(cfg, layers, true),
      'sparsity: synflow, global scope: per-layer densities chosen by the criterion: dense1 0.667 (4/6), dense2 0.250 (1/4), output 1.000 (2/2); the dense twin is matched in total active weights (7) only: this pair is NOT SC-SDC per layer',
    );
    assert.equal(pruningHeader(config({ sparsity: { method: 'synflow', denseWidth: 8, pair: true, init: 'dense-fan-in' } }), layers, true), undefined);
    assert.deepEqual(pruningInfo(cfg), { method: 'synflow', scope: 'global', scsdcPerLayer: false });
  });

  it('trainExperiment sends the pruning info with the sparse net and logs the header', async () => {
    const data = syntheticDataset(12, 3, 96, 24, 24);
    const cfg = config({ sparsity: { method: 'synflow', scope: 'global', synflowRounds: 5, denseWidth: 4, pair: true, init: 'dense-fan-in' }, training: { epochs: 1 } });
    const logs: string[] = [];
    let nets: { net: string; pruning?: unknown }[] = [];
    await trainExperiment(cfg, data, {
      onReady: (n) => {
        nets = n;
      },
      onStep: () => undefined,
      onEpoch: () => undefined,
      onFlowPoint: () => undefined,
      onAlert: () => undefined,
      shouldStop: () => false,
      onLog: (_level, m) => logs.push(m),
    });
    assert.deepEqual(nets.map((n) => [n.net, n.pruning]), [['sparse', { method: 'synflow', scope: 'global', scsdcPerLayer: false }], ['dense', undefined]]);
    assert.ok(logs.some((m) => /NOT SC-SDC per layer/.test(m)), logs.join('\n'));
  });
});
