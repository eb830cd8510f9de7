/**
 * What a resolved configuration would take from the machine, checked before anything runs: memory
 * (the weights of one net, the values of generated data) and the folders it reads and writes
 * (`run.runs_dir`, `dataset.cache_dir`, `dataset.path`). Each problem is an issue on the key at fault.
 * Per-key maxima live in the schema; these are the limits that involve several keys.
 */
import { checkFolder } from '../data/paths';
import type { ExperimentConfig } from '../shared/experiment';
import { cnnPoolPlan, convKernelShapes, imageShapeOf, kernelWeights, wrnLayout } from '../shared/conv';
import { DEFAULT_MAX_MEMORY_MB, grouped, MAX_MODEL_WEIGHTS, MAX_SYNTHETIC_VALUES, RUNTIME_BASE_MB } from './limits';
import type { ConfigIssue } from './types';
import { makeIssue, type Locator } from './validate';
import { at } from '../shared/checked';

export interface ResourceOptions {
  /** Also check the folders on disk (default true; sweep points share the base file's folders). */
  paths?: boolean;
}

/** Input features and classes of a dataset. */
export function dataShape(config: ExperimentConfig): { features: number; classes: number } {
  switch (config.dataset.name) {
    case 'fashion-mnist':
    case 'mnist':
      return { features: 784, classes: 10 };
    case 'cifar10':
      return { features: 3072, classes: 10 };
    case 'cifar100':
      return { features: 3072, classes: 100 };
    case 'synthetic':
      return { features: config.dataset.synthetic?.features ?? 0, classes: config.dataset.synthetic?.classes ?? 0 };
  }
}

/** Weights of a net of hidden width `w`: input → w, (H − 1) × w → w, w → classes. */
export function modelWeights(features: number, width: number, hiddenLayers: number, classes: number): number {
  return features * width + (hiddenLayers - 1) * width * width + width * classes;
}

/** Examples of a dataset held in memory (train + test; the validation split is carved from train), and bytes per raw value. */
function dataExamples(config: ExperimentConfig): { examples: number; rawBytes: number } {
  const d = config.dataset;
  const cap = (n: number, limit: number | undefined): number => (limit !== undefined ? Math.min(n, limit) : n);
  switch (d.name) {
    case 'fashion-mnist':
    case 'mnist':
      return { examples: cap(60_000, d.trainLimit) + cap(10_000, d.testLimit), rawBytes: 1 };
    case 'cifar10':
    case 'cifar100':
      return { examples: cap(50_000, d.trainLimit) + cap(10_000, d.testLimit), rawBytes: 1 };
    case 'synthetic':
      return { examples: cap(d.synthetic?.trainSize ?? 0, d.trainLimit) + cap(d.synthetic?.testSize ?? 0, d.testLimit), rawBytes: 4 };
  }
}

/** float32 copies of every weight an optimizer keeps besides the weights and their gradient. */
const OPTIMIZER_SLOTS: Record<ExperimentConfig['training']['optimizer'], number> = { sgd: 0, momentum: 1, adagrad: 1, rmsprop: 2, adam: 2, adamw: 2 };

export interface MemoryTerm {
  /** What it is, e.g. `sparse net: 1,024 × 128 + … weights × 6 copies`. */
  what: string;
  bytes: number;
  /** The keys that make it big, most to blame first (the issue is placed on the first). */
  keys: string[];
}

export interface MemoryEstimate {
  terms: MemoryTerm[];
  /** Sum of the terms, bytes. */
  bytes: number;
  /** The bound it is checked against, MiB (`run.max_memory_mb`, else the default). */
  limitMb: number;
}

/**
 * An upper estimate of a run's peak memory, from the config alone (docs/experiment-file.md, "Memory").
 * Per net (the sparse net at full width — its masked weights are counted dense, an upper bound — and
 * the dense twin of an SC-SDC pair): parameters (weights, biases, BatchNorm) × copies (the weights,
 * their gradient, the optimizer's slots, and for a masked net its mask and the raw gradient) plus
 * activations (batch × (inputs + widths + classes) × 4: values, gradients and temporaries). Data:
 * the raw examples plus their float32 prepared copy. Plus the runtime's own `RUNTIME_BASE_MB`.
 */
export function memoryEstimate(config: ExperimentConfig): MemoryEstimate {
  const { features, classes } = dataShape(config);
  if (config.model.architecture !== undefined) return convMemoryEstimate(config, features, classes);
  const { width, hiddenLayers, batchNorm } = config.model;
  const batch = config.training.batchSize;
  const slots = OPTIMIZER_SLOTS[config.training.optimizer] ?? 2;
  const terms: MemoryTerm[] = [];
  const inputKey = config.dataset.name === 'synthetic' ? 'dataset.synthetic.features' : 'dataset.name';
  const net = (role: string, w: number, masked: boolean, widthKey: string): void => {
    const params = modelWeights(features, w, hiddenLayers, classes) + hiddenLayers * w + classes + (batchNorm ? 4 * hiddenLayers * w : 0);
    const copies = 2 + slots + (masked ? 2 : 0);
    const firstLayer = features * w;
    const keys = firstLayer >= (hiddenLayers - 1) * w * w ? [inputKey, widthKey] : [widthKey, 'model.hidden_layers'];
    terms.push({
      what: `${role} net: ${grouped(params)} parameters (${grouped(features)} inputs × width ${grouped(w)}, ${hiddenLayers} hidden layer(s)) × ${copies} copies (weights, gradient, ${slots} ${config.training.optimizer} slot(s)${masked ? ', mask, raw gradient' : ''})`,
      bytes: 4 * params * copies,
      keys,
    });
    terms.push({
      what: `${role} net activations: batch ${grouped(batch)} × ${grouped(features + hiddenLayers * w + classes)} units × 4`,
      bytes: 4 * 4 * batch * (features + hiddenLayers * w + classes),
      keys: ['training.batch_size', features > hiddenLayers * w ? inputKey : widthKey],
    });
  };
  const masked = config.sparsity.method !== 'none';
  net(masked ? 'sparse' : 'the', width, masked, 'model.width');
  if (masked && config.sparsity.pair && config.sparsity.denseWidth !== undefined) net('dense twin', config.sparsity.denseWidth, false, 'sparsity.dense_width');
  const { examples, rawBytes } = dataExamples(config);
  const synthetic = config.dataset.name === 'synthetic';
  terms.push({
    what: `data: ${grouped(examples)} examples × ${grouped(features)} features × ${rawBytes + 4} bytes (raw and prepared)`,
    bytes: examples * features * (rawBytes + 4),
    keys: synthetic ? ['dataset.synthetic.features', 'dataset.synthetic.train_size', 'dataset.synthetic.test_size'] : ['dataset.train_limit', 'dataset.name'],
  });
  terms.push({ what: 'Node and TensorFlow.js', bytes: RUNTIME_BASE_MB * 2 ** 20, keys: [] });
  const bytes = terms.reduce((a, t) => a + t.bytes, 0);
  return { terms, bytes, limitMb: config.run.maxMemoryMb ?? DEFAULT_MAX_MEMORY_MB };
}

/** [height, width, channels] of the examples a resolved config trains on. */
export function inputShape(config: ExperimentConfig): [number, number, number] {
  const d = config.dataset;
  return imageShapeOf(d.name) ?? d.synthetic?.shape ?? [1, d.synthetic?.features ?? 0, 1];
}

/**
 * Activation values of one example in a conv net, counted at every conv's output (each map once for
 * the conv, once for BatchNorm / activation / pooling / the residual sum: × 2), plus the input and the
 * classifier. Each is held as a float32 value and, in the backward pass, its gradient (8 bytes).
 * An estimate of the same kind as the MLP's; the engine's own count is exact.
 */
export function convActivationUnits(config: ExperimentConfig): number {
  const [h, w, c] = inputShape(config);
  const m = config.model;
  let units = h * w * c + dataShape(config).classes;
  if (m.architecture === 'cnn') {
    const channels = m.channels ?? [];
    const plan = cnnPoolPlan([h, w], channels.length, m.pool ?? 'auto');
    let [mh, mw] = [h, w];
    channels.forEach((ch, i) => {
      units += 2 * ch * mh * mw * (m.skip ? 2 : 1);
      [mh, mw] = at(plan.maps, i);
    });
    return units;
  }
  const layout = wrnLayout(m.depth ?? 16, m.widenFactor ?? 4, m.block ?? 'basic');
  if (!layout) return units;
  let [mh, mw] = [h, w];
  units += 2 * layout.stem * mh * mw;
  for (const g of layout.groups) {
    if (g.stride === 2) [mh, mw] = [Math.ceil(mh / 2), Math.ceil(mw / 2)];
    const perBlock = layout.block === 'basic' ? 2 * g.width : 2 * g.width + g.out;
    units += 2 * g.blocks * (perBlock + g.out) * mh * mw;
  }
  return units;
}

/** `memoryEstimate` for `cnn` / `wrn`: kernel weights from the architecture (docs/experiment-file.md, "Memory"). */
function convMemoryEstimate(config: ExperimentConfig, features: number, classes: number): MemoryEstimate {
  const batch = config.training.batchSize;
  const slots = OPTIMIZER_SLOTS[config.training.optimizer] ?? 2;
  const terms: MemoryTerm[] = [];
  const inC = inputShape(config)[2];
  const sizeKey = config.model.architecture === 'cnn' ? 'model.channels' : 'model.widen_factor';
  const net = (role: string, density: number | undefined, masked: boolean): void => {
    const kernels = convKernelShapes(config.model, inC, classes, density) ?? [];
    // Weights, plus a bias or BatchNorm's four vectors per output channel (an upper bound).
    const params = kernels.reduce((a, k) => a + kernelWeights(k) + 4 * k.cout, 0);
    const copies = 2 + slots + (masked ? 2 : 0);
    terms.push({
      what: `${role} net: ${grouped(params)} parameters (${kernels.length} weight layers, ${config.model.architecture ?? 'mlp'}) × ${copies} copies (weights, gradient, ${slots} ${config.training.optimizer} slot(s)${masked ? ', mask, raw gradient' : ''})`,
      bytes: 4 * params * copies,
      keys: [sizeKey],
    });
    const units = convActivationUnits(config) * (density ?? 1);
    terms.push({
      what: `${role} net activations: batch ${grouped(batch)} × ${grouped(Math.round(units))} values × 8 bytes (value and gradient)`,
      bytes: Math.round(8 * batch * units),
      keys: ['training.batch_size', sizeKey],
    });
  };
  const masked = config.sparsity.method !== 'none';
  net(masked ? 'sparse' : 'the', undefined, masked);
  if (masked && config.sparsity.pair && config.sparsity.density !== undefined) net('dense twin', config.sparsity.density, false);
  const { examples, rawBytes } = dataExamples(config);
  const synthetic = config.dataset.name === 'synthetic';
  terms.push({
    what: `data: ${grouped(examples)} examples × ${grouped(features)} features × ${rawBytes + 4} bytes (raw and prepared)`,
    bytes: examples * features * (rawBytes + 4),
    keys: synthetic ? ['dataset.synthetic.shape', 'dataset.synthetic.train_size', 'dataset.synthetic.test_size'] : ['dataset.train_limit', 'dataset.name'],
  });
  terms.push({ what: 'Node and TensorFlow.js', bytes: RUNTIME_BASE_MB * 2 ** 20, keys: [] });
  const bytes = terms.reduce((a, t) => a + t.bytes, 0);
  return { terms, bytes, limitMb: config.run.maxMemoryMb ?? DEFAULT_MAX_MEMORY_MB };
}

const mb = (bytes: number): string => `${grouped(bytes / 2 ** 20)} MB`;

export function resourceIssues(config: ExperimentConfig, file: string, locate: Locator, opts: ResourceOptions = {}): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const error = (key: string, message: string, at: 'key' | 'value' = 'value'): void => {
    issues.push(makeIssue(file, key, at === 'key' ? locate.key(key) : locate.value(key), message, 'out-of-range'));
  };

  const { features, classes } = dataShape(config);
  const { width, hiddenLayers } = config.model;
  const kernels = config.model.architecture !== undefined ? convKernelShapes(config.model, inputShape(config)[2], classes) : undefined;
  const weights = kernels ? kernels.reduce((a, k) => a + kernelWeights(k), 0) : modelWeights(features, width, hiddenLayers, classes);
  if (kernels && weights > MAX_MODEL_WEIGHTS) {
    const key = config.model.architecture === 'cnn' ? 'model.channels' : 'model.widen_factor';
    error(key, `the ${config.model.architecture} has ${grouped(weights)} kernel weights, more than the limit of ${grouped(MAX_MODEL_WEIGHTS)} (1 GiB of float32 per copy): lower ${key}${config.model.architecture === 'wrn' ? ' or model.depth' : ''}`);
  } else if (weights > MAX_MODEL_WEIGHTS) {
    error(
      'model.width',
      `width ${grouped(width)} with ${hiddenLayers} hidden layer(s) and ${grouped(features)} inputs gives ${grouped(weights)} weights, more than the limit of ${grouped(MAX_MODEL_WEIGHTS)} (1 GiB of float32 per copy): lower model.width or model.hidden_layers`,
    );
  }

  const syn = config.dataset.name === 'synthetic' ? config.dataset.synthetic : undefined;
  if (syn) {
    const values = (syn.trainSize + syn.testSize) * syn.features;
    if (values > MAX_SYNTHETIC_VALUES) {
      // Blame the size furthest above its default: that is the one most likely set by mistake.
      const defaults = { features: 32, train_size: 2048, test_size: 512 };
      const ratio = { features: syn.features / defaults.features, train_size: syn.trainSize / defaults.train_size, test_size: syn.testSize / defaults.test_size };
      const worst = (Object.keys(ratio) as Array<keyof typeof ratio>).reduce((a, b) => (ratio[b] > ratio[a] ? b : a));
      error(
        `dataset.synthetic.${worst}`,
        `(train_size ${grouped(syn.trainSize)} + test_size ${grouped(syn.testSize)}) × features ${grouped(syn.features)} = ${grouped(values)} values, more than the limit of ${grouped(MAX_SYNTHETIC_VALUES)} (1 GiB of float32): lower train_size, test_size or features`,
      );
    }
  }

  // The run as a whole, after the per-net and data limits above (which name a single cause): a
  // config past those already failed, and one error is enough.
  if (issues.length === 0) {
    const est = memoryEstimate(config);
    if (est.bytes > est.limitMb * 2 ** 20) {
      const big = [...est.terms].sort((a, b) => b.bytes - a.bytes);
      const culprit = at(big, 0);
      const keys = [...new Set(big.filter((t) => t.bytes >= est.bytes / 10).flatMap((t) => t.keys))];
      error(
        culprit.keys[0] ?? 'model.width',
        `estimated peak memory ${mb(est.bytes)}, more than the bound of ${grouped(est.limitMb)} MB (run.max_memory_mb): ${big
          .filter((t) => t.bytes >= est.bytes / 20)
          .map((t) => `${t.what} = ${mb(t.bytes)}`)
          .join('; ')}. Lower ${keys.join(', ')}, or raise run.max_memory_mb if this machine has the memory`,
      );
    }
  }

  if (opts.paths !== false) {
    const folders: Array<[string, string | undefined]> = [
      ['run.runs_dir', config.run.runsDir],
      ['dataset.cache_dir', config.dataset.cacheDir],
      // `path` is ignored (with a warning) for synthetic data.
      ['dataset.path', config.dataset.name === 'synthetic' ? undefined : config.dataset.path],
    ];
    for (const [key, dir] of folders) {
      if (dir === undefined) continue;
      const check = checkFolder(dir);
      if (check.problem) error(key, check.problem);
    }
  }
  return issues;
}
