/**
 * The EGF early warning (src/study/early-warning): window features counted by hand, the metrics-log
 * reader, AUC and τ against SciPy (scripts/reference/early_warning_auc.py), hand-built sweeps where
 * the answer is known (EGF perfectly predictive → AUC 1 and a "yes"; EGF noise → an interval
 * covering 0.5 and a "no"), and the command on a sweep folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { mulberry32, kendallTau } from '../../../src/study/stats';
import { auc, pairwiseMetric } from '../../../src/study/early-warning/model';
import { evaluateCell, earlyVerdict, readEarlySteps, windowFeatures, type EarlyFeatures, type EarlyRun } from '../../../src/study/early-warning/early';
import { earlyWarningCommand } from '../../../src/study/early-warning/cli';
import { makeConfig, mainSweepRuns, tmpDir, writeSweep } from '../report/fixture';
import { at } from '../../../src/shared/checked';
import { findRepoFolder } from '../find-up';

const fixtures = (): string => findRepoFolder(path.join('test', 'fixtures', 'stats'), 'early_warning_auc.json');

function sink(): PassThrough {
  const s = new PassThrough();
  s.resume();
  return s;
}

test('window features: second-half means and log trends, counted by hand', () => {
  // w = 4: first half = steps 1, 2; second half = steps 3, 4. Norms measured on even steps only.
  const pts = [1, 2, 3, 4, 5].map((step) => ({
    step,
    loss: 10 - step,
    accuracy: step / 10,
    g2: step % 2 === 0 ? step * 3 : NaN,
    egf1: step % 2 === 0 ? step : NaN,
    egf2: step % 2 === 0 ? 2 * step : NaN,
  }));
  const f = windowFeatures(pts, 4);
  assert.equal(f.loss, (7 + 6) / 2);
  assert.equal(f.accuracy, (0.3 + 0.4) / 2);
  assert.equal(f.g2, 12);
  assert.equal(f.egf1, 4);
  assert.equal(f.egf2, 8);
  assert.equal(f.egf1Trend, Math.log(4) - Math.log(2));
  assert.equal(f.egf2Trend, Math.log(8) - Math.log(4));
});

function stepLine(net: string, step: number, egf: number | null): string {
  return JSON.stringify({ type: 'step', metrics: { net, step, epoch: 0, loss: 2 - step / 100, accuracy: 0.1 + step / 100, layers: [], egf1: egf, egf2: egf, g1: egf, g2: egf } });
}

test('metrics log: step records up to the window, both nets, torn line and nulls tolerated', () => {
  const dir = tmpDir();
  const lines = [JSON.stringify({ type: 'ready' })];
  for (let s = 1; s <= 10; s++) for (const net of ['sparse', 'dense']) lines.push(stepLine(net, s, s % 2 === 0 ? s : null));
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n{"type":"step","metr');
  const r = readEarlySteps(dir, 4);
  assert.deepEqual(r.sparse.map((p) => p.step), [1, 2, 3, 4]);
  assert.deepEqual(r.dense.map((p) => p.step), [1, 2, 3, 4]);
  assert.ok(Number.isNaN(at(r.sparse, 0).egf1));
  assert.equal(at(r.sparse, 1).egf1, 2);
  assert.deepEqual(readEarlySteps(path.join(dir, 'none'), 4), { sparse: [], dense: [] });
});

test('AUC and τ equal SciPy (Mann–Whitney U / n₁n₂, kendalltau) on the reference cases', () => {
  const ref = JSON.parse(fs.readFileSync(path.join(fixtures(), 'early_warning_auc.json'), 'utf8')) as { cases: Array<{ name: string; scores: number[]; labels: number[]; target: number[]; auc: number; tau: number }> };
  assert.ok(ref.cases.length >= 10);
  let max = 0;
  for (const c of ref.cases) {
    const a = auc(c.scores, c.labels);
    const t = kendallTau(c.scores, c.target).tau;
    max = Math.max(max, Math.abs(a - c.auc), Math.abs(t - c.tau));
    assert.ok(Math.abs(a - c.auc) <= 1e-12, `${c.name}: AUC ${a} vs SciPy ${c.auc}`);
    assert.ok(Math.abs(t - c.tau) <= 1e-12, `${c.name}: τ ${t} vs SciPy ${c.tau}`);
    // The pairwise form with one score vector (P[i][j] = s_i) is the same AUC and τ-b.
    const P = c.scores.map((si) => c.scores.map(() => si));
    const all = Int32Array.from(c.scores, (_, i) => i);
    const pa = pairwiseMetric(P, c.labels, all, 'auc');
    const pt = pairwiseMetric(P, c.target, all, 'tau');
    max = Math.max(max, Math.abs(pa - c.auc), Math.abs(pt - c.tau));
    assert.ok(Math.abs(pa - c.auc) <= 1e-12, `${c.name}: pairwise AUC ${pa} vs SciPy ${c.auc}`);
    assert.ok(Math.abs(pt - c.tau) <= 1e-12, `${c.name}: pairwise τ ${pt} vs SciPy ${c.tau}`);
  }
  assert.ok(Number.isNaN(auc([1, 2], [1, 1])), 'one class: AUC undefined');
  console.log(`early-warning AUC/τ: ${ref.cases.length} cases, max |Δ| vs SciPy ${max.toExponential(2)}`);
});

const flat = (o: Partial<EarlyFeatures>): EarlyFeatures => ({ loss: 1, accuracy: 0.5, g2: 1, egf1: 1, egf2: 1, egf1Trend: 0, egf2Trend: 0, ...o });

/**
 * 16 configurations × 2 seeds. u = the run's signal: the sparse net beats its twin iff u > 0, and
 * its final accuracy is 0.5 + u/10. `egf(u, noise)` sets the sparse net's early EGF levels; loss,
 * accuracy and ‖g‖₂ are the same for both nets and every run (they carry nothing).
 */
function handRuns(egf: (u: number, noise: number) => number): EarlyRun[] {
  const next = mulberry32(7);
  const runs: EarlyRun[] = [];
  for (let c = 0; c < 16; c++) {
    for (let seed = 0; seed < 2; seed++) {
      const u = (c % 2 === 0 ? 1 : -1) * (0.2 + next());
      const e = egf(u, next() * 2 - 1);
      const features = { sparse: flat({ egf1: Math.exp(e), egf2: Math.exp(e / 2) }), dense: flat({}) };
      runs.push({ runId: `r${c}-${seed}`, configuration: `c${c}`, finalSparse: 0.5 + u / 10, finalDense: 0.5, early: [features, features, features] });
    }
  }
  return runs;
}

test('EGF perfectly predictive: AUC 1 and τ 1 held out, early loss 0.5 / 0, verdict yes', () => {
  const runs = handRuns((u) => u);
  const a = evaluateCell(runs, 1, 'beats', { resamples: 100 });
  const get = (c: typeof a, key: string): number => c.metrics.find((m) => m.key === key)?.value ?? NaN;
  assert.equal(a.n, 32);
  assert.equal(a.configurations, 16);
  assert.equal(a.positives, 16);
  assert.equal(get(a, 'egf'), 1);
  assert.equal(get(a, 'loss+egf'), 1);
  assert.equal(get(a, 'loss'), 0.5); // a constant score: every pair tied
  assert.equal(a.added.value, 0.5);
  assert.equal(a.added.lowAdjusted, 0.5);
  const b = evaluateCell(runs, 1, 'rank', { resamples: 50 });
  assert.ok(Math.abs(b.metrics.find((m) => m.key === 'egf')!.value - 1) < 1e-12);
  assert.match(earlyVerdict([a, b]), /^EGF adds over early loss: yes \(/);
});

test('EGF noise: the AUC interval covers 0.5 and the verdict is no', () => {
  const runs = handRuns((_u, noise) => noise);
  const a = evaluateCell(runs, 0, 'beats', { resamples: 200 });
  const m = a.metrics.find((x) => x.key === 'egf');
  assert.ok(m);
  assert.ok(m.low < 0.5 && m.high > 0.5, `interval [${m.low}, ${m.high}] should cover 0.5`);
  assert.ok(a.added.lowAdjusted <= 0, `gain interval ${a.added.lowAdjusted} should reach 0`);
  assert.match(earlyVerdict([a]), /^EGF adds over early loss: no \(/);
});

test('too few configurations or one class: n/a with the reason', () => {
  const runs = handRuns((u) => u).slice(0, 4); // 2 configurations
  assert.match(evaluateCell(runs, 0, 'beats').na ?? '', /too few configurations \(2\)/);
  const allWin = handRuns((u) => u).map((r) => ({ ...r, finalSparse: 0.9 }));
  assert.match(evaluateCell(allWin, 0, 'beats').na ?? '', /every sparse net beat its twin/);
});

test('gradflow early-warning on a sweep folder: writes the tables, exit 2 on a bad folder', () => {
  const runs = mainSweepRuns();
  const dir = writeSweep(path.join(tmpDir(), 'sweep-ew'), runs);
  // Every run folder gets a metrics log: 16 steps per net (makeNet says 80 steps: windows 4, 8, 16).
  for (const name of fs.readdirSync(dir).filter((n) => n !== 'sweep.json')) {
    const lines: string[] = [];
    for (let s = 1; s <= 16; s++) for (const net of ['sparse', 'dense']) lines.push(stepLine(net, s, s + (net === 'sparse' ? name.length % 3 : 0)));
    fs.writeFileSync(path.join(dir, name, 'metrics.jsonl'), lines.join('\n') + '\n');
  }
  const out = path.join(tmpDir(), 'out');
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  err.on('data', (c: Buffer) => chunks.push(c));
  assert.equal(earlyWarningCommand(dir, { out, bootstrapResamples: '20', stdout: sink(), stderr: err }), 0);
  for (const f of ['early-warning.md', 'early-warning.csv', 'early-warning-predictions.csv']) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.match(Buffer.concat(chunks).toString(), /^EGF adds over early loss: (yes|no) /m);
  const md = fs.readFileSync(path.join(out, 'early-warning.md'), 'utf8');
  assert.match(md, /sweep folder: `sweep-ew`/);
  assert.equal(earlyWarningCommand(path.join(dir, 'nope'), { stdout: sink(), stderr: sink() }), 2);
  assert.equal(earlyWarningCommand(dir, { bootstrapResamples: 'x', stdout: sink(), stderr: sink() }), 2);
  assert.ok(makeConfig());
});
