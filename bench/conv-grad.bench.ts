/**
 * Conv gradient paths per layer shape (issue 19 "Speed"; not part of `npm run bench`, a tool for
 * choosing the paths in src/engine/nn/conv.ts): on WRN-16-4's conv layer shapes at one batch size,
 * each candidate against the other in the same process, alternated sample by sample (order swapped
 * every sample), medians of process CPU time (single-threaded, the steadier figure under load):
 *  - filter gradient: `im2col` (k² products over strided window slices) against `conv` (one forward
 *    convolution with batch and channels swapped, dilation = stride) and, where the backend has
 *    one, its own Conv2DBackpropFilter kernel (`native`);
 *  - input gradient of strided layers: `transpose` (tf.conv2dTranspose, the backend's
 *    Conv2DBackpropInput) against `phase` (one stride-1 convolution over the stride's phases and a
 *    depth-to-space interleave);
 *  - input gradient of stride-1 layers: the rotated-kernel forward convolution (what runs) against
 *    the transposed convolution, for the record.
 * The largest absolute difference between the candidates' results is printed beside each line (a
 * sanity check; the tests compare against PyTorch).
 *
 * --part kernels (the default): per layer shape and pass (forward, input gradient, filter gradient),
 * the paths `auto` took before the engine's own kernels (XNNPACK's convolution; the rotated-kernel or
 * phase input gradient; the convolution or im2col filter gradient) against the kernel `auto` takes
 * now (nn/fastconv.ts: Winograd for 3×3 stride-1 layers, the im2col products for the rest), and the
 * sums over the net. --part paths: the comparison above of the TF.js gradient paths.
 *
 * Options: --batch N (default 32), --samples N (default 5), --backend wasm|cpu (default wasm),
 * --part kernels|paths.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendPreference } from '../src/shared/experiment';
import { createRng } from '../src/shared/rng';
import { initBackend } from '../src/engine/backend';
import { conv2dFilterGrad, conv2dForward, conv2dInputGrad, convFilterGrad, convOutSize, fastPath, hasNativeFilterGrad, im2colFilterGrad, phaseInputGrad, type ConvGeometry } from '../src/engine/nn/conv';
import { at } from '../src/shared/checked';
import { arg, median } from './util';

interface Shape {
  name: string;
  /** How many layers of WRN-16-4 have this shape. */
  count: number;
  H: number;
  cIn: number;
  cOut: number;
  g: ConvGeometry;
}

const SHAPES: Shape[] = [
  { name: 'stem 32² 3→16', count: 1, H: 32, cIn: 3, cOut: 16, g: { k: 3, stride: 1, pad: 1 } },
  { name: 'g1 32² 16→64', count: 1, H: 32, cIn: 16, cOut: 64, g: { k: 3, stride: 1, pad: 1 } },
  { name: 'g1 32² 16→64 1×1', count: 1, H: 32, cIn: 16, cOut: 64, g: { k: 1, stride: 1, pad: 0 } },
  { name: 'g1 32² 64→64', count: 3, H: 32, cIn: 64, cOut: 64, g: { k: 3, stride: 1, pad: 1 } },
  { name: 'g2 32² 64→128 s2', count: 1, H: 32, cIn: 64, cOut: 128, g: { k: 3, stride: 2, pad: 1 } },
  { name: 'g2 32² 64→128 1×1 s2', count: 1, H: 32, cIn: 64, cOut: 128, g: { k: 1, stride: 2, pad: 0 } },
  { name: 'g2 16² 128→128', count: 3, H: 16, cIn: 128, cOut: 128, g: { k: 3, stride: 1, pad: 1 } },
  { name: 'g3 16² 128→256 s2', count: 1, H: 16, cIn: 128, cOut: 256, g: { k: 3, stride: 2, pad: 1 } },
  { name: 'g3 16² 128→256 1×1 s2', count: 1, H: 16, cIn: 128, cOut: 256, g: { k: 1, stride: 2, pad: 0 } },
  { name: 'g3 8² 256→256', count: 3, H: 8, cIn: 256, cOut: 256, g: { k: 3, stride: 1, pad: 1 } },
];

function cpuMs(f: () => tf.Tensor): { ms: number; out: Float32Array } {
  const c0 = process.cpuUsage();
  const t = tf.tidy(f);
  const out = Float32Array.from(t.dataSync());
  const c1 = process.cpuUsage(c0);
  t.dispose();
  return { ms: (c1.user + c1.system) / 1000, out };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(at(a, i) - at(b, i)));
  return m;
}

/** Alternates the candidates sample by sample; medians of CPU ms per candidate and the largest difference from the first. */
function compare(samples: number, cands: Record<string, () => tf.Tensor>): { med: Record<string, number>; diff: number } {
  const entries = Object.entries(cands).map(([name, f]) => ({ name, f, times: [] as number[], out: new Float32Array(0) as Float32Array }));
  let diff = 0;
  for (const e of entries) cpuMs(e.f); // warm-up (XNNPACK set-up, first-use allocations)
  for (let s = 0; s < samples; s++) {
    for (const e of s % 2 === 0 ? entries : [...entries].reverse()) {
      const r = cpuMs(e.f);
      e.times.push(r.ms);
      e.out = r.out;
    }
    const first = at(entries, 0).out;
    for (const e of entries.slice(1)) diff = Math.max(diff, maxDiff(first, e.out));
  }
  return { med: Object.fromEntries(entries.map((e) => [e.name, median(e.times)])), diff };
}

/** Random x, dy and kernel of a layer shape at batch B, and the input shape. */
function operands(sh: Shape, B: number, rand: (shape: number[]) => tf.Tensor): { x: tf.Tensor4D; dy: tf.Tensor4D; w: tf.Tensor4D; inShape: [number, number, number, number] } {
  const ho = convOutSize(sh.H, sh.g);
  return {
    x: rand([B, sh.H, sh.H, sh.cIn]) as tf.Tensor4D,
    dy: rand([B, ho, ho, sh.cOut]) as tf.Tensor4D,
    w: rand([sh.g.k, sh.g.k, sh.cIn, sh.cOut]) as tf.Tensor4D,
    inShape: [B, sh.H, sh.H, sh.cIn],
  };
}

/** --part kernels: the engine's kernels against the TF.js paths `auto` took before them. */
function kernels(B: number, samples: number, backend: string, rand: (shape: number[]) => tf.Tensor): void {
  console.log(`conv kernels, WRN-16-4 layer shapes, batch ${B}, ${backend} backend, ${samples} alternated samples, CPU ms medians: before (TF.js paths) / now (auto)`);
  const sums = { before: 0, now: 0 };
  for (const sh of SHAPES) {
    const { x, dy, w, inShape } = operands(sh, B, rand);
    const oldFilter = sh.g.k === 1 && sh.g.stride === 1 ? 'im2col' : 'conv';
    const passes: ['forward' | 'input' | 'filter', () => tf.Tensor, () => tf.Tensor][] = [
      ['forward', () => conv2dForward(x, w, sh.g, 'backend'), () => conv2dForward(x, w, sh.g)],
      ['input', () => conv2dInputGrad(dy, w, inShape, sh.g, 'forward'), () => conv2dInputGrad(dy, w, inShape, sh.g)],
      ['filter', () => conv2dFilterGrad(x, dy, sh.g, sh.cOut, oldFilter), () => conv2dFilterGrad(x, dy, sh.g, sh.cOut)],
    ];
    const cells: string[] = [];
    for (const [name, before, now] of passes) {
      const r = compare(samples, { before, now });
      const b = r.med.before ?? NaN;
      const n = r.med.now ?? NaN;
      sums.before += b * sh.count;
      sums.now += n * sh.count;
      cells.push(`${name} ${b.toFixed(1)} / ${n.toFixed(1)} ${fastPath(sh.g, sh.cIn, sh.cOut, backend, name) ?? 'TF.js'} (Δ ${r.diff.toExponential(1)})`);
    }
    console.log(`${sh.name.padEnd(24)} ×${sh.count}  ${cells.join('   ')}`);
    tf.dispose([x, dy, w]);
  }
  console.log(`sums over WRN-16-4's ${SHAPES.reduce((a, s) => a + s.count, 0)} conv layers, three passes each (CPU ms): before ${sums.before.toFixed(0)}, now ${sums.now.toFixed(0)} (${(sums.before / sums.now).toFixed(2)}×)`);
}

async function main(): Promise<void> {
  const B = Number(arg('batch') ?? 32);
  const samples = Number(arg('samples') ?? 5);
  const backend = await initBackend((arg('backend') ?? 'wasm') as BackendPreference);
  const rng = createRng(7);
  const rand = (shape: number[]): tf.Tensor => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
  const load0 = os.loadavg()[0] ?? NaN;
  if ((arg('part') ?? 'kernels') === 'kernels') {
    kernels(B, samples, backend, rand);
    console.log(`load average ${load0.toFixed(2)} → ${(os.loadavg()[0] ?? NaN).toFixed(2)} on ${os.cpus().length} cores`);
    return;
  }
  console.log(`conv gradient paths, WRN-16-4 layer shapes, batch ${B}, ${backend} backend, ${samples} alternated samples, CPU ms medians`);
  const sums: Record<string, number> = {};
  const add = (k: string, v: number): void => {
    sums[k] = (sums[k] ?? 0) + v;
  };
  for (const sh of SHAPES) {
    const { x, dy, w, inShape } = operands(sh, B, rand);
    const fc: Record<string, () => tf.Tensor> = { im2col: () => im2colFilterGrad(x, dy, sh.g), conv: () => convFilterGrad(x, dy, sh.g) };
    if (hasNativeFilterGrad())
      fc.native = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: sh.g.stride, pad: sh.g.pad, dataFormat: 'NHWC', filterShape: w.shape }) as tf.Tensor;
    const f = compare(samples, fc);
    const ic: Record<string, () => tf.Tensor> =
      sh.g.stride === 1
        ? { rotated: () => conv2dInputGrad(dy, w, inShape, sh.g), transpose: () => tf.conv2dTranspose(dy, w, inShape, sh.g.stride, sh.g.pad) }
        : { transpose: () => tf.conv2dTranspose(dy, w, inShape, sh.g.stride, sh.g.pad), phase: () => phaseInputGrad(dy, w, inShape, sh.g) };
    const ig = compare(samples, ic);
    const fmt = (r: Record<string, number>): string =>
      Object.entries(r)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ');
    console.log(`${sh.name.padEnd(24)} ×${sh.count}  filter: ${fmt(f.med)} (Δ ${f.diff.toExponential(1)})   input: ${fmt(ig.med)} (Δ ${ig.diff.toExponential(1)})`);
    for (const [k, v] of Object.entries(f.med)) add(`filter ${k}`, v * sh.count);
    for (const [k, v] of Object.entries(ig.med)) add(`input ${sh.g.stride === 1 ? 's1' : 's2'} ${k}`, v * sh.count);
    tf.dispose([x, dy, w]);
  }
  const load1 = os.loadavg()[0] ?? NaN;
  console.log(`sums over WRN-16-4's ${SHAPES.reduce((a, s) => a + s.count, 0)} conv layers (CPU ms): ${Object.entries(sums)
    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
    .join('; ')}`);
  console.log(`load average ${load0.toFixed(2)} → ${load1.toFixed(2)} on ${os.cpus().length} cores`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
