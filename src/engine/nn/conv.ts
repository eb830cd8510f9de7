/**
 * 2-D convolution (NHWC, kernel [k, k, cIn, cOut]) with explicit forward and backward passes.
 *
 * Padding is symmetric and numeric (`pad` = (k − 1)/2 for a 3×3 "same" convolution, 0 for a 1×1
 * projection), as PyTorch's `padding=1`: with stride 2 and an even input, TF's 'same' pads only at
 * the bottom/right and samples different rows than PyTorch (and the WRN papers' code) do.
 *
 * Backward:
 *  - input gradient: for stride 1 a forward convolution with the rotated kernel, else the transposed
 *    convolution (TF.js Conv2DBackpropInput, present on every backend): see conv2dInputGrad;
 *  - filter gradient: the backend's Conv2DBackpropFilter kernel where it has one (cpu, tensorflow);
 *    the wasm backend has none (docs/environment.md), so there it is computed from TF.js ops that
 *    every backend has, as an im2col product split by kernel offset: for each offset (ky, kx), the
 *    input window x_s shifted by that offset and subsampled by the stride is an [M, cIn] matrix
 *    (M = N·H_out·W_out) and dW[ky, kx] = x_sᵀ·dy. It is computed as (dyᵀ·x_s)ᵀ with dyᵀ [cOut, M]
 *    transposed ONCE and shared by all k² products (transposed products are 6–15× slower than plain
 *    ones on wasm), and one small [k², cOut, cIn] → [k², cIn, cOut] transpose at the end. The
 *    temporaries are one [M, cIn] window at a time, not the k²-times-larger im2col matrix.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface ConvGeometry {
  /** Kernel size (square). */
  k: number;
  stride: number;
  /** Symmetric zero padding on each side. */
  pad: number;
}

/** How the filter gradient is computed: the backend's kernel when it has one ('auto'), or always im2col. */
export type FilterGradMode = 'auto' | 'im2col';

/** Output size along one axis (floor rounding, as PyTorch and TF.js). */
export function convOutSize(size: number, g: ConvGeometry): number {
  return Math.floor((size + 2 * g.pad - g.k) / g.stride) + 1;
}

/** y = conv(x, w). Call inside a tidy. */
export function conv2dForward(x: tf.Tensor4D, w: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  return tf.conv2d(x, w, g.stride, g.pad);
}

/**
 * dL/dx from dL/dy. Call inside a tidy.
 *
 * Stride 1: the forward convolution of dy with the kernel rotated by 180° and its channels swapped,
 * w'[ky, kx, o, i] = w[k − 1 − ky, k − 1 − kx, i, o], padded by k − 1 − pad (dx[y] = Σ_ky dy[y + pad
 * − ky]·w[ky]). The wasm backend's forward Conv2D is XNNPACK's; its Conv2DBackpropInput is a plain
 * loop, 7× slower on WRN-16-4's 3×3 convolutions (profiled: 680 against 92 ms for [32, 32, 32, 64] ×
 * [3, 3, 64, 64]), two thirds of a dense WRN-16-4 step. Stride 2 (a WRN group's first convolution
 * and its projection) keeps the transposed convolution: the same forward convolution over dy with
 * zeros between its rows and columns measured no faster (4× the positions).
 */
export function conv2dInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, inShape: [number, number, number, number], g: ConvGeometry): tf.Tensor4D {
  const back = g.k - 1 - g.pad;
  if (g.stride !== 1 || back < 0 || dy.shape[1] + 2 * back - g.k + 1 !== inShape[1] || dy.shape[2] + 2 * back - g.k + 1 !== inShape[2]) {
    return tf.conv2dTranspose(dy, w, inShape, g.stride, g.pad);
  }
  // Freed at once, not at the end of the caller's tidy: a WRN-50-2's rotated kernels together are
  // as large as its weights (267 MB), too much for the wasm heap on top of a training step.
  const rotated = tf.tidy(() => tf.transpose(g.k === 1 ? w : tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D);
  const dx = tf.conv2d(dy, rotated, 1, back);
  rotated.dispose();
  return dx;
}

/** Whether the active backend has a native filter-gradient kernel. */
export function hasNativeFilterGrad(): boolean {
  return tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
}

/** dL/dw [k, k, cIn, cOut] from the layer input x and dL/dy. Call inside a tidy. */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, g: ConvGeometry, cOut: number, mode: FilterGradMode = 'auto'): tf.Tensor4D {
  const cIn = x.shape[3];
  const filterShape: [number, number, number, number] = [g.k, g.k, cIn, cOut];
  if (mode === 'auto' && hasNativeFilterGrad()) {
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: g.stride, pad: g.pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor4D;
  }
  return im2colFilterGrad(x, dy, g);
}

/** The filter gradient from TF.js ops every backend has (see the file comment). Call inside a tidy. */
export function im2colFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const [n, , , cIn] = x.shape;
  const [, ho, wo, cOut] = dy.shape;
  const m = n * ho * wo;
  const xp = g.pad > 0 ? tf.pad(x, [[0, 0], [g.pad, g.pad], [g.pad, g.pad], [0, 0]]) : x;
  const dyT = tf.transpose(tf.reshape(dy, [m, cOut])) as tf.Tensor2D;
  const parts: tf.Tensor2D[] = [];
  for (let ky = 0; ky < g.k; ky++) {
    for (let kx = 0; kx < g.k; kx++) {
      // Rows ky, ky + s, …, ky + s·(ho − 1) (and the same for columns) of the padded input.
      const win =
        g.stride === 1 && ho === xp.shape[1] - g.k + 1 && wo === xp.shape[2] - g.k + 1
          ? tf.slice(xp, [0, ky, kx, 0], [n, ho, wo, cIn])
          : tf.stridedSlice(xp, [0, ky, kx, 0], [n, ky + g.stride * (ho - 1) + 1, kx + g.stride * (wo - 1) + 1, cIn], [1, g.stride, g.stride, 1]);
      const prod = tf.matMul(dyT, tf.reshape(win, [m, cIn]) as tf.Tensor2D);
      win.dispose();
      parts.push(prod as tf.Tensor2D);
    }
  }
  // [k², cOut, cIn] → [k², cIn, cOut] → [k, k, cIn, cOut].
  return tf.reshape(tf.transpose(tf.stack(parts), [0, 2, 1]), [g.k, g.k, cIn, cOut]);
}
