/**
 * The pruning-criteria tables (src/study/report/criteria.ts) on a hand-built run set whose numbers
 * are worked out by hand below: means, collapse counts, densities, and the exact one-sided Wilcoxon
 * p-values (counting sign assignments), Holm over the rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Alert } from '../../../src/shared/protocol';
import { ReportError, buildTables, criteriaTables, criterionRows, loadSweepResults, renderCsv, renderLatex, writeReport, type Table } from '../../../src/study/report';
import { makeConfig, makeRow, tmpDir, writeSweep, type HandRun } from './fixture';
import { at } from '../../../src/shared/checked';

const alert = (kind: Alert['kind'], severity: Alert['severity'], net: Alert['net'] = 'sparse'): Alert => ({ net, kind, step: 0, layer: 0, value: 0, message: kind, severity });

/**
 * Three criteria, dense test accuracy 0.5 throughout:
 * - snip / layerwise, seeds 0–5: d = sparse − dense = +0.01 … +0.06. Wilcoxon R+ = 1+…+6 = 21 of
 *   21; exact one-sided p = P(R+ ≥ 21) = 1/2^6 = 0.015625; r = (21 − 0)/21 = 1.
 *   EGF₂ at init = seed + 1 → mean 3.5; EGF₁ at init = 10(seed + 1) → 35; EGF₂ average 1 + seed/10 → 1.25.
 *   Densities 0.05 / 0.0025 / 0.05 in every run.
 * - grasp / global, seeds 0–5: d = +0.01 … +0.05, −0.06. R+ = 15, R− = 6; p = P(R+ ≥ 15) = P(R− ≤ 6):
 *   the subsets of {1…6} with sum ≤ 6 are {}, {1}…{6}, {1,2}, {1,3}, {1,4}, {1,5}, {2,3}, {2,4},
 *   {1,2,3}: 14, so p = 14/64 = 0.21875; r = (15 − 6)/21 = 3/7.
 *   First-layer density 0.01(seed + 1) → mean 0.035, min 0.01, max 0.06.
 *   Alerts: seed 0 an error collapse-at-mask, seed 1 a collapse in training, seed 2 both, seed 3 a
 *   collapse-at-mask warning (not a collapse), seed 4 a collapse of the dense net (not counted):
 *   collapsed 3, at mask 2, in training 2.
 * - random / layerwise, seeds 0–1: seed 1 diverged (sparse loss and accuracy NaN, EGF at init NaN):
 *   one pair, n/a; the sparse accuracy mean is seed 0's 0.6; diverged 1.
 * Holm over the two rows with a p: sorted 0.015625, 0.21875 → 2 × 0.015625 = 0.03125, then
 * max(0.03125, 1 × 0.21875) = 0.21875.
 */
function handRuns(): HandRun[] {
  const runs: HandRun[] = [];
  for (let seed = 0; seed < 6; seed++) {
    const d = (seed + 1) / 100;
    runs.push({
      id: `snip-${seed}`,
      point: { 'sparsity.method': 'snip', 'sparsity.scope': 'layerwise', 'training.seed': seed },
      config: makeConfig({ method: 'snip', scope: 'layerwise', seed }),
      sparse: { accuracy: 0.5 + d, init: { egf1: 10 * (seed + 1), egf2: seed + 1 }, flow: { egf1: 2, egf2: 1 + seed / 10 }, densities: [0.05, 0.0025, 0.05] },
      dense: { accuracy: 0.5 },
    });
  }
  const graspAlerts: Alert[][] = [
    [alert('collapse-at-mask', 'error')],
    [alert('collapse', 'warning')],
    [alert('collapse-at-mask', 'error'), alert('collapse', 'warning')],
    [alert('collapse-at-mask', 'warning')],
    [alert('collapse', 'warning', 'dense')],
    [],
  ];
  for (let seed = 0; seed < 6; seed++) {
    const d = (seed < 5 ? seed + 1 : -6) / 100;
    runs.push({
      id: `grasp-${seed}`,
      point: { 'sparsity.method': 'grasp', 'sparsity.scope': 'global', 'training.seed': seed },
      config: makeConfig({ method: 'grasp', scope: 'global', seed }),
      sparse: { accuracy: 0.5 + d, init: { egf1: 100, egf2: 50 }, flow: { egf1: 20, egf2: 10 }, densities: [0.01 * (seed + 1), 0.1, 0.4] },
      dense: { accuracy: 0.5 },
      alerts: at(graspAlerts, seed),
    });
  }
  runs.push({
    id: 'random-0',
    point: { 'sparsity.method': 'random', 'sparsity.scope': 'layerwise', 'training.seed': 0 },
    config: makeConfig({ method: 'random', scope: 'layerwise', seed: 0 }),
    sparse: { accuracy: 0.6, init: { egf1: 4, egf2: 2 }, flow: { egf1: 3, egf2: 1 }, densities: [0.05, 0.0025, 0.05] },
    dense: { accuracy: 0.5 },
  });
  runs.push({
    id: 'random-1',
    point: { 'sparsity.method': 'random', 'sparsity.scope': 'layerwise', 'training.seed': 1 },
    config: makeConfig({ method: 'random', scope: 'layerwise', seed: 1 }),
    sparse: { accuracy: NaN, loss: NaN, init: { egf1: NaN, egf2: NaN }, flow: { egf1: NaN, egf2: NaN }, densities: [0.05, 0.0025, 0.05], diverged: true },
    dense: { accuracy: 0.5 },
    alerts: [alert('nan', 'error')],
  });
  return runs;
}

function loaded(): ReturnType<typeof loadSweepResults> {
  return loadSweepResults(writeSweep(path.join(tmpDir(), 'sweep-criteria'), handRuns(), 'criteria'));
}

function byId(tables: Table[], id: string): Table {
  const t = tables.find((x) => x.id === id);
  assert.ok(t, `table ${id} (have ${tables.map((x) => x.id).join(', ')})`);
  return t;
}

function column(t: Table, key: string): unknown[] {
  const i = t.columns.findIndex((c) => c.key === key);
  assert.ok(i >= 0, `column ${key}`);
  return t.rows.map((r) => r[i]);
}

const close = (a: unknown, b: number, what: string): void => {
  assert.equal(typeof a, 'number', what);
  assert.ok(Math.abs((a as number) - b) < 1e-12, `${what}: ${String(a)} vs ${b}`);
};

test('criteria table: one row per criterion and scope in schema order, means and collapse counts by hand', () => {
  const tables = criteriaTables(loaded().rows);
  assert.deepEqual(tables.map((t) => t.id), ['criteria-fashion-mnist', 'criteria-density-fashion-mnist', 'criteria-wilcoxon-fashion-mnist']);
  const t = byId(tables, 'criteria-fashion-mnist');
  assert.deepEqual(t.columns.slice(0, 2).map((c) => c.key), ['method', 'scope'], 'no dynamic column: no run is dynamic');
  assert.deepEqual(t.rows.map((r) => [r[0], r[1], r[2]]), [['random', 'layerwise', 2], ['snip', 'layerwise', 6], ['grasp', 'global', 6]]);
  const [random, snip, grasp] = [0, 1, 2];
  close(column(t, 'egf2_init')[snip], 3.5, 'snip EGF2 at init');
  close(column(t, 'egf1_init')[snip], 35, 'snip EGF1 at init');
  close(column(t, 'egf2_avg')[snip], 1.25, 'snip EGF2 average');
  close(column(t, 'egf1_avg')[grasp], 20, 'grasp EGF1 average');
  close(column(t, 'acc_sparse')[snip], 0.535, 'snip sparse accuracy: 0.5 + 0.035');
  close(column(t, 'acc_sparse')[grasp], 0.5 + 0.09 / 6, 'grasp sparse accuracy: 0.5 + (0.15 − 0.06)/6');
  close(column(t, 'acc_dense')[grasp], 0.5, 'dense accuracy');
  // The diverged run's NaNs (null in summary.json) are left out of the means, and flagged.
  close(column(t, 'acc_sparse')[random], 0.6, 'random sparse accuracy: the finite run only');
  close(column(t, 'egf2_init')[random], 2, 'random EGF2 at init: the finite run only');
  assert.deepEqual(column(t, 'diverged'), [1, 0, 0]);
  assert.deepEqual(column(t, 'collapsed'), [0, 0, 3]);
  assert.deepEqual(column(t, 'collapsed_at_mask'), [0, 0, 2]);
  assert.deepEqual(column(t, 'collapsed_in_training'), [0, 0, 2]);
  assert.ok(t.notes.some((n) => /Rows with collapsed runs: grasp\/global \(3 of 6\)/.test(n)), t.notes.join('\n'));
  assert.ok(t.notes.some((n) => /not SC-SDC per layer/.test(n)));
  assert.ok(t.notes.some((n) => n.includes('random/layerwise: 1 non-finite value each of EGF_1 at init, EGF_2 at init, EGF_1 11-point average, EGF_2 11-point average, sparse test accuracy.')), t.notes.join('\n'));
});

test('criteria density table: per-layer means, and the spread when a layer varies within a row', () => {
  const t = byId(criteriaTables(loaded().rows), 'criteria-density-fashion-mnist');
  assert.deepEqual(t.columns.map((c) => c.label), ['method', 'scope', 'runs', 'dense1', 'dense2', 'output']);
  assert.deepEqual(at(t.rows, 1).slice(0, 3), ['snip', 'layerwise', 6]);
  [0.05, 0.0025, 0.05].forEach((d, l) => close(at(t.rows, 1)[3 + l], d, `snip layer ${l} density`));
  close(at(t.rows, 2)[3], 0.035, 'grasp first-layer density mean');
  assert.ok(t.notes.some((n) => n.includes('grasp/global dense1 0.0100–0.0600')), t.notes.join('\n'));
});

test('criteria Wilcoxon table: exact one-sided p by counting sign assignments, Holm over the rows, n/a with n', () => {
  const t = byId(criteriaTables(loaded().rows), 'criteria-wilcoxon-fashion-mnist');
  assert.deepEqual(column(t, 'n'), [1, 6, 6], 'the diverged run has no pair');
  assert.deepEqual(column(t, 'used'), [1, 6, 6]);
  close(column(t, 'statistic')[1], 21, 'snip R+');
  close(column(t, 'p')[1], 1 / 64, 'snip p');
  close(column(t, 'effect')[1], 1, 'snip r');
  close(column(t, 'statistic')[2], 15, 'grasp R+');
  close(column(t, 'p')[2], 14 / 64, 'grasp p');
  close(column(t, 'effect')[2], 3 / 7, 'grasp r');
  close(column(t, 'p_holm')[1], 2 / 64, 'snip Holm');
  close(column(t, 'p_holm')[2], 14 / 64, 'grasp Holm');
  close(column(t, 'mean_diff')[1], 0.035, 'snip mean difference');
  assert.deepEqual(at(t.rows, 0).slice(5, 9), ['n/a', 'n/a', 'n/a', 'n/a']);
  assert.match(String(column(t, 'note')[0]), /1 non-zero difference, fewer than 5: the smallest attainable p is 1\/2\^1 = 0\.500/);
  assert.equal(column(t, 'note')[1], 'exact');
});

test('criteria tables only when the sweep varies the pruning method; a dynamic column when a dynamic method is present', () => {
  const rows = loaded().rows;
  assert.deepEqual(criteriaTables(rows.filter((r) => r.config.sparsity.method === 'snip')), [], 'one method: no table');
  assert.ok(!buildTables(rows.filter((r) => r.config.sparsity.method === 'snip')).tables.some((t) => t.id.startsWith('criteria')));
  const dyn = [
    makeRow('s', makeConfig({ method: 'random' }), {}, { accuracy: 0.6, densities: [0.1, 0.1] }, { accuracy: 0.5 }),
    makeRow('r', makeConfig({ method: 'random', dynamic: 'rigl' }), {}, { accuracy: 0.7, densities: [0.1, 0.1] }, { accuracy: 0.5 }),
  ];
  const rowsOut = criterionRows(dyn).map((r) => [r.method, r.scope, r.dynamic]);
  assert.deepEqual(rowsOut, [['random', 'layerwise', 'static'], ['random', 'layerwise', 'rigl']]);
  const t = byId(criteriaTables(dyn), 'criteria-fashion-mnist');
  assert.deepEqual(t.columns.slice(0, 3).map((c) => c.key), ['method', 'scope', 'dynamic']);
  assert.deepEqual(t.rows.map((r) => r[2]), ['static', 'rigl']);
});

test('criteria tables in every format of the report: Markdown section, CSV, LaTeX; alerts read from summary.json', async () => {
  const out = path.join(tmpDir(), 'report');
  const files = await writeReport(loaded(), out, { formats: ['md', 'csv', 'tex'], note: () => undefined });
  const names = files.map((f) => path.basename(f));
  for (const id of ['criteria-fashion-mnist', 'criteria-density-fashion-mnist', 'criteria-wilcoxon-fashion-mnist']) {
    assert.ok(names.includes(`${id}.csv`) && names.includes(`${id}.tex`), id);
  }
  const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
  assert.ok(md.indexOf('## Pruning criteria') > 0 && md.indexOf('## Pruning criteria') < md.indexOf('## Gradient flow vs test performance'), 'criteria section first');
  assert.match(md, /\| grasp \| global \| 6 \| 100 \| 20 \| 50 \| 10 \| 0\.5150 \| 0\.5000 \| 3 \| 2 \| 2 \| 0 \|/);
  assert.match(md, /\| snip \| layerwise \| 6 \| 6 \| 0\.0350 \| 21 \| 0\.0156 \* \| 0\.0313 \* \| 1\.000 \| exact \|/);
  const csv = fs.readFileSync(path.join(out, 'criteria-wilcoxon-fashion-mnist.csv'), 'utf8').split('\n');
  assert.equal(csv[0], 'method,scope,n,used,mean_diff,statistic,p,p_holm,effect,note');
  assert.match(at(csv, 2), /^snip,layerwise,6,6,0\.03\d*,21,0\.015625,0\.03125,1,exact$/);
  const tex = fs.readFileSync(path.join(out, 'criteria-fashion-mnist.tex'), 'utf8');
  assert.match(tex, /\\resizebox\{\\textwidth\}/, '13 columns: scaled to the page');
  assert.match(tex, /grasp & global & 6 & 100 & 20 & 50 & 10 & 0\.5150 & 0\.5000 & 3 & 2 & 2 & 0 \\\\/);
  assert.equal(renderCsv(byId(criteriaTables(loaded().rows), 'criteria-fashion-mnist')), fs.readFileSync(path.join(out, 'criteria-fashion-mnist.csv'), 'utf8'));
  assert.ok(renderLatex(byId(criteriaTables(loaded().rows), 'criteria-density-fashion-mnist')).includes('dense1 & dense2 & output'));
});

test('a summary.json alert that is not an alert makes a bad run: skipped and named (the report goes on); alone, it fails the report', () => {
  const runs = handRuns();
  at(runs, 0).mutate = (s): void => {
    s.alerts = [{ net: 'sparse', kind: 'melted', severity: 'error' }];
  };
  const results = loadSweepResults(writeSweep(path.join(tmpDir(), 'sweep-bad-alert'), runs, 'criteria'));
  assert.equal(results.skipped.length, 1);
  assert.match(at(results.skipped, 0).reason, /summary\.json alerts\[0\] is not an alert/);
  assert.equal(results.rows.length, new Set(runs.map((r) => r.id)).size - 1);
  assert.throws(
    () => loadSweepResults(writeSweep(path.join(tmpDir(), 'sweep-bad-alert-alone'), [at(runs, 0)], 'criteria')),
    (e: unknown) => e instanceof ReportError && e.code === 'bad-run' && /summary\.json alerts\[0\] is not an alert/.test(e.message) && e.metric === 'alerts[0]',
  );
});

test('the EGF collapse guard gets its own criteria rows (scope global+egf) and a note; gmp rows a note', () => {
  const guarded = { ...makeConfig({ method: 'snip', scope: 'global' }) };
  guarded.sparsity = { ...guarded.sparsity, guard: 'egf' };
  const rows = [
    makeRow('a', makeConfig({ method: 'snip', scope: 'global' }), {}, { accuracy: 0.4, densities: [0.1, 0.1] }, { accuracy: 0.5 }),
    makeRow('b', guarded, {}, { accuracy: 0.6, densities: [0.1, 0.1] }, { accuracy: 0.5 }),
    makeRow('c', makeConfig({ method: 'gmp' }), {}, { accuracy: 0.7, densities: [0.1, 0.1] }, { accuracy: 0.5 }),
  ];
  assert.deepEqual(criterionRows(rows).map((r) => [r.method, r.scope]), [['snip', 'global'], ['snip', 'global+egf'], ['gmp', 'layerwise']]);
  const t = byId(criteriaTables(rows), 'criteria-fashion-mnist');
  assert.ok(t.notes?.some((n) => n.includes('+egf')));
  assert.ok(t.notes?.some((n) => n.startsWith('gmp (gradual magnitude pruning')));
  // Guard only, one method: still a criteria table (the guard is what varies).
  assert.equal(criterionRows(rows.slice(0, 2)).length, 2);
  assert.notDeepEqual(criteriaTables(rows.slice(0, 2)), []);
});
