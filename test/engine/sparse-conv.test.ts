/**
 * The direct sparse convolution (src/engine/nn/sparse-conv.ts; wasm SIMD kernels in
 * assembly/sparse.ts) against float64 sums written out by hand here, and against the masked-dense
 * path (TF.js conv2d / transposed conv / filter gradient over the kernel with pruned entries zero) on
 * the test backend: forward, input gradient and the filter gradient at the active entries, for 3×3
 * and 1×1 kernels, stride 1 and 2, even and odd maps, several densities, batches that exercise every
 * vector block and tail of the kernels. Tolerance: |got − ref| ≤ 1e-5·(|ref| + max|ref|).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../../src/shared/rng';
import { conv2dFilterGrad, conv2dForward, conv2dInputGrad } from '../../src/engine/nn/conv';
import { buildConvIndex, convOffsets, sparseConvOutSize, typescriptConvKernels, type ConvKernelGeometry, type SparseConvIndex, type SparseConvKernels } from '../../src/engine/nn/sparse-conv';
import { sparseKernels } from '../../src/engine/sparse';
import { testBackend } from './helpers';

interface Case {
  name: string;
  /** N, H, W, cIn. */
  shape: [number, number, number, number];
  g: ConvKernelGeometry;
  density: number;
}

const geo = (k: number, stride: number, cin: number, cout: number): ConvKernelGeometry => ({ k, stride, pad: (k - 1) / 2, cin, cout });

const cases: Case[] = [
  { name: '3×3 stride 1, dense, batch 39', shape: [39, 6, 5, 3], g: geo(3, 1, 3, 4), density: 1 },
  { name: '3×3 stride 1, density 0.3, batch 39', shape: [39, 6, 5, 3], g: geo(3, 1, 3, 4), density: 0.3 },
  { name: '3×3 stride 1, density 0.05, batch 70', shape: [70, 5, 5, 8], g: geo(3, 1, 8, 8), density: 0.05 },
  { name: '3×3 stride 2, even map, density 0.5, batch 5', shape: [5, 6, 6, 2], g: geo(3, 2, 2, 3), density: 0.5 },
  { name: '3×3 stride 2, odd map, density 0.25, batch 37', shape: [37, 7, 5, 3], g: geo(3, 2, 3, 2), density: 0.25 },
  { name: '1×1 stride 1, density 0.4, batch 6', shape: [6, 4, 3, 5], g: geo(1, 1, 5, 6), density: 0.4 },
  { name: '1×1 stride 2 projection, density 0.6, batch 34', shape: [34, 6, 5, 3], g: geo(1, 2, 3, 5), density: 0.6 },
  { name: '3×3 stride 1 on a 1×1 map, density 0.5, batch 2', shape: [2, 1, 1, 4], g: geo(3, 1, 4, 3), density: 0.5 },
];

function draw(n: number, seed: string): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** A [k·k·cIn, cOut] 0/1 mask with round(density·n) active entries, seeded. */
function drawMask(g: ConvKernelGeometry, density: number, seed: string): Float32Array {
  const n = g.k * g.k * g.cin * g.cout;
  const rng = createRng(seed);
  const order = Array.from({ length: n }, (_v, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i] ?? 0;
    order[i] = order[j] ?? 0;
    order[j] = t;
  }
  const m = new Float32Array(n);
  for (let i = 0; i < Math.round(density * n); i++) m[order[i] ?? 0] = 1;
  return m;
}

/** Forward, dL/dx and dL/dw (every entry) in float64 by the definition, kernel [k, k, cIn, cOut] flat. */
function reference(x: Float32Array, w: Float64Array, dy: Float32Array, c: Case): { y: Float64Array; dx: Float64Array; dw: Float64Array } {
  const [N, H, W, C] = c.shape;
  const { k, stride: s, pad, cout: CO } = c.g;
  const Ho = sparseConvOutSize(H, c.g);
  const Wo = sparseConvOutSize(W, c.g);
  const y = new Float64Array(N * Ho * Wo * CO);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < Ho; o++)
      for (let p = 0; p < Wo; p++)
        for (let co = 0; co < CO; co++) {
          const yi = ((n * Ho + o) * Wo + p) * CO + co;
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const i = o * s - pad + ky;
              const j = p * s - pad + kx;
              if (i < 0 || j < 0 || i >= H || j >= W) continue;
              for (let ci = 0; ci < C; ci++) {
                const wi = ((ky * k + kx) * C + ci) * CO + co;
                const xi = ((n * H + i) * W + j) * C + ci;
                y[yi] = (y[yi] ?? 0) + (x[xi] ?? 0) * (w[wi] ?? 0);
                dw[wi] = (dw[wi] ?? 0) + (x[xi] ?? 0) * (dy[yi] ?? 0);
                dx[xi] = (dx[xi] ?? 0) + (w[wi] ?? 0) * (dy[yi] ?? 0);
              }
            }
        }
  return { y, dx, dw };
}

function close(got: ArrayLike<number>, ref: ArrayLike<number>, what: string): void {
  assert.equal(got.length, ref.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i] ?? 0));
  for (let i = 0; i < ref.length; i++) {
    const a = got[i] ?? NaN;
    const b = ref[i] ?? NaN;
    if (!(Math.abs(a - b) <= 1e-5 * (Math.abs(b) + scale))) assert.fail(`${what}[${i}]: ${a} vs ${b} (scale ${scale})`);
  }
}

/** Values of the kernel at the active entries, in canonical (flat mask) order. */
function activeValues(a: ArrayLike<number>, mask: Float32Array): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) out.push(a[i] ?? NaN);
  return Float64Array.from(out);
}

let wasm: SparseConvKernels;
before(async () => {
  await testBackend();
  const k = sparseKernels();
  assert.equal(k.kernels.impl, process.env.GRADFLOW_SPARSE_KERNELS === 'typescript' ? 'typescript' : 'wasm-simd', `sparse kernels: ${k.note ?? ''} (run npm run build)`);
  wasm = k.kernels.conv;
});

describe('sparse conv index', () => {
  it('groups the active entries by output and by input channel, canonical positions in mask order (by hand)', () => {
    // 1×1 kernel, cIn 2, cOut 3: mask rows ci, columns co.
    //   ci 0: 1 0 1     canonical: (0,0)→0, (0,2)→1
    //   ci 1: 0 1 1                (1,1)→2, (1,2)→3
    const ix = buildConvIndex({ k: 1, stride: 1, pad: 0, cin: 2, cout: 3 }, Float32Array.from([1, 0, 1, 0, 1, 1]));
    assert.equal(ix.k, 4);
    assert.deepEqual(Array.from(ix.outPtr), [0, 1, 2, 4]);
    assert.deepEqual(Array.from(ix.outTap), [0, 1, 0, 1]);
    assert.deepEqual(Array.from(ix.outPerm), [0, 2, 1, 3]);
    assert.deepEqual(Array.from(ix.inPtr), [0, 2, 4]);
    assert.deepEqual(Array.from(ix.inTap), [0, 2, 1, 2]);
    assert.deepEqual(Array.from(ix.inPerm), [0, 1, 2, 3]);
    // 3×3, pad 1, cIn 2, on a 4×5 map: entry (ky 2, kx 1, ci 1, co 0) alone.
    const g: ConvKernelGeometry = { k: 3, stride: 1, pad: 1, cin: 2, cout: 1 };
    const m = new Float32Array(18);
    m[(2 * 3 + 1) * 2 + 1] = 1;
    const o = convOffsets(buildConvIndex(g, m), 4, 5);
    // Padded input 6×7: ci·42 + ky·7 + kx; padded dy (q = 1) 6×7: co·42 + (2 − ky)·7 + (2 − kx).
    assert.deepEqual([o.Hp, o.Wp, o.Ho, o.Wo, o.q], [6, 7, 4, 5, 1]);
    assert.deepEqual(Array.from(o.fwd), [42 + 14 + 1]);
    assert.deepEqual(Array.from(o.bwd), [0 + 0 + 1]);
  });

  it('refuses padding outside 0…k − 1 and masks of the wrong size', () => {
    assert.throws(() => buildConvIndex({ k: 3, stride: 1, pad: 3, cin: 1, cout: 1 }, undefined), /padding/);
    assert.throws(() => buildConvIndex({ k: 3, stride: 1, pad: 1, cin: 1, cout: 2 }, new Float32Array(9)), /mask has 9 entries/);
  });
});

for (const impl of ['wasm', 'typescript'] as const) {
  describe(`sparse conv kernels (${impl}) against float64 by hand and the masked-dense path`, () => {
    const kernels = (): SparseConvKernels => (impl === 'wasm' ? wasm : typescriptConvKernels);
    for (const c of cases) {
      it(c.name, () => {
        const [N, H, W, C] = c.shape;
        const { k, cout } = c.g;
        const Ho = sparseConvOutSize(H, c.g);
        const Wo = sparseConvOutSize(W, c.g);
        const mask = drawMask(c.g, c.density, `mask ${c.name}`);
        const full = draw(mask.length, `w ${c.name}`);
        const wMasked = full.map((v, i) => v * (mask[i] ?? 0));
        const x = draw(N * H * W * C, `x ${c.name}`);
        const dy = draw(N * Ho * Wo * cout, `dy ${c.name}`);
        const ix: SparseConvIndex = buildConvIndex(c.g, mask);
        const values = Float32Array.from(activeValues(full, mask));
        assert.equal(ix.k, values.length);
        const ref = reference(x, Float64Array.from(wMasked), dy, c);
        const s = { N, H, W };
        // Copied at once: the wasm kernels return views of their memory, valid until their next call.
        const y = Float32Array.from(kernels().forward(ix, values, x, s));
        const bpView = kernels().backprop(ix, values, x, dy, s, true);
        const bp = { grad: bpView.grad, dInput: bpView.dInput ? Float32Array.from(bpView.dInput) : undefined };
        const gOnly = kernels().backprop(ix, values, x, dy, s, false);
        close(y, ref.y, `${c.name} forward`);
        close(bp.dInput ?? [], ref.dx, `${c.name} input gradient`);
        close(bp.grad, activeValues(ref.dw, mask), `${c.name} filter gradient`);
        assert.deepEqual(gOnly.grad, bp.grad);
        assert.equal(gOnly.dInput, undefined);
        // The masked-dense path on the test backend, same kernel with pruned entries zero.
        const dense = tf.tidy(() => {
          const xt = tf.tensor4d(x, c.shape);
          const wt = tf.tensor4d(wMasked, [k, k, C, cout]);
          const dyt = tf.tensor4d(dy, [N, Ho, Wo, cout]);
          return {
            y: conv2dForward(xt, wt, c.g).dataSync(),
            dx: conv2dInputGrad(dyt, wt, c.shape, c.g).dataSync(),
            dw: conv2dFilterGrad(xt, dyt, c.g, cout).dataSync(),
          };
        });
        close(y, dense.y, `${c.name} forward vs masked-dense`);
        close(bp.dInput ?? [], dense.dx, `${c.name} input gradient vs masked-dense`);
        close(bp.grad, activeValues(dense.dw, mask), `${c.name} filter gradient vs masked-dense`);
      });
    }

    it('an empty kernel gives zeros and no gradient entries', () => {
      const g = geo(3, 1, 2, 3);
      const ix = buildConvIndex(g, new Float32Array(18 * 3));
      const x = draw(4 * 3 * 3 * 2, 'empty x');
      const y = kernels().forward(ix, new Float32Array(0), x, { N: 4, H: 3, W: 3 });
      assert.equal(y.length, 4 * 3 * 3 * 3);
      assert.ok(y.every((v) => v === 0));
      const bp = kernels().backprop(ix, new Float32Array(0), x, draw(4 * 3 * 3 * 3, 'empty dy'), { N: 4, H: 3, W: 3 }, true);
      assert.equal(bp.grad.length, 0);
      assert.ok((bp.dInput ?? [1]).every((v) => v === 0));
    });
  });
}

describe('sparse conv kernels (wasm): one index on two map sizes, across memory growth', () => {
  it('rebinds the offsets when the map size changes and survives the module memory growing', () => {
    const g = geo(3, 2, 3, 4);
    const mask = drawMask(g, 0.4, 'rebind');
    const ix = buildConvIndex(g, mask);
    const full = draw(mask.length, 'rebind w');
    const values = Float32Array.from(activeValues(full, mask));
    const wMasked = Float64Array.from(full.map((v, i) => v * (mask[i] ?? 0)));
    for (const [N, H, W] of [
      [3, 8, 8],
      [5, 5, 7],
      [3, 8, 8],
    ] as const) {
      const c: Case = { name: `${H}×${W}`, shape: [N, H, W, 3], g, density: 0.4 };
      const x = draw(N * H * W * 3, `rebind x ${H}`);
      const Ho = sparseConvOutSize(H, g);
      const Wo = sparseConvOutSize(W, g);
      const dy = draw(N * Ho * Wo * 4, `rebind dy ${H}`);
      // Grow the module's memory between calls (a large buffer allocated and freed).
      const big = sparseKernels().kernels.allocate(4_000_000);
      const ref = reference(x, wMasked, dy, c);
      close(wasm.forward(ix, values, x, { N, H, W }), ref.y, `${c.name} forward`);
      const bp = wasm.backprop(ix, values, x, dy, { N, H, W }, true);
      big.free();
      close(bp.dInput ?? [], ref.dx, `${c.name} input gradient`);
      close(bp.grad, activeValues(ref.dw, mask), `${c.name} filter gradient`);
    }
  });
});
