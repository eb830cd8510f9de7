/**
 * Mann-Whitney U test for two independent samples, following `scipy.stats.mannwhitneyu` of
 * SciPy 1.10 (`_mannwhitneyu.py`).
 *
 * Ranks: average ranks of the pooled sample x ∪ y; R₁ = rank sum of x;
 *   U₁ = R₁ - n₁(n₁+1)/2,  U₂ = n₁n₂ - U₁   (U₁ = #{x > y} + ½ #{x = y}).
 * The reported statistic is U₁ (as SciPy). The p-value uses U = U₁ ('greater': x tends to be
 * larger), U = U₂ ('less'), U = max(U₁, U₂) and a factor 2 ('two-sided').
 *
 * Mode that runs (`method`):
 * - 'exact': p = P(U' ≥ U) under the null permutation distribution of U' (no ties). The pmf is
 *   the coefficient list of the Gaussian binomial [n₁+n₂ choose m]_q, m = min(n₁, n₂)
 *   (Mann & Whitney 1947; SciPy's Theorem 2.5 recurrence gives the same counts), built as
 *   Π_{i=1..m} (1 - q^{k+i}) / (1 - q^i), k = max(n₁, n₂), and divided by C(n₁+n₂, m).
 *   Ties make this distribution wrong, so 'exact' with ties throws (SciPy 1.10 silently truncates U).
 * - 'asymptotic': z = (U - n₁n₂/2 - ½·[continuity]) / σ,
 *     σ² = n₁n₂/12 · [(n+1) - Σ(t³-t)/(n(n-1))],  n = n₁ + n₂, t = tie-group sizes of the pooled ranks,
 *   p = f·sf(z) (f = 2 two-sided, else 1), clipped to [0, 1].
 * - 'auto' (default, SciPy 1.10 rule): 'exact' iff min(n₁, n₂) ≤ 8 and the pooled sample has no
 *   ties; otherwise 'asymptotic'.
 *
 * Effect sizes:
 * - common-language effect size CL = U₁/(n₁n₂) = P(X > Y) + ½ P(X = Y) (McGraw & Wong 1992),
 * - rank-biserial correlation r = 2·CL - 1 = (U₁ - U₂)/(n₁n₂) (Wendt 1972; Kerby 2014),
 *   positive when x tends to exceed y.
 */

import { Alternative, StatsError, checkAlternative, checkSample } from './errors';
import { rankAverage, tieTerm } from './ranks';
import { normSf } from './special';
import { at, atF64 } from '../../shared/checked';

export type MannWhitneyMethod = 'auto' | 'exact' | 'asymptotic';

export interface MannWhitneyOptions {
  /** Default 'two-sided'. 'greater': x tends to be larger than y. */
  readonly alternative?: Alternative;
  /** Continuity correction in the asymptotic method. Default true (as SciPy). */
  readonly useContinuity?: boolean;
  /** Default 'auto'. */
  readonly method?: MannWhitneyMethod;
}

export interface MannWhitneyResult {
  /** U₁ = U statistic of x (SciPy's `statistic`). */
  readonly statistic: number;
  readonly u1: number;
  readonly u2: number;
  readonly pValue: number;
  readonly method: 'exact' | 'asymptotic';
  readonly alternative: Alternative;
  /** Standardised statistic for 'asymptotic'; null for 'exact'. */
  readonly z: number | null;
  readonly n1: number;
  readonly n2: number;
  /** U₁/(n₁n₂) = P(X > Y) + ½P(X = Y). */
  readonly commonLanguage: number;
  /** (U₁ - U₂)/(n₁n₂) = 2·CL - 1. */
  readonly rankBiserial: number;
}

/**
 * Null pmf of U for sample sizes n1, n2 without ties: index u = 0..n1·n2.
 * Gaussian binomial coefficients via Π (1 - q^{k+i})/(1 - q^i): multiplying by (1 - q^{k+i}) is
 * new[u] = old[u] - old[u-k-i]; dividing by (1 - q^i) is the running sum new[u] += new[u-i].
 * Every intermediate polynomial is itself a Gaussian binomial (non-negative integer coefficients).
 */
export function mannWhitneyExactPmf(n1: number, n2: number): Float64Array {
  const m = Math.min(n1, n2);
  const k = Math.max(n1, n2);
  const deg = m * k;
  let c = new Float64Array(deg + 1);
  c[0] = 1;
  for (let i = 1; i <= m; i++) {
    const next = c.slice();
    const shift = k + i;
    for (let u = deg; u >= shift; u--) next[u] = atF64(next, u) - atF64(c, u - shift);
    for (let u = i; u <= deg; u++) next[u] = atF64(next, u) + atF64(next, u - i);
    c = next;
  }
  let total = 0;
  for (let u = 0; u <= deg; u++) total += atF64(c, u);
  for (let u = 0; u <= deg; u++) c[u] = atF64(c, u) / total;
  return c;
}

export function mannWhitneyU(x: readonly number[], y: readonly number[], options: MannWhitneyOptions = {}): MannWhitneyResult {
  const fn = 'mannWhitneyU';
  const xs = checkSample(fn, 'x', x, 1);
  const ys = checkSample(fn, 'y', y, 1);
  const alternative = checkAlternative(fn, options.alternative ?? 'two-sided');
  const useContinuity = options.useContinuity ?? true;
  if (typeof useContinuity !== 'boolean') throw new StatsError('invalid-argument', `${fn}: useContinuity must be a boolean`);
  const requested = options.method ?? 'auto';
  if (requested !== 'auto' && requested !== 'exact' && requested !== 'asymptotic') {
    throw new StatsError('invalid-argument', `${fn}: method must be 'auto', 'exact' or 'asymptotic', got ${String(requested)}`);
  }
  const n1 = xs.length;
  const n2 = ys.length;
  const { ranks, tieGroups } = rankAverage(xs.concat(ys));
  const hasTies = tieGroups.length > 0;

  let method: 'exact' | 'asymptotic';
  if (requested === 'auto') method = (n1 <= 8 || n2 <= 8) && !hasTies ? 'exact' : 'asymptotic';
  else method = requested;
  if (method === 'exact' && hasTies) {
    throw new StatsError('invalid-argument', `${fn}: ties in the pooled sample; the exact distribution needs none (use 'auto' or 'asymptotic')`);
  }
  if (method === 'exact' && Math.min(n1, n2) * Math.max(n1, n2) > 5e7) {
    throw new StatsError('invalid-argument', `${fn}: n1·n2 = ${n1 * n2} is too large for the exact method`);
  }

  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += at(ranks, i);
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const u = alternative === 'greater' ? u1 : alternative === 'less' ? u2 : Math.max(u1, u2);
  const f = alternative === 'two-sided' ? 2 : 1;

  let p: number;
  let z: number | null = null;
  if (method === 'exact') {
    // sf(U) = P(U' ≥ U) = cdf(n1·n2 - U) by symmetry (as SciPy).
    const pmf = mannWhitneyExactPmf(n1, n2);
    let s = 0;
    for (let k = 0; k <= n1 * n2 - u; k++) s += atF64(pmf, k);
    p = s;
  } else {
    const n = n1 + n2;
    const s = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm(tieGroups) / (n * (n - 1))));
    const numerator = u - (n1 * n2) / 2 - (useContinuity ? 0.5 : 0);
    z = numerator / s;
    if (!Number.isFinite(z)) {
      throw new StatsError('degenerate', `${fn}: all ${n} pooled values are equal; the test is undefined`);
    }
    p = normSf(z);
  }
  const pValue = Math.min(1, Math.max(0, p * f));
  const commonLanguage = u1 / (n1 * n2);
  return {
    statistic: u1,
    u1,
    u2,
    pValue,
    method,
    alternative,
    z,
    n1,
    n2,
    commonLanguage,
    rankBiserial: 2 * commonLanguage - 1,
  };
}
