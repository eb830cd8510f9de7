/**
 * Issue 22: the minimum-n rule, the degenerate-resample share, the cluster bootstrap, blown-up nets
 * and the per-net table (the report from the table equals the report from the run folders).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { bootstrapAbsTauDifferences, expandClusters } from '../../../src/study/stats/correlation';
import { blownUpReason } from '../../../src/study/report/blowup';
import { degenerateWithheld } from '../../../src/study/report/correlation';
import { correlationTables, reportCommand, type Table } from '../../../src/study/report';
import { makeConfig, makeRow, mainSweepRuns, tmpDir, writeSweep, type HandRun } from './fixture';
import * as checked from '../../../src/shared/checked';
import { at } from '../../../src/shared/checked';

function sink(): PassThrough {
  const s = new PassThrough();
  s.resume();
  return s;
}

test('degenerate share: counted by hand on fixed resamples', () => {
  // n = 3; resample [0, 0, 0] has a constant target (τ undefined: degenerate), [0, 1, 2] and
  // [2, 1, 0] are the full sample: 1 of 3 degenerate.
  const r = bootstrapAbsTauDifferences([[1, 2, 3], [3, 1, 2]], [1, 2, 3], { indices: [Int32Array.from([0, 0, 0]), Int32Array.from([0, 1, 2]), Int32Array.from([2, 1, 0])] });
  assert.equal(r.dropped, 1);
  assert.equal(r.resamples, 2);
  assert.equal(r.degenerateShare, 1 / 3);
  // Both used resamples equal the full sample: Δ = |τ(x2)| − |τ(x1)| = 1/3 − 1 = −2/3 both times, SE 0.
  assert.ok(Math.abs(checked.at(r.measures, 1).meanDiff + 2 / 3) < 1e-15);
  assert.equal(checked.at(r.measures, 1).se, 0);
});

test('cluster bootstrap: clusters drawn whole; the unit changes the interval', () => {
  assert.deepEqual([...expandClusters([1, 1, 0], [[0, 1], [2, 3]])], [2, 3, 2, 3, 0, 1]);
  const x1 = [1, 2, 3, 4, 5, 6, 7, 8];
  const x2 = [2, 1, 4, 3, 8, 7, 6, 5];
  const y = [1, 2, 3, 4, 5, 6, 7, 8];
  // Singleton clusters are the run bootstrap: the same draws, the same result.
  const runs = bootstrapAbsTauDifferences([x1, x2], y, { resamples: 300, seed: 3 });
  const singles = bootstrapAbsTauDifferences([x1, x2], y, { resamples: 300, seed: 3, clusters: x1.map(String) });
  assert.deepEqual(singles.measures, runs.measures);
  assert.equal(singles.unit, 'cluster');
  assert.equal(runs.unit, 'run');
  // Pairs of runs as clusters (4 units): a different resampling distribution, a different interval.
  const pairs = bootstrapAbsTauDifferences([x1, x2], y, { resamples: 300, seed: 3, clusters: ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd'] });
  assert.equal(pairs.units, 4);
  assert.notDeepEqual([checked.at(pairs.measures, 1).low, checked.at(pairs.measures, 1).high], [checked.at(runs.measures, 1).low, checked.at(runs.measures, 1).high]);
  // Hand check of one cluster draw: clusters [a, a, b, b] → runs 0,1,0,1,2,3,2,3.
  const one = bootstrapAbsTauDifferences([x1, x2], y, { indices: [Int32Array.from([0, 0, 1, 1])], clusters: ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd'] });
  // On runs 0,1,0,1,2,3,2,3: x1 = y (|τ| = 1); x2 = 2,1,2,1,4,3,4,3 vs y 1,2,1,2,3,4,3,4:
  // 28 pairs; tied in y: 4 (same run twice), tied in x2: the same 4; the 16 pairs across the two
  // clusters are concordant; within each cluster's 4 positions the 4 untied pairs are discordant
  // (8 in all) → S = 8, τ_b = 8/√(24·24) = 1/3 → Δ = 1/3 − 1 = −2/3.
  assert.ok(Math.abs(checked.at(one.measures, 1).meanDiff + 2 / 3) < 1e-15, String(checked.at(one.measures, 1).meanDiff));
});

test('blown-up rule: loss and flow bounds, chance accuracy while the twin learns', () => {
  const row = (s: { accuracy: number; loss: number; g2?: number }, d: { accuracy: number }): ReturnType<typeof makeRow> =>
    makeRow('r', makeConfig({}), {}, { accuracy: s.accuracy, loss: s.loss, flow: { g2: s.g2 ?? 1 } }, { accuracy: d.accuracy, loss: 0.5 });
  // ln 10 · 10 = 23.03: 380 is over, 23 is not.
  assert.match(blownUpReason(row({ accuracy: 0.1, loss: 380 }, { accuracy: 0.1 }), 'sparse') ?? '', /^test loss 380 > 23\.03/);
  assert.equal(blownUpReason(row({ accuracy: 0.5, loss: 23 }, { accuracy: 0.5 }), 'sparse'), undefined);
  assert.match(blownUpReason(row({ accuracy: 0.5, loss: 1, g2: 1e16 }, { accuracy: 0.5 }), 'sparse') ?? '', /^\|\|g\|\|_2 1\.00e\+16 > 1\.00e\+8/);
  // chance = 0.1: 0.15 is at chance, twin 0.35 learned; twin 0.34 did not.
  assert.match(blownUpReason(row({ accuracy: 0.15, loss: 2 }, { accuracy: 0.35 }), 'sparse') ?? '', /at chance/);
  assert.equal(blownUpReason(row({ accuracy: 0.15, loss: 2 }, { accuracy: 0.34 }), 'sparse'), undefined);
  assert.equal(blownUpReason(row({ accuracy: 0.16, loss: 2 }, { accuracy: 0.9 }), 'sparse'), undefined);
});

test('report --from-table reproduces the report from the run folders byte for byte', async () => {
  const dir = writeSweep(path.join(tmpDir(), 'sweep-hand'), mainSweepRuns());
  const a = path.join(tmpDir(), 'a');
  const b = path.join(tmpDir(), 'b');
  assert.equal(await reportCommand(dir, { out: a, format: 'md,csv,tex,svg', stdout: sink(), stderr: sink() }), 0);
  assert.ok(fs.existsSync(path.join(a, 'nets.jsonl')));
  fs.renameSync(path.join(dir), `${dir}-gone`); // the run folders are not needed
  assert.equal(await reportCommand(undefined, { fromTable: path.join(a, 'nets.jsonl'), out: b, exportTable: path.join(b, 'nets.jsonl'), format: 'md,csv,tex,svg', stdout: sink(), stderr: sink() }), 0);
  const fa = fs.readdirSync(a).sort();
  assert.deepEqual(fs.readdirSync(b).sort(), fa);
  for (const f of fa) assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), f);
  // A broken table names file, line and key.
  const bad = path.join(tmpDir(), 'bad.jsonl');
  const lines = fs.readFileSync(path.join(a, 'nets.jsonl'), 'utf8').split('\n');
  lines[2] = checked.at(lines, 2).replace('"width":', '"widthX":');
  fs.writeFileSync(bad, lines.join('\n'));
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  err.on('data', (c: Buffer) => chunks.push(c));
  assert.equal(await reportCommand(undefined, { fromTable: bad, stdout: sink(), stderr: err }), 2);
  assert.match(Buffer.concat(chunks).toString(), /bad\.jsonl:3: model\.width: .*config\.json has no number model\.width/);
});

test('degenerate share: just under, at and just over the 10 % threshold', () => {
  // n = 8 runs; [0 × 8] makes the target constant (degenerate), the identity draw is the sample.
  const x1 = [1, 2, 3, 4, 5, 6, 7, 8];
  const x2 = [2, 1, 4, 3, 6, 5, 8, 7];
  const y = [1, 2, 3, 4, 5, 6, 7, 8];
  const same = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
  const bad = new Int32Array(8);
  const draws = (degenerate: number, good: number): Int32Array[] => [...Array<Int32Array>(degenerate).fill(bad), ...Array<Int32Array>(good).fill(same)];
  const under = bootstrapAbsTauDifferences([x1, x2], y, { indices: draws(1, 10) }); // 1/11 = 9.1 %
  const at = bootstrapAbsTauDifferences([x1, x2], y, { indices: draws(1, 9) }); // 1/10 = 10 %
  const over = bootstrapAbsTauDifferences([x1, x2], y, { indices: draws(2, 17) }); // 2/19 = 10.5 %
  assert.equal(under.degenerateShare, 1 / 11);
  assert.equal(at.degenerateShare, 1 / 10);
  assert.equal(over.degenerateShare, 2 / 19);
  assert.equal(degenerateWithheld(under), undefined);
  assert.equal(degenerateWithheld(at), undefined);
  assert.equal(degenerateWithheld(over), 'withheld: 10.5 % of resamples degenerate (> 10 %)');
});

/**
 * Six sparse nets with every measure = i and test loss 0.6, 0.5, … 0.1 (τ = −1: 15 discordant
 * pairs), plus a seventh with the measures at 7 and test loss 380 (> 10·ln 10 = 23.03: blown up).
 * Included, its 6 pairs are all concordant: S = 6 − 15 = −9 of 21 pairs, τ = −3/7.
 */
function blownRuns(): HandRun[] {
  return [0, 1, 2, 3, 4, 5, 6].map((i): HandRun => {
    const blown = i === 6;
    const flow = { egf1: i + 1, egf2: i + 1, g1: i + 1, g2: i + 1 };
    return {
      id: blown ? 'blown' : `ok-${i}`,
      point: { 'sparsity.dense_width': 32, 'training.seed': i },
      config: makeConfig({ denseWidth: 32, seed: i }),
      sparse: { accuracy: blown ? 0.1 : 0.6 + i / 100, loss: blown ? 380 : 0.6 - i / 10, flow },
      dense: { accuracy: 0.5, loss: 0.5, flow },
    };
  });
}

test('--include-blown-up: the blown-up net changes a cell, and the note names it', async () => {
  const rows = blownRuns().map((r) => makeRow(r.id, r.config, r.point, r.sparse, r.dense));
  const cell = (t: Table, key: string): string | number => {
    const row = t.rows.find((r) => r[0] === 'sparse' && r[1] === 'EGF_1');
    assert.ok(row);
    return at(row, t.columns.findIndex((c) => c.key === key));
  };
  const [left] = correlationTables(rows);
  assert.ok(left);
  const [kept] = correlationTables(rows, { includeBlownUp: true });
  assert.ok(kept);
  assert.equal(cell(left, 'n'), 6);
  assert.ok(Math.abs((cell(left, 'tau_loss') as number) + 1) < 1e-15, String(cell(left, 'tau_loss')));
  assert.equal(cell(kept, 'n'), 7);
  assert.ok(Math.abs((cell(kept, 'tau_loss') as number) + 3 / 7) < 1e-15, String(cell(kept, 'tau_loss')));
  assert.ok(left.notes.includes('sparse: 1 blown-up net left out (docs/study.md, "Blown-up nets"): run-blown sparse (test loss 380 > 23.03 (10·ln 10)).'), left.notes.join('\n'));
  assert.ok(kept.notes.some((n) => /^sparse: 1 blown-up net kept \(--include-blown-up\): run-blown sparse \(test loss 380/.test(n)), kept.notes.join('\n'));
  // The flag through `gradflow report`: the written table changes the same way.
  const dir = writeSweep(path.join(tmpDir(), 'sweep-blown'), blownRuns());
  const csvOf = async (includeBlownUp: boolean): Promise<string> => {
    const out = path.join(tmpDir(), 'out');
    assert.equal(await reportCommand(dir, { out, format: 'csv', includeBlownUp, stdout: sink(), stderr: sink() }), 0);
    return fs.readFileSync(path.join(out, 'correlation-fashion-mnist.csv'), 'utf8');
  };
  assert.match(await csvOf(false), /^sparse,EGF_1,6,-(1|0\.99999999999999\d*),/m);
  assert.match(await csvOf(true), /^sparse,EGF_1,7,-0\.428571428571428/m);
});

test('report header and per-net table carry no machine path', async () => {
  const dir = writeSweep(path.join(tmpDir(), 'sweep-hand'), mainSweepRuns());
  const out = path.join(tmpDir(), 'out');
  assert.equal(await reportCommand(dir, { out, format: 'md', stdout: sink(), stderr: sink() }), 0);
  const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
  // Outside the working directory: the folder's name only.
  assert.match(md, /^- sweep folder: `sweep-hand`$/m);
  const table = fs.readFileSync(path.join(out, 'nets.jsonl'), 'utf8');
  for (const text of [md, table]) assert.ok(!text.includes(path.dirname(dir)), 'an absolute path leaked');
  const head = JSON.parse(checked.at(table.split('\n'), 0)) as { dir: string };
  assert.equal(head.dir, 'sweep-hand');
  const first = JSON.parse(checked.at(table.split('\n'), 1)) as { runId: string; runDir: string };
  assert.equal(first.runDir, first.runId);
});
