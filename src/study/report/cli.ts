/**
 * `gradflow report SWEEP_DIR [--out DIR] [--format md,csv,tex,svg,png]` as one function, so the CLI
 * only parses its arguments and forwards them. Returns the process exit code: 0 written, 2 bad
 * input (not a sweep folder, nothing finished, a broken run, an unknown format).
 */
import * as path from 'node:path';
import { loadSweepResults } from './load';
import { ReportError, REPORT_FORMATS, type ReportFormat } from './types';
import { parseFormats, writeReport } from './write';

export interface ReportCommandOptions {
  /** Output folder; default `<sweepDir>/report`. */
  out?: string;
  /** The `--format` value as typed (comma-separated); default all formats. */
  format?: string;
  /** Where the list of written files goes. */
  stdout: NodeJS.WritableStream;
  /** Where notes (skipped PNGs, unfinished runs) and errors go. */
  stderr: NodeJS.WritableStream;
}

export async function reportCommand(sweepDir: string, opts: ReportCommandOptions): Promise<number> {
  let formats: ReportFormat[];
  try {
    formats = opts.format !== undefined ? parseFormats(opts.format) : [...REPORT_FORMATS];
  } catch (e) {
    opts.stderr.write(`gradflow report: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const results = loadSweepResults(sweepDir);
    if (results.unfinished.length > 0) {
      opts.stderr.write(`note: ${results.unfinished.length} of ${results.planned} configurations have no finished run and are not in the report (\`gradflow sweep\` resumes them)\n`);
    }
    const out = opts.out ?? path.join(results.dir, 'report');
    const files = await writeReport(results, out, { formats, note: (m) => opts.stderr.write(`note: ${m}\n`) });
    for (const f of files) opts.stdout.write(`${f}\n`);
    opts.stderr.write(`report of ${results.rows.length} run(s) written to ${path.resolve(out)}${formats.includes('md') ? ` (open ${path.join(path.resolve(out), 'report.md')})` : ''}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ReportError) {
      opts.stderr.write(`gradflow report: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
