/**
 * From scores to exact-count masks (docs/pruning.md "Ties").
 *
 * Rule, everywhere: keep the k entries of LARGEST score; among equal scores the LOWER position wins.
 * Positions are flat indices in the [fanIn, fanOut] row-major space of masks.ts; with `global` scope
 * the layers are concatenated in layer order (layer 0 first). NaN counts as −∞ (never preferred
 * over a number). The count is always exact, unlike a threshold (`score > t`), which keeps more or
 * fewer than k when scores tie at t.
 *
 * Selection is O(n) (quickselect of the k-th largest value, then one scan), so SynFlow's 100 rounds
 * over paper-size layers (≈ 10⁷ weights) stay cheap; no sort of the whole score vector.
 */
import { at } from '../../shared/checked';

/** Scores as ranked: NaN → −∞. */
function rankValue(v: number): number {
  return Number.isNaN(v) ? -Infinity : v;
}

/** k-th largest value (1-based k) of `values`; `values` is reordered. Iterative quickselect. */
function kthLargest(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    // Median of three as pivot (deterministic).
    const mid = (lo + hi) >>> 1;
    const a = values[lo]!;
    const b = values[mid]!;
    const c = values[hi]!;
    const pivot = a > b ? (b > c ? b : a > c ? c : a) : a > c ? a : b > c ? c : b;
    // Three-way partition, descending: [lo, lt) > pivot, [lt, gt] == pivot, (gt, hi] < pivot.
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = values[i]!;
      if (v > pivot) {
        values[i] = values[lt]!;
        values[lt] = v;
        lt++;
        i++;
      } else if (v < pivot) {
        values[i] = values[gt]!;
        values[gt] = v;
        gt--;
      } else {
        i++;
      }
    }
    if (target < lt) hi = lt - 1;
    else if (target > gt) lo = gt + 1;
    else return pivot;
  }
  return at(values, lo);
}

/**
 * Indices (ascending) of the k largest of `scores` under the rule above, as a 0/1 mask of the same
 * length. `exclude` (optional, 1 = excluded) ranks those entries below every other one (−∞ and
 * below): they are chosen only when nothing else is left.
 */
export function topKMask(scores: ArrayLike<number>, k: number, exclude?: ArrayLike<number>): Float32Array {
  const n = scores.length;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`mask count ${k} out of range 0..${n}`);
  const mask = new Float32Array(n);
  if (k === 0) return mask;
  if (k === n) return mask.fill(1);
  // Two tiers: included entries first (ranked by score), excluded entries after (ranked by score).
  let included = n;
  if (exclude) {
    included = 0;
    for (let i = 0; i < n; i++) if (exclude[i] === 0) included++;
  }
  const tier = (want: number, inTier: (i: number) => boolean, size: number): void => {
    if (want <= 0) return;
    if (want >= size) {
      for (let i = 0; i < n; i++) if (inTier(i)) mask[i] = 1;
      return;
    }
    const vals = new Float64Array(size);
    let j = 0;
    for (let i = 0; i < n; i++) if (inTier(i)) vals[j++] = rankValue(scores[i]!);
    const t = kthLargest(vals, want);
    let kept = 0;
    for (let i = 0; i < n; i++) if (inTier(i) && rankValue(scores[i]!) > t) {
      mask[i] = 1;
      kept++;
    }
    for (let i = 0; i < n && kept < want; i++) if (inTier(i) && rankValue(scores[i]!) === t) {
      mask[i] = 1;
      kept++;
    }
  };
  if (!exclude) {
    tier(k, () => true, n);
  } else {
    tier(Math.min(k, included), (i) => exclude[i] === 0, included);
    tier(k - included, (i) => exclude[i] !== 0, n - included);
  }
  return mask;
}

/** Per layer: keep exactly counts[l] of layer l's scores. */
export function selectLayerwise(scores: ArrayLike<number>[], counts: number[], exclude?: ArrayLike<number>[]): Float32Array[] {
  return scores.map((s, l) => topKMask(s, at(counts, l), exclude?.[l]));
}

/** Over all layers at once (layer 0's positions first): keep exactly `total`, split back per layer. */
export function selectGlobal(scores: ArrayLike<number>[], total: number, exclude?: ArrayLike<number>[]): Float32Array[] {
  const n = scores.reduce((s, a) => s + a.length, 0);
  const all = new Float64Array(n);
  const ex = exclude ? new Uint8Array(n) : undefined;
  let o = 0;
  scores.forEach((s, l) => {
    for (let i = 0; i < s.length; i++) all[o + i] = s[i]!;
    const e = exclude?.[l];
    if (ex && e) for (let i = 0; i < s.length; i++) ex[o + i] = e[i] !== 0 ? 1 : 0;
    o += s.length;
  });
  const m = topKMask(all, total, ex);
  const out: Float32Array[] = [];
  o = 0;
  for (const s of scores) {
    out.push(m.slice(o, o + s.length));
    o += s.length;
  }
  return out;
}
