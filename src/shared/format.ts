/**
 * Number formatting shared by the dashboard page and its tests (pure, DOM-free).
 */

/**
 * A layer's density (active / total weights) as a percentage that never rounds a non-zero density
 * to "0.0%": two significant digits below 1 % (16 of 40,000 weights is "0.040%"), one decimal from
 * 1 % up, and enough digits near 100 % that an almost dense layer is not "100.0%".
 */
export function densityText(density: number | null): string {
  if (density === null || !Number.isFinite(density)) return '—';
  const pct = density * 100;
  if (pct === 0) return '0%';
  if (pct === 100) return '100%';
  if (pct < 1e-3) return `${pct.toExponential(1)}%`;
  if (pct < 1) return `${pct.toPrecision(2)}%`;
  if (pct > 99.9) return `${pct.toFixed(Math.min(6, Math.max(2, Math.ceil(-Math.log10(100 - pct)) + 1)))}%`;
  return `${pct.toFixed(1)}%`;
}

/**
 * Where a log-scale chart draws values it cannot place (0: a collapsed layer): one decade below the
 * smallest positive value shown, rounded down to a power of ten; 1e-12 when nothing is positive.
 */
export function logFloor(values: Iterable<number | null>): number {
  let min = Infinity;
  for (const v of values) if (v !== null && v > 0 && v < min) min = v;
  if (min === Infinity) return 1e-12;
  return 10 ** (Math.floor(Math.log10(min)) - 1);
}

/** `123456` → `123,456` (limits read better grouped). */
export function grouped(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',') : String(n);
}

/** "every step", "every 10th step" (n ≥ 1). */
export function everyNth(n: number): string {
  if (n <= 1) return 'every step';
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `every ${n}${suffix} step`;
}
