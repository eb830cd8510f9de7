/**
 * Direct sparse convolution over the active kernel entries (issue 19 "Speed"; src/engine/README.md
 * "Sparse convolution"): the index of a masked conv kernel, the row offsets the kernels walk, and the
 * plain-TypeScript kernels (the reference the WebAssembly SIMD kernels of assembly/sparse.ts are
 * tested against, and the fallback where that module cannot load).
 *
 * Kernel [k, k, cIn, cOut] in mask order (masks.ts, convnet.ts): flat index
 * i = ((ky·k + kx)·cIn + ci)·cOut + co; the "canonical" order of the active entries is increasing i,
 * the order in which values, gradients and optimizer state are kept (as sparse.ts for dense layers).
 *
 * Maps inside the kernels are channel-major with the batch innermost, [C][Hp][Wp][N] (zero-padded by
 * the convolution's padding), so pixel (y, x) of channel c is one batch-contiguous row of N floats:
 *  - forward  y[co, oy, ox, :] = Σ_{active (ky, kx, ci) of co} w · xp[ci, oy·s + ky, ox·s + kx, :],
 *  - input gradient (stride 1, a gather over the zero-padded dy, pad q = k − 1 − p):
 *      dx[ci, iy, ix, :] = Σ_{active (ky, kx, co) of ci} w · dyq[co, iy + k − 1 − ky, ix + k − 1 − kx, :];
 *    (stride > 1: the transposed scatter dxp[ci, oy·s + ky, ox·s + kx, :] += w · dy[co, oy, ox, :]),
 *  - filter gradient at the active entries only: g = Σ_{oy, ox, n} dy[co, oy, ox, n] · xp[ci, oy·s + ky, ox·s + kx, n].
 * Each is a row offset per entry plus a per-pixel base, so one active weight costs one batch-row
 * multiply-add per output pixel and no im2col matrix exists. Tensors outside stay NHWC; the kernels
 * pack and unpack.
 */

/** Shape of a conv kernel and its geometry. */
export interface ConvKernelGeometry {
  k: number;
  stride: number;
  /** Symmetric zero padding (≤ k − 1). */
  pad: number;
  cin: number;
  cout: number;
}

/** The index of a masked conv kernel. Entry arrays are in the order their `ptr` groups them. */
export interface SparseConvIndex {
  readonly geometry: ConvKernelGeometry;
  /** Active entries. */
  readonly k: number;
  /** Grouped by output channel: outPtr [cOut + 1]; outTap = ky·k·cIn + kx·cIn + ci (the fanIn index); outPerm = canonical position. */
  readonly outPtr: Int32Array;
  readonly outTap: Int32Array;
  readonly outPerm: Int32Array;
  /** Grouped by input channel: inPtr [cIn + 1]; inTap = (ky·k + kx)·cOut + co; inPerm = canonical position. */
  readonly inPtr: Int32Array;
  readonly inTap: Int32Array;
  readonly inPerm: Int32Array;
}

/** Batch and input map size of one call. */
export interface ConvMapShape {
  N: number;
  H: number;
  W: number;
}

/** Output map size (floor rounding, as PyTorch and TF.js). */
export function sparseConvOutSize(size: number, g: ConvKernelGeometry): number {
  return Math.floor((size + 2 * g.pad - g.k) / g.stride) + 1;
}

function at(a: Int32Array | Float32Array, i: number): number {
  const v = a[i];
  if (v === undefined) throw new Error(`internal: index ${i} outside an array of ${a.length}`);
  return v;
}

/** Build the index of a [k·k·cIn, cOut] 0/1 mask (undefined = every entry active). */
export function buildConvIndex(g: ConvKernelGeometry, mask: Float32Array | undefined): SparseConvIndex {
  const { k: ks, cin, cout } = g;
  if (!(Number.isInteger(ks) && ks >= 1 && Number.isInteger(g.stride) && g.stride >= 1 && Number.isInteger(g.pad) && g.pad >= 0 && g.pad <= ks - 1)) {
    throw new Error(`sparse conv: kernel ${ks}×${ks} with stride ${g.stride} and padding ${g.pad} is not supported (padding must be 0…k − 1)`);
  }
  const fanIn = ks * ks * cin;
  const n = fanIn * cout;
  if (mask && mask.length !== n) throw new Error(`sparse conv: mask has ${mask.length} entries, the ${ks}×${ks}×${cin}×${cout} kernel ${n}`);
  const active = (i: number): boolean => !mask || mask[i] !== 0;
  const outCount = new Int32Array(cout);
  const inCount = new Int32Array(cin);
  let total = 0;
  for (let t = 0; t < fanIn; t++) {
    const ci = t % cin;
    for (let co = 0; co < cout; co++) {
      if (!active(t * cout + co)) continue;
      total++;
      outCount[co] = at(outCount, co) + 1;
      inCount[ci] = at(inCount, ci) + 1;
    }
  }
  const prefix = (c: Int32Array): Int32Array => {
    const p = new Int32Array(c.length + 1);
    for (let i = 0; i < c.length; i++) p[i + 1] = at(p, i) + at(c, i);
    return p;
  };
  const outPtr = prefix(outCount);
  const inPtr = prefix(inCount);
  const outNext = outPtr.slice(0, cout);
  const inNext = inPtr.slice(0, cin);
  const outTap = new Int32Array(total);
  const outPerm = new Int32Array(total);
  const inTap = new Int32Array(total);
  const inPerm = new Int32Array(total);
  let q = 0;
  for (let t = 0; t < fanIn; t++) {
    const ci = t % cin;
    const kk = (t - ci) / cin;
    for (let co = 0; co < cout; co++) {
      if (!active(t * cout + co)) continue;
      const a = at(outNext, co);
      outNext[co] = a + 1;
      outTap[a] = t;
      outPerm[a] = q;
      const b = at(inNext, ci);
      inNext[ci] = b + 1;
      inTap[b] = kk * cout + co;
      inPerm[b] = q;
      q++;
    }
  }
  return { geometry: { ...g }, k: total, outPtr, outTap, outPerm, inPtr, inTap, inPerm };
}

/**
 * Row offsets for maps of size H × W: `fwd` (by output channel) into the input padded by p, used by
 * the forward pass, the filter gradient and the strided scatter; `bwd` (by input channel, stride 1)
 * into the output gradient padded by q = k − 1 − p.
 */
export function convOffsets(ix: SparseConvIndex, H: number, W: number): { fwd: Int32Array; bwd: Int32Array; Ho: number; Wo: number; Hp: number; Wp: number; q: number; Hq: number; Wq: number } {
  const g = ix.geometry;
  const Hp = H + 2 * g.pad;
  const Wp = W + 2 * g.pad;
  const Ho = sparseConvOutSize(H, g);
  const Wo = sparseConvOutSize(W, g);
  if (Ho < 1 || Wo < 1) throw new Error(`sparse conv: a ${H}×${W} map is smaller than the ${g.k}×${g.k} kernel`);
  const q = g.k - 1 - g.pad;
  const Hq = Ho + 2 * q;
  const Wq = Wo + 2 * q;
  const fwd = new Int32Array(ix.k);
  for (let j = 0; j < ix.k; j++) {
    const t = at(ix.outTap, j);
    const ci = t % g.cin;
    const kk = (t - ci) / g.cin;
    const kx = kk % g.k;
    const ky = (kk - kx) / g.k;
    fwd[j] = ci * Hp * Wp + ky * Wp + kx;
  }
  const bwd = new Int32Array(ix.k);
  for (let j = 0; j < ix.k; j++) {
    const t = at(ix.inTap, j);
    const co = t % g.cout;
    const kk = (t - co) / g.cout;
    const kx = kk % g.k;
    const ky = (kk - kx) / g.k;
    bwd[j] = co * Hq * Wq + (g.k - 1 - ky) * Wq + (g.k - 1 - kx);
  }
  return { fwd, bwd, Ho, Wo, Hp, Wp, q, Hq, Wq };
}

/**
 * The sparse convolution kernels. Activations are NHWC float32 arrays (as TF.js tensors hold them);
 * weights and the filter gradient are the active entries in canonical order. The output of
 * `forward` and the `dInput` of `backprop` may be views of the kernels' own memory (the WebAssembly
 * module's, not copied out): valid until the next call of either kernel, so read them, or make a
 * tensor of them, at once. `grad` is always the caller's own array.
 */
export interface SparseConvKernels {
  /** y [N, Ho, Wo, cOut] = conv(x [N, H, W, cIn], the active weights). */
  forward(ix: SparseConvIndex, values: Float32Array, x: Float32Array, s: ConvMapShape): Float32Array;
  /** The filter gradient at the active entries (canonical order) and, when `withInput`, dL/dx [N, H, W, cIn]. */
  backprop(ix: SparseConvIndex, values: Float32Array, x: Float32Array, dy: Float32Array, s: ConvMapShape, withInput: boolean): { grad: Float32Array; dInput?: Float32Array };
  /**
   * dL/dx [N, H, W, C] of the 2×2 stride-2 max-pool y = maxPool(x) (nn/pool.ts, NHWC, floor): each
   * window's gradient dy to its FIRST corner in row-major order equal to y, zeros elsewhere (and on
   * a dropped odd last row / column). Not a sparse kernel, but the conv nets' other host pass over
   * whole activation maps, so it lives beside them (same memory, same fallback). A view, as `forward`.
   */
  maxPoolBackward(x: Float32Array, y: Float32Array, dy: Float32Array, s: PoolMapShape): Float32Array;
  /**
   * BatchNorm's batch statistics over a conv net's [rows = N·H·W, units = C] map (layers.ts): per
   * unit the mean and the biased variance Σ(x − mean)²/rows, in float64, each sum over the rows in
   * order (so every implementation gives the same bits).
   */
  columnMoments(x: Float32Array, rows: number, units: number): { mean: Float64Array; variance: Float64Array };
  /** BatchNorm's backward sums, float64, rows in order: Σ_r dy[r, u] and Σ_r dy[r, u]·(x[r, u] − mean[u]). */
  columnGradSums(dy: Float32Array, x: Float32Array, mean: Float64Array, rows: number, units: number): { sumDy: Float64Array; sumDyXc: Float64Array };
}

export function checkColumnOperands(rows: number, units: number, ...a: { length: number }[]): void {
  for (const v of a) if (v.length !== rows * units && v.length !== units) throw new Error(`column sums: an operand of ${v.length} entries for ${rows} rows of ${units} units`);
}

/** Input map of a pooling call: batch, height, width, channels. */
export interface PoolMapShape {
  N: number;
  H: number;
  W: number;
  C: number;
}

export function checkPoolOperands(x: Float32Array, y: Float32Array, dy: Float32Array, s: PoolMapShape): void {
  const out = s.N * Math.floor(s.H / 2) * Math.floor(s.W / 2) * s.C;
  if (x.length !== s.N * s.H * s.W * s.C || y.length !== out || dy.length !== out) {
    throw new Error(`max-pool backward: x of ${x.length}, y of ${y.length}, dy of ${dy.length} entries for a ${s.N}×${s.H}×${s.W}×${s.C} input`);
  }
}

export function checkConvOperands(ix: SparseConvIndex, values: Float32Array, x: Float32Array, s: ConvMapShape, dy?: Float32Array): { Ho: number; Wo: number } {
  const g = ix.geometry;
  if (values.length !== ix.k) throw new Error(`sparse conv: ${values.length} weights for ${ix.k} active entries (a stale view?)`);
  if (x.length !== s.N * s.H * s.W * g.cin) throw new Error(`sparse conv: input of ${x.length} entries, expected ${s.N}×${s.H}×${s.W}×${g.cin}`);
  const Ho = sparseConvOutSize(s.H, g);
  const Wo = sparseConvOutSize(s.W, g);
  if (dy && dy.length !== s.N * Ho * Wo * g.cout) throw new Error(`sparse conv: output gradient of ${dy.length} entries, expected ${s.N}×${Ho}×${Wo}×${g.cout}`);
  return { Ho, Wo };
}

/** Plain TypeScript, straight from the definitions in NHWC (the filter gradient summed in float64). */
export const typescriptConvKernels: SparseConvKernels = {
  forward(ix, values, x, s) {
    const g = ix.geometry;
    const { Ho, Wo } = checkConvOperands(ix, values, x, s);
    const y = new Float32Array(s.N * Ho * Wo * g.cout);
    for (let co = 0; co < g.cout; co++) {
      for (let j = at(ix.outPtr, co); j < at(ix.outPtr, co + 1); j++) {
        const w = at(values, at(ix.outPerm, j));
        const t = at(ix.outTap, j);
        const ci = t % g.cin;
        const kk = (t - ci) / g.cin;
        const kx = kk % g.k;
        const ky = (kk - kx) / g.k;
        for (let n = 0; n < s.N; n++) {
          for (let oy = 0; oy < Ho; oy++) {
            const iy = oy * g.stride + ky - g.pad;
            if (iy < 0 || iy >= s.H) continue;
            for (let ox = 0; ox < Wo; ox++) {
              const ixx = ox * g.stride + kx - g.pad;
              if (ixx < 0 || ixx >= s.W) continue;
              const o = ((n * Ho + oy) * Wo + ox) * g.cout + co;
              y[o] = at(y, o) + w * at(x, ((n * s.H + iy) * s.W + ixx) * g.cin + ci);
            }
          }
        }
      }
    }
    return y;
  },
  backprop(ix, values, x, dy, s, withInput) {
    const g = ix.geometry;
    const { Ho, Wo } = checkConvOperands(ix, values, x, s, dy);
    const grad = new Float32Array(ix.k);
    const dx = withInput ? new Float32Array(x.length) : undefined;
    for (let co = 0; co < g.cout; co++) {
      for (let j = at(ix.outPtr, co); j < at(ix.outPtr, co + 1); j++) {
        const q = at(ix.outPerm, j);
        const w = at(values, q);
        const t = at(ix.outTap, j);
        const ci = t % g.cin;
        const kk = (t - ci) / g.cin;
        const kx = kk % g.k;
        const ky = (kk - kx) / g.k;
        let sum = 0;
        for (let n = 0; n < s.N; n++) {
          for (let oy = 0; oy < Ho; oy++) {
            const iy = oy * g.stride + ky - g.pad;
            if (iy < 0 || iy >= s.H) continue;
            for (let ox = 0; ox < Wo; ox++) {
              const ixx = ox * g.stride + kx - g.pad;
              if (ixx < 0 || ixx >= s.W) continue;
              const d = at(dy, ((n * Ho + oy) * Wo + ox) * g.cout + co);
              const xi = ((n * s.H + iy) * s.W + ixx) * g.cin + ci;
              sum += d * at(x, xi);
              if (dx) dx[xi] = at(dx, xi) + w * d;
            }
          }
        }
        grad[q] = sum;
      }
    }
    return dx ? { grad, dInput: dx } : { grad };
  },
  maxPoolBackward(xv, yv, g, s) {
    checkPoolOperands(xv, yv, g, s);
    const { N: n, H: h, W: w, C: c } = s;
    const ho = Math.floor(h / 2);
    const wo = Math.floor(w / 2);
    const dx = new Float32Array(n * h * w * c);
    const row = w * c;
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < ho; i++) {
        const r0 = (b * h + 2 * i) * row;
        const r1 = r0 + row;
        for (let j = 0; j < wo; j++) {
          const p00 = r0 + 2 * j * c;
          const p01 = p00 + c;
          const p10 = r1 + 2 * j * c;
          const p11 = p10 + c;
          for (let ch = 0; ch < c; ch++, o++) {
            const m = yv[o]!;
            const d = g[o]!;
            if (xv[p00 + ch] === m) dx[p00 + ch] = d;
            else if (xv[p01 + ch] === m) dx[p01 + ch] = d;
            else if (xv[p10 + ch] === m) dx[p10 + ch] = d;
            else if (xv[p11 + ch] === m) dx[p11 + ch] = d;
          }
        }
      }
    }
    return dx;
  },
  columnMoments(v, rows, units) {
    checkColumnOperands(rows, units, v);
    const m = new Float64Array(units);
    const q = new Float64Array(units);
    for (let r = 0, o = 0; r < rows; r++) for (let u = 0; u < units; u++, o++) m[u]! += v[o]!;
    for (let u = 0; u < units; u++) m[u]! /= rows;
    for (let r = 0, o = 0; r < rows; r++) {
      for (let u = 0; u < units; u++, o++) {
        const d = v[o]! - m[u]!;
        q[u]! += d * d;
      }
    }
    for (let u = 0; u < units; u++) q[u]! /= rows;
    return { mean: m, variance: q };
  },
  columnGradSums(g, x, mean, rows, units) {
    checkColumnOperands(rows, units, g, x, mean);
    const sdy = new Float64Array(units);
    const sdyx = new Float64Array(units);
    for (let r = 0, o = 0; r < rows; r++) {
      for (let u = 0; u < units; u++, o++) {
        const d = g[o]!;
        sdy[u]! += d;
        sdyx[u]! += d * (x[o]! - mean[u]!);
      }
    }
    return { sumDy: sdy, sumDyXc: sdyx };
  },
};
