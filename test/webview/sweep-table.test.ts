/**
 * The sweep table's pure logic (src/shared/sweep-table.ts): cell text, sorting, filtering, CSV.
 * Expected values are written out by hand; accuracies are binary-exact fractions (0.875, 0.75, …)
 * so differences are exact too and the CSV can be compared character for character.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracyDiff,
  cellText,
  defaultView,
  filterTerms,
  nextSort,
  rowMatches,
  sortRows,
  statusCounts,
  sweepColumns,
  sweepCsv,
  visibleRows,
  type SweepColumn,
} from '../../src/shared/sweep-table';
import type { SweepRow, SweepTableView } from '../../src/shared/webview-protocol';
import { result, row } from './sweep-fixtures';
import { at } from '../../src/shared/checked';

const AXES = ['training.optimizer', 'model.batch_norm', 'training.seed'];
const COLUMNS = sweepColumns(AXES);

function col(id: string): SweepColumn {
  const c = COLUMNS.find((x) => x.id === id);
  assert.ok(c, id);
  return c;
}

/** The tiny sweep: 2 optimizers × BN × 2 seeds minus one, every status once. */
const ROWS: SweepRow[] = [
  row('a', { 'training.optimizer': 'sgd', 'model.batch_norm': false, 'training.seed': 0 }, {
    sparse: result(0.875, 0.25, 12.5, 0.25),
    dense: result(0.75, 0.5, 10, 0.125),
  }),
  row('b', { 'training.optimizer': 'adam', 'model.batch_norm': true, 'training.seed': 0 }, { status: 'running', progress: 0.25 }),
  row('c', { 'training.optimizer': 'adam', 'model.batch_norm': true, 'training.seed': 1 }, { status: 'pending', runId: null }),
  row('d', { 'training.optimizer': 'sgd', 'model.batch_norm': true, 'training.seed': 1 }, { status: 'failed', message: 'NaN loss, "diverged"' }),
  row('e', { 'training.optimizer': 'sgd', 'model.batch_norm': false, 'training.seed': 1 }, {
    sparse: result(null, null, null, null),
    dense: result(0.5, 0.75, 3, 0.5),
  }),
];

const ids = (rows: SweepRow[]): string[] => rows.map((r) => r.configId);

describe('columns and cell text', () => {
  it('axes first (seed labelled "seed"), then status and the metrics in a fixed order', () => {
    assert.deepEqual(COLUMNS.map((c) => c.label), [
      'optimizer', 'batch_norm', 'seed', 'status',
      'sparse acc', 'dense acc', 'Δ acc', 'sparse loss', 'dense loss', 'sparse EGF₁', 'sparse EGF₂', 'dense EGF₁', 'dense EGF₂',
    ]);
    assert.deepEqual(COLUMNS.slice(0, 3).map((c) => c.id), ['axis:training.optimizer', 'axis:model.batch_norm', 'axis:training.seed']);
    assert.deepEqual(COLUMNS.slice(0, 3).map((c) => c.title), ['Sweep axis training.optimizer', 'Sweep axis model.batch_norm', 'Sweep axis training.seed']);
    // Axes sharing their last part keep the full key, so headers stay distinct.
    assert.deepEqual(sweepColumns(['model.width', 'sparsity.width', 'dataset.name']).slice(0, 3).map((c) => c.label), ['model.width', 'sparsity.width', 'name']);
  });

  it('formats accuracy as percent, the difference in signed percentage points, norms with 4 significant figures', () => {
    const a = at(ROWS, 0);
    assert.deepEqual(COLUMNS.map((c) => cellText(a, c)), [
      'sgd', 'false', '0', 'finished', '87.50%', '75.00%', '+12.50 pp', '0.25', '0.5', '12.5', '0.25', '10', '0.125',
    ]);
    const neg = row('n', {}, { sparse: result(0.5), dense: result(0.625) });
    assert.equal(cellText(neg, col('accuracyDiff')), '−12.50 pp');
    // A difference that rounds to zero has no sign.
    assert.equal(cellText(row('z', {}, { sparse: result(0.5 + 1e-6), dense: result(0.5) }), col('accuracyDiff')), '0.00 pp');
    assert.equal(cellText(row('z', {}, { sparse: result(0.5, 1.2345e-5, 123456) }), col('sparse.testLoss')), '1.23e-5');
    assert.equal(cellText(row('z', {}, { sparse: result(0.5, 1.2345e-5, 123456) }), col('sparse.egf1')), '1.23e+5');
  });

  it('shows NaN for a diverged metric and — for a missing one; running rows show their progress', () => {
    const e = at(ROWS, 4);
    assert.equal(cellText(e, col('sparse.testAccuracy')), 'NaN');
    assert.equal(cellText(e, col('accuracyDiff')), 'NaN');
    assert.ok(Number.isNaN(accuracyDiff(e)));
    assert.equal(cellText(at(ROWS, 1), col('sparse.testAccuracy')), '—');
    assert.equal(accuracyDiff(at(ROWS, 1)), undefined);
    assert.equal(cellText(at(ROWS, 1), col('status')), 'running 25%');
    assert.equal(cellText(at(ROWS, 2), col('status')), 'pending');
    // A run with only a dense net (method: none) has no difference.
    assert.equal(accuracyDiff(row('x', {}, { dense: result(0.5) })), undefined);
    assert.equal(cellText(row('x', {}), col('axis:training.seed')), '—');
  });
});

describe('sortRows', () => {
  it('sorts numbers numerically, not as text', () => {
    const rows = [10, 9, 100, 2].map((s, i) => row(`r${i}`, { 'training.seed': s }));
    assert.deepEqual(ids(sortRows(rows, COLUMNS, { column: 'axis:training.seed', direction: 'asc' })), ['r3', 'r1', 'r0', 'r2']);
    assert.deepEqual(ids(sortRows(rows, COLUMNS, { column: 'axis:training.seed', direction: 'desc' })), ['r2', 'r0', 'r1', 'r3']);
  });

  it('puts NaN and missing values last in both directions', () => {
    const asc = sortRows(ROWS, COLUMNS, { column: 'sparse.testAccuracy', direction: 'asc' });
    assert.deepEqual(ids(asc), ['a', 'b', 'c', 'd', 'e']); // only a has a number; the rest keep plan order
    const rows = [row('nan', {}, { sparse: result(null) }), row('lo', {}, { sparse: result(0.25) }), row('none', {}), row('hi', {}, { sparse: result(0.75) })];
    assert.deepEqual(ids(sortRows(rows, COLUMNS, { column: 'sparse.testAccuracy', direction: 'asc' })), ['lo', 'hi', 'nan', 'none']);
    assert.deepEqual(ids(sortRows(rows, COLUMNS, { column: 'sparse.testAccuracy', direction: 'desc' })), ['hi', 'lo', 'nan', 'none']);
  });

  it('is stable: ties keep sweep.json order in both directions', () => {
    assert.deepEqual(ids(sortRows(ROWS, COLUMNS, { column: 'axis:training.optimizer', direction: 'asc' })), ['b', 'c', 'a', 'd', 'e']);
    assert.deepEqual(ids(sortRows(ROWS, COLUMNS, { column: 'axis:training.optimizer', direction: 'desc' })), ['a', 'd', 'e', 'b', 'c']);
    assert.deepEqual(ids(sortRows(ROWS, COLUMNS, { column: 'axis:model.batch_norm', direction: 'asc' })), ['a', 'e', 'b', 'c', 'd']);
  });

  it('sorts strings naturally and mixed types numbers, booleans, strings', () => {
    const rows = ['w10', 'w2', 'W3'].map((v, i) => row(`r${i}`, { k: v }));
    const c = sweepColumns(['k']);
    assert.deepEqual(ids(sortRows(rows, c, { column: 'axis:k', direction: 'asc' })), ['r1', 'r2', 'r0']);
    const mixed = ['auto', 0.1, true, 0.01].map((v, i) => row(`m${i}`, { k: v }));
    assert.deepEqual(ids(sortRows(mixed, c, { column: 'axis:k', direction: 'asc' })), ['m3', 'm1', 'm2', 'm0']);
  });

  it('sorts status by lifecycle, running rows by progress', () => {
    const rows = [...ROWS, row('f', {}, { status: 'running', progress: 0.75 }), row('g', {}, { status: 'stopped' })];
    assert.deepEqual(ids(sortRows(rows, COLUMNS, { column: 'status', direction: 'asc' })), ['f', 'b', 'c', 'a', 'e', 'g', 'd']);
    assert.deepEqual(ids(sortRows(rows, COLUMNS, { column: 'status', direction: 'desc' })), ['d', 'g', 'a', 'e', 'c', 'b', 'f']);
  });

  it('leaves the order alone without a sort or for an unknown column, and never mutates its input', () => {
    const before = ids(ROWS);
    assert.deepEqual(ids(sortRows(ROWS, COLUMNS, null)), before);
    assert.deepEqual(ids(sortRows(ROWS, COLUMNS, { column: 'nope', direction: 'desc' })), before);
    sortRows(ROWS, COLUMNS, { column: 'accuracyDiff', direction: 'desc' });
    assert.deepEqual(ids(ROWS), before);
  });

  it('header clicks: a new column sorts ascending, the same one toggles', () => {
    assert.deepEqual(nextSort(null, 'status'), { column: 'status', direction: 'asc' });
    assert.deepEqual(nextSort({ column: 'status', direction: 'asc' }, 'status'), { column: 'status', direction: 'desc' });
    assert.deepEqual(nextSort({ column: 'status', direction: 'desc' }, 'status'), { column: 'status', direction: 'asc' });
    assert.deepEqual(nextSort({ column: 'status', direction: 'desc' }, 'accuracyDiff'), { column: 'accuracyDiff', direction: 'asc' });
  });
});

describe('filtering', () => {
  const all = new Set(defaultView().statuses);
  const match = (text: string): string[] => ids(ROWS.filter((r) => rowMatches(r, COLUMNS, filterTerms(text), all)));

  it('matches any cell, case-insensitively; every word must match some cell', () => {
    assert.deepEqual(match(''), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(match('ADAM'), ['b', 'c']);
    assert.deepEqual(match('sgd true'), ['d']);
    assert.deepEqual(match('  sgd   false  '), ['a', 'e']);
    assert.deepEqual(match('sgd adam'), []);
  });

  it('matches the text as shown (percent, signed points, progress)', () => {
    assert.deepEqual(match('87.50%'), ['a']);
    assert.deepEqual(match('+12.5'), ['a']);
    assert.deepEqual(match('running 25%'), ['b']);
    assert.deepEqual(match('nan'), ['e']); // the failed row's message is not a cell
  });

  it('filters by status and combines with text and sort', () => {
    const view: SweepTableView = { sort: { column: 'axis:training.seed', direction: 'desc' }, text: 'sgd', statuses: ['finished', 'failed'] };
    assert.deepEqual(ids(visibleRows(ROWS, COLUMNS, view)), ['d', 'e', 'a']);
    assert.deepEqual(ids(visibleRows(ROWS, COLUMNS, { ...view, statuses: [] })), []);
    assert.deepEqual(statusCounts(ROWS), { pending: 1, running: 1, finished: 2, stopped: 0, failed: 1 });
  });
});

describe('sweepCsv', () => {
  const header =
    'config_id,run_id,training.optimizer,model.batch_norm,training.seed,status,sparse_test_accuracy,dense_test_accuracy,accuracy_diff,' +
    'sparse_test_loss,dense_test_loss,sparse_egf1,sparse_egf2,dense_egf1,dense_egf2,progress,message\n';

  it('writes every row in sweep.json order at full precision; empty for missing, NaN for diverged; quotes per RFC 4180', () => {
    assert.equal(
      sweepCsv(ROWS, AXES, defaultView()),
      header +
        'a,run-a,sgd,false,0,finished,0.875,0.75,0.125,0.25,0.5,12.5,0.25,10,0.125,,\n' +
        'b,run-b,adam,true,0,running,,,,,,,,,,0.25,\n' +
        'c,,adam,true,1,pending,,,,,,,,,,,\n' +
        'd,run-d,sgd,true,1,failed,,,,,,,,,,,"NaN loss, ""diverged"""\n' +
        'e,run-e,sgd,false,1,finished,NaN,0.5,NaN,NaN,0.75,NaN,NaN,3,0.5,,\n',
    );
  });

  it('exports the view: filtered and sorted as the table shows it', () => {
    const view: SweepTableView = { sort: { column: 'sparse.testAccuracy', direction: 'desc' }, text: '', statuses: ['finished'] };
    assert.equal(
      sweepCsv(ROWS, AXES, view),
      header +
        'a,run-a,sgd,false,0,finished,0.875,0.75,0.125,0.25,0.5,12.5,0.25,10,0.125,,\n' +
        'e,run-e,sgd,false,1,finished,NaN,0.5,NaN,NaN,0.75,NaN,NaN,3,0.5,,\n',
    );
    assert.equal(sweepCsv([], AXES, defaultView()), header);
  });

  it('quotes axis values and keys that need it', () => {
    const rows = [row('q', { 'model.activation': 'relu, then "swish"', 'training.seed': 0 }, { status: 'pending', runId: null })];
    const csv = sweepCsv(rows, ['model.activation', 'training.seed'], defaultView());
    assert.equal(csv.split('\n')[1], 'q,,"relu, then ""swish""",0,pending,,,,,,,,,,,');
  });
});
