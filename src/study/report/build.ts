/**
 * The whole report's tables and plots, in report order: pruning criteria (when the sweep varies the
 * pruning method), correlation, significance, width (each per dataset).
 */
import { robustCorrelationTables } from './correlation';
import { criteriaTables } from './criteria';
import { correlationTables, significanceTables, widthTablesAndPlots } from './tables';
import type { ReportTables, SweepResults, SweepRow, TableOptions } from './types';

export function buildTables(input: SweepResults | readonly SweepRow[], options: TableOptions = {}): ReportTables {
  const rows = isRowArray(input) ? input : input.rows;
  const width = widthTablesAndPlots(rows);
  return {
    tables: [...criteriaTables(rows, options), ...correlationTables(rows, options), ...robustCorrelationTables(rows, options), ...significanceTables(rows, options), ...width.tables],
    plots: width.plots,
  };
}

function isRowArray(input: SweepResults | readonly SweepRow[]): input is readonly SweepRow[] {
  return Array.isArray(input);
}
