/**
 * A Wide ResNet through the whole training loop (trainExperiment → buildExperimentNets → ConvNet):
 * a WRN-10-1 SC-SDC pair on 32×32×3 synthetic images takes a step per net, with its layer counts
 * checked by hand from the architecture. On the wasm backend: the cpu backend's JavaScript
 * convolutions made this one step (plus the 11 flow points of both nets) cost about a minute.
 */
import './wasm-backend';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../../src/data/types';
import type { NetInfo } from '../../src/shared/protocol';
import { trainExperiment } from '../../src/engine/train';
import { config, syntheticDataset, testBackend } from './helpers';
import { at } from '../../src/shared/checked';

before(async () => {
  assert.equal(await testBackend(), 'wasm');
});

describe('a Wide ResNet in the training loop', () => {
  it('WRN-10-1 on 32×32×3: an SC-SDC pair at ρ = 0.5 trains a step', async () => {
    const base = config({
      model: { architecture: 'wrn', depth: 10, widenFactor: 1, block: 'basic', batchNorm: true, skip: true },
      sparsity: { method: 'random', density: 0.5, pair: true, init: 'dense-fan-in' },
      training: { epochs: 1, batchSize: 8 },
    });
    const data: Dataset = { ...syntheticDataset(32 * 32 * 3, 4, 8, 2, 2), shape: [32, 32, 3] };
    const ready: NetInfo[] = [];
    let steps = 0;
    const before = tf.memory().numTensors;
    const res = await trainExperiment(base, data, { onReady: (n) => ready.push(...n), onStep: () => steps++, onEpoch: () => undefined, onFlowPoint: () => undefined, onAlert: () => undefined, shouldStop: () => false }, { flowBatches: 1 });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(res.failed, undefined, res.reason);
    assert.equal(steps, 2, 'one step of each net');
    // Stem 3·3·3×16 (twin ×8), group widths 16/32/64 (twin 8/16/32), projections where the shape changes, fc 64×4.
    assert.deepEqual(
      at(ready, 0).layers.map((l) => `${l.name} ${l.total}`),
      ['stem 432', 'group1.block1.conv1 2304', 'group1.block1.conv2 2304', 'group2.block1.conv1 4608', 'group2.block1.conv2 9216', 'group2.block1.shortcut 512', 'group3.block1.conv1 18432', 'group3.block1.conv2 36864', 'group3.block1.shortcut 2048', 'fc 256'],
    );
    assert.deepEqual(at(ready, 0).layers.map((l) => l.active), [216, 576, 576, 1152, 2304, 128, 4608, 9216, 512, 128]);
    assert.deepEqual(at(ready, 1).layers.map((l) => l.total), at(ready, 0).layers.map((l) => l.active));
  });
});
