/**
 * The resolved experiment: what an experiment file means once parsed, validated and filled with
 * defaults. Every consumer (trainer, CLI, extension, sweeps) works from this type; the YAML text and
 * its source positions live in `src/config`.
 *
 * Naming: YAML keys are snake_case (`hidden_layers`); this type uses camelCase. The mapping is
 * one-to-one and lives in `src/config/resolve.ts`.
 */

export const ACTIVATIONS = ['relu', 'prelu', 'elu', 'swish', 'srelu', 'srelu-slide', 'sigmoid'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** `model.architecture`: the MLP of the paper's study, its simple CNN, or a Wide ResNet (docs/experiment-file.md). */
export const ARCHITECTURES = ['mlp', 'cnn', 'wrn'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];
/** `model.block` of a Wide ResNet: pre-activation basic blocks, or torchvision's wide_resnet50_2 bottlenecks (depth 50). */
export const WRN_BLOCKS = ['basic', 'bottleneck'] as const;
export type WrnBlock = (typeof WRN_BLOCKS)[number];

export const OPTIMIZERS = ['sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const DATASETS = ['fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'synthetic'] as const;
export type DatasetName = (typeof DATASETS)[number];

export const PRUNING_METHODS = ['none', 'random', 'magnitude', 'snip', 'grasp', 'synflow', 'gmp'] as const;
export type PruningMethod = (typeof PRUNING_METHODS)[number];

/** Pruning criteria that score weights with data (SNIP, GraSP) or without (SynFlow): docs/pruning.md. */
export const SCORED_METHODS = ['snip', 'grasp', 'synflow'] as const;

/** How a criterion's scores become masks: per layer at SC-SDC's counts, or ranked over all layers. */
export const PRUNING_SCOPES = ['layerwise', 'global'] as const;
export type PruningScope = (typeof PRUNING_SCOPES)[number];

/** Dynamic sparse training (docs/pruning.md): SET grows at random, RigL by dense-gradient magnitude. */
export const DYNAMIC_METHODS = ['set', 'rigl'] as const;
export type DynamicMethod = (typeof DYNAMIC_METHODS)[number];
export const PRUNING_GUARDS = ['none', 'egf'] as const;
export type PruningGuard = (typeof PRUNING_GUARDS)[number];

/** Whatever moves masks during training and reports `mask-update` events: SET, RigL, gradual magnitude pruning. */
export const MASK_UPDATE_METHODS = [...DYNAMIC_METHODS, 'gmp'] as const;
export type MaskUpdateMethod = (typeof MASK_UPDATE_METHODS)[number];
export const DYNAMIC_SCHEDULES = ['cosine', 'constant'] as const;
export type DynamicSchedule = (typeof DYNAMIC_SCHEDULES)[number];

export interface DynamicSparsityConfig {
  method: DynamicMethod;
  /** Steps between mask updates. */
  every: number;
  /** Share of each layer's active weights replaced at an update, before the schedule; in (0, 1). */
  fraction: number;
  schedule: DynamicSchedule;
  /** Fraction of training after which the mask is frozen, in (0, 1]; the end step ⌊until·T⌋ is inclusive. */
  until: number;
  /** Std of the N(0, noise²) added to drop scores (absent = 1e-5, the reference's default; 0 = none). */
  noise?: number;
}

/**
 * Gradual magnitude pruning (Zhu & Gupta 2017), `sparsity.method: gmp` (docs/pruning.md): from
 * `initialDensity` to the final counts on the cubic schedule, every `every` optimizer steps from
 * ⌊begin·T⌋ to ⌊end·T⌋ (inclusive).
 */
export interface GmpConfig {
  /** Fraction of training at which pruning starts, in [0, 1). */
  begin: number;
  /** Fraction of training at which the final counts are reached, in (0, 1]; after begin. */
  end: number;
  /** Optimizer steps between pruning steps. */
  every: number;
  /** Density at the start, in (0, 1] (1 = dense). */
  initialDensity: number;
}

/** Which fan-in sets the He-normal std of the sparse net (method.md §2). */
export const INIT_MODES = ['dense-fan-in', 'sparse-fan-in'] as const;
export type InitMode = (typeof INIT_MODES)[number];

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
/** `tensorflow` is @tensorflow/tfjs-node. */
export type BackendPreference = (typeof BACKENDS)[number];
export type BackendName = Exclude<BackendPreference, 'auto'>;

export interface SyntheticSpec {
  /** Input features (a flat vector; images are flattened): H·W·C when `shape` is set. */
  features: number;
  /** Image shape [height, width, channels] (`dataset.synthetic.shape`); absent = flat vectors, [1, features, 1]. */
  shape?: [number, number, number];
  classes: number;
  trainSize: number;
  testSize: number;
}

export interface DatasetConfig {
  name: DatasetName;
  /** Folder holding the standard files (IDX / CIFAR binary batches). Absolute once resolved. */
  path?: string;
  /** Folder for the compact cache; defaults to `~/.cache/gradflow/datasets`. */
  cacheDir?: string;
  /** Fraction of the training set held out for validation (default 0.1). */
  validationFraction: number;
  /** Use only the first N training examples after the deterministic shuffle (quick tries). */
  trainLimit?: number;
  /** Use only the first N test examples. */
  testLimit?: number;
  /** Only for `synthetic`. */
  synthetic?: SyntheticSpec;
}

/**
 * The network. `architecture` is absent for an MLP (so files written before conv nets resolve, and
 * hash to run ids, exactly as before); read it with `architectureOf`. The MLP fields
 * (`hiddenLayers`, `width`) are always present and only used by the MLP; `channels` and `pool` are
 * present exactly for `cnn`, `depth`, `widenFactor` and `block` exactly for `wrn`.
 */
export interface ModelConfig {
  /** `cnn` or `wrn`; absent = `mlp`. Never `'mlp'` in a resolved config. */
  architecture?: Architecture;
  /** MLP: number of hidden layers H (weight layers L = H + 1). */
  hiddenLayers: number;
  /** MLP: width of the (sparse) network's hidden layers, h_S. For method `none`, the dense width. */
  width: number;
  /** Activation of hidden layers, conv blocks and residual blocks. */
  activation: Activation;
  /** MLP: Linear → BN → activation; cnn: conv → BN → activation; always true for wrn (pre-activation blocks). */
  batchNorm: boolean;
  /** MLP: identity residual between equal-width hidden layers; cnn: residual around each conv block (1×1 projection where channels change); always true for wrn. */
  skip: boolean;
  /** cnn: output channels of each conv block (the sparse net's when pruning). */
  channels?: number[];
  /** cnn: `auto` (2×2 max-pool after every block whose map is larger than 1×1) or the 1-based blocks that pool. Resolve with `cnnPoolPlan`. */
  pool?: 'auto' | number[];
  /** wrn: depth d of WRN-d-k ((d − 4) % 6 == 0 for basic blocks; 50 for bottleneck). */
  depth?: number;
  /** wrn: widen factor k (the sparse net's when pruning). */
  widenFactor?: number;
  /** wrn: block type. */
  block?: WrnBlock;
}

/** The architecture of a resolved model (`mlp` when the field is absent). */
export function architectureOf(model: Pick<ModelConfig, 'architecture'>): Architecture {
  return model.architecture ?? 'mlp';
}

export interface SparsityConfig {
  method: PruningMethod;
  /**
   * Dense twin width h_D. Layer densities follow SC-SDC: first and output layers h_D/h_S,
   * hidden-to-hidden (h_D/h_S)^2. Set for `random` / `magnitude`.
   */
  denseWidth?: number;
  /**
   * Conv nets only (`cnn`, `wrn`), when pruning: the SC-SDC density ρ — the dense twin has every
   * designed channel count × ρ, rounded (`scaledChannels`). From `sparsity.density`, or
   * `dense_widen_factor / widen_factor` for a wrn. Absent for MLPs, whose twin is `denseWidth`.
   */
  density?: number;
  /** Train the dense twin alongside the sparse net (an SC-SDC pair). */
  pair: boolean;
  init: InitMode;
  /**
   * `layerwise` (absent = layerwise): SC-SDC's exact per-layer counts. `global`: one ranking over all
   * layers with the same total; the twins then match in total active weights only (docs/pruning.md).
   */
  scope?: PruningScope;
  /** Training batches the data-driven criteria (snip, grasp) average over (absent = 1). */
  batches?: number;
  /** SynFlow pruning rounds, exponential schedule (absent = 100, Tanaka et al. 2020). */
  synflowRounds?: number;
  /** Dynamic sparse training of the sparse net; absent = masks stay fixed. */
  dynamic?: DynamicSparsityConfig;
  /** The EGF collapse guard on the masks a criterion chose (absent = none): docs/pruning.md. */
  guard?: PruningGuard;
  /** Gradual magnitude pruning's schedule (method `gmp`; absent = the defaults). */
  gmp?: GmpConfig;
}

/** Step decay of the learning rate (PyTorch's MultiStepLR, stepped per epoch). */
export interface LrSchedule {
  /** Epochs (from 0) at whose start the rate is multiplied by `gamma`; strictly increasing. */
  milestones: number[];
  gamma: number;
}

/** The learning rate during epoch `epoch` (from 0): base × γ^(milestones ≤ epoch), as MultiStepLR. */
export function learningRateAt(base: number, schedule: LrSchedule | undefined, epoch: number): number {
  if (schedule === undefined) return base;
  let n = 0;
  for (const m of schedule.milestones) if (m <= epoch) n++;
  return base * Math.pow(schedule.gamma, n);
}

export interface TrainingConfig {
  optimizer: OptimizerName;
  learningRate: number;
  /** Absent: a constant learning rate. */
  lrSchedule?: LrSchedule;
  /** Momentum for `momentum` (default 0.9). */
  momentum: number;
  /** Nesterov momentum for `momentum` (PyTorch's SGD nesterov=True); absent = false (heavy ball). */
  nesterov?: boolean;
  /** L2 coefficient. Coupled into the gradient for every optimizer except `adamw`, where it is decoupled decay. */
  weightDecay: number;
  /** Random crop with padding (2 px for 28×28, 4 px for 32×32) + horizontal flip for CIFAR. */
  augmentation: boolean;
  epochs: number;
  batchSize: number;
  seed: number;
}

export interface ExplosionRule {
  /** Alert when a masked layer L2 norm (or EGF_2) exceeds this. */
  maxNorm: number;
  /** Alert when the norm grows by more than this factor across `window` steps. */
  growthFactor: number;
  window: number;
}

export interface CollapseRule {
  /** Alert when a layer's masked L2 gradient norm stays below this for `steps` steps. */
  minNorm: number;
  steps: number;
}

export interface MonitoringConfig {
  /** Collect per-layer norms every N steps (1 = every step). */
  every: number;
  explosion: ExplosionRule;
  collapse: CollapseRule;
  /** What to do when a NaN/Inf appears in the loss or a gradient. */
  onNan: 'stop' | 'continue';
}

export interface RunOptions {
  backend: BackendPreference;
  /** Folder under which run folders are created (absolute once resolved). */
  runsDir: string;
  /** `run.max_memory_mb`: bound on the run's estimated peak memory (MiB); absent = the default (config/limits.ts). Not part of the run id. */
  maxMemoryMb?: number;
}

export const SPARSE_KERNEL_MODES = ['auto', 'on', 'off'] as const;
export type SparseKernelMode = (typeof SPARSE_KERNEL_MODES)[number];

/**
 * `engine.raw_l1_every` / `raw_l2_every`: take a net's raw norms on steps that are multiples of a
 * number, or `auto` (every step on the dense path, every 10th for a net with a sparse-path layer).
 */
export type RawNormEvery = number | 'auto';

/** `engine:` — how the trainer computes (docs/experiment-file.md); absent = all defaults. */
export interface EngineConfig {
  sparseKernels: SparseKernelMode;
  rawL1Every: RawNormEvery;
  rawL2Every: RawNormEvery;
}

/**
 * `trainer:` — a script that trains instead of the built-in engine (docs/torch.md); absent = the
 * engine. The command is an argument list, run without a shell.
 */
export interface TrainerConfig {
  /** argv: program and arguments, e.g. `['python3', 'train.py']`. */
  command: string[];
  /** Folder the script runs in (absolute once resolved; default the experiment file's folder). */
  cwd: string;
  /** Free-form keys for the script, passed through as written (snake_case untouched). */
  args?: Record<string, unknown>;
}

export interface ExperimentConfig {
  /** Human name; defaults to the file name without `.gradflow.yaml`. */
  name: string;
  dataset: DatasetConfig;
  model: ModelConfig;
  sparsity: SparsityConfig;
  training: TrainingConfig;
  monitoring: MonitoringConfig;
  run: RunOptions;
  /** Absent when the file has no `engine:` section (its defaults then apply). */
  engine?: EngineConfig;
  /** Absent when the file has no `trainer:` section: the built-in engine trains. */
  trainer?: TrainerConfig;
}

/** Which member of an SC-SDC pair a message or metric belongs to. A single run uses `sparse` or `dense` by its method. */
export type NetRole = 'sparse' | 'dense';
