/**
 * The conv layer's passes (src/engine/nn/conv.ts) against float64 sums written out by hand here:
 * forward, the input gradient ('auto', the transposed convolution, forward convolutions only) and the
 * filter gradient ('auto', im2col, one convolution with batch and channels swapped).
 * conv-ops-wasm.test.ts runs the same cases on the wasm backend, which has no Conv2DBackpropFilter
 * kernel; conv-paths.test.ts checks every path against PyTorch.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../../src/shared/rng';
import { conv2dFilterGrad, conv2dForward, conv2dInputGrad, convOutSize, filterGradPath, hasNativeFilterGrad, inputGradPath, type ConvGeometry } from '../../src/engine/nn/conv';
import { globalAvgPoolBackward, maxPool2x2, maxPool2x2Backward } from '../../src/engine/nn/pool';
import { typescriptConvKernels } from '../../src/engine/nn/sparse-conv';
import { sparseKernels } from '../../src/engine/sparse';
import { assertClose, testBackend } from './helpers';

/** Padded input value x[n, i, j, c] (0 outside), NHWC flat. */
function padded(x: Float64Array, s: readonly [number, number, number, number], n: number, i: number, j: number, c: number): number {
  const [, h, w, ch] = s;
  if (i < 0 || j < 0 || i >= h || j >= w) return 0;
  return x[((n * h + i) * w + j) * ch + c]!;
}

interface Case {
  name: string;
  shape: [number, number, number, number];
  cOut: number;
  g: ConvGeometry;
}

const cases: Case[] = [
  { name: '3×3 stride 1 pad 1', shape: [2, 5, 4, 3], cOut: 4, g: { k: 3, stride: 1, pad: 1 } },
  { name: '3×3 stride 2 pad 1, even map', shape: [2, 6, 6, 2], cOut: 3, g: { k: 3, stride: 2, pad: 1 } },
  { name: '3×3 stride 2 pad 1, odd map', shape: [1, 7, 5, 3], cOut: 2, g: { k: 3, stride: 2, pad: 1 } },
  { name: '1×1 stride 2 projection', shape: [2, 6, 5, 3], cOut: 5, g: { k: 1, stride: 2, pad: 0 } },
  { name: '1×1 stride 1', shape: [3, 3, 3, 4], cOut: 2, g: { k: 1, stride: 1, pad: 0 } },
];

/** Forward, dL/dx and dL/dw in float64 by the definition y[n,o,p,co] = Σ x[n, o·s − pad + ky, p·s − pad + kx, ci]·w[ky,kx,ci,co]. */
function reference(x: Float64Array, w: Float64Array, dy: Float64Array, c: Case): { y: Float64Array; dx: Float64Array; dw: Float64Array } {
  const [N, H, W, C] = c.shape;
  const { k, stride: s, pad } = c.g;
  const Ho = convOutSize(H, c.g);
  const Wo = convOutSize(W, c.g);
  const CO = c.cOut;
  const y = new Float64Array(N * Ho * Wo * CO);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < Ho; o++)
      for (let p = 0; p < Wo; p++)
        for (let co = 0; co < CO; co++) {
          const yi = ((n * Ho + o) * Wo + p) * CO + co;
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++)
              for (let ci = 0; ci < C; ci++) {
                const i = o * s - pad + ky;
                const j = p * s - pad + kx;
                const wi = ((ky * k + kx) * C + ci) * CO + co;
                y[yi]! += padded(x, c.shape, n, i, j, ci) * w[wi]!;
                dw[wi]! += padded(x, c.shape, n, i, j, ci) * dy[yi]!;
                if (i >= 0 && j >= 0 && i < H && j < W) dx[((n * H + i) * W + j) * C + ci]! += w[wi]! * dy[yi]!;
              }
        }
  return { y, dx, dw };
}

function draw(n: number, seed: string): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

before(async () => {
  await testBackend();
});

describe(`conv2d passes against float64 by hand (${process.env.GRADFLOW_TEST_BACKEND ?? 'cpu'} backend)`, () => {
  for (const c of cases) {
    it(c.name, () => {
      const [N, H, W, C] = c.shape;
      const { k } = c.g;
      const Ho = convOutSize(H, c.g);
      const Wo = convOutSize(W, c.g);
      const x = draw(N * H * W * C, `x ${c.name}`);
      const w = draw(k * k * C * c.cOut, `w ${c.name}`);
      const dy = draw(N * Ho * Wo * c.cOut, `dy ${c.name}`);
      const ref = reference(Float64Array.from(x), Float64Array.from(w), Float64Array.from(dy), c);
      const got = tf.tidy(() => {
        const xt = tf.tensor4d(x, c.shape);
        const wt = tf.tensor4d(w, [k, k, C, c.cOut]);
        const dyt = tf.tensor4d(dy, [N, Ho, Wo, c.cOut]);
        const y = conv2dForward(xt, wt, c.g);
        assert.deepEqual(y.shape, [N, Ho, Wo, c.cOut]);
        return {
          y: y.dataSync(),
          dx: conv2dInputGrad(dyt, wt, c.shape, c.g).dataSync(),
          dwAuto: conv2dFilterGrad(xt, dyt, c.g, c.cOut, 'auto').dataSync(),
          dxTranspose: conv2dInputGrad(dyt, wt, c.shape, c.g, 'transpose').dataSync(),
          dxForward: conv2dInputGrad(dyt, wt, c.shape, c.g, 'forward').dataSync(),
          dwIm2col: conv2dFilterGrad(xt, dyt, c.g, c.cOut, 'im2col').dataSync(),
          dwConv: conv2dFilterGrad(xt, dyt, c.g, c.cOut, 'conv').dataSync(),
        };
      });
      assertClose(got.y, ref.y, `${c.name} forward`, 1e-5, 1e-5);
      assertClose(got.dx, ref.dx, `${c.name} input gradient (auto: ${inputGradPath(c.g)})`, 1e-5, 1e-5);
      assertClose(got.dxTranspose, ref.dx, `${c.name} input gradient (transposed convolution)`, 1e-5, 1e-5);
      assertClose(got.dxForward, ref.dx, `${c.name} input gradient (forward convolutions)`, 1e-5, 1e-5);
      assertClose(got.dwIm2col, ref.dw, `${c.name} filter gradient (im2col)`, 1e-5, 1e-5);
      assertClose(got.dwConv, ref.dw, `${c.name} filter gradient (one convolution)`, 1e-5, 1e-5);
      assertClose(got.dwAuto, ref.dw, `${c.name} filter gradient (auto: ${filterGradPath(c.g)})`, 1e-5, 1e-5);
    });
  }

  it('uses the backend kernel exactly where it exists', () => {
    const backend = tf.getBackend();
    assert.equal(hasNativeFilterGrad(), backend !== 'wasm', `backend ${backend}`);
  });

  it('2×2 max-pool backward: first maximum per window, negatives, ties, odd maps (by hand)', () => {
    // One image 5×5, two channels: channel 0 all negative, channel 1 with ties; the last row and
    // column are dropped by the floor rule and get no gradient.
    const [h, w, c] = [5, 5, 2];
    const x = new Float32Array(h * w * c);
    const rng = createRng('pool');
    for (let i = 0; i < x.length; i++) x[i] = i % 2 === 0 ? -1 - rng.int(4) : rng.int(3);
    const dy = Float32Array.from({ length: 2 * 2 * c }, (_v, i) => i + 1);
    const expected = new Float64Array(x.length);
    const y = new Float64Array(dy.length);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++)
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let first = -1;
          for (const [a, b] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
            const idx = ((2 * i + a) * w + (2 * j + b)) * c + ch;
            if (x[idx]! > best) {
              best = x[idx]!;
              first = idx;
            }
          }
          const o = (i * 2 + j) * c + ch;
          y[o] = best;
          expected[first]! += dy[o]!;
        }
    const got = tf.tidy(() => {
      const xt = tf.tensor4d(x, [1, h, w, c]);
      const yt = maxPool2x2(xt);
      return { y: yt.dataSync(), dx: maxPool2x2Backward(xt, yt, tf.tensor4d(dy, [1, 2, 2, c])).dataSync() };
    });
    assertClose(got.y, y, 'max-pool forward', 0, 0);
    assertClose(got.dx, expected, 'max-pool backward', 0, 0);
  });

  it('2×2 max-pool backward kernels (wasm SIMD and TypeScript): vectors and tails, ties, odd maps, a NaN window (by hand)', () => {
    // Batch 3, 7×6 (odd rows: the last is dropped), 6 channels (one vector of four and a tail of two);
    // values from a small set, so ties are frequent; one window of y is NaN and passes nothing.
    const [n, h, w, c] = [3, 7, 6, 6];
    const [ho, wo] = [3, 3];
    const rng = createRng('pool kernels');
    const x = Float32Array.from({ length: n * h * w * c }, () => rng.int(4) - 2);
    const y = new Float32Array(n * ho * wo * c);
    const dy = Float32Array.from({ length: y.length }, (_v, i) => 1 + i / 8);
    const expected = new Float64Array(x.length);
    const nanAt = ((1 * ho + 2) * wo + 1) * c + 4;
    for (let b = 0; b < n; b++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++)
          for (let ch = 0; ch < c; ch++) {
            const o = ((b * ho + i) * wo + j) * c + ch;
            const idx = [0, 1, 2, 3].map((q) => ((b * h + 2 * i + (q >> 1)) * w + 2 * j + (q & 1)) * c + ch);
            const vals = idx.map((k) => x[k]!);
            const best = Math.max(...vals);
            if (o === nanAt) {
              y[o] = NaN;
              continue;
            }
            y[o] = best;
            expected[idx[vals.indexOf(best)]!]! += dy[o]!;
          }
    const s = { N: n, H: h, W: w, C: c };
    for (const [impl, k] of [
      [sparseKernels().kernels.impl, sparseKernels().kernels.conv],
      ['typescript', typescriptConvKernels],
    ] as const) {
      // The dropped last row is zero even when the kernel's memory held other values before.
      k.maxPoolBackward(Float32Array.from(x, () => 5), Float32Array.from(y, () => 5), Float32Array.from(dy, () => 9), s);
      assertClose(Float32Array.from(k.maxPoolBackward(x, y, dy, s)), expected, `max-pool backward (${impl})`, 0, 0);
    }
    assert.throws(() => typescriptConvKernels.maxPoolBackward(x, y.subarray(1), dy, s), /max-pool backward: x of 756, y of 161/);
  });

  it('BatchNorm column sums (wasm SIMD and TypeScript) equal float64 sums by hand, bit for bit', () => {
    const rng = createRng('bn columns');
    for (const [rows, units] of [
      [37, 6],
      [200, 32],
      [5, 3],
    ] as const) {
      const x = Float32Array.from({ length: rows * units }, () => rng.normal() * 3 + 1);
      const dy = Float32Array.from({ length: rows * units }, () => rng.normal());
      const mean = new Float64Array(units);
      const variance = new Float64Array(units);
      const sumDy = new Float64Array(units);
      const sumDyXc = new Float64Array(units);
      for (let u = 0; u < units; u++) {
        let a = 0;
        for (let r = 0; r < rows; r++) a += x[r * units + u]!;
        mean[u] = a / rows;
        let b = 0;
        let c = 0;
        let e = 0;
        for (let r = 0; r < rows; r++) {
          const d = x[r * units + u]! - mean[u]!;
          b += d * d;
          c += dy[r * units + u]!;
          e += dy[r * units + u]! * d;
        }
        variance[u] = b / rows;
        sumDy[u] = c;
        sumDyXc[u] = e;
      }
      for (const [impl, k] of [
        [sparseKernels().kernels.impl, sparseKernels().kernels.conv],
        ['typescript', typescriptConvKernels],
      ] as const) {
        const m = k.columnMoments(x, rows, units);
        assert.deepEqual(m.mean, mean, `${impl} mean ${rows}×${units}`);
        assert.deepEqual(m.variance, variance, `${impl} variance ${rows}×${units}`);
        const g = k.columnGradSums(dy, x, mean, rows, units);
        assert.deepEqual(g.sumDy, sumDy, `${impl} Σdy ${rows}×${units}`);
        assert.deepEqual(g.sumDyXc, sumDyXc, `${impl} Σdy·(x − mean) ${rows}×${units}`);
      }
    }
    assert.throws(() => typescriptConvKernels.columnMoments(new Float32Array(10), 3, 4), /column sums: an operand of 10 entries for 3 rows of 4 units/);
  });

  it('global average pool backward spreads dy/(h·w)', () => {
    const got = tf.tidy(() => globalAvgPoolBackward([2, 2, 3, 1], tf.tensor2d([6, 12], [2, 1])).dataSync());
    assertClose(got, [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2], 'gap backward', 0, 0);
  });
});
