/**
 * Synthetic data for tests and quick tries: Gaussian class clusters. Each class k has a centroid
 * μ_k with entries N(0, a²), a = SEPARATION/√features; an example is μ_y + N(0, 1) noise per
 * feature. Two centroids are then ≈ SEPARATION·√2 apart whatever the dimension, so the pairwise
 * Bayes error is Φ(−SEPARATION/√2) ≈ 0.2 %: easily learnable (a small MLP or a nearest-centroid
 * rule is far above chance) but not trivially separable. Labels are balanced (i mod classes), then
 * shuffled. Everything is drawn from the run seed, in separate forks for centroids, train and test,
 * so changing testSize does not change the training data.
 */
import type { SyntheticSpec } from '../shared/experiment';
import { createRng, permutation, type Rng } from '../shared/rng';
import { DatasetError } from './errors';
import type { RawData } from './raw';

export const SEPARATION = 4;

function draw(rng: Rng, n: number, spec: SyntheticSpec, centroids: Float64Array): { x: Float32Array; y: Uint8Array } {
  const d = spec.features;
  const order = permutation(n, rng.fork('order'));
  const x = new Float32Array(n * d);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = order[i] % spec.classes;
    y[i] = k;
    for (let j = 0; j < d; j++) x[i * d + j] = centroids[k * d + j] + rng.normal();
  }
  return { x, y };
}

export function generateSynthetic(spec: SyntheticSpec | undefined, seed: number): RawData {
  if (!spec) throw new DatasetError('synthetic', 'dataset.synthetic {features, classes, trainSize, testSize} is required');
  for (const [k, v] of Object.entries(spec)) {
    if (!Number.isInteger(v) || v < 1) throw new DatasetError('synthetic', `synthetic.${k} must be a positive integer, got ${String(v)}`);
  }
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
    shape: [1, spec.features, 1],
    classes: spec.classes,
    trainX: train.x,
    trainY: train.y,
    nTrain: spec.trainSize,
    testX: test.x,
    testY: test.y,
    nTest: spec.testSize,
    source: `synthetic: ${spec.classes} Gaussian clusters in ${spec.features} features, separation ${SEPARATION}, seed ${seed}`,
  };
}
