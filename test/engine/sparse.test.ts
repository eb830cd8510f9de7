/**
 * The sparse execution path (src/engine/sparse.ts) against the masked-dense reference path and
 * against independent float64 computations:
 *  - the kernels (wasm SIMD and TypeScript) against a naive dense float64 product, at batch lengths
 *    that exercise every vector block and tail, with empty rows/columns, one active weight, all active;
 *  - 20 training steps from the same initial state on both paths, for all six optimizers, BN on and
 *    off, skip connections, every activation, coupled L2 and AdamW: loss, every per-layer raw and
 *    masked L1/L2 norm, EGF, the flow-point norms and the final weights agree to 1e-5 relative;
 *  - raw L2 from the Gram identity (no dense product) against the masked-dense raw L2;
 *  - updateMask on the sparse path against the masked-dense path;
 *  - edge densities: one active weight, an empty row and column, a fully dense layer on the sparse path.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, OptimizerName } from '../../src/shared/experiment';
import { createRng } from '../../src/shared/rng';
import { combineFlow } from '../../src/engine/flow';
import { deadUnits, heGain, mlpShapes, planLayers, scsdcActiveCounts, type LayerMaskPlan } from '../../src/engine/masks';
import { MaskedMLP, type KernelPath } from '../../src/engine/model';
import { createOptimizer, type Optimizer } from '../../src/engine/optimizers';
import { buildIndex, ruleSlots, sparseKernels, typescriptKernels, type SparseKernels, type UpdateRule } from '../../src/engine/sparse';
import { measureFlowLayers, optimizerParams, trainStep, type Batch, type StepResult } from '../../src/engine/step';
import { makeBatch } from '../../src/engine/train';
import type { LayerStep } from '../../src/shared/protocol';
import { assertClose, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

before(async () => {
  await testBackend();
});

// ---- kernels against float64 dense products ------------------------------------------------

function randomMask(n: number, density: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (rng.int(1000) < density * 1000 ? 1 : 0));
}

function checkKernels(k: SparseKernels, fanIn: number, fanOut: number, mask: Float32Array, B: number, seed: number): void {
  const rng = createRng(seed);
  const W = Float32Array.from({ length: fanIn * fanOut }, (_v, i) => (mask[i] ? rng.normal() : 0));
  const h = Float32Array.from({ length: fanIn * B }, () => rng.normal());
  const dz = Float32Array.from({ length: fanOut * B }, () => rng.normal());
  const ix = buildIndex(fanIn, fanOut, mask);
  const values = new Float32Array(ix.k);
  let q = 0;
  for (let c = 0; c < fanIn; c++) for (let r = 0; r < fanOut; r++) if (mask[c * fanOut + r]) values[q++] = W[c * fanOut + r]!;
  assert.equal(q, ix.k);
  // z[r, b] = Σ_c W[c, r]·h[c, b]; dh[c, b] = Σ_r W[c, r]·dz[r, b]; g[c, r] = Σ_b dz[r, b]·h[c, b].
  const z = new Float64Array(fanOut * B);
  const dh = new Float64Array(fanIn * B);
  for (let c = 0; c < fanIn; c++)
    for (let r = 0; r < fanOut; r++) {
      const w = at(W, c * fanOut + r);
      for (let b = 0; b < B; b++) {
        z[r * B + b]! += w * at(h, c * B + b);
        dh[c * B + b]! += w * at(dz, r * B + b);
      }
    }
  const g: number[] = [];
  for (let c = 0; c < fanIn; c++)
    for (let r = 0; r < fanOut; r++) {
      if (!mask[c * fanOut + r]) continue;
      let s = 0;
      for (let b = 0; b < B; b++) s += at(dz, r * B + b) * at(h, c * B + b);
      g.push(s);
    }
  const what = `${k.impl} ${fanIn}×${fanOut} B=${B} k=${ix.k}`;
  assertClose(k.forward(ix, values, h, B), z, `${what} forward`, 1e-4, 1e-5);
  assertClose(k.backward(ix, values, dz, B), dh, `${what} backward`, 1e-4, 1e-5);
  assertClose(k.gradient(ix, dz, h, B), g, `${what} gradient`, 1e-4, 1e-5);
  const bp = k.backprop(ix, values, dz, h, B, true);
  assertClose(bp.grad, g, `${what} backprop gradient`, 1e-4, 1e-5);
  assertClose(bp.dInput ?? [], dh, `${what} backprop input gradient`, 1e-4, 1e-5);
  assert.equal(k.backprop(ix, values, dz, h, B, false).dInput, undefined);
  k.release(ix);
}

describe('sparse kernels', () => {
  it('the wasm SIMD module is built and loads (npm run build)', () => {
    const { kernels, note } = sparseKernels();
    assert.equal(kernels.impl, 'wasm-simd', note);
  });
  for (const k of [sparseKernels().kernels, typescriptKernels]) {
    it(`${k.impl}: products against float64 dense products`, () => {
      // fanIn > fanOut and fanIn < fanOut: the gradient walks the larger side (CSC or CSR order).
      for (const B of [1, 3, 4, 31, 32, 37, 128]) {
        checkKernels(k, 13, 9, randomMask(13 * 9, 0.3, B), B, 100 + B);
        checkKernels(k, 9, 13, randomMask(9 * 13, 0.3, B + 7), B, 200 + B);
      }
      // Edge densities: one active weight; an empty row and an empty column; all active; none active.
      const one = new Float32Array(7 * 5);
      one[17] = 1;
      checkKernels(k, 7, 5, one, 33, 1);
      const holes = randomMask(8 * 6, 0.6, 2);
      for (let r = 0; r < 6; r++) holes[3 * 6 + r] = 0; // input unit 3: empty column of V
      for (let c = 0; c < 8; c++) holes[c * 6 + 4] = 0; // output unit 4: empty row of V
      checkKernels(k, 8, 6, holes, 36, 3);
      checkKernels(k, 6, 4, new Float32Array(24).fill(1), 35, 4);
      checkKernels(k, 6, 4, new Float32Array(24), 35, 5);
    });
  }
});

// ---- optimizer updates and kernel memory ----------------------------------------------------

const rules: UpdateRule[] = [
  { name: 'sgd', lr: 0.1 },
  { name: 'momentum', nesterov: false, lr: 0.05, mu: 0.9 },
  { name: 'momentum', nesterov: true, lr: 0.05, mu: 0.9 },
  { name: 'adam', b1: 0.9, c1: 0.1, b2: 0.999, c2: 0.001, f: 0.003, e2: 1e-9, decay: 0.999 },
  { name: 'rmsprop', rho: 0.99, c: 0.01, eps: 1e-8, lr: 0.005 },
  { name: 'adagrad', eps: 1e-10, lr: 0.05 },
];

/** Three updates of `rule` in float64 by hand (the formulas of UpdateRule), from w, zero state, gradients gs. */
function updateByHand(rule: UpdateRule, w0: Float32Array, gs: Float32Array[]): number[] {
  return Array.from(w0, (w, i) => {
    let s0 = 0;
    let s1 = 0;
    for (const gv of gs) {
      const g = at(gv, i);
      switch (rule.name) {
        case 'sgd':
          w -= g * rule.lr;
          break;
        case 'momentum':
          s0 = s0 * rule.mu + g;
          w -= (rule.nesterov ? g + s0 * rule.mu : s0) * rule.lr;
          break;
        case 'adam':
          s0 = s0 * rule.b1 + g * rule.c1;
          s1 = s1 * rule.b2 + g * g * rule.c2;
          w = w * rule.decay - (s0 / (Math.sqrt(s1) + rule.e2)) * rule.f;
          break;
        case 'rmsprop':
          s0 = s0 * rule.rho + g * g * rule.c;
          w -= (g / (Math.sqrt(s0) + rule.eps)) * rule.lr;
          break;
        case 'adagrad':
          s0 += g * g;
          w -= (g / (Math.sqrt(s0) + rule.eps)) * rule.lr;
          break;
      }
    }
    return w;
  });
}

describe('sparse kernels: optimizer updates and memory', () => {
  for (const k of [sparseKernels().kernels, typescriptKernels]) {
    it(`${k.impl}: every rule against float64 by hand, weights in kernel memory and in plain arrays, odd lengths`, () => {
      for (const rule of rules) {
        for (const n of [1, 5, 13, 1001]) {
          const rng = createRng(n);
          const w0 = Float32Array.from({ length: n }, () => rng.normal());
          const gs = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => rng.normal()));
          const expected = updateByHand(rule, w0, gs);
          // Kernel memory (allocate) and the caller's own arrays.
          const wb = k.allocate(n);
          wb.view().set(w0);
          const sb = Array.from({ length: ruleSlots(rule) }, () => k.allocate(n));
          for (const g of gs) k.update(rule, wb.view(), sb.map((b) => b.view()), g);
          assertClose(wb.view(), expected, `${k.impl} ${rule.name} n=${n} in kernel memory`, 1e-5, 1e-6);
          const w = Float32Array.from(w0);
          const slots = Array.from({ length: ruleSlots(rule) }, () => new Float32Array(n));
          for (const g of gs) k.update(rule, w, slots, g);
          assertClose(w, expected, `${k.impl} ${rule.name} n=${n} plain arrays`, 1e-5, 1e-6);
          wb.free();
          sb.forEach((b) => b.free());
        }
      }
    });
  }

  it('wasm: a view taken before the memory grew is refused, not read', () => {
    const k = sparseKernels().kernels;
    const wb = k.allocate(8);
    const stale = wb.view();
    const big = k.allocate(k.reservedBytes() / 4 + 65536); // forces the memory to grow
    try {
      assert.equal(stale.length, 0, 'growing the memory detaches earlier views');
      assert.throws(() => k.update({ name: 'sgd', lr: 1 }, stale, [], new Float32Array(8)), /stale view/);
      assert.equal(wb.view().length, 8, 'view() gives a fresh array');
    } finally {
      big.free();
      wb.free();
    }
  });

  it('kernel memory stays bounded over 300 mask updates (index rebuilds), with steps in between', () => {
    const c = { activation: 'relu' as const, batchNorm: false, skip: false };
    const net = makeNet(plansFor('relu', 21), c, ['sparse', 'sparse', 'sparse']);
    const opt = createOptimizer({ name: 'adam', learningRate: 0.01, momentum: 0.9, decoupledDecay: 0 });
    net.attachOptimizer(opt);
    const bs = batches(2, 24);
    const kernels = sparseKernels().kernels;
    const rng = createRng(4);
    let afterWarmup = 0;
    try {
      for (let u = 0; u < 300; u++) {
        for (let l = 0; l <= H; l++) {
          const m = net.maskArray(l);
          const act = [...m.keys()].filter((i) => m[i] !== 0);
          const off = [...m.keys()].filter((i) => m[i] === 0);
          const n = Math.min(3, act.length, off.length);
          const drop = Int32Array.from({ length: n }, (_v, j) => at(act, (rng.int(act.length) + j) % act.length));
          const grow = Int32Array.from({ length: n }, (_v, j) => at(off, (rng.int(off.length) + j) % off.length));
          if (new Set(drop).size === n && new Set(grow).size === n) net.updateMask(l, drop, grow);
        }
        trainStep(net, opt, optimizerParams(net), at(bs, u % 2), { coupledL2: 0, collectNorms: true, checkIntegrity: true });
        if (u === 20) afterWarmup = kernels.reservedBytes();
      }
      assert.ok(afterWarmup > 0);
      assert.equal(kernels.reservedBytes(), afterWarmup, 'the wasm memory did not grow after the first 20 rebuilds');
    } finally {
      net.dispose();
      opt.dispose();
      bs.forEach((b) => tf.dispose([b.x, b.xT as tf.Tensor, b.y, b.labels]));
    }
  });
});

// ---- the two paths, step by step ------------------------------------------------------------

interface PathCase {
  name: string;
  optimizer: OptimizerName;
  activation: Activation;
  batchNorm: boolean;
  skip: boolean;
  weightDecay: number;
  lr: number;
}

const d = 12;
const C = 3;
const width = 16;
const hD = 6;
const H = 2;

/**
 * Plans of an SC-SDC sparse net. `noDeadUnits`: the first seed ≥ `seed` whose masks leave every unit
 * some fan-in. Needed with BatchNorm: a unit without fan-in has a constant pre-activation, variance 0,
 * and BN turns the float32 rounding of (x − mean) into its output (÷ √ε); both paths then follow
 * their own rounding noise through that unit (the raw gradient of the next layer at pruned entries
 * differs by ~0.2 % within 10 steps), which says nothing about the kernels.
 */
function plansFor(activation: Activation, seed: number, noDeadUnits = false, w = width): LayerMaskPlan[] {
  for (let s = seed; noDeadUnits && s < seed + 1000; s++) {
    const p = plansOnce(activation, s, w);
    if (p.every((l) => !l.mask || deadUnits(l.mask, l.shape) === 0)) return p;
  }
  return plansOnce(activation, seed, w);
}

function plansOnce(activation: Activation, seed: number, w: number): LayerMaskPlan[] {
  return planLayers({
    shapes: mlpShapes(d, w, H, C),
    activeCounts: scsdcActiveCounts(d, hD, H, C),
    denseFanIns: mlpShapes(d, hD, H, C).map((s) => s.fanIn),
    method: 'random',
    init: 'dense-fan-in',
    gain: heGain(activation),
    rng: createRng(seed),
  });
}

function clonePlans(plans: LayerMaskPlan[]): LayerMaskPlan[] {
  return plans.map((p) => ({ ...p, kernel: Float32Array.from(p.kernel), ...(p.mask ? { mask: Float32Array.from(p.mask) } : {}) }));
}

function makeNet(plans: LayerMaskPlan[], c: Pick<PathCase, 'activation' | 'batchNorm' | 'skip'>, paths: KernelPath[], kernels?: SparseKernels): MaskedMLP {
  return new MaskedMLP({ role: 'sparse', inputs: d, classes: C, width: at(plans, 0).shape.fanOut, hiddenLayers: H, activation: c.activation, batchNorm: c.batchNorm, skip: c.skip, plans: clonePlans(plans), paths, ...(kernels ? { sparseKernels: kernels } : {}) });
}

function batches(n: number, size: number): Batch[] {
  const data = syntheticDataset(d, C, n * size, 8, 8);
  const idx = Uint32Array.from({ length: data.train.n }, (_v, i) => i);
  return Array.from({ length: n }, (_v, b) => makeBatch(data.train, d, C, idx, b * size, size, undefined, true));
}

const rel = 1e-5;
function sameNorms(a: LayerStep[], e: LayerStep[], what: string): void {
  assert.equal(a.length, e.length);
  a.forEach((l, i) => {
    assert.equal(l.active, at(e, i).active);
    assertClose([l.raw.l1, l.raw.l2, l.masked.l1, l.masked.l2], [at(e, i).raw.l1, at(e, i).raw.l2, at(e, i).masked.l1, at(e, i).masked.l2], `${what} layer ${i} [raw l1, raw l2, masked l1, masked l2]`, rel, 1e-9);
  });
  const fa = combineFlow(a);
  const fe = combineFlow(e);
  assertClose([fa.egf1, fa.egf2, fa.g1, fa.g2], [fe.egf1, fe.egf2, fe.g1, fe.g2], `${what} flow`, rel, 1e-9);
}

function sameStep(a: StepResult, e: StepResult, what: string): void {
  assertClose([a.loss, a.correct], [e.loss, e.correct], `${what} loss/correct`, rel, 0);
  assert.equal(a.nonFinite, null, `${what}: non-finite`);
  assert.deepEqual(e.integrity, []);
  if (e.layers) {
    assert.ok(a.layers);
    sameNorms(a.layers, e.layers, what);
  } else assert.equal(a.layers, null);
}

function sameWeights(a: MaskedMLP, e: MaskedMLP, what: string, lr: number): void {
  for (let l = 0; l <= H; l++) {
    const wa = a.kernelArray(l);
    const we = e.kernelArray(l);
    let scale = 0;
    for (const v of we) scale = Math.max(scale, Math.abs(v));
    assertClose(wa, we, `${what} kernel ${l}`, rel, 1e-6 * scale);
    assert.deepEqual(Array.from(a.maskArray(l)), Array.from(e.maskArray(l)), `${what} mask ${l}`);
  }
  // Other parameters are sums of updates of size ~lr, some cancelling near 0: 1e-5 of an update as
  // the absolute floor. A bias feeding BatchNorm has gradient exactly 0 in exact arithmetic (BN
  // subtracts the batch mean), so both paths move it by their own rounding noise: only its size is checked.
  const others = (n: MaskedMLP): { kind: string; layer: number; v: Float32Array }[] => n.params.filter((p) => p.kind !== 'kernel').map((p) => ({ kind: p.kind, layer: p.layer, v: p.variable.dataSync() as Float32Array }));
  const ea = others(e);
  others(a).forEach((p, i) => {
    if (p.kind === 'bias' && a.spec.batchNorm && p.layer < H) {
      for (const x of [...p.v, ...at(ea, i).v]) assert.ok(Math.abs(x) < 1e-4, `${what}: pre-BN bias ${x} is more than rounding noise`);
      return;
    }
    assertClose(p.v, at(ea, i).v, `${what} ${p.kind} param of layer ${p.layer}`, rel, 1e-5 * lr);
  });
}

function optimizerFor(c: PathCase): Optimizer {
  const adamw = c.optimizer === 'adamw';
  return createOptimizer({ name: c.optimizer, learningRate: c.lr, momentum: 0.9, decoupledDecay: adamw ? c.weightDecay : 0 });
}

const cases: PathCase[] = [];
const lrs: Record<OptimizerName, number> = { sgd: 0.1, momentum: 0.05, adam: 0.01, adamw: 0.01, rmsprop: 0.005, adagrad: 0.05 };
for (const optimizer of Object.keys(lrs) as OptimizerName[]) {
  cases.push({ name: `${optimizer}, coupled L2 / decoupled decay`, optimizer, activation: 'relu', batchNorm: false, skip: false, weightDecay: optimizer === 'adamw' ? 0.05 : 1e-3, lr: lrs[optimizer] });
}
cases.push({ name: 'momentum, relu, BN + skip', optimizer: 'momentum', activation: 'relu', batchNorm: true, skip: true, weightDecay: 1e-3, lr: 0.05 });
// Every activation, BN on and off. With BN the optimizer is momentum: Adam-type rules divide by
// √v, which turns the rounding noise of the (exactly zero) gradient of a pre-BN bias into steps of
// size lr that differ between any two implementations (see sameWeights).
const acts: Activation[] = ['relu', 'prelu', 'elu', 'swish', 'srelu', 'srelu-slide', 'sigmoid'];
acts.forEach((activation, i) => {
  const bn = i % 2 === 0;
  cases.push({ name: `${bn ? 'momentum' : 'adam'}, ${activation}, BN ${bn ? 'on' : 'off'}, skip ${i % 3 === 0 ? 'on' : 'off'}`, optimizer: bn ? 'momentum' : 'adam', activation, batchNorm: bn, skip: i % 3 === 0, weightDecay: 0, lr: bn ? 0.05 : 0.01 });
});

describe('sparse path = masked-dense path, 20 steps from the same state', () => {
  for (const c of cases) {
    it(c.name, () => {
      const plans = plansFor(c.activation, 11, c.batchNorm);
      const ref = makeNet(plans, c, ['dense', 'dense', 'dense']);
      const sp = makeNet(plans, c, ['sparse', 'sparse', 'sparse']);
      const optR = optimizerFor(c);
      const optS = optimizerFor(c);
      const bs = batches(4, 24);
      const coupledL2 = c.optimizer === 'adamw' ? 0 : c.weightDecay;
      try {
        assert.equal(sp.params.filter((p) => p.kind === 'kernel').length, 0, 'no tf kernel on the sparse path');
        for (let s = 1; s <= 20; s++) {
          const b = at(bs, s % bs.length);
          // Norms on most steps; one step without (the NaN probe path).
          const o = { coupledL2, collectNorms: s % 7 !== 0, checkIntegrity: true };
          const e = trainStep(ref, optR, optimizerParams(ref), b, o);
          const a = trainStep(sp, optS, optimizerParams(sp), b, o);
          sameStep(a, e, `${c.name} step ${s}`);
        }
        sameNorms(measureFlowLayers(sp, bs, coupledL2), measureFlowLayers(ref, bs, coupledL2), `${c.name} flow point`);
        sameWeights(sp, ref, c.name, c.lr);
      } finally {
        [ref, sp].forEach((n) => n.dispose());
        [optR, optS].forEach((o) => o.dispose());
        bs.forEach((b) => tf.dispose([b.x, b.xT as tf.Tensor, b.y, b.labels]));
      }
    });
  }

  it('raw L2 from the Gram identity (no dense product) equals the masked-dense raw L2; raw L1 skipped is NaN', () => {
    const c = at(cases, 0);
    // Width 48 at batch 24: the hidden layer (48·48 > 24·96/2) takes the kernels' Gram, with the
    // batch padded to 32; the narrower layers take the dense product.
    const plans = plansFor('relu', 5, false, 48);
    const ref = makeNet(plans, c, ['dense', 'dense', 'dense']);
    const sp = makeNet(plans, c, ['sparse', 'sparse', 'sparse']);
    const optR = optimizerFor(c);
    const optS = optimizerFor(c);
    const bs = batches(2, 24);
    try {
      for (let s = 0; s < 6; s++) {
        const b = at(bs, s % 2);
        const o = { coupledL2: 1e-3, collectNorms: true, checkIntegrity: true, rawL1: false };
        const e = trainStep(ref, optR, optimizerParams(ref), b, o);
        const a = trainStep(sp, optS, optimizerParams(sp), b, o);
        assert.ok(a.layers && e.layers);
        assert.equal(a.nonFinite, null);
        a.layers.forEach((l, i) => {
          assert.ok(Number.isNaN(l.raw.l1) && Number.isNaN(at((e.layers as LayerStep[]), i).raw.l1), 'skipped raw L1 is NaN on both paths');
          const el = at((e.layers as LayerStep[]), i);
          assertClose([l.raw.l2, l.masked.l1, l.masked.l2], [el.raw.l2, el.masked.l1, el.masked.l2], `gram step ${s} layer ${i}`, rel, 1e-9);
        });
      }
    } finally {
      [ref, sp].forEach((n) => n.dispose());
      [optR, optS].forEach((o) => o.dispose());
      bs.forEach((b) => tf.dispose([b.x, b.xT as tf.Tensor, b.y, b.labels]));
    }
  });

  it('updateMask on the sparse path equals the masked-dense path (values, state, index)', () => {
    const c = cases.find((x) => x.optimizer === 'adam') as PathCase;
    const plans = plansFor('relu', 3);
    const ref = makeNet(plans, c, ['dense', 'dense', 'dense']);
    const sp = makeNet(plans, c, ['sparse', 'sparse', 'sparse']);
    const optR = optimizerFor(c);
    const optS = optimizerFor(c);
    ref.attachOptimizer(optR);
    sp.attachOptimizer(optS);
    const bs = batches(3, 24);
    const o = { coupledL2: 0, collectNorms: true, checkIntegrity: true };
    try {
      for (let s = 0; s < 12; s++) {
        if (s === 4 || s === 8) {
          for (let l = 0; l <= H; l++) {
            const m = ref.maskArray(l);
            const act = [...m.keys()].filter((i) => m[i] !== 0);
            const off = [...m.keys()].filter((i) => m[i] === 0);
            // Drop 3 (one of which is re-grown), grow 3 (+ the re-grown one).
            const drop = Int32Array.from([act[s % act.length], act[(s + 5) % act.length], act[(s + 9) % act.length]]);
            const grow = Int32Array.from([off[s % off.length], off[(s + 2) % off.length], off[(s + 7) % off.length], drop[2]]);
            ref.updateMask(l, drop, grow);
            sp.updateMask(l, drop, grow);
            assert.equal(at(sp.layerInfo, l).active, at(ref.layerInfo, l).active);
            assert.equal(at(sp.layerInfo, l).deadUnits, at(ref.layerInfo, l).deadUnits);
          }
          sameWeights(sp, ref, `after updateMask at step ${s}`, c.lr);
        }
        const b = at(bs, s % 3);
        sameStep(trainStep(sp, optS, optimizerParams(sp), b, o), trainStep(ref, optR, optimizerParams(ref), b, o), `updateMask run step ${s}`);
      }
      sameWeights(sp, ref, 'updateMask run', c.lr);
      for (let l = 0; l <= H; l++) assertClose(sp.denseKernelGradient(l, at(bs, 0)), ref.denseKernelGradient(l, at(bs, 0)), `denseKernelGradient ${l}`, rel, 1e-8);
    } finally {
      [ref, sp].forEach((n) => n.dispose());
      [optR, optS].forEach((o) => o.dispose());
      bs.forEach((b) => tf.dispose([b.x, b.xT as tf.Tensor, b.y, b.labels]));
    }
  });

  it('edge densities: one active weight, an empty row and column, a fully dense layer on the sparse path (TypeScript kernels too)', () => {
    const plans = plansFor('relu', 9);
    // Layer 0: one active weight. Layer 1: input unit 2 and output unit 5 fully pruned. Layer 2: all active.
    const p0 = at(plans, 0);
    p0.mask = new Float32Array(d * width);
    p0.mask[3 * width + 7] = 1;
    p0.kernel = p0.kernel.map((_v, i) => (i === 3 * width + 7 ? 0.4 : 0));
    p0.active = 1;
    const p1 = at(plans, 1);
    const m1 = p1.mask as Float32Array;
    for (let r = 0; r < width; r++) m1[2 * width + r] = 0;
    for (let col = 0; col < width; col++) m1[col * width + 5] = 0;
    p1.kernel = p1.kernel.map((v, i) => (m1[i] ? v || 0.1 : 0));
    p1.active = m1.reduce((s, v) => s + v, 0);
    const p2 = at(plans, 2);
    p2.mask = new Float32Array(width * C).fill(1);
    p2.kernel = p2.kernel.map((v, i) => v || 0.05 * ((i % 5) - 2));
    p2.active = width * C;
    const c = at(cases, 1);
    for (const kernels of [undefined, typescriptKernels]) {
      const ref = makeNet(plans, c, ['dense', 'dense', 'dense']);
      const sp = makeNet(plans, c, ['sparse', 'sparse', 'sparse'], kernels);
      const optR = optimizerFor(c);
      const optS = optimizerFor(c);
      const bs = batches(2, 20);
      try {
        assert.deepEqual(sp.layerInfo.map((l) => l.active), [1, p1.active, width * C]);
        for (let s = 0; s < 8; s++) {
          const o = { coupledL2: 1e-3, collectNorms: true, checkIntegrity: true };
          sameStep(trainStep(sp, optS, optimizerParams(sp), at(bs, s % 2), o), trainStep(ref, optR, optimizerParams(ref), at(bs, s % 2), o), `edge (${kernels?.impl ?? 'default'}) step ${s}`);
        }
        sameWeights(sp, ref, `edge (${kernels?.impl ?? 'default'})`, c.lr);
      } finally {
        [ref, sp].forEach((n) => n.dispose());
        [optR, optS].forEach((o) => o.dispose());
        bs.forEach((b) => tf.dispose([b.x, b.xT as tf.Tensor, b.y, b.labels]));
      }
    }
  });
});
