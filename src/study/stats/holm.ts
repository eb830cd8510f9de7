/**
 * Holm (1979) step-down correction for m p-values, as statsmodels
 * `multipletests(pvals, alpha, method='holm')`.
 *
 * With p₍₁₎ ≤ … ≤ p₍ₘ₎ (sorted ascending):
 *   adjusted p₍ᵢ₎ = min(1, max_{j ≤ i} (m - j + 1)·p₍ⱼ₎)
 * (the running maximum makes the adjusted values monotone in the sorted order), returned in the
 * input order. Hypothesis (i) is rejected iff p₍ⱼ₎ ≤ α/(m - j + 1) for all j ≤ i, i.e. the
 * step-down procedure stops at the first non-rejection; equivalently adjusted p ≤ α.
 */

import { StatsError } from './errors';
import { at } from '../../shared/checked';

export interface HolmResult {
  /** Adjusted p-values, same order as the input. */
  readonly adjusted: number[];
  /** Rejections at family-wise level alpha, same order as the input. */
  readonly reject: boolean[];
  readonly alpha: number;
}

export function holm(pValues: readonly number[], alpha = 0.05): HolmResult {
  const fn = 'holm';
  // Checked for callers outside TypeScript; on the unknown view, so `pValues` keeps its element type.
  if (!Array.isArray(pValues as unknown)) throw new StatsError('invalid-argument', `${fn}: pValues must be an array`);
  if (pValues.length === 0) throw new StatsError('too-few', `${fn}: need at least one p-value`);
  pValues.forEach((p, i) => {
    if (typeof p !== 'number' || Number.isNaN(p)) throw new StatsError('non-finite', `${fn}: pValues[${i}] is not a number (${String(p)})`);
    if (p < 0 || p > 1) throw new StatsError('invalid-argument', `${fn}: pValues[${i}] = ${p} is outside [0, 1]`);
  });
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha < 1)) {
    throw new StatsError('invalid-argument', `${fn}: alpha must be in (0, 1), got ${String(alpha)}`);
  }
  const m = pValues.length;
  // Stable sort: ties keep input order (the adjusted values of tied p's coincide either way).
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => at(pValues, a) - at(pValues, b) || a - b);
  const adjusted = new Array<number>(m);
  const reject = new Array<boolean>(m).fill(false);
  let running = 0;
  let stillRejecting = true;
  for (let j = 0; j < m; j++) {
    const p = at(pValues, at(order, j));
    running = Math.max(running, (m - j) * p);
    adjusted[at(order, j)] = Math.min(1, running);
    if (stillRejecting && p <= alpha / (m - j)) reject[at(order, j)] = true;
    else stillRejecting = false;
  }
  return { adjusted, reject, alpha };
}
