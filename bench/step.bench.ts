/**
 * Step benchmark (npm run bench): reference MLP 784-308-308-10, batch 128, Adam, per-layer norms.
 *
 * Reports in one run, on one backend:
 *  - engine ms/step with all per-layer norms (median of N after warm-up),
 *  - engine ms/step without norm collection,
 *  - the floor: the step's bare matrix products (forward x·W per layer; backward dW = xᵀ·dy and
 *    dx = dy·Wᵀ with materialised transposes; no dx for the first layer, whose input is data), on
 *    fresh kernel tensors as in a real step (and, for reference, on constant ones),
 *  - ratios engine/floor and (with norms)/(without norms) − 1 against the targets 1.5 and 5 %.
 *
 * Options: --backend wasm|cpu|tensorflow|auto (or GRADFLOW_BENCH_BACKEND; default wasm),
 * --steps N (default 60), --warmup N (default 15), --sparse (bench an SC-SDC sparse net of width
 * 3076 with h_D = 308 instead of the dense reference).
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendPreference } from '../src/shared/experiment';
import { createRng } from '../src/shared/rng';
import { initBackend } from '../src/engine/backend';
import { heGain, mlpShapes, planLayers, scsdcActiveCounts } from '../src/engine/masks';
import { MaskedMLP } from '../src/engine/model';
import { createOptimizer } from '../src/engine/optimizers';
import { optimizerParams, trainStep, type Batch } from '../src/engine/step';
import { arg, median } from './util';
import { at } from '../src/shared/checked';



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
  const engineStep = (collectNorms: boolean) => (): void => {
    trainStep(net, opt, params, batch, { coupledL2: 0, collectNorms, checkIntegrity: masked });
  };

  // Floor: the bare products of the same step on the same backend, one sync at the end. In a
  // training step the kernels are new tensors every step (the optimizer replaced them), and on wasm
  // XNNPACK re-packs a new right-hand operand, so the floor's kernels are fresh copies each time too
  // (made outside the timed region). The constant-kernel variant is printed for reference.
  // The engine stores kernels as [out, in]; the floor uses the textbook [in, out] W of the brief.
  const Ws = net.kernels.map((_k, l) => tf.transpose(net.kernel(l)) as tf.Tensor2D);
  let fresh: tf.Tensor2D[] = [];
  const refresh = (): void => {
    tf.dispose(fresh);
    fresh = Ws.map((w) => tf.add(w, 0) as tf.Tensor2D);
  };
  const products = (W: tf.Tensor2D[]): void => {
    const r = tf.tidy(() => {
      const hs: tf.Tensor2D[] = [batch.x];
      // Forward with the fused kernel: on wasm it is the fastest plain product (and the engine uses it).
      for (let l = 0; l < W.length; l++) hs.push(tf.fused.matMul({ a: at(hs, l), b: at(W, l) }) as tf.Tensor2D);
      let dy = at(hs, hs.length - 1);
      const outs: tf.Tensor[] = [];
      for (let l = W.length - 1; l >= 0; l--) {
        outs.push(tf.matMul(tf.transpose(at(hs, l)), dy));
        if (l > 0) dy = tf.matMul(dy, tf.transpose(at(W, l)));
      }
      return tf.stack(outs.map((o) => tf.reshape(tf.slice(tf.reshape(o, [-1]), 0, 1), [])));
    });
    r.dataSync();
    r.dispose();
  };
  const floorStep = (): void => products(fresh);
  const floorConstStep = (): void => products(Ws);

  // The three workloads rotate step by step (order varied), so drift and other processes on a
  // shared machine hit all of them alike. Wall time is the headline; process CPU time (wasm and cpu
  // run on this thread) is printed too because it is far less sensitive to machine load.
  const work = [engineStep(true), engineStep(false), floorStep, floorConstStep];
  const wall: number[][] = [[], [], [], []];
  const cpu: number[][] = [[], [], [], []];
  refresh();
  for (let i = 0; i < warmup; i++) work.forEach((w) => w());
  const orders = [[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 0, 1], [3, 0, 1, 2], [0, 2, 1, 3], [1, 3, 0, 2]];
  for (let i = 0; i < steps; i++) {
    for (const k of at(orders, i % orders.length)) {
      if (k === 2) refresh();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      at(work, k)();
      const t1 = performance.now();
      const c1 = process.cpuUsage(c0);
      at(wall, k).push(t1 - t0);
      at(cpu, k).push((c1.user + c1.system) / 1000);
    }
  }
  const withNorms = median(at(wall, 0));
  const withoutNorms = median(at(wall, 1));
  const floor = median(at(wall, 2));
  const floorConst = median(at(wall, 3));
  const cWith = median(at(cpu, 0));
  const cWithout = median(at(cpu, 1));
  const cFloor = median(at(cpu, 2));
  const cFloorConst = median(at(cpu, 3));
  const bWith = Math.min(...at(wall, 0));
  const bWithout = Math.min(...at(wall, 1));
  const bFloor = Math.min(...at(wall, 2));
  const bFloorConst = Math.min(...at(wall, 3));
  const f = (x: number): string => x.toFixed(2);
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  console.log(`backend: ${backend}; load average ${at(os.loadavg(), 0).toFixed(2)} on ${os.cpus().length} cores`);
  console.log(`model: ${d}-${Array(H).fill(width).join('-')}-${C}${sparse ? ` (SC-SDC sparse, h_D=${hD})` : ''}, batch ${batchSize}, adam; ${steps} rotated samples after ${warmup} warm-up`);
  console.log('                                    median wall   median CPU   best wall');
  console.log(`engine step, all per-layer norms : ${f(withNorms).padStart(9)} ms ${f(cWith).padStart(9)} ms ${f(bWith).padStart(9)} ms`);
  console.log(`engine step, no norm collection  : ${f(withoutNorms).padStart(9)} ms ${f(cWithout).padStart(9)} ms ${f(bWithout).padStart(9)} ms`);
  console.log(`floor (bare matmuls + transposes): ${f(floor).padStart(9)} ms ${f(cFloor).padStart(9)} ms ${f(bFloor).padStart(9)} ms`);
  console.log(`floor, constant kernels (cached) : ${f(floorConst).padStart(9)} ms ${f(cFloorConst).padStart(9)} ms ${f(bFloorConst).padStart(9)} ms`);
  console.log(`engine / floor                   : ${f(withNorms / floor).padStart(9)} x  ${f(cWith / cFloor).padStart(9)} x  ${f(bWith / bFloor).padStart(9)} x   (target <= 1.5)`);
  console.log(`norm overhead (with/without − 1) : ${pct(withNorms / withoutNorms - 1).padStart(11)} ${pct(cWith / cWithout - 1).padStart(11)} ${pct(bWith / bWithout - 1).padStart(11)}    (target <= 5 %)`);
  console.log(`engine / constant-kernel floor   : ${f(withNorms / floorConst).padStart(9)} x  ${f(cWith / cFloorConst).padStart(9)} x  ${f(bWith / bFloorConst).padStart(9)} x`);
  tf.dispose(fresh);
  Ws.forEach((w) => w.dispose());
  net.dispose();
  opt.dispose();
  tf.dispose([batch.x, batch.y, batch.labels]);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
