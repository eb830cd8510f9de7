import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { formatCell, formatP, latexEscape, pColor, pMark, renderCsv, renderLatex, renderMarkdown, type Table } from '../../../src/study/report';
import { tempFolder } from '../../tmp';

const tiny: Table = {
  id: 'tiny',
  title: 'Tiny p & q',
  columns: [
    { key: 'optimizer', label: 'optimizer', format: 'text' },
    { key: 'BN', label: 'BN', format: 'p', shade: true },
    { key: 'n', label: 'n', format: 'int' },
    { key: 'tau', label: '|τ|', format: 'fixed', digits: 3 },
  ],
  rows: [
    ['sgd', 0.015625, 6, 0.4191],
    ['adam_x', 1, 6, -0.0001],
    ['momentum, 0.9', 'n/a', 0, NaN],
  ],
  notes: ['p is one-sided.'],
};

test('Markdown: exact output, p shading as significance marks', () => {
  assert.equal(
    renderMarkdown(tiny),
    [
      '### Tiny p & q',
      '',
      '| optimizer | BN | n | \\|τ\\| |',
      '|:---|---:|---:|---:|',
      '| sgd | 0.0156 * | 6 | 0.419 |',
      '| adam_x | 1.0000 (d) | 6 | 0.000 |',
      '| momentum, 0.9 | n/a | 0 | n/a |',
      '',
      '- p is one-sided.',
      '',
    ].join('\n'),
  );
});

test('CSV: exact output, full precision, quoted fields', () => {
  assert.equal(renderCsv(tiny), ['optimizer,BN,n,tau', 'sgd,0.015625,6,0.4191', 'adam_x,1,6,-0.0001', '"momentum, 0.9",n/a,0,', ''].join('\n'));
});

test('LaTeX: exact booktabs output with \\cellcolor shading', () => {
  assert.equal(
    renderLatex(tiny),
    [
      '% gradflow report table; needs \\usepackage{booktabs} and \\usepackage[table]{xcolor}',
      '\\begin{table}[htbp]',
      '  \\centering',
      '  \\caption{Tiny p \\& q}',
      '  \\label{tab:tiny}',
      '  \\begin{tabular}{lrrr}',
      '    \\toprule',
      '    optimizer & BN & n & \\textbar{}$\\tau$\\textbar{} \\\\',
      '    \\midrule',
      '    sgd & \\cellcolor{green!58!white}0.0156 & 6 & 0.419 \\\\',
      '    adam\\_x & \\cellcolor{red!50!white}1.0000 & 6 & 0.000 \\\\',
      '    momentum, 0.9 & n/a & 0 & n/a \\\\',
      '    \\bottomrule',
      '  \\end{tabular}',
      '  \\par\\smallskip',
      '  {\\footnotesize p is one-sided.\\par}',
      '\\end{table}',
      '',
    ].join('\n'),
  );
});

test('number formats, marks and colours', () => {
  assert.equal(formatP(0.5), '0.5000');
  assert.equal(formatP(0.00012345), '1.23e-4');
  assert.equal(formatP(0), '0');
  assert.equal(formatCell(123456.7, { key: 'x', label: 'x', format: 'sig', digits: 4 }), '123500');
  assert.equal(formatCell(0.000123456, { key: 'x', label: 'x', format: 'sig', digits: 3 }), '0.000123');
  assert.deepEqual([0.0005, 0.005, 0.05, 0.06, 0.95, 0.5].map(pMark), ['***', '**', '*', '', '(d)', '']);
  assert.deepEqual([0, 0.25, 0.5, 0.75, 1].map(pColor), ['green!60!white', 'green!30!white', '', 'red!25!white', 'red!50!white']);
  assert.equal(latexEscape('||g||_1'), '$\\|g\\|_1$');
  assert.equal(latexEscape('50% of a_b & {c} ~ #'), '50\\% of a\\_b \\& \\{c\\} \\textasciitilde{} \\#');
});

test('the LaTeX compiles with pdflatex (booktabs, xcolor, graphicx)', { skip: !hasPdflatex() && 'pdflatex not installed', timeout: 60_000 }, () => {
  const wide: Table = {
    id: 'wide',
    title: 'Wide <table> | 12 columns',
    columns: Array.from({ length: 12 }, (_, i) => ({ key: `c${i}`, label: `col_${i} ≤ τ`, format: i === 0 ? 'text' : 'p', shade: i > 0, wrap: i === 0 })),
    rows: [['a long setting, training.optimizer=sgd, model.batch_norm=true', ...Array.from({ length: 11 }, (_, i) => i / 10)]],
    notes: ['50% of runs & more: {braces} ~ # $ ^ \\ Δ × − ± ·'],
  };
  const dir = tempFolder('gradflow-tex-');
  fs.writeFileSync(
    path.join(dir, 'doc.tex'),
    ['\\documentclass{article}', '\\usepackage{booktabs}', '\\usepackage{graphicx}', '\\usepackage[table]{xcolor}', '\\begin{document}', renderLatex(tiny), renderLatex(wide), '\\end{document}', ''].join('\n'),
  );
  const r = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'doc.tex'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout.split('\n').filter((l) => l.startsWith('!')).join('\n'));
  assert.ok(!/Overfull \\hbox/.test(r.stdout), 'the wide table is scaled to the text width');
});

function hasPdflatex(): boolean {
  return spawnSync('pdflatex', ['--version'], { encoding: 'utf8' }).status === 0;
}
