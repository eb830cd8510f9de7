/**
 * Loads test/fixtures/stats/scipy_reference.json (written by scripts/reference/scipy_stats.py) and
 * provides the comparison used by all reference tests, plus the StatsError check of their input
 * validation tests. Not a test file itself.
 */

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StatsError } from '../../../src/study/stats';

export type SciPyAlternative = 'two-sided' | 'greater' | 'less';

export interface KendallCase {
  name: string;
  x: number[];
  y: number[];
  kwargs: { method: 'auto' | 'exact' | 'asymptotic'; alternative: SciPyAlternative };
  statistic: number;
  pvalue: number;
}

export interface WilcoxonCase {
  name: string;
  x: number[];
  y: number[] | null;
  kwargs: { zero_method: 'wilcox' | 'pratt' | 'zsplit'; correction: boolean; alternative: SciPyAlternative; method: 'auto' | 'exact' | 'approx' };
  ts_method: 'auto' | 'exact' | 'approx';
  exact_max_n: number | null;
  method_used: 'exact' | 'approx';
  statistic: number;
  pvalue: number;
  /** Only when SciPy was called with method='approx'. */
  zstatistic: number | null;
  /** null when R+ + R- = 0. */
  rank_biserial: number | null;
}

export interface MannWhitneyCase {
  name: string;
  x: number[];
  y: number[];
  kwargs: { use_continuity: boolean; alternative: SciPyAlternative; method: 'auto' | 'exact' | 'asymptotic' };
  method_used: 'exact' | 'asymptotic';
  statistic: number;
  pvalue: number;
  common_language: number;
}

export interface TTestCase {
  name: string;
  x: number[];
  y: number[];
  kwargs: { alternative: SciPyAlternative };
  statistic: number;
  pvalue: number;
  df: number;
  mean_difference: number;
  standard_error: number;
  cohens_dz: number;
}

export interface HolmCase {
  name: string;
  pvalues: number[];
  alpha: number;
  adjusted: number[];
  reject: boolean[];
}

export interface Reference {
  scipy_version: string;
  kendalltau: KendallCase[];
  wilcoxon: WilcoxonCase[];
  mannwhitneyu: MannWhitneyCase[];
  ttest_rel: TTestCase[];
  holm: HolmCase[];
  special: {
    erfc: [number, number][];
    ndtr: [number, number][];
    stdtr: [number, number, number][];
    betainc: [number, number, number, number][];
  };
}

/** Repository root: walk up from this file (works from out/test/... and from an esbuild bundle run in /tmp via cwd). */
function repoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let dir = start;
    for (;;) {
      if (fs.existsSync(path.join(dir, 'test', 'fixtures', 'stats', 'scipy_reference.json'))) return dir;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error('cannot find test/fixtures/stats/scipy_reference.json above ' + __dirname + ' or ' + process.cwd());
}

let cached: Reference | null = null;
export function loadReference(): Reference {
  if (cached === null) {
    const file = path.join(repoRoot(), 'test', 'fixtures', 'stats', 'scipy_reference.json');
    cached = JSON.parse(fs.readFileSync(file, 'utf8')) as Reference;
    assert.match(cached.scipy_version, /^1\.10\./, 'reference values must come from SciPy 1.10');
  }
  return cached;
}

export const TOL = 1e-6;

/** Largest deviations seen, for the summary line each reference test prints. */
export class Deviation {
  maxAbs = 0;
  maxRel = 0;
  checked = 0;
  where = '';
  record(actual: number, expected: number, label: string): void {
    const abs = Math.abs(actual - expected);
    const rel = expected === 0 ? abs : abs / Math.abs(expected);
    this.checked++;
    if (abs > this.maxAbs) {
      this.maxAbs = abs;
      this.where = label;
    }
    if (rel > this.maxRel) this.maxRel = rel;
  }
  summary(what: string): string {
    return `${what}: ${this.checked} values, max |Δ| = ${this.maxAbs.toExponential(2)} (${this.where}), max rel Δ = ${this.maxRel.toExponential(2)}`;
  }
}

/**
 * Agreement rule: |actual - expected| ≤ 1e-6, and additionally relative error ≤ 1e-6 when
 * |expected| < 1e-3 (tiny p-values must agree in their leading digits, not just both be ≈ 0).
 * Expected values that underflow below 1e-300 need only |actual| < 1e-290.
 */
export function assertClose(actual: number, expected: number, label: string, dev?: Deviation): void {
  assert.ok(Number.isFinite(actual), `${label}: got ${actual}, expected ${expected}`);
  dev?.record(actual, expected, label);
  const abs = Math.abs(actual - expected);
  assert.ok(abs <= TOL, `${label}: got ${actual}, expected ${expected} (|Δ| = ${abs})`);
  if (Math.abs(expected) < 1e-3) {
    if (Math.abs(expected) < 1e-300) {
      assert.ok(Math.abs(actual) < 1e-290, `${label}: got ${actual}, expected ${expected}`);
    } else {
      const rel = abs / Math.abs(expected);
      assert.ok(rel <= TOL, `${label}: got ${actual}, expected ${expected} (relative Δ = ${rel})`);
    }
  }
}

/** The code of the StatsError `f` throws (anything else thrown fails the test), or 'no error'. */
export function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof StatsError, String(e));
    return e.code;
  }
  return 'no error';
}
