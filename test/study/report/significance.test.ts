import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  buildTables,
  compareRegularisers,
  loadSweepResults,
  regulariserLabel,
  significanceCells,
  significanceTables,
  type Table,
} from '../../../src/study/report';
import { normSf } from '../../../src/study/stats';
import { mainSweepRuns, makeConfig, makeRow, tmpDir, writeSweep } from './fixture';
import { at } from '../../../src/shared/checked';

function table(tables: Table[], id: string): Table {
  const t = tables.find((x) => x.id === id);
  assert.ok(t, `table ${id} among ${tables.map((x) => x.id).join(', ')}`);
  return t;
}

function loadMain(): ReturnType<typeof loadSweepResults> {
  return loadSweepResults(writeSweep(path.join(tmpDir(), 'sweep-hand'), mainSweepRuns()));
}

test('regulariser labels: DA, L2, SC, BN joined in that order, NR when none', () => {
  assert.equal(regulariserLabel(makeConfig()), 'NR');
  assert.equal(regulariserLabel(makeConfig({ batchNorm: true })), 'BN');
  assert.equal(regulariserLabel(makeConfig({ augmentation: true, batchNorm: true })), 'DA_BN');
  assert.equal(regulariserLabel(makeConfig({ weightDecay: 1e-4, batchNorm: true })), 'L2_BN');
  assert.equal(regulariserLabel(makeConfig({ skip: true, batchNorm: true })), 'SC_BN');
  assert.equal(regulariserLabel(makeConfig({ weightDecay: 1e-4 })), 'L2');
  assert.equal(regulariserLabel(makeConfig({ optimizer: 'adamw', weightDecay: 1e-2 })), 'L2', 'decoupled decay is still labelled L2');
  assert.equal(regulariserLabel(makeConfig({ weightDecay: 0, skip: true })), 'SC');
  assert.equal(regulariserLabel(makeConfig({ augmentation: true, weightDecay: 1e-4, skip: true, batchNorm: true })), 'DA_L2_SC_BN');
  const sorted = ['SC_BN', 'BN', 'DA_BN', 'NR', 'L2', 'DA', 'L2_BN', 'SC'].sort(compareRegularisers);
  assert.deepEqual(sorted, ['NR', 'DA', 'L2', 'SC', 'BN', 'DA_BN', 'L2_BN', 'SC_BN']);
});

test('Wilcoxon cells of optimizer × regulariser equal the hand-computed exact p-values', () => {
  const cells = significanceCells(loadMain().rows, 'regulariser');
  const cell = (o: string, r: string): (typeof cells)[number] => {
    const c = cells.find((x) => x.optimizer === o && x.column === r);
    assert.ok(c, `${o} × ${r}`);
    return c;
  };
  // n = 6, all differences positive: R+ = 21 is the largest of 2^6 equally likely sign patterns.
  const sgdBn = cell('sgd', 'BN');
  assert.equal(sgdBn.n, 6);
  assert.equal(sgdBn.method, 'exact');
  assert.equal(sgdBn.statistic, 21);
  assert.equal(sgdBn.pValue, 1 / 64);
  assert.equal(sgdBn.effect, 1);
  // All negative: R+ = 0, P(R+ >= 0) = 1.
  assert.equal(cell('sgd', 'NR').pValue, 1);
  assert.equal(cell('sgd', 'NR').effect, -1);
  // Ranks 1..5 positive, 6 negative: R+ = 15. P(R+ >= 15) = P(complement sum <= 6): the subsets of
  // {1..6} with sum <= 6 are {}, 6 singletons, {1,2},{1,3},{1,4},{1,5},{2,3},{2,4}, {1,2,3}: 14.
  const adamBn = cell('adam', 'BN');
  assert.equal(adamBn.statistic, 15);
  assert.equal(adamBn.pValue, 14 / 64);
  assert.ok(Math.abs(adamBn.effect - (15 - 6) / 21) < 1e-15);
  assert.ok(Math.abs(adamBn.meanDifference - 0.09 / 6) < 1e-12);
  // All differences zero: no p-value, with the reason.
  const adamNr = cell('adam', 'NR');
  assert.equal(adamNr.n, 6);
  assert.ok(Number.isNaN(adamNr.pValue));
  assert.match(adamNr.na ?? '', /all 6 differences are zero/);
});

test('the paper-style p table, its Holm version and the detail table', () => {
  const tables = buildTables(loadMain());
  const p = table(tables.tables, 'sig-wilcoxon-optimizer-x-regulariser-fashion-mnist');
  assert.deepEqual(p.columns.map((c) => c.key), ['optimizer', 'NR', 'BN']);
  assert.deepEqual(p.rows, [
    ['sgd', 1, 1 / 64],
    ['adam', 'n/a', 14 / 64],
  ]);
  assert.ok(p.notes.some((n) => /adam × NR: n\/a — all 6 differences are zero/.test(n)));
  // Holm over the 3 cells with a p: sorted 1/64, 14/64, 1 → 3/64, max(3/64, 28/64), max(…, 1).
  const h = table(tables.tables, 'sig-wilcoxon-optimizer-x-regulariser-fashion-mnist-holm');
  assert.deepEqual(h.rows, [
    ['sgd', 1, 3 / 64],
    ['adam', 'n/a', 28 / 64],
  ]);
  const d = table(tables.tables, 'sig-wilcoxon-optimizer-x-regulariser-fashion-mnist-detail');
  const sgdBn = d.rows.find((r) => r[0] === 'sgd' && r[1] === 'BN');
  assert.ok(sgdBn);
  const col = (k: string): number => d.columns.findIndex((c) => c.key === k);
  assert.equal(sgdBn[col('n')], 6);
  assert.equal(sgdBn[col('p')], 1 / 64);
  assert.equal(sgdBn[col('p_holm')], 3 / 64);
  assert.equal(sgdBn[col('note')], 'significant at α = 0.05 after Holm');
  // Activation table: one column (relu), two cells pooling BN and no BN (12 pairs each).
  const a = table(tables.tables, 'sig-wilcoxon-optimizer-x-activation-fashion-mnist');
  assert.deepEqual(a.columns.map((c) => c.key), ['optimizer', 'relu']);
  assert.equal(a.rows.length, 2);
});

test('too few non-zero differences: n/a with the reason; pairs need both nets', () => {
  const rows = [0.01, 0.02, 0.03, 0, 0].map((d, i) =>
    makeRow(`r${i}`, makeConfig({ seed: i }), { 'training.seed': i }, { accuracy: 0.5 + d }, { accuracy: 0.5 }),
  );
  rows.push(makeRow('single', makeConfig({ seed: 9 }), { 'training.seed': 9 }, { accuracy: 0.9 }));
  const [c] = significanceCells(rows, 'regulariser');
  assert.ok(c);
  assert.equal(c.n, 5, 'the sparse-only run is not a pair');
  assert.equal(c.used, 3);
  assert.match(c.na ?? '', /3 non-zero differences, fewer than 5: the smallest attainable p is 1\/2\^3 = 0\.125/);
  const [c2] = significanceCells(rows, 'regulariser', 'wilcoxon', 3);
  assert.ok(c2);
  assert.equal(c2.na, undefined);
  // Zeros present: like SciPy, 'auto' leaves the exact distribution for the normal approximation on
  // the 3 non-zero ranks: R+ = 6, μ = 3·4/4 = 3, σ² = 3·4·7/24 = 3.5, continuity −½ (method.md §4).
  assert.equal(c2.method, 'approx');
  assert.ok(Math.abs(c2.pValue - normSf((6 - 3 - 0.5) / Math.sqrt(3.5))) < 1e-15);
  const t = at(significanceTables(rows), 0);
  assert.ok(t.notes.some((n) => /1 run without both nets/.test(n)));
});

test('optional paired t-test and Mann-Whitney tables', () => {
  const results = loadMain();
  const tables = buildTables(results, { tests: ['wilcoxon', 'paired-t', 'mann-whitney'] }).tables;
  const t = table(tables, 'sig-paired-t-optimizer-x-regulariser-fashion-mnist-detail');
  const sgdBn = t.rows.find((r) => r[0] === 'sgd' && r[1] === 'BN');
  assert.ok(sgdBn);
  // d = 0.01..0.06 (up to rounding): mean 0.035, sd = 0.01·sqrt(3.5), t = 0.035/(sd/√6).
  const tStat = sgdBn[t.columns.findIndex((c) => c.key === 'statistic')] as number;
  assert.ok(Math.abs(tStat - 0.035 / ((0.01 * Math.sqrt(3.5)) / Math.sqrt(6))) < 1e-9);
  const mw = table(tables, 'sig-mann-whitney-optimizer-x-regulariser-fashion-mnist');
  // sgd × BN: every sparse value (0.51..0.56) exceeds the six tied dense 0.5: U = 36 of 36.
  const mwDetail = table(tables, 'sig-mann-whitney-optimizer-x-regulariser-fashion-mnist-detail');
  const row = mwDetail.rows.find((r) => r[0] === 'sgd' && r[1] === 'BN');
  assert.equal(row?.[mwDetail.columns.findIndex((c) => c.key === 'statistic')], 36);
  assert.equal(mw.rows.length, 2);
  assert.throws(() => buildTables(results, { tests: ['sign' as never] }), /unknown significance test 'sign'/);
});

test('tables are split by dataset', () => {
  const rows = [
    makeRow('a', makeConfig({ dataset: 'fashion-mnist' }), {}, { accuracy: 0.6 }, { accuracy: 0.5 }),
    makeRow('b', makeConfig({ dataset: 'cifar10' }), {}, { accuracy: 0.4 }, { accuracy: 0.3 }),
  ];
  const ids = significanceTables(rows).map((t) => t.id);
  assert.ok(ids.includes('sig-wilcoxon-optimizer-x-regulariser-fashion-mnist'));
  assert.ok(ids.includes('sig-wilcoxon-optimizer-x-regulariser-cifar10'));
});
