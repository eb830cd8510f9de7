/**
 * Every gradient path of one conv layer (src/engine/nn/conv.ts) against an independent PyTorch
 * float64 computation (scripts/reference/conv_layer_grads.py → test/fixtures/conv/
 * conv_layer_grads.json): the forward pass; the input gradient as the transposed convolution, the
 * rotated-kernel forward convolution (stride 1) and the phase convolution (any stride), and through
 * conv2dInputGrad on each mode; the filter gradient as im2col, as one convolution with batch and
 * channels swapped, as the backend's kernel where it has one, and through conv2dFilterGrad on each
 * mode. Cases: k = 3 and 1, stride 1 and 2, padding 1 and 0, even and odd maps, 2–32 channels.
 * conv-paths-wasm.test.ts runs the same on the wasm backend.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import {
  conv2dFilterGrad,
  conv2dForward,
  conv2dInputGrad,
  convFilterGrad,
  convOutSize,
  fastPath,
  filterGradPath,
  forwardPath,
  hasNativeFilterGrad,
  im2colFilterGrad,
  inputGradPath,
  phaseInputGrad,
  rotatedInputGrad,
  type ConvGeometry,
} from '../../src/engine/nn/conv';
import { gemmShapeFits, winogradShapeFits } from '../../src/engine/nn/fastconv';
import { convFixturePath, f32 } from './conv-fixtures';
import { assertClose, testBackend } from './helpers';

interface RefCase {
  name: string;
  shape: [number, number, number, number];
  cOut: number;
  g: ConvGeometry;
  outShape: [number, number, number, number];
  x: string;
  w: string;
  dy: string;
  y: string;
  dx: string;
  dw: string;
}


const ref = JSON.parse(fs.readFileSync(convFixturePath('conv_layer_grads.json'), 'utf8')) as { cases: RefCase[] };

before(async () => {
  await testBackend();
});

describe(`conv layer gradient paths against PyTorch float64 (${process.env.GRADFLOW_TEST_BACKEND ?? 'cpu'} backend)`, () => {
  it('the fixture covers the Winograd and im2col kernels', () => {
    assert.ok(ref.cases.filter((c) => winogradShapeFits(c.g.k, c.g.stride, c.g.pad, c.shape[3], c.cOut)).length >= 2);
    assert.ok(ref.cases.filter((c) => c.g.stride === 2 && gemmShapeFits(c.shape[3], c.cOut)).length >= 3);
    assert.ok(ref.cases.some((c) => c.g.k === 1 && gemmShapeFits(c.shape[3], c.cOut)));
  });

  it('the fixture covers k 3 and 1, stride 1 and 2, padding 1 and 0', () => {
    const has = (k: number, s: number, p: number): boolean => ref.cases.some((c) => c.g.k === k && c.g.stride === s && c.g.pad === p);
    for (const k of [3, 1]) for (const s of [1, 2]) assert.ok(has(k, s, 0), `k ${k} stride ${s} pad 0`);
    for (const s of [1, 2]) assert.ok(has(3, s, 1), `k 3 stride ${s} pad 1`);
    assert.ok(ref.cases.length >= 12);
  });

  for (const c of ref.cases) {
    it(c.name, () => {
      const [N, H, W, C] = c.shape;
      const { k } = c.g;
      assert.deepEqual(c.outShape, [N, convOutSize(H, c.g), convOutSize(W, c.g), c.cOut]);
      const got = tf.tidy(() => {
        const x = tf.tensor4d(f32(c.x), c.shape);
        const w = tf.tensor4d(f32(c.w), [k, k, C, c.cOut]);
        const dy = tf.tensor4d(f32(c.dy), c.outShape);
        const r: Record<string, Float32Array> = {
          y: conv2dForward(x, w, c.g).dataSync() as Float32Array,
          'dx transpose': tf.conv2dTranspose(dy, w, c.shape, c.g.stride, c.g.pad).dataSync() as Float32Array,
          'dx phase': phaseInputGrad(dy, w, c.shape, c.g).dataSync() as Float32Array,
          'dx mode auto': conv2dInputGrad(dy, w, c.shape, c.g).dataSync() as Float32Array,
          'dx mode forward': conv2dInputGrad(dy, w, c.shape, c.g, 'forward').dataSync() as Float32Array,
          'dx mode rotated': conv2dInputGrad(dy, w, c.shape, c.g, 'rotated').dataSync() as Float32Array,
          'dx mode transpose': conv2dInputGrad(dy, w, c.shape, c.g, 'transpose').dataSync() as Float32Array,
          'dw im2col': im2colFilterGrad(x, dy, c.g).dataSync() as Float32Array,
          'dw conv': convFilterGrad(x, dy, c.g).dataSync() as Float32Array,
          'dw mode auto': conv2dFilterGrad(x, dy, c.g, c.cOut).dataSync() as Float32Array,
          'dw mode im2col': conv2dFilterGrad(x, dy, c.g, c.cOut, 'im2col').dataSync() as Float32Array,
          'dw mode conv': conv2dFilterGrad(x, dy, c.g, c.cOut, 'conv').dataSync() as Float32Array,
          'y backend': conv2dForward(x, w, c.g, 'backend').dataSync() as Float32Array,
        };
        if (c.g.stride === 1 && c.g.pad <= k - 1) r['dx rotated'] = rotatedInputGrad(dy, w, c.g).dataSync() as Float32Array;
        // The engine's own kernels (nn/fastconv.ts), on every backend, wherever the shape fits.
        const fits = { winograd: winogradShapeFits(k, c.g.stride, c.g.pad, C, c.cOut), gemm: gemmShapeFits(C, c.cOut) };
        for (const m of ['winograd', 'gemm'] as const) {
          if (!fits[m]) continue;
          r[`y ${m}`] = conv2dForward(x, w, c.g, m).dataSync() as Float32Array;
          r[`dx ${m}`] = conv2dInputGrad(dy, w, c.shape, c.g, m).dataSync() as Float32Array;
          r[`dw ${m}`] = conv2dFilterGrad(x, dy, c.g, c.cOut, m).dataSync() as Float32Array;
        }
        if (hasNativeFilterGrad()) r['dw mode native'] = conv2dFilterGrad(x, dy, c.g, c.cOut, 'native').dataSync() as Float32Array;
        else assert.throws(() => conv2dFilterGrad(x, dy, c.g, c.cOut, 'native'), /has no Conv2DBackpropFilter kernel/);
        return r;
      });
      const want = { y: f32(c.y), dx: f32(c.dx), dw: f32(c.dw) };
      for (const [what, v] of Object.entries(got)) {
        const expected = what.startsWith('y') ? want.y : what.startsWith('dx') ? want.dx : want.dw;
        assertClose(v, expected, `${c.name}: ${what}`, 1e-5, 1e-5);
      }
    });
  }

  it("'auto' picks the measured path per backend and shape", () => {
    const g = (k: number, stride: number): ConvGeometry => ({ k, stride, pad: k === 3 ? 1 : 0 });
    assert.deepEqual(
      [filterGradPath(g(3, 1), 'wasm'), filterGradPath(g(3, 2), 'wasm'), filterGradPath(g(1, 1), 'wasm'), filterGradPath(g(1, 2), 'wasm')],
      ['conv', 'conv', 'im2col', 'conv'],
    );
    assert.deepEqual(
      [filterGradPath(g(3, 1), 'cpu'), filterGradPath(g(3, 2), 'cpu'), filterGradPath(g(1, 1), 'cpu'), filterGradPath(g(1, 2), 'cpu')],
      ['conv', 'conv', 'im2col', 'im2col'],
    );
    assert.deepEqual([inputGradPath(g(3, 1), 'wasm'), inputGradPath(g(3, 2), 'wasm'), inputGradPath(g(1, 2), 'wasm')], ['rotated', 'phase', 'phase']);
    assert.deepEqual([inputGradPath(g(3, 1), 'cpu'), inputGradPath(g(3, 2), 'cpu'), inputGradPath(g(1, 2), 'tensorflow')], ['rotated', 'transpose', 'transpose']);
    // With the channel counts, on wasm: Winograd on every pass where it fits; the im2col products on
    // the other layers' filter gradients and their input gradients except at 1×1 stride 1.
    const passes = (k: number, s: number, cIn: number, cOut: number): (string | undefined)[] => (['forward', 'input', 'filter'] as const).map((p) => fastPath(g(k, s), cIn, cOut, 'wasm', p));
    assert.deepEqual(passes(3, 1, 16, 32), ['winograd', 'winograd', 'winograd']);
    assert.deepEqual(passes(3, 2, 16, 32), [undefined, 'gemm', 'gemm']);
    assert.deepEqual(passes(1, 1, 16, 64), [undefined, undefined, 'gemm']);
    assert.deepEqual(passes(1, 2, 64, 128), [undefined, 'gemm', 'gemm']);
    assert.deepEqual(passes(3, 1, 16, 30), [undefined, 'gemm', 'gemm']);
    assert.deepEqual(passes(3, 1, 3, 16), [undefined, undefined, undefined]);
    assert.equal(fastPath(g(3, 1), 16, 32, 'cpu'), undefined);
    assert.deepEqual([forwardPath(g(3, 1), 16, 32, 'wasm'), forwardPath(g(3, 2), 16, 32, 'wasm'), filterGradPath(g(3, 2), 'wasm', 16, 32), inputGradPath(g(1, 2), 'wasm', 64, 128), inputGradPath(g(1, 1), 'wasm', 16, 64)], ['winograd', 'backend', 'gemm', 'gemm', 'rotated']);
    assert.deepEqual([forwardPath(g(3, 1), 3, 16, 'wasm'), filterGradPath(g(3, 1), 'wasm', 3, 16), inputGradPath(g(3, 2), 'wasm', 3, 16)], ['backend', 'conv', 'phase']);
    assert.deepEqual([forwardPath(g(3, 1), 16, 32, 'cpu'), filterGradPath(g(3, 1), 'cpu', 16, 32), inputGradPath(g(3, 1), 'cpu', 16, 32)], ['backend', 'conv', 'rotated']);
  });
});
