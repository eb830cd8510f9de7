/**
 * Reading a sweep folder for the report: sweep.json (the plan) + the newest finished run of each
 * planned configuration (run.json, config.json, summary.json).
 *
 * Every field the report uses is checked here, once, so the table code can trust the rows and a
 * broken run is reported by name instead of surfacing as NaN in a table. JSON cannot carry NaN or
 * Infinity: a diverged net's loss is written as `null`; that is data (the net diverged), not a
 * missing field, so it is read as NaN and the tables leave it out with a note.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ARCHITECTURES, type ExperimentConfig } from '../../shared/experiment';
import { ALERT_KINDS, readRunSummary, type Alert, type NetSummary, type OnWire, type RunSummary, type RunSummaryOnWire } from '../../shared/protocol';
import { readManifest, type SweepManifest } from '../../runs/sweep';
import { isComplete } from '../../runs/status';
import { listRuns, type RunRecord } from '../../runs/store';
import { BoundedReadError, MAX_RUN_JSON_BYTES, readBoundedText } from '../../shared/bounded-read';
import { ReportError, type SweepResults, type SweepRow } from './types';
import { isRecord } from '../../shared/guards';

function readJsonFile(file: string, run: string): unknown {
  let text: string;
  try {
    text = readBoundedText(file, { maxBytes: MAX_RUN_JSON_BYTES, what: path.basename(file), why: 'a real one is a few kB' });
  } catch (e) {
    if (!(e instanceof BoundedReadError)) throw e;
    const why = e.problem === 'missing' ? 'missing' : e.problem === 'too-large' ? e.message : e.problem === 'not-a-file' ? 'not a regular file' : (e.code ?? e.message);
    throw new ReportError('bad-run', `run ${run}: cannot read ${path.basename(file)} (${why})`, { run });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ReportError('bad-run', `run ${run}: ${path.basename(file)} is not valid JSON (${(e as Error).message})`, { run });
  }
}

/** Value at a dotted path, or undefined. */
function at(obj: unknown, dotted: string): unknown {
  let node: unknown = obj;
  for (const part of dotted.split('.')) {
    if (!isRecord(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** Summary metrics every net must have; `null` (a non-finite value in JSON) is accepted and read as NaN. */
export const REQUIRED_NET_METRICS = [
  'final.test.accuracy',
  'final.test.loss',
  'flowAverage.g1',
  'flowAverage.g2',
  'flowAverage.egf1',
  'flowAverage.egf2',
] as const;

/** Config fields the tables group by (dotted camelCase paths of config.json). */
const REQUIRED_CONFIG: ReadonlyArray<[string, 'string' | 'number' | 'boolean']> = [
  ['dataset.name', 'string'],
  ['model.width', 'number'],
  ['model.activation', 'string'],
  ['model.batchNorm', 'boolean'],
  ['model.skip', 'boolean'],
  ['sparsity.method', 'string'],
  ['training.optimizer', 'string'],
  ['training.weightDecay', 'number'],
  ['training.augmentation', 'boolean'],
];

/** Checks a net of summary.json (as JSON carries it: measurements may be null) for what the tables need. */
export function checkNet(raw: unknown, run: string, index: number): OnWire<NetSummary> {
  if (!isRecord(raw) || (raw.net !== 'sparse' && raw.net !== 'dense')) {
    throw new ReportError('missing-metric', `run ${run}: summary.json nets[${index}] has no 'net' ('sparse' or 'dense')`, { run, metric: 'net' });
  }
  const net = raw.net;
  for (const metric of REQUIRED_NET_METRICS) {
    const v = at(raw, metric);
    if (v !== null && typeof v !== 'number') {
      throw new ReportError('missing-metric', `run ${run}: the ${net} net has no ${metric} in summary.json${v === undefined ? '' : ` (found ${JSON.stringify(v)})`}`, { run, metric: `${net}.${metric}` });
    }
  }
  return raw as unknown as OnWire<NetSummary>;
}

/** summary.json `alerts`: absent is none; each entry needs its net, a known kind and a severity (the criteria table counts collapses by them). */
export function checkAlerts(raw: unknown, run: string): Alert[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ReportError('bad-run', `run ${run}: summary.json alerts is not a list`, { run, metric: 'alerts' });
  raw.forEach((a: unknown, i: number) => {
    const ok =
      isRecord(a) &&
      (a.net === 'sparse' || a.net === 'dense') &&
      typeof a.kind === 'string' &&
      (ALERT_KINDS as readonly string[]).includes(a.kind) &&
      (a.severity === 'error' || a.severity === 'warning');
    if (!ok) throw new ReportError('bad-run', `run ${run}: summary.json alerts[${i}] is not an alert (needs net sparse|dense, kind ${ALERT_KINDS.join('|')}, severity error|warning)`, { run, metric: `alerts[${i}]` });
  });
  return raw as Alert[];
}

export function checkConfig(raw: unknown, run: string): ExperimentConfig {
  for (const [key, type] of REQUIRED_CONFIG) {
    const v = at(raw, key);
    if (typeof v !== type) {
      throw new ReportError('bad-run', `run ${run}: config.json has no ${type} ${key}${v === undefined ? '' : ` (found ${JSON.stringify(v)})`}`, { run, metric: key });
    }
  }
  const dw = at(raw, 'sparsity.denseWidth');
  if (dw !== undefined && typeof dw !== 'number') {
    throw new ReportError('bad-run', `run ${run}: config.json sparsity.denseWidth is not a number (found ${JSON.stringify(dw)})`, { run, metric: 'sparsity.denseWidth' });
  }
  checkArchitecture(raw, run);
  return raw as ExperimentConfig;
}

/**
 * The keys the tables name a net by and take its level from: `model.architecture` (absent for
 * an MLP), an MLP's `model.hiddenLayers`, a cnn's `model.channels`, a wrn's `model.depth` and `model.widen_factor`, and
 * `sparsity.density` (ρ) when present.
 */
function checkArchitecture(raw: unknown, run: string): void {
  const bad = (key: string, what: string): never => {
    const v = at(raw, key);
    throw new ReportError('bad-run', `run ${run}: config.json has no ${what} ${key}${v === undefined ? '' : ` (found ${JSON.stringify(v)})`}`, { run, metric: key });
  };
  const arch = at(raw, 'model.architecture');
  if (arch !== undefined && !(ARCHITECTURES as readonly unknown[]).includes(arch)) bad('model.architecture', `architecture (${ARCHITECTURES.join(' | ')})`);
  const positiveInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (arch === undefined || arch === 'mlp') {
    if (!positiveInt(at(raw, 'model.hiddenLayers'))) bad('model.hiddenLayers', 'integer');
  }
  if (arch === 'cnn') {
    const channels = at(raw, 'model.channels');
    if (!Array.isArray(channels) || channels.length === 0 || !channels.every(positiveInt)) bad('model.channels', 'list of channel counts');
  }
  if (arch === 'wrn') {
    if (!positiveInt(at(raw, 'model.depth'))) bad('model.depth', 'integer');
    if (typeof at(raw, 'model.widenFactor') !== 'number') bad('model.widenFactor', 'number');
  }
  const density = at(raw, 'sparsity.density');
  if (density !== undefined && !(typeof density === 'number' && density > 0 && density <= 1)) bad('sparsity.density', 'density in (0, 1]');
}

function checkManifest(dir: string): SweepManifest {
  if (!fs.existsSync(dir)) throw new ReportError('not-a-sweep', `${dir}: no such folder`);
  if (!fs.statSync(dir).isDirectory()) throw new ReportError('not-a-sweep', `${dir}: not a folder (give the sweep folder, e.g. .gradflow/runs/sweep-NAME)`);
  let m: SweepManifest;
  try {
    m = readManifest(dir);
  } catch (e) {
    throw new ReportError('not-a-sweep', `${(e as Error).message}; a sweep folder is created by \`gradflow sweep FILE\` and holds sweep.json`);
  }
  if (!isRecord(m) || !Array.isArray(m.runs) || !m.runs.every((r) => isRecord(r) && typeof r.id === 'string' && isRecord(r.point))) {
    throw new ReportError('not-a-sweep', `${path.join(dir, 'sweep.json')}: not a sweep manifest (expected { name, runs: [{ id, point }] })`);
  }
  return m;
}

/** One finished run as a report row; throws ReportError (naming the run) when it is damaged. */
function readRow(planRun: { id: string; point: Record<string, unknown> }, rec: RunRecord): SweepRow {
  const run = rec.runId;
  const config = checkConfig(readJsonFile(path.join(rec.runDir, 'config.json'), run), run);
  const summary = readJsonFile(path.join(rec.runDir, 'summary.json'), run);
  const netsRaw = isRecord(summary) ? (summary as Partial<RunSummary>).nets : undefined;
  if (!Array.isArray(netsRaw) || netsRaw.length === 0) {
    throw new ReportError('missing-metric', `run ${run}: summary.json has no nets`, { run, metric: 'nets' });
  }
  const nets: SweepRow['nets'] = {};
  // Every null JSON made of a NaN/±Infinity in a net (metrics, flow points, layers) becomes NaN in
  // the one decoder the run store and the trainer protocol use too.
  const checked = netsRaw.map((n: unknown, i: number) => checkNet(n, run, i));
  for (const net of readRunSummary({ ...(summary as RunSummaryOnWire), nets: checked }).nets) nets[net.net] = net;
  const alerts = checkAlerts(isRecord(summary) ? summary.alerts : undefined, run);
  return { configId: planRun.id, runId: run, runDir: rec.runDir, point: planRun.point, config, nets, alerts };
}

/**
 * Reads every finished configuration of a sweep folder. Throws `ReportError`: `not-a-sweep` (no
 * folder, no or unreadable sweep.json), `no-finished-runs`, `missing-metric` (a summary lacks a
 * metric the report needs: the message names the run and the metric), `bad-run` (unreadable
 * config/summary, or a config field the tables group by is missing).
 */
export function loadSweepResults(dir: string): SweepResults {
  const abs = path.resolve(dir);
  const manifest = checkManifest(abs);
  // One pass over the run folders (newest first), grouped by configuration.
  const all = listRuns(abs);
  const byConfig = new Map<string, RunRecord[]>();
  for (const r of all) if (r.configId !== undefined) byConfig.set(r.configId, [...(byConfig.get(r.configId) ?? []), r]);
  const finished = new Set<string>();
  for (const r of all) if (r.configId !== undefined && isComplete(r.status)) finished.add(r.configId);
  const planned = new Set(manifest.runs.map((r) => r.id));
  const rows: SweepRow[] = [];
  const unfinished: SweepResults['unfinished'] = [];
  const skipped: SweepResults['skipped'] = [];
  let firstDamage: ReportError | undefined;
  for (const planRun of manifest.runs) {
    // The newest complete run that can be read; a damaged one is named and the next one tried.
    const runs = byConfig.get(planRun.id) ?? [];
    const complete = runs.filter((r) => isComplete(r.status));
    let row: SweepRow | undefined;
    const damaged: SweepResults['skipped'] = [];
    for (const rec of complete) {
      try {
        row = readRow(planRun, rec);
        break;
      } catch (e) {
        if (!(e instanceof ReportError)) throw e;
        firstDamage ??= e;
        damaged.push({ configId: planRun.id, runId: rec.runId, runDir: rec.runDir, reason: e.message });
      }
    }
    if (row) rows.push(row);
    // Corrupt run folders of a configuration without a usable run are named too.
    for (const r of runs) {
      if (row || r.status !== 'corrupt') continue;
      firstDamage ??= new ReportError('bad-run', `run ${r.runId}: ${r.reason ?? 'unreadable run folder'}`, { run: r.runId });
      damaged.push({ configId: planRun.id, runId: r.runId, runDir: r.runDir, reason: `run ${r.runId}: ${r.reason ?? 'unreadable run folder'}` });
    }
    if (!row) {
      unfinished.push({ id: planRun.id, point: planRun.point });
      skipped.push(...damaged);
    } else skipped.push(...damaged.filter((d) => d.runId !== row.runId));
  }
  // A corrupt folder whose run.json does not say its configuration is named as well.
  for (const r of all) {
    if (r.status !== 'corrupt' || r.configId !== undefined) continue;
    skipped.push({ runId: r.runId, runDir: r.runDir, reason: `run ${r.runId}: ${r.reason ?? 'unreadable run folder'}` });
  }
  if (rows.length === 0) {
    // Nothing to report: when damaged runs are why, the first one's error says what is wrong.
    if (firstDamage) {
      const more = skipped.length > 1 ? ` (and ${skipped.length - 1} more damaged run folder(s): ${skipped.slice(1, 4).map((d) => d.runId).join(', ')}${skipped.length > 4 ? ', …' : ''})` : '';
      throw new ReportError(firstDamage.code, `${firstDamage.message}${more}; no finished run of ${abs} could be read`, {
        ...(firstDamage.run !== undefined ? { run: firstDamage.run } : {}),
        ...(firstDamage.metric !== undefined ? { metric: firstDamage.metric } : {}),
      });
    }
    throw new ReportError(
      'no-finished-runs',
      `${abs}: none of the ${manifest.runs.length} planned runs has finished; run \`gradflow sweep ${manifest.sourceFile ?? 'FILE'}\` (it resumes)`,
    );
  }
  const orphaned = [...finished.keys()].filter((id) => !planned.has(id)).sort();
  return {
    dir: abs,
    name: typeof manifest.name === 'string' ? manifest.name : path.basename(abs),
    ...(manifest.sourceFile !== undefined ? { sourceFile: manifest.sourceFile } : {}),
    planned: manifest.runs.length,
    rows,
    unfinished,
    orphaned,
    skipped,
  };
}
