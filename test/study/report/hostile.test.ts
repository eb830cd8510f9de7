/**
 * Issue 18, row 6: a sweep whose name, dataset name and a grid value carry newlines, escape
 * sequences and every format's specials. The whole report (Markdown, CSV, LaTeX, SVG) is written;
 * each file keeps its structure (test/fuzz/output-invariants.ts) and shows the name escaped, on
 * one line, where it is shown.
 */
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExperimentConfig } from '../../../src/shared/experiment';
import { loadSweepResults, writeReport } from '../../../src/study/report';
import { csvProblems, latexProblems, markdownTableProblems, rawControls } from '../../fuzz/output-invariants';
import { mainSweepRuns, tmpDir, writeSweep } from './fixture';

const ESC = '\u001b';
const HOSTILE = `evil | cell\n## forged heading\n| a | b |${ESC}]0;pwned\u0007${ESC}[2J \`code\` <b>x</b> [l](javascript:x) 50% $x$ {y} \\par\n\n=cmd|' /c calc'!A1, "q"`;

test('a hostile sweep name, dataset name and grid value: every report file keeps its structure', async () => {
  const runs = mainSweepRuns().map((r) => ({
    ...r,
    point: { ...r.point, 'run.note': HOSTILE },
    // A config.json on disk can hold any dataset name (the report reads it as a string).
    config: { ...r.config, dataset: { ...r.config.dataset, name: HOSTILE as ExperimentConfig['dataset']['name'] } },
  }));
  const dir = writeSweep(path.join(tmpDir(), 'sweep-hostile'), runs);
  // The name as the manifest records it (the fixture also puts its name in folder names, which a `/` forbids).
  const manifest = path.join(dir, 'sweep.json');
  fs.writeFileSync(manifest, JSON.stringify({ ...(JSON.parse(fs.readFileSync(manifest, 'utf8')) as object), name: HOSTILE }));
  const results = loadSweepResults(dir);
  const out = path.join(tmpDir(), 'report');
  const files = await writeReport(results, out, { formats: ['md', 'csv', 'tex', 'svg'], note: () => undefined, bootstrapResamples: 200 });

  const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
  const lines = md.split('\n');
  // The name, one line, escaped (hand-written): controls visible, `\ | ` < > [ ] !` backslash-escaped.
  assert.equal(
    lines[0],
    "# Sweep report: evil \\| cell\\\\n## forged heading\\\\n\\| a \\| b \\| \\`code\\` \\<b\\>x\\</b\\> \\[l\\](javascript:x) 50% \\$x\\$ {y} \\\\par\\\\n\\\\n=cmd\\|' /c calc'\\!A1, \"q\"",
  );
  assert.equal(lines[1], '');
  assert.deepEqual(markdownTableProblems(md), []);
  assert.ok(!lines.some((l) => l.startsWith('## forged') || l.startsWith('| a | b |')), 'no forged heading or table row');
  // Headings are the report's own: the title, its sections, and the tables' and plots' titles.
  for (const l of lines.filter((x) => x.startsWith('#'))) assert.match(l, /^(# Sweep report: |## |### )/, l);

  let csvs = 0;
  let texs = 0;
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    if (f.endsWith('.csv')) {
      csvs++;
      assert.deepEqual(csvProblems(text), [], f);
    } else if (f.endsWith('.tex')) {
      texs++;
      // Column count: the letters of the tabular spec, a `p{width}` counting as one.
      const spec = /\\begin\{tabular\}\{((?:[^{}]|\{[^}]*\})*)\}/.exec(text)?.[1] ?? '';
      assert.deepEqual(latexProblems(text, spec.replace(/\{[^}]*\}/g, '').length), [], f);
    } else {
      assert.deepEqual(rawControls(text), [], f);
    }
  }
  assert.ok(csvs >= 4 && texs >= 4, `${csvs} CSV, ${texs} LaTeX files`);
  // The width table shows the grid value: escaped in its cell (CSV: one field, quoted, visible \n).
  const width = fs.readdirSync(out).find((n) => /^width-.*\.csv$/.test(n));
  assert.ok(width);
  assert.ok(fs.readFileSync(path.join(out, width), 'utf8').includes(', run.note=evil | cell\\n## forged heading\\n| a | b | `code`'), 'the setting cell');
});

function hasPdflatex(): boolean {
  return spawnSync('pdflatex', ['--version'], { encoding: 'utf8' }).status === 0;
}

test('the hostile report\'s LaTeX tables compile with pdflatex', { skip: !hasPdflatex() && 'pdflatex not installed', timeout: 120_000 }, async () => {
  const runs = mainSweepRuns().map((r) => ({ ...r, point: { ...r.point, 'run.note': HOSTILE }, config: { ...r.config, dataset: { ...r.config.dataset, name: HOSTILE as ExperimentConfig['dataset']['name'] } } }));
  const out = path.join(tmpDir(), 'report');
  const files = await writeReport(loadSweepResults(writeSweep(path.join(tmpDir(), 'sweep-tex'), runs)), out, { formats: ['tex'], note: () => undefined, bootstrapResamples: 200 });
  assert.ok(files.length >= 4);
  fs.writeFileSync(
    path.join(out, 'doc.tex'),
    ['\\documentclass{article}', '\\usepackage{booktabs}', '\\usepackage{graphicx}', '\\usepackage[table]{xcolor}', '\\begin{document}', ...files.map((f) => `\\input{${path.basename(f, '.tex')}}`), '\\end{document}', ''].join('\n'),
  );
  const r = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'doc.tex'], { cwd: out, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout.split('\n').filter((l) => l.startsWith('!')).join('\n') || r.stdout.slice(-2000));
  // The name is typeset as text: its `\par` was escaped, not run.
  assert.ok(fs.existsSync(path.join(out, 'doc.pdf')));
});
