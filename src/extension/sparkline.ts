/** Unicode sparkline of recent values (the Runs tree shows the EGF trend in a few characters). Pure. */

const BARS = '▁▂▃▄▅▆▇█';

/**
 * The last `width` values as bars scaled between their own min and max. A flat series is drawn at
 * mid height; a non-finite value (NaN/Inf, which is what an exploding run produces) as `!`, so it
 * stands out instead of disappearing into the scale. With `log`, positive values are scaled on
 * log10, which keeps a gradient norm that moves over decades readable.
 */
export function sparkline(values: readonly number[], width = 16, opts: { log?: boolean } = {}): string {
  const recent = values.slice(-width);
  const useLog = opts.log === true && recent.every((v) => !Number.isFinite(v) || v > 0);
  const scaled = recent.map((v) => (Number.isFinite(v) ? (useLog ? Math.log10(v) : v) : NaN));
  const finite = scaled.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return recent.map(() => '!').join('');
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return scaled
    .map((v) => {
      if (!Number.isFinite(v)) return '!';
      if (hi === lo) return BARS[3];
      const i = Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1));
      return BARS[Math.min(BARS.length - 1, Math.max(0, i))];
    })
    .join('');
}

/** Compact number for tree descriptions: 3 significant digits, exponent form outside [1e-3, 1e4). */
export function compactNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(3)));
}

/**
 * `values` folded into at most `n` consecutive buckets (oldest first), each the mean of its values,
 * so a sparkline shows the trend of a noisy per-step series instead of its step-to-step jitter. A
 * bucket holding a non-finite value is non-finite (a NaN must not be averaged away). Buckets are
 * aligned to the end: the newest value always falls in the last one.
 */
export function bucketMeans(values: readonly number[], n: number): number[] {
  if (values.length <= n) return [...values];
  const size = Math.ceil(values.length / n);
  const out: number[] = [];
  for (let end = values.length; end > 0 && out.length < n; end -= size) {
    const chunk = values.slice(Math.max(0, end - size), end);
    out.push(chunk.some((v) => !Number.isFinite(v)) ? NaN : chunk.reduce((a, b) => a + b, 0) / chunk.length);
  }
  return out.reverse();
}
