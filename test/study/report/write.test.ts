import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSweepResults, parseFormats, writeReport } from '../../../src/study/report';
import { mainSweepRuns, tmpDir, writeSweep } from './fixture';
import { at } from '../../../src/shared/checked';

function results(): ReturnType<typeof loadSweepResults> {
  return loadSweepResults(writeSweep(path.join(tmpDir(), 'sweep-hand'), mainSweepRuns()));
}

test('writeReport writes report.md, per-table CSV/LaTeX and per-plot SVG, and lists them', async () => {
  const out = path.join(tmpDir(), 'report');
  const notes: string[] = [];
  const files = await writeReport(results(), out, { formats: ['md', 'csv', 'tex', 'svg'], note: (m) => notes.push(m) });
  const names = files.map((f) => path.relative(out, f));
  assert.equal(names[0], 'report.md');
  for (const id of ['correlation-fashion-mnist', 'sig-wilcoxon-optimizer-x-regulariser-fashion-mnist', 'sig-wilcoxon-optimizer-x-regulariser-fashion-mnist-holm', 'width-fashion-mnist']) {
    assert.ok(names.includes(`${id}.csv`) && names.includes(`${id}.tex`), id);
  }
  // 4 settings (optimizer × batch_norm) × 3 metrics.
  assert.equal(names.filter((n) => n.endsWith('.svg')).length, 12);
  assert.ok(names.includes('width-fashion-mnist-s1-accuracy.svg'));
  assert.ok(!names.some((n) => n.endsWith('.png')));
  for (const f of files) assert.ok(fs.statSync(f).size > 0, f);
  const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
  assert.match(md, /^# Sweep report: hand-sweep/);
  assert.match(md, /finished configurations: 24 of 24 planned/);
  assert.match(md, /\| sgd \| 1\.0000 \(d\) \| 0\.0156 \* \|/, 'the p table with marks');
  assert.match(md, /\[CSV\]\(sig-wilcoxon-optimizer-x-regulariser-fashion-mnist\.csv\) · \[LaTeX\]\(sig-wilcoxon-optimizer-x-regulariser-fashion-mnist\.tex\)/);
  assert.match(md, /- architectures: MLP with 2 hidden layers\n/);
  assert.match(md, /!\[final test accuracy vs width — fashion-mnist, MLP with 2 hidden layers \(training\.optimizer=sgd, model\.batch_norm=false\)\]\(width-fashion-mnist-s1-accuracy\.svg\)/);
  assert.deepEqual(notes, []);
});

test('PNG without chromium: skipped with a note, the report still written', async () => {
  const out = path.join(tmpDir(), 'report');
  const notes: string[] = [];
  const files = await writeReport(results(), out, { formats: ['md', 'png'], chromiumPath: '/nonexistent/chromium', note: (m) => notes.push(m) });
  assert.deepEqual(files.map((f) => path.basename(f)), ['report.md']);
  assert.equal(notes.length, 1);
  assert.match(at(notes, 0), /PNG plots skipped: \/nonexistent\/chromium not found/);
  assert.ok(!fs.readFileSync(at(files, 0), 'utf8').includes('.png'), 'no links to PNGs that do not exist');
});

test('PNG with Debian chromium', { skip: !fs.existsSync('/usr/bin/chromium') && '/usr/bin/chromium not installed', timeout: 120_000 }, async () => {
  const out = path.join(tmpDir(), 'report');
  const notes: string[] = [];
  // One setting (sgd with BN) keeps it to three plots.
  const one = loadSweepResults(writeSweep(path.join(tmpDir(), 'sweep-one'), mainSweepRuns().filter((r) => r.id.startsWith('sgd-bn'))));
  const files = await writeReport(one, out, { formats: ['png'], note: (m) => notes.push(m) });
  assert.deepEqual(notes, []);
  assert.deepEqual(files.map((f) => path.basename(f)), ['width-fashion-mnist-accuracy.png', 'width-fashion-mnist-egf1.png', 'width-fashion-mnist-egf2.png']);
  const png = fs.readFileSync(at(files, 0));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(png.readUInt32BE(16), 680 * 2, 'width at 2× device scale');
});

test('--format parsing', () => {
  assert.deepEqual(parseFormats('md, csv,md'), ['md', 'csv']);
  assert.throws(() => parseFormats('md,pdf'), /unknown report format 'pdf': expected a comma-separated list of md, csv, tex, svg, png/);
  assert.throws(() => parseFormats(''), /no report format given/);
});
