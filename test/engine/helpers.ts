/** Shared fixtures for engine tests: a hand-built synthetic Dataset and a full ExperimentConfig. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset, Split } from '../../src/data/types';
import type { BackendName, ExperimentConfig } from '../../src/shared/experiment';
import { createRng } from '../../src/shared/rng';
import { initBackend } from '../../src/engine/backend';
import type { TrainHooks } from '../../src/engine/train';
import type { StepMetrics } from '../../src/shared/protocol';

/** Backend for tests: GRADFLOW_TEST_BACKEND (default cpu: no wasm start-up, deterministic). */
export async function testBackend(): Promise<BackendName> {
  const pref = (process.env.GRADFLOW_TEST_BACKEND ?? 'cpu') as BackendName;
  return initBackend(pref);
}

/** Linearly separable-ish classes: class c has mean +1 on feature c mod features, noise σ = 0.5. */
export function syntheticSplit(n: number, features: number, classes: number, seed: number): Split {
  const rng = createRng(seed);
  const x = new Float32Array(n * features);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(classes);
    y[i] = c;
    for (let f = 0; f < features; f++) x[i * features + f] = 0.5 * rng.normal() + (f % classes === c ? 1 : 0);
  }
  return { x, y, n };
}

export function syntheticDataset(features = 12, classes = 3, train = 96, val = 24, test = 24): Dataset {
  return {
    name: 'synthetic',
    shape: [1, features, 1],
    features,
    classes,
    train: syntheticSplit(train, features, classes, 1),
    validation: syntheticSplit(val, features, classes, 2),
    test: syntheticSplit(test, features, classes, 3),
    source: 'test/engine/helpers.ts',
  };
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };

export function config(over: DeepPartial<ExperimentConfig> = {}): ExperimentConfig {
  const base: ExperimentConfig = {
    name: 'test',
    dataset: { name: 'synthetic', validationFraction: 0.1 },
    model: { hiddenLayers: 2, width: 16, activation: 'relu', batchNorm: false, skip: false },
    sparsity: { method: 'random', denseWidth: 8, pair: true, init: 'dense-fan-in' },
    training: { optimizer: 'adam', learningRate: 0.01, momentum: 0.9, weightDecay: 0, augmentation: false, epochs: 3, batchSize: 32, seed: 7 },
    monitoring: {
      every: 1,
      explosion: { maxNorm: 1e6, growthFactor: 1e6, window: 5 },
      collapse: { minNorm: 0, steps: 1000 },
      onNan: 'stop',
    },
    run: { backend: 'cpu', runsDir: '/tmp' },
  };
  return {
    name: over.name ?? base.name,
    dataset: { ...base.dataset, ...over.dataset },
    model: { ...base.model, ...over.model },
    sparsity: { ...base.sparsity, ...over.sparsity },
    training: { ...base.training, ...over.training },
    monitoring: { ...base.monitoring, ...over.monitoring },
    run: { ...base.run, ...over.run },
  };
}

export { tf };

/** Locate a committed fixture both from tsc output (out/test/engine) and from a bundled temp file. */
export function fixturePath(name: string): string {
  const candidates = [
    path.resolve(__dirname, '../../../test/fixtures/engine', name),
    path.resolve(__dirname, '../fixtures/engine', name),
    path.resolve(process.cwd(), 'test/fixtures/engine', name),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`fixture ${name} not found in ${candidates.join(', ')}`);
  return found;
}

/** |a − b| ≤ atol + rtol·|b| for every element, with a useful message. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-5): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) throw new Error(`${what}[${i}]: ${a} vs expected ${e}`);
  }
}

/** Hooks for trainExperiment that keep the step metrics and the log lines (`level: message`) and ignore the rest. */
export function recordingHooks(): { hooks: TrainHooks; steps: StepMetrics[]; logs: string[] } {
  const steps: StepMetrics[] = [];
  const logs: string[] = [];
  const hooks: TrainHooks = {
    onReady: () => undefined,
    onStep: (m) => steps.push(m),
    onEpoch: () => undefined,
    onFlowPoint: () => undefined,
    onAlert: () => undefined,
    shouldStop: () => false,
    onLog: (level, message) => logs.push(`${level}: ${message}`),
  };
  return { hooks, steps, logs };
}
