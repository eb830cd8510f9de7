/**
 * The remedy table: for each alert kind, its title, the settings responsible (most responsible
 * first, each with why) and the quick fixes to offer. The trainer stamps each alert with its
 * primary key from here; the extension's diagnostics, alert → line jumps and quick fixes read the
 * same table. Adding an alert kind is one entry here (the compiler asks for it: `Record<AlertKind, …>`)
 * plus its name in `ALERT_KINDS`.
 *
 * What is blamed follows the paper and practice:
 * - explosion: the step size (learning rate); the optimizer where its direction is clear (Adam +
 *   coupled L2, the paper's Adam + L2 collapse, which AdamW recovers; the EWMA optimizers, which the
 *   paper finds sensitive to high gradient flow; momentum, which multiplies the step), never plain
 *   SGD; missing BatchNorm;
 * - NaN: almost always a too-large learning rate;
 * - collapse (vanishing flow in a layer): the activation, the density (too sparse), missing BatchNorm
 *   (BN helps sparse nets most, method.md §7); when the mask itself already cut the layer off
 *   (a `collapse-at-mask` alert in the same run), the density first;
 * - collapse at mask time: a global pruning scope, a collapse-prone criterion (snip, grasp,
 *   magnitude), the density and the width that produced an empty layer (docs/pruning.md);
 * - mask integrity (a pruned weight became non-zero): the pruning method's masking.
 *
 * Conv nets (`cnn`, `wrn`) name their own keys: the density is `sparsity.density` (or a wrn's
 * `dense_widen_factor`), the width is `model.channels` (cnn) or `model.widen_factor` (wrn). A
 * collapse in a sparse conv net blames the density first, then the width: conv-to-conv layers keep
 * about ρ² of their weights (SC-SDC), and a pruned conv layer that loses every path is the layer
 * collapse the SynFlow paper describes; the activation and BatchNorm follow. A wrn always has
 * BatchNorm, so it is never blamed there; its depth is a contributing suspect of a collapse.
 */
import { architectureOf, type Activation, type ExperimentConfig, type OptimizerName } from '../shared/experiment';
import type { Alert, AlertKind } from '../shared/protocol';
import type { FileKeys } from './keys';

/** A quick fix, by what it does; `src/languageservice/quick-fixes.ts` turns it into text edits. */
export type FixSpec =
  | { id: 'lower-learning-rate' }
  | { id: 'switch-optimizer'; to: OptimizerName }
  | { id: 'switch-activation'; to: Activation }
  | { id: 'add-batch-norm' }
  | { id: 'raise-density' }
  | { id: 'use-layerwise-scope' }
  | { id: 'switch-to-synflow' }
  | { id: 'widen-net' }
  | { id: 'reduce-depth' };
export type FixId = FixSpec['id'];

/** The keys each fix edits (dotted snake_case), so the fix for the line the user is on comes first. */
export const FIX_KEYS: Readonly<Record<FixId, readonly string[]>> = {
  'add-batch-norm': ['model.batch_norm', 'model'],
  'lower-learning-rate': ['training.learning_rate'],
  'switch-activation': ['model.activation'],
  'switch-optimizer': ['training.optimizer', 'training.weight_decay'],
  'raise-density': ['sparsity.dense_width', 'sparsity.density', 'sparsity.dense_widen_factor', 'model.width'],
  'use-layerwise-scope': ['sparsity.scope'],
  'switch-to-synflow': ['sparsity.method'],
  'widen-net': ['model.channels', 'model.widen_factor'],
  'reduce-depth': ['model.depth'],
};

export interface Suspect {
  /** Dotted snake_case key (a key of the registry). */
  key: string;
  /** Why this setting is implicated. */
  hint: string;
}

export interface RemedyContext {
  config: ExperimentConfig;
  /** The file's keys, when known: hints then name the key the file writes (`density` or `dense_width`). */
  keys?: FileKeys;
  /** Kinds of the alerts raised so far in the same run (for the same net or the other). */
  runKinds?: ReadonlySet<AlertKind>;
}

export interface Remedy {
  title: string;
  suspects(ctx: RemedyContext): Suspect[];
  fixes(ctx: RemedyContext): FixSpec[];
}

function densitySuspect(ctx: RemedyContext): Suspect[] {
  if (ctx.config.sparsity.method === 'none') return [];
  if (architectureOf(ctx.config.model) !== 'mlp') {
    const key = ctx.keys?.written('sparsity.density') ?? 'sparsity.density';
    const hint =
      key === 'sparsity.dense_widen_factor'
        ? "the network may be too sparse: raise the dense twin's widen factor (sparsity.dense_widen_factor; density = k_D / k, conv-to-conv layers keep about its square)."
        : 'the network may be too sparse: raise the density (sparsity.density ρ; conv-to-conv layers keep about ρ² of their weights).';
    return [{ key, hint }];
  }
  const key = ctx.keys?.written('sparsity.dense_width') ?? 'sparsity.dense_width';
  const hint =
    key === 'sparsity.density'
      ? 'the network may be too sparse: raise the density (sparsity.density).'
      : "the network may be too sparse: raise the density (sparsity.dense_width, the dense twin's width h_D; density = h_D / model.width).";
  return [{ key, hint }];
}

/** The key that sets how wide the net is: the MLP's width, a cnn's channels, a wrn's widen factor. */
function widthSuspect(config: ExperimentConfig): Suspect {
  switch (architectureOf(config.model)) {
    case 'cnn':
      return { key: 'model.channels', hint: 'a conv layer this narrow at this density can lose every path: widen the blocks (model.channels).' };
    case 'wrn':
      return { key: 'model.widen_factor', hint: 'a layer this narrow at this density can lose every path: raise the widen factor (model.widen_factor).' };
    case 'mlp':
      return { key: 'model.width', hint: 'a layer this narrow at this density can lose every path.' };
  }
}

/** A wrn's depth, as a contributing suspect of vanishing flow (more layers for it to vanish in). */
function depthSuspect(config: ExperimentConfig): Suspect[] {
  if (config.model.architecture !== 'wrn' || config.model.block === 'bottleneck' || (config.model.depth ?? 16) <= 10) return [];
  return [{ key: 'model.depth', hint: `a WRN of depth ${config.model.depth ?? 16} has more layers for the flow to vanish in; a shallower one (depth − 6) is a quick check.` }];
}

function adamL2(config: ExperimentConfig): boolean {
  return config.training.optimizer === 'adam' && config.training.weightDecay > 0;
}

/** Optimizers with an exponentially weighted average of squared gradients. */
const EWMA: ReadonlySet<OptimizerName> = new Set<OptimizerName>(['adam', 'adamw', 'rmsprop']);

/**
 * The optimizer's part in an explosion, where its direction is clear: Adam with coupled L2 (AdamW
 * decouples the decay); the EWMA optimizers, sensitive to high gradient flow (the paper's finding,
 * docs/reproduction.md; SGD and momentum at the same learning rate were not); momentum, whose steps
 * pile up to 1/(1 − momentum) times SGD's. Plain SGD and Adagrad are not blamed: the learning rate
 * is the lever there, and a switch (SGD → momentum, say) could make the step larger.
 */
function optimizerSuspects(config: ExperimentConfig): Suspect[] {
  const { optimizer, momentum } = config.training;
  if (adamL2(config)) return [{ key: 'training.optimizer', hint: 'Adam with coupled L2 (weight_decay) is known to blow up; AdamW decouples the decay.' }];
  if (EWMA.has(optimizer)) return [{ key: 'training.optimizer', hint: `${optimizer} (an EWMA optimizer) is sensitive to high gradient flow; SGD and momentum are less so.` }];
  if (optimizer === 'momentum') {
    return [{ key: 'training.optimizer', hint: `momentum ${momentum} makes steps up to ${Number((1 / (1 - momentum)).toPrecision(3))}× those of plain SGD at the same learning rate.` }];
  }
  return [];
}

function optimizerFixes(config: ExperimentConfig): FixSpec[] {
  if (adamL2(config)) return [{ id: 'switch-optimizer', to: 'adamw' }];
  if (EWMA.has(config.training.optimizer)) return [{ id: 'switch-optimizer', to: 'sgd' }, { id: 'switch-optimizer', to: 'momentum' }];
  if (config.training.optimizer === 'momentum') return [{ id: 'switch-optimizer', to: 'sgd' }];
  return [];
}

export const REMEDIES: Readonly<Record<AlertKind, Remedy>> = {
  explosion: {
    title: 'Exploding gradients',
    suspects: ({ config }) => [
      { key: 'training.learning_rate', hint: `the learning rate (${config.training.learningRate}) may be too high.` },
      ...optimizerSuspects(config),
      ...(adamL2(config) ? [{ key: 'training.weight_decay', hint: 'Adam with coupled L2 is known to blow up; AdamW decouples the decay.' }] : []),
      ...(config.model.batchNorm ? [] : [{ key: 'model.batch_norm', hint: 'BatchNorm keeps the scale of activations, and so of gradients, in check.' }]),
    ],
    fixes: ({ config }) => [{ id: 'lower-learning-rate' }, ...optimizerFixes(config), ...(config.model.batchNorm ? [] : [{ id: 'add-batch-norm' } as const])],
  },
  nan: {
    title: 'NaN/Inf in training',
    suspects: ({ config }) => [{ key: 'training.learning_rate', hint: `the learning rate (${config.training.learningRate}) is the usual cause of NaN.` }],
    fixes: ({ config }) => [{ id: 'lower-learning-rate' }, ...(adamL2(config) ? [{ id: 'switch-optimizer', to: 'adamw' } as const] : [])],
  },
  collapse: {
    title: 'Layer collapse (vanishing gradient flow)',
    suspects: (ctx) => {
      const { config } = ctx;
      const activation: Suspect = { key: 'model.activation', hint: `${config.model.activation} may saturate; swish or prelu keep gradients flowing in deep and sparse nets.` };
      const bn: Suspect[] = config.model.batchNorm ? [] : [{ key: 'model.batch_norm', hint: 'BatchNorm helps sparse networks keep their gradient flow.' }];
      if (architectureOf(config.model) !== 'mlp') {
        // A conv layer: the density (ρ² for conv-to-conv layers), then its width, then the rest.
        return [...densitySuspect(ctx), widthSuspect(config), activation, ...bn, ...depthSuspect(config)];
      }
      // The mask already cut layers off: the density is the cause, the activation at most a contributor.
      if (ctx.runKinds?.has('collapse-at-mask') === true) return [...densitySuspect(ctx), activation, ...bn];
      return [activation, ...densitySuspect(ctx), ...bn];
    },
    fixes: (ctx) => {
      const { config } = ctx;
      const activations: FixSpec[] = (['swish', 'prelu'] as const).filter((a) => a !== config.model.activation).map((to) => ({ id: 'switch-activation', to }));
      const bn: FixSpec[] = config.model.batchNorm ? [] : [{ id: 'add-batch-norm' }];
      const density: FixSpec[] = config.sparsity.method === 'none' ? [] : [{ id: 'raise-density' }];
      if (architectureOf(config.model) !== 'mlp') {
        const depth: FixSpec[] = depthSuspect(config).length > 0 ? [{ id: 'reduce-depth' }] : [];
        return [...density, { id: 'widen-net' }, ...bn, ...activations, ...depth];
      }
      if (ctx.runKinds?.has('collapse-at-mask') === true) return [...density, ...bn, ...activations];
      return [...bn, ...activations, ...density];
    },
  },
  'collapse-at-mask': {
    title: 'Layer collapse at mask time',
    suspects: (ctx) => {
      const { method, scope } = ctx.config.sparsity;
      return [
        // A global criterion chooses per-layer counts and can empty a layer (docs/pruning.md).
        ...(scope === 'global' ? [{ key: 'sparsity.scope', hint: "a global scope lets the criterion empty a layer; 'layerwise' keeps SC-SDC's count in every layer." }] : []),
        ...(method === 'snip' || method === 'grasp' || method === 'magnitude'
          ? [{ key: 'sparsity.method', hint: `${method} is prone to layer collapse at high sparsity; synflow is designed to avoid it.` }]
          : []),
        ...densitySuspect(ctx),
        widthSuspect(ctx.config),
      ];
    },
    fixes: ({ config }) =>
      config.sparsity.method === 'none'
        ? []
        : [{ id: 'use-layerwise-scope' }, { id: 'raise-density' }, { id: 'switch-to-synflow' }, ...(architectureOf(config.model) !== 'mlp' ? [{ id: 'widen-net' } as const] : [])],
  },
  'mask-integrity': {
    title: 'Mask integrity violated',
    suspects: () => [{ key: 'sparsity.method', hint: 'pruned weights must stay exactly 0; this is a masking bug, please report it.' }],
    fixes: () => [], // a masking bug: no setting fixes it
  },
};

/**
 * The setting most responsible for an alert (dotted snake_case), as the trainer stamps it on the
 * alert. `runKinds`: kinds already raised in the run (a mask-time collapse moves a later collapse's
 * blame to the density).
 */
export function primaryKey(alert: Pick<Alert, 'kind'>, config: ExperimentConfig, runKinds?: ReadonlySet<AlertKind>): string | undefined {
  return REMEDIES[alert.kind].suspects({ config, ...(runKinds !== undefined ? { runKinds } : {}) })[0]?.key;
}
