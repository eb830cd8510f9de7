// Sparse kernels of the sparse execution path (src/engine/sparse.ts), AssemblyScript → WebAssembly
// with 128-bit SIMD. Built by scripts/build.mjs into dist/gradflow-sparse.wasm.
//
// Layout (src/engine/model.ts): activations travel unit-major, one batch-contiguous row of B floats
// per unit, so every active weight contributes an axpy over a whole row (forward and backward) or a
// dot of two rows (kernel gradient). All pointers are byte offsets into this module's memory, which
// the host manages (no allocator in here: --runtime stub, memory grown by the host).

// Index arrays: ptr/perm are i32, idx/row are u16 (unit numbers < 65536: the sparse path's limit).

// out[o, :] = Σ_{j ∈ [ptr[o], ptr[o+1])} val[j] · inp[idx[j], :]  (val in the order of idx: the host
// gathers the forward product's values into CSR order first, see gather()).
// The batch is processed in blocks of 32 floats held in 8 vector accumulators, so each output row is
// written once per block and each active weight costs 8 vector loads and 8 multiply-adds per block.
// (Measured on the paper-scale shapes: blocking the batch OUTSIDE the row loop, for cache reuse of
// the input rows, or pairing two weights per iteration were both slower than this order.)
export function spmm(out: usize, nOut: i32, ptr: usize, idx: usize, val: usize, inp: usize, B: i32): void {
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
        const w = f32x4.splat(load<f32>(val + (<usize>j << 2)));
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
        const w = f32x4.splat(load<f32>(val + (<usize>j << 2)));
        a = f32x4.add(a, f32x4.mul(w, v128.load(inp + <usize>load<u16>(idx + (<usize>j << 1)) * rowBytes + boff)));
      }
      v128.store(orow + boff, a);
    }
    for (; b < B; b++) {
      let s: f32 = 0;
      const boff = <usize>b << 2;
      for (let j = j0; j < j1; j++) {
        s += load<f32>(val + (<usize>j << 2)) * load<f32>(inp + <usize>load<u16>(idx + (<usize>j << 1)) * rowBytes + boff);
      }
      store<f32>(orow + boff, s);
    }
  }
}

// dst[j] = src[perm[j]], j < k (the weights in the order of another index).
export function gather(dst: usize, src: usize, perm: usize, k: i32): void {
  for (let j = 0; j < k; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>load<i32>(perm + (<usize>j << 2)) << 2)));
}

// g[dst(k)] = a[o, :] · b[idx[k], :] for every k ∈ [ptr[o], ptr[o+1]), o < n, with dst(k) = perm[k]
// (perm ≠ 0) or k: the kernel gradient at the active entries only (one batch-length dot per active
// weight). The host walks the index whose outer side is the LARGER one (CSC: a = h, b = dz, when
// fanIn ≥ fanOut; CSR with the canonical positions as perm otherwise), so the randomly addressed
// rows come from the smaller operand, which stays in cache.
export function sddmm(g: usize, n: i32, ptr: usize, idx: usize, perm: usize, a: usize, b: usize, B: i32): void {
  const rowBytes = <usize>B << 2;
  const B16 = B & ~15;
  const B4 = B & ~3;
  for (let o = 0; o < n; o++) {
    const k0 = load<i32>(ptr + (<usize>o << 2));
    const k1 = load<i32>(ptr + (<usize>(o + 1) << 2));
    const arow = a + <usize>o * rowBytes;
    let k = k0;
    // Two weights per iteration share the loads of the a row (≈ 8 % faster at the paper's shapes).
    for (; k + 1 < k1; k += 2) {
      const p = b + <usize>load<u16>(idx + (<usize>k << 1)) * rowBytes;
      const q = b + <usize>load<u16>(idx + (<usize>k << 1), 2) * rowBytes;
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      let i = 0;
      for (; i < B16; i += 16) {
        const off = <usize>i << 2;
        const h0 = v128.load(arow + off, 0);
        const h1 = v128.load(arow + off, 16);
        const h2 = v128.load(arow + off, 32);
        const h3 = v128.load(arow + off, 48);
        a0 = f32x4.add(a0, f32x4.mul(v128.load(p + off, 0), h0));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(p + off, 16), h1));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(p + off, 32), h2));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(p + off, 48), h3));
        c0 = f32x4.add(c0, f32x4.mul(v128.load(q + off, 0), h0));
        c1 = f32x4.add(c1, f32x4.mul(v128.load(q + off, 16), h1));
        c2 = f32x4.add(c2, f32x4.mul(v128.load(q + off, 32), h2));
        c3 = f32x4.add(c3, f32x4.mul(v128.load(q + off, 48), h3));
      }
      for (; i < B4; i += 4) {
        const off = <usize>i << 2;
        const h = v128.load(arow + off);
        a0 = f32x4.add(a0, f32x4.mul(v128.load(p + off), h));
        c0 = f32x4.add(c0, f32x4.mul(v128.load(q + off), h));
      }
      const va = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
      const vc = f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3));
      let s: f32 = f32x4.extract_lane(va, 0) + f32x4.extract_lane(va, 1) + f32x4.extract_lane(va, 2) + f32x4.extract_lane(va, 3);
      let t: f32 = f32x4.extract_lane(vc, 0) + f32x4.extract_lane(vc, 1) + f32x4.extract_lane(vc, 2) + f32x4.extract_lane(vc, 3);
      for (; i < B; i++) {
        const h = load<f32>(arow + (<usize>i << 2));
        s += load<f32>(p + (<usize>i << 2)) * h;
        t += load<f32>(q + (<usize>i << 2)) * h;
      }
      const d0 = perm != 0 ? load<i32>(perm + (<usize>k << 2)) : k;
      const d1 = perm != 0 ? load<i32>(perm + (<usize>k << 2), 4) : k + 1;
      store<f32>(g + (<usize>d0 << 2), s);
      store<f32>(g + (<usize>d1 << 2), t);
    }
    if (k < k1) {
      const brow = b + <usize>load<u16>(idx + (<usize>k << 1)) * rowBytes;
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let i = 0;
      for (; i < B16; i += 16) {
        const off = <usize>i << 2;
        a0 = f32x4.add(a0, f32x4.mul(v128.load(brow + off, 0), v128.load(arow + off, 0)));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(brow + off, 16), v128.load(arow + off, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(brow + off, 32), v128.load(arow + off, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(brow + off, 48), v128.load(arow + off, 48)));
      }
      for (; i < B4; i += 4) {
        const off = <usize>i << 2;
        a0 = f32x4.add(a0, f32x4.mul(v128.load(brow + off), v128.load(arow + off)));
      }
      const acc = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
      let s: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
      for (; i < B; i++) s += load<f32>(brow + (<usize>i << 2)) * load<f32>(arow + (<usize>i << 2));
      const dst = perm != 0 ? load<i32>(perm + (<usize>k << 2)) : k;
      store<f32>(g + (<usize>dst << 2), s);
    }
  }
}

// ---- optimizer updates over the active entries ----------------------------------------------
// The rules of src/engine/optimizers.ts in float32 (four lanes; the TF.js optimizers of the dense
// path are float32 too). The host's buffers are padded to a multiple of 4 floats, so the loops run
// over whole vectors past k.

// w ← w − g·lr
export function sgdUpdate(w: usize, g: usize, k: i32, lr: f32): void {
  const vlr = f32x4.splat(lr);
  for (let i = 0; i < k; i += 4) {
    const o = <usize>i << 2;
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.mul(v128.load(g + o), vlr)));
  }
}

// buf ← buf·μ + g; w ← w − buf·lr
export function momentumUpdate(w: usize, buf: usize, g: usize, k: i32, mu: f32, lr: f32): void {
  const vmu = f32x4.splat(mu);
  const vlr = f32x4.splat(lr);
  for (let i = 0; i < k; i += 4) {
    const o = <usize>i << 2;
    const nb = f32x4.add(f32x4.mul(v128.load(buf + o), vmu), v128.load(g + o));
    v128.store(buf + o, nb);
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.mul(nb, vlr)));
  }
}

// m ← m·β1 + g·(1 − β1); v ← v·β2 + g²·(1 − β2); w ← w·decay − (m / (√v + e2))·f
export function adamUpdate(w: usize, m: usize, v: usize, g: usize, k: i32, b1: f32, c1: f32, b2: f32, c2: f32, f: f32, e2: f32, decay: f32): void {
  const vb1 = f32x4.splat(b1);
  const vc1 = f32x4.splat(c1);
  const vb2 = f32x4.splat(b2);
  const vc2 = f32x4.splat(c2);
  const vf = f32x4.splat(f);
  const ve2 = f32x4.splat(e2);
  const vdecay = f32x4.splat(decay);
  for (let i = 0; i < k; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const nm = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gi, vc1));
    const nv = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gi, gi), vc2));
    v128.store(m + o, nm);
    v128.store(v + o, nv);
    v128.store(w + o, f32x4.sub(f32x4.mul(v128.load(w + o), vdecay), f32x4.mul(f32x4.div(nm, f32x4.add(f32x4.sqrt(nv), ve2)), vf)));
  }
}

// s ← s·ρ + g²·(1 − ρ) (rmsprop), s ← s + g² (adagrad ≠ 0); w ← w − (g / (√s + ε))·lr
export function rmsUpdate(w: usize, s: usize, g: usize, k: i32, rho: f32, c: f32, eps: f32, lr: f32, adagrad: i32): void {
  const vrho = f32x4.splat(rho);
  const vc = f32x4.splat(c);
  const veps = f32x4.splat(eps);
  const vlr = f32x4.splat(lr);
  for (let i = 0; i < k; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const g2 = f32x4.mul(gi, gi);
    const ns = adagrad != 0 ? f32x4.add(v128.load(s + o), g2) : f32x4.add(f32x4.mul(v128.load(s + o), vrho), f32x4.mul(g2, vc));
    v128.store(s + o, ns);
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.mul(f32x4.div(gi, f32x4.add(f32x4.sqrt(ns), veps)), vlr)));
  }
}

// ---- Gram matrix for the raw L2 norm ---------------------------------------------------------
// g[i, j] (j ≥ the start of i's 16-block; row-major Bp × Bp) = Σ_{u < U} x[u, i]·x[u, j]: the upper
// part of Xᵀ·X for X unit-major [U, Bp], Bp a multiple of 16 (the host pads the batch with zeros).
// Tiles of 2 rows × 16 columns (8 vector accumulators); the units are taken in chunks of 64 rows
// (32 KB at Bp = 128) so a chunk stays in cache while every tile runs over it.
export function syrk(g: usize, x: usize, U: i32, Bp: i32): void {
  const rowBytes = <usize>Bp << 2;
  for (let u0 = 0; u0 < U; u0 += 64) {
    const u1 = min(U, u0 + 64);
    for (let i = 0; i < Bp; i += 2) {
      const g0 = g + <usize>i * rowBytes;
      const g1 = g0 + rowBytes;
      for (let jb = i & ~15; jb < Bp; jb += 16) {
        const jo = <usize>jb << 2;
        let a0 = f32x4.splat(0);
        let a1 = f32x4.splat(0);
        let a2 = f32x4.splat(0);
        let a3 = f32x4.splat(0);
        let b0 = f32x4.splat(0);
        let b1 = f32x4.splat(0);
        let b2 = f32x4.splat(0);
        let b3 = f32x4.splat(0);
        if (u0 > 0) {
          a0 = v128.load(g0 + jo, 0);
          a1 = v128.load(g0 + jo, 16);
          a2 = v128.load(g0 + jo, 32);
          a3 = v128.load(g0 + jo, 48);
          b0 = v128.load(g1 + jo, 0);
          b1 = v128.load(g1 + jo, 16);
          b2 = v128.load(g1 + jo, 32);
          b3 = v128.load(g1 + jo, 48);
        }
        for (let u = u0; u < u1; u++) {
          const row = x + <usize>u * rowBytes;
          const xi = f32x4.splat(load<f32>(row + (<usize>i << 2)));
          const xk = f32x4.splat(load<f32>(row + (<usize>i << 2), 4));
          const r0 = v128.load(row + jo, 0);
          const r1 = v128.load(row + jo, 16);
          const r2 = v128.load(row + jo, 32);
          const r3 = v128.load(row + jo, 48);
          a0 = f32x4.add(a0, f32x4.mul(xi, r0));
          a1 = f32x4.add(a1, f32x4.mul(xi, r1));
          a2 = f32x4.add(a2, f32x4.mul(xi, r2));
          a3 = f32x4.add(a3, f32x4.mul(xi, r3));
          b0 = f32x4.add(b0, f32x4.mul(xk, r0));
          b1 = f32x4.add(b1, f32x4.mul(xk, r1));
          b2 = f32x4.add(b2, f32x4.mul(xk, r2));
          b3 = f32x4.add(b3, f32x4.mul(xk, r3));
        }
        v128.store(g0 + jo, a0, 0);
        v128.store(g0 + jo, a1, 16);
        v128.store(g0 + jo, a2, 32);
        v128.store(g0 + jo, a3, 48);
        v128.store(g1 + jo, b0, 0);
        v128.store(g1 + jo, b1, 16);
        v128.store(g1 + jo, b2, 32);
        v128.store(g1 + jo, b3, 48);
      }
    }
  }
}

// Σ_{i ≤ j} w_ij·gx[i, j]·gd[i, j] over the upper triangles written by syrk (w = 1 on the diagonal,
// 2 above it): Σ (XᵀX) ⊙ (DᵀD) = ‖Xᵀ·D‖²_F. Each row's sum is float32, the total float64.
export function gramDot(gx: usize, gd: usize, Bp: i32): f64 {
  const rowBytes = <usize>Bp << 2;
  let total: f64 = 0;
  for (let i = 0; i < Bp; i++) {
    const px = gx + <usize>i * rowBytes;
    const pd = gd + <usize>i * rowBytes;
    const s: f32 = load<f32>(px + (<usize>i << 2)) * load<f32>(pd + (<usize>i << 2));
    let j = i + 1;
    let off: f32 = 0;
    for (; j < Bp && (j & 3) != 0; j++) off += load<f32>(px + (<usize>j << 2)) * load<f32>(pd + (<usize>j << 2));
    let acc = f32x4.splat(0);
    for (; j < Bp; j += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(px + (<usize>j << 2)), v128.load(pd + (<usize>j << 2))));
    off += f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    total += <f64>s + 2 * <f64>off;
  }
  return total;
}
