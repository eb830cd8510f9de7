/**
 * Min/max-preserving bucket decimation. A 100,000-step run has far more points than a chart has
 * pixels; plotting them all makes chart.js stutter at 4 updates per second. Averaging would hide
 * exactly what Gradflow is for (a spike, a collapse to zero), so each bucket keeps its extremes.
 */
import type { Points } from '../../shared/webview-protocol';
import { at } from '../../shared/checked';

/** Default cap per series sent to the page: about two points per pixel of a wide chart. */
export const DEFAULT_MAX_POINTS = 2000;

/**
 * Reduces (x[i], y[i]) to at most `maxPoints` points, in ascending index order:
 *  - the first and the last point are always kept;
 *  - the interior points are split into B = floor((maxPoints - 2) / 2) buckets of consecutive
 *    indices (sizes differ by at most one) and each bucket contributes its minimum and its maximum
 *    (one point when they coincide);
 *  - a non-finite value (NaN, ±Infinity: a divergence) takes the place of the bucket's maximum, so
 *    the break in the line that marks it survives decimation.
 * Non-finite values come out as null (the protocol's encoding; chart.js draws a gap).
 * With n ≤ maxPoints every point is returned.
 */
export function decimate(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints: number = DEFAULT_MAX_POINTS): Points {
  if (x.length !== y.length) throw new Error(`decimate: x has ${x.length} points, y has ${y.length}`);
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 4) throw new Error(`decimate: maxPoints must be an integer ≥ 4, got ${maxPoints}`);
  const n = x.length;
  const out: Points = { x: [], y: [] };
  const push = (i: number): void => {
    out.x.push(at(x, i));
    const v = at(y, i);
    out.y.push(Number.isFinite(v) ? v : null);
  };
  if (n <= maxPoints) {
    for (let i = 0; i < n; i++) push(i);
    return out;
  }
  push(0);
  const m = n - 2; // interior points 1 .. n-2
  const buckets = Math.floor((maxPoints - 2) / 2);
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * m) / buckets);
    const end = 1 + Math.floor(((b + 1) * m) / buckets); // exclusive
    let iMin = -1;
    let iMax = -1;
    let iBad = -1;
    for (let i = start; i < end; i++) {
      const v = at(y, i);
      if (!Number.isFinite(v)) {
        if (iBad < 0) iBad = i;
        continue;
      }
      if (iMin < 0 || v < at(y, iMin)) iMin = i;
      if (iMax < 0 || v > at(y, iMax)) iMax = i;
    }
    const hi = iBad >= 0 ? iBad : iMax;
    const lo = iMin;
    if (lo < 0 && hi < 0) continue; // empty bucket (cannot happen while m ≥ buckets, kept for safety)
    if (lo < 0 || lo === hi) push(hi);
    else if (hi < 0) push(lo);
    else if (lo < hi) {
      push(lo);
      push(hi);
    } else {
      push(hi);
      push(lo);
    }
  }
  push(n - 1);
  return out;
}
