/**
 * Sweeps: the cartesian product of the axes (file order, values in order) × seeds (innermost), each
 * point re-resolved through the same validation and resolution as a single file, so derived settings
 * (the SC-SDC pair default, dense width from density, …) follow the point. The axes are the
 * `sweep.grid` keys and, optionally, one `sweep.linked` axis whose values are items of settings
 * taken together (an optimizer with its own learning rate): its items are not crossed with each
 * other, the axis is crossed with the grid like any other axis.
 */
import { isRecord } from '../shared/guards';
import { createHash } from 'node:crypto';
import type { ExperimentConfig } from '../shared/experiment';
import type { SettingsLayer } from './layers';
import { resolveExperiment, snakeizeKeys, type RawExperiment } from './resolve';
import { closest, leafKeyPaths, schemaAt } from './schema';
import { ConfigError, isLinkedAxis, type ConfigIssue, type LinkedSweepAxis, type Range, type SweepAxis, type SweepSpec } from './types';
import { describeValue, makeIssue, validateValue, type Locator } from './validate';
import { cappedProduct, DEFAULT_MAX_SWEEP_RUNS, grouped } from './limits';
import { resourceIssues } from './resources';
import { shownText } from '../shared/text';
import { at, last } from '../shared/checked';

export interface SweepRun {
  /** 12 hex digits of sha256 over the canonical resolved configuration: same configuration, same id. */
  id: string;
  config: ExperimentConfig;
  /** The axis values of this run by dotted key (a linked item contributes each of its keys), plus `training.seed`. */
  point: Record<string, unknown>;
}

/** Keys that cannot be sweep axes, with the reason shown to the user. */
export const FORBIDDEN_AXES: Readonly<Record<string, string>> = {
  'training.seed': "seeds are swept with 'sweep.seeds', not as a grid axis",
  name: 'every run of a sweep shares the experiment name; runs are told apart by their id',
  'run.runs_dir': 'all runs of a sweep go under one runs folder',
};

// -------------------------------------------------------------------------------------------------
// Stable ids

/** JSON with object keys sorted at every level and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Id of a configuration. Excludes `run.runsDir` (where results go does not change them) and `name`
 * (renaming a file or an experiment must not orphan its runs); everything else, including the seed
 * and the backend, is part of what was run.
 */
export function configId(config: ExperimentConfig): string {
  const { name: _name, run, ...rest } = config;
  // Where the run is written and the memory bound it is checked against do not change what it computes.
  const { runsDir: _runsDir, maxMemoryMb: _maxMemoryMb, ...runRest } = run;
  return createHash('sha256').update(canonicalJson({ ...rest, run: runRest })).digest('hex').slice(0, 12);
}

// -------------------------------------------------------------------------------------------------
// Where a resolved config came from: overrides apply to the file as written when we know it.

interface ConfigSource {
  raw: RawExperiment;
  file: string;
  runsDirBase?: string | undefined;
  /** The settings layer the file was resolved with: each sweep point is resolved with it too. */
  settings?: SettingsLayer | undefined;
}

const sources = new WeakMap<ExperimentConfig, ConfigSource>();

/** Called by `parseExperiment` so `expandSweep(config, …)` can re-derive defaults per point. */
export function rememberSource(config: ExperimentConfig, source: ConfigSource): void {
  sources.set(config, source);
}

function sourceOf(config: ExperimentConfig): ConfigSource {
  const known = sources.get(config);
  if (known) return known;
  // A config built elsewhere: its resolved form is a valid file too (all paths absolute, name and
  // pair explicit), so the sweep applies to it unchanged.
  const raw = snakeizeKeys(config) as RawExperiment;
  return { raw, file: `${config.name}.gradflow.yaml` };
}

function cloneRaw(raw: RawExperiment): RawExperiment {
  return JSON.parse(JSON.stringify(raw)) as RawExperiment;
}

/** Sets a dotted key in the raw file value, creating sections on the way. */
function setKey(raw: RawExperiment, key: string, value: unknown): void {
  const parts = key.split('.');
  let node: Record<string, unknown> = raw;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[last(parts)] = value;
  // dense_width, density (and a wrn's dense_widen_factor) spell one setting: an axis on one replaces the others.
  if (key === 'sparsity.density') {
    delete node.dense_width;
    delete node.dense_widen_factor;
  }
  if (key === 'sparsity.dense_width') {
    delete node.density;
    delete node.dense_widen_factor;
  }
  if (key === 'sparsity.dense_widen_factor') {
    delete node.density;
    delete node.dense_width;
  }
}

// -------------------------------------------------------------------------------------------------
// Expansion

export interface ExpandOptions {
  /** Positions of the base file; issues of a point are placed on its axis values. */
  locate?: Locator;
  /**
   * Range of value `valueIndex` of axis `axisIndex` in the file. For a linked axis, `valueIndex` is
   * the item and `key`, when given, one of its keys (the range of that key's value in the item).
   */
  axisValueRange?: (axisIndex: number, valueIndex: number, key?: string) => Range;
  file?: string;
  /** The caller already reported `sweepKeyIssues` (and left out the axes and keys they name). */
  keysChecked?: boolean;
  /** Validate the values but do not try the combinations (the caller found the axes inconsistent). */
  valuesOnly?: boolean;
  /** Try the combinations but build no runs (validation: the runs are not needed, only the issues). */
  checkOnly?: boolean;
  /** Hears how many points of how many were resolved, after each point (the CLI's planning progress). */
  onPoint?: (done: number, total: number) => void;
}

export interface ExpandResult {
  runs: SweepRun[];
  issues: ConfigIssue[];
}

const NOWHERE: Range = { line: 1, column: 1, endLine: 1, endColumn: 1, offset: 0, endOffset: 0 };

/** Checks that an axis names a settable key; returns the error message or undefined. */
export function axisKeyProblem(key: string): string | undefined {
  const forbidden = FORBIDDEN_AXES[key];
  if (forbidden) return `'${key}' cannot be a sweep axis: ${forbidden}`;
  if (key === 'sweep' || key.startsWith('sweep.')) return `'${shownText(key)}' cannot be a sweep axis: a sweep cannot sweep itself`;
  const schema = schemaAt(key);
  if (!schema) return undefined; // unknown keys are reported with a suggestion by the caller
  if (schema.properties) return `'${key}' is a section: name one of its keys, e.g. '${key}.${Object.keys(schema.properties)[0]}'`;
  return undefined;
}

/** Message and did-you-mean for an axis key the schema does not know. */
export function unknownAxisKey(key: string): { message: string; suggestion?: string } {
  const leaves = leafKeyPaths();
  const last = (p: string): string => p.split('.').pop() ?? p;
  // A bare key name (`optimizer`) may stand for its full path; a dotted one is compared whole.
  const nearLeaf = key.includes('.') ? undefined : closest(key, leaves.map(last));
  const suggestion = closest(key, leaves) ?? leaves.find((p) => last(p) === last(key)) ?? (nearLeaf ? leaves.find((p) => last(p) === nearLeaf) : undefined);
  const hint = suggestion ? `; did you mean '${suggestion}'?` : ': expected a dotted key path of this file such as training.optimizer or model.batch_norm';
  return { message: `sweep axis names unknown key '${shownText(key)}'${hint}`, ...(suggestion ? { suggestion } : {}) };
}

/** Two spellings of one setting (`setKey` lets the later one replace the other). */
const SAME_SETTING: Readonly<Record<string, string>> = {
  'sparsity.density': 'sparsity.dense_width',
  'sparsity.dense_width': 'sparsity.density',
};


/** Dotted path of a linked item (`sweep.linked.1`) or of one of its keys (`sweep.linked.1.training.optimizer`). */
export function linkedPath(item: number, key?: string): string {
  return key === undefined ? `sweep.linked.${item}` : `sweep.linked.${item}.${key}`;
}

const quoteList = (keys: readonly string[]): string => keys.map((k) => `'${k}'`).join(', ');

export interface SweepKeyCheck {
  issues: ConfigIssue[];
  /** Grid axes whose key is unknown or cannot be swept (left out of the expansion). */
  badAxes: Set<string>;
  /** Keys of linked items that are unknown or cannot be swept (left out of the expansion). */
  badLinkedKeys: Set<string>;
  /** The axes contradict each other (a key set twice, items with different keys, an empty item). */
  inconsistent: boolean;
}

/**
 * Problems of the axes' keys, before any value is looked at: unknown keys (with a did-you-mean),
 * keys that cannot be swept, a key that both the grid and the linked items set, linked items that
 * do not all set the same keys. Positions come from `locate` (paths `sweep.grid.<key>`,
 * `sweep.linked.<item>[.<key>]`).
 */
export function sweepKeyIssues(spec: SweepSpec, file: string, locate: Locator): SweepKeyCheck {
  const check: SweepKeyCheck = { issues: [], badAxes: new Set(), badLinkedKeys: new Set(), inconsistent: false };
  const keyProblem = (key: string, at: string): boolean => {
    const problem = axisKeyProblem(key);
    if (problem) {
      check.issues.push(makeIssue(file, at, locate.key(at), problem, 'sweep'));
      return true;
    }
    if (!schemaAt(key)) {
      const { message, suggestion } = unknownAxisKey(key);
      check.issues.push(makeIssue(file, at, locate.key(at), message, 'unknown-key', 'error', suggestion));
      return true;
    }
    return false;
  };
  const gridKeys = new Set<string>();
  for (const axis of spec.axes) {
    if (isLinkedAxis(axis)) continue;
    gridKeys.add(axis.key);
    if (keyProblem(axis.key, `sweep.grid.${axis.key}`)) check.badAxes.add(axis.key);
  }
  for (const axis of spec.axes) {
    if (!isLinkedAxis(axis)) continue;
    const items = axis.linked.map((item) => (isRecord(item) ? item : undefined));
    const usable: boolean[] = items.map(() => true);
    items.forEach((item, i) => {
      if (!item) {
        usable[i] = false; // not a mapping: the schema (or the value check) reports it
        return;
      }
      const keys = Object.keys(item);
      if (keys.length === 0) {
        check.issues.push(makeIssue(file, linkedPath(i), locate.value(linkedPath(i)), `linked item ${i + 1} sets no key: each item sets one or more keys (e.g. training.optimizer and training.learning_rate) to values taken together`, 'sweep'));
        check.inconsistent = true;
        usable[i] = false;
        return;
      }
      for (const key of keys) {
        const at = linkedPath(i, key);
        if (keyProblem(key, at)) {
          check.badLinkedKeys.add(key);
          usable[i] = false;
          continue;
        }
        const twin = SAME_SETTING[key];
        const inGrid = gridKeys.has(key) ? key : twin && gridKeys.has(twin) ? twin : undefined;
        if (inGrid) {
          const why = inGrid === key ? `'${key}' is also a grid axis` : `'${key}' and the grid axis '${inGrid}' are two spellings of one setting`;
          check.issues.push(makeIssue(file, at, locate.key(at), `${why}: a setting is swept either in 'grid' or in 'linked', not both`, 'conflict'));
          check.inconsistent = true;
        }
        if (twin && keys.includes(twin) && keys.indexOf(twin) < keys.indexOf(key)) {
          check.issues.push(makeIssue(file, at, locate.key(at), `linked item ${i + 1} sets both '${twin}' and '${key}', two spellings of one setting: give one of them`, 'conflict'));
          check.inconsistent = true;
        }
      }
    });
    // Every item sets the same keys: name each item that lacks a key another item sets.
    const all: string[] = [];
    items.forEach((item, i) => {
      if (item && usable[i]) for (const k of Object.keys(item)) if (!all.includes(k)) all.push(k);
    });
    items.forEach((item, i) => {
      if (!item || !usable[i]) return;
      const missing = all.filter((k) => !(k in item));
      const [first] = missing;
      if (first === undefined) return;
      const setBy = items.findIndex((other, j) => other && usable[j] && first in other);
      const msg = `linked item ${i + 1} does not set ${quoteList(missing)}, which item ${setBy + 1} sets: every linked item must set the same keys`;
      check.issues.push(makeIssue(file, linkedPath(i), locate.value(linkedPath(i)), msg, 'missing'));
      check.inconsistent = true;
    });
  }
  // More than one linked axis is only possible from code: their keys must not overlap either.
  const linkedAxes = spec.axes.filter(isLinkedAxis);
  if (linkedAxes.length > 1) {
    const owner = new Map<string, number>();
    const reported = new Set<string>();
    linkedAxes.forEach((axis, a) => {
      for (const item of axis.linked) {
        if (!isRecord(item)) continue;
        for (const key of Object.keys(item)) {
          const prev = owner.get(key) ?? owner.get(SAME_SETTING[key] ?? '');
          if (prev !== undefined && prev !== a && !reported.has(key)) {
            reported.add(key);
            check.issues.push(makeIssue(file, 'sweep.linked', locate.key('sweep.linked'), `'${key}' is set by two linked axes`, 'conflict'));
            check.inconsistent = true;
          }
          owner.set(key, a);
        }
      }
    });
  }
  return check;
}

/** The keys a linked axis sets, in the order of its first item. */
function linkedKeys(axis: LinkedSweepAxis): string[] {
  const first = axis.linked.find(isRecord);
  return first ? Object.keys(first) : [];
}

/** The settings of value `v` of an axis, as [dotted key, value] in order. */
function assignments(axis: SweepAxis | LinkedSweepAxis, v: number): Array<[string, unknown]> {
  if (!isLinkedAxis(axis)) return [[axis.key, axis.values[v]]];
  const item = at(axis.linked, v);
  const keys = linkedKeys(axis);
  // The first item's key order for every item, so points (and their labels) read alike.
  return [...keys.filter((k) => k in item), ...Object.keys(item).filter((k) => !keys.includes(k))].map((k): [string, unknown] => [k, item[k]]);
}

function axisSize(axis: SweepAxis | LinkedSweepAxis): number {
  return isLinkedAxis(axis) ? axis.linked.length : axis.values.length;
}

/** "the sweep has 100,000,000 runs (10 × 10 × … values × 3 seeds), more than sweep.max_runs (100,000): …" */
export function tooManyRunsMessage(spec: SweepSpec, limit: number): string {
  const factors = spec.axes.map(axisSize);
  const exact = factors.reduce((a, b) => a * b, spec.seeds.length);
  const count = Number.isFinite(exact) && exact < 1e21 ? grouped(exact) : exact.toExponential(2);
  const shown = factors.length > 8 ? [...factors.slice(0, 8).map(String), '…'] : factors.map(String);
  const how = [...shown, `${spec.seeds.length} seed${spec.seeds.length === 1 ? '' : 's'}`].join(' × ');
  return `the sweep has ${count} runs (${how}), more than sweep.max_runs (${grouped(limit)}): remove values or axes, or raise sweep.max_runs`;
}

/** Expansion that reports instead of throwing; used by `parseExperiment` (with positions) and `expandSweep`. */
export function expandSweepDetailed(base: ExperimentConfig, spec: SweepSpec, opts: ExpandOptions = {}): ExpandResult {
  const source = sourceOf(base);
  const file = opts.file ?? source.file;
  const baseLocate: Locator = opts.locate ?? { key: () => NOWHERE, value: () => NOWHERE };
  const valueRange = opts.axisValueRange ?? (() => NOWHERE);
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  const push = (issue: ConfigIssue): void => {
    const k = `${issue.offset}:${issue.key}:${issue.message}`;
    if (!seen.has(k)) {
      seen.add(k);
      issues.push(issue);
    }
  };

  if (!opts.keysChecked) {
    const keys = sweepKeyIssues(spec, file, baseLocate);
    if (keys.issues.length > 0) return { runs: [], issues: keys.issues };
  }

  // Every axis and value must be valid on its own before combinations are tried.
  spec.axes.forEach((axis, a) => {
    if (isLinkedAxis(axis)) {
      if (axis.linked.length === 0) push(makeIssue(file, 'sweep.linked', baseLocate.value('sweep.linked'), 'expected at least one item, found an empty list: the sweep would have no runs', 'sweep'));
      axis.linked.forEach((item, v) => {
        if (!isRecord(item)) {
          const at = valueRange(a, v);
          push(makeIssue(file, linkedPath(v), at, `expected a mapping of dotted keys to values, found ${describeValue(item)}`, 'wrong-type'));
          return;
        }
        for (const [key, value] of Object.entries(item)) {
          const schema = schemaAt(key);
          if (!schema || axisKeyProblem(key)) continue; // reported by sweepKeyIssues
          const at = () => valueRange(a, v, key);
          validateValue(value, schema, linkedPath(v, key), { file, issues, locate: { key: at, value: at } });
        }
      });
      return;
    }
    const problem = axisKeyProblem(axis.key);
    const schema = schemaAt(axis.key);
    if (problem || !schema) {
      push(makeIssue(file, `sweep.grid.${axis.key}`, baseLocate.key(`sweep.grid.${axis.key}`), problem ?? `unknown key '${axis.key}'`, 'sweep'));
      return;
    }
    if (axis.values.length === 0) push(makeIssue(file, `sweep.grid.${axis.key}`, baseLocate.value(`sweep.grid.${axis.key}`), 'expected at least one value, found an empty list: the sweep would have no runs', 'sweep'));
    axis.values.forEach((value, v) => {
      const at = () => valueRange(a, v);
      validateValue(value, schema, `sweep.grid.${axis.key}.${v}`, { file, issues, locate: { key: at, value: at } });
    });
  });
  if (spec.seeds.length === 0) push(makeIssue(file, 'sweep.seeds', baseLocate.value('sweep.seeds'), 'expected at least one seed, found an empty list: the sweep would have no runs', 'sweep'));
  if (issues.length > 0 || opts.valuesOnly) return { runs: [], issues };

  // Counted before anything is built: a few lines can describe more runs than memory holds.
  const limit = spec.maxRuns ?? DEFAULT_MAX_SWEEP_RUNS;
  if (cappedProduct([...spec.axes.map(axisSize), spec.seeds.length], limit) > limit) {
    push(makeIssue(file, 'sweep', baseLocate.key('sweep'), tooManyRunsMessage(spec, limit), 'sweep'));
    return { runs: [], issues };
  }

  const runs: SweepRun[] = [];
  let tried = 0;
  // Points in file order, the last axis varying fastest (an odometer over the value indices).
  const sizes = spec.axes.map(axisSize);
  const point: number[] = sizes.map(() => 0);
  const points = sizes.reduce((a, b) => a * b, 1);
  for (let more = sizes.every((n) => n > 0); more; more = nextPoint(point, sizes)) {
    tried++;
    opts.onPoint?.(tried, points);
    const done = resolvePoint(source, spec, point, file, baseLocate, valueRange);
    if ('issues' in done) {
      for (const issue of done.issues) push(issue);
      continue;
    }
    if (opts.checkOnly) continue;
    runs.push(...done.runs);
  }
  if (issues.length === 0 && runs.length === 0 && !(opts.checkOnly && tried > 0)) {
    push(makeIssue(file, 'sweep', baseLocate.key('sweep'), 'the sweep has no runs', 'sweep'));
  }
  return { runs: issues.length > 0 ? [] : runs, issues };
}

/**
 * One point of the grid (value indices per axis): its runs (one per seed), or the errors of the
 * combination, each placed on the axis value that caused it and naming the whole point.
 */
function resolvePoint(
  source: ConfigSource,
  spec: SweepSpec,
  point: readonly number[],
  file: string,
  baseLocate: Locator,
  valueRange: NonNullable<ExpandOptions['axisValueRange']>,
): { runs: SweepRun[] } | { issues: ConfigIssue[] } {
  const raw = cloneRaw(source.raw);
  const pointValues: Record<string, unknown> = {};
  point.forEach((v, a) => {
    for (const [key, value] of assignments(at(spec.axes, a), v)) {
      setKey(raw, key, value);
      pointValues[key] = value;
    }
  });
  const label = Object.entries(pointValues).map(([k, v]) => `${k}=${describeValue(v)}`).join(', ');
  // The linked item axis `a` takes at this point.
  const itemAt = (axis: LinkedSweepAxis, a: number): Record<string, unknown> => at(axis.linked, at(point, a));
  const axisOf = (path: string): number => {
    const a = spec.axes.findIndex((axis, i) => (isLinkedAxis(axis) ? path in itemAt(axis, i) : axis.key === path));
    return a >= 0 ? a : point.length - 1;
  };
  const onPoint = (path: string): Range => {
    const a = axisOf(path);
    if (a < 0) return baseLocate.value(path);
    const axis = at(spec.axes, a);
    return isLinkedAxis(axis) ? valueRange(a, at(point, a), path in itemAt(axis, a) ? path : undefined) : valueRange(a, at(point, a));
  };
  const issueKey = (path: string): string => {
    const a = axisOf(path);
    if (a < 0) return path;
    const axis = at(spec.axes, a);
    if (!isLinkedAxis(axis)) return `sweep.grid.${axis.key}.${at(point, a)}`;
    return linkedPath(at(point, a), path in itemAt(axis, a) ? path : undefined);
  };
  const pointLocate: Locator = { key: onPoint, value: onPoint };
  const resolved = resolveExperiment(raw, {
    file: source.file,
    runsDirBase: source.runsDirBase,
    locate: pointLocate,
    settings: source.settings,
  });
  if (resolved.config) resolved.issues.push(...resourceIssues(resolved.config, source.file, pointLocate, { paths: false }));
  if (!resolved.config || resolved.issues.some((i) => i.severity === 'error')) {
    // Warnings were already given for the base file.
    return { issues: resolved.issues.filter((i) => i.severity === 'error').map((issue) => ({ ...issue, file, key: issueKey(issue.key), message: `in sweep point ${label}: ${issue.key}: ${issue.message}` })) };
  }
  const runs: SweepRun[] = [];
  for (const seed of spec.seeds) {
    const config: ExperimentConfig = { ...resolved.config, training: { ...resolved.config.training, seed } };
    const cloned = JSON.parse(JSON.stringify(config)) as ExperimentConfig;
    runs.push({ id: configId(cloned), config: cloned, point: { ...pointValues, 'training.seed': seed } });
  }
  return { runs };
}

/** Runs of a sweep (points × seeds), counted without building any: for progress and the plan line. */
export function sweepRunCount(spec: SweepSpec): number {
  return spec.axes.map(axisSize).reduce((a, b) => a * b, spec.seeds.length);
}

/**
 * The runs of a sweep one at a time, in `expandSweep`'s order and with its ids, without building the
 * whole plan: the axes and values are checked first (linear in the file), the run count against
 * `sweep.max_runs`, then each point is resolved only when the caller asks for its runs. Memory is
 * that of one point; the first run is available after resolving one point, whatever the grid's
 * size. A combination that is invalid (e.g. a dense width not smaller than the width) throws
 * `ConfigError` when it is reached, after the runs before it were yielded.
 */
export function* iterateSweep(base: ExperimentConfig, spec: SweepSpec): Generator<SweepRun, void, undefined> {
  const checked = expandSweepDetailed(base, spec, { valuesOnly: true });
  if (checked.issues.some((i) => i.severity === 'error')) throw new ConfigError(checked.issues);
  const limit = spec.maxRuns ?? DEFAULT_MAX_SWEEP_RUNS;
  if (cappedProduct([...spec.axes.map(axisSize), spec.seeds.length], limit) > limit) {
    throw new ConfigError([makeIssue(sourceOf(base).file, 'sweep', NOWHERE, tooManyRunsMessage(spec, limit), 'sweep')]);
  }
  const source = sourceOf(base);
  const sizes = spec.axes.map(axisSize);
  if (!sizes.every((n) => n > 0) || spec.seeds.length === 0) throw new ConfigError([makeIssue(source.file, 'sweep', NOWHERE, 'the sweep has no runs', 'sweep')]);
  const point: number[] = sizes.map(() => 0);
  const baseLocate: Locator = { key: () => NOWHERE, value: () => NOWHERE };
  for (let more = true; more; more = nextPoint(point, sizes)) {
    const done = resolvePoint(source, spec, point, source.file, baseLocate, () => NOWHERE);
    if ('issues' in done) throw new ConfigError(done.issues);
    yield* done.runs;
  }
}

/** Advances `point` (value indices, last fastest) to the next combination; false after the last. */
function nextPoint(point: number[], sizes: readonly number[]): boolean {
  for (let a = point.length - 1; a >= 0; a--) {
    const next = at(point, a) + 1;
    if (next < at(sizes, a)) {
      point[a] = next;
      return true;
    }
    point[a] = 0;
  }
  return false;
}

/**
 * All runs of a sweep, in a deterministic order: axes in file order (the last varying fastest; a
 * linked axis counts as one axis whose values are its items), values in order, seeds innermost. Throws `ConfigError` when a value is invalid for its key, a
 * combination is invalid (e.g. a dense width not smaller than the width), or there are no runs.
 */
export function expandSweep(base: ExperimentConfig, spec: SweepSpec, onPoint?: ExpandOptions['onPoint']): SweepRun[] {
  const { runs, issues } = expandSweepDetailed(base, spec, onPoint ? { onPoint } : {});
  if (issues.some((i) => i.severity === 'error')) throw new ConfigError(issues);
  return runs;
}
