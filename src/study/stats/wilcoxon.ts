/**
 * Wilcoxon signed-rank test on paired samples (differences d = x - y), following
 * `scipy.stats.wilcoxon` of SciPy 1.10 (`_morestats.py`), with the deviations listed below.
 *
 * Ranks: r = average ranks of |d| over the differences kept by `zeroMethod`:
 * - 'wilcox' (default, SciPy default): zero differences are dropped before ranking (Wilcoxon 1945).
 * - 'pratt': zeros are ranked with the others, then their ranks are dropped (Pratt 1959);
 *   the normal approximation is adjusted (Cureton 1967).
 * - 'zsplit': zeros are ranked, and their rank sum is split equally between R+ and R-.
 * R+ = Σ_{d>0} r (+ ½ Σ_{d=0} r for zsplit), R- likewise for d < 0.
 *
 * Statistic (as SciPy): two-sided T = min(R+, R-); one-sided T = R+.
 *
 * Mode that runs (`method`):
 * - 'exact': the null distribution of R+ given the ranks actually observed: each non-zero
 *   difference's rank counts for R+ or for R- with probability ½ independently (permutation
 *   distribution of the signs). Without ties or zeros this is SciPy's `_get_wilcoxon_distr`
 *   (ranks 1..n). With ties the ranks are the mid-ranks, counted in half-units so the sums stay
 *   integers; zeros follow `zeroMethod`: 'wilcox' drops them before ranking, 'pratt' ranks them and
 *   then drops their ranks, 'zsplit' adds half their rank sum to R+ in every sign assignment (a
 *   constant shift). Two-sided p = min(1, 2·min(P(R+ ≤ r), P(R+ ≥ r))); 'greater': P(R+ ≥ r);
 *   'less': P(R+ ≤ r). Checked against a brute-force enumeration of the 2ⁿ sign assignments.
 * - 'approx': normal approximation with n = number of ranked differences,
 *     μ = n(n+1)/4,  σ² = [n(n+1)(2n+1) - ½ Σ(t³-t)] / 24   (t = sizes of tie groups among r),
 *   for 'pratt' with n₀ zeros: μ -= n₀(n₀+1)/4, 24σ² -= n₀(n₀+1)(2n₀+1) (ties counted among the
 *   non-zero ranks only),
 *     z = (T - μ - c)/σ,  c = 0 unless `correction`: c = ½·sign(T-μ) two-sided, +½ 'greater', -½ 'less',
 *   p = 2·sf(|z|) two-sided, sf(z) 'greater', cdf(z) 'less'.
 * - 'auto' (default): 'exact' iff len(d) ≤ `exactMaxN` (default 50, SciPy 1.10's threshold, counted
 *   before zeros are dropped) and there are no zero differences and no ties among |d|;
 *   otherwise 'approx'.
 *
 * Deviation from SciPy 1.10: with ties among |d| (but no zeros) and n ≤ 50, SciPy 1.10 'auto'
 * stays 'exact' and truncates the mid-rank sum R+ to an integer before looking it up in the
 * no-ties distribution (fixed in later SciPy). 'auto' uses the tie-corrected normal approximation
 * instead (so reports are unchanged); 'exact' asked for explicitly uses the exact distribution over
 * the tied ranks above. The reference tests call SciPy with mode='approx' for tied inputs.
 *
 * Effect size: matched-pairs rank-biserial correlation (Kerby 2014)
 *   r_rb = (R+ - R-) / (R+ + R-) ∈ [-1, 1]  (positive: x tends to exceed y).
 */

import { Alternative, StatsError, checkAlternative, checkPaired, checkSample } from './errors';
import { rankAverage, tieTerm } from './ranks';
import { normCdf, normSf } from './special';
import { at, atF64 } from '../../shared/checked';

export type WilcoxonZeroMethod = 'wilcox' | 'pratt' | 'zsplit';
export type WilcoxonMethod = 'auto' | 'exact' | 'approx';

export interface WilcoxonOptions {
  /** Default 'two-sided'. 'greater': the differences x - y tend to be positive. */
  readonly alternative?: Alternative;
  /** Default 'wilcox'. */
  readonly zeroMethod?: WilcoxonZeroMethod;
  /** Continuity correction in the normal approximation. Default false (as SciPy). */
  readonly correction?: boolean;
  /** Default 'auto'. */
  readonly method?: WilcoxonMethod;
  /**
   * Largest len(d) for which 'auto' uses the exact distribution. Default 50 (SciPy 1.10);
   * docs/method.md §4 asks for 25. Must be an integer in [0, 1000].
   */
  readonly exactMaxN?: number;
}

export interface WilcoxonResult {
  /** T: min(R+, R-) for two-sided, R+ for one-sided (SciPy's `statistic`). */
  readonly statistic: number;
  readonly pValue: number;
  /** Which computation actually ran. */
  readonly method: 'exact' | 'approx';
  readonly alternative: Alternative;
  readonly zeroMethod: WilcoxonZeroMethod;
  /** The standardised statistic for 'approx'; null for 'exact'. */
  readonly z: number | null;
  readonly rPlus: number;
  readonly rMinus: number;
  /** Number of pairs given, number of zero differences, number of ranks used (count). */
  readonly nPairs: number;
  readonly nZero: number;
  readonly nRanked: number;
  /** Matched-pairs rank-biserial correlation (R+ - R-)/(R+ + R-); NaN if R+ + R- = 0. */
  readonly rankBiserial: number;
}

/**
 * pmf of R+ for n untied non-zero differences, index r = 0..n(n+1)/2 (SciPy `_get_wilcoxon_distr`):
 * adding rank k either leaves R+ unchanged or adds k, each with probability ½.
 */
export function wilcoxonExactPmf(n: number): Float64Array {
  let c = new Float64Array([1]);
  for (let k = 1; k <= n; k++) {
    const next = new Float64Array((k * (k + 1)) / 2 + 1);
    const m = c.length;
    for (let i = 0; i < m; i++) next[i] = atF64(c, i) * 0.5;
    for (let i = 0; i < m; i++) next[next.length - m + i] = atF64(next, next.length - m + i) + atF64(c, i) * 0.5;
    c = next;
  }
  return c;
}

/**
 * Null pmf of S = Σ hᵢ·Bᵢ with Bᵢ independent fair coin flips, for integer weights hᵢ ≥ 1 (the
 * ranks in half-units, ties allowed): index s = 0..Σhᵢ. Each weight either adds nothing or hᵢ,
 * with probability ½ (the same recurrence as `wilcoxonExactPmf`, over the actual ranks).
 */
export function signedRankNullPmf(weights: readonly number[]): Float64Array {
  const total = weights.reduce((a, b) => a + b, 0);
  const c = new Float64Array(total + 1);
  c[0] = 1;
  let reach = 0;
  for (const w of weights) {
    reach += w;
    // In place, from the top down: c[i] becomes ½·c[i] + ½·c[i − w] with the old c[i − w].
    for (let i = reach; i >= 0; i--) c[i] = 0.5 * atF64(c, i) + (i >= w ? 0.5 * atF64(c, i - w) : 0);
  }
  return c;
}

export function wilcoxon(x: readonly number[], y: readonly number[] | null, options: WilcoxonOptions = {}): WilcoxonResult {
  const fn = 'wilcoxon';
  const xs = checkSample(fn, 'x', x, 1);
  let d: number[];
  if (y === null) {
    d = xs.slice();
  } else {
    const ys = checkSample(fn, 'y', y, 1);
    checkPaired(fn, xs, ys);
    d = xs.map((v, i) => v - at(ys, i));
  }
  const alternative = checkAlternative(fn, options.alternative ?? 'two-sided');
  const zeroMethod = options.zeroMethod ?? 'wilcox';
  if (zeroMethod !== 'wilcox' && zeroMethod !== 'pratt' && zeroMethod !== 'zsplit') {
    throw new StatsError('invalid-argument', `${fn}: zeroMethod must be 'wilcox', 'pratt' or 'zsplit', got ${String(zeroMethod)}`);
  }
  const requested = options.method ?? 'auto';
  if (requested !== 'auto' && requested !== 'exact' && requested !== 'approx') {
    throw new StatsError('invalid-argument', `${fn}: method must be 'auto', 'exact' or 'approx', got ${String(requested)}`);
  }
  const exactMaxN = options.exactMaxN ?? 50;
  if (!Number.isInteger(exactMaxN) || exactMaxN < 0 || exactMaxN > 1000) {
    throw new StatsError('invalid-argument', `${fn}: exactMaxN must be an integer in [0, 1000], got ${exactMaxN}`);
  }
  const correction = options.correction ?? false;

  const nPairs = d.length;
  const nZero = d.filter((v) => v === 0).length;
  if (nZero === nPairs && zeroMethod !== 'zsplit') {
    throw new StatsError('degenerate', `${fn}: all ${nPairs} differences are zero; zeroMethod '${zeroMethod}' cannot be used`);
  }
  const absAll = d.map(Math.abs);
  const hasTies = rankAverage(absAll.filter((v) => v !== 0)).tieGroups.length > 0;

  let method: 'exact' | 'approx';
  if (requested === 'exact') {
    // The pmf has n(n+1) + 1 entries (half-units) and costs O(n³); cap it like exactMaxN.
    if (nPairs > 1000) throw new StatsError('invalid-argument', `${fn}: the exact method is limited to n ≤ 1000 (got ${nPairs}); use 'approx'`);
    method = 'exact';
  } else if (requested === 'approx') {
    method = 'approx';
  } else {
    method = nPairs <= exactMaxN && nZero === 0 && !hasTies ? 'exact' : 'approx';
  }

  // With 'wilcox' the zeros are dropped before ranking (both modes).
  if (zeroMethod === 'wilcox') d = d.filter((v) => v !== 0);
  const count = d.length;
  const { ranks } = rankAverage(d.map(Math.abs));
  let rPlus = 0;
  let rMinus = 0;
  let rZero = 0;
  for (let i = 0; i < count; i++) {
    if (at(d, i) > 0) rPlus += at(ranks, i);
    else if (at(d, i) < 0) rMinus += at(ranks, i);
    else rZero += at(ranks, i);
  }
  if (zeroMethod === 'zsplit') {
    rPlus += rZero / 2;
    rMinus += rZero / 2;
  }
  const statistic = alternative === 'two-sided' ? Math.min(rPlus, rMinus) : rPlus;
  const rankBiserial = rPlus + rMinus > 0 ? (rPlus - rMinus) / (rPlus + rMinus) : NaN;

  let pValue: number;
  let z: number | null = null;
  if (method === 'approx') {
    let mn = (count * (count + 1)) * 0.25;
    let se = count * (count + 1) * (2 * count + 1);
    let tieRanks = ranks;
    if (zeroMethod === 'pratt') {
      tieRanks = ranks.filter((_, i) => d[i] !== 0);
      mn -= nZero * (nZero + 1) * 0.25;
      se -= nZero * (nZero + 1) * (2 * nZero + 1);
    }
    se -= 0.5 * tieTerm(rankAverage(tieRanks).tieGroups);
    se = Math.sqrt(se / 24);
    let cc = 0;
    if (correction) {
      if (alternative === 'two-sided') cc = 0.5 * Math.sign(statistic - mn);
      else cc = alternative === 'less' ? -0.5 : 0.5;
    }
    z = (statistic - mn - cc) / se;
    if (!Number.isFinite(z)) {
      throw new StatsError('degenerate', `${fn}: zero variance in the normal approximation (all ranked differences are zero)`);
    }
    pValue = alternative === 'two-sided' ? 2 * normSf(Math.abs(z)) : alternative === 'greater' ? normSf(z) : normCdf(z);
  } else {
    // Half-unit ranks of the differences whose sign is random under H0 (the non-zero ones).
    const halfRanks: number[] = [];
    let observed = 0; // Σ half-ranks of the positive differences
    for (let i = 0; i < count; i++) {
      if (d[i] === 0) continue;
      const h = Math.round(2 * at(ranks, i));
      halfRanks.push(h);
      if (at(d, i) > 0) observed += h;
    }
    const pmf = signedRankNullPmf(halfRanks);
    const tail = (lo: number, hi: number): number => {
      let s = 0;
      for (let k = Math.max(0, lo); k <= Math.min(pmf.length - 1, hi); k++) s += atF64(pmf, k);
      return s;
    };
    const last = pmf.length - 1;
    // 'zsplit' shifts R+ by the same constant in every assignment: compare without it.
    const lower = tail(0, observed);
    const upper = tail(observed, last);
    if (alternative === 'two-sided') pValue = Math.min(1, 2 * Math.min(lower, upper));
    else if (alternative === 'greater') pValue = upper;
    else pValue = lower;
  }
  pValue = Math.min(1, Math.max(0, pValue));

  return { statistic, pValue, method, alternative, zeroMethod, z, rPlus, rMinus, nPairs, nZero, nRanked: count, rankBiserial };
}
