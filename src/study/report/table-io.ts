/**
 * The per-net table of a sweep (docs/study.md, "The per-net table"): everything the report's
 * tables need, one JSON line per finished configuration, so `gradflow report --from-table FILE`
 * regenerates the report without the run folders (which hold every step's log and are not
 * committed).
 *
 * Line 1 is a header: `{ "format": "gradflow-report-table", "version": 1, name, dir, sourceFile?,
 * planned, unfinished, orphaned, skipped }`; `dir` and `sourceFile` as `displayPath` prints them
 * (relative to the working directory, or the bare name), as is each config's `run.runsDir`; each
 * `runDir` relative to the sweep folder,
 * so a committed table carries no machine path. Every further line is one row: `{ configId, runId, runDir,
 * point, config, alerts, nets: [NetSummary…] }`, nets as summary.json writes them (NaN/±Infinity
 * as null, `diverged` null or `{ step, reason }`). Rows keep sweep.json order, so the report from
 * the table is the report from the folders, byte for byte.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { displayPath } from './common';
import { readNetSummary } from '../../shared/protocol';
import { isRecord } from '../../shared/guards';
import { checkAlerts, checkConfig, checkNet } from './load';
import { ReportError, type SweepResults, type SweepRow } from './types';

export const TABLE_FORMAT = 'gradflow-report-table';
export const TABLE_VERSION = 1;
/** Default file name of the table in a report folder. */
export const TABLE_FILE = 'nets.jsonl';

/** A run folder as the table stores it: relative to the sweep folder when inside it, else as `displayPath` prints it. */
function runDirOf(sweepDir: string, runDir: string): string {
  if (!path.isAbsolute(runDir) || !path.isAbsolute(sweepDir)) return runDir;
  const rel = path.relative(sweepDir, runDir);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : displayPath(runDir);
}

/** The table as text (JSON lines, one header line then one line per row, '\n'-terminated). */
export function exportTable(results: SweepResults): string {
  const header = {
    format: TABLE_FORMAT,
    version: TABLE_VERSION,
    name: results.name,
    dir: displayPath(results.dir),
    ...(results.sourceFile !== undefined ? { sourceFile: displayPath(results.sourceFile) } : {}),
    planned: results.planned,
    unfinished: results.unfinished,
    orphaned: results.orphaned,
    skipped: results.skipped.map((k) => ({ ...k, runDir: runDirOf(results.dir, k.runDir) })),
  };
  const lines = [JSON.stringify(header)];
  for (const r of results.rows) {
    const nets = (['sparse', 'dense'] as const).flatMap((k) => {
      const n = r.nets[k];
      return n === undefined ? [] : [{ ...n, diverged: n.diverged ?? null }];
    });
    // JSON.stringify writes NaN/±Infinity as null, as summary.json does.
    // The runs folder of the config is where it ran on that machine: written as displayPath prints it.
    const run = (r.config as { run?: { runsDir?: unknown } }).run;
    const config = typeof run?.runsDir === 'string' ? { ...r.config, run: { ...r.config.run, runsDir: displayPath(run.runsDir) } } : r.config;
    lines.push(JSON.stringify({ configId: r.configId, runId: r.runId, runDir: runDirOf(results.dir, r.runDir), point: r.point, config, alerts: r.alerts, nets }));
  }
  return lines.join('\n') + '\n';
}

function fail(file: string, line: number, key: string, what: string): never {
  throw new ReportError('bad-run', `${file}:${line}: ${key}: ${what}`, { metric: key });
}

/**
 * Reads a per-net table back into `SweepResults`. Throws `ReportError` naming the file, the line
 * and the key at fault (`nets.jsonl:7: config.model.width: …`).
 */
export function readTable(file: string): SweepResults {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ReportError('not-a-sweep', `${file}: cannot read the table (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const parsed = lines.map((l, i) => {
    try {
      return JSON.parse(l) as unknown;
    } catch (e) {
      return fail(file, i + 1, '(line)', `not valid JSON (${(e as Error).message})`);
    }
  });
  const head = parsed[0];
  if (!isRecord(head) || head.format !== TABLE_FORMAT) fail(file, 1, 'format', `not a Gradflow per-net table (expected a first line with "format": "${TABLE_FORMAT}")`);
  if (head.version !== TABLE_VERSION) fail(file, 1, 'version', `unsupported version ${JSON.stringify(head.version)} (this Gradflow reads ${TABLE_VERSION})`);
  if (typeof head.name !== 'string') fail(file, 1, 'name', 'expected a string');
  if (typeof head.dir !== 'string') fail(file, 1, 'dir', 'expected a string');
  if (head.sourceFile !== undefined && typeof head.sourceFile !== 'string') fail(file, 1, 'sourceFile', 'expected a string');
  if (typeof head.planned !== 'number' || !Number.isInteger(head.planned) || head.planned < 0) fail(file, 1, 'planned', 'expected a non-negative integer');
  if (!Array.isArray(head.unfinished) || !head.unfinished.every((u) => isRecord(u) && typeof u.id === 'string' && isRecord(u.point))) fail(file, 1, 'unfinished', 'expected a list of { id, point }');
  if (!Array.isArray(head.orphaned) || !head.orphaned.every((o) => typeof o === 'string')) fail(file, 1, 'orphaned', 'expected a list of run ids');
  const skipped = head.skipped ?? [];
  if (!Array.isArray(skipped) || !skipped.every((k) => isRecord(k) && typeof k.runId === 'string' && typeof k.runDir === 'string' && typeof k.reason === 'string')) fail(file, 1, 'skipped', 'expected a list of { runId, runDir, reason }');
  const rows: SweepRow[] = [];
  parsed.slice(1).forEach((raw, i) => {
    const line = i + 2;
    if (!isRecord(raw)) fail(file, line, '(line)', 'expected an object');
    for (const key of ['configId', 'runId', 'runDir'] as const) if (typeof raw[key] !== 'string') fail(file, line, key, 'expected a string');
    if (!isRecord(raw.point)) fail(file, line, 'point', 'expected an object');
    if (!Array.isArray(raw.nets) || raw.nets.length === 0) fail(file, line, 'nets', 'expected a non-empty list');
    const run = raw.runId as string;
    try {
      const config = checkConfig(raw.config, run);
      const alerts = checkAlerts(raw.alerts ?? [], run);
      const nets: SweepRow['nets'] = {};
      (raw.nets as unknown[]).forEach((n, k) => {
        const net = readNetSummary(checkNet(n, run, k));
        nets[net.net] = net;
      });
      rows.push({ configId: raw.configId as string, runId: run, runDir: raw.runDir as string, point: raw.point as Record<string, unknown>, config, nets, alerts });
    } catch (e) {
      if (!(e instanceof ReportError)) throw e;
      fail(file, line, e.metric ?? '(row)', e.message);
    }
  });
  if (rows.length === 0) throw new ReportError('no-finished-runs', `${file}: the table has no rows`);
  return {
    dir: head.dir as string,
    name: head.name as string,
    ...(typeof head.sourceFile === 'string' ? { sourceFile: head.sourceFile } : {}),
    planned: head.planned as number,
    rows,
    unfinished: head.unfinished as SweepResults['unfinished'],
    orphaned: head.orphaned as string[],
    skipped: skipped as SweepResults['skipped'],
  };
}
