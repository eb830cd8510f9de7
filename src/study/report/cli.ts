/**
 * `gradflow report SWEEP_DIR [--out DIR] [--format md,csv,tex,svg,png] [--bootstrap-resamples N]
 * [--bootstrap-seed N] [--confidence L]` as one function, so the CLI only collects its arguments
 * and forwards them as typed. Returns the process exit code: 0 written, 2 bad input (not a sweep
 * folder, nothing finished, a broken run, an unknown format, a bad flag value).
 */
import * as path from 'node:path';
import { terminalText } from '../../shared/sanitize';
import { loadSweepResults } from './load';
import { DEFAULT_BOOTSTRAP } from './correlation';
import { ReportError, REPORT_FORMATS, type ReportFormat, type TableOptions } from './types';
import { parseFormats, writeReport } from './write';

export interface ReportCommandOptions {
  /** Output folder; default `<sweepDir>/report`. */
  out?: string;
  /** The `--format` value as typed (comma-separated); default all formats. */
  format?: string;
  /** `--bootstrap-resamples` as typed: a positive integer (default 2000). */
  bootstrapResamples?: string;
  /** `--bootstrap-seed` as typed: an integer 0 … 2^32 − 1 (default 13). */
  bootstrapSeed?: string;
  /** `--confidence` as typed: the bootstrap intervals' level, strictly between 0 and 1 (default 0.95). */
  confidence?: string;
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
export function parseBootstrapFlags(opts: Pick<ReportCommandOptions, 'bootstrapResamples' | 'bootstrapSeed' | 'confidence'>): Pick<TableOptions, 'bootstrapResamples' | 'bootstrapSeed' | 'confidence'> {
  const out: Pick<TableOptions, 'bootstrapResamples' | 'bootstrapSeed' | 'confidence'> = {};
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

export async function reportCommand(sweepDir: string, opts: ReportCommandOptions): Promise<number> {
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
    const results = loadSweepResults(sweepDir);
    if (results.unfinished.length > 0) {
      opts.stderr.write(`note: ${results.unfinished.length} of ${results.planned} configurations have no finished run and are not in the report (\`gradflow sweep\` resumes them)\n`);
    }
    for (const d of results.skipped) opts.stderr.write(`note: skipped damaged run folder ${terminalText(d.runDir)}: ${terminalText(d.reason)}\n`);
    const out = opts.out ?? path.join(results.dir, 'report');
    const files = await writeReport(results, out, { ...bootstrap, formats, note: (m) => opts.stderr.write(`note: ${terminalText(m)}\n`) });
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
