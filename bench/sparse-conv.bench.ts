/**
 * Sparse convolution benchmark (npm run bench; issue 19 "Speed"): the direct sparse convolution over
 * the active kernel entries (nn/sparse-conv.ts, wasm SIMD kernels in assembly/sparse.ts) against the
 * masked-dense path (TF.js conv2d, transposed conv and the filter gradient over the whole kernel with
 * pruned entries zero: nn/conv.ts) on the wasm backend. One "pass" is what a training step does with
 * a conv layer: forward, filter gradient and input gradient. The sparse pass includes what wiring it
 * into a net would add: reading the input and output-gradient tensors, and making tensors of its
 * output, input gradient and the gradient scattered to the kernel shape.
 *
 * Part 1, crossover: one layer (default the simple CNN's block-3 shape, 7×7×64 → 64, 3×3, stride 1,
 * and a WRN-like stride-2 layer, 16×16×64 → 128), batch 128, every density in the list, both paths
 * alternated sample by sample (order swapped every sample): sparse / masked-dense per density, and
 * the density where the ratio crosses 1 (linear interpolation).
 * Part 2, the simple CNN at ρ = 0.25 (28×28×1, batch 128): per conv layer of the SC-SDC pair, the
 * sparse net's layer on each path (at its SC-SDC density) and the dense twin's layer (TF.js); sums
 * over the conv layers: sparse-kernel / twin and masked-dense / twin.
 * Part 3, the whole training step of that pair (issue 19's "sparse step against its twin", target
 * ≤ 2.5×): step.ts's trainStep with BN, Adam, norms and the integrity check every step and the
 * default `auto` raw-norm cadence (raw norms on every 10th step for a net with a sparse-path layer,
 * so one sample = 10 steps, steps 0–9), for three nets on the same batches: the sparse net with its
 * masked convs on the sparse kernel (what `engine.sparse_kernels: auto` runs on wasm), the same net
 * masked-dense (`off`), and the dense twin: sparse / twin per path.
 *
 * Options: --samples N (default 5), --warmup N (1), --batch N (128), --part crossover|cnn|step|both|all
 * (default all; both = crossover and cnn),
 * --densities a,b,… (default 0.02,0.05,0.1,0.2,0.3,0.5,0.75,1).
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { createRng, type Rng } from '../src/shared/rng';
import { initBackend } from '../src/engine/backend';
import { layerOutputSizes, layerShape } from '../src/engine/nn/arch';
import { convKernelPaths, scsdcConvPair } from '../src/engine/nn/build';
import { conv2dFilterGrad, conv2dForward, conv2dInputGrad } from '../src/engine/nn/conv';
import { buildConvIndex, sparseConvOutSize, type ConvKernelGeometry } from '../src/engine/nn/sparse-conv';
import { ConvNet } from '../src/engine/nn/convnet';
import { rawNormEvery } from '../src/engine/flow';
import { heGain, planLayers, type LayerMaskPlan } from '../src/engine/masks';
import { createOptimizer } from '../src/engine/optimizers';
import { optimizerParams, trainStep } from '../src/engine/step';
import { at } from '../src/shared/checked';
import { sparseKernels } from '../src/engine/sparse';
import { tensor4dFromScratch } from '../src/engine/heap';
import { arg, median } from './util';

interface LayerCase {
  name: string;
  N: number;
  H: number;
  W: number;
  g: ConvKernelGeometry;
}

interface Timed {
  wall: number;
  cpu: number;
}

function timed(f: () => void): Timed {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const wall = performance.now() - t0;
  const c1 = process.cpuUsage(c0);
  return { wall, cpu: (c1.user + c1.system) / 1000 };
}

function randomMask(n: number, active: number, rng: Rng): Float32Array {
  const order = Array.from({ length: n }, (_v, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i] ?? 0;
    order[i] = order[j] ?? 0;
    order[j] = t;
  }
  const m = new Float32Array(n);
  for (let i = 0; i < active; i++) m[order[i] ?? 0] = 1;
  return m;
}

/** The three passes of one layer on each path, on the same tensors. */
function layerPasses(c: LayerCase, active: number, rng: Rng): { sparse: () => void; dense: () => void; dispose: () => void } {
  const { k, cin, cout } = c.g;
  const n = k * k * cin * cout;
  const mask = randomMask(n, active, rng);
  const w = Float32Array.from({ length: n }, (_v, i) => (mask[i] ?? 0) * rng.normal() * 0.1);
  const Ho = sparseConvOutSize(c.H, c.g);
  const Wo = sparseConvOutSize(c.W, c.g);
  const x = tf.randomNormal([c.N, c.H, c.W, cin]) as tf.Tensor4D;
  const dy = tf.randomNormal([c.N, Ho, Wo, cout]) as tf.Tensor4D;
  const wt = tf.tensor4d(w, [k, k, cin, cout]);
  const ix = buildConvIndex(c.g, mask);
  const values = new Float32Array(ix.k);
  for (let i = 0, q = 0; i < n; i++) if (mask[i] !== 0) values[q++] = w[i] ?? 0;
  const kernels = sparseKernels().kernels.conv;
  const s = { N: c.N, H: c.H, W: c.W };
  const sparse = (): void => {
    const xs = x.dataSync() as Float32Array;
    const y = tensor4dFromScratch(kernels.forward(ix, values, xs, s), [c.N, Ho, Wo, cout]);
    const r = kernels.backprop(ix, values, xs, dy.dataSync() as Float32Array, s, true);
    // The gradient as the kernel-shaped tensor a net's optimizer and norms take.
    const full = new Float32Array(n);
    for (let i = 0, q = 0; i < n; i++) if (mask[i] !== 0) full[i] = r.grad[q++] ?? 0;
    const gt = tf.tensor2d(full, [k * k * cin, cout]);
    const dx = tensor4dFromScratch(r.dInput ?? new Float32Array(0), [c.N, c.H, c.W, cin]);
    tf.dispose([y, gt, dx]);
  };
  const dense = (): void => {
    tf.tidy(() => {
      conv2dForward(x, wt, c.g);
      conv2dFilterGrad(x, dy, c.g, cout);
      conv2dInputGrad(dy, wt, x.shape, c.g);
    });
  };
  return { sparse, dense, dispose: () => tf.dispose([x, dy, wt]) };
}

/** Alternated samples of several workloads (order rotated every sample); medians per workload. */
function alternate(work: (() => void)[], samples: number, warmup: number): Timed[] {
  for (let i = 0; i < warmup; i++) work.forEach((f) => f());
  const got: Timed[][] = work.map(() => []);
  for (let i = 0; i < samples; i++) {
    for (let j = 0; j < work.length; j++) {
      const k = (i + j) % work.length;
      const f = work[k];
      if (f) got[k]?.push(timed(f));
    }
  }
  return got.map((ts) => ({ wall: median(ts.map((t) => t.wall)), cpu: median(ts.map((t) => t.cpu)) }));
}

/**
 * The density above which the masked-dense path stays faster: the last crossing of ratio 1 (linear
 * interpolation), so one noisy sample below it does not count as the crossover.
 */
function crossover(densities: number[], ratios: number[]): string {
  let last = -1;
  ratios.forEach((r, i) => {
    if (r < 1) last = i;
  });
  if (last < 0) return `none (masked-dense faster at every density from ${densities[0] ?? NaN})`;
  if (last === ratios.length - 1) return `above ${densities[last] ?? NaN} (sparse faster at every density up to it)`;
  const r0 = ratios[last] ?? NaN;
  const r1 = ratios[last + 1] ?? NaN;
  const d0 = densities[last] ?? NaN;
  const d1 = densities[last + 1] ?? NaN;
  return (d0 + ((1 - r0) / (r1 - r0)) * (d1 - d0)).toFixed(2);
}

async function main(): Promise<void> {
  const samples = Number(arg('samples') ?? 5);
  const warmup = Number(arg('warmup') ?? 1);
  const N = Number(arg('batch') ?? 128);
  const part = arg('part') ?? 'all';
  const densities = (arg('densities') ?? '0.02,0.05,0.1,0.2,0.3,0.5,0.75,1').split(',').map(Number);
  const backend = await initBackend('wasm');
  const { kernels, note } = sparseKernels();
  const rng = createRng(7);
  const f = (x: number): string => x.toFixed(1).padStart(8);
  console.log(`sparse convolution: ${kernels.impl}${note ? ` (${note})` : ''} vs masked-dense on ${backend}; load average ${(os.loadavg()[0] ?? NaN).toFixed(2)} on ${os.cpus().length} cores`);

  if (part === 'crossover' || part === 'both' || part === 'all') {
    const cases: LayerCase[] = [
      { name: 'simple CNN block 3: 7×7×64 → 64, 3×3 stride 1', N, H: 7, W: 7, g: { k: 3, stride: 1, pad: 1, cin: 64, cout: 64 } },
      { name: 'WRN-like: 16×16×64 → 128, 3×3 stride 2', N, H: 16, W: 16, g: { k: 3, stride: 2, pad: 1, cin: 64, cout: 128 } },
    ];
    for (const c of cases) {
      console.log(`\n${c.name}, batch ${N}; ${samples} alternated samples after ${warmup} warm-up per density`);
      console.log('density   sparse wall  masked wall  ratio    sparse CPU   masked CPU  ratio');
      const wallRatios: number[] = [];
      const cpuRatios: number[] = [];
      for (const d of densities) {
        const n = c.g.k * c.g.k * c.g.cin * c.g.cout;
        const p = layerPasses(c, Math.round(d * n), rng.fork(`${c.name} ${d}`));
        const [sp, de] = alternate([p.sparse, p.dense], samples, warmup);
        p.dispose();
        if (!sp || !de) continue;
        wallRatios.push(sp.wall / de.wall);
        cpuRatios.push(sp.cpu / de.cpu);
        console.log(`${d.toFixed(2).padStart(7)} ${f(sp.wall)} ms ${f(de.wall)} ms ${(sp.wall / de.wall).toFixed(2).padStart(6)} ${f(sp.cpu)} ms ${f(de.cpu)} ms ${(sp.cpu / de.cpu).toFixed(2).padStart(6)}`);
      }
      console.log(`crossover (sparse = masked-dense): wall ${crossover(densities, wallRatios)}, CPU ${crossover(densities, cpuRatios)}`);
    }
  }

  if (part === 'cnn' || part === 'both' || part === 'all') {
    const spec = { architecture: 'cnn' as const, input: [28, 28, 1] as [number, number, number], classes: 10, activation: 'relu' as const, batchNorm: true };
    const pair = scsdcConvPair(spec, { density: 0.25 });
    // Every conv of the simple CNN is 'same' with stride 1: its input map is its output map.
    const sizes = layerOutputSizes(pair.sparse);
    console.log(`\nsimple CNN SC-SDC pair at ρ = 0.25, 28×28×1, batch ${N}: conv layers (forward + filter gradient + input gradient; block 1 without input gradient in a net, timed with it here)`);
    console.log('layer           density  sparse kernel   masked-dense     twin (dense)   (median CPU ms)');
    const sums = [0, 0, 0];
    const wallSums = [0, 0, 0];
    pair.sparse.layers.forEach((d, l) => {
      if (d.kind !== 'conv') return;
      const t = pair.dense.layers[l];
      const H = sizes[l]?.[0] ?? 1;
      const active = pair.activeCounts[l] ?? 0;
      const gs: ConvKernelGeometry = { k: d.k, stride: d.stride, pad: d.pad, cin: d.cin, cout: d.cout };
      const sp = layerPasses({ name: d.name, N, H, W: H, g: gs }, active, rng.fork(`${d.name} sparse`));
      const tw = t ? layerPasses({ name: `${d.name} twin`, N, H, W: H, g: { k: t.k, stride: t.stride, pad: t.pad, cin: t.cin, cout: t.cout } }, t.k * t.k * t.cin * t.cout, rng.fork(`${d.name} twin`)) : undefined;
      if (!tw) return;
      const r = alternate([sp.sparse, sp.dense, tw.dense], samples, warmup);
      sp.dispose();
      tw.dispose();
      r.forEach((x, i) => {
        sums[i] = (sums[i] ?? 0) + x.cpu;
        wallSums[i] = (wallSums[i] ?? 0) + x.wall;
      });
      const density = active / (d.k * d.k * d.cin * d.cout);
      console.log(`${d.name.padEnd(16)} ${density.toFixed(3)} ${f(r[0]?.cpu ?? NaN)}       ${f(r[1]?.cpu ?? NaN)}       ${f(r[2]?.cpu ?? NaN)}`);
    });
    const [s0, s1, s2] = sums;
    const [w0, w1, w2] = wallSums;
    console.log(`sum of conv layers (CPU ms): sparse kernel ${f(s0 ?? NaN)}, masked-dense ${f(s1 ?? NaN)}, twin ${f(s2 ?? NaN)}`);
    console.log(`conv layers sparse/twin: with the sparse kernel ${((s0 ?? NaN) / (s2 ?? NaN)).toFixed(2)}× CPU (${((w0 ?? NaN) / (w2 ?? NaN)).toFixed(2)}× wall), masked-dense ${((s1 ?? NaN) / (s2 ?? NaN)).toFixed(2)}× CPU (${((w1 ?? NaN) / (w2 ?? NaN)).toFixed(2)}× wall)`);
  }

  if (part === 'step' || part === 'all') stepPart(N, samples, warmup, f);
}

/** Part 3 (see the file comment): ten training steps per sample of each net of the pair. */
function stepPart(N: number, samples: number, warmup: number, f: (x: number) => string): void {
  const spec = { architecture: 'cnn' as const, input: [28, 28, 1] as [number, number, number], classes: 10, activation: 'relu' as const, batchNorm: true };
  const pair = scsdcConvPair(spec, { density: 0.25 });
  const rng = createRng(19);
  const sparsePlans = planLayers({
    shapes: pair.sparse.layers.map(layerShape),
    activeCounts: pair.activeCounts,
    denseFanIns: pair.denseFanIns,
    method: 'random',
    init: 'dense-fan-in',
    gain: heGain('relu'),
    rng: rng.fork('sparse'),
  });
  const copy = (): LayerMaskPlan[] => sparsePlans.map((q) => ({ ...q, kernel: Float32Array.from(q.kernel), ...(q.mask ? { mask: Float32Array.from(q.mask) } : {}) }));
  const twinPlans = planLayers({ shapes: pair.dense.layers.map(layerShape), method: 'none', init: 'dense-fan-in', gain: heGain('relu'), rng: rng.fork('twin') });
  const paths = convKernelPaths(sparsePlans, pair.sparse.layers, 'auto', tf.getBackend());
  const nets = [
    new ConvNet({ role: 'sparse', blueprint: pair.sparse, plans: copy(), paths }),
    new ConvNet({ role: 'sparse', blueprint: pair.sparse, plans: copy() }),
    new ConvNet({ role: 'dense', blueprint: pair.dense, plans: twinPlans }),
  ];
  const runs = nets.map((net) => {
    const opt = createOptimizer({ name: 'adam', learningRate: 1e-3, momentum: 0, decoupledDecay: 0 });
    net.attachOptimizer(opt);
    const layers = net.paths.map((path, l) => ({ masked: net.masked[l] ?? false, path }));
    return { net, opt, params: optimizerParams(net), every: rawNormEvery('auto', layers) };
  });
  const x = tf.randomNormal([N, 28 * 28]) as tf.Tensor2D;
  const labels = tf.tensor1d(Int32Array.from({ length: N }, () => rng.int(10)), 'int32');
  const y = tf.cast(tf.oneHot(labels, 10), 'float32') as tf.Tensor2D;
  const batch = { x, y, labels, n: N };
  const work = runs.map((r) => (): void => {
    for (let step = 0; step < 10; step++) {
      const raw = step % r.every === 0;
      trainStep(r.net, r.opt, r.params, batch, { coupledL2: 0, collectNorms: true, checkIntegrity: r.net.masks.some((m) => m !== undefined), rawL1: raw, rawL2: raw });
    }
  });
  console.log(`
simple CNN SC-SDC pair at ρ = 0.25 with BN, 28×28×1, batch ${N}: whole training step (trainStep, Adam, norms + integrity every step, auto raw cadence: sparse kernel every ${at(runs, 0).every}th step); ${samples} alternated samples of 10 steps after ${warmup} warm-up`);
  console.log(`sparse net paths: ${nets[0]?.layerInfo.map((l) => `${l.name} ${l.path}`).join(', ') ?? ''}`);
  const [sk, md, tw] = alternate(work, samples, warmup);
  runs.forEach((r) => {
    r.opt.dispose();
    r.net.dispose();
  });
  tf.dispose([x, y, labels]);
  if (!sk || !md || !tw) return;
  console.log('net                         wall ms/step   CPU ms/step');
  const row = (name: string, t: Timed): void => console.log(`${name.padEnd(27)} ${f(t.wall / 10)}      ${f(t.cpu / 10)}`);
  row('sparse, sparse kernel', sk);
  row('sparse, masked-dense', md);
  row('dense twin', tw);
  console.log(`sparse step / twin step (target ≤ 2.5×): sparse kernel ${(sk.cpu / tw.cpu).toFixed(2)}× CPU (${(sk.wall / tw.wall).toFixed(2)}× wall), masked-dense ${(md.cpu / tw.cpu).toFixed(2)}× CPU (${(md.wall / tw.wall).toFixed(2)}× wall)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
