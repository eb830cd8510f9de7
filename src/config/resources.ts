/**
 * What a resolved configuration would take from the machine, checked before anything runs: memory
 * (the weights of one net, the values of generated data) and the folders it reads and writes
 * (`run.runs_dir`, `dataset.cache_dir`, `dataset.path`). Each problem is an issue on the key at fault.
 * Per-key maxima live in the schema; these are the limits that involve several keys.
 */
import { checkFolder } from '../data/paths';
import type { ExperimentConfig } from '../shared/experiment';
import { grouped, MAX_MODEL_WEIGHTS, MAX_SYNTHETIC_VALUES } from './limits';
import type { ConfigIssue } from './types';
import { makeIssue, type Locator } from './validate';

export interface ResourceOptions {
  /** Also check the folders on disk (default true; sweep points share the base file's folders). */
  paths?: boolean;
}

/** Input features and classes of a dataset. */
function dataShape(config: ExperimentConfig): { features: number; classes: number } {
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

export function resourceIssues(config: ExperimentConfig, file: string, locate: Locator, opts: ResourceOptions = {}): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const error = (key: string, message: string, at: 'key' | 'value' = 'value'): void => {
    issues.push(makeIssue(file, key, at === 'key' ? locate.key(key) : locate.value(key), message, 'out-of-range'));
  };

  const { features, classes } = dataShape(config);
  const { width, hiddenLayers } = config.model;
  const weights = modelWeights(features, width, hiddenLayers, classes);
  if (weights > MAX_MODEL_WEIGHTS) {
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
