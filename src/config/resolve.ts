/**
 * From a schema-valid file value (snake_case, defaults absent) to the resolved `ExperimentConfig`:
 * schema defaults filled in, keys mapped snake_case → camelCase, paths made absolute, SC-SDC widths
 * derived, and the checks that involve more than one key (which a per-key schema cannot express).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExperimentConfig } from '../shared/experiment';
import { isRecord } from '../shared/guards';
import { GRADFLOW_SCHEMA, schemaAt, type SchemaNode } from './schema';
import { camelToSnake, snakeToCamel } from './keys';
import { overlay, type SettingsLayer } from './layers';
import type { ConfigIssue, IssueCode, IssueSeverity } from './types';
import { makeIssue, type Locator } from './validate';

/** The file's value after schema validation: snake_case keys, only what the file says. */
export type RawExperiment = Record<string, unknown>;

export interface ResolveOptions {
  /** The experiment file (relative paths in it are resolved against its folder). */
  file: string;
  /** Base folder for `run.runs_dir` instead of the file's folder (e.g. for an unsaved editor buffer). */
  runsDirBase?: string;
  locate: Locator;
  /** Settings that replace schema defaults where the file is silent (`layers.ts`). */
  settings?: SettingsLayer;
}

export interface ResolveResult {
  config?: ExperimentConfig;
  issues: ConfigIssue[];
}

const EXPERIMENT_SUFFIXES = ['.gradflow.yaml', '.gradflow.yml', '.yaml', '.yml'];

/** `runs/fmnist.gradflow.yaml` → `fmnist`. */
export function defaultExperimentName(file: string): string {
  const base = path.basename(file);
  for (const suffix of EXPERIMENT_SUFFIXES) {
    if (base.toLowerCase().endsWith(suffix) && base.length > suffix.length) return base.slice(0, -suffix.length);
  }
  return base || 'experiment';
}


function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/**
 * Fills absent keys with the schema's `default`, recursively. A section whose schema default is `{}`
 * is created when absent (so its own keys get their defaults); one without a default (e.g.
 * `dataset.synthetic`, `sweep`) stays absent.
 */
export function applyDefaults(value: Record<string, unknown>, schema: SchemaNode): Record<string, unknown> {
  // Schema order first, so resolved configs (written to run folders) read in the documented order.
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties ?? {})) if (key in value) out[key] = value[key];
  for (const [key, v] of Object.entries(value)) if (!(key in out)) out[key] = v;
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (out[key] === undefined || (out[key] === null && child.properties)) {
      if (child.default === undefined) {
        out[key] = undefined; // left out below
        continue;
      }
      out[key] = clone(child.default);
    }
    if (child.properties && isRecord(out[key])) out[key] = applyDefaults(out[key], child);
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/** Maps every mapping key snake_case → camelCase (values untouched): the one-to-one naming rule. */
export function camelizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelizeKeys);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[snakeToCamel(k)] = camelizeKeys(v);
  return out;
}

/** Inverse of `camelizeKeys`. */
export function snakeizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeizeKeys);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[camelToSnake(k)] = snakeizeKeys(v);
  return out;
}

function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(os.homedir(), p.slice(2));
  return p;
}

export function resolvePathFrom(base: string, p: string): string {
  return path.resolve(base, expandHome(p));
}

/** `round(width · density)`: the dense width a first-layer density stands for. */
export function denseWidthFromDensity(width: number, density: number): number {
  return Math.round(width * density);
}

function section(raw: RawExperiment, key: string): Record<string, unknown> {
  const value = raw[key];
  return isRecord(value) ? value : {};
}

export function resolveExperiment(file: RawExperiment, opts: ResolveOptions): ResolveResult {
  // defaults ← settings ← file: the settings fill what the file leaves out; the defaults the rest.
  const raw = opts.settings !== undefined ? overlay(file, opts.settings) : file;
  const issues: ConfigIssue[] = [];
  const report = (key: string, message: string, code: IssueCode, severity: IssueSeverity = 'error', at: 'key' | 'value' = 'value'): void => {
    issues.push(makeIssue(opts.file, key, at === 'key' ? opts.locate.key(key) : opts.locate.value(key), message, code, severity));
  };
  const fileDir = path.dirname(path.resolve(opts.file));
  const given = {
    dataset: section(raw, 'dataset'),
    model: section(raw, 'model'),
    sparsity: section(raw, 'sparsity'),
    training: section(raw, 'training'),
  };

  const { sweep: _sweep, ...experimentOnly } = raw;
  const filled = applyDefaults(experimentOnly, GRADFLOW_SCHEMA);
  const dataset = filled.dataset as Record<string, unknown>;
  const model = filled.model as Record<string, unknown>;
  const sparsity = filled.sparsity as Record<string, unknown>;
  const training = filled.training as Record<string, unknown>;
  const run = filled.run as Record<string, unknown>;

  filled.name = typeof filled.name === 'string' ? filled.name : defaultExperimentName(opts.file);

  // Dataset: absolute paths; synthetic shape only for `synthetic`.
  if (typeof dataset.path === 'string') dataset.path = resolvePathFrom(fileDir, dataset.path);
  if (typeof dataset.cache_dir === 'string') dataset.cache_dir = resolvePathFrom(fileDir, dataset.cache_dir);
  if (dataset.name === 'synthetic') {
    dataset.synthetic = applyDefaults(isRecord(dataset.synthetic) ? dataset.synthetic : {}, schemaAt('dataset.synthetic') ?? {});
    if (given.dataset.path !== undefined) report('dataset.path', "ignored: dataset 'synthetic' is generated, not read from files", 'ignored', 'warning', 'key');
    if (given.training.augmentation === true) report('training.augmentation', "has no effect on dataset 'synthetic' (augmentation crops and flips images)", 'ignored', 'warning', 'key');
  } else if (given.dataset.synthetic !== undefined) {
    report('dataset.synthetic', `ignored: only used when dataset.name is 'synthetic', found '${String(dataset.name)}'`, 'ignored', 'warning', 'key');
    delete dataset.synthetic;
  }

  // Model.
  if (given.model.skip === true && model.hidden_layers === 1) {
    report('model.skip', 'has no effect with hidden_layers 1: skip connections join consecutive hidden layers', 'ignored', 'warning', 'key');
  }

  // SC-SDC: the dense twin's width, from dense_width or density.
  const width = model.width as number;
  const method = sparsity.method as string;
  const hasDenseWidth = given.sparsity.dense_width !== undefined;
  const hasDensity = given.sparsity.density !== undefined;
  if (method === 'none') {
    if (hasDenseWidth) report('sparsity.dense_width', "ignored: sparsity.method is 'none' (a dense net has no twin)", 'ignored', 'warning', 'key');
    if (hasDensity) report('sparsity.density', "ignored: sparsity.method is 'none' (a dense net has no twin)", 'ignored', 'warning', 'key');
    if (sparsity.pair === true) report('sparsity.pair', "expected false with sparsity.method 'none', found true: an SC-SDC pair needs a sparse net (a pruning method such as random or magnitude)", 'conflict');
    sparsity.pair = false;
    delete sparsity.dense_width;
  } else {
    if (sparsity.pair === undefined) sparsity.pair = true;
    if (hasDenseWidth && hasDensity) {
      report('sparsity.density', 'give either sparsity.dense_width or sparsity.density, not both (density = dense_width / model.width)', 'conflict', 'error', 'key');
    } else if (!hasDenseWidth && !hasDensity) {
      report('sparsity.method', `method '${method}' needs the dense twin's width: set sparsity.dense_width (h_D, smaller than model.width ${width}) or sparsity.density (h_D/h_S, between 0 and 1)`, 'missing');
    } else if (hasDensity) {
      const density = sparsity.density as number;
      const denseWidth = denseWidthFromDensity(width, density);
      if (denseWidth < 1 || denseWidth >= width) {
        report('sparsity.density', `density ${density} with model.width ${width} gives dense_width ${denseWidth}: expected a dense width between 1 and ${width - 1}`, 'out-of-range');
      } else {
        sparsity.dense_width = denseWidth;
      }
    } else {
      const denseWidth = sparsity.dense_width as number;
      if (denseWidth >= width) {
        report('sparsity.dense_width', `expected a dense width smaller than model.width (${width}), found ${denseWidth}: in SC-SDC the sparse net (model.width) is the wider one`, 'conflict');
      }
    }
  }
  delete sparsity.density;
  resolvePruningKeys(given.sparsity, model, method, report);

  // Training.
  if (given.training.momentum !== undefined && training.optimizer !== 'momentum') {
    report('training.momentum', `ignored: only optimizer 'momentum' uses it, found optimizer '${String(training.optimizer)}'`, 'ignored', 'warning', 'key');
  }

  run.runs_dir = resolvePathFrom(opts.runsDirBase ?? fileDir, run.runs_dir as string);

  // Trainer script (docs/torch.md): its folder absolute; `args` is the script's, passed through as written.
  const trainer = isRecord(filled.trainer) ? filled.trainer : undefined;
  const trainerArgs = trainer !== undefined && isRecord(trainer.args) ? clone(trainer.args) : undefined;
  if (trainer !== undefined) trainer.cwd = resolvePathFrom(fileDir, trainer.cwd as string);

  if (issues.some((i) => i.severity === 'error')) return { issues };
  // The shapes agree with ExperimentConfig by construction: the schema declares exactly its fields in
  // snake_case (checked field by field in test/config/resolve.test.ts).
  const config = camelizeKeys(filled) as ExperimentConfig;
  if (config.trainer !== undefined && trainerArgs !== undefined) config.trainer.args = trainerArgs;
  return { config, issues };
}

/**
 * Keys of the pruning criteria (docs/pruning.md): `scope`, `batches` and `synflow_rounds` are only
 * read by the methods that use them (a warning otherwise), and `grasp` needs a net without
 * BatchNorm (its exact Hessian-gradient product has no BatchNorm R-operator).
 */
function resolvePruningKeys(
  given: Record<string, unknown>,
  model: Record<string, unknown>,
  method: string,
  report: (key: string, message: string, code: IssueCode, severity?: IssueSeverity, at?: 'key' | 'value') => void,
): void {
  if (given.scope !== undefined && method === 'none') {
    report('sparsity.scope', "ignored: sparsity.method is 'none' (a dense net has no masks)", 'ignored', 'warning', 'key');
  }
  if (given.batches !== undefined && method !== 'snip' && method !== 'grasp') {
    report('sparsity.batches', `ignored: only the data-driven criteria snip and grasp use batches, found method '${method}'`, 'ignored', 'warning', 'key');
  }
  if (given.synflow_rounds !== undefined && method !== 'synflow') {
    report('sparsity.synflow_rounds', `ignored: only method 'synflow' prunes in rounds, found method '${method}'`, 'ignored', 'warning', 'key');
  }
  if (given.guard !== undefined && given.guard !== 'none' && (method === 'none' || method === 'gmp')) {
    report('sparsity.guard', `ignored: the collapse guard checks the masks a criterion chooses at initialisation, found method '${method}'`, 'ignored', 'warning', 'key');
  }
  if (given.gmp !== undefined && method !== 'gmp') {
    report('sparsity.gmp', `ignored: only method 'gmp' prunes gradually, found method '${method}'`, 'ignored', 'warning', 'key');
  }
  if (given.dynamic !== undefined && method === 'gmp') {
    report('sparsity.dynamic', "expected a fixed-count method with sparsity.dynamic, found method 'gmp': gradual magnitude pruning already moves the masks (use random, magnitude, snip, grasp or synflow for SET/RigL)", 'conflict', 'error', 'key');
  }
  if (given.dynamic !== undefined && method === 'none') {
    report('sparsity.dynamic', "expected a pruning method with sparsity.dynamic, found method 'none': dynamic sparse training moves the masks of a sparse net", 'conflict', 'error', 'key');
  }
  if (method === 'grasp' && model.batch_norm === true) {
    report(
      'sparsity.method',
      "expected a net without BatchNorm for method 'grasp', found model.batch_norm: true: GraSP's exact Hessian-gradient product is implemented without BatchNorm (use snip or synflow, or turn batch_norm off)",
      'conflict',
    );
  }
}
