/**
 * `gradflow report SWEEP_DIR [--out DIR] [--format md,csv,tex,svg,png] [--bootstrap-resamples N]
 * [--bootstrap-seed N] [--confidence L]` as one function, so the CLI only collects its arguments
 * and forwards them as typed. Returns the process exit code: 0 written, 2 bad input (not a sweep
 * folder, nothing finished, a broken run, an unknown format, a bad flag value).
 */
import * as path from 'node:path';
import { terminalText } from '../../shared/sanitize';
import { loadSweepResults } from './load';
import { BOOTSTRAP_UNITS, DEFAULT_BOOTSTRAP, type BootstrapUnit } from './correlation';
import { TABLE_FILE, exportTable, readTable } from './table-io';
import * as fs from 'node:fs';
import { ReportError, REPORT_FORMATS, type ReportFormat, type TableOptions } from './types';
import { parseFormats, writeReport } from './write';

export interface ReportCommandOptions {
  /** Output folder; default `<sweepDir>/report`. */
  out?: string | undefined;
  /** The `--format` value as typed (comma-separated); default all formats. */
  format?: string | undefined;
  /** `--bootstrap-resamples` as typed: a positive integer (default 2000). */
  bootstrapResamples?: string | undefined;
  /** `--bootstrap-seed` as typed: an integer 0 … 2^32 − 1 (default 13). */
  bootstrapSeed?: string | undefined;
  /** `--confidence` as typed: the bootstrap intervals' level, strictly between 0 and 1 (default 0.95). */
  confidence?: string | undefined;
  /** `--bootstrap-unit` as typed: auto | run | configuration (default auto). */
  bootstrapUnit?: string | undefined;
  /** `--include-blown-up`: keep blown-up nets in the correlation tables. */
  includeBlownUp?: boolean;
  /** `--from-table FILE`: read the per-net table instead of the run folders (then no sweep folder is given). */
  fromTable?: string | undefined;
  /** `--export-table FILE`: where to write the per-net table (default `<out>/nets.jsonl`). */
  exportTable?: string | undefined;
  /** Where the list of written files goes. */
  stdout: NodeJS.WritableStream;
  /** Where notes (skipped PNGs, unfinished runs) and errors go. */
  stderr: NodeJS.WritableStream;
}


/** A decimal number as typed (no hex, no empty string, no trailing junk). */
function decimal(flag: string, value: string, expected: string): number {
  const t = value.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) throw new Error(`${flag}: expected ${expected}, got '${value}'`);
  return Number(t);
}

/**
 * The bootstrap options of `--bootstrap-resamples`, `--bootstrap-seed` and `--confidence`, checked:
 * resamples a positive integer, the seed an integer in [0, 2^32) (Mulberry32's state), the level
 * in (0, 1). Throws with the flag's name and the value as typed.
 */
export function parseBootstrapFlags(
  opts: Pick<ReportCommandOptions, 'bootstrapResamples' | 'bootstrapSeed' | 'confidence' | 'bootstrapUnit'>,
): Pick<TableOptions, 'bootstrapResamples' | 'bootstrapSeed' | 'confidence' | 'bootstrapUnit'> {
  const out: Pick<TableOptions, 'bootstrapResamples' | 'bootstrapSeed' | 'confidence' | 'bootstrapUnit'> = {};
  if (opts.bootstrapUnit !== undefined) {
    if (!(BOOTSTRAP_UNITS as readonly string[]).includes(opts.bootstrapUnit)) {
      throw new Error(`--bootstrap-unit: expected one of ${BOOTSTRAP_UNITS.join(', ')} (default ${DEFAULT_BOOTSTRAP.unit}), got '${opts.bootstrapUnit}'`);
    }
    out.bootstrapUnit = opts.bootstrapUnit as BootstrapUnit;
  }
  if (opts.bootstrapResamples !== undefined) {
    const what = `a positive integer (number of resamples, default ${DEFAULT_BOOTSTRAP.resamples})`;
    const n = decimal('--bootstrap-resamples', opts.bootstrapResamples, what);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--bootstrap-resamples: expected ${what}, got '${opts.bootstrapResamples}'`);
    out.bootstrapResamples = n;
  }
  if (opts.bootstrapSeed !== undefined) {
    const what = `an integer from 0 to 4294967295 (default ${DEFAULT_BOOTSTRAP.seed})`;
    const n = decimal('--bootstrap-seed', opts.bootstrapSeed, what);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`--bootstrap-seed: expected ${what}, got '${opts.bootstrapSeed}'`);
    out.bootstrapSeed = n;
  }
  if (opts.confidence !== undefined) {
    const what = `a level strictly between 0 and 1, e.g. 0.95 (default ${DEFAULT_BOOTSTRAP.confidence})`;
    const n = decimal('--confidence', opts.confidence, what);
    if (!(n > 0 && n < 1)) throw new Error(`--confidence: expected ${what}, got '${opts.confidence}'`);
    out.confidence = n;
  }
  return out;
}

/**
 * `sweepDir` is the sweep folder, or undefined with `opts.fromTable` (the report is then built from
 * the per-net table alone; the table is not written again unless `exportTable` is given).
 */
export async function reportCommand(sweepDir: string | undefined, opts: ReportCommandOptions): Promise<number> {
  let formats: ReportFormat[];
  let bootstrap: ReturnType<typeof parseBootstrapFlags>;
  try {
    formats = opts.format !== undefined ? parseFormats(opts.format) : [...REPORT_FORMATS];
    bootstrap = parseBootstrapFlags(opts);
  } catch (e) {
    opts.stderr.write(`gradflow report: ${terminalText((e as Error).message)}\n`);
    return 2;
  }
  try {
    if ((sweepDir === undefined) === (opts.fromTable === undefined)) {
      opts.stderr.write(`gradflow report: give either SWEEP_DIR or --from-table FILE${sweepDir !== undefined ? ', not both' : ''}\n`);
      return 2;
    }
    const results = opts.fromTable !== undefined ? readTable(opts.fromTable) : loadSweepResults(sweepDir as string);
    if (results.unfinished.length > 0) {
      opts.stderr.write(`note: ${results.unfinished.length} of ${results.planned} configurations have no finished run and are not in the report (\`gradflow sweep\` resumes them)\n`);
    }
    for (const d of results.skipped) opts.stderr.write(`note: skipped damaged run folder ${terminalText(d.runDir)}: ${terminalText(d.reason)}\n`);
    const out = opts.out ?? (opts.fromTable !== undefined ? path.join(path.dirname(path.resolve(opts.fromTable)), 'report') : path.join(results.dir, 'report'));
    const files = await writeReport(results, out, {
      ...bootstrap,
      ...(opts.includeBlownUp === true ? { includeBlownUp: true } : {}),
      formats,
      note: (m) => opts.stderr.write(`note: ${terminalText(m)}\n`),
    });
    const tableFile = opts.exportTable ?? (opts.fromTable === undefined ? path.join(out, TABLE_FILE) : undefined);
    if (tableFile !== undefined) {
      fs.mkdirSync(path.dirname(path.resolve(tableFile)), { recursive: true });
      fs.writeFileSync(tableFile, exportTable(results));
      files.push(path.resolve(tableFile));
    }
    for (const f of files) opts.stdout.write(`${terminalText(f)}\n`);
    opts.stderr.write(`report of ${results.rows.length} run(s) written to ${terminalText(path.resolve(out))}${formats.includes('md') ? ` (open ${terminalText(path.join(path.resolve(out), 'report.md'))})` : ''}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ReportError) {
      opts.stderr.write(`gradflow report: ${terminalText(e.message)}\n`);
      return 2;
    }
    throw e;
  }
}
