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
 * - 'exact': the null distribution of R+ for n untied, non-zero differences: each rank is + or -
 *   with probability ½ independently; pmf by the convolution recurrence of SciPy's
 *   `_get_wilcoxon_distr`. Two-sided p = 2·min(P(R+ ≤ r), P(R+ ≥ r)), exactly 1 at the centre;
 *   'greater': P(R+ ≥ r); 'less': P(R+ ≤ r). Requires no zeros and no ties (error otherwise).
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
 * no-ties distribution (fixed in later SciPy). We use the tie-corrected normal approximation
 * instead, and method 'exact' with ties throws. The reference tests therefore call SciPy with
 * mode='approx' for tied inputs.
 *
 * Effect size: matched-pairs rank-biserial correlation (Kerby 2014)
 *   r_rb = (R+ - R-) / (R+ + R-) ∈ [-1, 1]  (positive: x tends to exceed y).
 */

import { Alternative, StatsError, checkAlternative, checkPaired, checkSample } from './errors';
import { rankAverage, tieTerm } from './ranks';
import { normCdf, normSf } from './special';

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
    for (let i = 0; i < m; i++) next[i] = c[i] * 0.5;
    for (let i = 0; i < m; i++) next[next.length - m + i] += c[i] * 0.5;
    c = next;
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
    d = xs.map((v, i) => v - ys[i]);
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
    if (nZero > 0) throw new StatsError('invalid-argument', `${fn}: ${nZero} zero difference(s); the exact distribution needs none (use 'approx' or 'auto')`);
    if (hasTies) throw new StatsError('invalid-argument', `${fn}: tied |differences|; the exact distribution needs none (use 'approx' or 'auto')`);
    // The pmf has n(n+1)/2 + 1 entries and costs O(n³); cap it like exactMaxN.
    if (nPairs > 1000) throw new StatsError('invalid-argument', `${fn}: the exact method is limited to n ≤ 1000 (got ${nPairs}); use 'approx'`);
    method = 'exact';
  } else if (requested === 'approx') {
    method = 'approx';
  } else {
    method = nPairs <= exactMaxN && nZero === 0 && !hasTies ? 'exact' : 'approx';
  }

  // In approx mode with 'wilcox' the zeros are dropped before ranking; exact mode has no zeros.
  if (zeroMethod === 'wilcox') d = d.filter((v) => v !== 0);
  const count = d.length;
  const { ranks } = rankAverage(d.map(Math.abs));
  let rPlus = 0;
  let rMinus = 0;
  let rZero = 0;
  for (let i = 0; i < count; i++) {
    if (d[i] > 0) rPlus += ranks[i];
    else if (d[i] < 0) rMinus += ranks[i];
    else rZero += ranks[i];
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
    const pmf = wilcoxonExactPmf(count);
    const r = rPlus; // integer: no ties
    const sumRange = (lo: number, hi: number): number => {
      let s = 0;
      for (let k = lo; k <= hi; k++) s += pmf[k];
      return s;
    };
    const last = pmf.length - 1;
    if (alternative === 'two-sided') {
      if (r === Math.floor(last / 2)) pValue = 1;
      else pValue = 2 * Math.min(sumRange(0, r), sumRange(r, last));
    } else if (alternative === 'greater') {
      pValue = sumRange(r, last);
    } else {
      pValue = sumRange(0, r);
    }
  }
  pValue = Math.min(1, Math.max(0, pValue));

  return { statistic, pValue, method, alternative, zeroMethod, z, rPlus, rMinus, nPairs, nZero, nRanked: count, rankBiserial };
}
