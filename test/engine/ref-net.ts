/**
 * The PyTorch reference nets of test/fixtures/engine/ref_flow.json (written by ref_flow.py) as the
 * engine builds them: shared by reference.test.ts and model-interface.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../src/shared/experiment';
import { MaskedMLP, type KernelPath } from '../../src/engine/model';
import { mlpShapes } from '../../src/engine/masks';
import type { Batch } from '../../src/engine/step';
import { at } from '../../src/shared/checked';

/** The net of a reference case as the Python reference scripts name it (d inputs, H hidden layers, C classes, n rows). */
export interface RefNetShape {
  name: string;
  d: number;
  width: number;
  H: number;
  C: number;
  n: number;
  activation: Activation;
  batch_norm: boolean;
  skip: boolean;
}

/** One reference case: a masked MLP (kernels [fanIn, fanOut] row-major), its biases and a batch. */
export interface RefCase extends RefNetShape {
  l2: number;
  kernels: number[][];
  masks: number[][];
  biases: number[][];
  x: number[];
  y: number[];
}

/** The case's net with its kernels, masks and biases, every layer on `path`. */
export function buildRefNet(c: RefCase, path: KernelPath = 'dense'): MaskedMLP {
  const plans = mlpShapes(c.d, c.width, c.H, c.C).map((shape, l) => ({
    shape,
    kernel: Float32Array.from(at(c.kernels, l)),
    mask: Float32Array.from(at(c.masks, l)),
    active: at(c.masks, l).reduce((s, v) => s + v, 0),
    std: 0,
  }));
  const net = new MaskedMLP({ role: 'sparse', inputs: c.d, classes: c.C, width: c.width, hiddenLayers: c.H, activation: c.activation, batchNorm: c.batch_norm, skip: c.skip, plans, paths: plans.map(() => path) });
  net.biases.forEach((b, l) => b.assign(tf.tensor1d(at(c.biases, l))));
  return net;
}

/** The case's batch; withT: also the pre-transposed input (the training loop's shared-transpose path). */
export function refBatch(c: RefCase, withT = false): Batch {
  const labels = tf.tensor1d(c.y, 'int32');
  const x = tf.tensor2d(c.x, [c.n, c.d]);
  const b: Batch = { x, y: tf.cast(tf.oneHot(labels, c.C), 'float32') as tf.Tensor2D, labels, n: c.n };
  if (withT) b.xT = tf.transpose(x);
  return b;
}

export function disposeRefBatch(b: Batch): void {
  tf.dispose([b.x, b.y, b.labels, ...(b.xT ? [b.xT] : [])]);
}
