/**
 * The wasm convolution kernels (src/engine/nn/fastconv.ts, assembly/fastconv.ts) against a direct
 * convolution in float64 written out here: the forward pass, the input gradient and the filter
 * gradient of
 *  - the Winograd F(2×2, 3×3) convolution (3×3, stride 1, pad 1), on even and odd maps, one tile and
 *    hundreds (the filter gradient's tile chunks), channel counts that are and are not multiples of
 *    8, batch sizes whose tile count is not a multiple of 4;
 *  - the im2col products (any k, stride, padding): 3×3 stride 2 (pad 1 and 0, even and odd maps),
 *    1×1 stride 1 and 2, output channels not a multiple of 8 or 4. The tolerance is relative to the largest value of each result
 * (float32 sums of up to a few thousand terms). winograd-wasm.test.ts runs the same on the wasm backend.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../../src/shared/rng';
import { gemmFilterGrad, gemmForward, gemmInputGrad, gemmShapeFits, winogradFilterGrad, winogradForward, winogradInputGrad, winogradShapeFits, winogradStatus } from '../../src/engine/nn/fastconv';
import { testBackend } from './helpers';

/** Direct convolution in float64 (k × k, stride s, symmetric padding p): y, dx (from dy) and dw (from x and dy). */
function direct(x: Float32Array, w: Float32Array, dy: Float32Array, n: number, h: number, wd: number, cIn: number, cOut: number, k = 3, s = 1, p = 1): { y: Float64Array; dx: Float64Array; dw: Float64Array } {
  const ho = Math.floor((h + 2 * p - k) / s) + 1;
  const wo = Math.floor((wd + 2 * p - k) / s) + 1;
  const y = new Float64Array(n * ho * wo * cOut);
  const dx = new Float64Array(n * h * wd * cIn);
  const dw = new Float64Array(k * k * cIn * cOut);
  for (let b = 0; b < n; b++)
    for (let r = 0; r < ho; r++)
      for (let c = 0; c < wo; c++)
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const ir = r * s + ky - p;
            const ic = c * s + kx - p;
            if (ir < 0 || ir >= h || ic < 0 || ic >= wd) continue;
            const xo = ((b * h + ir) * wd + ic) * cIn;
            const yo = ((b * ho + r) * wo + c) * cOut;
            const wo0 = (ky * k + kx) * cIn * cOut;
            for (let i = 0; i < cIn; i++)
              for (let o = 0; o < cOut; o++) {
                const wv = w[wo0 + i * cOut + o]!;
                y[yo + o] = y[yo + o]! + x[xo + i]! * wv;
                dx[xo + i] = dx[xo + i]! + dy[yo + o]! * wv;
                dw[wo0 + i * cOut + o] = dw[wo0 + i * cOut + o]! + x[xo + i]! * dy[yo + o]!;
              }
          }
  return { y, dx, dw };
}

function assertNear(got: Float32Array, want: Float64Array, what: string, rel: number): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (e > worst) {
      worst = e;
      at = i;
    }
  }
  assert.ok(worst <= rel * scale, `${what}: largest error ${worst.toExponential(2)} at ${at} (${got[at]} vs ${want[at]}), ${(worst / scale).toExponential(2)} of the largest value ${scale.toExponential(2)}`);
}

const cases: [string, number, number, number, number, number][] = [
  // name, n, h, w, cIn, cOut
  ['one tile, 4 → 8', 1, 2, 2, 4, 8],
  ['1×1 maps, 8 → 8', 4, 1, 1, 8, 8],
  ['3×3 maps, 8 → 8', 4, 3, 3, 8, 8],
  ['odd map 5×7, 8 → 12', 2, 5, 7, 8, 12],
  ['3 images of 6×6 (27 tiles), 12 → 4', 3, 6, 6, 12, 4],
  ['24×24, 2 images (288 tiles: two chunks), 16 → 16', 2, 24, 24, 16, 16],
  ['odd 9×9, 32 → 20', 1, 9, 9, 32, 20],
  ['8×8, 64 → 64', 2, 8, 8, 64, 64],
];

before(async () => {
  await testBackend();
});

describe(`wasm convolution kernels against float64 (${process.env.GRADFLOW_TEST_BACKEND ?? 'cpu'} backend)`, () => {
  it('its WebAssembly module is built and loads', () => {
    assert.deepEqual(winogradStatus(), { available: true });
  });

  it('takes only 3×3, stride 1, pad 1 with channel counts divisible by 4', () => {
    assert.equal(winogradShapeFits(3, 1, 1, 16, 32), true);
    assert.equal(winogradShapeFits(3, 2, 1, 16, 32), false);
    assert.equal(winogradShapeFits(3, 1, 0, 16, 32), false);
    assert.equal(winogradShapeFits(1, 1, 0, 16, 32), false);
    assert.equal(winogradShapeFits(3, 1, 1, 3, 32), false);
    assert.equal(winogradShapeFits(3, 1, 1, 16, 30), false);
  });

  for (const [name, n, h, wd, cIn, cOut] of cases) {
    it(name, () => {
      const rng = createRng(h * 100 + cIn);
      const draw = (len: number, s: number): Float32Array => Float32Array.from({ length: len }, () => s * rng.normal());
      const x = draw(n * h * wd * cIn, 1);
      const w = draw(9 * cIn * cOut, Math.sqrt(2 / (9 * cIn)));
      const dy = draw(n * h * wd * cOut, 1);
      const want = direct(x, w, dy, n, h, wd, cIn, cOut);
      const got = tf.tidy(() => {
        const xt = tf.tensor4d(x, [n, h, wd, cIn]);
        const wt = tf.tensor4d(w, [3, 3, cIn, cOut]);
        const dyt = tf.tensor4d(dy, [n, h, wd, cOut]);
        const y = winogradForward(xt, wt);
        const dx = winogradInputGrad(dyt, wt);
        const dw = winogradFilterGrad(xt, dyt);
        assert.deepEqual([y.shape, dx.shape, dw.shape], [[n, h, wd, cOut], [n, h, wd, cIn], [3, 3, cIn, cOut]]);
        return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
      });
      assertNear(got.y, want.y, `${name}: y`, 2e-6);
      assertNear(got.dx, want.dx, `${name}: dx`, 2e-6);
      assertNear(got.dw, want.dw, `${name}: dw`, 2e-6);
    });
  }

  const gemmCases: [string, number, number, number, number, number, number, number, number][] = [
    // name, n, h, w, cIn, cOut, k, stride, pad
    ['im2col 3×3 s2 p1, even 8×8, 16 → 32', 2, 8, 8, 16, 32, 3, 2, 1],
    ['im2col 3×3 s2 p1, odd 7×9, 8 → 12', 2, 7, 9, 8, 12, 3, 2, 1],
    ['im2col 3×3 s2 p0, 4 → 6', 3, 7, 7, 4, 6, 3, 2, 0],
    ['im2col 3×3 s1 p1, 4 → 5', 1, 5, 6, 4, 5, 3, 1, 1],
    ['im2col 1×1 s1, 16 → 64', 2, 6, 6, 16, 64, 1, 1, 0],
    ['im2col 1×1 s2, odd 7×7, 12 → 20', 2, 7, 7, 12, 20, 1, 2, 0],
    ['im2col 1×1 s2, 64 → 128', 2, 8, 8, 64, 128, 1, 2, 0],
  ];
  it('the im2col products take input channels divisible by 4, any kernel', () => {
    assert.deepEqual([gemmShapeFits(16, 3), gemmShapeFits(3, 16), gemmShapeFits(6, 8)], [true, false, false]);
  });
  for (const [name, n, h, wd, cIn, cOut, k, s, p] of gemmCases) {
    it(name, () => {
      const rng = createRng(h * 100 + cIn + k);
      const draw = (len: number, sd: number): Float32Array => Float32Array.from({ length: len }, () => sd * rng.normal());
      const ho = Math.floor((h + 2 * p - k) / s) + 1;
      const wo = Math.floor((wd + 2 * p - k) / s) + 1;
      const x = draw(n * h * wd * cIn, 1);
      const w = draw(k * k * cIn * cOut, Math.sqrt(2 / (k * k * cIn)));
      const dy = draw(n * ho * wo * cOut, 1);
      const want = direct(x, w, dy, n, h, wd, cIn, cOut, k, s, p);
      const g = { k, stride: s, pad: p };
      const got = tf.tidy(() => {
        const xt = tf.tensor4d(x, [n, h, wd, cIn]);
        const wt = tf.tensor4d(w, [k, k, cIn, cOut]);
        const dyt = tf.tensor4d(dy, [n, ho, wo, cOut]);
        const y = gemmForward(xt, wt, g);
        const dx = gemmInputGrad(dyt, wt, [n, h, wd, cIn], g);
        const dw = gemmFilterGrad(xt, dyt, g);
        assert.deepEqual([y.shape, dx.shape, dw.shape], [[n, ho, wo, cOut], [n, h, wd, cIn], [k, k, cIn, cOut]]);
        return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
      });
      assertNear(got.y, want.y, `${name}: y`, 2e-6);
      assertNear(got.dx, want.dx, `${name}: dx`, 2e-6);
      assertNear(got.dw, want.dw, `${name}: dw`, 2e-6);
    });
  }

  it('a second call of another shape reuses the module memory without stale values', () => {
    // After the largest case above, a small one: its padding must be zero again, not the old map.
    const n = 1, h = 3, wd = 3, cIn = 4, cOut = 4;
    const x = new Float32Array(n * h * wd * cIn).fill(1);
    const w = new Float32Array(9 * cIn * cOut).fill(1);
    const y = tf.tidy(() => winogradForward(tf.tensor4d(x, [n, h, wd, cIn]), tf.tensor4d(w, [3, 3, cIn, cOut])).dataSync());
    // Corner pixel: 4 taps in the map × 4 channels; centre: 9 × 4.
    assert.equal(y[0], 16);
    assert.equal(y[(1 * wd + 1) * cOut], 36);
  });

  it('without its module the TF.js paths run and the run log says why (GRADFLOW_CONV_KERNELS=off)', () => {
    // A fresh process: the module is loaded once per process.
    const script = `
      const tf = require('@tensorflow/tfjs-core');
      require('@tensorflow/tfjs-backend-cpu');
      const conv = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'engine', 'nn', 'conv.js'))});
      tf.setBackend('cpu').then(() => {
        const g = { k: 3, stride: 1, pad: 1 };
        const note = conv.convKernelNote([{ ...g, cin: 16, cout: 16 }], 'wasm');
        const x = tf.ones([1, 4, 4, 4]), w = tf.ones([3, 3, 4, 4]);
        let refused = '';
        try { conv.conv2dForward(x, w, g, 'winograd'); } catch (e) { refused = e.message; }
        console.log(JSON.stringify({ note, path: conv.forwardPath(g, 16, 16, 'wasm'), y: conv.conv2dForward(x, w, g).dataSync()[20], refused }));
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, GRADFLOW_CONV_KERNELS: 'off' }, encoding: 'utf8', cwd: path.join(__dirname, '..', '..', '..') });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { note: { level: string; text: string }; path: string; y: number; refused: string };
    assert.deepEqual(out.note, { level: 'warn', text: "conv kernels: the backend's (the engine's Winograd and im2col kernels are unavailable: GRADFLOW_CONV_KERNELS=off)" });
    assert.equal(out.path, 'backend');
    assert.equal(out.y, 36, 'pixel (1, 1), interior: 9 taps × 4 channels of ones');
    assert.match(out.refused, /the engine's conv kernels are unavailable: GRADFLOW_CONV_KERNELS=off/);
  });

  it('refuses shapes it cannot take, naming them', () => {
    tf.tidy(() => {
      assert.throws(() => winogradForward(tf.zeros([1, 4, 4, 3]) as tf.Tensor4D, tf.zeros([3, 3, 3, 8]) as tf.Tensor4D), /multiples of 4/);
      assert.throws(() => winogradForward(tf.zeros([1, 4, 4, 4]) as tf.Tensor4D, tf.zeros([1, 1, 4, 8]) as tf.Tensor4D), /kernel 1×1, not 3×3/);
      assert.throws(() => winogradFilterGrad(tf.zeros([1, 4, 4, 4]) as tf.Tensor4D, tf.zeros([1, 2, 2, 8]) as tf.Tensor4D), /does not match/);
      const g = { k: 3, stride: 2, pad: 1 };
      assert.throws(() => gemmForward(tf.zeros([1, 4, 4, 3]) as tf.Tensor4D, tf.zeros([3, 3, 3, 8]) as tf.Tensor4D, g), /3 input channels, not a multiple of 4/);
      assert.throws(() => gemmFilterGrad(tf.zeros([1, 4, 4, 4]) as tf.Tensor4D, tf.zeros([1, 4, 4, 8]) as tf.Tensor4D, g), /is not the output of/);
    });
  });
});
