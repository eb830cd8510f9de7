/**
 * 2-D convolution (NHWC, kernel [k, k, cIn, cOut]) with explicit forward and backward passes.
 *
 * Padding is symmetric and numeric (`pad` = (k − 1)/2 for a 3×3 "same" convolution, 0 for a 1×1
 * projection), as PyTorch's `padding=1`: with stride 2 and an even input, TF's 'same' pads only at
 * the bottom/right and samples different rows than PyTorch (and the WRN papers' code) do.
 *
 * Backward (issue 19 "Speed"; per-shape figures in src/engine/README.md, "Conv gradient paths"):
 *  - input gradient (conv2dInputGrad): on wasm, forward convolutions only, because the wasm
 *    backend's forward Conv2D is XNNPACK's and its Conv2DBackpropInput a plain loop (7–9× slower on
 *    WRN-16-4's 3×3 layers): stride 1 is the forward convolution with the rotated kernel
 *    (rotatedInputGrad, on every backend), a strided layer one stride-1 convolution over the stride's
 *    phases and an interleave on the host (phaseInputGrad); a strided layer on cpu and tensorflow
 *    the transposed convolution (TF.js Conv2DBackpropInput; see inputGradPath);
 *  - filter gradient (conv2dFilterGrad): the tensorflow backend's Conv2DBackpropFilter kernel; on
 *    wasm, which has none (docs/environment.md), and on cpu, whose kernel is a plain loop 20–60×
 *    slower than either path below, from ops every backend has: a 1×1 stride-1 layer (wasm; every
 *    1×1 layer on cpu) as one product (im2colFilterGrad), every other layer as ONE forward
 *    convolution with batch and channels swapped and dilation = the stride (convFilterGrad).
 *    im2colFilterGrad is the im2col product split by kernel offset: for each offset (ky, kx), the
 *    input window x_s shifted by that offset and subsampled by the stride is an [M, cIn] matrix
 *    (M = N·H_out·W_out) and dW[ky, kx] = x_sᵀ·dy. It is computed as (dyᵀ·x_s)ᵀ with dyᵀ [cOut, M]
 *    transposed ONCE and shared by all k² products (transposed products are 6–15× slower than plain
 *    ones on wasm), and one small [k², cOut, cIn] → [k², cIn, cOut] transpose at the end. The
 *    temporaries are one [M, cIn] window at a time, not the k²-times-larger im2col matrix.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tensorValues } from '../heap';
import { gemmFilterGrad, gemmForward, gemmInputGrad, gemmShapeFits, winogradFilterGrad, winogradForward, winogradInputGrad, winogradShapeFits, winogradStatus } from './fastconv';

export interface ConvGeometry {
  /** Kernel size (square). */
  k: number;
  stride: number;
  /** Symmetric zero padding on each side. */
  pad: number;
}

/**
 * How the forward pass is computed: 'auto' (forwardPath), 'backend' (always the backend's Conv2D),
 * 'winograd' or 'gemm' (nn/fastconv.ts: the Winograd convolution or the im2col products; an error
 * where the shape does not fit or the module is missing).
 */
export type ForwardMode = 'auto' | 'backend' | 'winograd' | 'gemm';

/**
 * How the filter gradient is computed: 'auto' (filterGradPath: per backend and shape, the fastest
 * measured), or always one path: 'native' (the backend's Conv2DBackpropFilter; an error where it
 * has none), 'im2col' (im2colFilterGrad), 'conv' (convFilterGrad), 'winograd' or 'gemm' (as ForwardMode).
 */
export type FilterGradMode = 'auto' | 'native' | 'im2col' | 'conv' | 'winograd' | 'gemm';

/**
 * How the input gradient is computed: 'auto' (inputGradPath), 'transpose' (always the backend's
 * Conv2DBackpropInput), 'forward' (forward convolutions only: rotated kernel for stride 1, phases
 * for a strided layer) or 'rotated' (the rotated kernel for stride 1, the transposed convolution
 * for a strided layer: the wasm rule before the phase decomposition, kept to measure against).
 */
export type InputGradMode = 'auto' | 'transpose' | 'forward' | 'rotated' | 'winograd' | 'gemm';

/**
 * The engine's own kernel 'auto' takes for one pass of a layer (nn/fastconv.ts), on the wasm backend
 * when its module loaded: the Winograd convolution on every pass of a 3×3 stride-1 pad-1 layer whose
 * channel counts are multiples of 4; for the other layers whose input channels are, the im2col
 * products on the filter gradient and on the input gradient of a strided or k > 1 layer. Measured
 * against the TF.js paths on WRN-16-4's layers at batch 64 (`node out/bench/conv-grad.bench.js
 * --batch 64`; src/engine/README.md, "Conv gradient paths"): Winograd 1.5–4× faster on each pass;
 * the products 2–3× on a stride-2 3×3 layer's input gradient, 2–8× on the filter gradients. Not on
 * the forward pass of those layers, nor on a 1×1 stride-1 input gradient: XNNPACK's convolution is
 * already one product there, and copying the operands in and out made ours level or slower.
 * undefined: the TF.js paths (cpu keeps them, so the cpu tests keep their rounding; see
 * inputGradPath).
 */
export function fastPath(g: ConvGeometry, cIn: number, cOut: number, backend: string = tf.getBackend(), pass: 'forward' | 'input' | 'filter' = 'filter'): 'winograd' | 'gemm' | undefined {
  if (backend !== 'wasm' || !winogradStatus().available) return undefined;
  if (winogradShapeFits(g.k, g.stride, g.pad, cIn, cOut)) return 'winograd';
  if (!gemmShapeFits(cIn, cOut) || pass === 'forward') return undefined;
  if (pass === 'input' && g.k === 1 && g.stride === 1) return undefined;
  return 'gemm';
}

/** The 'auto' forward path: fastPath's kernel where it names one, else the backend's Conv2D. */
export function forwardPath(g: ConvGeometry, cIn: number, cOut: number, backend: string = tf.getBackend()): 'backend' | 'winograd' | 'gemm' {
  return fastPath(g, cIn, cOut, backend, 'forward') ?? 'backend';
}

/**
 * One line for the run log: which kernels the conv layers' passes take under 'auto' on this backend
 * (counts of layers per kernel), or why the engine's kernels are not in use on wasm.
 */
export function convKernelNote(layers: readonly (ConvGeometry & { cin: number; cout: number })[], backend: string = tf.getBackend()): { level: 'info' | 'warn'; text: string } {
  const st = winogradStatus();
  if (backend === 'wasm' && !st.available) return { level: 'warn', text: `conv kernels: the backend's (the engine's Winograd and im2col kernels are unavailable: ${st.reason})` };
  if (backend !== 'wasm') return { level: 'info', text: `conv kernels: the ${backend} backend's` };
  const count = (pass: 'forward' | 'input' | 'filter'): string => {
    const n = { winograd: 0, gemm: 0, backend: 0 };
    for (const l of layers) n[fastPath(l, l.cin, l.cout, backend, pass) ?? 'backend']++;
    return `${pass} ${n.winograd} Winograd, ${n.gemm} im2col, ${n.backend} XNNPACK`;
  };
  return { level: 'info', text: `conv kernels over ${layers.length} conv layers (wasm SIMD): ${count('forward')}; ${count('input')}; ${count('filter')}` };
}

function checkFast(path: 'winograd' | 'gemm', g: ConvGeometry, cIn: number, cOut: number): void {
  const st = winogradStatus();
  if (!st.available) throw new Error(`the engine's conv kernels are unavailable: ${st.reason}`);
  if (path === 'winograd' && !winogradShapeFits(g.k, g.stride, g.pad, cIn, cOut))
    throw new Error(`the Winograd convolution takes 3×3, stride 1, pad 1 layers with channel counts divisible by 4, not ${g.k}×${g.k} stride ${g.stride} pad ${g.pad} ${cIn} → ${cOut}`);
  if (path === 'gemm' && !gemmShapeFits(cIn, cOut)) throw new Error(`the im2col products take input channel counts divisible by 4, not ${cIn}`);
}

/**
 * The 'auto' filter-gradient path (measured, bench/conv-grad.bench.ts; src/engine/README.md):
 * tensorflow (and any backend other than wasm and cpu) its own kernel; wasm and cpu one forward
 * convolution, except 1×1 layers, whose im2col is a single product: at stride 1 on wasm (41 against
 * 47 ms for 32²×16 → 64 at batch 32; at stride 2 the convolution wins, 50 against 86 ms) and at
 * every stride on cpu (189 against 572 ms for 32²×64 → 128 stride 2 at batch 8).
 */
export function filterGradPath(g: ConvGeometry, backend: string = tf.getBackend(), cIn = 0, cOut = 0): 'native' | 'im2col' | 'conv' | 'winograd' | 'gemm' {
  const fast = fastPath(g, cIn, cOut, backend);
  if (fast) return fast;
  if (backend === 'wasm') return g.k === 1 && g.stride === 1 ? 'im2col' : 'conv';
  if (backend === 'cpu') return g.k === 1 ? 'im2col' : 'conv';
  return tf.getKernel('Conv2DBackpropFilter', backend) !== undefined ? 'native' : 'conv';
}

/**
 * The 'auto' input-gradient path: stride 1 the rotated-kernel forward convolution on every backend
 * (as before the phase decomposition); a strided layer on wasm one convolution over the phases, on
 * the other backends the transposed convolution (on cpu 217 against 765 ms for the phases, 32²×64
 * → 128 stride 2 at batch 8). On cpu the transposed convolution would also be the faster at stride 1
 * (3.7 against 6.7 s summed over WRN-16-4's stride-1 layers at batch 8), but together with the
 * convolution filter gradient its rounding flips one entry of a SynFlow mask whose reference
 * top-k margin is 1.4e-7 (test/engine/pruning-conv.test.ts, WRN-10-1 global), so it stays as it was.
 */
export function inputGradPath(g: ConvGeometry, backend: string = tf.getBackend(), cIn = 0, cOut = 0): 'transpose' | 'rotated' | 'phase' | 'winograd' | 'gemm' {
  const fast = fastPath(g, cIn, cOut, backend, 'input');
  if (fast) return fast;
  if (g.stride === 1) return 'rotated';
  return backend === 'wasm' ? 'phase' : 'transpose';
}

/** Output size along one axis (floor rounding, as PyTorch and TF.js). */
export function convOutSize(size: number, g: ConvGeometry): number {
  return Math.floor((size + 2 * g.pad - g.k) / g.stride) + 1;
}

/** y = conv(x, w) by the path `mode` selects (see ForwardMode). Call inside a tidy. */
export function conv2dForward(x: tf.Tensor4D, w: tf.Tensor4D, g: ConvGeometry, mode: ForwardMode = 'auto'): tf.Tensor4D {
  const [, , cIn, cOut] = w.shape;
  const path = mode === 'auto' ? forwardPath(g, cIn, cOut) : mode;
  if (path === 'winograd' || path === 'gemm') {
    checkFast(path, g, cIn, cOut);
    return path === 'winograd' ? winogradForward(x, w) : gemmForward(x, w, g);
  }
  return tf.conv2d(x, w, g.stride, g.pad);
}

/** dL/dx from dL/dy by the path `mode` selects (see InputGradMode). Call inside a tidy. */
export function conv2dInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, inShape: [number, number, number, number], g: ConvGeometry, mode: InputGradMode = 'auto'): tf.Tensor4D {
  const [, , cIn, cOut] = w.shape;
  const path =
    mode === 'auto'
      ? inputGradPath(g, tf.getBackend(), cIn, cOut)
      : mode === 'winograd' || mode === 'gemm' || mode === 'transpose'
        ? mode
        : g.stride === 1
          ? 'rotated'
          : mode === 'forward'
            ? 'phase'
            : 'transpose';
  if (path === 'winograd' || path === 'gemm') {
    checkFast(path, g, cIn, cOut);
    return path === 'winograd' ? winogradInputGrad(dy, w) : gemmInputGrad(dy, w, inShape, g);
  }
  if (path === 'phase') return phaseInputGrad(dy, w, inShape, g);
  if (path === 'rotated' && rotatedFits(dy, inShape, g)) return rotatedInputGrad(dy, w, g);
  return tf.conv2dTranspose(dy, w, inShape, g.stride, g.pad);
}

/** Whether the rotated-kernel convolution gives exactly the input's size (stride 1, pad ≤ k − 1). */
function rotatedFits(dy: tf.Tensor4D, inShape: [number, number, number, number], g: ConvGeometry): boolean {
  const back = g.k - 1 - g.pad;
  return g.stride === 1 && back >= 0 && dy.shape[1] + 2 * back - g.k + 1 === inShape[1] && dy.shape[2] + 2 * back - g.k + 1 === inShape[2];
}

/**
 * dL/dx of a stride-1 convolution as a forward convolution. Call inside a tidy.
 *
 * The forward convolution of dy with the kernel rotated by 180° and its channels swapped,
 * w'[ky, kx, o, i] = w[k − 1 − ky, k − 1 − kx, i, o], padded by k − 1 − pad (dx[y] = Σ_ky dy[y + pad
 * − ky]·w[ky]). On wasm 7× faster than the backend's Conv2DBackpropInput on WRN-16-4's 3×3
 * convolutions (profiled: 680 against 92 ms for [32, 32, 32, 64] × [3, 3, 64, 64]).
 */
export function rotatedInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  // The rotated kernel is an index permutation made on the host (wasm's Reverse and Transpose took
  // 97 ms of a WRN-16-4 step at batch 32 for it), freed at once, not at the end of the caller's
  // tidy: a WRN-50-2's rotated kernels together are as large as its weights (267 MB), too much for
  // the wasm heap on top of a training step.
  const { k } = g;
  const [, , cIn, cOut] = w.shape;
  const wv = tensorValues(w);
  const r = new Float32Array(wv.length);
  for (let ky = 0; ky < k; ky++)
    for (let kx = 0; kx < k; kx++) {
      const src0 = ((k - 1 - ky) * k + (k - 1 - kx)) * cIn * cOut;
      const dst0 = (ky * k + kx) * cOut * cIn;
      for (let i = 0; i < cIn; i++) {
        const src = src0 + i * cOut;
        for (let o = 0; o < cOut; o++) r[dst0 + o * cIn + i] = wv[src + o]!;
      }
    }
  const rotated = tf.tensor4d(r, [k, k, cOut, cIn]);
  const dx = tf.conv2d(dy, rotated, 1, k - 1 - g.pad);
  rotated.dispose();
  return dx;
}

/**
 * dL/dx of a strided convolution as ONE stride-1 forward convolution over the stride's phases, then an
 * interleave (a depth-to-space and a slice, done in one host pass). Call inside a tidy.
 *
 * In padded input coordinates p = s·y + ky. Split p by its phase r = p mod s: p = s·q + r, and the
 * taps reaching it are ky = r + s·j (j = 0 … J − 1, J = ⌈k / s⌉, zero where r + s·j ≥ k) at
 * y = q − j, so dxpad[s·q + r] = Σ_j dy[q − j]·w[r + s·j] — a stride-1 correlation of dy (padded by
 * J − 1 in front) with the phase's sub-kernel reversed. All s² phases (ry, rx) share the J × J
 * window, so they are the output channels of one convolution with the kernel
 * K[ty, tx, o, (ry·s + rx)·cIn + i] = w[ry + s·(J − 1 − ty), rx + s·(J − 1 − tx), i, o], and
 * the interleave puts phase (ry, rx) of cell (q, q') at padded position (s·q + ry, s·q' + rx),
 * dropping the padding. For k = 3, s = 2 the kernel is 2 × 2 per phase, 16 taps for the 9
 * real ones (the zeros are multiplied), in XNNPACK's convolution instead of the wasm backend's
 * plain-loop Conv2DBackpropInput.
 */
export function phaseInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, inShape: [number, number, number, number], g: ConvGeometry): tf.Tensor4D {
  const { k, stride: s, pad } = g;
  const [n, h, wd, cIn] = inShape;
  const [, ho, wo, cOut] = dy.shape;
  const J = Math.ceil(k / s);
  const Q = Math.ceil((pad + h) / s);
  const P = Math.ceil((pad + wd) / s);
  // The phase kernel, an index permutation of w (k²·cIn·cOut values) made on the host.
  const ss = s * s;
  if (k === 1) {
    // Only phase (0, 0) has a tap: dy·wᵀ at the strided positions, zeros between (the other
    // phases' channels), not a kernel three-quarters zeros.
    const dyUsed = ho > Q || wo > P ? tf.slice(dy, [0, 0, 0, 0], [n, Math.min(ho, Q), Math.min(wo, P), cOut]) : dy;
    const [, hu, wu] = dyUsed.shape;
    const wt = tf.transpose(w, [0, 1, 3, 2]) as tf.Tensor4D;
    const y = tf.conv2d(dyUsed, wt, 1, 0);
    wt.dispose();
    if (dyUsed !== dy) dyUsed.dispose();
    // y[n, a, b, :] lands at (s·a, s·b): view y as [n·hu, 1, wu, 1, cIn], pad the two unit axes to
    // s (zeros after) and, at the end, the rows and columns up to Q·s, P·s: one write of dx.
    const spread = tf.tidy(() =>
      tf.reshape(
      tf.pad(tf.reshape(y, [n, hu, 1, wu, 1, cIn]), [
        [0, 0],
        [0, Q - hu],
        [0, s - 1],
        [0, P - wu],
        [0, s - 1],
        [0, 0],
      ]),
      [n, Q * s, P * s, cIn],
    ) as tf.Tensor4D);
    y.dispose();
    if (pad === 0 && Q * s === h && P * s === wd) return spread;
    const dx = tf.slice(spread, [0, pad, pad, 0], [n, h, wd, cIn]);
    spread.dispose();
    return dx;
  }
  const wv = tensorValues(w);
  const K = new Float32Array(J * J * cOut * ss * cIn);
  for (let ty = 0; ty < J; ty++)
    for (let tx = 0; tx < J; tx++)
      for (let ry = 0; ry < s; ry++)
        for (let rx = 0; rx < s; rx++) {
          const ky = ry + s * (J - 1 - ty);
          const kx = rx + s * (J - 1 - tx);
          if (ky >= k || kx >= k) continue;
          for (let i = 0; i < cIn; i++) {
            const src = ((ky * k + kx) * cIn + i) * cOut;
            let dst = (ty * J + tx) * cOut * ss * cIn + (ry * s + rx) * cIn + i;
            for (let o = 0; o < cOut; o++, dst += ss * cIn) K[dst] = wv[src + o]!;
          }
        }
  const kt = tf.tensor4d(K, [J, J, cOut, ss * cIn]);
  // Rows of dy at q ≥ Q only reach padded rows ≥ s·Q ≥ pad + h, outside the input.
  const dyUsed = ho > Q || wo > P ? tf.slice(dy, [0, 0, 0, 0], [n, Math.min(ho, Q), Math.min(wo, P), cOut]) : dy;
  const [, hu, wu] = dyUsed.shape;
  const phases = tf.conv2d(dyUsed, kt, 1, [
    [0, 0],
    [J - 1, Q - hu],
    [J - 1, P - wu],
    [0, 0],
  ]);
  kt.dispose();
  if (dyUsed !== dy) dyUsed.dispose();
  return interleave(phases, s, inShape, pad);
}

/**
 * [n, Q, P, s²·cIn] phases → the [n, h, w, cIn] input gradient: phase (ry, rx) of cell (q, q') is
 * padded position (s·q + ry, s·q' + rx), kept when inside the input after the padding. One host
 * pass of cIn-long row copies (wasm's DepthToSpace and the Slice after it took 167 ms of a WRN-16-4
 * step at batch 32 for the two strided 3×3 layers). Disposes `phases`.
 */
function interleave(phases: tf.Tensor4D, s: number, inShape: [number, number, number, number], pad: number): tf.Tensor4D {
  const [n, h, wd, cIn] = inShape;
  const [, Q, P, cs] = phases.shape;
  const pv = tensorValues(phases);
  const dx = new Float32Array(n * h * wd * cIn);
  for (let b = 0; b < n; b++)
    for (let iy = 0; iy < h; iy++) {
      const py = iy + pad;
      const q = Math.floor(py / s);
      const ry = py - q * s;
      for (let ix = 0; ix < wd; ix++) {
        const px = ix + pad;
        const qx = Math.floor(px / s);
        const src = ((b * Q + q) * P + qx) * cs + (ry * s + (px - qx * s)) * cIn;
        dx.set(pv.subarray(src, src + cIn), ((b * h + iy) * wd + ix) * cIn);
      }
    }
  phases.dispose();
  return tf.tensor4d(dx, inShape);
}

/** Whether the active backend has a native filter-gradient kernel. */
export function hasNativeFilterGrad(): boolean {
  return tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
}

/** dL/dw [k, k, cIn, cOut] from the layer input x and dL/dy by the path `mode` selects (see FilterGradMode). Call inside a tidy. */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, g: ConvGeometry, cOut: number, mode: FilterGradMode = 'auto'): tf.Tensor4D {
  const cIn = x.shape[3];
  const filterShape: [number, number, number, number] = [g.k, g.k, cIn, cOut];
  const path = mode === 'auto' ? filterGradPath(g, tf.getBackend(), cIn, cOut) : mode;
  if (path === 'winograd' || path === 'gemm') {
    checkFast(path, g, cIn, cOut);
    return path === 'winograd' ? winogradFilterGrad(x, dy) : gemmFilterGrad(x, dy, g);
  }
  if (path === 'native') {
    if (!hasNativeFilterGrad()) throw new Error(`the ${tf.getBackend()} backend has no Conv2DBackpropFilter kernel`);
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: g.stride, pad: g.pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor4D;
  }
  if (path === 'conv') return convFilterGrad(x, dy, g);
  return im2colFilterGrad(x, dy, g);
}

/**
 * The filter gradient as ONE forward convolution with batch and channels swapped. Call inside a tidy.
 *
 * dW[ky, kx, i, o] = Σ_{n, y, x} xpad[n, s·y + ky, s·x + kx, i]·dy[n, y, x, o] is the convolution of
 * xpadᵀ = [cIn, Hp, Wp, N] (the input's channels as the batch, its batch as the channels) with
 * dyᵀ = [ho, wo, N, cOut] as the filter, stride 1, dilation = the layer's stride: its output
 * [cIn, k, k, cOut] is dW with the first two axes moved. Only the padded rows and columns the layer
 * reads are kept (Hp = k + s·(ho − 1)), so the output is exactly k × k; the padding is the
 * convolution's own (explicit, asymmetric where the floor rule drops rows), not a copy.
 */
export function convFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const [n, h, w, cIn] = x.shape;
  const [, ho, wo] = dy.shape;
  const hUsed = g.k + g.stride * (ho - 1);
  const wUsed = g.k + g.stride * (wo - 1);
  // Rows of x the layer reads: padded rows 0 … hUsed − 1, i.e. x rows −pad … hUsed − 1 − pad.
  const hEnd = Math.min(h, hUsed - g.pad);
  const wEnd = Math.min(w, wUsed - g.pad);
  const xs = hEnd < h || wEnd < w ? tf.slice(x, [0, 0, 0, 0], [n, hEnd, wEnd, cIn]) : x;
  const xT = tf.transpose(xs, [3, 1, 2, 0]) as tf.Tensor4D;
  if (xs !== x) xs.dispose();
  const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [g.pad, hUsed - g.pad - hEnd],
    [g.pad, wUsed - g.pad - wEnd],
    [0, 0],
  ];
  const out = tf.conv2d(xT, dyT, 1, pad, 'NHWC', g.stride);
  xT.dispose();
  dyT.dispose();
  const dw = tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D;
  out.dispose();
  return dw;
}

/** The filter gradient from TF.js ops every backend has (see the file comment). Call inside a tidy. */
export function im2colFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const [n, , , cIn] = x.shape;
  const [, ho, wo, cOut] = dy.shape;
  const m = n * ho * wo;
  const xp = g.pad > 0 ? tf.pad(x, [[0, 0], [g.pad, g.pad], [g.pad, g.pad], [0, 0]]) : x;
  const dyT = tf.transpose(tf.reshape(dy, [m, cOut])) as tf.Tensor2D;
  const parts: tf.Tensor2D[] = [];
  for (let ky = 0; ky < g.k; ky++) {
    for (let kx = 0; kx < g.k; kx++) {
      // Rows ky, ky + s, …, ky + s·(ho − 1) (and the same for columns) of the padded input.
      const win =
        g.stride === 1 && ho === xp.shape[1] - g.k + 1 && wo === xp.shape[2] - g.k + 1
          ? tf.slice(xp, [0, ky, kx, 0], [n, ho, wo, cIn])
          : tf.stridedSlice(xp, [0, ky, kx, 0], [n, ky + g.stride * (ho - 1) + 1, kx + g.stride * (wo - 1) + 1, cIn], [1, g.stride, g.stride, 1]);
      const prod = tf.matMul(dyT, tf.reshape(win, [m, cIn]) as tf.Tensor2D);
      win.dispose();
      parts.push(prod as tf.Tensor2D);
    }
  }
  // [k², cOut, cIn] → [k², cIn, cOut] → [k, k, cIn, cOut].
  return tf.reshape(tf.transpose(tf.stack(parts), [0, 2, 1]), [g.k, g.k, cIn, cOut]);
}
