/** Ranking helpers shared by the rank tests. */
import { at } from '../../shared/checked';

export interface Ranking {
  /** 1-based average ranks ("mid-ranks"), as `scipy.stats.rankdata(method='average')`. */
  readonly ranks: number[];
  /** Sizes of the groups of tied values (only groups of size ≥ 2). */
  readonly tieGroups: number[];
}

/** Average ranks: tied values get the mean of the ranks they span. O(n log n). */
export function rankAverage(values: readonly number[]): Ranking {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => at(values, i) - at(values, j));
  const ranks = new Array<number>(n);
  const tieGroups: number[] = [];
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[at(order, j + 1)] === values[at(order, i)]) j++;
    // positions i..j (0-based) share ranks i+1..j+1 → mean (i+j)/2 + 1
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[at(order, k)] = r;
    if (j > i) tieGroups.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, tieGroups };
}

/** Σ (t³ - t) over tie groups: the usual tie-correction term of rank-test variances. */
export function tieTerm(tieGroups: readonly number[]): number {
  let s = 0;
  for (const t of tieGroups) s += t * t * t - t;
  return s;
}
