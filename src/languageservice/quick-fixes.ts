/**
 * Quick fixes for training alerts, as text edits on the experiment file (pure; the server records
 * them beside the run's diagnostics, `run-fixes.ts`). Each fix changes one setting the alert rules implicate, keeping the rest of
 * the file (comments, order, formatting) as it is.
 */
import type { AlertKind } from '../shared/protocol';
import type { Activation, ExperimentConfig, OptimizerName } from '../shared/experiment';
import { REMEDIES, type FixId, type FixSpec } from '../config/remedies';
import type { TextEdit } from './types';
import { setFlowList, setScalar, writtenValue, type YamlText } from './yaml-edit';

export type { FixId } from '../config/remedies';

export interface QuickFix {
  id: FixId;
  title: string;
  edits: TextEdit[];
  /** The fix offered first (VS Code's "preferred" quick fix, applied by Ctrl+. twice). */
  preferred: boolean;
}

/** `x` without float noise (0.1 × 0.001 → 0.0001), in exponent form when the file wrote it so. */
export function formatNumber(x: number, like?: string): string {
  const clean = Number(x.toPrecision(12));
  if (like !== undefined && /e/i.test(like)) return clean.toExponential().replace('e+', 'e');
  return String(clean);
}

function fix(id: FixId, title: string, edits: TextEdit[] | undefined, preferred = false): QuickFix | undefined {
  return edits === undefined || edits.length === 0 ? undefined : { id, title, edits, preferred };
}

export function addBatchNorm(doc: YamlText): QuickFix | undefined {
  return fix('add-batch-norm', 'Add BatchNorm (model.batch_norm: true)', setScalar(doc, ['model', 'batch_norm'], 'true'));
}

export function lowerLearningRate(doc: YamlText, config: ExperimentConfig): QuickFix | undefined {
  const lr = config.training.learningRate;
  const written = writtenValue(doc, ['training', 'learning_rate']);
  const next = formatNumber(lr * 0.1, written);
  // Both sides in the file's notation: `1e-3 → 1e-4`, `0.001 → 0.0001` (not `0.001 → 1e-4`).
  return fix('lower-learning-rate', `Lower the learning rate ×0.1 (${formatNumber(lr, written)} → ${next})`, setScalar(doc, ['training', 'learning_rate'], next));
}

export function switchActivation(doc: YamlText, config: ExperimentConfig, to: Activation): QuickFix | undefined {
  if (config.model.activation === to) return undefined;
  return fix('switch-activation', `Switch activation to ${to}`, setScalar(doc, ['model', 'activation'], to));
}

export function switchOptimizer(doc: YamlText, config: ExperimentConfig, to: OptimizerName): QuickFix | undefined {
  if (config.training.optimizer === to) return undefined;
  const why = to === 'adamw' ? ' (decoupled weight decay)' : '';
  return fix('switch-optimizer', `Switch optimizer to ${to}${why}`, setScalar(doc, ['training', 'optimizer'], to));
}

/**
 * Double the dense twin's width (so every layer's density rises), capped below the sparse width so
 * the pair stays sparse. Edits `density` instead when the file gives the density.
 */
export function raiseDensity(doc: YamlText, config: ExperimentConfig): QuickFix | undefined {
  if (config.sparsity.method === 'none') return undefined;
  const width = config.model.width;
  const writtenDensity = writtenValue(doc, ['sparsity', 'density']);
  if (writtenDensity !== undefined) {
    const d = Number(writtenDensity);
    if (!Number.isFinite(d)) return undefined;
    // Doubling past 1 would make the net dense: go halfway to 1 instead.
    let next = Number(formatNumber(2 * d));
    if (next >= 1) next = Number(((1 + d) / 2).toFixed(3));
    if (next <= d || next >= 1) return undefined;
    return fix('raise-density', `Raise the density (${d} → ${next})`, setScalar(doc, ['sparsity', 'density'], String(next)));
  }
  const writtenWiden = writtenValue(doc, ['sparsity', 'dense_widen_factor']);
  if (writtenWiden !== undefined && config.model.architecture === 'wrn') {
    const kD = Number(writtenWiden);
    const k = config.model.widenFactor ?? 4;
    if (!Number.isFinite(kD)) return undefined;
    // Double it, or go halfway to the sparse net's k (the twin must stay narrower).
    let next = 2 * kD;
    if (next >= k) next = Number(((kD + k) / 2).toFixed(3));
    if (next <= kD || next >= k) return undefined;
    return fix('raise-density', `Raise the density (dense_widen_factor ${kD} → ${formatNumber(next)})`, setScalar(doc, ['sparsity', 'dense_widen_factor'], formatNumber(next)));
  }
  const dw = config.sparsity.denseWidth;
  if (dw === undefined) return undefined;
  const next = Math.min(2 * dw, width - 1);
  if (next <= dw) return undefined;
  return fix('raise-density', `Raise the density (dense_width ${dw} → ${next})`, setScalar(doc, ['sparsity', 'dense_width'], String(next)));
}

/** Largest channel count of a conv block and widen factor the schema allows. */
const MAX_CHANNELS = 4096;
const MAX_WIDEN = 64;

/**
 * A wider conv net at the same density keeps more paths through every layer: a cnn's channels ×2
 * (each capped at the schema's 4096), a wrn's widen factor ×2 (capped at 64). The channels are
 * written as a one-line flow list; a block list is left alone (no fix).
 */
export function widenNet(doc: YamlText, config: ExperimentConfig): QuickFix | undefined {
  const m = config.model;
  if (m.architecture === 'cnn' && m.channels !== undefined) {
    const next = m.channels.map((c) => Math.min(2 * c, MAX_CHANNELS));
    if (next.every((c, i) => c === m.channels?.[i])) return undefined;
    const show = (cs: readonly number[]): string => `[${cs.join(', ')}]`;
    return fix('widen-net', `Widen the conv blocks (channels ${show(m.channels)} → ${show(next)})`, setFlowList(doc, ['model', 'channels'], show(next)));
  }
  if (m.architecture === 'wrn' && m.widenFactor !== undefined) {
    const next = Math.min(2 * m.widenFactor, MAX_WIDEN);
    if (next <= m.widenFactor) return undefined;
    return fix('widen-net', `Widen the network (widen_factor ${m.widenFactor} → ${next})`, setScalar(doc, ['model', 'widen_factor'], String(next)));
  }
  return undefined;
}

/** A wrn with basic blocks one step shallower: depth − 6 (one block fewer per group), at least 10. */
export function reduceDepth(doc: YamlText, config: ExperimentConfig): QuickFix | undefined {
  const m = config.model;
  if (m.architecture !== 'wrn' || m.block === 'bottleneck' || m.depth === undefined || m.depth - 6 < 10) return undefined;
  return fix('reduce-depth', `Make the WRN shallower (depth ${m.depth} → ${m.depth - 6})`, setScalar(doc, ['model', 'depth'], String(m.depth - 6)));
}

/** A global scope lets the criterion empty a layer; layerwise keeps SC-SDC's count in each (docs/pruning.md). */
export function useLayerwiseScope(doc: YamlText, config: ExperimentConfig): QuickFix | undefined {
  if (config.sparsity.scope !== 'global') return undefined;
  return fix('use-layerwise-scope', 'Prune per layer (sparsity.scope: layerwise)', setScalar(doc, ['sparsity', 'scope'], 'layerwise'));
}

/** SynFlow's iterative, data-free scoring is designed to avoid layer collapse (Tanaka et al. 2020). */
export function switchToSynflow(doc: YamlText, config: ExperimentConfig): QuickFix | undefined {
  const m = config.sparsity.method;
  if (m === 'none' || m === 'synflow' || m === 'random') return undefined;
  return fix('switch-to-synflow', `Switch the pruning criterion to synflow (from ${m})`, setScalar(doc, ['sparsity', 'method'], 'synflow'));
}

/** The text edits of one fix of the remedy table, or undefined when it does not apply to this file. */
export function buildFix(spec: FixSpec, doc: YamlText, config: ExperimentConfig): QuickFix | undefined {
  switch (spec.id) {
    case 'lower-learning-rate':
      return lowerLearningRate(doc, config);
    case 'switch-optimizer':
      return switchOptimizer(doc, config, spec.to);
    case 'switch-activation':
      return switchActivation(doc, config, spec.to);
    case 'add-batch-norm':
      return addBatchNorm(doc);
    case 'raise-density':
      return raiseDensity(doc, config);
    case 'use-layerwise-scope':
      return useLayerwiseScope(doc, config);
    case 'switch-to-synflow':
      return switchToSynflow(doc, config);
    case 'widen-net':
      return widenNet(doc, config);
    case 'reduce-depth':
      return reduceDepth(doc, config);
    default: {
      const never: never = spec;
      throw new Error(`unknown fix ${JSON.stringify(never)}`);
    }
  }
}

/** The fixes for one alert kind (the remedy table's, in its order), the first one preferred. */
export function fixesFor(kind: AlertKind, doc: YamlText, config: ExperimentConfig, runKinds?: ReadonlySet<AlertKind>): QuickFix[] {
  const out = REMEDIES[kind]
    .fixes({ config, ...(runKinds !== undefined ? { runKinds } : {}) })
    .map((spec) => buildFix(spec, doc, config))
    .filter((c): c is QuickFix => c !== undefined);
  const [first] = out;
  if (first !== undefined) out[0] = { ...first, preferred: true };
  return out;
}
