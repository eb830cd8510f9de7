// Convolution kernels (src/engine/nn/fastconv.ts): Winograd F(2×2, 3×3) and im2col products, AssemblyScript → WebAssembly
// with 128-bit SIMD. Built by scripts/build.mjs into dist/gradflow-conv.wasm.
//
// A 3×3, stride-1, pad-1 convolution of NHWC maps, split into 2×2 output tiles (Lavin & Gray 2016):
// per tile t and input channel, the 4×4 input window d becomes V = Bᵀ d B; per channel pair the
// kernel g becomes U = G g Gᵀ; the 16 positions ξ of the 4×4 tile are then 16 independent matrix
// products M_ξ[t, o] = Σ_i V_ξ[t, i]·U_ξ[i, o] (16 multiplies per tile where the direct convolution
// has 36: 2.25× fewer), and the output tile is Aᵀ M A. The transforms only add, subtract and halve.
//
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//   Aᵀ = [1 1 1 0; 0 1 −1 −1]
//
// The filter gradient runs the same algebra backwards: dU_ξ = Σ_t V_ξ[t, :]ᵀ·Ŷ_ξ[t, :] with
// Ŷ = A dY Aᵀ of each 2×2 output-gradient tile, then dg = Gᵀ dU G.
//
// Layouts (float32; all pointers are byte offsets into this module's memory, which the host manages:
// no allocator in here, --runtime stub):
//  - maps: padded NHWC. The input of a forward pass is [N, 2·th + 2, 2·tw + 2, C] with the real map
//    at offset (1, 1) and zeros around it (th = ⌈H/2⌉, tw = ⌈W/2⌉), so every tile is interior; an
//    output or output gradient is [N, 2·th, 2·tw, C] (the real map at (0, 0), zeros beyond).
//  - V: [16][T][C] with T = N·th·tw rounded up to a multiple of 4 (rows past the last tile zero).
//  - U: [16][Np/8][K][8], the product's right operand packed in panels of 8 output channels (Np = the
//    output channels rounded up to 8, zeros past them).
//  - M: [16][T][Np]. Ŷ: [16][Np/8][T][8]. dU: [16][C][Np].
// The channel counts must be multiples of 4 (checked by the host).

// V = Bᵀ d B for every tile and channel of a padded input (channels in groups of 4).
export function inputTransform(V: usize, X: usize, N: i32, th: i32, tw: i32, C: i32, T: i32): void {
  const Wp = (tw << 1) + 2;
  const Hp = (th << 1) + 2;
  const rowB = <usize>Wp * <usize>C << 2;
  const pixB = <usize>C << 2;
  const plane = <usize>T * <usize>C << 2;
  let t = 0;
  for (let n = 0; n < N; n++) {
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        const base = X + ((<usize>n * <usize>Hp + <usize>(ty << 1)) * <usize>Wp + <usize>(tx << 1)) * pixB;
        const out = V + <usize>t * pixB;
        for (let c: usize = 0; c < pixB; c += 16) {
          const p0 = base + c;
          const p1 = p0 + rowB;
          const p2 = p1 + rowB;
          const p3 = p2 + rowB;
          // Bᵀ along the rows: r0 = d0 − d2, r1 = d1 + d2, r2 = d2 − d1, r3 = d1 − d3 (per column).
          const d00 = v128.load(p0), d01 = v128.load(p0 + pixB), d02 = v128.load(p0 + 2 * pixB), d03 = v128.load(p0 + 3 * pixB);
          const d10 = v128.load(p1), d11 = v128.load(p1 + pixB), d12 = v128.load(p1 + 2 * pixB), d13 = v128.load(p1 + 3 * pixB);
          const d20 = v128.load(p2), d21 = v128.load(p2 + pixB), d22 = v128.load(p2 + 2 * pixB), d23 = v128.load(p2 + 3 * pixB);
          const d30 = v128.load(p3), d31 = v128.load(p3 + pixB), d32 = v128.load(p3 + 2 * pixB), d33 = v128.load(p3 + 3 * pixB);
          const r00 = f32x4.sub(d00, d20), r01 = f32x4.sub(d01, d21), r02 = f32x4.sub(d02, d22), r03 = f32x4.sub(d03, d23);
          const r10 = f32x4.add(d10, d20), r11 = f32x4.add(d11, d21), r12 = f32x4.add(d12, d22), r13 = f32x4.add(d13, d23);
          const r20 = f32x4.sub(d20, d10), r21 = f32x4.sub(d21, d11), r22 = f32x4.sub(d22, d12), r23 = f32x4.sub(d23, d13);
          const r30 = f32x4.sub(d10, d30), r31 = f32x4.sub(d11, d31), r32 = f32x4.sub(d12, d32), r33 = f32x4.sub(d13, d33);
          // B along the columns, the same combination; position ξ = 4·row + column.
          const o = out + c;
          v128.store(o, f32x4.sub(r00, r02));
          v128.store(o + plane, f32x4.add(r01, r02));
          v128.store(o + 2 * plane, f32x4.sub(r02, r01));
          v128.store(o + 3 * plane, f32x4.sub(r01, r03));
          v128.store(o + 4 * plane, f32x4.sub(r10, r12));
          v128.store(o + 5 * plane, f32x4.add(r11, r12));
          v128.store(o + 6 * plane, f32x4.sub(r12, r11));
          v128.store(o + 7 * plane, f32x4.sub(r11, r13));
          v128.store(o + 8 * plane, f32x4.sub(r20, r22));
          v128.store(o + 9 * plane, f32x4.add(r21, r22));
          v128.store(o + 10 * plane, f32x4.sub(r22, r21));
          v128.store(o + 11 * plane, f32x4.sub(r21, r23));
          v128.store(o + 12 * plane, f32x4.sub(r30, r32));
          v128.store(o + 13 * plane, f32x4.add(r31, r32));
          v128.store(o + 14 * plane, f32x4.sub(r32, r31));
          v128.store(o + 15 * plane, f32x4.sub(r31, r33));
        }
        t++;
      }
    }
  }
  // Rows past the last tile: zero, so the products' padded rows are zero.
  if (t < T) for (let xi = 0; xi < 16; xi++) memory.fill(V + <usize>xi * plane + <usize>t * pixB, 0, <usize>(T - t) * pixB);
}

// U = G g Gᵀ for a [3, 3, Cin, Cout] kernel, packed as the products' right operand [16][Np/8][K][8].
// rotate = 0: K = Cin, the output channels are Cout (the forward convolution).
// rotate = 1: the kernel rotated by 180° with its channels swapped, g'[ky, kx, o, i] =
// g[2 − ky, 2 − kx, i, o]: K = Cout, the output channels are Cin (the input gradient).
export function filterTransform(U: usize, g: usize, Cin: i32, Cout: i32, rotate: i32): void {
  const K = rotate ? Cout : Cin;
  const Nn = rotate ? Cin : Cout;
  const Np = (Nn + 7) & ~7;
  const plane = <usize>K * <usize>Np << 2;
  memory.fill(U, 0, plane << 4);
  const tap = <usize>Cin * <usize>Cout << 2;
  // Panel by panel of 8 output channels, so the stores run along 16 streams (one per position).
  for (let m0 = 0; m0 < Nn; m0 += 8) {
    for (let k = 0; k < K; k++) {
      const m1 = min(Nn, m0 + 8);
      for (let m = m0; m < m1; m++) {
        const i = rotate ? m : k;
        const o = rotate ? k : m;
        const src = g + ((<usize>i * <usize>Cout + <usize>o) << 2);
        // w[r][c] = g[ky][kx] (rotated if asked).
        let w00: f32, w01: f32, w02: f32, w10: f32, w11: f32, w12: f32, w20: f32, w21: f32, w22: f32;
        if (rotate) {
          w00 = load<f32>(src + 8 * tap); w01 = load<f32>(src + 7 * tap); w02 = load<f32>(src + 6 * tap);
          w10 = load<f32>(src + 5 * tap); w11 = load<f32>(src + 4 * tap); w12 = load<f32>(src + 3 * tap);
          w20 = load<f32>(src + 2 * tap); w21 = load<f32>(src + tap); w22 = load<f32>(src);
        } else {
          w00 = load<f32>(src); w01 = load<f32>(src + tap); w02 = load<f32>(src + 2 * tap);
          w10 = load<f32>(src + 3 * tap); w11 = load<f32>(src + 4 * tap); w12 = load<f32>(src + 5 * tap);
          w20 = load<f32>(src + 6 * tap); w21 = load<f32>(src + 7 * tap); w22 = load<f32>(src + 8 * tap);
        }
        // G along the rows.
        const t00 = w00, t01 = w01, t02 = w02;
        const t10 = <f32>0.5 * (w00 + w10 + w20), t11 = <f32>0.5 * (w01 + w11 + w21), t12 = <f32>0.5 * (w02 + w12 + w22);
        const t20 = <f32>0.5 * (w00 - w10 + w20), t21 = <f32>0.5 * (w01 - w11 + w21), t22 = <f32>0.5 * (w02 - w12 + w22);
        const t30 = w20, t31 = w21, t32 = w22;
        const dst = U + ((((<usize>(m >> 3) * <usize>K) + <usize>k) << 3) + <usize>(m & 7) << 2);
        storeRow(dst, 0, plane, t00, t01, t02);
        storeRow(dst, 4, plane, t10, t11, t12);
        storeRow(dst, 8, plane, t20, t21, t22);
        storeRow(dst, 12, plane, t30, t31, t32);
      }
    }
  }
}

// Gᵀ along the columns of one row (a, ·) of G g: positions 4a … 4a + 3.
function storeRow(dst: usize, xi: i32, plane: usize, a: f32, b: f32, c: f32): void {
  store<f32>(dst + <usize>xi * plane, a);
  store<f32>(dst + <usize>(xi + 1) * plane, <f32>0.5 * (a + b + c));
  store<f32>(dst + <usize>(xi + 2) * plane, <f32>0.5 * (a - b + c));
  store<f32>(dst + <usize>(xi + 3) * plane, c);
}

// M_ξ = V_ξ · U_ξ for `planes` planes (the 16 positions; 1 for a plain product): [T, K] · [K, Np] →
// [T, Np] (T % 4 = 0, Np % 8 = 0). A plane stride of 0 shares one operand between the planes.
// A 4 × 8 register block: 8 accumulators, two vector loads of U and four broadcasts of V per step
// of K (measured here: 40–46 GFLOP/s for WRN-16-4's shapes, against 20–28 for the wasm backend's
// convolution).
export function products(M: usize, V: usize, U: usize, T: i32, K: i32, Np: i32, planes: i32, vShared: i32): void {
  const lda = <usize>K << 2;
  const ldc = <usize>Np << 2;
  const vPlane: usize = vShared ? 0 : <usize>T * lda;
  const uPlane = <usize>K * ldc;
  const mPlane = <usize>T * ldc;
  for (let xi = 0; xi < planes; xi++) {
    const Vx = V + <usize>xi * vPlane;
    const Ux = U + <usize>xi * uPlane;
    const Mx = M + <usize>xi * mPlane;
    for (let i = 0; i < T; i += 4) {
      const a0p = Vx + <usize>i * lda;
      const cp0 = Mx + <usize>i * ldc;
      for (let j = 0; j < Np; j += 8) {
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        let bp = Ux + (<usize>j * <usize>K << 2);
        let ap = a0p;
        for (let k = 0; k < K; k++) {
          const b0 = v128.load(bp, 0);
          const b1 = v128.load(bp, 16);
          let a = v128.load32_splat(ap);
          c00 = f32x4.add(c00, f32x4.mul(a, b0));
          c01 = f32x4.add(c01, f32x4.mul(a, b1));
          a = v128.load32_splat(ap + lda);
          c10 = f32x4.add(c10, f32x4.mul(a, b0));
          c11 = f32x4.add(c11, f32x4.mul(a, b1));
          a = v128.load32_splat(ap + 2 * lda);
          c20 = f32x4.add(c20, f32x4.mul(a, b0));
          c21 = f32x4.add(c21, f32x4.mul(a, b1));
          a = v128.load32_splat(ap + 3 * lda);
          c30 = f32x4.add(c30, f32x4.mul(a, b0));
          c31 = f32x4.add(c31, f32x4.mul(a, b1));
          bp += 32;
          ap += 4;
        }
        const cp = cp0 + (<usize>j << 2);
        store4x8(cp, ldc, c00, c01, c10, c11, c20, c21, c30, c31);
      }
    }
  }
}

// A 4 × 8 block of accumulators to rows cp, cp + ldc, … (bytes).
function store4x8(cp: usize, ldc: usize, c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128): void {
  v128.store(cp, c00, 0);
  v128.store(cp, c01, 16);
  v128.store(cp + ldc, c10, 0);
  v128.store(cp + ldc, c11, 16);
  v128.store(cp + 2 * ldc, c20, 0);
  v128.store(cp + 2 * ldc, c21, 16);
  v128.store(cp + 3 * ldc, c30, 0);
  v128.store(cp + 3 * ldc, c31, 16);
}

// Y = Aᵀ M A for every tile, into a padded output [N, 2·th, 2·tw, C] (C ≤ Np, C % 4 = 0).
export function outputTransform(Y: usize, M: usize, N: i32, th: i32, tw: i32, C: i32, T: i32, Np: i32): void {
  const Wo = tw << 1;
  const pixB = <usize>C << 2;
  const rowB = <usize>Wo * pixB;
  const plane = <usize>T * <usize>Np << 2;
  let t = 0;
  for (let n = 0; n < N; n++) {
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        const src = M + <usize>t * (<usize>Np << 2);
        const dst = Y + ((<usize>n * <usize>(th << 1) + <usize>(ty << 1)) * <usize>Wo + <usize>(tx << 1)) * pixB;
        for (let c: usize = 0; c < pixB; c += 16) {
          const p = src + c;
          const m00 = v128.load(p), m01 = v128.load(p + plane), m02 = v128.load(p + 2 * plane), m03 = v128.load(p + 3 * plane);
          const m10 = v128.load(p + 4 * plane), m11 = v128.load(p + 5 * plane), m12 = v128.load(p + 6 * plane), m13 = v128.load(p + 7 * plane);
          const m20 = v128.load(p + 8 * plane), m21 = v128.load(p + 9 * plane), m22 = v128.load(p + 10 * plane), m23 = v128.load(p + 11 * plane);
          const m30 = v128.load(p + 12 * plane), m31 = v128.load(p + 13 * plane), m32 = v128.load(p + 14 * plane), m33 = v128.load(p + 15 * plane);
          // Aᵀ along the rows: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (per column).
          const s00 = f32x4.add(f32x4.add(m00, m10), m20), s01 = f32x4.add(f32x4.add(m01, m11), m21);
          const s02 = f32x4.add(f32x4.add(m02, m12), m22), s03 = f32x4.add(f32x4.add(m03, m13), m23);
          const s10 = f32x4.sub(f32x4.sub(m10, m20), m30), s11 = f32x4.sub(f32x4.sub(m11, m21), m31);
          const s12 = f32x4.sub(f32x4.sub(m12, m22), m32), s13 = f32x4.sub(f32x4.sub(m13, m23), m33);
          const q = dst + c;
          v128.store(q, f32x4.add(f32x4.add(s00, s01), s02));
          v128.store(q + pixB, f32x4.sub(f32x4.sub(s01, s02), s03));
          v128.store(q + rowB, f32x4.add(f32x4.add(s10, s11), s12));
          v128.store(q + rowB + pixB, f32x4.sub(f32x4.sub(s11, s12), s13));
        }
        t++;
      }
    }
  }
}

// Ŷ = A dY Aᵀ for every 2×2 tile of a padded output gradient [N, 2·th, 2·tw, C], packed as the
// filter-gradient products' right operand [16][Np/8][T][8] (zeros past the last tile and channel).
// One panel of 8 channels at a time, so the stores run along 16 streams (one per position), not
// 16 × Np/8 (a tile-major order was 5× slower for 64 channels).
export function gradTransform(Yh: usize, D: usize, N: i32, th: i32, tw: i32, C: i32, T: i32, Np: i32): void {
  const Wo = tw << 1;
  const pixB = <usize>C << 2;
  const rowB = <usize>Wo * pixB;
  const panel = <usize>T << 5;
  const plane = panel * <usize>(Np >> 3);
  const tiles = N * th * tw;
  const zero = f32x4.splat(0);
  for (let c0 = 0; c0 < Np; c0 += 8) {
    const pp = Yh + <usize>(c0 >> 3) * panel;
    let t = 0;
    for (let n = 0; n < N; n++) {
      for (let ty = 0; ty < th; ty++) {
        let src = D + ((<usize>n * <usize>(th << 1) + <usize>(ty << 1)) * <usize>Wo) * pixB + (<usize>c0 << 2);
        for (let tx = 0; tx < tw; tx++) {
          for (let h = 0; h < 8; h += 4) {
            const q = pp + (<usize>t << 5) + (<usize>h << 2);
            if (c0 + h >= C) {
              for (let xi = 0; xi < 16; xi++) v128.store(q + <usize>xi * plane, zero);
              continue;
            }
            const p = src + (<usize>h << 2);
            const d00 = v128.load(p), d01 = v128.load(p + pixB);
            const d10 = v128.load(p + rowB), d11 = v128.load(p + rowB + pixB);
            // A along the rows: e0 = d0, e1 = d0 + d1, e2 = d0 − d1, e3 = −d1 (per column), then the
            // same along the columns.
            storeGradRow(q, 0, plane, d00, d01);
            storeGradRow(q, 4, plane, f32x4.add(d00, d10), f32x4.add(d01, d11));
            storeGradRow(q, 8, plane, f32x4.sub(d00, d10), f32x4.sub(d01, d11));
            storeGradRow(q, 12, plane, f32x4.neg(d10), f32x4.neg(d11));
          }
          src += pixB << 1;
          t++;
        }
      }
    }
    // Rows past the last tile.
    if (tiles < T) for (let xi = 0; xi < 16; xi++) memory.fill(pp + <usize>xi * plane + (<usize>tiles << 5), 0, <usize>(T - tiles) << 5);
  }
}

function storeGradRow(q: usize, xi: i32, plane: usize, a: v128, b: v128): void {
  v128.store(q + <usize>xi * plane, a);
  v128.store(q + <usize>(xi + 1) * plane, f32x4.add(a, b));
  v128.store(q + <usize>(xi + 2) * plane, f32x4.sub(a, b));
  v128.store(q + <usize>(xi + 3) * plane, f32x4.neg(b));
}

// dU_ξ = V_ξᵀ · Ŷ_ξ for `planes` planes (the 16 positions; 1 for a plain product): [C, T] · [T, Np]
// → [C, Np] (C % 4 = 0), the sum over the tiles in chunks of TB so a chunk of V and of each Ŷ panel
// stays in cache across the row blocks. A plane stride of 0 shares Ŷ between the planes.
const TB = 256;
export function gradProducts(dU: usize, V: usize, Yh: usize, T: i32, C: i32, Np: i32, planes: i32, yShared: i32): void {
  const ldv = <usize>C << 2;
  const ldc = <usize>Np << 2;
  const vPlane = <usize>T * ldv;
  const panel = <usize>T << 5;
  const yPlane: usize = yShared ? 0 : panel * <usize>(Np >> 3);
  const uPlane = <usize>C * ldc;
  for (let xi = 0; xi < planes; xi++) {
    const Vx = V + <usize>xi * vPlane;
    const Yx = Yh + <usize>xi * yPlane;
    const Ux = dU + <usize>xi * uPlane;
    for (let t0 = 0; t0 < T; t0 += TB) {
      const t1 = min(T, t0 + TB);
      for (let i = 0; i < C; i += 4) {
        const cp0 = Ux + <usize>i * ldc;
        for (let j = 0; j < Np; j += 8) {
          const cp = cp0 + (<usize>j << 2);
          let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
          if (t0 === 0) {
            c00 = f32x4.splat(0); c01 = f32x4.splat(0); c10 = f32x4.splat(0); c11 = f32x4.splat(0);
            c20 = f32x4.splat(0); c21 = f32x4.splat(0); c30 = f32x4.splat(0); c31 = f32x4.splat(0);
          } else {
            c00 = v128.load(cp, 0); c01 = v128.load(cp, 16);
            c10 = v128.load(cp + ldc, 0); c11 = v128.load(cp + ldc, 16);
            c20 = v128.load(cp + 2 * ldc, 0); c21 = v128.load(cp + 2 * ldc, 16);
            c30 = v128.load(cp + 3 * ldc, 0); c31 = v128.load(cp + 3 * ldc, 16);
          }
          let bp = Yx + <usize>(j >> 3) * panel + (<usize>t0 << 5);
          let ap = Vx + <usize>t0 * ldv + (<usize>i << 2);
          for (let t = t0; t < t1; t++) {
            const b0 = v128.load(bp, 0);
            const b1 = v128.load(bp, 16);
            let a = v128.load32_splat(ap);
            c00 = f32x4.add(c00, f32x4.mul(a, b0));
            c01 = f32x4.add(c01, f32x4.mul(a, b1));
            a = v128.load32_splat(ap + 4);
            c10 = f32x4.add(c10, f32x4.mul(a, b0));
            c11 = f32x4.add(c11, f32x4.mul(a, b1));
            a = v128.load32_splat(ap + 8);
            c20 = f32x4.add(c20, f32x4.mul(a, b0));
            c21 = f32x4.add(c21, f32x4.mul(a, b1));
            a = v128.load32_splat(ap + 12);
            c30 = f32x4.add(c30, f32x4.mul(a, b0));
            c31 = f32x4.add(c31, f32x4.mul(a, b1));
            bp += 32;
            ap += ldv;
          }
          store4x8(cp, ldc, c00, c01, c10, c11, c20, c21, c30, c31);
        }
      }
    }
  }
}

// dg = Gᵀ dU G into a [3, 3, Cin, Cout] kernel gradient (dU [16][Cin][Np], Cout % 4 = 0).
//   Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]
export function filterGradInverse(dg: usize, dU: usize, Cin: i32, Cout: i32, Np: i32): void {
  const plane = <usize>Cin * <usize>Np << 2;
  const tap = <usize>Cin * <usize>Cout << 2;
  const half = f32x4.splat(0.5);
  for (let i = 0; i < Cin; i++) {
    for (let o = 0; o < Cout; o += 4) {
      const p = dU + ((<usize>i * <usize>Np + <usize>o) << 2);
      const q = dg + ((<usize>i * <usize>Cout + <usize>o) << 2);
      // R = Gᵀ dU (3 × 4), per column b.
      const u0 = v128.load(p), u1 = v128.load(p + plane), u2 = v128.load(p + 2 * plane), u3 = v128.load(p + 3 * plane);
      const u4 = v128.load(p + 4 * plane), u5 = v128.load(p + 5 * plane), u6 = v128.load(p + 6 * plane), u7 = v128.load(p + 7 * plane);
      const u8 = v128.load(p + 8 * plane), u9 = v128.load(p + 9 * plane), u10 = v128.load(p + 10 * plane), u11 = v128.load(p + 11 * plane);
      const u12 = v128.load(p + 12 * plane), u13 = v128.load(p + 13 * plane), u14 = v128.load(p + 14 * plane), u15 = v128.load(p + 15 * plane);
      // Rows a = 1, 2 summed and differenced once per column.
      const s0 = f32x4.mul(half, f32x4.add(u4, u8)), s1 = f32x4.mul(half, f32x4.add(u5, u9));
      const s2 = f32x4.mul(half, f32x4.add(u6, u10)), s3 = f32x4.mul(half, f32x4.add(u7, u11));
      const R00 = f32x4.add(u0, s0), R01 = f32x4.add(u1, s1), R02 = f32x4.add(u2, s2), R03 = f32x4.add(u3, s3);
      const R10 = f32x4.mul(half, f32x4.sub(u4, u8)), R11 = f32x4.mul(half, f32x4.sub(u5, u9));
      const R12 = f32x4.mul(half, f32x4.sub(u6, u10)), R13 = f32x4.mul(half, f32x4.sub(u7, u11));
      const R20 = f32x4.add(s0, u12), R21 = f32x4.add(s1, u13), R22 = f32x4.add(s2, u14), R23 = f32x4.add(s3, u15);
      storeKernelRow(q, 0, tap, half, R00, R01, R02, R03);
      storeKernelRow(q, 3, tap, half, R10, R11, R12, R13);
      storeKernelRow(q, 6, tap, half, R20, R21, R22, R23);
    }
  }
}

// One row of dg = R G: dg[r][0] = R0 + ½(R1 + R2), dg[r][1] = ½(R1 − R2), dg[r][2] = ½(R1 + R2) + R3.
function storeKernelRow(q: usize, tap0: i32, tap: usize, half: v128, a: v128, b: v128, c: v128, d: v128): void {
  const s = f32x4.mul(half, f32x4.add(b, c));
  v128.store(q + <usize>tap0 * tap, f32x4.add(a, s));
  v128.store(q + <usize>(tap0 + 1) * tap, f32x4.mul(half, f32x4.sub(b, c)));
  v128.store(q + <usize>(tap0 + 2) * tap, f32x4.add(s, d));
}

// ---- any convolution as products (im2col) --------------------------------------------------------
//
// For the layers Winograd does not take (strided, 1×1): cols [T, k²·C] holds, per output pixel t =
// (n, oy, ox), the input values under each tap (ky, kx) (zeros in the padding), so that
//   y = cols · w          ([T, k²·Cin] · [k²·Cin, Cout]; w is the kernel [k, k, Cin, Cout] as it lies),
//   dcols = dy · wᵀ        and dx = the sum of dcols back over the taps (col2im),
//   dw = colsᵀ · dy        (gradProducts with one plane).

// cols[t, (ky·k + kx)·C + c] = x[n, oy·s + ky − pad, ox·s + kx − pad, c], zero outside the map; rows
// T … Tp − 1 zero.
export function im2col(cols: usize, X: usize, N: i32, H: i32, W: i32, C: i32, k: i32, s: i32, pad: i32, Ho: i32, Wo: i32, Tp: i32): void {
  const pixB = <usize>C << 2;
  const rowB = <usize>(k * k) * pixB;
  let q = cols;
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++) {
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * s + ky - pad;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * s + kx - pad;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) memory.fill(q, 0, pixB);
            else memory.copy(q, X + ((<usize>n * <usize>H + <usize>iy) * <usize>W + <usize>ix) * pixB, pixB);
            q += pixB;
          }
        }
      }
  const T = N * Ho * Wo;
  if (T < Tp) memory.fill(q, 0, <usize>(Tp - T) * rowB);
}

// dx[n, iy, ix, c] = Σ over the taps (ky, kx) reaching it of dcols[t, (ky·k + kx)·C + c] (dx zeroed here;
// dcols rows have ldc floats, C % 4 = 0).
export function col2im(dx: usize, dcols: usize, N: i32, H: i32, W: i32, C: i32, k: i32, s: i32, pad: i32, Ho: i32, Wo: i32, ldc: i32): void {
  const pixB = <usize>C << 2;
  memory.fill(dx, 0, <usize>N * <usize>H * <usize>W * pixB);
  let t = 0;
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++) {
        const row = dcols + <usize>t * (<usize>ldc << 2);
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * s + ky - pad;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * s + kx - pad;
            if (ix < 0 || ix >= W) continue;
            const d = dx + ((<usize>n * <usize>H + <usize>iy) * <usize>W + <usize>ix) * pixB;
            const src = row + <usize>(ky * k + kx) * pixB;
            for (let c: usize = 0; c < pixB; c += 16) v128.store(d + c, f32x4.add(v128.load(d + c), v128.load(src + c)));
          }
        }
        t++;
      }
}

// Pack a matrix as the products' right operand: panels [Np/8][K][8] of B [K, Nn] (transposed = 0: src
// is [K, Nn] row-major; 1: src is [Nn, K], i.e. B = srcᵀ), zeros past Nn.
export function packPanels(dst: usize, src: usize, K: i32, Nn: i32, transposed: i32): void {
  const Np = (Nn + 7) & ~7;
  for (let m0 = 0; m0 < Np; m0 += 8) {
    let q = dst + ((<usize>m0 * <usize>K) << 2);
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < 8; j++) {
        const m = m0 + j;
        let v: f32 = 0;
        if (m < Nn) v = transposed ? load<f32>(src + ((<usize>m * <usize>K + <usize>k) << 2)) : load<f32>(src + ((<usize>k * <usize>Nn + <usize>m) << 2));
        store<f32>(q, v);
        q += 4;
      }
    }
  }
}

// Copy the first Nn of every Np-float row of a [rows, Np] matrix to a [rows, Nn] one.
export function cropColumns(dst: usize, src: usize, rows: i32, Nn: i32, Np: i32): void {
  for (let r = 0; r < rows; r++) memory.copy(dst + ((<usize>r * <usize>Nn) << 2), src + ((<usize>r * <usize>Np) << 2), <usize>Nn << 2);
}
