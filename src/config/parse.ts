/**
 * Entry points: `parseExperiment` (text → resolved config + sweep + positioned issues, never throws)
 * and `loadExperimentFile` (a path → config, or a `ConfigError` formatted like compiler output).
 */
import { isRecord } from '../shared/guards';
import { readExperimentText } from './read-file';
import * as path from 'node:path';
import { LineCounter, visit, type YAMLError } from 'yaml';
import { collectPositions, rangeFromOffsets } from './positions';
import { locator } from './keys';
import { settingsIssues, type SettingsLayer } from './layers';
import { resolveExperiment, type RawExperiment } from './resolve';
import { GRADFLOW_SCHEMA, schemaAt } from './schema';
import { expandSweepDetailed, linkedPath, rememberSource, sweepKeyIssues, tooManyRunsMessage, type SweepKeyCheck } from './sweep';
import { ConfigError, isLinkedAxis, type ConfigIssue, type LinkedSweepAxis, type ParseResult, type Range, type SweepSpec } from './types';
import type { ExperimentConfig } from '../shared/experiment';
import { describeValue, makeIssue, validateValue } from './validate';
import { cappedProduct, DEFAULT_MAX_SWEEP_RUNS, EDITOR_COMBINATION_BUDGET, MAX_YAML_DEPTH } from './limits';
import { parseYamlGuarded, prescan, structureProblems } from './yaml-guards';
import { shownText } from '../shared/text';
import { resourceIssues } from './resources';
import { at } from '../shared/checked';

export interface ParseOptions {
  /** Base folder for `run.runs_dir` instead of the file's folder. */
  runsDirBase?: string;
  /**
   * Settings layer (editor or CLI settings, dotted snake_case keys): replaces schema defaults where
   * the file is silent; the file wins. See `layers.ts`.
   */
  settings?: SettingsLayer;
}

function yamlIssue(file: string, err: YAMLError, lineCounter: LineCounter, severity: 'error' | 'warning', textLength: number): ConfigIssue {
  // Errors at the end of the file point one past it: keep the range inside the text.
  const start = Math.min(err.pos[0], textLength);
  const end = Math.min(Math.max(err.pos[1], start + 1), textLength);
  // yaml's messages end with a code frame when prettyErrors is on; it is off, so keep the first line.
  // They can quote a whole token of the file: cut it, and show control characters as escapes.
  const message = shownText(at(err.message.split('\n'), 0).replace(/ at line \d+, column \d+:?$/, ''), 200);
  // No key: a syntax error is about the text, and the key it happens to fall in is often misleading
  // (a broken line can read as a new key of the section above).
  return makeIssue(file, '', rangeFromOffsets(lineCounter, start, end), `YAML: ${message}`, severity === 'error' ? 'yaml-syntax' : 'yaml-warning', severity);
}


/** Issues sorted by position, so editors and terminals list them top to bottom. */
function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.offset - b.offset || a.endOffset - b.endOffset);
}

/**
 * The sweep section as a `SweepSpec` (schema defaults applied). The `linked` axis goes before or
 * after the grid axes, wherever it is written relative to `grid`.
 */
function readSweep(raw: Record<string, unknown>): SweepSpec {
  const sweepSchema = schemaAt('sweep') ?? {};
  const seedsDefault = sweepSchema.properties?.seeds?.default;
  const seeds = Array.isArray(raw.seeds) ? (raw.seeds as number[]) : Array.isArray(seedsDefault) ? (seedsDefault as number[]) : [0];
  const grid = isRecord(raw.grid) ? raw.grid : {};
  const axes: SweepSpec['axes'] = [];
  for (const [key, values] of Object.entries(grid)) axes.push({ key, values: Array.isArray(values) ? values : [] });
  if (Array.isArray(raw.linked)) {
    const keys = Object.keys(raw);
    const linked: LinkedSweepAxis = { linked: raw.linked.map((item) => (item === null ? {} : item) as Record<string, unknown>) };
    if ('grid' in raw && keys.indexOf('linked') < keys.indexOf('grid')) axes.unshift(linked);
    else axes.push(linked);
  }
  const spec: SweepSpec = { seeds, axes };
  if (typeof raw.workers === 'number') spec.workers = raw.workers;
  if (typeof raw.max_runs === 'number') spec.maxRuns = raw.max_runs;
  return spec;
}

/** The spec without the axes and linked keys that `sweepKeyIssues` reported, so the other values are still checked. */
function withoutBadKeys(spec: SweepSpec, check: SweepKeyCheck): SweepSpec {
  const axes: SweepSpec['axes'] = [];
  for (const axis of spec.axes) {
    if (!isLinkedAxis(axis)) {
      if (!check.badAxes.has(axis.key)) axes.push(axis);
      continue;
    }
    const linked = axis.linked.map((item) => (isRecord(item) ? Object.fromEntries(Object.entries(item).filter(([k]) => !check.badLinkedKeys.has(k))) : item));
    axes.push({ linked });
  }
  return { ...spec, axes };
}

/**
 * Parses, validates and resolves an experiment file's text. Never throws: YAML syntax errors,
 * schema violations and cross-field problems come back as `issues` with 1-based positions. `config`
 * (and `sweep`) are present only if there is no error.
 */
export function parseExperiment(text: string, file: string, opts: ParseOptions = {}): ParseResult {
  const lineCounter = new LineCounter();
  try {
    return parseChecked(text, file, opts, lineCounter);
  } catch (err) {
    // Nothing in a file may crash a caller (the language server validates every keystroke): an
    // unexpected failure is one positioned error, with no stack, and the positions still work.
    const message = err instanceof RangeError ? 'the file is too complex to check (nested or repeated too deeply)' : `could not be checked: ${err instanceof Error ? err.message : String(err)}`;
    const lines = countLines(new LineCounter(), text, 0);
    const index = emptyIndex(text, lines);
    return { ...index, issues: [makeIssue(file, '', index.firstLine, message, 'yaml-syntax')] };
  }
}

/** Line starts up to `upTo` (the first line at least), so a position there is right without parsing. */
function countLines(lineCounter: LineCounter, text: string, upTo: number): LineCounter {
  lineCounter.addNewLine(0);
  for (let nl = text.indexOf('\n'); nl >= 0 && nl <= upTo; nl = text.indexOf('\n', nl + 1)) lineCounter.addNewLine(nl + 1);
  return lineCounter;
}

/** Positions of nothing (line 1 as the fallback), for a file that could not be read as YAML. */
function emptyIndex(text: string, lineCounter: LineCounter): ReturnType<typeof collectPositions> {
  const nl = text.indexOf('\n');
  const end = nl < 0 ? text.length : nl;
  return { keyRanges: new Map(), keyNameRanges: new Map(), valueRanges: new Map(), firstLine: rangeFromOffsets(lineCounter, 0, end), entries: [] };
}

/** Sweep points (combinations of the axes, seeds not counted) and runs (points × seeds), capped. */
function sweepCounts(spec: SweepSpec, cap: number): { points: number; runs: number; factors: number[] } {
  const factors = spec.axes.map((a) => (isLinkedAxis(a) ? a.linked.length : a.values.length));
  const points = cappedProduct(factors, cap);
  const runs = cappedProduct([...factors, spec.seeds.length], cap);
  return { points, runs, factors };
}

function parseChecked(text: string, file: string, opts: ParseOptions, lineCounter: LineCounter): ParseResult {
  const scanned = prescan(text);
  if (scanned) {
    countLines(lineCounter, text, scanned.offset);
    const at = Math.min(scanned.offset, Math.max(0, text.length - 1));
    const issue = makeIssue(file, '', rangeFromOffsets(lineCounter, at, Math.min(at + 1, text.length)), `YAML: ${scanned.message}`, 'yaml-syntax');
    return { ...emptyIndex(text, lineCounter), issues: [issue] };
  }
  // Line starts counted here, over '\n', rather than by the YAML lexer (which misses some inside
  // broken flow collections): every position then agrees with its offset.
  countLines(lineCounter, text, text.length);
  const guarded = parseYamlGuarded(text);
  if (!guarded.doc) {
    const at = guarded.tooDeep?.offset ?? 0;
    const issue = makeIssue(file, '', rangeFromOffsets(lineCounter, at, Math.min(at + 1, text.length)), `YAML: collections nested more than ${MAX_YAML_DEPTH} levels deep: an experiment file needs at most 6`, 'yaml-syntax');
    return { ...emptyIndex(text, lineCounter), issues: [issue] };
  }
  const doc = guarded.doc;
  const index = collectPositions(doc, lineCounter, text);
  const result: ParseResult = { issues: [], ...index };
  const issues: ConfigIssue[] = [];
  for (const err of doc.errors) issues.push(yamlIssue(file, err, lineCounter, 'error', text.length));
  // A core tag YAML could not apply (`!!float 3`) is an error on its key (structureProblems), not this warning.
  for (const warn of doc.warnings) if (!(warn.code === 'TAG_RESOLVE_FAILED' && warn.message.includes('tag:yaml.org,2002:'))) issues.push(yamlIssue(file, warn, lineCounter, 'warning', text.length));
  // A duplicate key does not stop the check of the rest (the later occurrence is the one read, as
  // YAML readers do): one slip must not hide the file's other problems. Any other YAML error does.
  const duplicates = new Set<ConfigIssue>();
  if (doc.errors.length === 0) {
    for (const p of structureProblems(doc, lineCounter)) {
      const start = Math.min(p.range[0], text.length);
      const issue = makeIssue(file, p.key ?? '', rangeFromOffsets(lineCounter, start, Math.min(Math.max(p.range[1], start + 1), text.length)), `YAML: ${p.message}`, 'yaml-syntax');
      if (p.duplicate) duplicates.add(issue);
      issues.push(issue);
    }
  }
  if (issues.some((i) => i.severity === 'error' && !duplicates.has(i))) {
    result.issues = sortIssues(issues);
    return result;
  }

  const locate = locator(index);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    // yaml reports unresolved aliases and alias bombs only when converting: place it on an alias.
    let at: Range = index.firstLine;
    visit(doc, {
      Alias(_, node) {
        if (node.range && at === index.firstLine) at = rangeFromOffsets(lineCounter, node.range[0], node.range[1]);
      },
    });
    const message = err instanceof Error ? err.message : String(err);
    issues.push(makeIssue(file, '', at, `YAML: ${message}`, 'yaml-syntax'));
    result.issues = sortIssues(issues);
    return result;
  }
  if (!isRecord(value)) {
    issues.push(makeIssue(file, '', index.firstLine, `expected a mapping of sections (dataset:, model:, training:, …) at the top level, found ${Array.isArray(value) ? 'a list' : describeValue(value)}`, 'wrong-type'));
    result.issues = sortIssues(issues);
    return result;
  }
  const raw: RawExperiment = value;
  validateValue(raw, GRADFLOW_SCHEMA, '', { file, locate, issues, root: GRADFLOW_SCHEMA });
  const settings = opts.settings;
  if (settings !== undefined) issues.push(...settingsIssues(settings, file, index.firstLine));
  // A broken sweep section does not stop the experiment itself from being checked (and vice versa),
  // so the user sees every problem at once.
  const inSweep = (i: ConfigIssue): boolean => i.key === 'sweep' || i.key.startsWith('sweep.');
  const schemaOk = !issues.some((i) => i.severity === 'error' && !inSweep(i));
  let sweepSchemaOk = !issues.some((i) => i.severity === 'error' && inSweep(i));

  let sweep: SweepSpec | undefined;
  let sweepKeys: SweepKeyCheck | undefined;
  let tooManyPoints = false;
  // An empty `sweep:` is a sweep with the defaults (seeds only), like any other empty section.
  if ('sweep' in raw) {
    sweep = readSweep(isRecord(raw.sweep) ? raw.sweep : {});
    // Counted, never materialised: a 1 kB file can describe 10⁸ runs.
    const limit = sweep.maxRuns ?? DEFAULT_MAX_SWEEP_RUNS;
    const counts = sweepCounts(sweep, limit);
    if (counts.runs > limit) {
      issues.push(makeIssue(file, 'sweep', locate.key('sweep'), tooManyRunsMessage(sweep, limit), 'sweep'));
      sweepSchemaOk = false;
    }
    tooManyPoints = counts.points > EDITOR_COMBINATION_BUDGET;
    sweepKeys = sweepKeyIssues(sweep, file, locate);
    issues.push(...sweepKeys.issues);
  }

  let config: ExperimentConfig | undefined;
  if (schemaOk) {
    const resolved = resolveExperiment(raw, { file, runsDirBase: opts.runsDirBase, locate, settings });
    issues.push(...resolved.issues);
    config = resolved.config;
    if (config) issues.push(...resourceIssues(config, file, locate));
  }

  if (config) rememberSource(config, { raw, file, runsDirBase: opts.runsDirBase, settings });
  if (config && sweep && sweepKeys && sweepSchemaOk) {
    // Axes and keys already reported as unknown are left out, so the values of the others are still
    // checked; axes that contradict each other get their values checked but no combinations tried.
    // Combinations are tried here only for a small sweep (bounded work for the editor); the rest are
    // checked when the sweep is expanded to run, before any run starts.
    const spec = withoutBadKeys(sweep, sweepKeys);
    const expanded = expandSweepDetailed(config, spec, {
      file,
      locate,
      keysChecked: true,
      checkOnly: true,
      valuesOnly: sweepKeys.inconsistent || tooManyPoints,
      axisValueRange: (a, v, key) => {
        const axis = at(spec.axes, a);
        return isLinkedAxis(axis) ? locate.value(linkedPath(v, key)) : locate.value(`sweep.grid.${axis.key}.${v}`);
      },
    });
    issues.push(...expanded.issues);
  }

  result.issues = sortIssues(issues);
  if (!issues.some((i) => i.severity === 'error') && config) {
    result.config = config;
    if (sweep) result.sweep = sweep;
  }
  return result;
}

export interface LoadedExperiment {
  config: ExperimentConfig;
  sweep?: SweepSpec;
  /** Warnings (never errors: those throw). */
  warnings: ConfigIssue[];
}

/** Reads and parses an experiment file; throws `ConfigError` (compiler-style message) on any error. */
export function loadExperimentFile(file: string, opts: ParseOptions = {}): LoadedExperiment {
  const absolute = path.resolve(file);
  const text = readExperimentText(absolute); // bounded: throws BoundedReadError past MAX_EXPERIMENT_FILE_BYTES
  const result = parseExperiment(text, absolute, opts);
  const errors = result.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0 || !result.config) throw new ConfigError(errors);
  const loaded: LoadedExperiment = { config: result.config, warnings: result.issues.filter((i) => i.severity === 'warning') };
  if (result.sweep) loaded.sweep = result.sweep;
  return loaded;
}
