/**
 * Conv nets (src/engine/nn) against an independent PyTorch float64 computation
 * (scripts/reference/conv_grads.py → test/fixtures/conv/conv_grads.json): the same spec, kernels,
 * masks and batch; loss, every raw kernel gradient, every bias / BN / activation-parameter
 * gradient, per-layer raw and masked L1/L2 norms, ||g||_1, ||g||_2, EGF_1 and EGF_2 (flow.ts's
 * combineFlow, the MLP's definitions). Cases: the simple CNN without and with BN and skips,
 * WRN-10-1, and every activation on one small CNN.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { combineFlow } from '../../src/engine/flow';
import type { LayerMaskPlan } from '../../src/engine/masks';
import { blueprint, layerShape, type ConvNetSpec } from '../../src/engine/nn/arch';
import { ConvNet } from '../../src/engine/nn/convnet';
import { convGradients, convLayerSteps } from '../../src/engine/nn/step';
import { measureFlowLayers } from '../../src/engine/step';
import { convFixturePath, f32, u8 } from './conv-fixtures';
import { assertClose, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

interface Norm {
  l1: number;
  l2: number;
}
interface RefLayer {
  name: string;
  kind: 'conv' | 'dense';
  shape: number[];
  active: number;
  kernel: string;
  mask: string;
  grad: string;
  raw: Norm;
  masked: Norm;
}
interface RefCase {
  name: string;
  spec: ConvNetSpec;
  batch: { n: number; x: string; labels: number[] };
  loss: number;
  layers: RefLayer[];
  other: number[][];
  egf1: number;
  egf2: number;
  g1: number;
  g2: number;
}


const ref = JSON.parse(fs.readFileSync(convFixturePath('conv_grads.json'), 'utf8')) as { cases: RefCase[] };

/** Relative closeness for the scalar measures (the 1e-5). */
function rel(actual: number, expected: number, what: string, tol = 1e-5): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.abs(expected), `${what}: ${actual} vs ${expected} (rel ${Math.abs(actual - expected) / Math.abs(expected)})`);
}

function netOf(c: RefCase): ConvNet {
  const bp = blueprint(c.spec);
  assert.deepEqual(
    bp.layers.map((d) => d.name),
    c.layers.map((l) => l.name),
    `${c.name}: weight layers`,
  );
  const plans: LayerMaskPlan[] = bp.layers.map((d, l) => {
    const r = at(c.layers, l);
    const shape = layerShape(d);
    assert.deepEqual(d.kind === 'conv' ? [d.k, d.k, d.cin, d.cout] : [d.cin, d.cout], r.shape, `${c.name} ${d.name}: kernel shape`);
    return { shape, kernel: f32(r.kernel), mask: u8(r.mask), active: r.active, std: 0 };
  });
  return new ConvNet({ role: 'sparse', blueprint: bp, plans });
}

function batchOf(c: RefCase): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const [h, w, ch] = c.spec.input;
  return {
    x: tf.tensor4d(f32(c.batch.x), [c.batch.n, h, w, ch]),
    y: tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(c.batch.labels, 'int32'), c.spec.classes), 'float32')) as tf.Tensor2D,
  };
}

before(async () => {
  await testBackend();
});

describe(`conv nets vs PyTorch float64 (${process.env.GRADFLOW_TEST_BACKEND ?? 'cpu'} backend)`, () => {
  for (const c of ref.cases) {
    it(c.name, () => {
      const net = netOf(c);
      const batch = batchOf(c);
      try {
        const got = tf.tidy(() => {
          const g = convGradients(net, batch);
          return { loss: at(g.loss.dataSync(), 0), raw: g.kernelRaw.map((t) => Float32Array.from(t.dataSync())), other: g.other.map((t) => Array.from(t.dataSync())) };
        });
        rel(got.loss, c.loss, `${c.name} loss`);
        got.raw.forEach((r, l) => assertClose(r, f32(at(c.layers, l).grad), `${c.name} raw gradient ${at(c.layers, l).name}`, 1e-4, 1e-6));
        assert.equal(got.other.length, c.other.length, `${c.name}: number of other parameter gradients`);
        got.other.forEach((o, i) => assertClose(o, at(c.other, i), `${c.name} other gradient ${i}`, 1e-4, 1e-6));
        // Norms and measures through the same path a training step takes (flow.ts).
        const { loss, layers } = convLayerSteps(net, batch);
        rel(loss, c.loss, `${c.name} loss (norm pass)`);
        layers.forEach((s, l) => {
          const r = at(c.layers, l);
          assert.equal(s.active, r.active, `${c.name} ${r.name} active`);
          rel(s.raw.l1, r.raw.l1, `${c.name} ${r.name} raw L1`);
          rel(s.raw.l2, r.raw.l2, `${c.name} ${r.name} raw L2`);
          rel(s.masked.l1, r.masked.l1, `${c.name} ${r.name} masked L1`);
          rel(s.masked.l2, r.masked.l2, `${c.name} ${r.name} masked L2`);
        });
        // The MLP's own flow-point measurement (step.ts, through the TrainableNet interface) agrees.
        const labels = tf.tensor1d(c.batch.labels, 'int32');
        const x2 = tf.reshape(batch.x, [c.batch.n, -1]) as tf.Tensor2D;
        try {
          const points = measureFlowLayers(net, [{ x: x2, y: batch.y, labels, n: c.batch.n }], 0);
          points.forEach((s, l) => {
            const r = at(c.layers, l);
            rel(s.raw.l1, r.raw.l1, `${c.name} ${r.name} raw L1 (flow point)`);
            rel(s.masked.l2, r.masked.l2, `${c.name} ${r.name} masked L2 (flow point)`);
          });
        } finally {
          labels.dispose();
          x2.dispose();
        }
        const f = combineFlow(layers);
        rel(f.egf1, c.egf1, `${c.name} EGF1`);
        rel(f.egf2, c.egf2, `${c.name} EGF2`);
        rel(f.g1, c.g1, `${c.name} ||g||1`);
        rel(f.g2, c.g2, `${c.name} ||g||2`);
      } finally {
        net.dispose();
        batch.x.dispose();
        batch.y.dispose();
      }
    });
  }
});
