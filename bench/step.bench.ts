/**
 * Step benchmark (npm run bench): reference MLP 784-308-308-10, batch 128, Adam, per-layer norms.
 *
 * Reports in one run, on one backend:
 *  - engine ms/step with all per-layer norms (median of N after warm-up),
 *  - engine ms/step without norm collection,
 *  - the floor: the step's bare matrix products (forward x·W per layer; backward dW = xᵀ·dy and
 *    dx = dy·Wᵀ with materialised transposes; no dx for the first layer, whose input is data),
 *  - ratios engine/floor and (with norms)/(without norms) − 1 against the targets 1.5 and 5 %.
 *
 * Options: --backend wasm|cpu|tensorflow|auto (or GRADFLOW_BENCH_BACKEND; default wasm),
 * --steps N (default 60), --warmup N (default 15), --sparse (bench an SC-SDC sparse net of width
 * 3076 with h_D = 308 instead of the dense reference).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendPreference } from '../src/shared/experiment';
import { createRng } from '../src/shared/rng';
import { initBackend } from '../src/engine/backend';
import { heGain, mlpShapes, planLayers, scsdcActiveCounts } from '../src/engine/masks';
import { MaskedMLP } from '../src/engine/model';
import { createOptimizer } from '../src/engine/optimizers';
import { optimizerParams, trainStep, type Batch } from '../src/engine/step';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function timeIt(warmup: number, n: number, f: () => void): number {
  for (let i = 0; i < warmup; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

async function main(): Promise<void> {
  const pref = (arg('backend') ?? process.env.GRADFLOW_BENCH_BACKEND ?? 'wasm') as BackendPreference;
  const steps = Number(arg('steps') ?? 60);
  const warmup = Number(arg('warmup') ?? 15);
  const sparse = process.argv.includes('--sparse');
  const backend = await initBackend(pref);
  const d = 784;
  const C = 10;
  const hD = 308;
  const width = sparse ? 3076 : hD;
  const H = 2;
  const batchSize = 128;
  const rng = createRng(1);

  const shapes = mlpShapes(d, width, H, C);
  const plans = planLayers({
    shapes,
    activeCounts: sparse ? scsdcActiveCounts(d, hD, H, C) : undefined,
    denseFanIns: mlpShapes(d, hD, H, C).map((s) => s.fanIn),
    method: sparse ? 'random' : 'none',
    init: 'dense-fan-in',
    gain: heGain('relu'),
    rng,
  });
  const common = { inputs: d, classes: C, hiddenLayers: H, activation: 'relu' as const, batchNorm: false, skip: false, plans };
  const net = new MaskedMLP({ ...common, role: sparse ? 'sparse' : 'dense', width });
  const opt = createOptimizer({ name: 'adam', learningRate: 1e-3, momentum: 0.9, decoupledDecay: 0 });
  const params = optimizerParams(net);

  const xs = new Float32Array(batchSize * d);
  for (let i = 0; i < xs.length; i++) xs[i] = rng.normal();
  const labels = new Int32Array(batchSize);
  for (let i = 0; i < batchSize; i++) labels[i] = rng.int(C);
  const lab = tf.tensor1d(labels, 'int32');
  const batch: Batch = { x: tf.tensor2d(xs, [batchSize, d]), y: tf.cast(tf.oneHot(lab, C), 'float32') as tf.Tensor2D, labels: lab, n: batchSize };

  const masked = net.masks.some((m) => m !== undefined);
  const run = (collectNorms: boolean): void => {
    trainStep(net, opt, params, batch, { coupledL2: 0, collectNorms, checkIntegrity: masked });
  };
  // With and without norms alternate step by step, so drift (heap growth, CPU frequency) hits both
  // equally; the medians are then compared.
  for (let i = 0; i < warmup; i++) {
    run(true);
    run(false);
  }
  const tWith: number[] = [];
  const tWithout: number[] = [];
  for (let i = 0; i < steps; i++) {
    for (const c of i % 2 ? [true, false] : [false, true]) {
      const t0 = performance.now();
      run(c);
      (c ? tWith : tWithout).push(performance.now() - t0);
    }
  }
  const withNorms = median(tWith);
  const withoutNorms = median(tWithout);

  // Floor: the bare products of the same step on the same backend, one sync at the end.
  const Ws = net.kernels.map((k) => tf.clone(k) as tf.Tensor2D);
  const floor = timeIt(warmup, steps, () => {
    const r = tf.tidy(() => {
      const hs: tf.Tensor2D[] = [batch.x];
      // Forward with the fused kernel: on wasm it is the fastest plain product (and the engine uses it).
      for (let l = 0; l < Ws.length; l++) hs.push(tf.fused.matMul({ a: hs[l], b: Ws[l] }));
      let dy = hs[hs.length - 1];
      const outs: tf.Tensor[] = [];
      for (let l = Ws.length - 1; l >= 0; l--) {
        outs.push(tf.matMul(tf.transpose(hs[l]), dy));
        if (l > 0) dy = tf.matMul(dy, tf.transpose(Ws[l]));
      }
      return tf.stack(outs.map((o) => tf.reshape(tf.slice(tf.reshape(o, [-1]), 0, 1), [])));
    });
    r.dataSync();
    r.dispose();
  });
  const engine = withNorms;
  const ratio = engine / floor;
  const overhead = engine / withoutNorms - 1;
  const f = (x: number): string => x.toFixed(2);
  console.log(`backend: ${backend}`);
  console.log(`model: ${d}-${Array(H).fill(width).join('-')}-${C}${sparse ? ` (SC-SDC sparse, h_D=${hD})` : ''}, batch ${batchSize}, adam, median of ${steps} after ${warmup} warm-up`);
  console.log(`engine step, all per-layer norms : ${f(engine)} ms`);
  console.log(`engine step, no norm collection  : ${f(withoutNorms)} ms`);
  console.log(`floor (bare matmuls + transposes): ${f(floor)} ms`);
  console.log(`engine / floor                   : ${f(ratio)}x  (target <= 1.5)`);
  console.log(`norm overhead                    : ${(overhead * 100).toFixed(1)} %  (target <= 5 %)`);
  Ws.forEach((w) => w.dispose());
  net.dispose();
  opt.dispose();
  tf.dispose([batch.x, batch.y, batch.labels]);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
