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

// buf ← buf·μ + g; w ← w − buf·lr, or with nesterov ≠ 0: w ← w − (g + buf·μ)·lr (PyTorch's SGD)
export function momentumUpdate(w: usize, buf: usize, g: usize, k: i32, mu: f32, lr: f32, nesterov: i32): void {
  const vmu = f32x4.splat(mu);
  const vlr = f32x4.splat(lr);
  for (let i = 0; i < k; i += 4) {
    const o = <usize>i << 2;
    const vg = v128.load(g + o);
    const nb = f32x4.add(f32x4.mul(v128.load(buf + o), vmu), vg);
    v128.store(buf + o, nb);
    const d = nesterov != 0 ? f32x4.add(vg, f32x4.mul(nb, vmu)) : nb;
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.mul(d, vlr)));
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

// ---- direct sparse convolution over the active kernel entries ------------------------------
// Layout (src/engine/nn/sparse-conv.ts): feature maps channel-major with the batch innermost,
// [C][Hp][Wp][N], so one pixel of one channel is a batch-contiguous row of N floats, and a map padded
// with zeros on every side. A kernel entry (ky, kx, ci, co) is the row offset off = ci·Hp·Wp + ky·Wp +
// kx; the output pixel (oy, ox) reads the input row off + oy·rowStep + ox·colStep (rowStep = s·Wp,
// colStep = s for stride s). Every active weight is then an axpy of a batch row, as in spmm, and no
// im2col matrix is formed: the cost is k·N·H_out·W_out multiply-adds for k active weights.

// out[o, p, :] = Σ_{j ∈ [ptr[o], ptr[o+1])} val[j] · x[off[j] + base(p), :], p = (oy, ox) over Ho × Wo,
// base(p) = oy·rowStep + ox·colStep; out is [nOut][Ho][Wo][N]. Batch in blocks of 32 floats held in 8
// vector accumulators (each output row written once per block), as spmm.
export function sconv(out: usize, nOut: i32, ptr: usize, off: usize, val: usize, x: usize, Ho: i32, Wo: i32, rowStep: i32, colStep: i32, N: i32): void {
  const rowBytes = <usize>N << 2;
  const N32 = N & ~31;
  const N4 = N & ~3;
  for (let o = 0; o < nOut; o++) {
    const j0 = load<i32>(ptr + (<usize>o << 2));
    const j1 = load<i32>(ptr + (<usize>(o + 1) << 2));
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        const base = x + <usize>(oy * rowStep + ox * colStep) * rowBytes;
        const orow = out + <usize>((o * Ho + oy) * Wo + ox) * rowBytes;
        let b = 0;
        for (; b < N32; b += 32) {
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
            const p = base + <usize>load<i32>(off + (<usize>j << 2)) * rowBytes + boff;
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
        for (; b < N4; b += 4) {
          let a = f32x4.splat(0);
          const boff = <usize>b << 2;
          for (let j = j0; j < j1; j++) {
            const w = f32x4.splat(load<f32>(val + (<usize>j << 2)));
            a = f32x4.add(a, f32x4.mul(w, v128.load(base + <usize>load<i32>(off + (<usize>j << 2)) * rowBytes + boff)));
          }
          v128.store(orow + boff, a);
        }
        for (; b < N; b++) {
          let s: f32 = 0;
          const boff = <usize>b << 2;
          for (let j = j0; j < j1; j++) {
            s += load<f32>(val + (<usize>j << 2)) * load<f32>(base + <usize>load<i32>(off + (<usize>j << 2)) * rowBytes + boff);
          }
          store<f32>(orow + boff, s);
        }
      }
    }
  }
}

// The transpose of sconv, by scattering: dx[off[j] + base(p), :] += val[j] · dy[o, p, :] (dx zeroed by
// the host, padded like sconv's x). Used for the input gradient of strided convolutions; stride 1
// uses sconv itself on the padded output gradient (a gather, no read-modify-write).
export function sconvScatter(dx: usize, nOut: i32, ptr: usize, off: usize, val: usize, dy: usize, Ho: i32, Wo: i32, rowStep: i32, colStep: i32, N: i32): void {
  const rowBytes = <usize>N << 2;
  const N16 = N & ~15;
  const N4 = N & ~3;
  for (let o = 0; o < nOut; o++) {
    const j0 = load<i32>(ptr + (<usize>o << 2));
    const j1 = load<i32>(ptr + (<usize>(o + 1) << 2));
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        const base = dx + <usize>(oy * rowStep + ox * colStep) * rowBytes;
        const drow = dy + <usize>((o * Ho + oy) * Wo + ox) * rowBytes;
        let b = 0;
        for (; b < N16; b += 16) {
          const boff = <usize>b << 2;
          const d0 = v128.load(drow + boff, 0);
          const d1 = v128.load(drow + boff, 16);
          const d2 = v128.load(drow + boff, 32);
          const d3 = v128.load(drow + boff, 48);
          for (let j = j0; j < j1; j++) {
            const w = f32x4.splat(load<f32>(val + (<usize>j << 2)));
            const p = base + <usize>load<i32>(off + (<usize>j << 2)) * rowBytes + boff;
            v128.store(p, f32x4.add(v128.load(p, 0), f32x4.mul(w, d0)), 0);
            v128.store(p, f32x4.add(v128.load(p, 16), f32x4.mul(w, d1)), 16);
            v128.store(p, f32x4.add(v128.load(p, 32), f32x4.mul(w, d2)), 32);
            v128.store(p, f32x4.add(v128.load(p, 48), f32x4.mul(w, d3)), 48);
          }
        }
        for (; b < N4; b += 4) {
          const boff = <usize>b << 2;
          const d = v128.load(drow + boff);
          for (let j = j0; j < j1; j++) {
            const w = f32x4.splat(load<f32>(val + (<usize>j << 2)));
            const p = base + <usize>load<i32>(off + (<usize>j << 2)) * rowBytes + boff;
            v128.store(p, f32x4.add(v128.load(p), f32x4.mul(w, d)));
          }
        }
        for (; b < N; b++) {
          const boff = <usize>b << 2;
          const d = load<f32>(drow + boff);
          for (let j = j0; j < j1; j++) {
            const p = base + <usize>load<i32>(off + (<usize>j << 2)) * rowBytes + boff;
            store<f32>(p, load<f32>(p) + load<f32>(val + (<usize>j << 2)) * d);
          }
        }
      }
    }
  }
}

// The filter gradient at the active entries only: g[perm[j]] = Σ_p dy[o, p, :] · x[off[j] + base(p), :]
// for every j ∈ [ptr[o], ptr[o+1]) (sconv's indexing). Two entries per iteration share the loads of
// the dy rows; float32 vector sums per entry over all pixels and the batch. dy may be stored padded,
// [nOut][Ho + 2·dyPad][Wo + 2·dyPad][N] (the zero-padded copy the stride-1 input gradient reads, so
// the output gradient is packed once): only its interior is read.
export function sconvGrad(g: usize, nOut: i32, ptr: usize, off: usize, perm: usize, dy: usize, x: usize, Ho: i32, Wo: i32, rowStep: i32, colStep: i32, N: i32, dyPad: i32): void {
  const rowBytes = <usize>N << 2;
  const N8 = N & ~7;
  const N4 = N & ~3;
  for (let o = 0; o < nOut; o++) {
    const j0 = load<i32>(ptr + (<usize>o << 2));
    const j1 = load<i32>(ptr + (<usize>(o + 1) << 2));
    const dyW = Wo + 2 * dyPad;
    const plane = dy + <usize>((o * (Ho + 2 * dyPad) + dyPad) * dyW + dyPad) * rowBytes;
    let j = j0;
    for (; j < j1; j += 2) {
      const two = j + 1 < j1;
      const offA = <usize>load<i32>(off + (<usize>j << 2)) * rowBytes;
      const offB = two ? <usize>load<i32>(off + (<usize>j << 2), 4) * rowBytes : offA;
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let s: f32 = 0;
      let t: f32 = 0;
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++) {
          const base = x + <usize>(oy * rowStep + ox * colStep) * rowBytes;
          const drow = plane + <usize>(oy * dyW + ox) * rowBytes;
          const pa = base + offA;
          const pb = base + offB;
          let b = 0;
          for (; b < N8; b += 8) {
            const boff = <usize>b << 2;
            const d0 = v128.load(drow + boff, 0);
            const d1 = v128.load(drow + boff, 16);
            a0 = f32x4.add(a0, f32x4.mul(d0, v128.load(pa + boff, 0)));
            a1 = f32x4.add(a1, f32x4.mul(d1, v128.load(pa + boff, 16)));
            c0 = f32x4.add(c0, f32x4.mul(d0, v128.load(pb + boff, 0)));
            c1 = f32x4.add(c1, f32x4.mul(d1, v128.load(pb + boff, 16)));
          }
          for (; b < N4; b += 4) {
            const boff = <usize>b << 2;
            const d = v128.load(drow + boff);
            a0 = f32x4.add(a0, f32x4.mul(d, v128.load(pa + boff)));
            c0 = f32x4.add(c0, f32x4.mul(d, v128.load(pb + boff)));
          }
          for (; b < N; b++) {
            const boff = <usize>b << 2;
            const d = load<f32>(drow + boff);
            s += d * load<f32>(pa + boff);
            t += d * load<f32>(pb + boff);
          }
        }
      }
      const va = f32x4.add(a0, a1);
      const vc = f32x4.add(c0, c1);
      s += f32x4.extract_lane(va, 0) + f32x4.extract_lane(va, 1) + f32x4.extract_lane(va, 2) + f32x4.extract_lane(va, 3);
      t += f32x4.extract_lane(vc, 0) + f32x4.extract_lane(vc, 1) + f32x4.extract_lane(vc, 2) + f32x4.extract_lane(vc, 3);
      store<f32>(g + (<usize>load<i32>(perm + (<usize>j << 2)) << 2), s);
      if (two) store<f32>(g + (<usize>load<i32>(perm + (<usize>j << 2), 4) << 2), t);
    }
  }
}

// B[s][r] = A[r][s] for an R × S block: A rows `aStride` bytes apart (S contiguous floats each), B rows
// `bStride` bytes apart (R contiguous floats each). 4 × 4 tiles, each four vector loads, an in-register
// transpose (two rounds of shuffles) and four vector stores; scalar copies for the edges. Walking
// four columns of A at a time down all its rows writes four B rows sequentially and reads each A row
// once per four columns (an A row of the conv maps is C ≤ a few hundred floats, so the rows of one
// pixel stay in cache across the column blocks).
function transposeBlock(b: usize, bStride: usize, a: usize, aStride: usize, R: i32, S: i32): void {
  const R4 = R & ~3;
  const S4 = S & ~3;
  let s = 0;
  for (; s < S4; s += 4) {
    const ac = a + (<usize>s << 2);
    const b0 = b + <usize>s * bStride;
    const b1 = b0 + bStride;
    const b2 = b1 + bStride;
    const b3 = b2 + bStride;
    let r = 0;
    for (; r < R4; r += 4) {
      const p = ac + <usize>r * aStride;
      const r0 = v128.load(p);
      const r1 = v128.load(p + aStride);
      const r2 = v128.load(p + 2 * aStride);
      const r3 = v128.load(p + 3 * aStride);
      const lo01 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
      const lo23 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
      const hi01 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
      const hi23 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
      const o = <usize>r << 2;
      v128.store(b0 + o, f32x4.shuffle(lo01, lo23, 0, 1, 4, 5));
      v128.store(b1 + o, f32x4.shuffle(lo01, lo23, 2, 3, 6, 7));
      v128.store(b2 + o, f32x4.shuffle(hi01, hi23, 0, 1, 4, 5));
      v128.store(b3 + o, f32x4.shuffle(hi01, hi23, 2, 3, 6, 7));
    }
    for (; r < R; r++) {
      const p = ac + <usize>r * aStride;
      const o = <usize>r << 2;
      store<f32>(b0 + o, load<f32>(p));
      store<f32>(b1 + o, load<f32>(p, 4));
      store<f32>(b2 + o, load<f32>(p, 8));
      store<f32>(b3 + o, load<f32>(p, 12));
    }
  }
  for (; s < S; s++) {
    const ac = a + (<usize>s << 2);
    const bs = b + <usize>s * bStride;
    for (let r = 0; r < R; r++) store<f32>(bs + (<usize>r << 2), load<f32>(ac + <usize>r * aStride));
  }
}

// NHWC [N][H][W][C] → channel-major padded [C][H + 2·pad][W + 2·pad][N] (the host zeroes dst first,
// which sets the padding). Per pixel, the [N][C] matrix of the batch's values is transposed into the
// [C][N] rows of that pixel (transposeBlock): sequential row writes, no write strided by a plane.
export function packMaps(dst: usize, src: usize, N: i32, H: i32, W: i32, C: i32, pad: i32): void {
  const Wp = W + 2 * pad;
  const planeBytes = <usize>((H + 2 * pad) * Wp * N) << 2;
  const imageBytes = <usize>(H * W * C) << 2;
  for (let y = 0; y < H; y++) {
    for (let xx = 0; xx < W; xx++) {
      const s = src + (<usize>((y * W + xx) * C) << 2);
      const d = dst + (<usize>(((y + pad) * Wp + xx + pad) * N) << 2);
      transposeBlock(d, planeBytes, s, imageBytes, N, C);
    }
  }
}

// The inverse: channel-major [C][H + 2·pad][W + 2·pad][N] → NHWC [N][H][W][C] (the padding dropped).
export function unpackMaps(dst: usize, src: usize, N: i32, H: i32, W: i32, C: i32, pad: i32): void {
  const Wp = W + 2 * pad;
  const planeBytes = <usize>((H + 2 * pad) * Wp * N) << 2;
  const imageBytes = <usize>(H * W * C) << 2;
  for (let y = 0; y < H; y++) {
    for (let xx = 0; xx < W; xx++) {
      const s = src + (<usize>(((y + pad) * Wp + xx + pad) * N) << 2);
      const d = dst + (<usize>((y * W + xx) * C) << 2);
      transposeBlock(d, imageBytes, s, planeBytes, C, N);
    }
  }
}

// ---- conv nets' elementwise passes -----------------------------------------------------------

// dL/dx of the 2×2 stride-2 max-pool (NHWC, floor: an odd last row / column is dropped): each window's
// gradient goes to its FIRST corner in row-major order equal to the window's maximum y (PyTorch's
// rule), zeros at the other corners, so a window whose maximum is NaN passes nothing (NaN equals
// nothing). Every position inside the pooled windows is written; the host zeroes dx first when H or
// W is odd (the dropped row / column). Four channels per vector: the "first equal corner" rule is
// a chain of equality masks, each cleared of the corners before it.
export function maxPoolGrad(dx: usize, x: usize, y: usize, dy: usize, N: i32, H: i32, W: i32, C: i32): void {
  const Ho = H >> 1;
  const Wo = W >> 1;
  const C4 = C & ~3;
  const rowBytes = <usize>(W * C) << 2;
  const colBytes = <usize>C << 2;
  let o: usize = 0;
  for (let b = 0; b < N; b++) {
    for (let i = 0; i < Ho; i++) {
      const r0 = <usize>((b * H + 2 * i) * W * C) << 2;
      for (let j = 0; j < Wo; j++) {
        const p00 = r0 + <usize>(2 * j) * colBytes;
        const p01 = p00 + colBytes;
        const p10 = p00 + rowBytes;
        const p11 = p10 + colBytes;
        let c = 0;
        for (; c < C4; c += 4) {
          const off = <usize>c << 2;
          const m = v128.load(y + o + off);
          const d = v128.load(dy + o + off);
          const e00 = f32x4.eq(v128.load(x + p00 + off), m);
          const e01 = v128.andnot(f32x4.eq(v128.load(x + p01 + off), m), e00);
          const t01 = v128.or(e00, e01);
          const e10 = v128.andnot(f32x4.eq(v128.load(x + p10 + off), m), t01);
          const e11 = v128.andnot(f32x4.eq(v128.load(x + p11 + off), m), v128.or(t01, e10));
          v128.store(dx + p00 + off, v128.and(d, e00));
          v128.store(dx + p01 + off, v128.and(d, e01));
          v128.store(dx + p10 + off, v128.and(d, e10));
          v128.store(dx + p11 + off, v128.and(d, e11));
        }
        for (; c < C; c++) {
          const off = <usize>c << 2;
          const m = load<f32>(y + o + off);
          const d = load<f32>(dy + o + off);
          let g00: f32 = 0;
          let g01: f32 = 0;
          let g10: f32 = 0;
          let g11: f32 = 0;
          if (load<f32>(x + p00 + off) == m) g00 = d;
          else if (load<f32>(x + p01 + off) == m) g01 = d;
          else if (load<f32>(x + p10 + off) == m) g10 = d;
          else if (load<f32>(x + p11 + off) == m) g11 = d;
          store<f32>(dx + p00 + off, g00);
          store<f32>(dx + p01 + off, g01);
          store<f32>(dx + p10 + off, g10);
          store<f32>(dx + p11 + off, g11);
        }
        o += colBytes;
      }
    }
  }
}

// Column statistics of x [rows][units] (row-major float32) in float64, for BatchNorm over a conv net's
// [N·H·W, C] maps: out[u] = mean_u = Σ_r x[r, u] / rows, out[units + u] = Σ_r (x[r, u] − mean_u)² / rows
// (biased variance). Each unit's sums run over the rows in order, in float64, two units per f64x2
// lane pair: the same additions in the same order as the host loop they replace, so the same bits.
export function colMoments(out: usize, x: usize, rows: i32, units: i32): void {
  const U4 = units & ~3;
  const rowBytes = <usize>units << 2;
  const sum = out;
  const sq = out + (<usize>units << 3);
  memory.fill(out, 0, <usize>units << 4);
  let p = x;
  for (let r = 0; r < rows; r++, p += rowBytes) {
    let u = 0;
    for (; u < U4; u += 4) {
      const v = v128.load(p + (<usize>u << 2));
      const a = sum + (<usize>u << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3))), 16);
    }
    for (; u < units; u++) store<f64>(sum + (<usize>u << 3), load<f64>(sum + (<usize>u << 3)) + <f64>load<f32>(p + (<usize>u << 2)));
  }
  const n = <f64>rows;
  for (let u = 0; u < units; u++) store<f64>(sum + (<usize>u << 3), load<f64>(sum + (<usize>u << 3)) / n);
  p = x;
  for (let r = 0; r < rows; r++, p += rowBytes) {
    let u = 0;
    for (; u < U4; u += 4) {
      const v = v128.load(p + (<usize>u << 2));
      const m = sum + (<usize>u << 3);
      const a = sq + (<usize>u << 3);
      const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), v128.load(m));
      const d1 = f64x2.sub(f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3)), v128.load(m, 16));
      v128.store(a, f64x2.add(v128.load(a), f64x2.mul(d0, d0)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.mul(d1, d1)), 16);
    }
    for (; u < units; u++) {
      const d = <f64>load<f32>(p + (<usize>u << 2)) - load<f64>(sum + (<usize>u << 3));
      store<f64>(sq + (<usize>u << 3), load<f64>(sq + (<usize>u << 3)) + d * d);
    }
  }
  for (let u = 0; u < units; u++) store<f64>(sq + (<usize>u << 3), load<f64>(sq + (<usize>u << 3)) / n);
}

// BatchNorm's backward sums over the rows, float64, in row order (as colMoments):
// out[u] = Σ_r dy[r, u], out[units + u] = Σ_r dy[r, u]·(x[r, u] − mean[u]), mean float64 [units].
export function colGradSums(out: usize, dy: usize, x: usize, mean: usize, rows: i32, units: i32): void {
  const U4 = units & ~3;
  const rowBytes = <usize>units << 2;
  const sdy = out;
  const sdx = out + (<usize>units << 3);
  memory.fill(out, 0, <usize>units << 4);
  let p = dy;
  let q = x;
  for (let r = 0; r < rows; r++, p += rowBytes, q += rowBytes) {
    let u = 0;
    for (; u < U4; u += 4) {
      const o4 = <usize>u << 2;
      const o8 = <usize>u << 3;
      const g = v128.load(p + o4);
      const v = v128.load(q + o4);
      const g0 = f64x2.promote_low_f32x4(g);
      const g1 = f64x2.promote_low_f32x4(f32x4.shuffle(g, g, 2, 3, 2, 3));
      const c0 = f64x2.sub(f64x2.promote_low_f32x4(v), v128.load(mean + o8));
      const c1 = f64x2.sub(f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3)), v128.load(mean + o8, 16));
      v128.store(sdy + o8, f64x2.add(v128.load(sdy + o8), g0));
      v128.store(sdy + o8, f64x2.add(v128.load(sdy + o8, 16), g1), 16);
      v128.store(sdx + o8, f64x2.add(v128.load(sdx + o8), f64x2.mul(g0, c0)));
      v128.store(sdx + o8, f64x2.add(v128.load(sdx + o8, 16), f64x2.mul(g1, c1)), 16);
    }
    for (; u < units; u++) {
      const o8 = <usize>u << 3;
      const g = <f64>load<f32>(p + (<usize>u << 2));
      store<f64>(sdy + o8, load<f64>(sdy + o8) + g);
      store<f64>(sdx + o8, load<f64>(sdx + o8) + g * (<f64>load<f32>(q + (<usize>u << 2)) - load<f64>(mean + o8)));
    }
  }
}
