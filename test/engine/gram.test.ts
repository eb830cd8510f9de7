/**
 * Raw L2 norm of the sparse path without the dense product (Gram identity, step.ts) against a
 * PyTorch float64 reference of the full gradient: scripts/reference/gram_l2.py →
 * test/fixtures/engine/gram_l2.json. Also the coupled-L2 terms over the active entries and the raw
 * L1 from the dense product, through the same functions the training step uses; the kernels' own
 * Gram (wasm SIMD and TypeScript, symmetric halves) against the same reference.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { SparseKernel, sparseKernels, typescriptKernels } from '../../src/engine/sparse';
import { gramSquaredNorm, sparseNormTensor, sparseRaw } from '../../src/engine/step';
import { assertClose, fixturePath, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

interface GramCase {
  name: string;
  B: number;
  n_in: number;
  n_out: number;
  lam: number;
  x: number[];
  d: number[];
  w: number[];
  mask: number[];
  g_sq: number;
  raw_sq: number;
  raw_l1: number;
}
const ref = JSON.parse(fs.readFileSync(fixturePath('gram_l2.json'), 'utf8')) as { cases: GramCase[] };

before(async () => {
  await testBackend();
});

describe('raw L2 by the Gram identity vs PyTorch', () => {
  for (const c of ref.cases) {
    it(c.name, () => {
      const { B, n_in: fanIn, n_out: fanOut } = c;
      // Unit-major layer input [in, B] and output gradient [out, B], as the model holds them.
      const inputT = tf.tidy(() => tf.transpose(tf.tensor2d(c.x, [B, fanIn])) as tf.Tensor2D);
      const dzT = tf.tidy(() => tf.transpose(tf.tensor2d(c.d, [B, fanOut])) as tf.Tensor2D);
      const sk = new SparseKernel(fanIn, fanOut, Float32Array.from(c.w), Float32Array.from(c.mask), sparseKernels().kernels);
      try {
        const g = gramSquaredNorm(dzT, inputT);
        assertClose(g.dataSync(), [c.g_sq], `${c.name}: ||X^T D||^2`, 1e-5, 0);
        g.dispose();
        const active = sk.gradient(dzT.dataSync() as Float32Array, inputT.dataSync() as Float32Array, B);
        const s = sparseRaw({ kind: 'sparse', layer: 0, active, dzT, inputT }, active, sk.values, c.lam);
        const viaGram = sparseNormTensor(s, { l1: false, l2: true });
        const viaDense = sparseNormTensor(s, { l1: true, l2: true });
        const [, gram2] = viaGram.dataSync();
        assert.ok(gram2 !== undefined);
        const [l1, dense2] = viaDense.dataSync();
        assert.ok(l1 !== undefined && dense2 !== undefined);
        assertClose([gram2, dense2, l1], [c.raw_sq, c.raw_sq, c.raw_l1], `${c.name}: raw ||G + lam W||^2 (Gram, dense) and raw L1`, 1e-5, 0);
        tf.dispose([viaGram, viaDense]);
        // The kernels' Gram (symmetric halves, batch padded to 16 in wasm), directly and as the step uses it.
        const xs = inputT.dataSync() as Float32Array;
        const ds = dzT.dataSync() as Float32Array;
        for (const k of [sparseKernels().kernels, typescriptKernels]) {
          assertClose([k.gramSquaredNorm(xs, fanIn, ds, fanOut, B)], [c.g_sq], `${c.name}: ${k.impl} Gram ||X^T D||^2`, 1e-5, 0);
          const sk2 = sparseRaw({ kind: 'sparse', layer: 0, active, dzT, inputT, kernels: k }, active, sk.values, c.lam);
          const t = sparseNormTensor(sk2, { l1: false, l2: true });
          assertClose([at(t.dataSync(), 1)], [c.raw_sq], `${c.name}: ${k.impl} raw ||G + lam W||^2 in the step`, 1e-5, 0);
          t.dispose();
        }
      } finally {
        sk.dispose();
        tf.dispose([inputT, dzT]);
      }
    });
  }
});
