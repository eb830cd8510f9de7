/**
 * Sweep reports (docs/study.md): load a sweep folder, build the correlation / SC-SDC significance /
 * width tables and plots, render them as Markdown, CSV, LaTeX, SVG and PNG.
 *
 *   const results = loadSweepResults(sweepDir);
 *   const files = await writeReport(results, outDir, { formats: ['md', 'csv', 'tex', 'svg', 'png'] });
 */
export { loadSweepResults, REQUIRED_NET_METRICS } from './load';
export { buildTables } from './build';
export {
  correlationTables,
  significanceTables,
  significanceCells,
  collectPairs,
  widthTablesAndPlots,
  settingLabel,
  widthLevel,
  describe,
  WILCOXON_OPTIONS,
} from './tables';
export type { CellPairs, CellResult, SignificanceAxis, Stats } from './tables';
export {
  robustCorrelationTables,
  granulatedCells,
  granulatedSummary,
  densityCells,
  bootstrapCells,
  bestVerdict,
  correlationRuns,
  sweepAxes,
  densityLevel,
  DEFAULT_BOOTSTRAP,
} from './correlation';
export type { BootstrapCell, CorrelationOptions, CorrelationRun, DensityCell, GranulatedCell, PsiSummary, SweepAxis, Target } from './correlation';
export { criteriaTables, criterionRows, criterionOf, variesPruningMethod, STATIC } from './criteria';
export type { CriterionKey, CriterionRow } from './criteria';
export { writeReport, parseFormats } from './write';
export type { WriteReportOptions } from './write';
export { renderMarkdown, renderCsv, renderLatex, formatCell, formatP, pMark, pColor, latexEscape } from './render';
export { renderSvg } from './svg';
export { regulariserLabel, compareRegularisers, MEASURES } from './labels';
export { ReportError, REPORT_FORMATS } from './types';
export type {
  Cell,
  Column,
  ColumnFormat,
  Plot,
  PlotPoint,
  PlotSeries,
  ReportErrorCode,
  ReportFormat,
  ReportTables,
  SignificanceTest,
  SweepResults,
  SweepRow,
  Table,
  TableOptions,
} from './types';
export { reportCommand } from './cli';
export type { ReportCommandOptions } from './cli';
