import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../src/shared/rng';
import {
  activePaths,
  countActive,
  deadUnits,
  magnitudeMask,
  mlpShapes,
  planLayers,
  randomMask,
  scsdcActiveCounts,
  scsdcDensities,
} from '../../src/engine/masks';
import { buildNets } from '../../src/engine/train';
import { config, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

/** Two-sample Kolmogorov–Smirnov statistic D = sup |F1 − F2| (implemented here, not in src). */
function ksStatistic(a: number[], b: number[]): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(at(x, i), at(y, j));
    while (i < x.length && at(x, i) <= v) i++;
    while (j < y.length && at(y, j) <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

/** Critical D at significance α: c(α)·√((n+m)/(n·m)), c(α) = √(−ln(α/2)/2). */
function ksCritical(n: number, m: number, alpha: number): number {
  return Math.sqrt(-Math.log(alpha / 2) / 2) * Math.sqrt((n + m) / (n * m));
}

describe('exact-count masks', () => {
  it('randomMask hits the exact count for many (n, k)', () => {
    const rng = createRng(3);
    for (const [n, k] of [[10, 0], [10, 10], [10, 3], [1000, 1], [1000, 999], [4096, 1234]] as const) {
      const m = randomMask(n, k, rng);
      assert.equal(m.length, n);
      assert.equal(countActive(m), k);
      assert.ok(m.every((v) => v === 0 || v === 1));
    }
    assert.throws(() => randomMask(5, 6, rng), /out of range/);
  });

  it('randomMask is uniform over positions (each kept with probability k/n)', () => {
    const rng = createRng(11);
    const n = 10;
    const k = 3;
    const trials = 4000;
    const hits = new Array<number>(n).fill(0);
    for (let t = 0; t < trials; t++) randomMask(n, k, rng).forEach((v, i) => (hits[i]! += v));
    // Expected 0.3 per position; σ = √(0.3·0.7/4000) ≈ 0.0072, allow 5σ ≈ 0.036.
    hits.forEach((h) => assert.ok(Math.abs(h / trials - 0.3) < 0.036, `frequency ${h / trials}`));
  });

  it('randomMask is seeded', () => {
    assert.deepEqual(randomMask(100, 17, createRng(5)), randomMask(100, 17, createRng(5)));
    assert.notDeepEqual(randomMask(100, 17, createRng(5)), randomMask(100, 17, createRng(6)));
  });

  it('magnitudeMask keeps the k largest |w| (hand example)', () => {
    const w = Float32Array.from([0.1, -0.5, 0.3, -0.05, 0.4]);
    assert.deepEqual(Array.from(magnitudeMask(w, 2)), [0, 1, 0, 0, 1]);
    assert.deepEqual(Array.from(magnitudeMask(w, 3)), [0, 1, 1, 0, 1]);
    // ties broken by index, count exact
    assert.deepEqual(Array.from(magnitudeMask(Float32Array.from([1, -1, 1, 1]), 2)), [1, 1, 0, 0]);
  });

  it('magnitude pruning in planLayers keeps the largest initial weights with the SC-SDC count', () => {
    const shapes = mlpShapes(8, 12, 1, 3);
    const plans = planLayers({ shapes, activeCounts: scsdcActiveCounts(8, 4, 1, 3), method: 'magnitude', init: 'dense-fan-in', gain: Math.SQRT2, denseFanIns: [8, 4], rng: createRng(2) });
    // Same seed, no pruning: the initial kernels before masking (planLayers draws init first).
    const full = planLayers({ shapes, method: 'none', init: 'dense-fan-in', gain: Math.SQRT2, denseFanIns: [8, 4], rng: createRng(2) });
    plans.forEach((p, l) => {
      assert.ok(p.mask);
      assert.equal(countActive(p.mask), p.active);
      let minKept = Infinity;
      let maxPruned = 0;
      at(full, l).kernel.forEach((v, i) => {
        if (p.mask?.[i]) {
          minKept = Math.min(minKept, Math.abs(v));
          assert.equal(p.kernel[i], v);
        } else {
          maxPruned = Math.max(maxPruned, Math.abs(v));
          assert.ok(Object.is(p.kernel[i], 0));
        }
      });
      assert.ok(minKept >= maxPruned, `layer ${l}: kept ${minKept} < pruned ${maxPruned}`);
    });
  });
});

describe('SC-SDC', () => {
  it('densities: first/output h_D/h_S, hidden (h_D/h_S)^2', () => {
    assert.deepEqual(scsdcDensities(3076, 308, 2), [308 / 3076, (308 / 3076) ** 2, 308 / 3076]);
    assert.deepEqual(scsdcDensities(100, 50, 1), [0.5, 0.5]);
  });

  it('per-layer active counts of the sparse net equal the dense twin weight counts (several widths and depths)', async () => {
    await testBackend();
    const d = 12;
    const C = 3;
    for (const [hS, hD] of [[16, 8], [20, 6], [31, 7], [9, 9]] as const) {
      for (const H of [1, 2, 4]) {
        const cfg = config({ model: { width: hS, hiddenLayers: H }, sparsity: { method: 'random', denseWidth: hD, pair: true, init: 'dense-fan-in' } });
        const [sparse, dense] = buildNets(cfg, d, C, createRng(1));
        assert.ok(sparse !== undefined && dense !== undefined);
        try {
          assert.equal(sparse.role, 'sparse');
          assert.equal(dense.role, 'dense');
          assert.equal(sparse.layerInfo.length, H + 1);
          sparse.layerInfo.forEach((l, i) => {
            assert.equal(l.active, at(dense.layerInfo, i).total, `layer ${i} hS=${hS} hD=${hD} H=${H}`);
            assert.equal(countActive(at(sparse.spec.plans, i).mask ?? new Float32Array()), l.active);
          });
          // Expected counts by hand: d·h_D, h_D·h_D (H−1 times), h_D·C
          const expected = [d * hD, ...Array<number>(H - 1).fill(hD * hD), hD * C];
          assert.deepEqual(sparse.layerInfo.map((l) => l.active), expected);
          assert.equal(sparse.activeWeights, dense.activeWeights);
          // Stored sparse kernels are zero wherever masked.
          sparse.kernels.forEach((_k, i) => {
            const w = sparse.kernelArray(i);
            const m = at(sparse.spec.plans, i).mask as Float32Array;
            w.forEach((v, j) => {
              if (m[j] === 0) assert.equal(v, 0);
            });
          });
        } finally {
          sparse.dispose();
          dense.dispose();
        }
      }
    }
  });

  it('active weights of sparse and dense twins have the same initial distribution (two-sample KS, α = 0.001)', () => {
    const d = 100;
    const hS = 64;
    const hD = 16;
    const H = 2;
    const C = 10;
    const denseFanIns = mlpShapes(d, hD, H, C).map((s) => s.fanIn);
    const sparsePlans = planLayers({ shapes: mlpShapes(d, hS, H, C), activeCounts: scsdcActiveCounts(d, hD, H, C), denseFanIns, method: 'random', init: 'dense-fan-in', gain: Math.SQRT2, rng: createRng(21) });
    const densePlans = planLayers({ shapes: mlpShapes(d, hD, H, C), method: 'none', init: 'dense-fan-in', gain: Math.SQRT2, rng: createRng(22) });
    const ablation = planLayers({ shapes: mlpShapes(d, hS, H, C), activeCounts: scsdcActiveCounts(d, hD, H, C), denseFanIns, method: 'random', init: 'sparse-fan-in', gain: Math.SQRT2, rng: createRng(23) });
    const active = (p: { kernel: Float32Array; mask?: Float32Array }): number[] => Array.from(p.kernel).filter((_, i) => !p.mask || p.mask[i] !== 0);
    for (let l = 0; l <= H; l++) {
      const s = active(at(sparsePlans, l));
      const dn = active(at(densePlans, l));
      assert.equal(s.length, dn.length);
      const D = ksStatistic(s, dn);
      const crit = ksCritical(s.length, dn.length, 0.001);
      assert.ok(D < crit, `layer ${l}: KS D=${D.toFixed(4)} ≥ critical ${crit.toFixed(4)}`);
      // He-normal with the DENSE fan-in: sample std ≈ √2/√fanIn_D (within 10 %).
      const sd = Math.sqrt(s.reduce((a, v) => a + v * v, 0) / s.length);
      assert.ok(Math.abs(sd / (Math.SQRT2 / Math.sqrt(at(denseFanIns, l))) - 1) < 0.1, `layer ${l} std ${sd}`);
    }
    // The test can fail: 'sparse-fan-in' uses std √2/√(k/fanOut) = √2/√4 on the hidden layer
    // (vs √2/√16 for the dense twin) and the KS test must reject it.
    const D = ksStatistic(active(at(ablation, 1)), active(at(densePlans, 1)));
    assert.ok(D > ksCritical(256, 256, 0.001), `ablation KS D=${D}`);
  });
});

describe('dead units and active paths (collapse at mask)', () => {
  // 3 inputs → 2 units; kernel row-major [fanIn, fanOut].
  const shape = { fanIn: 3, fanOut: 2 };
  it('counts units without active fan-in', () => {
    assert.equal(deadUnits(Float32Array.from([1, 0, 0, 0, 1, 0]), shape), 1);
    assert.equal(deadUnits(Float32Array.from([0, 0, 0, 0, 0, 0]), shape), 2);
    assert.equal(deadUnits(Float32Array.from([0, 1, 1, 0, 0, 0]), shape), 0);
  });

  it('detects a network with no active input→output path', () => {
    const shapes = [{ fanIn: 2, fanOut: 2 }, { fanIn: 2, fanOut: 2 }, { fanIn: 2, fanOut: 1 }];
    // Layer 0 feeds only unit 0; layer 1 connects only from unit 1 → nothing reachable after layer 1.
    const masks = [Float32Array.from([1, 0, 1, 0]), Float32Array.from([0, 0, 1, 1]), Float32Array.from([1, 1])];
    const r = activePaths(masks, shapes);
    assert.deepEqual(r.reachable, [1, 0, 0]);
    assert.equal(r.brokenLayer, 1);
    // An identity skip around layer 1 keeps unit 0 alive.
    const withSkip = activePaths(masks, shapes, [false, true, false]);
    assert.deepEqual(withSkip.reachable, [1, 1, 1]);
    assert.equal(withSkip.brokenLayer, -1);
  });
});
