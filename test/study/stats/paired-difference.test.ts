/**
 * The paired difference |τ_m| − |τ_best| of the report's bootstrap table against an independent
 * numpy/SciPy computation on a committed per-net table (scripts/reference/paired_difference.py):
 * the same Mulberry32 draws, τ-b from scipy.stats.kendalltau, mean, SE (ddof 1) and numpy
 * percentiles. Run bootstrap and cluster (configuration) bootstrap, sparse and dense nets, test loss
 * and test accuracy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bootstrapCells } from '../../../src/study/report';
import { readTable } from '../../../src/study/report/table-io';
import { at } from '../../../src/shared/checked';
import { findRepoFolder } from '../find-up';

interface RefMeasure { measure: string; tau: number; abs: number; meanDiff: number; se: number; low: number; high: number }
interface RefCase { net: 'sparse' | 'dense'; target: 'loss' | 'accuracy'; unit: 'run' | 'configuration'; n: number; units: number; best: number; resamples: number; dropped: number; measures: RefMeasure[] }
interface Ref { scipy: string; resamples: number; seed: number; level: number; cases: RefCase[] }

const FIX = findRepoFolder(path.join('test', 'fixtures', 'stats'), 'paired_difference_reference.json');
const ref = JSON.parse(fs.readFileSync(path.join(FIX, 'paired_difference_reference.json'), 'utf8')) as Ref;
const rows = readTable(path.join(FIX, 'paired_difference_nets.jsonl')).rows;

test('paired difference |τ_a| − |τ_b|: equals numpy/SciPy on the committed per-net table (≤ 1e-12)', () => {
  assert.ok(ref.cases.length >= 8, 'reference has too few cases');
  let maxDev = 0;
  for (const unit of ['run', 'configuration'] as const) {
    const cells = bootstrapCells(rows, { bootstrapUnit: unit, bootstrapResamples: ref.resamples, bootstrapSeed: ref.seed, confidence: ref.level });
    for (const c of ref.cases.filter((x) => x.unit === unit)) {
      const what = `${c.net} ${c.target} ${c.unit}`;
      const cell = cells.find((x) => x.net === c.net && x.target === c.target && x.statistic === 'pooled');
      assert.ok(cell?.result, `${what}: no bootstrap result (${cell?.na ?? cell?.withheld ?? 'no cell'})`);
      const r = cell.result;
      assert.equal(cell.n, c.n, `${what}: n`);
      assert.equal(r.units, c.units, `${what}: units`);
      assert.equal(r.best, c.best, `${what}: best`);
      assert.equal(r.dropped, c.dropped, `${what}: dropped`);
      assert.equal(r.resamples, c.resamples, `${what}: resamples`);
      c.measures.forEach((m, i) => {
        const got = at(r.measures, i);
        for (const key of ['tau', 'abs', 'meanDiff', 'se', 'low', 'high'] as const) {
          const dev = Math.abs(got[key] - m[key]);
          maxDev = Math.max(maxDev, dev);
          assert.ok(dev <= 1e-12, `${what} ${m.measure} ${key}: ${got[key]} vs SciPy ${m[key]}`);
        }
      });
    }
  }
  // The pairing matters: the SE of the difference is not the SE of one τ, and it is not zero.
  assert.ok(ref.cases.some((c) => c.measures.some((m, i) => i !== c.best && m.se > 0)));
  console.log(`paired difference: ${ref.cases.length} cases, max |Δ| vs SciPy ${maxDev.toExponential(2)}`);
});
