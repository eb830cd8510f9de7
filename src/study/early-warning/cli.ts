/**
 * `gradflow early-warning SWEEP_DIR [--out DIR] [--bootstrap-resamples N] [--bootstrap-seed N]
 * [--confidence L]`: measures the EGF early warning on a finished sweep (docs/study.md §5) and
 * writes `early-warning.md`, `early-warning.csv` and `early-warning-predictions.csv` into OUT
 * (default SWEEP_DIR/report). Returns the exit code: 0 written, 2 bad input.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { terminalText } from '../../shared/sanitize';
import { parseBootstrapFlags } from '../report/cli';
import { loadSweepResults } from '../report/load';
import { renderCsv, renderMarkdown } from '../report/render';
import { ReportError } from '../report/types';
import { displayPath } from '../report/common';
import { DEFAULT_EARLY, EARLY_FRACTIONS, earlyRun, earlyVerdict, earlyWarningTables, evaluateEarlyWarning, type EarlyRun } from './early';

export interface EarlyWarningCommandOptions {
  out?: string | undefined;
  bootstrapResamples?: string | undefined;
  bootstrapSeed?: string | undefined;
  confidence?: string | undefined;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export function earlyWarningCommand(sweepDir: string, opts: EarlyWarningCommandOptions): number {
  let flags: ReturnType<typeof parseBootstrapFlags>;
  try {
    flags = parseBootstrapFlags(opts);
  } catch (e) {
    opts.stderr.write(`gradflow early-warning: ${terminalText((e as Error).message)}\n`);
    return 2;
  }
  try {
    const results = loadSweepResults(sweepDir);
    const runs: EarlyRun[] = [];
    const excluded: string[] = [];
    for (const row of results.rows) {
      const r = earlyRun(row, row.runDir);
      if (!r) {
        excluded.push(`${row.runId} (not an SC-SDC pair)`);
        continue;
      }
      const missing = EARLY_FRACTIONS.filter((_, k) => r.early[k] === undefined);
      if (missing.length > 0) excluded.push(`${row.runId} at ${missing.map((f) => `${f * 100} %`).join(', ')} (no finite early loss or norms: diverged, or norms not measured in the window)`);
      runs.push(r);
    }
    const options = { resamples: flags.bootstrapResamples ?? DEFAULT_EARLY.resamples, seed: flags.bootstrapSeed ?? DEFAULT_EARLY.seed, level: flags.confidence ?? DEFAULT_EARLY.level };
    const cells = evaluateEarlyWarning(runs, options);
    const [table, predictions] = earlyWarningTables(cells, options, excluded);
    const out = path.resolve(opts.out ?? path.join(results.dir, 'report'));
    fs.mkdirSync(out, { recursive: true });
    const md = [`# EGF early warning: ${results.name}`, '', `- sweep folder: \`${displayPath(results.dir)}\``, `- runs: ${runs.length} SC-SDC pairs of ${results.planned} planned`, '', renderMarkdown(table, 2)].join('\n');
    const files: Array<[string, string]> = [
      ['early-warning.md', md],
      ['early-warning.csv', renderCsv(table)],
      ['early-warning-predictions.csv', renderCsv(predictions)],
    ];
    for (const [name, content] of files) {
      fs.writeFileSync(path.join(out, name), content);
      opts.stdout.write(`${terminalText(path.join(out, name))}\n`);
    }
    opts.stderr.write(`${earlyVerdict(cells, options.level)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ReportError) {
      opts.stderr.write(`gradflow early-warning: ${terminalText(e.message)}\n`);
      return 2;
    }
    throw e;
  }
}
