/**
 * 2×2 max-pooling (stride 2, floor: an odd last row / column is dropped, as PyTorch's MaxPool2d(2))
 * and global average pooling, NHWC, with explicit backward passes.
 *
 * The max-pool backward is written with elementwise ops instead of TF.js's MaxPoolGrad kernel: the
 * wasm backend's MaxPoolGrad (tfjs-backend-wasm 4.22) routes the gradient wrongly when a window's
 * values are negative (measured: a 4×4 map of negatives gets one non-zero instead of four), which
 * happens after a residual addition. Here each window's gradient goes to its FIRST maximum in
 * row-major order (PyTorch's rule), the same on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';

export function maxPool2x2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.maxPool(x, 2, 2, 'valid');
}

/** dL/dx of y = maxPool2x2(x). Call inside a tidy. */
export function maxPool2x2Backward(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [, ho, wo] = y.shape;
  // The four corners of every window, each [n, ho, wo, c], in row-major window order.
  const corner = (a: number, b: number): tf.Tensor => tf.stridedSlice(x, [0, a, b, 0], [n, a + 2 * (ho - 1) + 1, b + 2 * (wo - 1) + 1, c], [1, 2, 2, 1]);
  let taken: tf.Tensor = tf.zerosLike(y);
  const parts: tf.Tensor[] = [];
  const corners: ReadonlyArray<readonly [number, number]> = [
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ];
  for (const [a, b] of corners) {

    const first = tf.mul(tf.cast(tf.equal(corner(a, b), y), 'float32'), tf.sub(1, taken));
    taken = tf.add(taken, first);
    parts.push(tf.mul(dy, first));
  }
  // [4 = (a, b), n, ho, wo, c] → [n, ho, a, wo, b, c] → [n, 2ho, 2wo, c].
  const d = tf.reshape(tf.transpose(tf.reshape(tf.stack(parts), [2, 2, n, ho, wo, c]), [2, 3, 0, 4, 1, 5]), [n, 2 * ho, 2 * wo, c]) as tf.Tensor4D;
  return 2 * ho === h && 2 * wo === w ? d : tf.pad(d, [[0, 0], [0, h - 2 * ho], [0, w - 2 * wo], [0, 0]]);
}

/** Mean over H and W: [n, h, w, c] → [n, c]. */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]);
}

/** dL/dx of globalAvgPool: dy/(h·w) at every position. Call inside a tidy. */
export function globalAvgPoolBackward(shape: [number, number, number, number], dy: tf.Tensor2D): tf.Tensor4D {
  const [n, h, w, c] = shape;
  return tf.mul(tf.ones(shape), tf.reshape(tf.div(dy, h * w), [n, 1, 1, c]));
}
