/**
 * The sparse execution path of a masked layer: only the active weights and their index are stored,
 * and the products cost what the active weights cost (issue 7; src/engine/README.md "Sparse kernels").
 *
 * Storage of a layer with k active weights (stored layout V = Wᵀ, [fanOut, fanIn], model.ts):
 *  - canonical order = the flat [fanIn, fanOut] index order of masks.ts (input unit c, then output
 *    unit r), i.e. CSC of V: `colPtr` [fanIn + 1], `rowIdx` [k] (u16); `values` and every optimizer
 *    state slot are Float32Array [k] in this order;
 *  - the transposed index (CSR of V) for the forward product: `rowPtr` [fanOut + 1], `csrCol` [k]
 *    (u16) and `csrPerm` [k] (CSR position → canonical position).
 * With activations unit-major ([units, batch], one batch-contiguous row per unit):
 *  - forward   zᵀ[r, :] = Σ_{c active in row r} V[r, c]·hᵀ[c, :]      (CSR; an axpy per weight),
 *  - backward  dhᵀ[c, :] = Σ_{r active in col c} V[r, c]·dzᵀ[r, :]    (CSC, no permutation),
 *  - gradient  dV[r, c] = dzᵀ[r, :]·hᵀ[c, :] at active entries only    (one dot per weight).
 * Unit numbers are stored as u16, so the sparse path takes layers with fanIn, fanOut ≤ 65536.
 *
 * Kernels: WebAssembly with 128-bit SIMD (assembly/sparse.ts, built into dist/gradflow-sparse.wasm
 * by `npm run build`), or the plain-TypeScript implementation below where that module is missing or
 * WebAssembly SIMD is unavailable (GRADFLOW_SPARSE_KERNELS=typescript forces it). Both compute the
 * same sums in the same order except for the grouping of the batch dimension (float32 rounding).
 */
import { checkColumnOperands, checkConvOperands, checkPoolOperands, convOffsets, typescriptConvKernels, type SparseConvIndex, type SparseConvKernels } from './nn/sparse-conv';
import { at } from '../shared/checked';
import { engineWasmCandidates, instantiateEngineWasm, type WasmMemory } from './wasm-module';

/** Largest fanIn / fanOut the sparse path stores (u16 unit numbers). */
export const SPARSE_MAX_UNITS = 65536;
export const SPARSE_WASM_FILE = 'gradflow-sparse.wasm';

export type KernelImpl = 'wasm-simd' | 'typescript';

/** A layer's index, as the kernels see it. */
export interface SparseIndex {
  readonly fanIn: number;
  readonly fanOut: number;
  readonly k: number;
  readonly colPtr: Int32Array;
  readonly rowIdx: Uint16Array;
  readonly rowPtr: Int32Array;
  readonly csrCol: Uint16Array;
  readonly csrPerm: Int32Array;
}

/**
 * A float32 buffer owned by the kernels. `view()` is its current array: take it afresh for each use,
 * because the wasm module's memory may grow, which detaches earlier views (their length becomes 0;
 * the kernels refuse such an array instead of reading it).
 */
export interface KernelBuffer {
  readonly length: number;
  view(): Float32Array;
  free(): void;
}

/**
 * One optimizer update of a sparse layer's active entries (optimizers.ts computes the constants):
 * adam (adamw too): m ← m·b1 + g·c1, v ← v·b2 + g²·c2, w ← w·decay − (m / (√v + e2))·f;
 * rmsprop: s ← s·rho + g²·c; adagrad: s ← s + g²; both w ← w − (g / (√s + eps))·lr;
 * momentum: buf ← buf·mu + g, w ← w − buf·lr (Nesterov: w ← w − (g + buf·mu)·lr); sgd: w ← w − g·lr. The wasm kernels compute in float32
 * (like the TF.js optimizers of the dense path), the TypeScript ones per entry in float64.
 */
export type UpdateRule =
  | { name: 'sgd'; lr: number }
  | { name: 'momentum'; lr: number; mu: number; nesterov: boolean }
  | { name: 'adam'; b1: number; c1: number; b2: number; c2: number; f: number; e2: number; decay: number }
  | { name: 'rmsprop'; rho: number; c: number; eps: number; lr: number }
  | { name: 'adagrad'; eps: number; lr: number };

/** How many state slots (Float32Array [k]) a rule keeps. */
export function ruleSlots(rule: UpdateRule): number {
  switch (rule.name) {
    case 'sgd':
      return 0;
    case 'momentum':
    case 'rmsprop':
    case 'adagrad':
      return 1;
    case 'adam':
      return 2;
    default: {
      const never: never = rule;
      throw new Error(`unknown rule ${String(never)}`);
    }
  }
}

/**
 * The three products. Arrays are unit-major with row length B. The arrays `forward` and `backward`
 * return may be views into the kernels' own memory, valid only until the next call on the same
 * kernels: copy them (model.ts does, into a tensor) before calling again. `gradient` and `backprop`'s
 * `grad` are the caller's own arrays.
 */
export interface SparseKernels {
  readonly impl: KernelImpl;
  /** zᵀ [fanOut, B] = V·hᵀ. */
  forward(ix: SparseIndex, values: Float32Array, inp: Float32Array, B: number): Float32Array;
  /** dhᵀ [fanIn, B] = Vᵀ·dzᵀ. */
  backward(ix: SparseIndex, values: Float32Array, dz: Float32Array, B: number): Float32Array;
  /** dV at the k active entries, canonical order. */
  gradient(ix: SparseIndex, dz: Float32Array, inp: Float32Array, B: number): Float32Array;
  /** gradient() and, when `withInput`, backward() in one call (dz is handed over once). */
  backprop(ix: SparseIndex, values: Float32Array, dz: Float32Array, inp: Float32Array, B: number, withInput: boolean): { grad: Float32Array; dInput?: Float32Array };
  /**
   * A zero-filled float32 buffer of n entries that the kernels read and write in place (for the wasm
   * kernels: in the module's memory, so weights and optimizer state need no copy per call).
   */
  allocate(n: number): KernelBuffer;
  /** Apply `rule` in place to the weights `w` and the state `slots` (ruleSlots(rule) of them), gradient g. */
  update(rule: UpdateRule, w: Float32Array, slots: Float32Array[], g: Float32Array): void;
  /** Forget any copy of this index (after a rebuild or when the layer is disposed). */
  release(ix: SparseIndex): void;
  /**
   * ‖Xᵀ·D‖²_F for X = x unit-major [ux, B] and D = d [ud, B] (a layer's input and output gradient)
   * from the Gram identity Σ (XᵀX) ⊙ (DᵀD), using the symmetry of both B×B Grams:
   * B·(B + 1)/2·(ux + ud) multiply-adds instead of ux·ud·B.
   */
  gramSquaredNorm(x: Float32Array, ux: number, d: Float32Array, ud: number, B: number): number;
  /** Bytes of memory the kernels hold beyond the caller's arrays (the wasm module's memory; 0 for TypeScript). */
  reservedBytes(): number;
  /** Direct sparse convolution over the active entries of a conv kernel (nn/sparse-conv.ts). */
  readonly conv: SparseConvKernels;
}

function updateTs(rule: UpdateRule, w: Float32Array, slots: Float32Array[], g: Float32Array): void {
  const k = w.length;
  switch (rule.name) {
    case 'sgd':
      for (let i = 0; i < k; i++) w[i]! -= g[i]! * rule.lr;
      return;
    case 'momentum': {
      const buf = at(slots, 0);
      for (let i = 0; i < k; i++) {
        buf[i] = buf[i]! * rule.mu + g[i]!;
        w[i]! -= (rule.nesterov ? g[i]! + buf[i]! * rule.mu : buf[i]!) * rule.lr;
      }
      return;
    }
    case 'adam': {
      const m = at(slots, 0);
      const v = at(slots, 1);
      const { b1, c1, b2, c2, f, e2, decay } = rule;
      for (let i = 0; i < k; i++) {
        const gi = g[i]!;
        m[i] = m[i]! * b1 + gi * c1;
        v[i] = v[i]! * b2 + gi * gi * c2;
        w[i] = w[i]! * decay - (m[i]! / (Math.sqrt(v[i]!) + e2)) * f;
      }
      return;
    }
    case 'rmsprop':
    case 'adagrad': {
      const sq = at(slots, 0);
      for (let i = 0; i < k; i++) {
        const gi = g[i]!;
        sq[i] = rule.name === 'adagrad' ? sq[i]! + gi * gi : sq[i]! * rule.rho + gi * gi * rule.c;
        w[i]! -= (gi / (Math.sqrt(sq[i]!) + rule.eps)) * rule.lr;
      }
      return;
    }
    default: {
      const never: never = rule;
      throw new Error(`unknown rule ${String(never)}`);
    }
  }
}

// ---- plain TypeScript ------------------------------------------------------------------------

function spmmTs(out: Float32Array, nOut: number, ptr: Int32Array, idx: Uint16Array, perm: Int32Array | null, val: Float32Array, inp: Float32Array, B: number): void {
  for (let o = 0; o < nOut; o++) {
    const ob = o * B;
    for (let j = ptr[o]!; j < ptr[o + 1]!; j++) {
      const w = val[perm ? perm[j]! : j]!;
      const ib = idx[j]! * B;
      for (let b = 0; b < B; b++) out[ob + b]! += w * inp[ib + b]!;
    }
  }
}

export const typescriptKernels: SparseKernels = {
  impl: 'typescript',
  forward(ix, values, inp, B) {
    const out = new Float32Array(ix.fanOut * B);
    spmmTs(out, ix.fanOut, ix.rowPtr, ix.csrCol, ix.csrPerm, values, inp, B);
    return out;
  },
  backward(ix, values, dz, B) {
    const out = new Float32Array(ix.fanIn * B);
    spmmTs(out, ix.fanIn, ix.colPtr, ix.rowIdx, null, values, dz, B);
    return out;
  },
  gradient(ix, dz, inp, B) {
    const g = new Float32Array(ix.k);
    for (let c = 0; c < ix.fanIn; c++) {
      const hb = c * B;
      for (let k = ix.colPtr[c]!; k < ix.colPtr[c + 1]!; k++) {
        const db = ix.rowIdx[k]! * B;
        let s = 0;
        for (let b = 0; b < B; b++) s += dz[db + b]! * inp[hb + b]!;
        g[k] = s;
      }
    }
    return g;
  },
  backprop(ix, values, dz, inp, B, withInput) {
    const grad = typescriptKernels.gradient(ix, dz, inp, B);
    return withInput ? { grad, dInput: typescriptKernels.backward(ix, values, dz, B) } : { grad };
  },
  update: updateTs,
  gramSquaredNorm(x, ux, d, ud, B) {
    const gram = (a: Float32Array, U: number): Float64Array => {
      const g = new Float64Array(B * B);
      for (let u = 0; u < U; u++) {
        const o = u * B;
        for (let i = 0; i < B; i++) {
          const ai = a[o + i]!;
          for (let j = i; j < B; j++) g[i * B + j]! += ai * a[o + j]!;
        }
      }
      return g;
    };
    const gx = gram(x, ux);
    const gd = gram(d, ud);
    let total = 0;
    for (let i = 0; i < B; i++) {
      total += gx[i * B + i]! * gd[i * B + i]!;
      for (let j = i + 1; j < B; j++) total += 2 * gx[i * B + j]! * gd[i * B + j]!;
    }
    return total;
  },
  allocate(n) {
    const a = new Float32Array(n);
    return { length: n, view: () => a, free: () => undefined };
  },
  release: () => undefined,
  reservedBytes: () => 0,
  conv: typescriptConvKernels,
};

// ---- WebAssembly SIMD ------------------------------------------------------------------------

interface WasmExports {
  memory: WasmMemory;
  spmm(out: number, nOut: number, ptr: number, idx: number, val: number, inp: number, B: number): void;
  gather(dst: number, src: number, perm: number, k: number): void;
  sddmm(g: number, n: number, ptr: number, idx: number, perm: number, a: number, b: number, B: number): void;
  sgdUpdate(w: number, g: number, k: number, lr: number): void;
  momentumUpdate(w: number, buf: number, g: number, k: number, mu: number, lr: number, nesterov: number): void;
  adamUpdate(w: number, m: number, v: number, g: number, k: number, b1: number, c1: number, b2: number, c2: number, f: number, e2: number, decay: number): void;
  rmsUpdate(w: number, s: number, g: number, k: number, rho: number, c: number, eps: number, lr: number, adagrad: number): void;
  syrk(g: number, x: number, U: number, Bp: number): void;
  gramDot(gx: number, gd: number, Bp: number): number;
  sconv(out: number, nOut: number, ptr: number, off: number, val: number, x: number, Ho: number, Wo: number, rowStep: number, colStep: number, N: number): void;
  sconvScatter(dx: number, nOut: number, ptr: number, off: number, val: number, dy: number, Ho: number, Wo: number, rowStep: number, colStep: number, N: number): void;
  sconvGrad(g: number, nOut: number, ptr: number, off: number, perm: number, dy: number, x: number, Ho: number, Wo: number, rowStep: number, colStep: number, N: number, dyPad: number): void;
  packMaps(dst: number, src: number, N: number, H: number, W: number, C: number, pad: number): void;
  unpackMaps(dst: number, src: number, N: number, H: number, W: number, C: number, pad: number): void;
  maxPoolGrad(dx: number, x: number, y: number, dy: number, N: number, H: number, W: number, C: number): void;
  colMoments(out: number, x: number, rows: number, units: number): void;
  colGradSums(out: number, dy: number, x: number, mean: number, rows: number, units: number): void;
}

/** First-fit allocator over the module's memory (the module itself allocates nothing). */
class Heap {
  private top = 1024;
  private readonly freeList: { ptr: number; size: number }[] = [];
  constructor(private readonly memory: WasmMemory) {}
  alloc(bytes: number): number {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    for (let i = 0; i < this.freeList.length; i++) {
      const f = at(this.freeList, i);
      if (f.size >= size) {
        const ptr = f.ptr;
        if (f.size === size) this.freeList.splice(i, 1);
        else {
          f.ptr += size;
          f.size -= size;
        }
        return ptr;
      }
    }
    const ptr = this.top;
    this.top += size;
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / 65536));
    return ptr;
  }
  free(ptr: number, bytes: number): void {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    this.freeList.push({ ptr, size });
    this.freeList.sort((a, b) => a.ptr - b.ptr);
    // Coalesce neighbours; give the tail back to the bump pointer.
    for (let i = this.freeList.length - 2; i >= 0; i--) {
      const a = at(this.freeList, i);
      const b = at(this.freeList, i + 1);
      if (a.ptr + a.size === b.ptr) {
        a.size += b.size;
        this.freeList.splice(i + 1, 1);
      }
    }
    const last = this.freeList[this.freeList.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.freeList.pop();
    }
  }
}

interface Bound {
  colPtr: number;
  rowIdx: number;
  rowPtr: number;
  csrCol: number;
  csrPerm: number;
  bytes: number[];
}

function wasmKernels(ex: WasmExports): SparseKernels {
  const heap = new Heap(ex.memory);
  const bound = new WeakMap<SparseIndex, Bound>();
  // Scratch buffers, grown on demand: 0 values (canonical order), 1 values in CSR order, 2 and 3 the
  // two activation operands, 4 the product, 5 the kernel gradient, 6 and 7 optimizer state, 8 and 9
  // the Gram operands (batch padded to a multiple of 16), 10 and 11 their Grams.
  // 12…20 the sparse convolution's: 12 packed input, 13 NHWC staging, 14 packed output / output
  // gradient (padded for the stride-1 input gradient), 15 NHWC staging, 16 weights (canonical), 17
  // weights by output channel, 18 filter gradient, 19 weights by input channel and 20 the packed
  // input gradient.
  const scratch = Array.from({ length: 21 }, () => ({ ptr: 0, bytes: 0 }));
  const region = (slot: number, bytes: number): number => {
    const s = at(scratch, slot);
    if (s.bytes < bytes) {
      if (s.bytes > 0) heap.free(s.ptr, s.bytes);
      s.bytes = Math.max(bytes, Math.ceil(s.bytes * 1.25));
      s.ptr = heap.alloc(s.bytes);
    }
    return s.ptr;
  };
  const put = (ptr: number, a: Float32Array | Int32Array | Uint16Array): void => {
    const view = a instanceof Float32Array ? new Float32Array(ex.memory.buffer, ptr, a.length) : a instanceof Int32Array ? new Int32Array(ex.memory.buffer, ptr, a.length) : new Uint16Array(ex.memory.buffer, ptr, a.length);
    view.set(a);
  };
  const bind = (ix: SparseIndex): Bound => {
    let b = bound.get(ix);
    if (b) return b;
    const arrays = [ix.colPtr, ix.rowIdx, ix.rowPtr, ix.csrCol, ix.csrPerm];
    const bytes = arrays.map((a) => a.byteLength);
    const ptrs = bytes.map((n) => heap.alloc(n));
    arrays.forEach((a, i) => put(at(ptrs, i), a));
    b = { colPtr: at(ptrs, 0), rowIdx: at(ptrs, 1), rowPtr: at(ptrs, 2), csrCol: at(ptrs, 3), csrPerm: at(ptrs, 4), bytes };

    bound.set(ix, b);
    return b;
  };
  const view = (ptr: number, n: number): Float32Array => new Float32Array(ex.memory.buffer, ptr, n);
  // Weights and optimizer state allocated by allocate() live in the module's memory: their address
  // is taken BEFORE anything else is allocated in a call (an allocation may grow the memory and
  // detach the caller's view); any other array is copied into a scratch region.
  const resident = (a: Float32Array, n: number, what: string): number => {
    if (a.length !== n) throw new Error(`sparse kernels: ${what} has ${a.length} entries, expected ${n} (a stale view of kernel memory?)`);
    return a.buffer === ex.memory.buffer ? a.byteOffset : -1;
  };
  const operand = (a: Float32Array, at: number, slot: number): number => {
    if (at >= 0) return at;
    const p = region(slot, a.byteLength);
    put(p, a);
    return p;
  };
  const backward = (b: Bound, ix: SparseIndex, pv: number, pd: number, B: number): Float32Array => {
    const po = region(4, ix.fanIn * B * 4);
    ex.spmm(po, ix.fanIn, b.colPtr, b.rowIdx, pv, pd, B);
    return view(po, ix.fanIn * B);
  };
  const gradient = (b: Bound, ix: SparseIndex, pd: number, ph: number, B: number): Float32Array => {
    const pg = region(5, ix.k * 4);
    // Walk the larger side in order, so the randomly addressed rows are the smaller operand's.
    if (ix.fanIn >= ix.fanOut) ex.sddmm(pg, ix.fanIn, b.colPtr, b.rowIdx, 0, ph, pd, B);
    else ex.sddmm(pg, ix.fanOut, b.rowPtr, b.csrCol, b.csrPerm, pd, ph, B);
    return view(pg, ix.k).slice();
  };
  const operands = (ix: SparseIndex, dz: Float32Array, inp: Float32Array, B: number): { pd: number; ph: number } => {
    if (dz.length !== ix.fanOut * B || inp.length !== ix.fanIn * B) throw new Error(`sparse kernels: operands of ${dz.length} and ${inp.length} entries for a ${ix.fanIn}×${ix.fanOut} layer at batch ${B} (a stale view?)`);
    const pd = region(2, dz.byteLength);
    const ph = region(3, inp.byteLength);
    put(pd, dz);
    put(ph, inp);
    return { pd, ph };
  };
  return {
    impl: 'wasm-simd',
    forward(ix, v, inp, B) {
      const at = resident(v, ix.k, 'weights');
      const b = bind(ix);
      const pv = operand(v, at, 0);
      const pc = region(1, ix.k * 4);
      ex.gather(pc, pv, b.csrPerm, ix.k);
      if (inp.length !== ix.fanIn * B) throw new Error(`sparse kernels: input of ${inp.length} entries for fanIn ${ix.fanIn} at batch ${B} (a stale view?)`);
      const pi = region(2, inp.byteLength);
      put(pi, inp);
      const po = region(4, ix.fanOut * B * 4);
      ex.spmm(po, ix.fanOut, b.rowPtr, b.csrCol, pc, pi, B);
      return view(po, ix.fanOut * B);
    },
    backward(ix, v, dz, B) {
      const at = resident(v, ix.k, 'weights');
      const b = bind(ix);
      const pv = operand(v, at, 0);
      if (dz.length !== ix.fanOut * B) throw new Error(`sparse kernels: output gradient of ${dz.length} entries for fanOut ${ix.fanOut} at batch ${B} (a stale view?)`);
      const pd = region(2, dz.byteLength);
      put(pd, dz);
      return backward(b, ix, pv, pd, B);
    },
    gradient(ix, dz, inp, B) {
      const b = bind(ix);
      const { pd, ph } = operands(ix, dz, inp, B);
      return gradient(b, ix, pd, ph, B);
    },
    backprop(ix, v, dz, inp, B, withInput) {
      const at = resident(v, ix.k, 'weights');
      const b = bind(ix);
      const { pd, ph } = operands(ix, dz, inp, B);
      const grad = gradient(b, ix, pd, ph, B);
      return withInput ? { grad, dInput: backward(b, ix, operand(v, at, 0), pd, B) } : { grad };
    },
    update(rule, w, slots, g) {
      const k = g.length;
      const atW = resident(w, k, 'weights');
      const atS = slots.map((a) => resident(a, k, 'optimizer state'));
      const pw = operand(w, atW, 0);
      const ps = slots.map((a, i) => operand(a, at(atS, i), 6 + i));
      const pg = region(5, g.byteLength);
      put(pg, g);
      switch (rule.name) {
        case 'sgd':
          ex.sgdUpdate(pw, pg, k, rule.lr);
          break;
        case 'momentum':
          ex.momentumUpdate(pw, at(ps, 0), pg, k, rule.mu, rule.lr, rule.nesterov ? 1 : 0);
          break;
        case 'adam':
          ex.adamUpdate(pw, at(ps, 0), at(ps, 1), pg, k, rule.b1, rule.c1, rule.b2, rule.c2, rule.f, rule.e2, rule.decay);
          break;
        case 'rmsprop':
          ex.rmsUpdate(pw, at(ps, 0), pg, k, rule.rho, rule.c, rule.eps, rule.lr, 0);
          break;
        case 'adagrad':
          ex.rmsUpdate(pw, at(ps, 0), pg, k, 1, 1, rule.eps, rule.lr, 1);
          break;
        default: {
          const never: never = rule;
          throw new Error(`unknown rule ${String(never)}`);
        }
      }
      // Arrays that were copied in are copied back (the vector loops may write past k inside the
      // padded regions only).
      if (atW < 0) w.set(view(pw, k));
      slots.forEach((a, i) => {
        if (at(atS, i) < 0) a.set(view(at(ps, i), k));
      });
    },
    gramSquaredNorm(x, ux, d, ud, B) {
      if (x.length !== ux * B || d.length !== ud * B) throw new Error('sparse kernels: Gram operands do not match their shapes');
      const Bp = Math.ceil(B / 16) * 16;
      const padded = (a: Float32Array, U: number, slot: number): number => {
        const p = region(slot, U * Bp * 4);
        if (Bp === B) put(p, a);
        else {
          const v = view(p, U * Bp);
          v.fill(0);
          for (let u = 0; u < U; u++) v.set(a.subarray(u * B, (u + 1) * B), u * Bp);
        }
        return p;
      };
      const px = padded(x, ux, 8);
      const pd = padded(d, ud, 9);
      const gx = region(10, Bp * Bp * 4);
      const gd = region(11, Bp * Bp * 4);
      if (ux === 0 || ud === 0) return 0;
      ex.syrk(gx, px, ux, Bp);
      ex.syrk(gd, pd, ud, Bp);
      return ex.gramDot(gx, gd, Bp);
    },
    allocate(n) {
      const bytes = n * 4;
      const ptr = heap.alloc(bytes);
      let cached = view(ptr, n);
      cached.fill(0);
      let live = true;
      return {
        length: n,
        view: () => {
          if (!live) throw new Error('sparse kernels: buffer used after free');
          if (cached.buffer !== ex.memory.buffer) cached = view(ptr, n);
          return cached;
        },
        free: () => {
          if (!live) return;
          live = false;
          heap.free(ptr, bytes);
        },
      };
    },
    release(ix) {
      const b = bound.get(ix);
      if (!b) return;
      [b.colPtr, b.rowIdx, b.rowPtr, b.csrCol, b.csrPerm].forEach((p, i) => heap.free(p, at(b.bytes, i)));
      bound.delete(ix);
    },
    reservedBytes: () => ex.memory.buffer.byteLength,
    conv: wasmConv(ex, heap, region, put, resident, operand),
  };
}

interface ConvBound {
  H: number;
  W: number;
  ptrs: number[];
  bytes: number[];
}

/** The sparse convolution on the wasm kernels (assembly/sparse.ts sconv*, packMaps, unpackMaps). */
function wasmConv(
  ex: WasmExports,
  heap: Heap,
  region: (slot: number, bytes: number) => number,
  put: (ptr: number, a: Float32Array | Int32Array | Uint16Array) => void,
  resident: (a: Float32Array, n: number, what: string) => number,
  operand: (a: Float32Array, at: number, slot: number) => number,
): SparseConvKernels {
  const bound = new WeakMap<SparseConvIndex, ConvBound>();
  // Index arrays and the row offsets for H × W maps, in the module's memory (rebound when the map
  // size changes; the batch size does not matter: offsets count rows of N floats).
  const bind = (ix: SparseConvIndex, H: number, W: number): { ptr: number[]; o: ReturnType<typeof convOffsets> } => {
    const o = convOffsets(ix, H, W);
    let b = bound.get(ix);
    if (b && (b.H !== H || b.W !== W)) {
      b.ptrs.forEach((p, i) => heap.free(p, b?.bytes[i] ?? 0));
      b = undefined;
    }
    if (!b) {
      const arrays = [ix.outPtr, ix.outPerm, ix.inPtr, ix.inPerm, o.fwd, o.bwd];
      const bytes = arrays.map((a) => a.byteLength);
      const ptrs = bytes.map((n) => heap.alloc(n));
      arrays.forEach((a, i) => put(ptrs[i] ?? 0, a));
      b = { H, W, ptrs, bytes };
      bound.set(ix, b);
    }
    return { ptr: b.ptrs, o };
  };
  const zeros = (slot: number, n: number): number => {
    const p = region(slot, n * 4);
    new Float32Array(ex.memory.buffer, p, n).fill(0);
    return p;
  };
  const copyOut = (p: number, n: number): Float32Array => new Float32Array(ex.memory.buffer, p, n).slice();
  // The output and the input gradient are returned as views of the module's memory (the contract of
  // SparseConvKernels: valid until the next call of a conv kernel), not copies: the caller makes a
  // tensor of them at once, which copies them into the backend's memory anyway.
  const view = (p: number, n: number): Float32Array => new Float32Array(ex.memory.buffer, p, n);
  /** x NHWC → packed [C][H + 2·pad][W + 2·pad][N] in `slot` (staged through slot 13). */
  const pack = (slot: number, a: Float32Array, N: number, H: number, W: number, C: number, pad: number): number => {
    const stage = region(13, a.byteLength);
    put(stage, a);
    const p = pad > 0 ? zeros(slot, C * (H + 2 * pad) * (W + 2 * pad) * N) : region(slot, a.byteLength);
    ex.packMaps(p, stage, N, H, W, C, pad);
    return p;
  };
  return {
    forward(ix, values, x, s) {
      const g = ix.geometry;
      const { Ho, Wo } = checkConvOperands(ix, values, x, s);
      const at = resident(values, ix.k, 'weights');
      const { ptr, o } = bind(ix, s.H, s.W);
      const pv = operand(values, at, 16);
      const pc = region(17, ix.k * 4);
      ex.gather(pc, pv, ptr[1] ?? 0, ix.k);
      const px = pack(12, x, s.N, s.H, s.W, g.cin, g.pad);
      const n = s.N * Ho * Wo * g.cout;
      const py = region(14, n * 4);
      ex.sconv(py, g.cout, ptr[0] ?? 0, ptr[4] ?? 0, pc, px, Ho, Wo, g.stride * o.Wp, g.stride, s.N);
      const out = region(15, n * 4);
      ex.unpackMaps(out, py, s.N, Ho, Wo, g.cout, 0);
      return view(out, n);
    },
    backprop(ix, values, x, dy, s, withInput) {
      const g = ix.geometry;
      const { Ho, Wo } = checkConvOperands(ix, values, x, s, dy);
      const at = resident(values, ix.k, 'weights');
      const { ptr, o } = bind(ix, s.H, s.W);
      const pv = operand(values, at, 16);
      const px = pack(12, x, s.N, s.H, s.W, g.cin, g.pad);
      // The output gradient is packed once: padded by q = k − 1 − p when the stride-1 input gradient
      // (a gather over the padded dy) will read it, and sconvGrad reads the interior of that copy.
      const dyPad = withInput && g.stride === 1 ? o.q : 0;
      const pdy = pack(14, dy, s.N, Ho, Wo, g.cout, dyPad);
      const pg = region(18, ix.k * 4);
      ex.sconvGrad(pg, g.cout, ptr[0] ?? 0, ptr[4] ?? 0, ptr[1] ?? 0, pdy, px, Ho, Wo, g.stride * o.Wp, g.stride, s.N, dyPad);
      const grad = copyOut(pg, ix.k);
      if (!withInput) return { grad };
      const n = x.length;
      let pm: number;
      if (g.stride === 1) {
        // Gather: sconv by input channel over the output gradient padded by q.
        const pi = region(19, ix.k * 4);
        ex.gather(pi, pv, ptr[3] ?? 0, ix.k);
        pm = region(20, n * 4);
        ex.sconv(pm, g.cin, ptr[2] ?? 0, ptr[5] ?? 0, pi, pdy, s.H, s.W, o.Wq, 1, s.N);
      } else {
        // Scatter: the transpose of the forward pass into the zero-padded input gradient.
        const pc = region(17, ix.k * 4);
        ex.gather(pc, pv, ptr[1] ?? 0, ix.k);
        pm = zeros(20, g.cin * o.Hp * o.Wp * s.N);
        ex.sconvScatter(pm, g.cout, ptr[0] ?? 0, ptr[4] ?? 0, pc, pdy, Ho, Wo, g.stride * o.Wp, g.stride, s.N);
      }
      // Allocated last: pack() stages through slot 13 too.
      const pdx = region(13, n * 4);
      ex.unpackMaps(pdx, pm, s.N, s.H, s.W, g.cin, g.stride === 1 ? 0 : g.pad);
      return { grad, dInput: view(pdx, n) };
    },
    maxPoolBackward(x, y, dy, s) {
      checkPoolOperands(x, y, dy, s);
      // Slots 12 (x), 14 (y), 20 (dy) and 15 (dx): the conv kernels' scratch, free between calls.
      const px = region(12, x.byteLength);
      put(px, x);
      const py = region(14, y.byteLength);
      put(py, y);
      const pd = region(20, dy.byteLength);
      put(pd, dy);
      const n = x.length;
      // Every position inside the pooled windows is written; a dropped odd row / column stays zero.
      const pdx = s.H % 2 === 1 || s.W % 2 === 1 ? zeros(15, n) : region(15, n * 4);
      ex.maxPoolGrad(pdx, px, py, pd, s.N, s.H, s.W, s.C);
      return view(pdx, n);
    },
    columnMoments(x, rows, units) {
      checkColumnOperands(rows, units, x);
      // Slots 12 (x) and 18 (the 2·units float64 results).
      const px = region(12, x.byteLength);
      put(px, x);
      const po = region(18, units * 16);
      ex.colMoments(po, px, rows, units);
      const out = new Float64Array(ex.memory.buffer, po, 2 * units);
      return { mean: out.slice(0, units), variance: out.slice(units) };
    },
    columnGradSums(dy, x, mean, rows, units) {
      checkColumnOperands(rows, units, dy, x, mean);
      // Slots 12 (x), 14 (dy), 17 (mean) and 18 (results).
      const px = region(12, x.byteLength);
      put(px, x);
      const pd = region(14, dy.byteLength);
      put(pd, dy);
      const pm = region(17, units * 8);
      new Float64Array(ex.memory.buffer, pm, units).set(mean);
      const po = region(18, units * 16);
      ex.colGradSums(po, pd, px, pm, rows, units);
      const out = new Float64Array(ex.memory.buffer, po, 2 * units);
      return { sumDy: out.slice(0, units), sumDyXc: out.slice(units) };
    },
  };
}

/** Where dist/gradflow-sparse.wasm may be (GRADFLOW_SPARSE_WASM names one). */
export function sparseWasmCandidates(): string[] {
  return engineWasmCandidates(SPARSE_WASM_FILE, 'GRADFLOW_SPARSE_WASM');
}

let cached: { kernels: SparseKernels; note?: string } | undefined;

/**
 * The kernels to use: wasm SIMD when its module is found and instantiates, else TypeScript (with a
 * note saying why). GRADFLOW_SPARSE_KERNELS=typescript forces the fallback.
 */
export function sparseKernels(): { kernels: SparseKernels; note?: string } {
  if (cached) return cached;
  if (process.env.GRADFLOW_SPARSE_KERNELS === 'typescript') {
    cached = { kernels: typescriptKernels, note: 'GRADFLOW_SPARSE_KERNELS=typescript' };
    return cached;
  }
  const loaded = instantiateEngineWasm(SPARSE_WASM_FILE, sparseWasmCandidates());
  cached = 'error' in loaded ? { kernels: typescriptKernels, note: loaded.error } : { kernels: wasmKernels(loaded.exports as unknown as WasmExports) };
  return cached;
}

// ---- one sparse layer ------------------------------------------------------------------------

/** Build the index of a [fanIn, fanOut] 0/1 mask (undefined = all active). */
export function buildIndex(fanIn: number, fanOut: number, mask: Float32Array | undefined): SparseIndex {
  if (fanIn > SPARSE_MAX_UNITS || fanOut > SPARSE_MAX_UNITS) throw new Error(`sparse path: layer ${fanIn}×${fanOut} exceeds ${SPARSE_MAX_UNITS} units`);
  const n = fanIn * fanOut;
  let k = 0;
  if (mask) {
    for (let i = 0; i < n; i++) if (mask[i] !== 0) k++;
  } else k = n;
  const colPtr = new Int32Array(fanIn + 1);
  const rowIdx = new Uint16Array(k);
  const rowCount = new Int32Array(fanOut);
  let j = 0;
  for (let c = 0, i = 0; c < fanIn; c++) {
    colPtr[c] = j;
    for (let r = 0; r < fanOut; r++, i++) {
      if (mask && mask[i] === 0) continue;
      rowIdx[j++] = r;
      rowCount[r]!++;
    }
  }
  colPtr[fanIn] = j;
  const rowPtr = new Int32Array(fanOut + 1);
  for (let r = 0; r < fanOut; r++) rowPtr[r + 1] = rowPtr[r]! + rowCount[r]!;
  const next = rowPtr.slice(0, fanOut);
  const csrCol = new Uint16Array(k);
  const csrPerm = new Int32Array(k);
  for (let c = 0; c < fanIn; c++) {
    for (let q = colPtr[c]!; q < colPtr[c + 1]!; q++) {
      const pos = next[rowIdx[q]!]!++;
      csrCol[pos] = c;
      csrPerm[pos] = q;
    }
  }
  return { fanIn, fanOut, k, colPtr, rowIdx, rowPtr, csrCol, csrPerm };
}

/** A layer on the sparse path: active weights, their index and their optimizer state. */
export class SparseKernel {
  index: SparseIndex;
  /** Active weights (canonical order) and optimizer state slots (same order), in the kernels' memory. */
  private valueBuffer: KernelBuffer;
  private slotBuffers: KernelBuffer[] = [];

  constructor(
    readonly fanIn: number,
    readonly fanOut: number,
    kernel: Float32Array,
    mask: Float32Array | undefined,
    readonly kernels: SparseKernels,
  ) {
    this.index = buildIndex(fanIn, fanOut, mask);
    this.valueBuffer = kernels.allocate(this.index.k);
    const values = this.values;
    this.forEachActive((q, i) => {
      values[q] = kernel[i]!;
    });
  }

  /** Active weights, canonical order (a fresh view: do not keep it across kernel calls). */
  get values(): Float32Array {
    return this.valueBuffer.view();
  }

  /** Optimizer state over the active entries (fresh views, see `values`). */
  get slots(): Float32Array[] {
    return this.slotBuffers.map((b) => b.view());
  }

  /** Make sure there are n state slots (new ones are zero). */
  ensureSlots(n: number): void {
    while (this.slotBuffers.length < n) this.slotBuffers.push(this.kernels.allocate(this.index.k));
  }

  get impl(): KernelImpl {
    return this.kernels.impl;
  }

  get k(): number {
    return this.index.k;
  }

  /** Calls f(canonical position, flat [fanIn, fanOut] index) for every active entry, in order. */
  forEachActive(f: (q: number, i: number) => void): void {
    const { colPtr, rowIdx } = this.index;
    for (let c = 0; c < this.fanIn; c++) for (let q = colPtr[c]!; q < colPtr[c + 1]!; q++) f(q, c * this.fanOut + rowIdx[q]!);
  }

  forward(inp: Float32Array, B: number): Float32Array {
    return this.kernels.forward(this.index, this.values, inp, B);
  }

  backward(dz: Float32Array, B: number): Float32Array {
    return this.kernels.backward(this.index, this.values, dz, B);
  }

  gradient(dz: Float32Array, inp: Float32Array, B: number): Float32Array {
    return this.kernels.gradient(this.index, dz, inp, B);
  }

  /** gradient() and, when `withInput`, backward() (see SparseKernels.backprop). */
  backprop(dz: Float32Array, inp: Float32Array, B: number, withInput: boolean): { grad: Float32Array; dInput?: Float32Array } {
    return this.kernels.backprop(this.index, this.values, dz, inp, B, withInput);
  }

  /** The kernel as a row-major [fanIn, fanOut] array (pruned entries 0). */
  toDense(): Float32Array {
    const out = new Float32Array(this.fanIn * this.fanOut);
    const values = this.values;
    this.forEachActive((q, i) => {
      out[i] = values[q]!;
    });
    return out;
  }

  /** Scatter an array over the active entries into [fanIn, fanOut] (pruned entries 0). */
  scatter(a: Float32Array): Float32Array {
    const out = new Float32Array(this.fanIn * this.fanOut);
    this.forEachActive((q, i) => {
      out[i] = a[q]!;
    });
    return out;
  }

  mask(): Float32Array {
    const out = new Float32Array(this.fanIn * this.fanOut);
    this.forEachActive((_q, i) => {
      out[i] = 1;
    });
    return out;
  }

  /**
   * Replace the mask by `next` ([fanIn, fanOut] 0/1). Survivors keep value and optimizer state; new
   * entries start at 0 with zero state, except those listed in `reset` (dropped and re-grown), which
   * restart too. The index is rebuilt.
   */
  remask(next: Float32Array, reset: Set<number>): void {
    const old = this.index;
    const ix = buildIndex(this.fanIn, this.fanOut, next);
    // Allocate first: an allocation may grow the kernels' memory, which detaches earlier views.
    const valueBuffer = this.kernels.allocate(ix.k);
    const slotBuffers = this.slotBuffers.map(() => this.kernels.allocate(ix.k));
    const oldValues = this.values;
    const oldSlots = this.slots;
    const values = valueBuffer.view();
    const slots = slotBuffers.map((b) => b.view());
    for (let c = 0; c < this.fanIn; c++) {
      // Both columns are sorted by output unit: merge.
      let p = old.colPtr[c]!;
      const pEnd = old.colPtr[c + 1]!;
      for (let q = ix.colPtr[c]!; q < ix.colPtr[c + 1]!; q++) {
        const r = ix.rowIdx[q]!;
        while (p < pEnd && old.rowIdx[p]! < r) p++;
        if (p < pEnd && old.rowIdx[p] === r && !reset.has(c * this.fanOut + r)) {
          values[q] = oldValues[p]!;
          // oldSlots has slots.length entries too (one view per slot buffer).
          for (let s = 0; s < slots.length; s++) slots[s]![q] = oldSlots[s]![p]!;

        }
      }
    }
    this.kernels.release(old);
    this.valueBuffer.free();
    this.slotBuffers.forEach((b) => b.free());
    this.index = ix;
    this.valueBuffer = valueBuffer;
    this.slotBuffers = slotBuffers;
  }

  /** Bytes held: weights, index, optimizer state. */
  bytes(): { parameters: number; index: number; optimizer: number } {
    const ix = this.index;
    return {
      parameters: 4 * this.valueBuffer.length,
      index: ix.colPtr.byteLength + ix.rowIdx.byteLength + ix.rowPtr.byteLength + ix.csrCol.byteLength + ix.csrPerm.byteLength,
      optimizer: this.slotBuffers.reduce((s, b) => s + 4 * b.length, 0),
    };
  }

  dispose(): void {
    this.kernels.release(this.index);
    this.valueBuffer.free();
    this.slotBuffers.forEach((b) => b.free());
    this.slotBuffers = [];
  }
}
