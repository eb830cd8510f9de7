/** Training and evaluation batches of a split, as TF.js tensors (owned by the caller). */
import * as tf from '@tensorflow/tfjs-core';
import type { Split } from '../data/types';
import type { Batch } from './step';
import { at } from '../shared/checked';

/**
 * Rows `idx[start..start+n)` of a split as a Batch: x [n, features] (rows as stored: images NHWC
 * flattened), one-hot y, integer labels; with `transpose` also xᵀ (shared by an SC-SDC pair).
 */
export function makeBatch(
  split: Split,
  features: number,
  classes: number,
  idx: ArrayLike<number>,
  start: number,
  n: number,
  augment?: (x: Float32Array, n: number) => Float32Array,
  transpose = false,
): Batch {
  let x: Float32Array = new Float32Array(n * features);
  const labels = new Int32Array(n);
  if (start < 0 || start + n > idx.length) throw new RangeError(`batch rows ${start}..${start + n} are outside the ${idx.length} indices`);
  for (let i = 0; i < n; i++) {
    const r = at(idx, start + i);
    x.set(split.x.subarray(r * features, (r + 1) * features), i * features);
    labels[i] = at(split.y, r);
  }

  if (augment) x = augment(x, n);
  const lab = tf.tensor1d(labels, 'int32');
  const xt = tf.tensor2d(x, [n, features]);
  const y = tf.tidy(() => tf.cast(tf.oneHot(lab, classes), 'float32') as tf.Tensor2D);
  if (!transpose) return { x: xt, y, labels: lab, n };
  return { x: xt, xT: tf.transpose(xt), y, labels: lab, n };
}

export function disposeBatch(b: Batch): void {
  b.x.dispose();
  b.xT?.dispose();
  b.y.dispose();
  b.labels.dispose();
}

/** Consecutive batches over a whole split, in order. */
export function splitBatches(split: Split, features: number, classes: number, batchSize: number): Batch[] {
  const ident = new Uint32Array(split.n);
  for (let i = 0; i < split.n; i++) ident[i] = i;
  const out: Batch[] = [];
  for (let s = 0; s < split.n; s += batchSize) out.push(makeBatch(split, features, classes, ident, s, Math.min(batchSize, split.n - s)));
  return out;
}
