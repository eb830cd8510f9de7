/**
 * Kendall's τ-b rank correlation with its p-value, matching `scipy.stats.kendalltau` (SciPy 1.10,
 * variant='b', nan_policy='raise'-like validation).
 *
 * Counts (n observations, n₀ = n(n-1)/2 pairs):
 *   n_c, n_d  concordant / discordant pairs,
 *   n₁ = Σ tᵢ(tᵢ-1)/2 over tie groups of x,  n₂ = Σ uⱼ(uⱼ-1)/2 over tie groups of y,
 *   n₃ = pairs tied in both x and y.
 * Then (Kendall 1970; SciPy's `con_minus_dis`)
 *   S = n_c - n_d = n₀ - n₁ - n₂ + n₃ - 2 n_d,
 *   τ_b = S / √((n₀ - n₁)(n₀ - n₂)), clipped to [-1, 1].
 *
 * p-value:
 * - 'exact' (only without ties): the permutation distribution of the number of concordant pairs,
 *   i.e. of inversions of a random permutation (Mahonian numbers), computed by SciPy's recurrence
 *   (`_kendall_p_exact`, Kendall 1970 ch. 4).
 * - 'asymptotic': S is approximately normal with tie-corrected variance (Kendall 1970, eq. 4.4)
 *     Var S = [n(n-1)(2n+5) - Σt(t-1)(2t+5) - Σu(u-1)(2u+5)]/18
 *           + [Σt(t-1)(t-2)][Σu(u-1)(u-2)] / [9n(n-1)(n-2)]
 *           + [Σt(t-1)][Σu(u-1)] / [2n(n-1)],
 *   z = S/√Var S (no continuity correction, as SciPy).
 * - 'auto' (default, SciPy 1.10 rule): exact iff there are no ties in x or y and
 *   (n ≤ 33 or min(n_d, n₀ - n_d) ≤ 1); otherwise asymptotic.
 */

import { Alternative, StatsError, checkAlternative, checkPaired, checkSample } from './errors';
import { normCdf, normSf } from './special';
import { at, atF64 } from '../checked';

export type KendallMethod = 'auto' | 'exact' | 'asymptotic';

export interface KendallOptions {
  /** Default 'auto'. */
  readonly method?: KendallMethod;
  /** Default 'two-sided'; 'greater' tests τ > 0, 'less' tests τ < 0. */
  readonly alternative?: Alternative;
}

export interface KendallResult {
  /** τ-b in [-1, 1]. */
  readonly tau: number;
  readonly pValue: number;
  /** Which p-value computation actually ran. */
  readonly method: 'exact' | 'asymptotic';
  readonly alternative: Alternative;
  /** S / √Var S for the asymptotic method; null for exact. */
  readonly z: number | null;
  readonly n: number;
  readonly concordant: number;
  readonly discordant: number;
  /** Pairs tied in x (n₁), in y (n₂), in both (n₃). */
  readonly tiedPairsX: number;
  readonly tiedPairsY: number;
  readonly tiedPairsXY: number;
}

interface TieStats {
  /** Σ t(t-1)/2 */
  readonly pairs: number;
  /** Σ t(t-1)(t-2) */
  readonly v0: number;
  /** Σ t(t-1)(2t+5) */
  readonly v1: number;
}

function tieStats(sortedValues: readonly number[]): TieStats {
  let pairs = 0;
  let v0 = 0;
  let v1 = 0;
  let i = 0;
  while (i < sortedValues.length) {
    let j = i + 1;
    while (j < sortedValues.length && sortedValues[j] === sortedValues[i]) j++;
    const t = j - i;
    if (t > 1) {
      pairs += (t * (t - 1)) / 2;
      v0 += t * (t - 1) * (t - 2);
      v1 += t * (t - 1) * (2 * t + 5);
    }
    i = j;
  }
  return { pairs, v0, v1 };
}

/** Number of pairs i < j with seq[i] > seq[j] (strict), by merge sort in O(n log n). */
function countInversions(seq: number[]): number {
  const n = seq.length;
  let a = seq.slice();
  let b = new Array<number>(n);
  let inversions = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        // "<=": equal values are not inversions (ties in y within equal x are not discordant).
        if (at(a, i) <= at(a, j)) b[k++] = at(a, i++);
        else {
          inversions += mid - i;
          b[k++] = at(a, j++);
        }
      }
      while (i < mid) b[k++] = at(a, i++);
      while (j < hi) b[k++] = at(a, j++);
    }
    const tmp = a;
    a = b;
    b = tmp;
  }
  return inversions;
}

let factorialCache: number[] | null = null;
/** n! as the correctly rounded double (exact BigInt product, then rounded), n ≤ 170. */
function factorial(n: number): number {
  if (factorialCache === null) {
    factorialCache = [1];
    let f = 1n;
    for (let i = 1; i <= 170; i++) {
      f *= BigInt(i);
      factorialCache.push(Number(f));
    }
  }
  return at(factorialCache, n);
}

/**
 * Exact p-value for c concordant pairs among n untied observations — a line-by-line port of SciPy
 * 1.10 `scipy.stats._mstats_basic._kendall_p_exact`, including its symmetric-tail trick:
 * the CDF is always computed in the left tail and the one-sided p-value on the "wrong" side is
 * 1 - P(left tail) + P(X = c).
 */
export function kendallExactPValue(n: number, cIn: number, alternative: Alternative): number {
  const half = Math.floor((n * (n - 1)) / 2);
  const inRightTail = cIn >= half - cIn;
  const alternativeGreater = alternative === 'greater';
  const c = Math.min(cIn, half - cIn);
  let prob: number;
  let pMassAtC = 0;
  if (n <= 0) throw new StatsError('too-few', `kendallExactPValue: n (${n}) must be positive`);
  if (c < 0 || 4 * c > n * (n - 1)) {
    throw new StatsError('invalid-argument', `kendallExactPValue: c (${c}) must satisfy 0 <= 4c <= n(n-1) = ${n * (n - 1)}`);
  }
  if (n === 1) {
    prob = 1;
    pMassAtC = 1;
  } else if (n === 2) {
    prob = 1;
    pMassAtC = 0.5;
  } else if (c === 0) {
    prob = n < 171 ? 2 / factorial(n) : 0;
    pMassAtC = prob / 2;
  } else if (c === 1) {
    prob = n < 172 ? 2 / factorial(n - 1) : 0;
    pMassAtC = n < 171 ? (n - 1) / factorial(n) : 0;
  } else if (4 * c === n * (n - 1) && alternative === 'two-sided') {
    prob = 1;
  } else {
    // cur[k] = number of permutations of j elements with k inversions (Mahonian numbers), k ≤ c:
    // I_j(k) = Σ_{i=0}^{j-1} I_{j-1}(k-i) = C(k) - C(k-j), C = cumulative sum of I_{j-1}.
    // For n ≥ 171 n! overflows, so SciPy divides by j at every step (probabilities instead of counts).
    const big = n >= 171;
    let cur = new Float64Array(c + 1);
    cur[0] = 1;
    cur[1] = 1;
    for (let j = 3; j <= n; j++) {
      const cum = new Float64Array(c + 1);
      let s = 0;
      for (let k = 0; k <= c; k++) {
        s += atF64(cur, k);
        cum[k] = big ? s / j : s;
      }
      if (j <= c) {
        const next = cum.slice();
        for (let k = j; k <= c; k++) next[k] = atF64(next, k) - atF64(cum, k - j);
        cur = next;
      } else {
        cur = cum;
      }
    }
    let total = 0;
    for (let k = 0; k <= c; k++) total += atF64(cur, k);
    if (!big) {
      prob = (2 * total) / factorial(n);
      pMassAtC = atF64(cur, c) / factorial(n);
    } else {
      prob = total;
      pMassAtC = atF64(cur, c) / 2;
    }
  }
  if (alternative !== 'two-sided') {
    if (inRightTail === alternativeGreater) prob /= 2;
    else prob = 1 - prob / 2 + pMassAtC;
  }
  return Math.min(1, Math.max(0, prob));
}

/** Kendall τ-b and its p-value (see the module comment for formulas and the 'auto' rule). */
export function kendallTau(x: readonly number[], y: readonly number[], options: KendallOptions = {}): KendallResult {
  const fn = 'kendallTau';
  const xs = checkSample(fn, 'x', x, 0);
  const ys = checkSample(fn, 'y', y, 0);
  checkPaired(fn, xs, ys);
  if (xs.length < 2) throw new StatsError('too-few', `${fn}: need at least 2 pairs, got ${xs.length}`);
  const alternative = checkAlternative(fn, options.alternative ?? 'two-sided');
  const requested = options.method ?? 'auto';
  if (requested !== 'auto' && requested !== 'exact' && requested !== 'asymptotic') {
    throw new StatsError('invalid-argument', `${fn}: method must be 'auto', 'exact' or 'asymptotic', got ${String(requested)}`);
  }
  const n = xs.length;

  // Sort by (x, y); discordant pairs are then the strict inversions of the y sequence.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => at(xs, i) - at(xs, j) || at(ys, i) - at(ys, j));
  const ySeq = order.map((i) => at(ys, i));
  const dis = countInversions(ySeq);

  // Joint ties: runs of identical (x, y) in the sorted order.
  let ntie = 0;
  let run = 1;
  for (let k = 1; k <= n; k++) {
    if (k < n && at(xs, at(order, k)) === at(xs, at(order, k - 1)) && at(ys, at(order, k)) === at(ys, at(order, k - 1))) run++;
    else {
      ntie += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  const xt = tieStats(order.map((i) => at(xs, i)));
  const yt = tieStats(ySeq.slice().sort((a, b) => a - b));
  const tot = (n * (n - 1)) / 2;

  if (xt.pairs === tot || yt.pairs === tot) {
    throw new StatsError('degenerate', `${fn}: ${xt.pairs === tot ? 'x' : 'y'} is constant; τ is undefined`);
  }

  const conMinusDis = tot - xt.pairs - yt.pairs + ntie - 2 * dis;
  let tau = conMinusDis / Math.sqrt(tot - xt.pairs) / Math.sqrt(tot - yt.pairs);
  tau = Math.min(1, Math.max(-1, tau));

  const hasTies = xt.pairs !== 0 || yt.pairs !== 0;
  if (requested === 'exact' && hasTies) {
    throw new StatsError('invalid-argument', `${fn}: ties found, the exact method cannot be used (use 'auto' or 'asymptotic')`);
  }
  let method: 'exact' | 'asymptotic';
  if (requested === 'auto') {
    method = !hasTies && (n <= 33 || Math.min(dis, tot - dis) <= 1) ? 'exact' : 'asymptotic';
  } else {
    method = requested;
  }

  let pValue: number;
  let z: number | null = null;
  if (method === 'exact') {
    // The recurrence costs O(n · n²/4); SciPy has no cap, we refuse instead of hanging for minutes.
    if (n > 1000) throw new StatsError('invalid-argument', `${fn}: the exact method is limited to n ≤ 1000 (got ${n}); use 'asymptotic'`);
    pValue = kendallExactPValue(n, tot - dis, alternative);
  } else {
    if (n < 3) throw new StatsError('too-few', `${fn}: the asymptotic method needs at least 3 pairs, got ${n}`);
    const m = n * (n - 1);
    const variance = (m * (2 * n + 5) - xt.v1 - yt.v1) / 18 + (2 * xt.pairs * yt.pairs) / m + (xt.v0 * yt.v0) / (9 * m * (n - 2));
    z = conMinusDis / Math.sqrt(variance);
    pValue = alternative === 'less' ? normCdf(z) : alternative === 'greater' ? normSf(z) : 2 * normSf(Math.abs(z));
  }

  return {
    tau,
    pValue,
    method,
    alternative,
    z,
    n,
    concordant: tot - xt.pairs - yt.pairs + ntie - dis,
    discordant: dis,
    tiedPairsX: xt.pairs,
    tiedPairsY: yt.pairs,
    tiedPairsXY: ntie,
  };
}
