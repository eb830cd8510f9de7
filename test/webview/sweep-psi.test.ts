/**
 * The sweep view's granulated Kendall Ψ (src/shared/sweep-psi.ts): hand-worked on a small sweep,
 * and equal to the report's Ψ on the same runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { psiDisplay, sweepAxisGroups, sweepPsi } from '../../src/shared/sweep-psi';
import { granulatedSummary } from '../../src/study/report';
import { makeConfig, makeRow } from '../study/report/fixture';
import { PSI_SWEEP, result, row } from './sweep-fixtures';
import type { SweepRow } from '../../src/shared/webview-protocol';
import { at } from '../../src/shared/checked';

function pageRows(): SweepRow[] {
  return PSI_SWEEP.map(([opt, dw, seed, egf1, loss], i) =>
    row(`c${i}`, { 'training.optimizer': opt, 'sparsity.dense_width': dw, 'training.seed': seed }, { sparse: result(1 - loss, loss, egf1, egf1 * 2, 10 - i, (i * 5) % 7) }),
  );
}

test('Ψ of EGF_1 vs test loss, worked by hand: −0.5 (axis optimizer −0.5, axis dense_width −0.5)', () => {
  const p = sweepPsi(pageRows());
  assert.deepEqual(p.map((r) => `${r.net} ${r.target}`), ['sparse testLoss', 'sparse testAccuracy']);
  assert.equal(at(p, 0).psi.egf1, -0.5);
  assert.equal(at(p, 1).psi.egf1, 0.5);
  assert.equal(at(p, 0).runs, 8);
  assert.equal(at(p, 0).axes, 2);
});

test('the sweep view and the report compute the same Ψ from the same runs', () => {
  const reportRows = PSI_SWEEP.map(([opt, dw, seed, egf1, loss], i) => {
    const config = makeConfig({ optimizer: opt as 'sgd' | 'adam', denseWidth: dw, seed });
    config.model.width = 64;
    return makeRow(`c${i}`, config, { 'training.optimizer': opt, 'sparsity.dense_width': dw, 'training.seed': seed }, {
      accuracy: 1 - loss,
      loss,
      flow: { egf1, egf2: egf1 * 2, g1: 10 - i, g2: (i * 5) % 7 },
    });
  });
  const fromReport = granulatedSummary(reportRows);
  const fromPage = sweepPsi(pageRows());
  for (const p of fromPage) {
    for (const m of ['g1', 'g2', 'egf1', 'egf2'] as const) {
      const r = fromReport.find((x) => x.net === p.net && x.measure === m && x.target === (p.target === 'testLoss' ? 'loss' : 'accuracy'));
      assert.ok(r);
      if (Number.isNaN(r.psi)) assert.ok(Number.isNaN(p.psi[m]));
      else assert.equal(p.psi[m], r.psi, `${p.net} ${m} ${p.target}`);
    }
  }
});

test('unfinished and diverged rows are left out; a linked pair of keys is one axis', () => {
  const rows = pageRows();
  rows.push(row('running', { 'training.optimizer': 'sgd', 'sparsity.dense_width': 80, 'training.seed': 0 }, { status: 'running', sparse: null }));
  rows.push(row('nan', { 'training.optimizer': 'sgd', 'sparsity.dense_width': 80, 'training.seed': 1 }, { sparse: result(0.1, null) }));
  assert.equal(at(sweepPsi(rows), 0).runs, 8);
  assert.equal(at(sweepPsi(rows), 0).psi.egf1, -0.5);
  const linked = pageRows().map((r) => ({ ...r, point: { ...r.point, 'training.learning_rate': r.point['training.optimizer'] === 'sgd' ? 0.1 : 0.001 } }));
  assert.deepEqual(sweepAxisGroups(linked.map((r) => r.point)).axes.map((a) => a.name), ['training.optimizer + training.learning_rate', 'sparsity.dense_width']);
  assert.equal(at(sweepPsi(linked), 0).psi.egf1, -0.5);
});

test('display: signed values with 3 decimals, n/a with a reason, an empty note before any pair', () => {
  const d = psiDisplay(pageRows());
  assert.deepEqual(d.header, ['net · target', '‖g‖₁', '‖g‖₂', 'EGF₁', 'EGF₂']);
  assert.equal(at(d.rows, 0).label, 'sparse · test loss');
  assert.equal(at(at(d.rows, 0).cells, 2).text, '-0.500');
  assert.match(at(at(d.rows, 0).cells, 2).title, /over 8 finished runs, 2 axis/);
  assert.equal(psiDisplay([at(pageRows(), 0)]).empty, 'Granulated Kendall Ψ: appears once two finished runs differ in one sweep axis only.');
  // Two runs of different seeds never share a group (seeds are replicates): n/a.
  const two = [at(pageRows(), 0), at(pageRows(), 7)];
  const d2 = psiDisplay(two);
  assert.equal(at(at(d2.rows, 0).cells, 0).text, 'n/a');
});
