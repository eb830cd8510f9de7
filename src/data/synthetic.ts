/**
 * Synthetic data for tests and quick tries: Gaussian class clusters. Each class k has a centroid
 * μ_k with entries N(0, a²), a = SEPARATION/√features; an example is μ_y + N(0, 1) noise per
 * feature. Two centroids are then ≈ SEPARATION·√2 apart whatever the dimension, so the pairwise
 * Bayes error is Φ(−SEPARATION/√2) ≈ 0.2 %: easily learnable (a small MLP or a nearest-centroid
 * rule is far above chance) but not trivially separable. Labels are balanced (i mod classes), then
 * shuffled. Everything is drawn from the run seed, in separate forks for centroids, train and test,
 * so changing testSize does not change the training data. With `shape` [H, W, C] the same values are
 * laid out as NHWC images (docs/experiment-file.md, `dataset.synthetic.shape`).
 */
import type { SyntheticSpec } from '../shared/experiment';
import { createRng, permutation, type Rng } from '../shared/rng';
import { DatasetError } from './errors';
import type { RawData } from './raw';
import { atF64, atU32 } from '../shared/checked';

export const SEPARATION = 4;

function draw(rng: Rng, n: number, spec: SyntheticSpec, centroids: Float64Array): { x: Float32Array; y: Uint8Array } {
  const d = spec.features;
  const order = permutation(n, rng.fork('order'));
  const x = new Float32Array(n * d);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = atU32(order, i) % spec.classes;
    y[i] = k;
    for (let j = 0; j < d; j++) x[i * d + j] = atF64(centroids, k * d + j) + rng.normal();
  }
  return { x, y };
}

/**
 * [H, W, C] of the examples: `spec.shape` (images, NHWC; its product must be `features`), else
 * [1, features, 1]. The values do not depend on the shape: an image is the flat example laid out row
 * by row, channel innermost.
 */
function imageShape(spec: SyntheticSpec): [number, number, number] {
  if (spec.shape === undefined) return [1, spec.features, 1];
  const s = spec.shape;
  if (s.length !== 3 || !s.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new DatasetError('synthetic', `synthetic.shape must be [height, width, channels] of positive integers, got [${s.join(', ')}]`);
  }
  if (s[0] * s[1] * s[2] !== spec.features) {
    throw new DatasetError('synthetic', `synthetic.shape [${s.join(', ')}] has ${s[0] * s[1] * s[2]} values per example, but synthetic.features is ${spec.features}`);
  }
  return [s[0], s[1], s[2]];
}

export function generateSynthetic(spec: SyntheticSpec | undefined, seed: number): RawData {
  if (!spec) throw new DatasetError('synthetic', 'dataset.synthetic {features, classes, trainSize, testSize} is required');
  for (const [k, v] of Object.entries(spec)) {
    if (k === 'shape') continue;
    if (!Number.isInteger(v) || v < 1) throw new DatasetError('synthetic', `synthetic.${k} must be a positive integer, got ${String(v)}`);
  }
  const shape = imageShape(spec);
  if (spec.classes < 2 || spec.classes > 256) throw new DatasetError('synthetic', `synthetic.classes must be 2..256, got ${spec.classes}`);
  const base = createRng(seed).fork('synthetic');
  const cRng = base.fork('centroids');
  const trainRng = base.fork('train');
  const testRng = base.fork('test');
  const a = SEPARATION / Math.sqrt(spec.features);
  const centroids = new Float64Array(spec.classes * spec.features);
  for (let i = 0; i < centroids.length; i++) centroids[i] = a * cRng.normal();
  const train = draw(trainRng, spec.trainSize, spec, centroids);
  const test = draw(testRng, spec.testSize, spec, centroids);
  return {
    shape,
    classes: spec.classes,
    trainX: train.x,
    trainY: train.y,
    nTrain: spec.trainSize,
    testX: test.x,
    testY: test.y,
    nTest: spec.testSize,
    source: `synthetic: ${spec.classes} Gaussian clusters in ${spec.features} features${spec.shape ? ` as ${shape.join('×')} images` : ''}, separation ${SEPARATION}, seed ${seed}`,
  };
}
