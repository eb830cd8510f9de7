/**
 * Table renderers: Markdown, CSV and LaTeX (booktabs). Pure string functions.
 *
 * Shading of one-sided p-values (columns with `shade`), documented in docs/study.md:
 * - LaTeX: a diverging `\cellcolor` (xcolor's `table` option): green at p = 0 (sparse better),
 *   fading linearly to no colour at p = 0.5, then red up to p = 1 (the data lean towards dense).
 * - Markdown: significance marks after the number (`*`, `**`, `***` at 0.05, 0.01, 0.001) and `(d)`
 *   at p ≥ 0.95. Plain text because Markdown viewers strip inline styles, and the marks survive
 *   copying into an issue or a terminal.
 * - CSV: numbers at full precision, no marks (it is for further processing).
 */
import { csvField, latexText, markdownText } from '../../shared/sanitize';
import { LATEX_LABELS } from './labels';
import type { Cell, Column, Table } from './types';

/** Human form of a cell (Markdown, LaTeX). Non-finite numbers print as 'n/a'. */
export function formatCell(v: Cell | undefined, c: Column): string {
  if (typeof v === 'string') return v;
  // undefined: a row shorter than its columns; its missing cells read n/a, as a non-finite number does.
  if (v === undefined || !Number.isFinite(v)) return 'n/a';
  const digits = c.digits ?? 4;
  let s: string;
  switch (c.format) {
    case 'text':
      s = String(v);
      break;
    case 'int':
      s = Number.isInteger(v) ? String(v) : v.toFixed(0);
      break;
    case 'fixed':
      s = v.toFixed(digits);
      break;
    case 'sig':
      // Round to significant digits but print without exponent where JS does (1.235e+5 → 123500).
      s = String(Number(v.toPrecision(digits)));
      break;
    case 'p':
      s = formatP(v);
      break;
  }
  // -0.000 reads as a sign that is not there.
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** 4 decimals; below 0.001 scientific with 3 significant digits (a p of 1e-7 must not read as 0.0000). */
export function formatP(p: number): string {
  if (p === 0) return '0';
  return p >= 0.001 ? p.toFixed(4) : p.toExponential(2);
}

/** Markdown significance marks of a one-sided p (H1 sparse > dense). */
export function pMark(p: number): string {
  if (!Number.isFinite(p)) return '';
  if (p <= 0.001) return '***';
  if (p <= 0.01) return '**';
  if (p <= 0.05) return '*';
  if (p >= 0.95) return '(d)';
  return '';
}

/** xcolor spec of a p-value cell, or '' for no colour (p = 0.5 and non-numbers). */
export function pColor(p: number): string {
  if (!Number.isFinite(p)) return '';
  if (p < 0.5) {
    const k = Math.round(60 * (1 - 2 * p));
    return k > 0 ? `green!${k}!white` : '';
  }
  const k = Math.round(50 * (2 * p - 1));
  return k > 0 ? `red!${k}!white` : '';
}

const isNumeric = (c: Column): boolean => c.format !== 'text';

// -------------------------------------------------------------------------------------------------
// Markdown

/** A cell's text for Markdown (shared/sanitize.ts: one line, no pipe or markup of its own), then the significance mark. */
function mdCell(v: Cell | undefined, c: Column): string {
  const s = markdownText(formatCell(v, c));
  if (c.shade && typeof v === 'number') {
    const mark = pMark(v);
    return mark ? `${s} ${mark}` : s;
  }
  return s;
}

/** `### title`, a GitHub-flavoured table (numbers right-aligned), then the notes as a list. */
export function renderMarkdown(t: Table, headingLevel = 3): string {
  const lines: string[] = [`${'#'.repeat(headingLevel)} ${markdownText(t.title)}`, ''];
  lines.push(`| ${t.columns.map((c) => markdownText(c.label)).join(' | ')} |`);
  lines.push(`|${t.columns.map((c) => (isNumeric(c) ? '---:' : ':---')).join('|')}|`);
  for (const r of t.rows) lines.push(`| ${t.columns.map((c, i) => mdCell(r[i], c)).join(' | ')} |`);
  if (t.notes.length > 0) {
    lines.push('');
    for (const n of t.notes) lines.push(`- ${markdownText(n)}`);
  }
  return lines.join('\n') + '\n';
}

// -------------------------------------------------------------------------------------------------
// CSV

/** RFC 4180 fields (shared/sanitize.ts `csvField`: one line, no formula), '\n' line ends; header = column keys; numbers at full precision (NaN → empty). */
export function renderCsv(t: Table): string {
  const lines = [t.columns.map((c) => csvField(c.key)).join(',')];
  for (const r of t.rows) {
    lines.push(t.columns.map((_, i) => {
      const v = r[i];
      if (typeof v === 'string') return csvField(v);
      return Number.isFinite(v) ? String(v) : '';
    }).join(','));
  }
  return lines.join('\n') + '\n';
}

// -------------------------------------------------------------------------------------------------
// LaTeX

export function latexEscape(s: string): string {
  return LATEX_LABELS[s] ?? latexText(s);
}

function texCell(v: Cell | undefined, c: Column): string {
  const s = latexEscape(formatCell(v, c));
  if (c.shade && typeof v === 'number') {
    const color = pColor(v);
    if (color) return `\\cellcolor{${color}}${s}`;
  }
  return s;
}

/** Tables wider than this many columns are scaled to the text width (they overflow a page otherwise). */
export const LATEX_RESIZE_COLUMNS = 10;

/**
 * A floating `table` with a booktabs `tabular`; notes in a footnote-size paragraph under it.
 * Needs `\usepackage{booktabs}` and `\usepackage[table]{xcolor}`, plus `graphicx` for tables of more
 * than LATEX_RESIZE_COLUMNS columns, which are wrapped in `\resizebox{\textwidth}{!}{…}` (the first
 * line says which).
 */
export function renderLatex(t: Table): string {
  const spec = t.columns.map((c) => (c.wrap ? 'p{4cm}' : isNumeric(c) ? 'r' : 'l')).join('');
  const resize = t.columns.length > LATEX_RESIZE_COLUMNS;
  const lines = [
    `% gradflow report table; needs \\usepackage{booktabs}${resize ? ', \\usepackage{graphicx}' : ''} and \\usepackage[table]{xcolor}`,
    '\\begin{table}[htbp]',
    '  \\centering',
    `  \\caption{${latexEscape(t.title)}}`,
    `  \\label{tab:${t.id}}`,
    ...(resize ? ['  \\resizebox{\\textwidth}{!}{%'] : []),
    `  \\begin{tabular}{${spec}}`,
    '    \\toprule',
    `    ${t.columns.map((c) => latexEscape(c.label)).join(' & ')} \\\\`,
    '    \\midrule',
    ...t.rows.map((r) => `    ${t.columns.map((c, i) => texCell(r[i], c)).join(' & ')} \\\\`),
    '    \\bottomrule',
    `  \\end{tabular}${resize ? '}' : ''}`,
  ];
  if (t.notes.length > 0) {
    lines.push('  \\par\\smallskip', `  {\\footnotesize ${t.notes.map(latexEscape).join(' ')}\\par}`);
  }
  lines.push('\\end{table}');
  return lines.join('\n') + '\n';
}
