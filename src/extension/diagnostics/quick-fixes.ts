/**
 * Quick fixes for training alerts, as text edits on the experiment file (pure; the code-action
 * provider wraps them). Each fix changes one setting the alert rules implicate, keeping the rest of
 * the file (comments, order, formatting) as it is.
 */
import type { AlertKind } from '../../shared/protocol';
import type { Activation, ExperimentConfig, OptimizerName } from '../../shared/experiment';
import type { TextEdit } from '../../languageservice/types';
import { setScalar, writtenValue } from './yaml-edit';

export type FixId =
  | 'add-batch-norm'
  | 'lower-learning-rate'
  | 'switch-activation'
  | 'switch-optimizer'
  | 'raise-density'
  | 'use-layerwise-scope'
  | 'switch-to-synflow';

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

export function addBatchNorm(text: string): QuickFix | undefined {
  return fix('add-batch-norm', 'Add BatchNorm (model.batch_norm: true)', setScalar(text, ['model', 'batch_norm'], 'true'));
}

export function lowerLearningRate(text: string, config: ExperimentConfig): QuickFix | undefined {
  const lr = config.training.learningRate;
  const next = formatNumber(lr * 0.1, writtenValue(text, ['training', 'learning_rate']));
  return fix('lower-learning-rate', `Lower the learning rate ×0.1 (${lr} → ${next})`, setScalar(text, ['training', 'learning_rate'], next));
}

export function switchActivation(text: string, config: ExperimentConfig, to: Activation): QuickFix | undefined {
  if (config.model.activation === to) return undefined;
  return fix('switch-activation', `Switch activation to ${to}`, setScalar(text, ['model', 'activation'], to));
}

export function switchOptimizer(text: string, config: ExperimentConfig, to: OptimizerName): QuickFix | undefined {
  if (config.training.optimizer === to) return undefined;
  const why = to === 'adamw' ? ' (decoupled weight decay)' : '';
  return fix('switch-optimizer', `Switch optimizer to ${to}${why}`, setScalar(text, ['training', 'optimizer'], to));
}

/**
 * Double the dense twin's width (so every layer's density rises), capped below the sparse width so
 * the pair stays sparse. Edits `density` instead when the file gives the density.
 */
export function raiseDensity(text: string, config: ExperimentConfig): QuickFix | undefined {
  if (config.sparsity.method === 'none') return undefined;
  const width = config.model.width;
  const writtenDensity = writtenValue(text, ['sparsity', 'density']);
  if (writtenDensity !== undefined) {
    const d = Number(writtenDensity);
    if (!Number.isFinite(d)) return undefined;
    // Doubling past 1 would make the net dense: go halfway to 1 instead.
    let next = Number(formatNumber(2 * d));
    if (next >= 1) next = Number(((1 + d) / 2).toFixed(3));
    if (next <= d || next >= 1) return undefined;
    return fix('raise-density', `Raise the density (${d} → ${next})`, setScalar(text, ['sparsity', 'density'], String(next)));
  }
  const dw = config.sparsity.denseWidth;
  if (dw === undefined) return undefined;
  const next = Math.min(2 * dw, width - 1);
  if (next <= dw) return undefined;
  return fix('raise-density', `Raise the density (dense_width ${dw} → ${next})`, setScalar(text, ['sparsity', 'dense_width'], String(next)));
}

/** Rank each layer on its own at SC-SDC's counts (no layer can be emptied by the criterion). */
export function useLayerwiseScope(text: string, config: ExperimentConfig): QuickFix | undefined {
  if (config.sparsity.scope !== 'global') return undefined;
  return fix('use-layerwise-scope', 'Prune per layer (sparsity.scope: layerwise)', setScalar(text, ['sparsity', 'scope'], 'layerwise'));
}

/** SynFlow's iterative, data-free scoring is designed to avoid layer collapse (Tanaka et al. 2020). */
export function switchToSynflow(text: string, config: ExperimentConfig): QuickFix | undefined {
  const m = config.sparsity.method;
  if (m === 'none' || m === 'synflow' || m === 'random') return undefined;
  return fix('switch-to-synflow', `Switch the pruning criterion to synflow (from ${m})`, setScalar(text, ['sparsity', 'method'], 'synflow'));
}

/** The fixes for one alert kind, most likely first. */
export function fixesFor(kind: AlertKind, text: string, config: ExperimentConfig): QuickFix[] {
  const t = config.training;
  const adamL2 = t.optimizer === 'adam' && t.weightDecay > 0;
  const optimizerFixes = (): Array<QuickFix | undefined> =>
    adamL2
      ? [switchOptimizer(text, config, 'adamw')]
      : [switchOptimizer(text, config, 'sgd'), switchOptimizer(text, config, 'momentum')];
  const candidates: Array<QuickFix | undefined> = [];
  switch (kind) {
    case 'explosion':
      candidates.push(lowerLearningRate(text, config), ...optimizerFixes(), config.model.batchNorm ? undefined : addBatchNorm(text));
      break;
    case 'nan':
      candidates.push(lowerLearningRate(text, config), ...(adamL2 ? [switchOptimizer(text, config, 'adamw')] : []));
      break;
    case 'collapse':
      candidates.push(
        config.model.batchNorm ? undefined : addBatchNorm(text),
        switchActivation(text, config, 'swish'),
        switchActivation(text, config, 'prelu'),
        raiseDensity(text, config),
      );
      break;
    case 'collapse-at-mask':
      candidates.push(useLayerwiseScope(text, config), raiseDensity(text, config), switchToSynflow(text, config));
      break;
    case 'mask-integrity':
      break; // a masking bug: no setting fixes it
    default: {
      const never: never = kind;
      throw new Error(`unknown alert kind ${String(never)}`);
    }
  }
  const out = candidates.filter((c): c is QuickFix => c !== undefined);
  if (out.length > 0) out[0] = { ...out[0], preferred: true };
  return out;
}
