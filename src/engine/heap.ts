/**
 * Host access to a float32 tensor's values for the engine's own loops (the sparse kernels, the conv
 * nets' max-pool backward and BatchNorm sums), without a copy where the backend allows it.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * The values of a float32 tensor, without a copy where possible: on the wasm backend a view into
 * its heap (`typedArrayFromHeap`, what its own kernels use), valid only until the next TF.js
 * operation — read it or hand it to a kernel at once, never keep it (a TF.js operation may grow the
 * heap, which detaches the view, or reuse freed memory); elsewhere dataSync().
 */
export function tensorValues(t: tf.Tensor): Float32Array {
  const b = tf.backend() as unknown as { typedArrayFromHeap?: (info: { shape: number[]; dtype: string; dataId: object }) => Float32Array };
  if (tf.getBackend() === 'wasm' && t.dtype === 'float32' && typeof b.typedArrayFromHeap === 'function') {
    const v = b.typedArrayFromHeap({ shape: t.shape, dtype: t.dtype, dataId: t.dataId });
    if (v instanceof Float32Array && v.length === t.size) return v;
  }
  return t.dataSync() as Float32Array;
}

/**
 * A 4-D float32 tensor of `values` that may be a view of memory a kernel reuses after this call (the
 * conv kernels' scratch, SparseConvKernels): the wasm backend copies the values into its heap when
 * the tensor is made, so the view is handed over as it is; other backends may keep the array itself
 * as the tensor's storage (cpu does), so they are given a copy.
 */
export function tensor4dFromScratch(values: Float32Array, shape: [number, number, number, number]): tf.Tensor4D {
  return tf.tensor4d(tf.getBackend() === 'wasm' ? values : values.slice(), shape);
}
