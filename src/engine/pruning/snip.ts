/**
 * SNIP connection sensitivity (Lee, Ajanthan, Torr 2019): s = |θ ⊙ ∂L/∂θ| per kernel entry, with
 * L the mean cross-entropy over the criterion batches (the gradient of the mean loss over the set:
 * per-batch mean-loss gradients averaged with weights n_b / Σn_b), in training mode (BatchNorm with
 * batch statistics, as every gradient the engine measures). Computed on the unpruned net.
 *
 * The published code sums the per-batch gradients instead of averaging them; the ranking is the
 * same (a positive factor), the values differ by that factor (docs/pruning.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainableNet } from '../net';
import { gradients, rawTensor, sumOverBatches, type Batch } from '../step';

/** Mean-loss kernel gradients over `batches`, as [fanIn, fanOut] row-major arrays (masks.ts layout). */
export function meanKernelGradients(net: TrainableNet, batches: Batch[]): Float32Array[] {
  if (batches.length === 0) throw new Error('a data-driven pruning criterion needs at least one batch');
  const grads = tf.tidy(() => {
    const { sums, total } = sumOverBatches(batches, (b) => gradients(net, b, 0).kernelRaw.map((t, l) => rawTensor(net, l, t)));
    // Stored layout → mask order [fanIn, fanOut].
    return (sums ?? []).map((s, l) => net.toMaskOrder(l, tf.div(s, total)));
  });
  const out = grads.map((g) => g.dataSync() as Float32Array);
  grads.forEach((g) => g.dispose());
  return out;
}

/** SNIP scores per weight layer, [fanIn, fanOut] row-major, in float64. */
export function snipScores(net: TrainableNet, batches: Batch[]): Float64Array[] {
  const g = meanKernelGradients(net, batches);
  return g.map((gl, l) => {
    const w = net.kernelArray(l);
    const s = new Float64Array(w.length);
    for (let i = 0; i < w.length; i++) s[i] = Math.abs(w[i]! * gl[i]!);
    return s;
  });
}
