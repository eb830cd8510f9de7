/**
 * Sweeps: the cartesian product of the `sweep.grid` axes (file order, values in order) × seeds
 * (innermost), each point re-resolved through the same validation and resolution as a single file,
 * so derived settings (the SC-SDC pair default, dense width from density, …) follow the point.
 */
import { createHash } from 'node:crypto';
import type { ExperimentConfig } from '../shared/experiment';
import { resolveExperiment, snakeizeKeys, type RawExperiment } from './resolve';
import { schemaAt } from './schema';
import { ConfigError, type ConfigIssue, type Range, type SweepSpec } from './types';
import { describeValue, makeIssue, validateValue, type Locator } from './validate';

export interface SweepRun {
  /** 12 hex digits of sha256 over the canonical resolved configuration: same configuration, same id. */
  id: string;
  config: ExperimentConfig;
  /** The axis values of this run by dotted key, plus `training.seed`. */
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
  void _name;
  const { runsDir: _runsDir, ...runRest } = run;
  void _runsDir;
  return createHash('sha256').update(canonicalJson({ ...rest, run: runRest })).digest('hex').slice(0, 12);
}

// -------------------------------------------------------------------------------------------------
// Where a resolved config came from: overrides apply to the file as written when we know it.

interface ConfigSource {
  raw: RawExperiment;
  file: string;
  runsDirBase?: string;
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
  node[parts[parts.length - 1]] = value;
  // dense_width and density are two spellings of one setting: an axis on one replaces the other.
  if (key === 'sparsity.density') delete node.dense_width;
  if (key === 'sparsity.dense_width') delete node.density;
}

// -------------------------------------------------------------------------------------------------
// Expansion

export interface ExpandOptions {
  /** Positions of the base file; issues of a point are placed on its axis values. */
  locate?: Locator;
  /** Range of value `valueIndex` of axis `axisIndex` in the file. */
  axisValueRange?: (axisIndex: number, valueIndex: number) => Range;
  file?: string;
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
  if (key === 'sweep' || key.startsWith('sweep.')) return `'${key}' cannot be a sweep axis: a sweep cannot sweep itself`;
  const schema = schemaAt(key);
  if (!schema) return undefined; // unknown keys are reported with a suggestion by the caller
  if (schema.properties) return `'${key}' is a section: name one of its keys, e.g. '${key}.${Object.keys(schema.properties)[0]}'`;
  return undefined;
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

  // Every axis and value must be valid on its own before combinations are tried.
  spec.axes.forEach((axis, a) => {
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
  if (issues.length > 0) return { runs: [], issues };

  // Grid points in file order, the last axis varying fastest.
  let points: Array<Array<number>> = [[]];
  for (const axis of spec.axes) points = points.flatMap((p) => axis.values.map((_, v) => [...p, v]));

  const runs: SweepRun[] = [];
  for (const point of points) {
    const raw = cloneRaw(source.raw);
    const pointValues: Record<string, unknown> = {};
    point.forEach((v, a) => {
      const { key, values } = spec.axes[a];
      setKey(raw, key, values[v]);
      pointValues[key] = values[v];
    });
    const label = Object.entries(pointValues).map(([k, v]) => `${k}=${describeValue(v)}`).join(', ');
    // A problem that only appears in a combination is placed on the axis value that caused it, or
    // on the last value of the point, and names the whole point.
    const axisOf = (path: string): number => {
      const a = spec.axes.findIndex((axis) => axis.key === path);
      return a >= 0 ? a : point.length - 1;
    };
    const onPoint = (path: string): Range => {
      const a = axisOf(path);
      return a >= 0 ? valueRange(a, point[a]) : baseLocate.value(path);
    };
    const resolved = resolveExperiment(raw, { file: source.file, runsDirBase: source.runsDirBase, locate: { key: onPoint, value: onPoint } });
    if (!resolved.config) {
      for (const issue of resolved.issues) {
        if (issue.severity !== 'error') continue; // warnings were already given for the base file
        const a = axisOf(issue.key);
        const key = a >= 0 ? `sweep.grid.${spec.axes[a].key}.${point[a]}` : issue.key;
        push({ ...issue, file, key, message: `in sweep point ${label}: ${issue.key}: ${issue.message}` });
      }
      continue;
    }
    for (const seed of spec.seeds) {
      const config: ExperimentConfig = { ...resolved.config, training: { ...resolved.config.training, seed } };
      const cloned = JSON.parse(JSON.stringify(config)) as ExperimentConfig;
      runs.push({ id: configId(cloned), config: cloned, point: { ...pointValues, 'training.seed': seed } });
    }
  }
  if (issues.length === 0 && runs.length === 0) {
    push(makeIssue(file, 'sweep', baseLocate.key('sweep'), 'the sweep has no runs', 'sweep'));
  }
  return { runs: issues.length > 0 ? [] : runs, issues };
}

/**
 * All runs of a sweep, in a deterministic order: axes in file order (the last varying fastest),
 * values in order, seeds innermost. Throws `ConfigError` when a value is invalid for its key, a
 * combination is invalid (e.g. a dense width not smaller than the width), or there are no runs.
 */
export function expandSweep(base: ExperimentConfig, spec: SweepSpec): SweepRun[] {
  const { runs, issues } = expandSweepDetailed(base, spec);
  if (issues.some((i) => i.severity === 'error')) throw new ConfigError(issues);
  return runs;
}
