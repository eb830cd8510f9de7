/**
 * From a schema-valid file value (snake_case, defaults absent) to the resolved `ExperimentConfig`:
 * schema defaults filled in, keys mapped snake_case → camelCase, paths made absolute, SC-SDC widths
 * derived, and the checks that involve more than one key (which a per-key schema cannot express).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { ARCHITECTURES, DATASETS, type Architecture, type ExperimentConfig, type WrnBlock } from '../shared/experiment';
import { cnnPoolPlan, designedChannels, imageShapeOf, scaledChannels, wrnLayout } from '../shared/conv';
import { isRecord } from '../shared/guards';
import { GRADFLOW_SCHEMA, schemaAt, type SchemaNode } from './schema';
import { camelToSnake, snakeToCamel } from './keys';
import { overlay, type SettingsLayer } from './layers';
import type { ConfigIssue, IssueCode, IssueSeverity } from './types';
import { describeValue, makeIssue, type Locator } from './validate';
import { at } from '../shared/checked';

/** The file's value after schema validation: snake_case keys, only what the file says. */
export type RawExperiment = Record<string, unknown>;

export interface ResolveOptions {
  /** The experiment file (relative paths in it are resolved against its folder). */
  file: string;
  /** Base folder for `run.runs_dir` instead of the file's folder (e.g. for an unsaved editor buffer). */
  runsDirBase?: string | undefined;
  locate: Locator;
  /** Settings that replace schema defaults where the file is silent (`layers.ts`). */
  settings?: SettingsLayer | undefined;
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
  const report = (key: string, message: string, code: IssueCode, severity: IssueSeverity = 'error', at: 'key' | 'value' = 'value', set?: ConfigIssue['set']): void => {
    issues.push(makeIssue(opts.file, key, at === 'key' ? opts.locate.key(key) : opts.locate.value(key), message, code, severity, undefined, set));
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

  // Synthetic images: features = H·W·C.
  if (dataset.name === 'synthetic') resolveSyntheticShape(dataset, given.dataset, report);

  // Model: the architecture's own keys; the others are warnings and leave the resolved config.
  const architecture = resolveArchitecture(model, given.model, dataset, report);
  if (architecture === 'mlp' && given.model.skip === true && model.hidden_layers === 1) {
    report('model.skip', 'has no effect with hidden_layers 1: skip connections join consecutive hidden layers', 'ignored', 'warning', 'key');
  }

  // SC-SDC: the dense twin's width, from dense_width or density.
  const width = model.width as number;
  const method = sparsity.method as string;
  const hasDenseWidth = given.sparsity.dense_width !== undefined;
  const hasDensity = given.sparsity.density !== undefined;
  const hasDenseWiden = given.sparsity.dense_widen_factor !== undefined;
  if (hasDenseWiden && architecture !== 'wrn' && (method === 'none' || architecture === 'mlp')) {
    report('sparsity.dense_widen_factor', `ignored: only architecture 'wrn' has a widen factor, found '${architecture}'`, 'ignored', 'warning', 'key');
  }
  if (method === 'none') {
    if (hasDenseWidth) report('sparsity.dense_width', "ignored: sparsity.method is 'none' (a dense net has no twin)", 'ignored', 'warning', 'key');
    if (hasDensity) report('sparsity.density', "ignored: sparsity.method is 'none' (a dense net has no twin)", 'ignored', 'warning', 'key');
    if (hasDenseWiden && architecture === 'wrn') report('sparsity.dense_widen_factor', "ignored: sparsity.method is 'none' (a dense net has no twin)", 'ignored', 'warning', 'key');
    if (sparsity.pair === true) report('sparsity.pair', "expected false with sparsity.method 'none', found true: an SC-SDC pair needs a sparse net (a pruning method such as random or magnitude)", 'conflict');
    sparsity.pair = false;
    delete sparsity.dense_width;
    delete sparsity.density;
  } else if (architecture !== 'mlp') {
    if (sparsity.pair === undefined) sparsity.pair = true;
    resolveConvTwin(model, sparsity, given.sparsity, architecture, method, report);
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
  if (architecture === 'mlp') delete sparsity.density;
  delete sparsity.dense_widen_factor;
  resolvePruningKeys(given.sparsity, model, method, architecture, report);

  // Training.
  const schedule = training.lr_schedule as { milestones?: unknown } | undefined;
  if (schedule !== undefined && Array.isArray(schedule.milestones)) {
    const ms = schedule.milestones as unknown[];
    const bad = ms.findIndex((m, i) => i > 0 && typeof m === 'number' && typeof ms[i - 1] === 'number' && m <= (ms[i - 1] as number));
    if (bad > 0) report(`training.lr_schedule.milestones.${bad}`, `expected milestones in strictly increasing order, found ${String(ms[bad])} after ${String(ms[bad - 1])}`, 'conflict');
    else if (typeof training.epochs === 'number' && ms.every((m) => typeof m === 'number' && m >= (training.epochs as number)))
      report('training.lr_schedule', `ignored: every milestone is at or past training.epochs (${training.epochs}), so the rate never changes`, 'ignored', 'warning', 'key');
  }
  if (given.training.nesterov === true && training.optimizer !== 'momentum') {
    report('training.nesterov', `ignored: only optimizer 'momentum' uses it, found optimizer '${String(training.optimizer)}'`, 'ignored', 'warning', 'key');
  }
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
 * read by the methods that use them (a warning otherwise), and `grasp` on an MLP needs it without
 * BatchNorm (the MLP's exact Hessian-gradient product has no BatchNorm R-operator; the conv nets'
 * has, engine/pruning/grasp-conv.ts).
 */
function resolvePruningKeys(
  given: Record<string, unknown>,
  model: Record<string, unknown>,
  method: string,
  architecture: Architecture,
  report: Report,
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
  if (method === 'gmp' && (given.init === undefined || given.init === 'dense-fan-in')) {
    report(
      given.init === undefined ? 'sparsity.method' : 'sparsity.init',
      "gmp starts the wide net dense (or at gmp.initial_density), but sparsity.init: dense-fan-in (the default) draws its weights for the narrow twin's fan-in: each unit sums over 1/ρ (between convs about 1/ρ²) times as many weights as that std assumes, so activations start too large; sparsity.init: sparse-fan-in draws each layer for the fan-in it starts training with",
      'advice',
      'warning',
      'value',
      { key: 'sparsity.init', value: 'sparse-fan-in' },
    );
  }
  if (given.dynamic !== undefined && method === 'gmp') {
    report('sparsity.dynamic', "expected a fixed-count method with sparsity.dynamic, found method 'gmp': gradual magnitude pruning already moves the masks (use random, magnitude, snip, grasp or synflow for SET/RigL)", 'conflict', 'error', 'key');
  }
  if (given.dynamic !== undefined && method === 'none') {
    report('sparsity.dynamic', "expected a pruning method with sparsity.dynamic, found method 'none': dynamic sparse training moves the masks of a sparse net", 'conflict', 'error', 'key');
  }
  if (method === 'grasp' && architecture === 'mlp' && model.batch_norm === true) {
    report(
      'sparsity.method',
      "expected an MLP without BatchNorm for method 'grasp', found model.batch_norm: true: GraSP's exact Hessian-gradient product is implemented without BatchNorm for the MLP (use snip or synflow, or turn batch_norm off; conv nets take grasp with BatchNorm)",
      'conflict',
    );
  }
}

type Report = (key: string, message: string, code: IssueCode, severity?: IssueSeverity, at?: 'key' | 'value', set?: ConfigIssue['set']) => void;

/** [height, width, channels] of a dataset's examples as the net sees them (synthetic: its `shape`, else [1, features, 1]). */
export function inputShapeOf(dataset: Record<string, unknown>): [number, number, number] | undefined {
  if (dataset.name === 'synthetic') {
    const syn = isRecord(dataset.synthetic) ? dataset.synthetic : {};
    if (Array.isArray(syn.shape) && syn.shape.length === 3) return syn.shape as [number, number, number];
    return typeof syn.features === 'number' ? [1, syn.features, 1] : undefined;
  }
  const name = DATASETS.find((d) => d === dataset.name);
  return name === undefined ? undefined : imageShapeOf(name);
}

/** `dataset.synthetic.shape` [H, W, C]: features = H·W·C; a `features` the file gives too must agree. */
function resolveSyntheticShape(dataset: Record<string, unknown>, given: Record<string, unknown>, report: Report): void {
  const syn = dataset.synthetic;
  if (!isRecord(syn) || !Array.isArray(syn.shape)) return;
  const shape = syn.shape as number[];
  const product = shape.reduce((a, b) => a * b, 1);
  const givenFeatures = isRecord(given.synthetic) ? given.synthetic.features : undefined;
  if (givenFeatures !== undefined && givenFeatures !== product) {
    report(
      'dataset.synthetic.features',
      `expected ${product} (= ${shape.join(' × ')}, dataset.synthetic.shape), found ${describeValue(givenFeatures)}: an image of shape [${shape.join(', ')}] has H·W·C features (leave features out)`,
      'conflict',
    );
    return;
  }
  syn.features = product;
}

const MLP_KEYS = ['hidden_layers', 'width'] as const;
const CNN_KEYS = ['channels', 'pool'] as const;
const WRN_KEYS = ['depth', 'widen_factor', 'block'] as const;

/**
 * The architectures a key applies to (dotted snake_case), or undefined for a key every architecture
 * reads. What completion offers under a written `model.architecture`, and what resolution warns about.
 */
export function keyArchitectures(key: string): readonly Architecture[] | undefined {
  const [section, name] = key.split('.');
  if (section === 'model' && name !== undefined) {
    if ((MLP_KEYS as readonly string[]).includes(name)) return ['mlp'];
    if ((CNN_KEYS as readonly string[]).includes(name)) return ['cnn'];
    if ((WRN_KEYS as readonly string[]).includes(name)) return ['wrn'];
  }
  if (key === 'sparsity.dense_width') return ['mlp'];
  if (key === 'sparsity.dense_widen_factor') return ['wrn'];
  return undefined;
}

/**
 * `model.architecture` and the keys that belong to it. Keys of another architecture are warnings
 * (ignored) and leave the resolved config; conv nets need image inputs, a wrn 32×32 ones; a wrn
 * always has BatchNorm and residuals. Returns the architecture (`architecture` itself is dropped
 * for an MLP, so MLP files resolve and hash as they did before conv nets).
 */
function resolveArchitecture(model: Record<string, unknown>, given: Record<string, unknown>, dataset: Record<string, unknown>, report: Report): Architecture {
  const architecture: Architecture = ARCHITECTURES.find((a) => a === model.architecture) ?? 'mlp';
  const own: readonly string[] = architecture === 'mlp' ? MLP_KEYS : architecture === 'cnn' ? CNN_KEYS : WRN_KEYS;
  const owner = (k: string): Architecture => ((MLP_KEYS as readonly string[]).includes(k) ? 'mlp' : (CNN_KEYS as readonly string[]).includes(k) ? 'cnn' : 'wrn');
  for (const k of [...MLP_KEYS, ...CNN_KEYS, ...WRN_KEYS]) {
    if (own.includes(k)) continue;
    if (given[k] !== undefined) {
      report(`model.${k}`, `ignored: only architecture '${owner(k)}' uses it, found architecture '${architecture}'`, 'ignored', 'warning', 'key');
    }
  }
  // The MLP fields stay (the resolved type always has them); the conv ones of other architectures leave.
  if (architecture !== 'cnn') {
    delete model.channels;
    delete model.pool;
  }
  if (architecture !== 'wrn') {
    delete model.depth;
    delete model.widen_factor;
    delete model.block;
  }
  if (architecture === 'mlp') {
    delete model.architecture;
    return architecture;
  }

  const input = inputShapeOf(dataset);
  const syntheticFlat = dataset.name === 'synthetic' && !(isRecord(dataset.synthetic) && Array.isArray(dataset.synthetic.shape));
  if (syntheticFlat) {
    report('model.architecture', `architecture '${architecture}' needs image inputs, found flat synthetic features: give dataset.synthetic.shape [height, width, channels], e.g. [8, 8, 3]`, 'conflict');
  }
  if (architecture === 'cnn') {
    const channels = model.channels as number[];
    if (input && !syntheticFlat) {
      const plan = cnnPoolPlan([input[0], input[1]], channels.length, model.pool as 'auto' | number[]);
      if (plan.problem?.reason === 'no-such-block') {
        report('model.pool', `expected block numbers from 1 to ${channels.length} (one block per entry of model.channels), found ${plan.problem.block}`, 'out-of-range');
      } else if (plan.problem) {
        const before = plan.problem.block === 1 ? [input[0], input[1]] : at(plan.maps, plan.problem.block - 2);
        report('model.pool', `block ${plan.problem.block} cannot pool: its feature map is already ${before[0]}×${before[1]} (input ${input[0]}×${input[1]}, each 2×2 max-pool halves the sides, rounding down); leave block ${plan.problem.block} out or use 'auto'`, 'conflict');
      }
    }
    return architecture;
  }

  // wrn: BatchNorm and residuals are part of the design.
  for (const k of ['batch_norm', 'skip'] as const) {
    if (given[k] === false) {
      const what = k === 'batch_norm' ? 'BatchNorm (its pre-activation blocks are BN → activation → conv)' : 'residual connections (every block has a shortcut)';
      report(`model.${k}`, `expected true (or no value) with architecture 'wrn', found false: a Wide ResNet always has ${what}; use architecture 'cnn' for a net without`, 'conflict');
    }
    model[k] = true;
  }
  const block = model.block as WrnBlock;
  if (block === 'bottleneck') {
    if (given.depth === undefined) model.depth = 50;
    if (given.widen_factor === undefined) model.widen_factor = 2;
  }
  const depth = model.depth as number;
  if (!wrnLayout(depth, model.widen_factor as number, block)) {
    report(
      'model.depth',
      block === 'bottleneck'
        ? `expected 50 or 101 with block 'bottleneck' (torchvision's wide_resnet50_2 / wide_resnet101_2: blocks 3-4-6-3 / 3-4-23-3), found ${depth}`
        : `expected a depth d with (d − 4) divisible by 6 (10, 16, 22, 28, 40, …: (d − 4)/6 basic blocks per group), found ${depth}`,
      'out-of-range',
    );
  }
  if (input && !syntheticFlat && (input[0] !== 32 || input[1] !== 32)) {
    report(
      'model.architecture',
      `architecture 'wrn' is built for 32×32 inputs (CIFAR-10/100), found ${input[0]}×${input[1]} (dataset ${String(dataset.name)}): use dataset cifar10 or cifar100, a synthetic shape [32, 32, C], or architecture 'cnn' for ${input[0]}×${input[1]} images`,
      'conflict',
    );
  }
  return architecture;
}

/**
 * SC-SDC for a conv net: the dense twin has every designed channel count × ρ, rounded. ρ comes from
 * `sparsity.density`, or for a wrn `dense_widen_factor / widen_factor`; `dense_width` is the MLP's.
 * Every twin channel count must be at least 1. Sets `sparsity.density` to ρ.
 */
function resolveConvTwin(
  model: Record<string, unknown>,
  sparsity: Record<string, unknown>,
  given: Record<string, unknown>,
  architecture: Architecture,
  method: string,
  report: Report,
): void {
  delete sparsity.dense_width;
  const hasDensity = given.density !== undefined;
  const hasDenseWiden = architecture === 'wrn' && given.dense_widen_factor !== undefined;
  const alternatives = architecture === 'wrn' ? 'sparsity.density (ρ, between 0 and 1) or sparsity.dense_widen_factor (k_D, smaller than model.widen_factor)' : 'sparsity.density (ρ, between 0 and 1)';
  if (given.dense_width !== undefined) {
    report('sparsity.dense_width', `expected ${alternatives} with architecture '${architecture}', found sparsity.dense_width: dense_width is the MLP twin's width; a conv net's twin has every channel count × ρ`, 'conflict', 'error', 'key');
    return;
  }
  if (given.dense_widen_factor !== undefined && architecture === 'cnn') {
    report('sparsity.dense_widen_factor', "expected sparsity.density with architecture 'cnn', found sparsity.dense_widen_factor: only a wrn has a widen factor", 'conflict', 'error', 'key');
    return;
  }
  if (hasDensity && hasDenseWiden) {
    report('sparsity.density', 'give either sparsity.density or sparsity.dense_widen_factor, not both (density = dense_widen_factor / model.widen_factor)', 'conflict', 'error', 'key');
    return;
  }
  if (!hasDensity && !hasDenseWiden) {
    report('sparsity.method', `method '${method}' needs the dense twin: set ${alternatives}`, 'missing');
    return;
  }
  let density: number;
  let key: string;
  if (hasDenseWiden) {
    const kD = sparsity.dense_widen_factor as number;
    const k = model.widen_factor as number;
    key = 'sparsity.dense_widen_factor';
    if (kD >= k) {
      report(key, `expected a widen factor smaller than model.widen_factor (${k}), found ${kD}: in SC-SDC the sparse net is the wider one`, 'conflict');
      return;
    }
    density = kD / k;
  } else {
    density = sparsity.density as number;
    key = 'sparsity.density';
  }
  const narrowest = Math.min(
    ...designedChannels({
      architecture,
      channels: model.channels as number[] | undefined,
      depth: model.depth as number | undefined,
      widenFactor: model.widen_factor as number | undefined,
      block: model.block as WrnBlock | undefined,
    }),
  );
  if (Number.isFinite(narrowest) && scaledChannels(narrowest, density) < 1) {
    report(
      key,
      `density ${Number(density.toPrecision(6))} leaves the dense twin no channel where the design has ${narrowest} (round(${narrowest} × ${Number(density.toPrecision(6))}) = 0): expected a density of at least ${Number((0.5 / narrowest).toPrecision(3))}`,
      'out-of-range',
    );
    return;
  }
  sparsity.density = density;
}
