/**
 * Paired t-test, following `scipy.stats.ttest_rel` (SciPy 1.10).
 *
 * d = x - y, n pairs, d̄ = mean, s² = Σ(dᵢ - d̄)²/(n-1),
 *   t = d̄ / (s/√n),  ν = n - 1,
 *   p = F_ν(-|t|)·2 two-sided, F_ν(-t) 'greater' (x > y), F_ν(t) 'less',
 * with F_ν the Student t CDF (regularised incomplete beta, see special.ts).
 *
 * Effect size: Cohen's d_z = d̄ / s = t/√n (Cohen 1988, §2.3.5; Lakens 2013 eq. 6).
 */

import { Alternative, StatsError, checkAlternative, checkPaired, checkSample } from './errors';
import { studentTCdf } from './special';
import { at } from '../../shared/checked';

export interface PairedTTestOptions {
  /** Default 'two-sided'. 'greater': mean of x - y is > 0. */
  readonly alternative?: Alternative;
}

export interface PairedTTestResult {
  readonly statistic: number;
  readonly pValue: number;
  readonly df: number;
  readonly alternative: Alternative;
  /** Mean difference d̄ (SciPy's `estimate`). */
  readonly meanDifference: number;
  /** Standard error s/√n (SciPy's `standard_error`). */
  readonly standardError: number;
  /** Cohen's d_z = d̄/s. */
  readonly cohensDz: number;
}

export function pairedTTest(x: readonly number[], y: readonly number[], options: PairedTTestOptions = {}): PairedTTestResult {
  const fn = 'pairedTTest';
  const xs = checkSample(fn, 'x', x, 0);
  const ys = checkSample(fn, 'y', y, 0);
  checkPaired(fn, xs, ys);
  if (xs.length < 2) throw new StatsError('too-few', `${fn}: need at least 2 pairs, got ${xs.length}`);
  const alternative = checkAlternative(fn, options.alternative ?? 'two-sided');
  const n = xs.length;
  const d = xs.map((v, i) => v - at(ys, i));
  let sum = 0;
  for (const v of d) sum += v;
  const mean = sum / n;
  // Two-pass variance (as numpy's var): Σ(d - d̄)² / (n - 1).
  let ss = 0;
  for (const v of d) ss += (v - mean) * (v - mean);
  const sd = Math.sqrt(ss / (n - 1));
  if (sd === 0) {
    throw new StatsError('degenerate', `${fn}: all differences are equal (${mean}); the standard deviation is zero and t is undefined`);
  }
  const se = sd / Math.sqrt(n);
  const t = mean / se;
  const df = n - 1;
  let pValue: number;
  if (alternative === 'less') pValue = studentTCdf(t, df);
  else if (alternative === 'greater') pValue = studentTCdf(-t, df);
  else pValue = 2 * studentTCdf(-Math.abs(t), df);
  return { statistic: t, pValue, df, alternative, meanDifference: mean, standardError: se, cohensDz: mean / sd };
}
