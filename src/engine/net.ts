/**
 * The net interface: what the training loop (train.ts / loop.ts), one step and the flow measurement
 * (step.ts), mask integrity, dynamic sparsity and gradual pruning (pruning/dynamic.ts, gmp.ts) and
 * SNIP (pruning/snip.ts) need from a network. `MaskedMLP` (model.ts) implements it; the conv nets
 * (nn/) implement it too, so everything above runs unchanged on any architecture.
 *
 * Conventions every implementation keeps:
 *
 * - **Weight layers.** A net has `numLayers` weight layers (dense or conv kernels, the stem, 1×1
 *   projection shortcuts and the final linear layer included), index 0 = nearest the input. These are
 *   the L of EGF (method.md §3); biases, BatchNorm and activation parameters are not weight layers and
 *   are never masked or counted.
 * - **Two layouts of a kernel.** *Stored* layout is whatever the net computes with (MaskedMLP: V = Wᵀ,
 *   `[fanOut, fanIn]`; a conv net: TF.js's filter `[kh, kw, cIn, cOut]`). *Mask order* is one flat
 *   row-major `[fanIn, fanOut]` index space (masks.ts): `maskArray`, `kernelArray`,
 *   `denseKernelGradient`, `updateMask` and the layer plans use it. For a conv kernel `[kh, kw, cIn,
 *   cOut]` flattened row-major IS mask order with fanIn = kh·kw·cIn, fanOut = cOut.
 *   `toMaskOrder` converts a stored-layout tensor to mask order.
 * - **Inputs.** A batch's `x` is `[n, features]`, each row the example's values in the dataset's
 *   order (images: NHWC flattened, src/data/types.ts); a net with image inputs reshapes it to
 *   `[n, H, W, C]` itself (a free view). `xT` (`[features, n]`), when given, is shared by the nets of an
 *   SC-SDC pair; a net that has no use for it ignores it.
 * - **Gradients are RAW**: the backward pass returns dL/dW at every position of a kernel, pruned ones
 *   included (no mask, no L2); step.ts adds coupled L2, masks (`applyMask`) and hands the result to
 *   the optimizer. Pruned weights are stored as exact zeros, so the forward pass needs no mask.
 * - **Parameters.** `params` lists every trainable TF.js variable: the stored kernels of dense-path
 *   layers first, in layer order, then all others. `backward` returns the kernel gradients per
 *   weight layer and `other` aligned with the non-kernel entries of `params`, in that order.
 * - All tensor-returning methods are called inside a `tf.tidy` by their callers unless they say
 *   otherwise; nothing here disposes what it did not create.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NetRole } from '../shared/experiment';
import type { LayerInfo } from '../shared/protocol';
import type { ActiveIndex } from './flow';
import type { PathReport } from './masks';
import type { Optimizer } from './optimizers';
import type { DynamicModel } from './pruning/dynamic';
import type { SparseKernel, SparseKernels } from './sparse';

/**
 * How a weight layer's products run: 'dense' = TF.js products over the whole kernel (pruned entries
 * stored as zeros, the masked-dense reference); 'sparse' = only the active weights and their index,
 * products by the sparse kernels (sparse.ts; dense layers of the MLP only).
 */
export type KernelPath = 'dense' | 'sparse';

export type ParamKind = 'kernel' | 'bias' | 'bn' | 'activation';

export interface NetParam {
  variable: tf.Variable;
  kind: ParamKind;
  /** Weight layer index (0-based) the parameter belongs to (for BN / activations: the layer they follow). */
  layer: number;
}

/**
 * Kernel gradient of a sparse-path layer: dL/dV at the active entries (canonical order, sparse.ts),
 * plus the two factors of the full gradient dV = dzᵀ·h, for the raw (unmasked) norms.
 */
export interface SparseGrad {
  kind: 'sparse';
  layer: number;
  active: Float32Array;
  /** Output gradient [fanOut, batch] and layer input [fanIn, batch], unit-major. */
  dzT: tf.Tensor2D;
  inputT: tf.Tensor2D;
  /** The kernels that produced `active` (they also take the Gram norm; absent at flow points). */
  kernels?: SparseKernels;
}

/** RAW (unmasked) kernel gradient of one layer: a stored-layout tensor (dense path) or SparseGrad. */
export type KernelGrad = tf.Tensor | SparseGrad;

export function isSparseGrad(g: KernelGrad): g is SparseGrad {
  return (g as SparseGrad).kind === 'sparse';
}

/** The full stored-layout kernel gradient; for a sparse-path layer the dense product dzᵀ·h. Call inside a tidy. */
export function fullGradient(g: KernelGrad): tf.Tensor {
  return isSparseGrad(g) ? tf.matMul(g.dzT, tf.transpose(g.inputT)) : g;
}

/** backward(): kernel gradients per weight layer, then the other parameters' in `params` order. */
export interface ParamGrads {
  kernels: KernelGrad[];
  other: tf.Tensor[];
}

/**
 * One training-mode forward pass (BatchNorm on batch statistics) and what it needs to go back.
 * Created inside a tidy; its tensors live as long as that tidy.
 */
export interface TrainingPass {
  /** [batch, classes]. */
  logits: tf.Tensor2D;
  /**
   * The raw gradients of every parameter from dL/dlogits [batch, classes]. `rawKernels: false`
   * (default true) says the caller takes no raw norms: a layer whose products skip pruned entries
   * (a sparse-path conv layer, nn/convnet.ts) may then return raw ⊙ mask as a tensor instead.
   */
  backward(dLogits: tf.Tensor2D, options?: { rawKernels?: boolean }): ParamGrads;
  /**
   * Move the BatchNorm moving statistics by this pass's batch statistics (step.ts calls it once per
   * optimizer step, after the update; never at flow points or for criteria). No-op without BN.
   */
  updateMovingStats(): void;
}

/** Bytes a net holds, per kind (the run summary's `memoryBytes`). */
export interface NetMemory {
  /** Weights (stored kernels with their pruned zeros on the dense path, active weights on the sparse path) + biases, BN and activation parameters. */
  parameters: number;
  /** Masks (dense path: mask, 1 − mask, gather index) or the sparse index. */
  index: number;
  /** Optimizer state (of `opt` when given, plus state the net keeps itself). */
  optimizer: number;
}

/**
 * What the engine trains. `DynamicModel` (pruning/dynamic.ts) brings `numLayers`, `masked`,
 * `maskArray`, `kernelArray`, `denseKernelGradient` and `updateMask` (mask order, see above).
 */
export interface TrainableNet extends DynamicModel {
  readonly role: NetRole;
  /** The width reported in NetInfo (MLP: hidden units; conv nets: the widest designed layer). */
  readonly width: number;
  /** What `width` counts (NetInfo.widthOf). */
  readonly widthOf: 'units' | 'channels';
  /**
   * Per weight layer, what the protocol reports (name, fanIn, fanOut, active, total, density, dead
   * units). Names are unique and stable (`dense1`, `output`, `group2.block3.conv1`); alerts, charts
   * and the run log use them. Updated in place by `updateMask`.
   */
  readonly layerInfo: LayerInfo[];
  /** Σ active kernel weights over all layers (what SC-SDC matches; BN and biases not counted). */
  readonly activeWeights: number;
  /** Execution path per weight layer. */
  readonly paths: readonly KernelPath[];
  /** Trainable TF.js variables (see the module comment for their order). */
  readonly params: readonly NetParam[];
  /** Stored kernel of each dense-path layer; undefined for sparse-path layers. */
  readonly kernels: readonly (tf.Variable | undefined)[];
  /** The 0/1 mask of each masked dense-path layer in STORED layout (the integrity check and re-masking); undefined otherwise. */
  readonly masks: readonly (tf.Tensor | undefined)[];
  /** Sparse-path layers (undefined for dense-path ones; a net without a sparse path has none). */
  readonly sparse: readonly (SparseKernel | undefined)[];
  /**
   * Per layer, an optional column of ones [cols, 1] for a stored-layout kernel [rows, cols]: its
   * reductions become products (flow.sumAll). undefined = plain sums.
   */
  readonly onesCols: readonly (tf.Tensor2D | undefined)[];
  /**
   * Per masked layer of low density, where its active entries are in stored layout (flow.ActiveIndex,
   * last dimension of `idx` = the stored kernel's rank), so the masked norms reduce only those;
   * undefined = reduce the whole masked gradient (always correct).
   */
  readonly activeIndex: readonly (ActiveIndex | undefined)[];

  /** Stored kernel of dense-path layer l (throws for a sparse-path layer). */
  kernel(l: number): tf.Variable;
  /** Training-mode forward pass from `x` [n, features] (xT: its transpose, optional). Call inside a tidy. */
  trainingPass(x: tf.Tensor2D, xT?: tf.Tensor2D): TrainingPass;
  /** Eval-mode forward pass (BN on moving statistics): logits [n, classes]. Call inside a tidy. */
  predict(x: tf.Tensor2D): tf.Tensor2D;
  /** t ⊙ m for a stored-layout tensor of layer l (t itself for an unmasked layer). */
  applyMask(l: number, t: tf.Tensor): tf.Tensor;
  /** Σ|w| over the pruned entries of dense-path kernel l (0 while the mask holds); undefined if unmasked. */
  prunedMass(l: number): tf.Scalar | undefined;
  /** A stored-layout tensor of layer l (kernel or gradient) as a mask-order [fanIn, fanOut] tensor. Call inside a tidy. */
  toMaskOrder(l: number, t: tf.Tensor): tf.Tensor;
  /**
   * Which units are reachable through active weights at the net's INITIAL masks (masks.activePaths;
   * collapse-at-mask alerts). Conv nets count channels as units.
   */
  maskPaths(): PathReport;
  /** Register an optimizer whose per-entry state follows `updateMask` (reset for dropped and grown entries). */
  attachOptimizer(opt: Optimizer): void;
  memoryBytes(opt?: Optimizer): NetMemory;
  /** Free every tensor and kernel buffer the net holds. */
  dispose(): void;
}
