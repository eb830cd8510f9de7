/**
 * Conv-net architectures, SC-SDC pairs and one training step (src/engine/nn). Expected layer lists
 * and counts are written out by hand from the architecture descriptions (docs/conv-nets.md).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../../src/shared/rng';
import { countActive } from '../../src/engine/masks';
import { createOptimizer } from '../../src/engine/optimizers';
import { blueprint, layerOutputSizes, type BlueprintNode, type ConvNetSpec } from '../../src/engine/nn/arch';
import { buildConvNet, scsdcConvPair } from '../../src/engine/nn/build';
import { convOptimizerParams, convTrainStep } from '../../src/engine/nn/step';
import { ConvNet } from '../../src/engine/nn/convnet';
import { optimizerParams, trainStep } from '../../src/engine/step';
import { selectMasks } from '../../src/engine/pruning/index';
import { snipScores } from '../../src/engine/pruning/snip';
import { layerShape } from '../../src/engine/nn/arch';
import { testBackend } from './helpers';
import { at } from '../../src/shared/checked';

const cnnSpec = (over: Partial<ConvNetSpec> = {}): ConvNetSpec => ({ architecture: 'cnn', input: [28, 28, 1], classes: 10, activation: 'relu', batchNorm: false, ...over });
const wrnSpec = (depth: number, k: number, over: Partial<ConvNetSpec> = {}): ConvNetSpec => ({ architecture: 'wrn', input: [32, 32, 3], classes: 10, activation: 'relu', batchNorm: true, depth, widenFactor: k, ...over });

function countOps(nodes: BlueprintNode[], op: BlueprintNode['op']): number {
  let n = 0;
  for (const x of nodes) {
    if (x.op === op) n++;
    if (x.op === 'residual') n += countOps(x.pre, op) + countOps(x.body, op) + countOps(x.shortcut, op) + countOps(x.post, op);
  }
  return n;
}

before(async () => {
  await testBackend();
});

describe('conv architectures', () => {
  it('simple CNN: 5 convs 32-64-64-128-128, 4 pools on 28×28 (28→14→7→3→1), GAP, fc', () => {
    const bp = blueprint(cnnSpec());
    assert.deepEqual(
      bp.layers.map((d) => `${d.name} ${d.k}x${d.k} ${d.cin}->${d.cout}${d.bias ? ' +b' : ''}`),
      ['block1.conv 3x3 1->32 +b', 'block2.conv 3x3 32->64 +b', 'block3.conv 3x3 64->64 +b', 'block4.conv 3x3 64->128 +b', 'block5.conv 3x3 128->128 +b', 'fc 1x1 128->10 +b'],
    );
    assert.equal(countOps(bp.nodes, 'maxpool'), 4);
    assert.deepEqual(layerOutputSizes(bp).slice(0, 5), [[28, 28], [14, 14], [7, 7], [3, 3], [1, 1]]);
    // 32×32: 32→16→8→4→2, pooled after all five blocks down to 1×1.
    assert.equal(countOps(blueprint(cnnSpec({ input: [32, 32, 3] })).nodes, 'maxpool'), 5);
    assert.equal(countOps(blueprint(cnnSpec({ pool: [true, false, false, false, false] })).nodes, 'maxpool'), 1);
  });

  it('simple CNN with BN and skips: bias-free convs, 1×1 projections where channels change', () => {
    const bp = blueprint(cnnSpec({ batchNorm: true, skip: true }));
    assert.deepEqual(
      bp.layers.map((d) => `${d.name} ${d.k}x${d.k} ${d.cin}->${d.cout}${d.bias ? ' +b' : ''}`),
      [
        'block1.conv 3x3 1->32',
        'block1.shortcut 1x1 1->32',
        'block2.conv 3x3 32->64',
        'block2.shortcut 1x1 32->64',
        'block3.conv 3x3 64->64',
        'block4.conv 3x3 64->128',
        'block4.shortcut 1x1 64->128',
        'block5.conv 3x3 128->128',
        'fc 1x1 128->10 +b',
      ],
    );
    assert.equal(countOps(bp.nodes, 'residual'), 5);
    assert.equal(countOps(bp.nodes, 'bn'), 5);
  });

  it('WRN-16-4: stem 16, groups 64/128/256 with strides 1, 2, 2, projections at each group start', () => {
    const bp = blueprint(wrnSpec(16, 4));
    const names = bp.layers.map((d) => `${d.name} ${d.k}x${d.k}/${d.stride} ${d.cin}->${d.cout}`);
    assert.deepEqual(names, [
      'stem 3x3/1 3->16',
      'group1.block1.conv1 3x3/1 16->64',
      'group1.block1.conv2 3x3/1 64->64',
      'group1.block1.shortcut 1x1/1 16->64',
      'group1.block2.conv1 3x3/1 64->64',
      'group1.block2.conv2 3x3/1 64->64',
      'group2.block1.conv1 3x3/2 64->128',
      'group2.block1.conv2 3x3/1 128->128',
      'group2.block1.shortcut 1x1/2 64->128',
      'group2.block2.conv1 3x3/1 128->128',
      'group2.block2.conv2 3x3/1 128->128',
      'group3.block1.conv1 3x3/2 128->256',
      'group3.block1.conv2 3x3/1 256->256',
      'group3.block1.shortcut 1x1/2 128->256',
      'group3.block2.conv1 3x3/1 256->256',
      'group3.block2.conv2 3x3/1 256->256',
      'fc 1x1/1 256->10',
    ]);
    // Kernel weights by hand: 432 + 9216 + 36864 + 1024 + 2·36864 + 73728 + 147456 + 8192 + 2·147456
    // + 294912 + 589824 + 32768 + 2·589824 + 2560 = 2,745,264 (the WRN-16-4 "2.7M").
    const total = bp.layers.reduce((s, d) => s + d.k * d.k * d.cin * d.cout, 0);
    assert.equal(total, 2745264);
    assert.deepEqual(layerOutputSizes(bp)[13], [8, 8]);
  });

  it('WRN-10-1: identity shortcut in group 1 (16→16), projections in groups 2 and 3', () => {
    const bp = blueprint(wrnSpec(10, 1));
    assert.deepEqual(
      bp.layers.map((d) => d.name),
      ['stem', 'group1.block1.conv1', 'group1.block1.conv2', 'group2.block1.conv1', 'group2.block1.conv2', 'group2.block1.shortcut', 'group3.block1.conv1', 'group3.block1.conv2', 'group3.block1.shortcut', 'fc'],
    );
  });

  it('rejects impossible shapes with the key and value', () => {
    assert.throws(() => blueprint(wrnSpec(18, 1)), /depth 18 must satisfy \(depth − 4\) % 6 == 0/);
    assert.throws(() => blueprint(wrnSpec(34, 2, { block: 'bottleneck' })), /bottleneck net has depth 50 or 101, got 34/);
    assert.throws(() => blueprint(cnnSpec({ channels: [] })), /at least one block/);
    assert.throws(() => blueprint(cnnSpec({ channels: [8, 0] })), /channels\[1\] must be a positive integer, got 0/);
    assert.throws(() => blueprint(cnnSpec({ input: [2, 2, 1], pool: [true, true] , channels: [4, 4] })), /cannot pool after block 2: the map is 1×1/);
    assert.throws(() => blueprint(cnnSpec({ pool: [true] })), /pool has 1 flags for 5 blocks/);
  });
});

describe('SC-SDC for conv nets', () => {
  it('simple CNN at ρ = 0.25 on 28×28×1 (the docs/conv-nets.md worked example)', () => {
    const pair = scsdcConvPair(cnnSpec(), { density: 0.25 });
    assert.deepEqual(
      pair.dense.layers.map((d) => d.cout),
      [8, 16, 16, 32, 32, 10],
    );
    // Twin weight counts 9·1·8, 9·8·16, 9·16·16, 9·16·32, 9·32·32, 32·10.
    assert.deepEqual(pair.activeCounts, [72, 1152, 2304, 4608, 9216, 320]);
    const sizes = pair.sparse.layers.map((d) => d.k * d.k * d.cin * d.cout);
    assert.deepEqual(sizes, [288, 18432, 36864, 73728, 147456, 1280]);
    assert.deepEqual(
      pair.activeCounts.map((k, l) => k / at(sizes, l)),
      [0.25, 0.0625, 0.0625, 0.0625, 0.0625, 0.25],
    );
    assert.deepEqual(pair.denseFanIns, [9, 72, 144, 144, 288, 32]);
  });

  it('the twin keeps the sparse topology even where rounding equalises channels', () => {
    // ρ = 0.1: 30 → 3 and 32 → 3; the sparse net projects 30 → 32, so the twin projects 3 → 3.
    const pair = scsdcConvPair(cnnSpec({ channels: [30, 32], skip: true }), { density: 0.1 });
    assert.deepEqual(
      pair.dense.layers.map((d) => d.name),
      pair.sparse.layers.map((d) => d.name),
    );
    assert.ok(pair.dense.layers.some((d) => d.name === 'block2.shortcut' && d.cin === 3 && d.cout === 3));
  });

  it('WRN by dense widen factor: WRN-16-8 sparse against a WRN-16-2 twin, stem kept at 16', () => {
    const pair = scsdcConvPair(wrnSpec(16, 8), { denseWidenFactor: 2 });
    assert.equal(at(pair.dense.layers, 0).cout, 16);
    assert.deepEqual(pair.dense.layers.slice(1, 4).map((d) => [d.cin, d.cout]), [[16, 32], [32, 32], [16, 32]]);
    // Stem: the same 432 weights in both nets (density 1); group1 conv2: 32·32·9 of 128·128·9.
    assert.equal(pair.activeCounts[0], 432);
    assert.equal(at(pair.activeCounts, 2) / (128 * 128 * 9), 1 / 16);
  });

  for (const method of ['random', 'magnitude'] as const) {
    it(`${method} masks keep exactly the twin's count per layer; init std from the twin's fan-in`, () => {
      const pair = scsdcConvPair(cnnSpec({ channels: [8, 16, 16], input: [12, 12, 1], skip: true, batchNorm: true }), { density: 0.5 });
      const sparse = buildConvNet({ role: 'sparse', blueprint: pair.sparse, method, activeCounts: pair.activeCounts, denseFanIns: pair.denseFanIns, init: 'dense-fan-in', rng: createRng(3) });
      const dense = buildConvNet({ role: 'dense', blueprint: pair.dense, method: 'none', init: 'dense-fan-in', rng: createRng(4) });
      try {
        assert.equal(sparse.numLayers, dense.numLayers);
        for (let l = 0; l < sparse.numLayers; l++) {
          const m = sparse.maskArray(l);
          assert.equal(countActive(m), pair.activeCounts[l], `${at(sparse.layerInfo, l).name} mask`);
          assert.equal(at(sparse.layerInfo, l).active, at(dense.layerInfo, l).total, `${at(sparse.layerInfo, l).name} active = twin weights`);
          const w = sparse.kernelArray(l);
          for (let i = 0; i < w.length; i++) if (m[i] === 0) assert.equal(w[i], 0);
        }
        assert.equal(sparse.activeWeights, dense.activeWeights);
        // Random masks: both nets' active weights ~ N(0, 2/fanIn_twin) (magnitude keeps the largest).
        if (method !== 'random') return;
        const variance = (net: typeof sparse, l: number): number => {
          const w = net.kernelArray(l);
          const m = net.maskArray(l);
          let s = 0;
          let n = 0;
          for (let i = 0; i < w.length; i++)
            if (m[i] !== 0) {
              s += at(w, i) * at(w, i);
              n++;
            }
          return s / n;
        };
        const l = 4; // block3.conv: 1152 twin weights, fan-in 9·8 = 72
        assert.equal(at(sparse.layerInfo, l).name, 'block3.conv');
        const expected = 2 / at(pair.denseFanIns, l);
        for (const v of [variance(sparse, l), variance(dense, l)]) assert.ok(Math.abs(v / expected - 1) < 0.15, `variance ${v} vs ${expected}`);
      } finally {
        sparse.dispose();
        dense.dispose();
      }
    });
  }
});

describe('SNIP on a conv net (layerwise): SC-SDC counts exact, the best-scored entries kept', () => {
  it('SNIP scores through TrainableNet, masks by select.ts, then a scored build', () => {
    const spec = cnnSpec({ input: [8, 8, 1], channels: [4, 8], classes: 3, batchNorm: true, skip: true });
    const pair = scsdcConvPair(spec, { density: 0.5 });
    const base = { role: 'sparse' as const, blueprint: pair.sparse, denseFanIns: pair.denseFanIns, activeCounts: pair.activeCounts, init: 'dense-fan-in' as const };
    const full = buildConvNet({ ...base, method: 'none', rng: createRng(31) });
    const rng = createRng(32);
    const x = tf.tensor2d(Float32Array.from({ length: 5 * 64 }, () => rng.normal()), [5, 64]);
    const labels = tf.tensor1d([0, 1, 2, 1, 0], 'int32');
    const y = tf.tidy(() => tf.cast(tf.oneHot(labels, 3), 'float32')) as tf.Tensor2D;
    let sparse: ConvNet | undefined;
    try {
      const scores = snipScores(full, [{ x, y, labels, n: 5 }]);
      const masks = selectMasks('snip', scores, pair.activeCounts, 'layerwise');
      sparse = buildConvNet({ ...base, method: 'scored', masks, rng: createRng(31) });
      for (let l = 0; l < sparse.numLayers; l++) {
        const m = sparse.maskArray(l);
        assert.equal(countActive(m), pair.activeCounts[l], `${at(sparse.layerInfo, l).name} count`);
        let minKept = Infinity;
        let maxPruned = -Infinity;
        const w = full.kernelArray(l);
        const ws = sparse.kernelArray(l);
        for (let i = 0; i < m.length; i++) {
          if (m[i] !== 0) {
            minKept = Math.min(minKept, at(at(scores, l), i));
            assert.equal(ws[i], w[i]);
          } else maxPruned = Math.max(maxPruned, at(at(scores, l), i));
        }
        assert.ok(minKept >= maxPruned, `${at(sparse.layerInfo, l).name}: kept ${minKept} < pruned ${maxPruned}`);
      }
    } finally {
      full.dispose();
      sparse?.dispose();
      x.dispose();
      labels.dispose();
      y.dispose();
    }
  });
});

describe('ConvNet training step', () => {
  it('one Adam step: loss finite, pruned entries stay exactly 0, masked norms zero outside the mask', () => {
    const spec = cnnSpec({ input: [8, 8, 2], channels: [4, 6], classes: 3, batchNorm: true, skip: true, activation: 'swish' });
    const pair = scsdcConvPair(spec, { density: 0.5 });
    const net = buildConvNet({ role: 'sparse', blueprint: pair.sparse, method: 'random', activeCounts: pair.activeCounts, denseFanIns: pair.denseFanIns, init: 'dense-fan-in', rng: createRng(9) });
    const opt = createOptimizer({ name: 'adam', learningRate: 0.01, momentum: 0, decoupledDecay: 0 });
    const rng = createRng(10);
    const x = tf.tensor2d(Float32Array.from({ length: 4 * 128 }, () => rng.normal()), [4, 128]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
    const yF = tf.cast(y, 'float32') as tf.Tensor2D;
    try {
      const before = net.kernelArray(0);
      const r = convTrainStep(net, opt, convOptimizerParams(net), { x, y: yF }, 1e-4);
      assert.ok(Number.isFinite(r.loss));
      assert.equal(r.layers.length, net.numLayers);
      assert.deepEqual(r.prunedMass, new Array(net.numLayers).fill(0));
      for (const s of r.layers) assert.ok(s.masked.l2 <= s.raw.l2 && s.masked.l2 > 0);
      const after = net.kernelArray(0);
      const m = net.maskArray(0);
      let moved = 0;
      for (let i = 0; i < m.length; i++) {
        if (m[i] === 0) assert.equal(after[i], 0);
        else if (after[i] !== before[i]) moved++;
      }
      assert.equal(moved, countActive(m));
      assert.ok(net.memoryBytes(opt).optimizer > 0);
    } finally {
      net.dispose();
      opt.dispose();
      x.dispose();
      y.dispose();
      yF.dispose();
    }
  });

  it("step.ts's trainStep (the MLP's step, via TrainableNet) trains a conv net: masks hold, norms per layer", () => {
    const spec = cnnSpec({ input: [8, 8, 1], channels: [4, 4], classes: 2, batchNorm: true, skip: true });
    const pair = scsdcConvPair(spec, { density: 0.5 });
    const net = buildConvNet({ role: 'sparse', blueprint: pair.sparse, method: 'random', activeCounts: pair.activeCounts, denseFanIns: pair.denseFanIns, init: 'dense-fan-in', rng: createRng(21) });
    const opt = createOptimizer({ name: 'momentum', learningRate: 0.05, momentum: 0.9, decoupledDecay: 0 });
    net.attachOptimizer(opt);
    const rng = createRng(22);
    const x = tf.tensor2d(Float32Array.from({ length: 6 * 64 }, () => rng.normal()), [6, 64]);
    const labels = tf.tensor1d([0, 1, 0, 1, 1, 0], 'int32');
    const y = tf.tidy(() => tf.cast(tf.oneHot(labels, 2), 'float32')) as tf.Tensor2D;
    try {
      const params = optimizerParams(net);
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = trainStep(net, opt, params, { x, y, labels, n: 6 }, { coupledL2: 1e-4, collectNorms: true, checkIntegrity: true });
        assert.equal(r.nonFinite, null);
        assert.deepEqual(r.integrity, []);
        assert.equal(r.layers?.length, net.numLayers);
        losses.push(r.loss);
      }
      assert.ok(at(losses, 4) < at(losses, 0), `loss ${losses.join(', ')}`);
      for (let l = 0; l < net.numLayers; l++) {
        const w = net.kernelArray(l);
        const m = net.maskArray(l);
        for (let i = 0; i < w.length; i++) if (m[i] === 0) assert.equal(w[i], 0);
      }
    } finally {
      net.dispose();
      opt.dispose();
      x.dispose();
      labels.dispose();
      y.dispose();
    }
  });
});

describe('ConvNet.maskPaths (channels as units, over the real graph)', () => {
  const spec = (skip: boolean): ConvNetSpec => cnnSpec({ input: [4, 4, 1], channels: [2, 2], classes: 2, skip });
  const withMasks = (s: ConvNetSpec, masks: (bp: ReturnType<typeof blueprint>) => Float32Array[]): ConvNet => {
    const bp = blueprint(s);
    const ms = masks(bp);
    return new ConvNet({
      role: 'sparse',
      blueprint: bp,
      plans: bp.layers.map((d, l) => {
        const shape = layerShape(d);
        return { shape, kernel: Float32Array.from(at(ms, l), (v) => v * 0.5), mask: at(ms, l), active: countActive(at(ms, l)), std: 0 };
      }),
    });
  };

  it('a fully pruned conv breaks the chain; its input channels lead nowhere', () => {
    const net = withMasks(spec(false), (bp) => bp.layers.map((d, l) => new Float32Array(d.k * d.k * d.cin * d.cout).fill(l === 1 ? 0 : 1)));
    try {
      const p = net.maskPaths();
      assert.deepEqual(p.reachable, [2, 0, 0]);
      assert.equal(p.brokenLayer, 1);
      assert.deepEqual(p.noOutgoing, [2, 0, 0]);
    } finally {
      net.dispose();
    }
  });

  it('with skips the identity shortcut of block 2 carries block 1 on (no channel of block 1 is cut off)', () => {
    const net = withMasks(spec(true), (bp) => bp.layers.map((d) => new Float32Array(d.k * d.k * d.cin * d.cout).fill(d.name === 'block2.conv' ? 0 : 1)));
    try {
      const p = net.maskPaths();
      assert.deepEqual(net.layerInfo.map((i) => i.name), ['block1.conv', 'block1.shortcut', 'block2.conv', 'fc']);
      assert.deepEqual(p.reachable, [2, 2, 0, 2]);
      assert.deepEqual(p.noOutgoing, [0, 0, 0, 0]);
    } finally {
      net.dispose();
    }
  });
});
