/**
 * Wide ResNet-50-2 (bottleneck, 32×32 adaptation) builds, reports its layers and takes ONE training
 * step on a 2-image 32×32×3 batch, on the wasm backend (≈ 67M kernel weights: the cpu backend's
 * JavaScript convolutions would take minutes). The layer list is compared with torchvision's
 * wide_resnet50_2 (scripts/reference/conv_wrn50.py → test/fixtures/conv/wrn50_2_layers.json).
 */
import './wasm-backend';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../../src/shared/rng';
import { createOptimizer } from '../../src/engine/optimizers';
import { blueprint, type ConvNetSpec } from '../../src/engine/nn/arch';
import { buildConvNet } from '../../src/engine/nn/build';
import { convOptimizerParams, convTrainStep } from '../../src/engine/nn/step';
import { testBackend } from './helpers';
import { convFixturePath } from './conv-fixtures';
import { at } from '../../src/shared/checked';

interface TvLayer {
  name: string;
  shape: number[];
  stride: number;
  weights: number;
}
const tv = JSON.parse(fs.readFileSync(convFixturePath('wrn50_2_layers.json'), 'utf8')) as { layers: TvLayer[]; kernel_weights: number; bn_params: number };

/** torchvision module names → Gradflow layer names: conv1 → stem, layerG.B.convI → groupG.block(B+1).convI, downsample.0 → shortcut. */
function gradflowName(tvName: string): string {
  if (tvName === 'conv1') return 'stem';
  if (tvName === 'fc') return 'fc';
  const m = /^layer(\d)\.(\d+)\.(conv\d|downsample\.0)$/.exec(tvName);
  if (!m) throw new Error(`unexpected torchvision layer ${tvName}`);
  return `group${m[1]}.block${Number(m[2]) + 1}.${m[3] === 'downsample.0' ? 'shortcut' : m[3]}`;
}

const spec: ConvNetSpec = { architecture: 'wrn', block: 'bottleneck', depth: 50, widenFactor: 2, input: [32, 32, 3], classes: 10, activation: 'relu', batchNorm: true };

before(async () => {
  await testBackend();
});

describe('WRN-50-2 bottleneck', () => {
  it('has torchvision wide_resnet50_2 layers: 54 kernels, 66,778,816 weights', () => {
    const bp = blueprint(spec);
    assert.deepEqual(
      bp.layers.map((d) => `${d.name} [${d.kind === 'conv' ? [d.k, d.k, d.cin, d.cout].join(',') : [d.cin, d.cout].join(',')}] /${d.stride}`),
      tv.layers.map((l) => `${gradflowName(l.name)} [${l.shape.join(',')}] /${l.stride}`),
    );
    assert.equal(bp.layers.length, 54);
    assert.equal(
      bp.layers.reduce((s, d) => s + d.k * d.k * d.cin * d.cout, 0),
      tv.kernel_weights,
    );
  });

  it('builds sparse (10 % per layer), reports its layers and takes one SGD step on 2 images', () => {
    const bp = blueprint(spec);
    const counts = bp.layers.map((d) => Math.ceil(0.1 * d.k * d.k * d.cin * d.cout));
    const net = buildConvNet({ role: 'sparse', blueprint: bp, method: 'random', activeCounts: counts, init: 'dense-fan-in', rng: createRng(50) });
    const opt = createOptimizer({ name: 'sgd', learningRate: 0.01, momentum: 0, decoupledDecay: 0 });
    const rng = createRng(51);
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 32 * 32 * 3 }, () => rng.normal()), [2, 32, 32, 3]);
    const y = tf.tensor2d([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], [2, 10]);
    try {
      assert.equal(net.layerInfo.length, 54);
      assert.equal(at(net.layerInfo, 0).name, 'stem');
      assert.deepEqual(at(net.layerInfo, 0).kernelShape, [3, 3, 3, 64]);
      assert.equal(at(net.layerInfo, 53).name, 'fc');
      assert.equal(
        net.layerInfo.reduce((s, l) => s + l.total, 0),
        tv.kernel_weights,
      );
      assert.equal(net.activeWeights, counts.reduce((a, b) => a + b, 0));
      const bnParams = net.bns.reduce((s, b) => s + 2 * b.gamma.size, 0);
      assert.equal(bnParams, tv.bn_params);
      const r = convTrainStep(net, opt, convOptimizerParams(net), { x, y });
      assert.ok(Number.isFinite(r.loss), `loss ${r.loss}`);
      assert.equal(r.layers.length, 54);
      r.layers.forEach((s, l) => assert.ok(Number.isFinite(s.raw.l2) && Number.isFinite(s.masked.l2), `layer ${at(net.layerInfo, l).name} norms`));
      assert.deepEqual(r.prunedMass, new Array(54).fill(0));
      const mem = net.memoryBytes(opt);
      assert.equal(mem.parameters, 4 * (tv.kernel_weights + tv.bn_params + 10));
    } finally {
      net.dispose();
      opt.dispose();
      x.dispose();
      y.dispose();
    }
  });
});
