import { test } from 'node:test';
import assert from 'node:assert/strict';
import { correlationTables, describe, widthTablesAndPlots, type Table } from '../../../src/study/report';
import { normSf } from '../../../src/study/stats';
import { makeConfig, makeRow } from './fixture';
import { at } from '../../../src/shared/checked';

function cellOf(t: Table, net: string, measure: string, key: string): unknown {
  const row = t.rows.find((r) => r[0] === net && r[1] === measure);
  assert.ok(row, `${net} ${measure}`);
  return row[t.columns.findIndex((c) => c.key === key)];
}

test('Kendall τ-b: a perfectly monotone case and a tied case against hand values', () => {
  // sparse: EGF_1 = 1..5, loss falls, accuracy rises → τ = −1 and +1; exact two-sided p: only 1 of
  // the 5! orderings is perfectly discordant, p = 2/120.
  // dense: EGF_1 = 1, 2, 2, 3, 4 against loss 1, 2, 3, 4, 5 → n₀ = 10, concordant 9, discordant 0,
  // one pair tied in x: τ_b = 9/√((10−1)·10) = 3/√10; asymptotic with ties:
  // Var S = [5·4·15 − 2·1·9]/18 = 282/18, z = 9/√(282/18), p = 2·sf(z).
  const rows = [
    ...[1, 2, 3, 4, 5].map((x, i) =>
      makeRow(`s${i}`, makeConfig({ seed: i }), {}, { accuracy: 0.1 * x, loss: 1 - 0.1 * x, flow: { egf1: x, egf2: x, g1: x, g2: 6 - x } }),
    ),
    ...[1, 2, 2, 3, 4].map((x, i) =>
      makeRow(`d${i}`, makeConfig({ seed: 10 + i }), {}, undefined, { accuracy: 0.5 - 0.1 * i, loss: i + 1, flow: { egf1: x, egf2: x, g1: x, g2: x } }),
    ),
  ];
  const [t] = correlationTables(rows);
  assert.ok(t);
  assert.equal(t.id, 'correlation-fashion-mnist');
  assert.equal(cellOf(t, 'sparse', 'EGF_1', 'n'), 5);
  const close = (v: unknown, want: number, what: string): void => assert.ok(Math.abs((v as number) - want) < 1e-15, `${what}: ${String(v)} vs ${want}`);
  close(cellOf(t, 'sparse', 'EGF_1', 'tau_loss'), -1, 'τ');
  close(cellOf(t, 'sparse', 'EGF_1', 'abs_tau_loss'), 1, '|τ|');
  assert.ok(Math.abs((cellOf(t, 'sparse', 'EGF_1', 'p_loss') as number) - 2 / 120) < 1e-15);
  close(cellOf(t, 'sparse', 'EGF_1', 'tau_accuracy'), 1, 'τ acc');
  close(cellOf(t, 'sparse', '||g||_2', 'tau_loss'), 1, '||g||_2 falls as loss falls');
  const tau = cellOf(t, 'dense', 'EGF_1', 'tau_loss') as number;
  assert.ok(Math.abs(tau - 3 / Math.sqrt(10)) < 1e-15);
  assert.ok(Math.abs((cellOf(t, 'dense', 'EGF_1', 'abs_tau_loss') as number) - 3 / Math.sqrt(10)) < 1e-15);
  const p = cellOf(t, 'dense', 'EGF_1', 'p_loss') as number;
  assert.ok(Math.abs(p - 2 * normSf(9 / Math.sqrt(282 / 18))) < 1e-12);
  assert.equal(cellOf(t, 'dense', 'EGF_1', 'tau_accuracy'), -tau);
  assert.ok(t.notes.some((n) => n.startsWith('Largest |τ| with test loss: sparse ||g||_1 (|τ| = 1.000)')));
});

test('constant measures are n/a with the reason; diverged nets are left out and counted', () => {
  const rows = [1, 2, 3, 4, 5].map((x, i) => makeRow(`r${i}`, makeConfig({ seed: i }), {}, { accuracy: 0.1 * x, loss: x, flow: { egf1: 7 } }));
  rows.push(makeRow('nan', makeConfig({ seed: 9 }), {}, { accuracy: 0.3, loss: NaN }));
  const [t] = correlationTables(rows);
  assert.ok(t);
  assert.equal(cellOf(t, 'sparse', 'EGF_1', 'n'), 5);
  assert.equal(cellOf(t, 'sparse', 'EGF_1', 'tau_loss'), 'n/a');
  assert.ok(t.notes.some((n) => /^sparse: n\/a — kendallTau: x is constant; τ is undefined \(\|\|g\|\|_1 vs test loss, .*EGF_1 vs test loss, EGF_1 vs test accuracy, EGF_2 vs test loss, EGF_2 vs test accuracy\)\.$/.test(n)));
  assert.ok(t.notes.some((n) => /sparse: 1 run left out/.test(n)));
});

test('width table: mean, sample sd, min, max per net and width level; plots overlay sparse and dense', () => {
  const rows = [];
  const acc: Record<number, number[]> = { 32: [0.5, 0.6, 0.7], 64: [0.8, 0.8, 0.9] };
  for (const w of [64, 32]) {
    for (let seed = 0; seed < 3; seed++) {
      rows.push(
        makeRow(`${w}-${seed}`, makeConfig({ denseWidth: w, seed }), { 'sparsity.dense_width': w, 'training.seed': seed },
          { accuracy: acc[w]![seed]!, flow: { egf1: w + seed, egf2: 1 } },
          { accuracy: acc[w]![seed]! - 0.1, flow: { egf1: 1, egf2: 2 } }),
      );
    }
  }
  const { tables, plots } = widthTablesAndPlots(rows);
  const t = at(tables, 0);
  assert.equal(t.id, 'width-fashion-mnist');
  const col = (k: string): number => t.columns.findIndex((c) => c.key === k);
  const sparse32 = t.rows.find((r) => r[1] === 'sparse' && r[2] === 32);
  assert.ok(sparse32);
  assert.equal(sparse32[col('setting')], 'all runs');
  assert.equal(sparse32[col('n')], 3);
  assert.ok(Math.abs((sparse32[col('accuracy_mean')] as number) - 0.6) < 1e-12);
  assert.ok(Math.abs((sparse32[col('accuracy_std')] as number) - 0.1) < 1e-12, 'sample sd of 0.5, 0.6, 0.7');
  assert.equal(sparse32[col('accuracy_min')], 0.5);
  assert.equal(sparse32[col('accuracy_max')], 0.7);
  assert.equal(sparse32[col('egf1_mean')], 33);
  assert.equal(sparse32[col('egf1_std')], 1);
  assert.equal(sparse32[col('egf2_std')], 0);
  assert.deepEqual(t.rows.map((r) => `${r[1]} ${r[2]}`), ['sparse 32', 'sparse 64', 'dense 32', 'dense 64']);
  assert.deepEqual(plots.map((p) => p.id), ['width-fashion-mnist-accuracy', 'width-fashion-mnist-egf1', 'width-fashion-mnist-egf2']);
  assert.deepEqual(at(plots, 0).series.map((s) => s.name), ['sparse', 'dense']);
  assert.deepEqual(at(at(plots, 0).series, 0).points.map((p) => p.x), [32, 64]);
  const one = describe([0.25]);
  assert.equal(one.mean, 0.25);
  assert.ok(Number.isNaN(one.std), 'no sd from one run');
});

test('width: settings from the other grid axes get their own rows and plots', () => {
  const rows = ['sgd', 'adam'].flatMap((o) =>
    [0, 1].map((seed) =>
      makeRow(`${o}${seed}`, makeConfig({ optimizer: o as 'sgd' | 'adam', seed }), { 'training.optimizer': o, 'training.seed': seed }, { accuracy: 0.5 }, { accuracy: 0.4 }),
    ),
  );
  const { tables, plots } = widthTablesAndPlots(rows);
  assert.deepEqual([...new Set(at(tables, 0).rows.map((r) => r[0]))], ['training.optimizer=sgd', 'training.optimizer=adam']);
  assert.equal(plots.length, 6);
  assert.equal(at(plots, 0).id, 'width-fashion-mnist-s1-accuracy');
  assert.equal(at(plots, 3).subtitle, 'training.optimizer=adam');
});
