/**
 * Winograd F(2×2, 3×3) convolution for 3×3, stride-1, pad-1 layers: the forward pass, the input
 * gradient (the same convolution with the kernel rotated by 180° and its channels swapped) and the
 * filter gradient, each in WebAssembly SIMD (assembly/fastconv.ts, built into dist/gradflow-conv.wasm
 * by `npm run build`). The algebra and the layouts are in that file's header.
 *
 * Why: on the wasm backend a WRN-16-4 step was almost all XNNPACK's Conv2D, at 20–28 GFLOP/s here;
 * the 16 products of F(2×2, 3×3) do 2.25× fewer multiplies than a direct convolution, in a 4 × 8
 * register-blocked product that runs at 40–46 GFLOP/s on these shapes (src/engine/README.md, "Conv
 * gradient paths"). Its transforms only add, subtract and halve, so its rounding stays close to a
 * direct convolution's (the tests compare every pass with float64 by hand, to 2e-6 of the largest
 * value).
 *
 * Each call copies its operands into the module's memory (the input zero-padded so every tile is
 * interior), runs the kernels and returns a new tensor; the module's memory only grows and is reused
 * by the next call. Works on every TF.js backend (conv.ts routes only the wasm backend here).
 */
import * as tf from '@tensorflow/tfjs-core';
import { tensor4dFromScratch, tensorValues } from '../heap';
import { engineWasmCandidates, instantiateEngineWasm, type WasmMemory } from '../wasm-module';

export const CONV_WASM_FILE = 'gradflow-conv.wasm';

interface WinogradExports {
  memory: WasmMemory;
  inputTransform(V: number, X: number, N: number, th: number, tw: number, C: number, T: number): void;
  filterTransform(U: number, g: number, cIn: number, cOut: number, rotate: number): void;
  products(M: number, V: number, U: number, T: number, K: number, Np: number, planes: number, vShared: number): void;
  outputTransform(Y: number, M: number, N: number, th: number, tw: number, C: number, T: number, Np: number): void;
  gradTransform(Yh: number, D: number, N: number, th: number, tw: number, C: number, T: number, Np: number): void;
  gradProducts(dU: number, V: number, Yh: number, T: number, C: number, Np: number, planes: number, yShared: number): void;
  filterGradInverse(dg: number, dU: number, cIn: number, cOut: number, Np: number): void;
  im2col(cols: number, X: number, N: number, H: number, W: number, C: number, k: number, s: number, pad: number, Ho: number, Wo: number, Tp: number): void;
  col2im(dx: number, dcols: number, N: number, H: number, W: number, C: number, k: number, s: number, pad: number, Ho: number, Wo: number, ldc: number): void;
  packPanels(dst: number, src: number, K: number, Nn: number, transposed: number): void;
  cropColumns(dst: number, src: number, rows: number, Nn: number, Np: number): void;
}

let loaded: { ex: WinogradExports } | { error: string } | undefined;

function module(): { ex: WinogradExports } | { error: string } {
  if (loaded) return loaded;
  if (process.env.GRADFLOW_CONV_KERNELS === 'off') return (loaded = { error: 'GRADFLOW_CONV_KERNELS=off' });
  const r = instantiateEngineWasm(CONV_WASM_FILE, engineWasmCandidates(CONV_WASM_FILE, 'GRADFLOW_CONV_WASM'));
  loaded = 'error' in r ? r : { ex: r.exports as unknown as WinogradExports };
  return loaded;
}

/** Whether the Winograd kernels are loaded, or why not. */
export function winogradStatus(): { available: true } | { available: false; reason: string } {
  const m = module();
  return 'error' in m ? { available: false, reason: m.error } : { available: true };
}

/** Whether a convolution's shape suits the kernels: 3×3, stride 1, pad 1, channels multiples of 4. */
export function winogradShapeFits(k: number, stride: number, pad: number, cIn: number, cOut: number): boolean {
  return k === 3 && stride === 1 && pad === 1 && cIn % 4 === 0 && cOut % 4 === 0 && cIn > 0 && cOut > 0;
}

const up = (v: number, m: number): number => Math.ceil(v / m) * m;

/** Regions of the module's memory for one call: byte offsets, 16-byte aligned, after a 1 KiB header. */
function layout(ex: WinogradExports, floats: Record<string, number>): Record<string, number> {
  const at: Record<string, number> = {};
  let top = 1024;
  for (const [name, n] of Object.entries(floats)) {
    at[name] = top;
    top += up(n * 4, 16);
  }
  const need = top - ex.memory.buffer.byteLength;
  if (need > 0) ex.memory.grow(Math.ceil(need / 65536));
  return at;
}

function view(ex: WinogradExports, ptr: number | undefined, n: number): Float32Array {
  return new Float32Array(ex.memory.buffer, ptr ?? 0, n);
}

/** Tiling of an H × W map into 2×2 output tiles (T rounded up to the products' 4-row blocks). */
interface Tiles {
  n: number;
  h: number;
  w: number;
  th: number;
  tw: number;
  T: number;
}
function tiles(shape: readonly number[]): Tiles {
  const [n = 0, h = 0, w = 0] = shape;
  const th = Math.ceil(h / 2);
  const tw = Math.ceil(w / 2);
  return { n, h, w, th, tw, T: up(n * th * tw, 4) };
}

/** Copy NHWC `src` into `dst` [n, Hp, Wp, c] at row/column offset `off`, zeros elsewhere. */
function padInto(dst: Float32Array, src: Float32Array, t: Tiles, c: number, Hp: number, Wp: number, off: number): void {
  const row = t.w * c;
  if (Hp === t.h && Wp === t.w && off === 0) {
    dst.set(src.subarray(0, t.n * t.h * row));
    return;
  }
  dst.fill(0);
  for (let i = 0; i < t.n; i++)
    for (let y = 0; y < t.h; y++) dst.set(src.subarray((i * t.h + y) * row, (i * t.h + y + 1) * row), ((i * Hp + y + off) * Wp + off) * c);
}

/** A tensor of the values of a padded [n, 2·th, 2·tw, c] map cropped to [n, h, w, c]. */
function cropped(padded: Float32Array, t: Tiles, c: number): tf.Tensor4D {
  const Ho = 2 * t.th;
  const Wo = 2 * t.tw;
  if (Ho === t.h && Wo === t.w) return tensor4dFromScratch(padded, [t.n, t.h, t.w, c]);
  const values = new Float32Array(t.n * t.h * t.w * c);
  const row = t.w * c;
  for (let i = 0; i < t.n; i++)
    for (let y = 0; y < t.h; y++) values.set(padded.subarray(((i * Ho + y) * Wo) * c, ((i * Ho + y) * Wo) * c + row), (i * t.h + y) * row);
  return tf.tensor4d(values, [t.n, t.h, t.w, c]);
}

function kernels(): WinogradExports {
  const m = module();
  if ('error' in m) throw new Error(`Winograd convolution unavailable: ${m.error}`);
  return m.ex;
}

function checkShapes(x: tf.Tensor4D, w: tf.Tensor4D, xChannels: number): void {
  const [k0, k1] = w.shape;
  if (k0 !== 3 || k1 !== 3) throw new Error(`Winograd convolution: kernel ${k0}×${k1}, not 3×3`);
  if (x.shape[3] !== xChannels) throw new Error(`Winograd convolution: input has ${x.shape[3]} channels, the kernel expects ${xChannels}`);
  if (xChannels % 4 !== 0 || (w.shape[2] === xChannels ? w.shape[3] : w.shape[2]) % 4 !== 0) throw new Error('Winograd convolution: channel counts must be multiples of 4');
}

/** The stride-1, pad-1 convolution of x [n, h, w, cIn] with w [3, 3, cIn, cOut]; rotate: the input gradient's. */
function convolve(x: tf.Tensor4D, w: tf.Tensor4D, rotate: boolean): tf.Tensor4D {
  const ex = kernels();
  const [, , cIn, cOut] = w.shape;
  const K = rotate ? cOut : cIn;
  const outC = rotate ? cIn : cOut;
  checkShapes(x, w, K);
  const t = tiles(x.shape);
  const Np = up(outC, 8);
  const Hp = 2 * t.th + 2;
  const Wp = 2 * t.tw + 2;
  const r = layout(ex, { X: t.n * Hp * Wp * K, g: 9 * cIn * cOut, U: 16 * K * Np, V: 16 * t.T * K, M: 16 * t.T * Np, Y: t.n * 4 * t.th * t.tw * outC });
  padInto(view(ex, r.X, t.n * Hp * Wp * K), tensorValues(x), t, K, Hp, Wp, 1);
  view(ex, r.g, 9 * cIn * cOut).set(tensorValues(w));
  ex.filterTransform(r.U ?? 0, r.g ?? 0, cIn, cOut, rotate ? 1 : 0);
  ex.inputTransform(r.V ?? 0, r.X ?? 0, t.n, t.th, t.tw, K, t.T);
  ex.products(r.M ?? 0, r.V ?? 0, r.U ?? 0, t.T, K, Np, 16, 0);
  ex.outputTransform(r.Y ?? 0, r.M ?? 0, t.n, t.th, t.tw, outC, t.T, Np);
  return cropped(view(ex, r.Y, t.n * 4 * t.th * t.tw * outC), t, outC);
}

/** y = conv(x, w), 3×3, stride 1, pad 1 (x [n, h, w, cIn], w [3, 3, cIn, cOut]). */
export function winogradForward(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  return convolve(x, w, false);
}

/** dL/dx of that convolution from dy [n, h, w, cOut]. */
export function winogradInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  return convolve(dy, w, true);
}

/** dL/dw [3, 3, cIn, cOut] of that convolution from its input x and dy. */
export function winogradFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const ex = kernels();
  const cIn = x.shape[3];
  const cOut = dy.shape[3];
  if (cIn % 4 !== 0 || cOut % 4 !== 0) throw new Error('Winograd convolution: channel counts must be multiples of 4');
  if (dy.shape[0] !== x.shape[0] || dy.shape[1] !== x.shape[1] || dy.shape[2] !== x.shape[2])
    throw new Error(`Winograd filter gradient: dy ${dy.shape.join('×')} does not match x ${x.shape.join('×')} (stride 1, pad 1)`);
  const t = tiles(x.shape);
  const Np = up(cOut, 8);
  const Hp = 2 * t.th + 2;
  const Wp = 2 * t.tw + 2;
  const Ho = 2 * t.th;
  const Wo = 2 * t.tw;
  const r = layout(ex, { X: t.n * Hp * Wp * cIn, D: t.n * Ho * Wo * cOut, V: 16 * t.T * cIn, Yh: 16 * t.T * Np, dU: 16 * cIn * Np, dg: 9 * cIn * cOut });
  padInto(view(ex, r.X, t.n * Hp * Wp * cIn), tensorValues(x), t, cIn, Hp, Wp, 1);
  padInto(view(ex, r.D, t.n * Ho * Wo * cOut), tensorValues(dy), t, cOut, Ho, Wo, 0);
  ex.inputTransform(r.V ?? 0, r.X ?? 0, t.n, t.th, t.tw, cIn, t.T);
  ex.gradTransform(r.Yh ?? 0, r.D ?? 0, t.n, t.th, t.tw, cOut, t.T, Np);
  ex.gradProducts(r.dU ?? 0, r.V ?? 0, r.Yh ?? 0, t.T, cIn, Np, 16, 0);
  ex.filterGradInverse(r.dg ?? 0, r.dU ?? 0, cIn, cOut, Np);
  return tf.tensor4d(view(ex, r.dg, 9 * cIn * cOut).slice(), [3, 3, cIn, cOut]);
}

// ---- any convolution as products (im2col) ------------------------------------------------------

/** The geometry of a convolution, as conv.ts's ConvGeometry. */
export interface GemmGeometry {
  k: number;
  stride: number;
  pad: number;
}

/** Whether a convolution suits the im2col products: input channels a multiple of 4 (any k, stride, pad). */
export function gemmShapeFits(cIn: number, cOut: number): boolean {
  return cIn % 4 === 0 && cIn > 0 && cOut > 0;
}

function outSize(size: number, g: GemmGeometry): number {
  return Math.floor((size + 2 * g.pad - g.k) / g.stride) + 1;
}

function checkGemm(cIn: number, cOut: number): void {
  if (!gemmShapeFits(cIn, cOut)) throw new Error(`im2col convolution: ${cIn} input channels, not a multiple of 4`);
}

/** y = conv(x, w) as one product of the im2col matrix [T, k²·cIn] with the kernel [k²·cIn, cOut]. */
export function gemmForward(x: tf.Tensor4D, w: tf.Tensor4D, g: GemmGeometry): tf.Tensor4D {
  const ex = kernels();
  const [n, h, wd, cIn] = x.shape;
  const cOut = w.shape[3];
  checkGemm(cIn, cOut);
  const ho = outSize(h, g);
  const wo = outSize(wd, g);
  const T = n * ho * wo;
  const Tp = up(T, 4);
  const K = g.k * g.k * cIn;
  const Np = up(cOut, 8);
  const r = layout(ex, { X: n * h * wd * cIn, W: K * cOut, B: K * Np, cols: Tp * K, Y: Tp * Np, Yc: Np === cOut ? 0 : T * cOut });
  view(ex, r.X, n * h * wd * cIn).set(tensorValues(x));
  view(ex, r.W, K * cOut).set(tensorValues(w));
  ex.packPanels(r.B ?? 0, r.W ?? 0, K, cOut, 0);
  ex.im2col(r.cols ?? 0, r.X ?? 0, n, h, wd, cIn, g.k, g.stride, g.pad, ho, wo, Tp);
  ex.products(r.Y ?? 0, r.cols ?? 0, r.B ?? 0, Tp, K, Np, 1, 0);
  if (Np !== cOut) ex.cropColumns(r.Yc ?? 0, r.Y ?? 0, T, cOut, Np);
  return tensor4dFromScratch(view(ex, Np === cOut ? r.Y : r.Yc, T * cOut), [n, ho, wo, cOut]);
}

/** dL/dx: the product dy · wᵀ [T, k²·cIn], summed back over the taps (col2im). */
export function gemmInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, inShape: [number, number, number, number], g: GemmGeometry): tf.Tensor4D {
  const ex = kernels();
  const [n, h, wd, cIn] = inShape;
  const [, ho, wo, cOut] = dy.shape;
  checkGemm(cIn, cOut);
  if (ho !== outSize(h, g) || wo !== outSize(wd, g)) throw new Error(`im2col input gradient: dy ${dy.shape.join('×')} is not the output of ${inShape.join('×')}`);
  const T = n * ho * wo;
  const Tp = up(T, 4);
  const N2 = g.k * g.k * cIn;
  const Np = up(N2, 8);
  const r = layout(ex, { D: Tp * cOut, W: N2 * cOut, B: cOut * Np, dcols: Tp * Np, dx: n * h * wd * cIn });
  const d = view(ex, r.D, Tp * cOut);
  d.set(tensorValues(dy));
  d.fill(0, T * cOut);
  view(ex, r.W, N2 * cOut).set(tensorValues(w));
  ex.packPanels(r.B ?? 0, r.W ?? 0, cOut, N2, 1);
  ex.products(r.dcols ?? 0, r.D ?? 0, r.B ?? 0, Tp, cOut, Np, 1, 0);
  ex.col2im(r.dx ?? 0, r.dcols ?? 0, n, h, wd, cIn, g.k, g.stride, g.pad, ho, wo, Np);
  return tensor4dFromScratch(view(ex, r.dx, n * h * wd * cIn), [n, h, wd, cIn]);
}

/** dL/dw [k, k, cIn, cOut] = colsᵀ · dy. */
export function gemmFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, g: GemmGeometry): tf.Tensor4D {
  const ex = kernels();
  const [n, h, wd, cIn] = x.shape;
  const [, ho, wo, cOut] = dy.shape;
  checkGemm(cIn, cOut);
  if (ho !== outSize(h, g) || wo !== outSize(wd, g)) throw new Error(`im2col filter gradient: dy ${dy.shape.join('×')} is not the output of ${x.shape.join('×')}`);
  const T = n * ho * wo;
  const K = g.k * g.k * cIn;
  const Np = up(cOut, 8);
  const r = layout(ex, { X: n * h * wd * cIn, D: T * cOut, cols: T * K, B: T * Np, dW: K * Np, dWc: Np === cOut ? 0 : K * cOut });
  view(ex, r.X, n * h * wd * cIn).set(tensorValues(x));
  view(ex, r.D, T * cOut).set(tensorValues(dy));
  ex.im2col(r.cols ?? 0, r.X ?? 0, n, h, wd, cIn, g.k, g.stride, g.pad, ho, wo, T);
  ex.packPanels(r.B ?? 0, r.D ?? 0, T, cOut, 0);
  ex.gradProducts(r.dW ?? 0, r.cols ?? 0, r.B ?? 0, T, K, Np, 1, 0);
  if (Np !== cOut) ex.cropColumns(r.dWc ?? 0, r.dW ?? 0, K, cOut, Np);
  return tf.tensor4d(view(ex, Np === cOut ? r.dW : r.dWc, K * cOut).slice(), [g.k, g.k, cIn, cOut]);
}
