// Sparse kernels of the sparse execution path (src/engine/sparse.ts), AssemblyScript → WebAssembly
// with 128-bit SIMD. Built by scripts/build.mjs into dist/gradflow-sparse.wasm.
//
// Layout (src/engine/model.ts): activations travel unit-major, one batch-contiguous row of B floats
// per unit, so every active weight contributes an axpy over a whole row (forward and backward) or a
// dot of two rows (kernel gradient). All pointers are byte offsets into this module's memory, which
// the host manages (no allocator in here: --runtime stub, memory grown by the host).

// Index arrays: ptr/perm are i32, idx/row are u16 (unit numbers < 65536: the sparse path's limit).

// out[o, :] = Σ_{j ∈ [ptr[o], ptr[o+1])} w_j · inp[idx[j], :],  w_j = val[perm[j]] (perm ≠ 0) or val[j].
// The batch is processed in blocks of 32 floats held in 8 vector accumulators, so each output row is
// written once per block and each active weight costs 8 vector loads and 8 multiply-adds per block.
export function spmm(out: usize, nOut: i32, ptr: usize, idx: usize, perm: usize, val: usize, inp: usize, B: i32): void {
  const rowBytes = <usize>B << 2;
  const B32 = B & ~31;
  const B4 = B & ~3;
  for (let o = 0; o < nOut; o++) {
    const j0 = load<i32>(ptr + (<usize>o << 2));
    const j1 = load<i32>(ptr + (<usize>(o + 1) << 2));
    const orow = out + <usize>o * rowBytes;
    let b = 0;
    for (; b < B32; b += 32) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let a4 = f32x4.splat(0);
      let a5 = f32x4.splat(0);
      let a6 = f32x4.splat(0);
      let a7 = f32x4.splat(0);
      const boff = <usize>b << 2;
      for (let j = j0; j < j1; j++) {
        const k = perm != 0 ? load<i32>(perm + (<usize>j << 2)) : j;
        const w = f32x4.splat(load<f32>(val + (<usize>k << 2)));
        const p = inp + <usize>load<u16>(idx + (<usize>j << 1)) * rowBytes + boff;
        a0 = f32x4.add(a0, f32x4.mul(w, v128.load(p, 0)));
        a1 = f32x4.add(a1, f32x4.mul(w, v128.load(p, 16)));
        a2 = f32x4.add(a2, f32x4.mul(w, v128.load(p, 32)));
        a3 = f32x4.add(a3, f32x4.mul(w, v128.load(p, 48)));
        a4 = f32x4.add(a4, f32x4.mul(w, v128.load(p, 64)));
        a5 = f32x4.add(a5, f32x4.mul(w, v128.load(p, 80)));
        a6 = f32x4.add(a6, f32x4.mul(w, v128.load(p, 96)));
        a7 = f32x4.add(a7, f32x4.mul(w, v128.load(p, 112)));
      }
      const q = orow + boff;
      v128.store(q, a0, 0);
      v128.store(q, a1, 16);
      v128.store(q, a2, 32);
      v128.store(q, a3, 48);
      v128.store(q, a4, 64);
      v128.store(q, a5, 80);
      v128.store(q, a6, 96);
      v128.store(q, a7, 112);
    }
    for (; b < B4; b += 4) {
      let a = f32x4.splat(0);
      const boff = <usize>b << 2;
      for (let j = j0; j < j1; j++) {
        const k = perm != 0 ? load<i32>(perm + (<usize>j << 2)) : j;
        const w = f32x4.splat(load<f32>(val + (<usize>k << 2)));
        a = f32x4.add(a, f32x4.mul(w, v128.load(inp + <usize>load<u16>(idx + (<usize>j << 1)) * rowBytes + boff)));
      }
      v128.store(orow + boff, a);
    }
    for (; b < B; b++) {
      let s: f32 = 0;
      const boff = <usize>b << 2;
      for (let j = j0; j < j1; j++) {
        const k = perm != 0 ? load<i32>(perm + (<usize>j << 2)) : j;
        s += load<f32>(val + (<usize>k << 2)) * load<f32>(inp + <usize>load<u16>(idx + (<usize>j << 1)) * rowBytes + boff);
      }
      store<f32>(orow + boff, s);
    }
  }
}

// g[k] = dz[row[k], :] · h[c, :] for every k ∈ [colPtr[c], colPtr[c+1]), c < nCols: the kernel
// gradient at the active entries only (one batch-length dot per active weight).
export function sddmm(g: usize, nCols: i32, colPtr: usize, row: usize, dz: usize, h: usize, B: i32): void {
  const rowBytes = <usize>B << 2;
  const B16 = B & ~15;
  const B4 = B & ~3;
  for (let c = 0; c < nCols; c++) {
    const k0 = load<i32>(colPtr + (<usize>c << 2));
    const k1 = load<i32>(colPtr + (<usize>(c + 1) << 2));
    const hrow = h + <usize>c * rowBytes;
    for (let k = k0; k < k1; k++) {
      const drow = dz + <usize>load<u16>(row + (<usize>k << 1)) * rowBytes;
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let b = 0;
      for (; b < B16; b += 16) {
        const off = <usize>b << 2;
        a0 = f32x4.add(a0, f32x4.mul(v128.load(drow + off, 0), v128.load(hrow + off, 0)));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(drow + off, 16), v128.load(hrow + off, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(drow + off, 32), v128.load(hrow + off, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(drow + off, 48), v128.load(hrow + off, 48)));
      }
      for (; b < B4; b += 4) {
        const off = <usize>b << 2;
        a0 = f32x4.add(a0, f32x4.mul(v128.load(drow + off), v128.load(hrow + off)));
      }
      const a = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
      let s: f32 = f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3);
      for (; b < B; b++) s += load<f32>(drow + (<usize>b << 2)) * load<f32>(hrow + (<usize>b << 2));
      store<f32>(g + (<usize>k << 2), s);
    }
  }
}
