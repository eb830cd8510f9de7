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
import * as fs from 'node:fs';
import * as path from 'node:path';

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
  /** Forget any copy of this index (after a rebuild or when the layer is disposed). */
  release(ix: SparseIndex): void;
}

// ---- plain TypeScript ------------------------------------------------------------------------

function spmmTs(out: Float32Array, nOut: number, ptr: Int32Array, idx: Uint16Array, perm: Int32Array | null, val: Float32Array, inp: Float32Array, B: number): void {
  for (let o = 0; o < nOut; o++) {
    const ob = o * B;
    for (let j = ptr[o]; j < ptr[o + 1]; j++) {
      const w = val[perm ? perm[j] : j];
      const ib = idx[j] * B;
      for (let b = 0; b < B; b++) out[ob + b] += w * inp[ib + b];
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
      for (let k = ix.colPtr[c]; k < ix.colPtr[c + 1]; k++) {
        const db = ix.rowIdx[k] * B;
        let s = 0;
        for (let b = 0; b < B; b++) s += dz[db + b] * inp[hb + b];
        g[k] = s;
      }
    }
    return g;
  },
  backprop(ix, values, dz, inp, B, withInput) {
    const grad = typescriptKernels.gradient(ix, dz, inp, B);
    return withInput ? { grad, dInput: typescriptKernels.backward(ix, values, dz, B) } : { grad };
  },
  release: () => undefined,
};

// ---- WebAssembly SIMD ------------------------------------------------------------------------

/** The parts of the WebAssembly API used here (the project's TS lib has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

interface WasmExports {
  memory: WasmMemory;
  spmm(out: number, nOut: number, ptr: number, idx: number, val: number, inp: number, B: number): void;
  gather(dst: number, src: number, perm: number, k: number): void;
  sddmm(g: number, n: number, ptr: number, idx: number, perm: number, a: number, b: number, B: number): void;
}

/** First-fit allocator over the module's memory (the module itself allocates nothing). */
class Heap {
  private top = 1024;
  private readonly freeList: { ptr: number; size: number }[] = [];
  constructor(private readonly memory: WasmMemory) {}
  alloc(bytes: number): number {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    for (let i = 0; i < this.freeList.length; i++) {
      const f = this.freeList[i];
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
      const a = this.freeList[i];
      const b = this.freeList[i + 1];
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
  // two activation operands, 4 the product, 5 the kernel gradient.
  const scratch = [0, 0, 0, 0, 0, 0].map(() => ({ ptr: 0, bytes: 0 }));
  const region = (slot: number, bytes: number): number => {
    const s = scratch[slot];
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
    arrays.forEach((a, i) => put(ptrs[i], a));
    b = { colPtr: ptrs[0], rowIdx: ptrs[1], rowPtr: ptrs[2], csrCol: ptrs[3], csrPerm: ptrs[4], bytes };
    bound.set(ix, b);
    return b;
  };
  const view = (ptr: number, n: number): Float32Array => new Float32Array(ex.memory.buffer, ptr, n);
  const values = (v: Float32Array): number => {
    const p = region(0, v.byteLength);
    put(p, v);
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
  const operands = (dz: Float32Array, inp: Float32Array): { pd: number; ph: number } => {
    const pd = region(2, dz.byteLength);
    const ph = region(3, inp.byteLength);
    put(pd, dz);
    put(ph, inp);
    return { pd, ph };
  };
  return {
    impl: 'wasm-simd',
    forward(ix, v, inp, B) {
      const b = bind(ix);
      const pv = values(v);
      const pc = region(1, v.byteLength);
      ex.gather(pc, pv, b.csrPerm, ix.k);
      const pi = region(2, inp.byteLength);
      put(pi, inp);
      const po = region(4, ix.fanOut * B * 4);
      ex.spmm(po, ix.fanOut, b.rowPtr, b.csrCol, pc, pi, B);
      return view(po, ix.fanOut * B);
    },
    backward(ix, v, dz, B) {
      const b = bind(ix);
      const pv = values(v);
      const pd = region(2, dz.byteLength);
      put(pd, dz);
      return backward(b, ix, pv, pd, B);
    },
    gradient(ix, dz, inp, B) {
      const b = bind(ix);
      const { pd, ph } = operands(dz, inp);
      return gradient(b, ix, pd, ph, B);
    },
    backprop(ix, v, dz, inp, B, withInput) {
      const b = bind(ix);
      const { pd, ph } = operands(dz, inp);
      const grad = gradient(b, ix, pd, ph, B);
      return withInput ? { grad, dInput: backward(b, ix, values(v), pd, B) } : { grad };
    },
    release(ix) {
      const b = bound.get(ix);
      if (!b) return;
      [b.colPtr, b.rowIdx, b.rowPtr, b.csrCol, b.csrPerm].forEach((p, i) => heap.free(p, b.bytes[i]));
      bound.delete(ix);
    },
  };
}

/** Where dist/gradflow-sparse.wasm may be: beside the bundle, or dist/ above the tsc output. */
export function sparseWasmCandidates(): string[] {
  const out: string[] = [];
  if (process.env.GRADFLOW_SPARSE_WASM) out.push(process.env.GRADFLOW_SPARSE_WASM);
  out.push(path.join(__dirname, SPARSE_WASM_FILE));
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    out.push(path.join(dir, 'dist', SPARSE_WASM_FILE));
    dir = path.dirname(dir);
  }
  out.push(path.join(process.cwd(), 'dist', SPARSE_WASM_FILE));
  return out;
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
  const file = sparseWasmCandidates().find((f) => fs.existsSync(f));
  if (!file) {
    cached = { kernels: typescriptKernels, note: `no ${SPARSE_WASM_FILE} found (run npm run build)` };
    return cached;
  }
  const wa = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wa) {
    cached = { kernels: typescriptKernels, note: 'this runtime has no WebAssembly' };
    return cached;
  }
  try {
    const mod = new wa.Module(fs.readFileSync(file));
    const inst = new wa.Instance(mod, { env: { abort: () => { throw new Error('gradflow-sparse.wasm: abort'); } } });
    cached = { kernels: wasmKernels(inst.exports as unknown as WasmExports) };
  } catch (e: unknown) {
    // Typically a runtime without WebAssembly SIMD.
    cached = { kernels: typescriptKernels, note: `${file} could not be loaded (${e instanceof Error ? e.message : String(e)})` };
  }
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
      rowCount[r]++;
    }
  }
  colPtr[fanIn] = j;
  const rowPtr = new Int32Array(fanOut + 1);
  for (let r = 0; r < fanOut; r++) rowPtr[r + 1] = rowPtr[r] + rowCount[r];
  const next = rowPtr.slice(0, fanOut);
  const csrCol = new Uint16Array(k);
  const csrPerm = new Int32Array(k);
  for (let c = 0; c < fanIn; c++) {
    for (let q = colPtr[c]; q < colPtr[c + 1]; q++) {
      const pos = next[rowIdx[q]]++;
      csrCol[pos] = c;
      csrPerm[pos] = q;
    }
  }
  return { fanIn, fanOut, k, colPtr, rowIdx, rowPtr, csrCol, csrPerm };
}

/** A layer on the sparse path: active weights, their index and their optimizer state. */
export class SparseKernel {
  index: SparseIndex;
  /** Active weights, canonical order. */
  values: Float32Array;
  /** Optimizer state over the active entries (created by the optimizer; same order as values). */
  slots: Float32Array[] = [];

  constructor(
    readonly fanIn: number,
    readonly fanOut: number,
    kernel: Float32Array,
    mask: Float32Array | undefined,
    private readonly kernels: SparseKernels,
  ) {
    this.index = buildIndex(fanIn, fanOut, mask);
    this.values = new Float32Array(this.index.k);
    this.forEachActive((q, i) => {
      this.values[q] = kernel[i];
    });
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
    for (let c = 0; c < this.fanIn; c++) for (let q = colPtr[c]; q < colPtr[c + 1]; q++) f(q, c * this.fanOut + rowIdx[q]);
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
    this.forEachActive((q, i) => {
      out[i] = this.values[q];
    });
    return out;
  }

  /** Scatter an array over the active entries into [fanIn, fanOut] (pruned entries 0). */
  scatter(a: Float32Array): Float32Array {
    const out = new Float32Array(this.fanIn * this.fanOut);
    this.forEachActive((q, i) => {
      out[i] = a[q];
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
    const oldValues = this.values;
    const oldSlots = this.slots;
    const ix = buildIndex(this.fanIn, this.fanOut, next);
    const values = new Float32Array(ix.k);
    const slots = oldSlots.map(() => new Float32Array(ix.k));
    for (let c = 0; c < this.fanIn; c++) {
      // Both columns are sorted by output unit: merge.
      let p = old.colPtr[c];
      const pEnd = old.colPtr[c + 1];
      for (let q = ix.colPtr[c]; q < ix.colPtr[c + 1]; q++) {
        const r = ix.rowIdx[q];
        while (p < pEnd && old.rowIdx[p] < r) p++;
        if (p < pEnd && old.rowIdx[p] === r && !reset.has(c * this.fanOut + r)) {
          values[q] = oldValues[p];
          for (let s = 0; s < slots.length; s++) slots[s][q] = oldSlots[s][p];
        }
      }
    }
    this.kernels.release(old);
    this.index = ix;
    this.values = values;
    this.slots = slots;
  }

  /** Bytes held: weights, index, optimizer state. */
  bytes(): { parameters: number; index: number; optimizer: number } {
    const ix = this.index;
    return {
      parameters: this.values.byteLength,
      index: ix.colPtr.byteLength + ix.rowIdx.byteLength + ix.rowPtr.byteLength + ix.csrCol.byteLength + ix.csrPerm.byteLength,
      optimizer: this.slots.reduce((s, a) => s + a.byteLength, 0),
    };
  }

  dispose(): void {
    this.kernels.release(this.index);
  }
}
