/**
 * The granulated / density-controlled / signs / bootstrap tables of the report, on hand-built
 * sweeps whose numbers are worked out by hand in the comments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildTables,
  granulatedSummary,
  renderCsv,
  renderLatex,
  renderMarkdown,
  robustCorrelationTables,
  sweepAxes,
  type SweepRow,
  type Table,
} from '../../../src/study/report';
import { makeConfig, makeRow } from './fixture';
import { at } from '../../../src/shared/checked';

function col(t: Table, key: string): number {
  const i = t.columns.findIndex((c) => c.key === key);
  assert.ok(i >= 0, `${t.id}: no column ${key} in ${t.columns.map((c) => c.key).join(', ')}`);
  return i;
}
function find(t: Table, match: Record<string, string>): (string | number)[] {
  const row = t.rows.find((r) => Object.entries(match).every(([k, v]) => r[col(t, k)] === v));
  assert.ok(row, `${t.id}: no row ${JSON.stringify(match)}`);
  return row;
}
function table(ts: Table[], id: string): Table {
  const t = ts.find((x) => x.id === id);
  assert.ok(t, `no table ${id} in ${ts.map((x) => x.id).join(', ')}`);
  return t;
}

/**
 * 2 optimizers × 2 density levels (dense_width 16, 48 at model.width 64: levels 0.25, 0.75) × 2
 * seeds, sparse nets only. EGF_1 = the density level plus a little: it tracks density; loss falls
 * with density except for adam at seed 1.
 *
 *   opt  dw seed | EGF_1 | loss | g2
 *   sgd  16  0   |  1.0  | 0.9  | 5
 *   sgd  48  0   |  3.0  | 0.5  | 4
 *   adam 16  0   |  1.1  | 0.8  | 3
 *   adam 48  0   |  3.1  | 0.4  | 6
 *   sgd  16  1   |  1.2  | 0.85 | 2
 *   sgd  48  1   |  3.2  | 0.45 | 7
 *   adam 16  1   |  1.3  | 0.3  | 1
 *   adam 48  1   |  3.3  | 0.6  | 8
 */
function handRows(): SweepRow[] {
  const spec: Array<[string, number, number, number, number, number]> = [
    ['sgd', 16, 0, 1.0, 0.9, 5],
    ['sgd', 48, 0, 3.0, 0.5, 4],
    ['adam', 16, 0, 1.1, 0.8, 3],
    ['adam', 48, 0, 3.1, 0.4, 6],
    ['sgd', 16, 1, 1.2, 0.85, 2],
    ['sgd', 48, 1, 3.2, 0.45, 7],
    ['adam', 16, 1, 1.3, 0.3, 1],
    ['adam', 48, 1, 3.3, 0.6, 8],
  ];
  return spec.map(([opt, dw, seed, egf1, loss, g2], i) => {
    const config = makeConfig({ optimizer: opt as 'sgd' | 'adam', denseWidth: dw, seed });
    config.model.width = 64;
    return makeRow(`r${i}`, config, { 'training.optimizer': opt, 'sparsity.dense_width': dw, 'model.activation': 'relu', 'training.seed': seed }, {
      accuracy: 1 - loss,
      loss,
      flow: { egf1, egf2: egf1 * 2, g1: 10 - i, g2 },
    });
  });
}

test('sweepAxes: seeds are not an axis, single-valued axes are named, linked keys become one axis', () => {
  const rows = handRows();
  assert.deepEqual(sweepAxes(rows), { axes: [{ name: 'training.optimizer', keys: ['training.optimizer'] }, { name: 'sparsity.dense_width', keys: ['sparsity.dense_width'] }], single: ['model.activation'] });
  // A linked item: learning rate tied to the optimizer.
  const linked = rows.map((r) => ({ ...r, point: { ...r.point, 'training.learning_rate': r.point['training.optimizer'] === 'sgd' ? 0.1 : 0.001 } }));
  assert.deepEqual(sweepAxes(linked).axes.map((a) => a.name), ['training.optimizer + training.learning_rate', 'sparsity.dense_width']);
});

test('granulated Kendall of the hand sweep, worked by hand', () => {
  const ts = robustCorrelationTables(handRows(), { bootstrapResamples: 200 });
  const g = table(ts, 'correlation-granulated-fashion-mnist');
  // EGF_1 vs loss, axis optimizer: groups (dw, seed) each hold sgd and adam:
  //   (16,0): EGF 1.0→1.1, loss 0.9→0.8: −1;  (48,0): 3.0→3.1, 0.5→0.4: −1;
  //   (16,1): 1.2→1.3, 0.85→0.3: −1;          (48,1): 3.2→3.3, 0.45→0.6: +1  → τ̄ = −0.5.
  // Axis dense_width: groups (opt, seed): sgd0: 1→3, 0.9→0.5 −1; adam0: −1; sgd1: −1;
  //   adam1: 1.3→3.3, 0.3→0.6: +1 → τ̄ = −0.5.  Ψ = −0.5, |Ψ| = 0.5.
  const r = find(g, { net: 'sparse', measure: 'EGF_1', target: 'test loss' });
  assert.equal(r[col(g, 'tau_training-optimizer')], -0.5);
  assert.equal(r[col(g, 'tau_sparsity-dense-width')], -0.5);
  assert.equal(r[col(g, 'psi')], -0.5);
  assert.equal(r[col(g, 'abs_psi')], 0.5);
  assert.ok(g.notes.some((n) => n === 'Skipped, one value only: model.activation.'));
  assert.ok(g.notes.some((n) => /seeds are replicates/.test(n)));
  // ||g||_1 = 10 − i falls along the run order: vs loss, axis optimizer: 4 groups (sgd before adam):
  //   loss 0.9→0.8 (g1 10→8: −, −) +1; 0.5→0.4 +1; 0.85→0.3 +1; 0.45→0.6 −1 → 0.5. Axis dense_width:
  //   sgd0: g1 10→9, loss 0.9→0.5 +1; adam0 +1; sgd1 +1; adam1: 0.3→0.6 −1 → 0.5. Ψ = 0.5, which
  //   ties EGF_1's |Ψ| = 0.5; the first measure wins the tie.
  assert.ok(g.notes.includes('Largest |Ψ|: sparse vs test loss ||g||_1 (Ψ = 0.500); sparse vs test acc. ||g||_1 (Ψ = -0.500). No uncertainty is attached to Ψ here; the bootstrap table below gives intervals for the pooled and density-controlled τ.'), g.notes.join('\n'));
  const axes = table(ts, 'correlation-granulated-axes-fashion-mnist');
  const a = find(axes, { net: 'sparse', axis: 'training.optimizer' });
  assert.deepEqual(a.slice(2), [2, 4, 8, 0]);
  // The sweep view's summary carries the same Ψ.
  const s = granulatedSummary(handRows()).find((x) => x.net === 'sparse' && x.measure === 'egf1' && x.target === 'loss');
  assert.equal(s?.psi, -0.5);
  assert.equal(s?.axes, 2);
});

test('density-controlled τ of the hand sweep, worked by hand', () => {
  const ts = robustCorrelationTables(handRows(), { bootstrapResamples: 200 });
  const d = table(ts, 'correlation-density-fashion-mnist');
  const r = find(d, { net: 'sparse', measure: 'EGF_1', target: 'test loss' });
  // τ(EGF_1, density): EGF_1 orders the two levels perfectly; pairs within a level are tied in z:
  //   n₀ = 28, tied in z: 2·C(4,2) = 12, concordant 16 → τ_b = 16/√(28·16) = 4/√28.
  const tXZ = 4 / Math.sqrt(28);
  assert.ok(Math.abs((r[col(d, 'tau_measure_density')] as number) - tXZ) < 1e-15);
  // τ(loss, density): across levels, 16 pairs: loss lower at 48 except adam1-48 (0.6) vs 16-level
  //   losses 0.9, 0.8, 0.85 (lower: discordant... ) — count: 48-level losses 0.5, 0.4, 0.45, 0.6 vs
  //   16-level 0.9, 0.8, 0.85, 0.3: pairs with loss48 < loss16 are discordant with z: 0.5:3, 0.4:3,
  //   0.45:3, 0.6:3 → 12 discordant, 4 concordant (each vs 0.3) → S = −8, τ = −8/√(28·16) = −2/√28.
  const tYZ = -2 / Math.sqrt(28);
  assert.ok(Math.abs((r[col(d, 'tau_target_density')] as number) - tYZ) < 1e-15);
  // Within density 0.25: EGF 1.0, 1.1, 1.2, 1.3 vs loss 0.9, 0.8, 0.85, 0.3: pairs (12) d, (13) d,
  //   (14) d, (23) c, (24) d, (34) d → S = −4, τ = −4/6. Within 0.75: 3.0..3.3 vs 0.5, 0.4, 0.45, 0.6:
  //   (12) d, (13) d, (14) c, (23) c, (24) c, (34) c → S = 2, τ = 2/6. Mean = −1/6.
  assert.ok(Math.abs((r[col(d, 'tau_within')] as number) - -1 / 6) < 1e-15);
  // Pooled τ(EGF_1, loss), all 8 distinct: within levels S = −4 + 2; across levels EGF is always
  //   higher at 48, so S_across = the loss–density S = −8 → S = −10, τ = −10/28.
  const tXY = -10 / 28;
  assert.ok(Math.abs((r[col(d, 'tau_pooled')] as number) - tXY) < 1e-15);
  const partial = (tXY - tXZ * tYZ) / Math.sqrt((1 - tXZ * tXZ) * (1 - tYZ * tYZ));
  assert.ok(Math.abs((r[col(d, 'tau_partial')] as number) - partial) < 1e-15);
  assert.ok(Math.abs((r[col(d, 'abs_tau_partial')] as number) - Math.abs(partial)) < 1e-15);
});

test('signs: agreement and disagreement lines', () => {
  const ts = robustCorrelationTables(handRows(), { bootstrapResamples: 200 });
  const s = table(ts, 'correlation-signs-fashion-mnist');
  // EGF_1 vs loss: pooled −, partial (−10/28 + 8/28)/… −, axes −, −. The two density levels have
  // 4 runs each, fewer than the minimum of 5, so their τs (− and +) are not counted as signs.
  const r = find(s, { net: 'sparse', measure: 'EGF_1', target: 'test loss' });
  assert.equal(r[col(s, 'subsets')], 4);
  assert.equal(r[col(s, 'positive')], 0);
  assert.equal(r[col(s, 'negative')], 4);
  assert.equal(r[col(s, 'verdict')], 'agrees: − in all 4 with a sign');
  // With the levels at 5 runs each (a fifth seed), they count: density 0.75 is then + (see below).
  const rows = handRows();
  const extra: SweepRow[] = [
    ['sgd', 16, 1.4, 0.95],
    ['sgd', 48, 3.4, 0.7],
  ].map(([opt, dw, egf1, loss], i) => {
    const config = makeConfig({ optimizer: opt as 'sgd', denseWidth: dw as number, seed: 2 });
    config.model.width = 64;
    return makeRow(`x${i}`, config, { 'training.optimizer': opt, 'sparsity.dense_width': dw, 'model.activation': 'relu', 'training.seed': 2 }, {
      accuracy: 1 - (loss as number),
      loss: loss as number,
      flow: { egf1: egf1 as number, egf2: (egf1 as number) * 2, g1: 1, g2: 1 },
    });
  });
  const s5 = table(robustCorrelationTables([...rows, ...extra], { bootstrapResamples: 50 }), 'correlation-signs-fashion-mnist');
  const r5 = find(s5, { net: 'sparse', measure: 'EGF_1', target: 'test loss' });
  // Within 0.25: EGF 1.0, 1.1, 1.2, 1.3, 1.4 vs loss 0.9, 0.8, 0.85, 0.3, 0.95: of the 10 pairs,
  //   concordant (1,5) (2,3) (2,5) (3,5) (4,5) = 5, discordant 5 → τ = 0 (no sign, listed apart).
  // Within 0.75: 3.0..3.4 vs 0.5, 0.4, 0.45, 0.6, 0.7: concordant (1,4) (1,5) (2,3) (2,4) (2,5) (3,4)
  //   (3,5) (4,5) = 8, discordant (1,2) (1,3) = 2 → τ = 6/10 > 0.
  assert.match(String(r5[col(s5, 'verdict')]), /^differs: \+ in .*density 0\.75; − in .*\(τ = 0 in density 0\.25\)$/);
});

test('bootstrap: seeded (same report twice), at least the requested resamples, verdict lines', () => {
  // Run units: 8 runs, the minimum; by configuration (the default here, seeds repeat) there would be 4.
  const a = table(robustCorrelationTables(handRows(), { bootstrapResamples: 300, bootstrapSeed: 5, bootstrapUnit: 'run' }), 'correlation-bootstrap-fashion-mnist');
  const b = table(robustCorrelationTables(handRows(), { bootstrapResamples: 300, bootstrapSeed: 5, bootstrapUnit: 'run' }), 'correlation-bootstrap-fashion-mnist');
  assert.deepEqual(a, b);
  assert.ok(at(a.notes, 0).includes('300 resamples') && at(a.notes, 0).includes('seed 5'));
  // With n = 8 nothing is separable: every cell says the top measures are indistinguishable.
  const lines = a.notes.filter((n) => /^sparse, test (loss|acc\.), τ( pooled|·density): /.test(n));
  assert.equal(lines.length, 4);
  for (const l of lines) assert.match(l, /top measures indistinguishable/);
  // Defaults: 2000 resamples, seed 13.
  const d = table(buildTables(handRows()).tables, 'correlation-bootstrap-fashion-mnist');
  assert.ok(at(d.notes, 0).includes('2000 resamples') && at(d.notes, 0).includes('seed 13'));
});

test('bootstrap: a measure that is the target names a best measure', () => {
  // g1 = −loss exactly (|τ| = 1), the others are noise: every resample has |τ_g1| = 1 > the rest.
  const rows = Array.from({ length: 30 }, (_, i) => {
    const loss = ((i * 17) % 30) / 30;
    const config = makeConfig({ seed: i, denseWidth: 16 + 16 * (i % 3) });
    config.model.width = 64;
    return makeRow(`b${i}`, config, { 'sparsity.dense_width': config.sparsity.denseWidth, 'training.seed': i }, {
      accuracy: 1 - loss,
      loss,
      flow: { g1: -loss, g2: (i * 7) % 11, egf1: (i * 5) % 13, egf2: (i * 3) % 7 },
    });
  });
  const t = table(robustCorrelationTables(rows, { bootstrapResamples: 2000, bootstrapUnit: 'run' }), 'correlation-bootstrap-fashion-mnist');
  assert.ok(t.notes.includes('sparse, test loss, τ pooled: best: ||g||_1 (every other measure\'s interval for Δ|τ| lies below 0).'), t.notes.join('\n'));
  const best = find(t, { net: 'sparse', target: 'test loss', statistic: 'τ pooled', measure: '||g||_1' });
  assert.equal(best[col(t, 'status')], 'best');
  assert.equal(best[col(t, 'tau')], -1);
});

test('the new tables render in Markdown, CSV and LaTeX with signed and absolute τ', () => {
  const ts = robustCorrelationTables(handRows(), { bootstrapResamples: 200 });
  for (const t of ts) {
    const md = renderMarkdown(t);
    // The title's `|` are escaped in Markdown (a pipe is a cell border in a table; escaped everywhere alike).
    assert.ok(md.startsWith(`### ${t.title.replace(/\|/g, '\\|')}\n`), md.split('\n')[0]);
    const csv = renderCsv(t);
    assert.equal(csv.split('\n')[0], t.columns.map((c) => c.key).join(','));
    assert.equal(csv.trimEnd().split('\n').length, t.rows.length + 1);
    const tex = renderLatex(t);
    assert.ok(tex.includes(`\\label{tab:${t.id}}`));
    // pdfLaTeX's default input encoding: every symbol must be escaped to ASCII.
    assert.doesNotMatch(tex, /[^\x00-\x7f]/, `${t.id}: non-ASCII character left in LaTeX`);
  }
  const keys = (id: string): string[] => table(ts, id).columns.map((c) => c.key);
  assert.ok(keys('correlation-granulated-fashion-mnist').includes('psi') && keys('correlation-granulated-fashion-mnist').includes('abs_psi'));
  assert.ok(keys('correlation-density-fashion-mnist').includes('tau_partial') && keys('correlation-density-fashion-mnist').includes('abs_tau_partial'));
  assert.ok(keys('correlation-bootstrap-fashion-mnist').includes('tau') && keys('correlation-bootstrap-fashion-mnist').includes('abs_tau'));
});

test('bad bootstrap options are refused with the option named', () => {
  assert.throws(() => robustCorrelationTables(handRows(), { bootstrapResamples: 0 }), /bootstrapResamples must be a positive integer/);
  assert.throws(() => robustCorrelationTables(handRows(), { confidence: 1 }), /confidence must be in \(0, 1\)/);
});
