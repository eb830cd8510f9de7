/**
 * Granulated Kendall, within-level and partial Kendall τ, the seeded resampler and the paired
 * bootstrap, against test/fixtures/stats/correlation_reference.json (written by
 * scripts/reference/correlation_reference.py with SciPy's kendalltau), to 1e-9; plus hand-worked
 * partial τ cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  bootstrapAbsTauDifferences,
  bootstrapIndices,
  granulatedKendall,
  kendallTau,
  mulberry32,
  partialKendall,
  partialKendallTau,
  quantile,
  withinLevelKendall,
} from '../../../src/study/stats';
import { errorCode } from './reference';
import { at } from '../../../src/shared/checked';

const TOL = 1e-9;

interface AxisRef {
  name: string;
  levels: number;
  status: 'used' | 'single-valued' | 'no-groups';
  groups: number;
  runs: number;
  skippedGroups: number;
  tau: number | null;
}
interface CorrelationReference {
  scipy: string;
  mulberry32: Array<{ seed: number; values: number[] }>;
  granulated: Array<{ name: string; x: number[]; y: number[]; axes: Array<{ name: string; values: string[] }>; replicate: string[] | null; expected: { psi: number | null; axes: AxisRef[] } }>;
  partial: Array<{ name: string; x: number[]; y: number[]; z: number[]; tau: number; tauXY: number; tauXZ: number; tauYZ: number }>;
  withinLevel: Array<{ name: string; x: number[]; y: number[]; levels: string[]; tau: number }>;
  bootstrap: Array<{
    name: string;
    measures: number[][];
    target: number[];
    control: number[] | null;
    seed: number;
    resamples: number;
    indices: number[][];
    level: number;
    expected: {
      best: number;
      resamples: number;
      dropped: number;
      verdict: 'best' | 'indistinguishable';
      tied: number[];
      measures: Array<{ tau: number; abs: number; meanDiff: number; low: number; high: number }>;
    };
  }>;
}

function load(): CorrelationReference {
  let dir = __dirname;
  for (;;) {
    const f = path.join(dir, 'test', 'fixtures', 'stats', 'correlation_reference.json');
    if (fs.existsSync(f)) return JSON.parse(fs.readFileSync(f, 'utf8')) as CorrelationReference;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find test/fixtures/stats/correlation_reference.json');
    dir = up;
  }
}

const ref = load();
let maxDev = 0;
function close(actual: number, expected: number, label: string): void {
  assert.ok(Number.isFinite(actual), `${label}: got ${actual}, expected ${expected}`);
  const d = Math.abs(actual - expected);
  maxDev = Math.max(maxDev, d);
  assert.ok(d <= TOL, `${label}: got ${actual}, expected ${expected} (|Δ| = ${d})`);
}

test('the reference comes from SciPy 1.10', () => {
  assert.match(ref.scipy, /^1\.10\./);
});

test('mulberry32 draws the reference script\'s uniforms bit for bit', () => {
  for (const c of ref.mulberry32) {
    const next = mulberry32(c.seed);
    for (const [i, v] of c.values.entries()) assert.equal(next(), v, `seed ${c.seed}, draw ${i}`);
  }
});

test(`granulatedKendall matches SciPy's kendalltau per group on ${ref.granulated.length} cases`, () => {
  for (const c of ref.granulated) {
    const r = granulatedKendall(c.x, c.y, c.axes, c.replicate === null ? {} : { replicate: c.replicate });
    assert.equal(r.axes.length, c.expected.axes.length, c.name);
    for (const [i, e] of c.expected.axes.entries()) {
      const a = at(r.axes, i);
      const where = `${c.name}: axis ${e.name}`;
      assert.equal(a.name, e.name);
      assert.equal(a.status, e.status, where);
      assert.equal(a.levels, e.levels, where);
      assert.equal(a.groups, e.groups, `${where}: groups`);
      assert.equal(a.runs, e.runs, `${where}: runs`);
      assert.equal(a.skippedGroups, e.skippedGroups, `${where}: skipped groups`);
      if (e.tau === null) assert.ok(Number.isNaN(a.tau), where);
      else close(a.tau, e.tau, `${where}: m_i`);
    }
    if (c.expected.psi === null) assert.ok(Number.isNaN(r.psi));
    else close(r.psi, c.expected.psi, `${c.name}: Ψ`);
  }
  // The fixture exercises every path: a single-valued axis, skipped groups, a case without replicate.
  assert.ok(ref.granulated.some((c) => c.expected.axes.some((a) => a.status === 'single-valued')));
  assert.ok(ref.granulated.some((c) => c.expected.axes.some((a) => a.skippedGroups > 0)));
});

test(`partialKendallTau matches the reference on ${ref.partial.length} cases`, () => {
  for (const c of ref.partial) {
    const r = partialKendallTau(c.x, c.y, c.z);
    close(r.tauXY, c.tauXY, `${c.name}: τ_xy`);
    close(r.tauXZ, c.tauXZ, `${c.name}: τ_xz`);
    close(r.tauYZ, c.tauYZ, `${c.name}: τ_yz`);
    close(r.tau, c.tau, `${c.name}: τ_xy·z`);
  }
});

test(`withinLevelKendall matches the reference on ${ref.withinLevel.length} cases`, () => {
  for (const c of ref.withinLevel) close(withinLevelKendall(c.x, c.y, c.levels).tau, c.tau, c.name);
});

test(`paired bootstrap matches the reference on ${ref.bootstrap.length} cases (fixed indices shared with the script)`, () => {
  for (const c of ref.bootstrap) {
    // The committed indices are the ones our seeded generator draws.
    const drawn = bootstrapIndices(c.target.length, c.resamples, c.seed);
    assert.deepEqual(drawn.map((a) => Array.from(a)), c.indices, `${c.name}: indices`);
    const r = bootstrapAbsTauDifferences(c.measures, c.target, {
      indices: c.indices.map((a) => Int32Array.from(a)),
      level: c.level,
      ...(c.control !== null ? { control: c.control } : {}),
    });
    const e = c.expected;
    assert.equal(r.best, e.best, `${c.name}: best`);
    assert.equal(r.resamples, e.resamples, `${c.name}: resamples`);
    assert.equal(r.dropped, e.dropped, `${c.name}: dropped`);
    assert.equal(r.verdict, e.verdict, `${c.name}: verdict`);
    assert.deepEqual([...r.tied], e.tied, `${c.name}: tied`);
    for (const [i, m] of e.measures.entries()) {
      const a = at(r.measures, i);
      close(a.tau, m.tau, `${c.name}: measure ${i} τ`);
      close(a.abs, m.abs, `${c.name}: measure ${i} |τ|`);
      close(a.meanDiff, m.meanDiff, `${c.name}: measure ${i} mean Δ`);
      close(a.low, m.low, `${c.name}: measure ${i} CI low`);
      close(a.high, m.high, `${c.name}: measure ${i} CI high`);
    }
    // Seeded: the default draw is the same as the explicit indices of the same seed.
    const seeded = bootstrapAbsTauDifferences(c.measures, c.target, { resamples: c.resamples, seed: c.seed, level: c.level, ...(c.control !== null ? { control: c.control } : {}) });
    assert.deepEqual(seeded, r);
  }
  assert.ok(ref.bootstrap.some((c) => c.expected.verdict === 'best') && ref.bootstrap.some((c) => c.expected.verdict === 'indistinguishable'));
  console.log(`correlation reference: max |Δ| = ${maxDev.toExponential(2)}`);
});

test('partial τ, hand-worked: the formula and a case where z explains x–y', () => {
  // τ_xy = 0.5, τ_xz = 0.5, τ_yz = 0.5: (0.5 − 0.25) / √(0.75 · 0.75) = 0.25/0.75 = 1/3.
  assert.ok(Math.abs(partialKendall(0.5, 0.5, 0.5) - 1 / 3) < 1e-15);
  // τ_xy = τ_xz·τ_yz: z accounts for all of the association → 0.
  assert.ok(Math.abs(partialKendall(0.36, 0.6, 0.6)) < 1e-15);
  // Opposite signs: (−0.2 − 0.4·(−0.5)) / √(…) = 0; (0.3 − 0.4·(−0.5)) / √((1 − 0.16)(1 − 0.25)) = 0.5/√(0.84·0.75).
  assert.ok(Math.abs(partialKendall(-0.2, 0.4, -0.5)) < 1e-15);
  assert.ok(Math.abs(partialKendall(0.3, 0.4, -0.5) - 0.5 / Math.sqrt(0.84 * 0.75)) < 1e-15);
  // Uncorrelated control leaves τ unchanged.
  assert.equal(partialKendall(0.42, 0, 0), 0.42);
});

test('partial τ, hand-worked on data (n = 4, counted pair by pair)', () => {
  // x = [1,2,3,4], y = [2,1,4,3], z = [1,1,2,2].
  // x–y: pairs (12) d, (13) c, (14) c, (23) c, (24) c, (34) d → S = 2, τ_xy = 2/6 = 1/3.
  // x–z: (12) tie in z, (34) tie in z, the other 4 concordant; n₀ = 6, n₁ = 0, n₂ = 2
  //      → τ_xz = 4/√(6·4) = 4/√24.
  // y–z: y = [2,1,4,3]: (12) tie z, (13) c, (14) c, (23) c, (24) c, (34) tie z → τ_yz = 4/√24.
  // τ_xy·z = (1/3 − 16/24) / (1 − 16/24) = (−1/3)/(1/3) = −1.
  const r = partialKendallTau([1, 2, 3, 4], [2, 1, 4, 3], [1, 1, 2, 2]);
  assert.ok(Math.abs(r.tauXY - 1 / 3) < 1e-15);
  assert.ok(Math.abs(r.tauXZ - 4 / Math.sqrt(24)) < 1e-15);
  assert.ok(Math.abs(r.tauYZ - 4 / Math.sqrt(24)) < 1e-15);
  assert.ok(Math.abs(r.tau - -1) < 1e-12);
  // Within each z level x and y are reversed: the within-level τ agrees with the partial τ here.
  assert.equal(withinLevelKendall([1, 2, 3, 4], [2, 1, 4, 3], ['a', 'a', 'b', 'b']).tau, -1);
});

test('partial τ rejects a control that orders x or y completely, and bad input', () => {
  assert.equal(errorCode(() => partialKendall(0.5, 1, 0.2)), 'degenerate');
  assert.equal(errorCode(() => partialKendall(0.5, 0.2, -1)), 'degenerate');
  assert.equal(errorCode(() => partialKendall(1.5, 0.2, 0.2)), 'invalid-argument');
  assert.equal(errorCode(() => partialKendallTau([1, 2, 3], [3, 1, 2], [1, 2, 3])), 'degenerate');
  assert.equal(errorCode(() => partialKendallTau([1, 2, 3], [3, 1, 2], [1, 2])), 'length-mismatch');
});

test('granulated Kendall, hand-worked: 2 axes × 2 levels, no replicate', () => {
  // Runs (a, b): x, y. Axis a: groups by b → b=0: runs (0,0),(1,0); b=1: (0,1),(1,1).
  const a = ['0', '1', '0', '1'];
  const b = ['0', '0', '1', '1'];
  const x = [1, 2, 3, 4];
  const y = [1, 2, 4, 3];
  // axis a: b=0: x↑ y↑ → +1; b=1: x↑ y↓ → −1; m_a = 0.
  // axis b: a=0: runs 0,2: x 1→3, y 1→4 → +1; a=1: runs 1,3: x 2→4, y 2→3 → +1; m_b = 1.
  const r = granulatedKendall(x, y, [{ name: 'a', values: a }, { name: 'b', values: b }]);
  assert.equal(at(r.axes, 0).tau, 0);
  assert.equal(at(r.axes, 1).tau, 1);
  assert.equal(r.psi, 0.5);
  assert.equal(at(r.axes, 0).groups, 2);
  assert.equal(at(r.axes, 0).runs, 4);
  // The pooled τ mixes the axes: 5 concordant, 1 discordant → 4/6.
  assert.ok(Math.abs(kendallTau(x, y).tau - 2 / 3) < 1e-15);
  // With the replicate = run index every group has one run: nothing is left.
  const none = granulatedKendall(x, y, [{ name: 'a', values: a }, { name: 'b', values: b }], { replicate: ['0', '1', '2', '3'] });
  assert.equal(at(none.axes, 0).status, 'no-groups');
  assert.equal(at(none.axes, 0).skippedGroups, 4);
  assert.ok(Number.isNaN(none.psi));
});

test('quantile interpolates linearly (numpy default)', () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([1, 2, 3, 4], 0), 1);
  assert.equal(quantile([1, 2, 3, 4], 1), 4);
  assert.ok(Math.abs(quantile([0, 10], 0.025) - 0.25) < 1e-15);
});
