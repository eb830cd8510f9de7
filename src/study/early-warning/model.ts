/**
 * The small models of the EGF early warning (docs/study.md §5): ridge least squares and ridge
 * logistic regression on standardised features, fitted leave-one-configuration-out, and the AUC.
 * Pure functions on plain arrays; no randomness.
 */
import { rankAverage } from '../stats';
import { at } from '../../shared/checked';

/** Ridge penalty on the standardised coefficients (the intercept is not penalised). */
export const RIDGE = 1;

/** Column means and standard deviations (n, population) of a feature matrix; a constant column gets sd 1. */
function standardiser(X: readonly (readonly number[])[]): { mean: number[]; sd: number[] } {
  const p = X[0]?.length ?? 0;
  const mean = Array<number>(p).fill(0);
  const sd = Array<number>(p).fill(0);
  for (const row of X) row.forEach((v, j) => (mean[j] = at(mean, j) + v / X.length));
  for (const row of X) row.forEach((v, j) => (sd[j] = at(sd, j) + ((v - at(mean, j)) * (v - at(mean, j))) / X.length));
  return { mean, sd: sd.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

/** Solves A x = b (A small, symmetric positive definite) by Gaussian elimination with partial pivoting. */
export function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, at(b, i)]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(at(at(M, r), c)) > Math.abs(at(at(M, piv), c))) piv = r;
    [M[c], M[piv]] = [at(M, piv), at(M, c)];
    const d = at(at(M, c), c);
    if (d === 0) throw new Error('solve: singular system');
    for (let r = c + 1; r < n; r++) {
      const f = at(at(M, r), c) / d;
      if (f !== 0) for (let k = c; k <= n; k++) at(M, r)[k] = at(at(M, r), k) - f * at(at(M, c), k);
    }
  }
  const x = Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = at(at(M, r), n);
    for (let k = r + 1; k < n; k++) s -= at(at(M, r), k) * at(x, k);
    x[r] = s / at(at(M, r), r);
  }
  return x;
}

/** A fitted model: prediction = link(w₀ + Σ w_j (x_j − mean_j)/sd_j). */
export interface Fitted {
  mean: number[];
  sd: number[];
  /** Intercept first. */
  w: number[];
}

function design(X: readonly (readonly number[])[], s: { mean: number[]; sd: number[] }): number[][] {
  return X.map((row) => [1, ...row.map((v, j) => (v - at(s.mean, j)) / at(s.sd, j))]);
}

/** Ridge least squares: minimises Σ(y − Zw)² + λ Σ_{j≥1} w_j². */
export function fitRidge(X: readonly (readonly number[])[], y: readonly number[], lambda = RIDGE): Fitted {
  const s = standardiser(X);
  const Z = design(X, s);
  const p = at(Z, 0).length;
  const A = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => Z.reduce((acc, z) => acc + at(z, i) * at(z, j), 0) + (i === j && i > 0 ? lambda : 0)));
  const b = Array.from({ length: p }, (_, i) => Z.reduce((acc, z, k) => acc + at(z, i) * at(y, k), 0));
  return { ...s, w: solve(A, b) };
}

/**
 * Ridge logistic regression (labels 0/1) by Newton's method: minimises the negative log-likelihood
 * + (λ/2) Σ_{j≥1} w_j². The penalty keeps the fit finite on separable data; 50 Newton steps or a
 * step below 1e-10.
 */
export function fitLogistic(X: readonly (readonly number[])[], y: readonly number[], lambda = RIDGE): Fitted {
  const s = standardiser(X);
  const Z = design(X, s);
  const p = at(Z, 0).length;
  const w = Array<number>(p).fill(0);
  for (let it = 0; it < 50; it++) {
    const grad = w.map((v, j) => (j > 0 ? lambda * v : 0));
    const H = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => (i === j && i > 0 ? lambda : 0)));
    // A tiny ridge on the intercept keeps H invertible when every label is the same.
    at(H, 0)[0] = at(at(H, 0), 0) + 1e-9;
    Z.forEach((z, k) => {
      const eta = z.reduce((acc, v, j) => acc + v * at(w, j), 0);
      const mu = 1 / (1 + Math.exp(-eta));
      const r = mu * (1 - mu);
      for (let i = 0; i < p; i++) {
        grad[i] = at(grad, i) + (mu - at(y, k)) * at(z, i);
        for (let j = 0; j < p; j++) at(H, i)[j] = at(at(H, i), j) + r * at(z, i) * at(z, j);
      }
    });
    const step = solve(H, grad);
    let big = 0;
    step.forEach((d, j) => {
      w[j] = at(w, j) - d;
      big = Math.max(big, Math.abs(d));
    });
    if (big < 1e-10) break;
  }
  return { ...s, w };
}

/**
 * The ranking score of a feature row: Σ (w_j / sd_j) x_j, the fitted linear combination without the
 * intercept and the centring. AUC and τ only use the order of the scores, and held-out scores come
 * from different fits: a fold's intercept (which follows its training class balance) would shift a
 * whole left-out configuration up or down and drag a useless predictor below AUC 0.5.
 */
export function score(f: Fitted, row: readonly number[]): number {
  return row.reduce((acc, v, j) => acc + (at(f.w, j + 1) / at(f.sd, j)) * v, 0);
}

/**
 * Leave-one-group-out predictions: for each group, fit on every other group's rows and score the
 * group's rows. `fit` gets the training rows; returns one score per row, in row order.
 */
export function leaveOneGroupOut(
  X: readonly (readonly number[])[],
  y: readonly number[],
  groups: readonly string[],
  fit: (X: readonly (readonly number[])[], y: readonly number[]) => Fitted,
): number[] {
  const out = Array<number>(X.length).fill(NaN);
  for (const g of new Set(groups)) {
    const train = X.map((_, i) => i).filter((i) => groups[i] !== g);
    const f = fit(train.map((i) => at(X, i)), train.map((i) => at(y, i)));
    X.forEach((row, i) => {
      if (groups[i] === g) out[i] = score(f, row);
    });
  }
  return out;
}

/**
 * Area under the ROC curve of `scores` for the 0/1 `labels`: the Mann–Whitney U of the positives'
 * scores against the negatives' divided by n₁n₂ (ties count ½). NaN when a class is empty.
 */
export function auc(scores: readonly number[], labels: readonly number[]): number {
  const n1 = labels.filter((l) => l === 1).length;
  const n2 = labels.length - n1;
  if (n1 === 0 || n2 === 0) return NaN;
  // U₁ = R₁ − n₁(n₁+1)/2 with mid-ranks of the pooled scores (as mannWhitneyU's statistic).
  const { ranks } = rankAverage(scores);
  const r1 = ranks.reduce((acc, r, i) => acc + (labels[i] === 1 ? r : 0), 0);
  return (r1 - (n1 * (n1 + 1)) / 2) / (n1 * n2);
}

/**
 * Leave-pair-of-groups-out scores (Airola et al. 2011, "An experimental comparison of
 * cross-validation techniques for estimating the area under the ROC curve"): pooling
 * leave-one-out scores of different fits biases AUC and τ of a useless predictor well below 0.5 / 0
 * (each left-out point pulls its own fit away from itself). Here every pair of groups (g, h) is
 * left out together and both are scored by the one model fitted on the rest, so a pair of runs is
 * always compared by a model that saw neither; runs of one group are compared by the model that
 * left that group out. Returns P with P[i][j] = score of run i by the model that left out the
 * groups of i and j (P[i][i] = the leave-one-group-out score).
 */
export function leavePairOut(
  X: readonly (readonly number[])[],
  y: readonly number[],
  groups: readonly string[],
  fit: (X: readonly (readonly number[])[], y: readonly number[]) => Fitted,
): number[][] {
  const n = X.length;
  const names = [...new Set(groups)];
  const rowsOf = new Map(names.map((g) => [g, X.map((_, i) => i).filter((i) => groups[i] === g)]));
  const P = Array.from({ length: n }, () => Array<number>(n).fill(NaN));
  for (let a = 0; a < names.length; a++) {
    for (let b = a; b < names.length; b++) {
      const out = new Set([names[a], names[b]]);
      const train = X.map((_, i) => i).filter((i) => !out.has(groups[i]));
      const f = fit(train.map((i) => at(X, i)), train.map((i) => at(y, i)));
      const A = rowsOf.get(at(names, a)) ?? [];
      const B = rowsOf.get(at(names, b)) ?? [];
      for (const i of A) for (const j of B) {
        at(P, i)[j] = score(f, at(X, i));
        at(P, j)[i] = score(f, at(X, j));
      }
    }
  }
  return P;
}

/**
 * AUC and Kendall τ-b from pairwise comparisons over the runs `idx` (a resample may repeat runs):
 * a pair of positions (a, b) compares runs i = idx[a], j = idx[b] by Δs = P[i][j] − P[j][i].
 * AUC = mean over (positive, negative) pairs of [Δs > 0] + ½[Δs = 0]; τ-b = S/√((n₀ − n₁)(n₀ − n₂))
 * with S = Σ sign(Δs)·sign(Δy), n₁ / n₂ the pairs tied in s / in y. With P[i][j] = s_i for every
 * j (one score vector) they are the usual AUC (Mann–Whitney U / n₁n₂) and τ-b. NaN when undefined.
 */
export function pairwiseMetric(P: readonly (readonly number[])[], y: readonly number[], idx: ArrayLike<number>, metric: 'auc' | 'tau'): number {
  const m = idx.length;
  let s = 0;
  let pairs = 0;
  let tiesS = 0;
  let tiesY = 0;
  for (let a = 0; a < m; a++) {
    const i = at(idx, a);
    for (let b = a + 1; b < m; b++) {
      const j = at(idx, b);
      const ds = i === j ? 0 : at(at(P, i), j) - at(at(P, j), i);
      const dy = at(y, i) - at(y, j);
      if (metric === 'auc') {
        if (dy === 0) continue;
        pairs++;
        const sign = dy > 0 ? 1 : -1;
        s += ds * sign > 0 ? 1 : ds === 0 ? 0.5 : 0;
      } else {
        pairs++;
        s += Math.sign(ds) * Math.sign(dy);
        if (ds === 0) tiesS++;
        if (dy === 0) tiesY++;
      }
    }
  }
  if (metric === 'auc') return pairs === 0 ? NaN : s / pairs;
  const den = (pairs - tiesS) * (pairs - tiesY);
  return den > 0 ? Math.min(1, Math.max(-1, s / Math.sqrt(den))) : NaN;
}
