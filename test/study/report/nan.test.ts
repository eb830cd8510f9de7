/**
 * Issue 12: a report over runs with diverged nets. JSON carries their NaN as null; the report must
 * never print "null", "undefined" or a raw "NaN", must not crash, and every statistic must either
 * leave the non-finite values out and say so in the notes, or mark the cell n/a with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { buildTables, loadSweepResults, reportCommand, writeReport, type Table } from '../../../src/study/report';
import { makeConfig, tmpDir, writeSweep, type HandRun } from './fixture';

/**
 * Two criteria × 6 seeds. In every criterion seeds 4 and 5 diverged: seed 4's sparse net has NaN
 * loss, accuracy and measures (all null in summary.json), seed 5's dense net has NaN loss and
 * measures but a (chance-level) accuracy, as a net stopped by on_nan keeps.
 */
function runs(): HandRun[] {
  const out: HandRun[] = [];
  for (const method of ['random', 'synflow'] as const) {
    for (let seed = 0; seed < 6; seed++) {
      const d = (seed + 1) / 100;
      const sparseDiverged = seed === 4;
      const denseDiverged = seed === 5;
      out.push({
        id: `${method}-${seed}`,
        point: { 'sparsity.method': method, 'training.seed': seed, 'sparsity.dense_width': 64 },
        config: makeConfig({ method, seed }),
        sparse: sparseDiverged
          ? { accuracy: NaN, loss: NaN, flow: { g1: NaN, g2: NaN, egf1: NaN, egf2: NaN }, init: { egf1: NaN, egf2: NaN }, densities: [0.1, 0.01, 0.1], diverged: true }
          : { accuracy: 0.5 + d, loss: 1 - d, flow: { g1: 10 + seed, g2: 3 + seed, egf1: 2 + seed, egf2: 1 + seed / 10 }, init: { egf1: 5, egf2: 1 }, densities: [0.1, 0.01, 0.1] },
        dense: denseDiverged
          ? { accuracy: 0.1, loss: NaN, flow: { g1: NaN, g2: NaN, egf1: NaN, egf2: NaN }, diverged: true }
          : { accuracy: 0.5, loss: 1, flow: { g1: 5 + seed, g2: 2 + seed, egf1: 1 + seed, egf2: 0.5 + seed / 10 } },
        alerts: sparseDiverged ? [{ net: 'sparse', kind: 'nan', step: 3, layer: -1, value: 'NaN', message: 'sparse net, step 3: the loss is NaN', severity: 'error' }] : [],
      });
    }
  }
  return out;
}

/** The notes' English ("τ is undefined", "(τ undefined)", "null distribution") is prose, not a leaked JS value: removed before the check. */
function prose(text: string): string {
  return text.replace(/(\bis|τ|\$\\tau\$) undefined\b/g, '').replace(/\bnull distribution\b/g, '');
}

function sink(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

function byId(tables: Table[], id: string): Table {
  const t = tables.find((x) => x.id === id);
  assert.ok(t, id);
  return t;
}

test('summary.json really holds null for the diverged nets (the input this test is about)', () => {
  const dir = writeSweep(path.join(tmpDir(), 'sweep-nan'), runs(), 'nan');
  const run = fs.readdirSync(dir).find((f) => f.endsWith('-0004'));
  assert.ok(run);
  const text = fs.readFileSync(path.join(dir, run, 'summary.json'), 'utf8');
  assert.match(text, /"accuracy":null/);
  assert.match(text, /"egf2":null/);
});

test('a report over diverged nets: no null / undefined / NaN in any format, n/a or left out with a note', async () => {
  const dir = writeSweep(path.join(tmpDir(), 'sweep-nan'), runs(), 'nan');
  const out = path.join(tmpDir(), 'report');
  const err = sink();
  const code = await reportCommand(dir, { out, format: 'md,csv,tex,svg', stdout: sink().stream, stderr: err.stream });
  assert.equal(code, 0, err.text());
  const files = fs.readdirSync(out);
  assert.ok(files.includes('report.md') && files.some((f) => f.endsWith('.svg')) && files.includes('criteria-fashion-mnist.tex'));
  // nets.jsonl is data, not prose: JSON writes a non-finite number as null there, as summary.json does.
  for (const f of files.filter((x) => !x.endsWith('.jsonl'))) {
    const text = prose(fs.readFileSync(path.join(out, f), 'utf8'));
    assert.ok(!/\bnull\b/.test(text), `${f} prints null`);
    assert.ok(!/\bundefined\b/.test(text), `${f} prints undefined`);
    assert.ok(!/\bNaN\b|Infinity/.test(text), `${f} prints a raw NaN/Infinity`);
  }
  const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
  // Correlation: each net type left out its 2 diverged runs (sparse seed 4, dense seed 5 per criterion) and says so.
  assert.match(md, /sparse: 2 runs left out because a measure, the test loss or the test accuracy is not finite \(diverged\)\./);
  assert.match(md, /dense: 2 runs left out because a measure, the test loss or the test accuracy is not finite \(diverged\)\./);
});

test('the statistics skip the diverged nets explicitly: counts by hand', () => {
  const results = loadSweepResults(writeSweep(path.join(tmpDir(), 'sweep-nan'), runs(), 'nan'));
  const { tables } = buildTables(results);
  // Correlation: 12 nets per type, 2 non-finite → n = 10.
  const corr = byId(tables, 'correlation-fashion-mnist');
  assert.deepEqual([...new Set(corr.rows.map((r) => r[2]))], [10]);
  // Criteria: per criterion 6 runs, the sparse NaN of seed 4 left out of the means and counted;
  // 2 diverged runs (seed 4 sparse, seed 5 dense); pairs need both accuracies finite: 5 pairs.
  const crit = byId(tables, 'criteria-fashion-mnist');
  const col = (t: Table, key: string): unknown[] => t.rows.map((r) => r[t.columns.findIndex((c) => c.key === key)]);
  assert.deepEqual(col(crit, 'diverged'), [2, 2]);
  // Sparse accuracy mean over seeds 0,1,2,3,5: 0.5 + (1+2+3+4+6)/500 = 0.532.
  for (const v of col(crit, 'acc_sparse')) assert.ok(Math.abs((v as number) - 0.532) < 1e-12, String(v));
  // The dense accuracy keeps seed 5's chance level (a diverged net has lost): (5 × 0.5 + 0.1)/6.
  for (const v of col(crit, 'acc_dense')) assert.ok(Math.abs((v as number) - 2.6 / 6) < 1e-12, String(v));
  assert.ok(crit.notes.some((n) => n.includes('random/layerwise: 1 non-finite value each of EGF_1 at init, EGF_2 at init, EGF_1 11-point average, EGF_2 11-point average, sparse test accuracy;')), crit.notes.join('\n'));
  const wil = byId(tables, 'criteria-wilcoxon-fashion-mnist');
  assert.deepEqual(col(wil, 'n'), [5, 5]);
  // d = +0.01, +0.02, +0.03, +0.04 and seed 5: 0.56 − 0.1 = +0.46: all positive, R+ = 15, p = 1/32.
  for (const p of col(wil, 'p')) assert.ok(Math.abs((p as number) - 1 / 32) < 1e-12, String(p));
  // Width: 2 non-finite values per metric group are dropped and noted.
  const width = byId(tables, 'width-fashion-mnist');
  assert.ok(width.notes.some((n) => /non-finite values? \(diverged nets\) left out of the statistics/.test(n)), width.notes.join('\n'));
});

test('a sweep whose every sparse net diverged: cells n/a with the reason, still no crash', async () => {
  const all = runs().map((r) => ({ ...r, sparse: { accuracy: NaN, loss: NaN, flow: { g1: NaN, g2: NaN, egf1: NaN, egf2: NaN }, init: { egf1: NaN, egf2: NaN }, diverged: true } }));
  const results = loadSweepResults(writeSweep(path.join(tmpDir(), 'sweep-allnan'), all, 'allnan'));
  const out = path.join(tmpDir(), 'report');
  await writeReport(results, out, { formats: ['md', 'csv', 'tex'], note: () => undefined });
  const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
  assert.ok(!/\bnull\b|\bundefined\b|\bNaN\b/.test(prose(md)));
  assert.match(md, /\| random \| layerwise \| 6 \| n\/a \| n\/a \| n\/a \| n\/a \| n\/a \| 0\.4333 \| 0 \| 0 \| 0 \| 6 \|/);
  assert.match(md, /no run has both nets with a finite test accuracy/);
  const csv = fs.readFileSync(path.join(out, 'criteria-fashion-mnist.csv'), 'utf8');
  assert.match(csv, /^random,layerwise,6,n\/a,n\/a,n\/a,n\/a,n\/a,0\.43333+\d*,0,0,0,6$/m, 'CSV: the n/a marker, not null or NaN');
});
