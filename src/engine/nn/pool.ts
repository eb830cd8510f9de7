/**
 * 2×2 max-pooling (stride 2, floor: an odd last row / column is dropped, as PyTorch's MaxPool2d(2))
 * and global average pooling, NHWC, with explicit backward passes.
 *
 * The max-pool backward is written with elementwise ops instead of TF.js's MaxPoolGrad kernel: the
 * wasm backend's MaxPoolGrad (tfjs-backend-wasm 4.22) routes the gradient wrongly when a window's
 * values are negative (measured: a 4×4 map of negatives gets one non-zero instead of four), which
 * happens after a residual addition. Here each window's gradient goes to its FIRST maximum in
 * row-major order (PyTorch's rule), the same on every backend, computed on the host (see below).
 */
import * as tf from '@tensorflow/tfjs-core';
import { tensor4dFromScratch, tensorValues } from '../heap';
import { sparseKernels } from '../sparse';

export function maxPool2x2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.maxPool(x, 2, 2, 'valid');
}

/**
 * dL/dx of y = maxPool2x2(x): each window's gradient to the first corner (row-major) equal to the
 * window's maximum y, zeros elsewhere (and on a dropped odd last row / column). Call inside a tidy.
 *
 * One pass over x, y and dy by the conv nets' host kernels (SparseConvKernels.maxPoolBackward:
 * WebAssembly SIMD, four channels per vector, or the same loop in TypeScript where the module
 * cannot load). As TF.js ops this was four strided slices of x, their comparisons and a 6-D
 * transpose back to [n, h, w, c], which on the wasm backend cost 60 % of the simple CNN's whole
 * training step (profiled: 1.1 of 1.9 s per step of the ρ = 0.25 sparse net at batch 128); the
 * TypeScript loop then took 28–45 ms of that net's step, the SIMD kernel with its copies in and
 * out about 5 ms. The rule is the op version's exactly: a corner takes the gradient when it equals
 * y and no earlier corner did, so a window whose maximum is NaN passes nothing.
 */
export function maxPool2x2Backward(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const [N, H, W, C] = x.shape;
  // Views into the backend's heap where it has one: no TF.js operation runs until the kernel returns.
  const dx = sparseKernels().kernels.conv.maxPoolBackward(tensorValues(x), tensorValues(y), tensorValues(dy), { N, H, W, C });
  return tensor4dFromScratch(dx, [N, H, W, C]);
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
