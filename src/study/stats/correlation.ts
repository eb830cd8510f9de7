/**
 * Correlation statistics beyond one pooled Kendall τ (docs/statistics.md, "Correlation a reviewer
 * would accept"):
 *
 * - `granulatedKendall`: Jiang et al. 2019's granulated Ψ, re-exported from
 *   `src/shared/stats/granulated.ts` (the dashboard page computes it too).
 * - `partialKendall` / `partialKendallTau`: Kendall's partial τ (Kendall 1942),
 *   τ_xy·z = (τ_xy − τ_xz τ_yz) / √((1 − τ_xz²)(1 − τ_yz²)).
 * - `bootstrapAbsTauDifferences`: a paired bootstrap over runs of |τ(measure, target)| (or of the
 *   partial |τ| given a control), the same resample indices for every measure, with a percentile
 *   interval for |τ_m| − |τ_best|.
 * - `mulberry32` / `bootstrapIndices`: the seeded resampler (re-implemented bit for bit in
 *   scripts/reference/correlation_reference.py).
 */
import { StatsError, checkPaired, checkSample } from './errors';
import { kendallTau } from './kendall';
import { at, atI8 } from '../../shared/checked';

// Granulated Kendall lives with the statistics the dashboard page computes itself (src/shared/stats/).
export { granulatedKendall, type GranulatedAxis, type GranulatedAxisResult, type GranulatedGroup, type GranulatedOptions, type GranulatedResult } from '../../shared/stats/granulated';

// -------------------------------------------------------------------------------------------------
// Partial Kendall τ

/**
 * τ_xy·z from the three pairwise τs. Throws `degenerate` when |τ_xz| = 1 or |τ_yz| = 1 (z orders x
 * or y completely: nothing is left once z is controlled).
 */
export function partialKendall(tauXY: number, tauXZ: number, tauYZ: number): number {
  for (const [name, v] of [['tauXY', tauXY], ['tauXZ', tauXZ], ['tauYZ', tauYZ]] as const) {
    if (!Number.isFinite(v) || v < -1 || v > 1) throw new StatsError('invalid-argument', `partialKendall: ${name} must be a number in [-1, 1], got ${v}`);
  }
  const den = (1 - tauXZ * tauXZ) * (1 - tauYZ * tauYZ);
  if (!(den > 0)) {
    throw new StatsError('degenerate', `partialKendall: |τ_${Math.abs(tauXZ) === 1 ? 'xz' : 'yz'}| = 1, the control orders ${Math.abs(tauXZ) === 1 ? 'x' : 'y'} completely; the partial τ is undefined`);
  }
  return Math.min(1, Math.max(-1, (tauXY - tauXZ * tauYZ) / Math.sqrt(den)));
}

export interface PartialKendallResult {
  /** τ_xy·z */
  readonly tau: number;
  readonly tauXY: number;
  readonly tauXZ: number;
  readonly tauYZ: number;
  readonly n: number;
}

/** Partial Kendall τ of x and y controlling for z, with the τ-b of each pair (ties handled by τ-b). */
export function partialKendallTau(x: readonly number[], y: readonly number[], z: readonly number[]): PartialKendallResult {
  const fn = 'partialKendallTau';
  const xs = checkSample(fn, 'x', x, 2);
  const ys = checkSample(fn, 'y', y, 2);
  const zs = checkSample(fn, 'z', z, 2);
  checkPaired(fn, xs, ys);
  checkPaired(fn, xs, zs);
  const tauXY = kendallTau(xs, ys).tau;
  const tauXZ = kendallTau(xs, zs).tau;
  const tauYZ = kendallTau(ys, zs).tau;
  return { tau: partialKendall(tauXY, tauXZ, tauYZ), tauXY, tauXZ, tauYZ, n: xs.length };
}

/**
 * Mean τ-b of x and y within each level of z (levels in order of first appearance); levels with
 * fewer than two runs or an undefined τ are skipped and counted.
 */
export function withinLevelKendall(x: readonly number[], y: readonly number[], levels: readonly string[]): { tau: number; perLevel: Array<{ level: string; n: number; tau: number }>; skipped: string[] } {
  const fn = 'withinLevelKendall';
  const xs = checkSample(fn, 'x', x, 0);
  const ys = checkSample(fn, 'y', y, 0);
  checkPaired(fn, xs, ys);
  if (levels.length !== xs.length) throw new StatsError('length-mismatch', `${fn}: levels has ${levels.length} values for ${xs.length} runs`);
  const byLevel = new Map<string, number[]>();
  levels.forEach((l, i) => {
    const g = byLevel.get(l);
    if (g) g.push(i);
    else byLevel.set(l, [i]);
  });
  const perLevel: Array<{ level: string; n: number; tau: number }> = [];
  const skipped: string[] = [];
  for (const [level, idx] of byLevel) {
    if (idx.length < 2) {
      skipped.push(level);
      continue;
    }
    try {
      perLevel.push({ level, n: idx.length, tau: kendallTau(idx.map((i) => at(xs, i)), idx.map((i) => at(ys, i))).tau });
    } catch (e) {
      if (!(e instanceof StatsError)) throw e;
      skipped.push(level);
    }
  }
  const tau = perLevel.length === 0 ? NaN : perLevel.reduce((s, l) => s + l.tau, 0) / perLevel.length;
  return { tau, perLevel, skipped };
}

// -------------------------------------------------------------------------------------------------
// Seeded resampling

/**
 * Mulberry32 (Tommy Ettinger, public domain): a 32-bit state generator returning uniforms in
 * [0, 1) with 32 random bits. Small, fast and easy to reproduce in other languages, which is what the
 * bootstrap needs (the reference script re-implements it).
 */
export function mulberry32(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new StatsError('invalid-argument', `mulberry32: seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1) >>> 0;
    t = ((t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t) >>> 0;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `resamples` arrays of n indices drawn uniformly with replacement: index = ⌊u·n⌋, u from `mulberry32(seed)`, row by row. */
export function bootstrapIndices(n: number, resamples: number, seed: number): Int32Array[] {
  if (!Number.isInteger(n) || n < 1) throw new StatsError('invalid-argument', `bootstrapIndices: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new StatsError('invalid-argument', `bootstrapIndices: resamples must be a positive integer, got ${resamples}`);
  const next = mulberry32(seed);
  const out: Int32Array[] = [];
  for (let b = 0; b < resamples; b++) {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = Math.floor(next() * n);
    out.push(idx);
  }
  return out;
}

/** Sample quantile with linear interpolation between order statistics (numpy's default, Hyndman & Fan type 7). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return at(sorted, lo) + (h - lo) * (at(sorted, hi) - at(sorted, lo));
}

// -------------------------------------------------------------------------------------------------
// Paired bootstrap of |τ| differences

export interface BootstrapOptions {
  /** Number of resamples (default 2000). Ignored when `indices` is given. */
  readonly resamples?: number;
  /** Seed of `bootstrapIndices` (default 13). */
  readonly seed?: number;
  /** Two-sided confidence level of the percentile intervals (default 0.95). */
  readonly level?: number;
  /** Controlled variable: bootstrap the partial |τ_xy·z| instead of |τ_xy|. */
  readonly control?: readonly number[];
  /**
   * Fixed resample draws, used instead of drawing them (reference tests): each of length n (run
   * bootstrap) or of the number of clusters (cluster bootstrap), indices of runs or of clusters.
   */
  readonly indices?: readonly Int32Array[];
  /**
   * Cluster bootstrap: a label per run (the configuration: every axis but the seed). A resample then
   * draws as many clusters as there are, with replacement, and takes all runs of each drawn cluster
   * together (clusters in order of first appearance; `indices` index them). Without it every run is
   * its own unit.
   */
  readonly clusters?: readonly string[];
}

export interface BootstrapMeasure {
  /** |τ| (or partial |τ|) on the full sample. */
  readonly abs: number;
  /** Signed statistic on the full sample. */
  readonly tau: number;
  /** Mean over resamples of |τ_m| − |τ_best| (0 for the best). */
  readonly meanDiff: number;
  /** Percentile interval of |τ_m| − |τ_best| over the resamples. */
  readonly low: number;
  readonly high: number;
  /** Bootstrap standard error of |τ_m| − |τ_best|: the sample standard deviation (n − 1) over the used resamples (0 for the best). */
  readonly se: number;
}

export interface BootstrapResult {
  /** Index of the measure with the largest |τ| on the full sample (first on ties). */
  readonly best: number;
  readonly measures: readonly BootstrapMeasure[];
  /** Resamples used; `dropped` had an undefined statistic for some measure and were left out (for all measures). */
  readonly resamples: number;
  readonly dropped: number;
  /** dropped / (resamples + dropped): the share of degenerate resamples. */
  readonly degenerateShare: number;
  /** The resampling unit: single runs, or clusters (`clusters` given). */
  readonly unit: 'run' | 'cluster';
  /** Number of resampling units (runs, or distinct clusters). */
  readonly units: number;
  readonly level: number;
  /**
   * 'best' when every other measure's interval lies below 0; otherwise the measures whose interval
   * contains 0 are indistinguishable from the best (`tied`, the best included).
   */
  readonly verdict: 'best' | 'indistinguishable';
  readonly tied: readonly number[];
}

/** Pairwise signs of a sample: s[i·n + j] = sign(v_i − v_j), so a resample's τ-b is a table look-up per pair. */
function signMatrix(v: readonly number[]): Int8Array {
  const n = v.length;
  const s = new Int8Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = Math.sign(at(v, i) - at(v, j));
  return s;
}

/**
 * τ-b on the resample `idx` from two sign matrices, without p-value: O(n²) pairs. A pair tied in x
 * (including a run drawn twice) counts in n₁, tied in y in n₂, as in `kendallTau`. NaN when x or y
 * is constant on the resample.
 */
function tauB(sx: Int8Array, sy: Int8Array, n: number, idx: ArrayLike<number>): number {
  const m = idx.length;
  let s = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < m; i++) {
    const row = at(idx, i) * n;
    for (let j = i + 1; j < m; j++) {
      const a = atI8(sx, row + at(idx, j));
      const b = atI8(sy, row + at(idx, j));
      s += a * b;
      if (a === 0) tiesX++;
      if (b === 0) tiesY++;
    }
  }
  const pairs = (m * (m - 1)) / 2;
  const den = (pairs - tiesX) * (pairs - tiesY);
  if (!(den > 0)) return NaN;
  return Math.min(1, Math.max(-1, s / Math.sqrt(den)));
}

function statistic(sx: Int8Array, sy: Int8Array, sz: Int8Array | undefined, n: number, idx: ArrayLike<number>, tauYZ: number): number {
  const txy = tauB(sx, sy, n, idx);
  if (sz === undefined) return txy;
  const txz = tauB(sx, sz, n, idx);
  const den = (1 - txz * txz) * (1 - tauYZ * tauYZ);
  if (!(den > 0) || Number.isNaN(txy)) return NaN;
  return Math.min(1, Math.max(-1, (txy - txz * tauYZ) / Math.sqrt(den)));
}

/**
 * Paired bootstrap over runs: every resample draws n runs with replacement, and every measure's
 * |τ| with the target (partial |τ| given `control`) is computed on the same draw, so the
 * differences |τ_m| − |τ_best| keep the pairing. `best` is chosen once, on the full sample.
 */
export function bootstrapAbsTauDifferences(measures: ReadonlyArray<readonly number[]>, target: readonly number[], options: BootstrapOptions = {}): BootstrapResult {
  const fn = 'bootstrapAbsTauDifferences';
  if (measures.length < 1) throw new StatsError('too-few', `${fn}: need at least one measure`);
  const y = checkSample(fn, 'target', target, 2);
  const xs = measures.map((m, i) => {
    const s = checkSample(fn, `measures[${i}]`, m, 2);
    checkPaired(fn, s, y);
    return s;
  });
  const z = options.control === undefined ? undefined : checkSample(fn, 'control', options.control, 2);
  if (z !== undefined) checkPaired(fn, z, y);
  const level = options.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new StatsError('invalid-argument', `${fn}: level must be in (0, 1), got ${level}`);
  const n = y.length;
  const members = clusterMembers(fn, n, options.clusters);
  const units = members === undefined ? n : members.length;
  const unitName = members === undefined ? 'runs' : 'clusters';
  const draws = options.indices ?? bootstrapIndices(units, options.resamples ?? 2000, options.seed ?? 13);
  for (const [b, idx] of draws.entries()) {
    if (idx.length !== units) throw new StatsError('length-mismatch', `${fn}: resample ${b} has ${idx.length} indices for ${units} ${unitName}`);
    for (const i of idx) if (!(i >= 0 && i < units && Number.isInteger(i))) throw new StatsError('invalid-argument', `${fn}: resample ${b} has index ${i} outside 0..${units - 1}`);
  }
  const indices = members === undefined ? draws : draws.map((d) => expandClusters(d, members));
  const sy = signMatrix(y);
  const sz = z === undefined ? undefined : signMatrix(z);
  const sxs = xs.map(signMatrix);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const fullYZ = sz === undefined ? NaN : tauB(sy, sz, n, all);
  const full = sxs.map((sx) => statistic(sx, sy, sz, n, all, fullYZ));
  if (full.some(Number.isNaN)) throw new StatsError('degenerate', `${fn}: the statistic is undefined on the full sample (a measure, the target or the control is constant, or the control orders one completely)`);
  let best = 0;
  full.forEach((t, i) => {
    if (Math.abs(t) > Math.abs(at(full, best))) best = i;
  });
  const diffs: number[][] = xs.map(() => []);
  let dropped = 0;
  for (const idx of indices) {
    const tyz = sz === undefined ? NaN : tauB(sy, sz, n, idx);
    const abs = sxs.map((sx) => Math.abs(statistic(sx, sy, sz, n, idx, tyz)));
    if (abs.some(Number.isNaN)) {
      dropped++;
      continue;
    }
    abs.forEach((a, i) => at(diffs, i).push(a - at(abs, best)));
  }
  const used = indices.length - dropped;
  if (used === 0) throw new StatsError('degenerate', `${fn}: the statistic is undefined on every resample`);
  const alpha = (1 - level) / 2;
  const out: BootstrapMeasure[] = diffs.map((d, i) => {
    const sorted = d.slice().sort((a, b) => a - b);
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    return {
      abs: Math.abs(at(full, i)),
      tau: at(full, i),
      meanDiff: mean,
      low: quantile(sorted, alpha),
      high: quantile(sorted, 1 - alpha),
      se: d.length < 2 ? NaN : Math.sqrt(d.reduce((s, v) => s + (v - mean) * (v - mean), 0) / (d.length - 1)),
    };
  });
  const tied = out.map((m, i) => (i === best || m.high >= 0 ? i : -1)).filter((i) => i >= 0);
  return {
    best,
    measures: out,
    resamples: used,
    dropped,
    degenerateShare: dropped / indices.length,
    unit: members === undefined ? 'run' : 'cluster',
    units,
    level,
    verdict: tied.length === 1 ? 'best' : 'indistinguishable',
    tied,
  };
}

/** Runs of each cluster (clusters in order of first appearance), or undefined without clusters. */
function clusterMembers(fn: string, n: number, clusters: readonly string[] | undefined): number[][] | undefined {
  if (clusters === undefined) return undefined;
  if (clusters.length !== n) throw new StatsError('length-mismatch', `${fn}: clusters has ${clusters.length} labels for ${n} runs`);
  const byLabel = new Map<string, number[]>();
  clusters.forEach((c, i) => {
    const g = byLabel.get(c);
    if (g) g.push(i);
    else byLabel.set(c, [i]);
  });
  return [...byLabel.values()];
}

/** The runs of a cluster resample: every run of each drawn cluster, in draw order. */
export function expandClusters(draw: ArrayLike<number>, members: readonly (readonly number[])[]): Int32Array {
  let m = 0;
  for (let k = 0; k < draw.length; k++) m += at(members, at(draw, k)).length;
  const out = new Int32Array(m);
  let o = 0;
  for (let k = 0; k < draw.length; k++) for (const r of at(members, at(draw, k))) out[o++] = r;
  return out;
}
