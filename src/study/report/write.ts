/**
 * Writes a sweep report folder: report.md (every table, links to the per-table CSV/LaTeX and to
 * the plots), `<table id>.csv` / `.tex`, `<plot id>.svg` / `.png`. The report is derived data:
 * writing it again overwrites the previous one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openPngRenderer } from './png';
import { markdownCode, markdownText, visibleControls } from '../../shared/sanitize';
import { renderCsv, renderLatex, renderMarkdown } from './render';
import { SVG_HEIGHT, SVG_WIDTH, renderSvg } from './svg';
import { buildTables } from './build';
import { displayPath } from './common';
import { architectureLabel } from './labels';
import { REPORT_FORMATS, type Plot, type ReportFormat, type ReportTables, type SweepResults, type Table, type TableOptions } from './types';
import { at } from '../../shared/checked';

export interface WriteReportOptions extends TableOptions {
  /** What to write; default all of md, csv, tex, svg, png. */
  formats?: readonly ReportFormat[];
  /** Tables already built with `buildTables` (otherwise built here from `results` with these options). */
  tables?: ReportTables;
  /** Where notes go (e.g. "PNG plots skipped: …"); default: stderr. */
  note?: (message: string) => void;
  /** Chromium used for PNGs; default /usr/bin/chromium. */
  chromiumPath?: string;
}

/** Parses a `--format md,csv,…` value; throws with the accepted names on an unknown one. */
export function parseFormats(spec: string): ReportFormat[] {
  const out: ReportFormat[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (!(REPORT_FORMATS as readonly string[]).includes(part)) throw new Error(`unknown report format '${part}': expected a comma-separated list of ${REPORT_FORMATS.join(', ')}`);
    if (!out.includes(part as ReportFormat)) out.push(part as ReportFormat);
  }
  if (out.length === 0) throw new Error(`no report format given: expected a comma-separated list of ${REPORT_FORMATS.join(', ')}`);
  return out;
}

const SECTIONS: ReadonlyArray<{ prefix: string; title: string; intro: string }> = [
  {
    prefix: 'criteria',
    title: 'Pruning criteria',
    intro:
      'The sweep varies how the sparse net is pruned (sparsity.method, sparsity.scope, sparsity.dynamic.method; docs/pruning.md): per criterion, gradient flow at initialisation and on average, final accuracy, collapsed runs, the per-layer densities, and the sparse-vs-dense Wilcoxon test.',
  },
  {
    prefix: 'correlation',
    title: 'Gradient flow vs test performance',
    intro:
      'Which gradient-flow measure tracks generalisation (method.md §4, §7): Kendall τ-b per net type and dataset, pooled over all runs; then the granulated Kendall coefficient (one axis at a time), the correlation with the density level controlled, whether each sign agrees across subsets, and a paired bootstrap of the differences in |τ| (docs/statistics.md).',
  },
  {
    prefix: 'sig-',
    title: 'Sparse vs dense (SC-SDC)',
    intro:
      'Is the sparse net better than its same-capacity dense twin? One-sided tests of H1 sparse > dense on final test accuracy, per cell; each cell pools the runs across all other axes (widths, depths, seeds, learning rates, …). Small p: sparse better; p near 1: the data lean towards dense.',
  },
  {
    prefix: 'width',
    title: 'Width',
    intro: 'Test accuracy and average EGF against the dense width level, sparse and dense overlaid.',
  },
];

function sectionOf(id: string): number {
  const i = SECTIONS.findIndex((s) => id.startsWith(s.prefix));
  return i < 0 ? SECTIONS.length : i;
}

function anchor(title: string): string {
  // GitHub's heading anchors: lower case, spaces to '-', most punctuation dropped.
  return visibleControls(title).toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function markdownReport(results: SweepResults, built: ReportTables, formats: readonly ReportFormat[], havePng: ReadonlySet<string>): string {
  const has = (f: ReportFormat): boolean => formats.includes(f);
  const out: string[] = [`# Sweep report: ${markdownText(results.name)}`, ''];
  out.push(`- sweep folder: ${markdownCode(displayPath(results.dir))}`);
  if (results.sourceFile) out.push(`- experiment file: ${markdownCode(displayPath(results.sourceFile))}`);
  out.push(`- finished configurations: ${results.rows.length} of ${results.planned} planned`);
  if (results.unfinished.length > 0) {
    const shown = results.unfinished.slice(0, 20).map((u) => markdownCode(u.id)).join(', ');
    out.push(`- not finished (not in the tables; \`gradflow sweep\` resumes them): ${shown}${results.unfinished.length > 20 ? `, … (${results.unfinished.length} in all)` : ''}`);
  }
  if (results.skipped.length > 0) {
    // A damaged run folder never takes the report down: it is named here with the reason.
    out.push(`- skipped: ${results.skipped.length} damaged run folder(s), not in the tables:`);
    for (const d of results.skipped.slice(0, 50)) out.push(`  - ${markdownCode(d.runId)}: ${markdownText(d.reason.replace(/\s+/g, ' '))}`);
    if (results.skipped.length > 50) out.push(`  - … (${results.skipped.length} in all)`);
  }
  if (results.orphaned.length > 0) out.push(`- ignored: ${results.orphaned.length} finished run(s) of configurations no longer in sweep.json (an earlier grid)`);
  const datasets = [...new Set(results.rows.map((r) => r.config.dataset.name))];
  out.push(`- datasets: ${datasets.map(markdownText).join(', ')}`);
  const architectures = [...new Set(results.rows.map((r) => architectureLabel(r.config.model)))];
  out.push(`- architectures: ${architectures.map(markdownText).join(', ')}`);
  out.push('', 'How to read the tables, the shading and the statistics: docs/study.md and docs/statistics.md in the Gradflow repository.', '');

  const tablesBySection = SECTIONS.map((_, i) => built.tables.filter((t) => sectionOf(t.id) === i));
  out.push('## Contents', '');
  SECTIONS.forEach((s, i) => {
    if (at(tablesBySection, i).length === 0) return;
    out.push(`- [${s.title}](#${anchor(s.title)})`);
    for (const t of at(tablesBySection, i)) out.push(`  - [${markdownText(t.title)}](#${anchor(t.title)})`);
  });
  const plots = built.plots.filter((p) => has('svg') || havePng.has(p.id));
  if (plots.length > 0) out.push('- [Plots](#plots)');
  out.push('');

  const links = (t: Table): string => {
    const l: string[] = [];
    if (has('csv')) l.push(`[CSV](${t.id}.csv)`);
    if (has('tex')) l.push(`[LaTeX](${t.id}.tex)`);
    return l.join(' · ');
  };
  SECTIONS.forEach((s, i) => {
    if (at(tablesBySection, i).length === 0) return;
    out.push(`## ${s.title}`, '', s.intro, '');
    for (const t of at(tablesBySection, i)) {
      out.push(renderMarkdown(t, 3));
      const l = links(t);
      if (l) out.push(l, '');
    }
  });
  if (plots.length > 0) {
    out.push('## Plots', '');
    for (const p of plots) out.push(...plotMarkdown(p, has('svg'), havePng.has(p.id)));
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

function plotMarkdown(p: Plot, svg: boolean, png: boolean): string[] {
  const image = svg ? `${p.id}.svg` : `${p.id}.png`;
  const extra = svg && png ? ` ([PNG](${p.id}.png))` : '';
  const title = p.subtitle ? `${p.title} (${p.subtitle})` : p.title;
  return [`### ${markdownText(title)}`, '', `![${markdownText(title)}](${image})${extra}`, '', ...p.notes.map((n) => `- ${markdownText(n)}`), ''];
}

/**
 * Writes the report into `outDir` (created if needed) and returns the absolute paths written, in
 * order. PNGs need /usr/bin/chromium and playwright-core; without them they are skipped with a note.
 */
export async function writeReport(results: SweepResults, outDir: string, options: WriteReportOptions = {}): Promise<string[]> {
  const formats = options.formats ?? REPORT_FORMATS;
  for (const f of formats) if (!(REPORT_FORMATS as readonly string[]).includes(f)) throw new Error(`unknown report format '${f}': expected ${REPORT_FORMATS.join(', ')}`);
  const note = options.note ?? ((m: string): void => void process.stderr.write(m + '\n'));
  const built = options.tables ?? buildTables(results, options);
  const dir = path.resolve(outDir);
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string): void => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    files.push(file);
  };

  // PNGs first, so report.md links only the ones that exist (chromium may be missing or fail).
  const svgs = built.plots.map((p) => ({ plot: p, svg: renderSvg(p) }));
  const pngs: string[] = [];
  if (formats.includes('png') && svgs.length > 0) {
    const renderer = await openPngRenderer(note, options.chromiumPath);
    if (renderer) {
      try {
        for (const s of svgs) {
          const file = path.join(dir, `${s.plot.id}.png`);
          try {
            await renderer.render(s.svg, SVG_WIDTH, SVG_HEIGHT, file);
            pngs.push(file);
          } catch (e) {
            note(`PNG of plot ${s.plot.id} skipped: ${(e as Error).message.split('\n')[0]}`);
          }
        }
      } finally {
        await renderer.close();
      }
    }
  }
  const havePng = new Set(pngs.map((f) => path.basename(f, '.png')));
  if (formats.includes('md')) write('report.md', markdownReport(results, built, formats, havePng));
  for (const t of built.tables) {
    if (formats.includes('csv')) write(`${t.id}.csv`, renderCsv(t));
    if (formats.includes('tex')) write(`${t.id}.tex`, renderLatex(t));
  }
  if (formats.includes('svg')) for (const s of svgs) write(`${s.plot.id}.svg`, s.svg);
  files.push(...pngs);
  return files;
}
