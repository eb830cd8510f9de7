import type { DatasetName } from '../shared/experiment';

/** One split, examples stored row-major: example i occupies x[i*features .. (i+1)*features). */
export interface Split {
  /** Normalised inputs, NHWC flattened (per-channel mean/std from the training split). */
  x: Float32Array;
  /** Class labels 0..classes-1. */
  y: Uint8Array;
  n: number;
}

/**
 * Per-channel normalisation applied to every split: x = (v - mean[c]) / std[c], where v is the raw
 * value (pixels scaled to [0, 1]; synthetic features as generated). Computed on the train split only.
 */
export interface Normalization {
  mean: number[];
  std: number[];
  /** What a raw 0 (a black pixel) becomes after normalisation, per channel: -mean/std. Pad value for crops. */
  zero: number[];
}

export interface Dataset {
  name: DatasetName;
  /** [height, width, channels]; synthetic data uses [1, features, 1]. */
  shape: readonly [number, number, number];
  features: number;
  classes: number;
  train: Split;
  validation: Split;
  test: Split;
  /** Where the data came from (file path, cache file or npm package), for the run record. */
  source: string;
  /**
   * The statistics used to normalise (optional so that hand-built test datasets stay valid;
   * `loadDataset` always sets it). `defaultAugment(name, dataset)` reads `zero` from here.
   */
  normalization?: Normalization;
}

export interface AugmentOptions {
  /** Zero-padding (in pixels, after normalisation the pad value is the per-channel value of a black pixel) for random crops. */
  pad: number;
  /** Random horizontal flip with probability 1/2. */
  flip: boolean;
  /**
   * Per-channel value written into the padding, in normalised space (`Normalization.zero`, i.e.
   * what a black pixel maps to). Missing: 0, which is the channel mean, not black — so pass it.
   */
  padValue?: readonly number[];
}
