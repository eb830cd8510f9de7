/**
 * One experiment's training: builds the net(s), sets up batches, the flow set and the policies, and
 * runs the loop (loop.ts) with them (policies/): an SC-SDC pair trains interleaved on identical
 * batches; step / epoch / flow-point / alert / mask-update events stream through TrainHooks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { architectureOf, type ExperimentConfig, type RawNormEvery, type SparseKernelMode } from '../shared/experiment';
import type { Alert, EpochMetrics, FlowPoint, NetInfo, MaskUpdate, NetSummary, PruningInfo, RawEvery, StepMetrics } from '../shared/protocol';
import { createRng, permutation, type Rng } from '../shared/rng';
import type { Dataset } from '../data/types';
import { AlertTracker, maskAlerts } from './alerts';
import { disposeBatch, makeBatch, splitBatches } from './batches';
import { flowSchedule, meanFlow, rawEveryNote, rawNormEvery } from './flow';
import { runLoop, type LoopHook, type LoopPlan, type NetRun } from './loop';
import { drawKernels, heGain, mlpShapes, planLayers, planLayersFull, plansFrom, scsdcActiveCounts, type LayerMaskPlan } from './masks';
import { layerName, MaskedMLP, type KernelPath } from './model';
import type { TrainableNet } from './net';
import { blueprint, CNN_DEFAULT_CHANNELS, layerShape, type ConvNetSpec } from './nn/arch';
import { convKernelPaths, scsdcConvPair } from './nn/build';
import { convKernelNote } from './nn/conv';
import { ConvNet } from './nn/convnet';
import { normAlertPolicy } from './policies/alerts';
import { divergencePolicy } from './policies/divergence';
import { evaluationPolicy, netEvaluator } from './policies/evaluation';
import { flowPointPolicy } from './policies/flow-points';
import { integrityPolicy } from './policies/integrity';
import { maskUpdatePolicy } from './policies/mask-updates';
import { progressPolicy } from './policies/progress';
import { stopPolicy } from './policies/stop';
import { lrSchedulePolicy } from './policies/lr-schedule';
import { DEFAULT_GMP, gmpInitialCount, gmpTiming, isPruneStep } from './pruning/gmp';
import { criterionBatchRows, DEFAULT_SYNFLOW_ROUNDS, guardPlans, guardSummary, isCriterion, planByCriterion, pruningHeader, pruningInfo, rankingValues, selectMasks } from './pruning';
import { snipScores } from './pruning/snip';
import { convGraspScores } from './pruning/grasp-conv';
import { convGuardPlans } from './pruning/guard-conv';
import { convSynflowMasks } from './pruning/synflow-conv';
import { SPARSE_MAX_UNITS, sparseKernels } from './sparse';
import { createOptimizer } from './optimizers';
import { optimizerParams, type Batch } from './step';
import { at } from '../shared/checked';

export interface TrainHooks {
  onReady(nets: NetInfo[], info: { stepsPerEpoch: number; totalSteps: number }): void;
  onStep(m: StepMetrics): void;
  onEpoch(m: EpochMetrics): void;
  onFlowPoint(p: FlowPoint): void;
  onAlert(a: Alert): void;
  /** Polled after every step; true ends the run within one step. */
  shouldStop(): boolean;
  /** Data augmentation of a batch (n rows, row-major); returns the augmented copy. Only called when training.augmentation is on. */
  augment?: (x: Float32Array, n: number) => Float32Array;
  /** A mask update (sparsity.dynamic: RigL instead of its step's optimizer update, SET after it). */
  onMaskUpdate?: (u: MaskUpdate) => void;
  /** Progress notes for the run log (e.g. a net that diverged and stopped training). */
  onLog?: (level: 'info' | 'warn', message: string) => void;
}

/**
 * Engine knobs that are not part of the experiment file: the "ours" defaults of method.md that the
 * engine owns (see src/engine/README.md). All optional; DEFAULT_ENGINE_OPTIONS holds the values.
 */
export interface EngineOptions {
  /** Batches in the fixed flow-measurement set (default 4 batches of training.batchSize). */
  flowBatches: number;
  /**
   * Batch size for validation / test evaluation. Default: 1000 for MLPs; for conv nets the training
   * batch size (at most 1000), since inference holds a batch's activations as a training step does
   * and 1000 images of a WRN-16-4 need more than the wasm backend's 4 GB heap.
   */
  evalBatchSize?: number;
  /** Check pruned weights stay exactly 0 after every update (default true). */
  checkIntegrity: boolean;
  /** He-normal gain; default √2, or 1 for sigmoid (masks.heGain). */
  initGain?: number;
  /** BatchNorm ε (default 1e-5) and moving-average momentum (default 0.1), PyTorch's. */
  bnEpsilon: number;
  bnMomentum: number;
  /** Optimizer constants (PyTorch defaults): Adam β1 0.9, β2 0.999; RMSProp α 0.99; ε per optimizer (optimizers.ts). */
  beta1: number;
  beta2: number;
  rho: number;
  epsilon?: number;
  /** Execution path of masked layers; default from `engine.sparse_kernels` (else 'auto'). */
  sparseKernels?: SparseKernelMode;
  /** Raw L1 / L2 norms of masked layers on collecting steps that are multiples of these, or `auto` (`engine.raw_l1_every` / `raw_l2_every`; flow.ts rawNormEvery). */
  rawL1Every?: RawNormEvery;
  rawL2Every?: RawNormEvery;
}

/**
 * `engine.sparse_kernels: auto` puts a masked layer on the sparse path at or below this density
 * (ours), from the crossover `npm run bench` measures (bench/scsdc.bench.ts, crossover part): a
 * 784-1000-1000-10 training step with every layer at density ρ costs the same on both paths at
 * ρ ≈ 0.7 on the 2-core development machine (sparse / masked-dense CPU time 0.68 at 0.5, 1.00 at
 * 0.7, 1.11 at 1); 0.5 keeps a margin for other shapes and machines. See src/engine/README.md.
 */
export const SPARSE_AUTO_MAX_DENSITY = 0.5;

/**
 * Path of each weight layer: unmasked layers (the dense twin, method none) always 'dense'; masked
 * layers by `mode` (auto: density ≤ SPARSE_AUTO_MAX_DENSITY, except on the tensorflow backend,
 * whose multi-threaded dense products stay faster). Layers wider than the sparse path's index allows
 * stay dense under auto; under 'on' they are an error.
 */
export function kernelPaths(plans: LayerMaskPlan[], mode: SparseKernelMode, backend: string): KernelPath[] {
  return plans.map((p) => {
    if (!p.mask || mode === 'off') return 'dense';
    const fits = p.shape.fanIn <= SPARSE_MAX_UNITS && p.shape.fanOut <= SPARSE_MAX_UNITS;
    if (mode === 'on') {
      if (!fits) throw new Error(`engine.sparse_kernels: on: a ${p.shape.fanIn}×${p.shape.fanOut} layer exceeds the sparse path's ${SPARSE_MAX_UNITS} units`);
      return 'sparse';
    }
    const density = p.active / (p.shape.fanIn * p.shape.fanOut);
    return fits && backend !== 'tensorflow' && density <= SPARSE_AUTO_MAX_DENSITY ? 'sparse' : 'dense';
  });
}

/** The evaluation batch of MLPs, and the most a conv net's takes (EngineOptions.evalBatchSize). */
const EVAL_BATCH_SIZE = 1000;

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  flowBatches: 4,
  checkIntegrity: true,
  bnEpsilon: 1e-5,
  bnMomentum: 0.1,
  beta1: 0.9,
  beta2: 0.999,
  rho: 0.99,
};

export interface TrainResult {
  nets: NetSummary[];
  /** Ended early by a stop request. */
  stopped: boolean;
  /** Ended early because the run is invalid (a mask-integrity violation): a failed run. */
  failed?: boolean;
  reason?: string;
}

/**
 * Build the nets of an experiment (exported for tests and the benchmark). `criterionBatches`: the
 * training batches of a data-driven pruning criterion (snip, grasp), see src/engine/pruning.
 */
export function buildNets(
  cfg: ExperimentConfig,
  features: number,
  classes: number,
  rng: Rng,
  options: Partial<EngineOptions> = {},
  criterionBatches: Batch[] = [],
  guardLog?: (message: string) => void,
): MaskedMLP[] {
  const m = cfg.model;
  const H = m.hiddenLayers;
  const eo: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...options };
  const gain = eo.initGain ?? heGain(m.activation);
  const common = {
    inputs: features,
    classes,
    hiddenLayers: H,
    activation: m.activation,
    batchNorm: m.batchNorm,
    skip: m.skip,
    bnEpsilon: eo.bnEpsilon,
    bnMomentum: eo.bnMomentum,
  };
  const method = cfg.sparsity.method;
  if (method === 'none') {
    const shapes = mlpShapes(features, m.width, H, classes);
    const plans = planLayers({ shapes, method: 'none', init: 'dense-fan-in', gain, rng: rng.fork('net:dense') });
    return [new MaskedMLP({ ...common, role: 'dense', width: m.width, plans })];
  }
  const hD = cfg.sparsity.denseWidth;
  if (hD === undefined || !Number.isInteger(hD) || hD < 1) throw new Error(`sparsity.dense_width is required for method '${method}'`);
  if (hD > m.width) throw new Error(`sparsity.dense_width (${hD}) must not exceed model.width (${m.width})`);
  const denseShapes = mlpShapes(features, hD, H, classes);
  const sparseShapes = mlpShapes(features, m.width, H, classes);
  const initSpec = {
    shapes: sparseShapes,
    activeCounts: scsdcActiveCounts(features, hD, H, classes),
    denseFanIns: denseShapes.map((s) => s.fanIn),
    scope: cfg.sparsity.scope ?? 'layerwise',
    init: cfg.sparsity.init,
    gain,
    rng: rng.fork('net:sparse'),
  };
  const criterion = isCriterion(method)
    ? planByCriterion({ ...initSpec, method: 'scored' }, {
        ...common,
        method,
        scope: initSpec.scope,
        batches: criterionBatches,
        synflowRounds: cfg.sparsity.synflowRounds ?? DEFAULT_SYNFLOW_ROUNDS,
        width: m.width,
      })
    : undefined;
  const fixed = method === 'random' || method === 'magnitude' ? planLayersFull({ ...initSpec, method }) : undefined;
  let sparsePlans = criterion
    ? criterion.plans
    : fixed
      ? fixed.plans
      : planLayers({
          ...initSpec,
          method: 'gmp',
          initialCounts: sparseShapes.map((s, l) => gmpInitialCount(s.fanIn * s.fanOut, at(initSpec.activeCounts, l), (cfg.sparsity.gmp ?? DEFAULT_GMP).initialDensity)),
        });
  if (cfg.sparsity.guard === 'egf' && (criterion || fixed)) {
    // The EGF collapse guard (pruning/guard.ts) on the criterion's masks, before they are fixed.
    const full = criterion ? criterion.full : (fixed as { full: Float32Array[] }).full;
    let ranking: ArrayLike<number>[];
    if (criterion && isCriterion(method)) ranking = rankingValues(method, criterion.scores);
    else if (method === 'magnitude') ranking = full.map((k) => k.map(Math.abs));
    else {
      // random: the drawn positions first, then a seeded uniform order within each group.
      const g = initSpec.rng.fork('guard');
      ranking = sparsePlans.map((p) => Float64Array.from(p.mask ?? [], (v) => (v !== 0 ? 1 : 0) + g.next()));
    }
    const r = guardPlans({ ...common, width: m.width }, sparsePlans, full, ranking, criterionBatches);
    sparsePlans = r.plans;
    guardLog?.(guardSummary(r.result, sparsePlans.map((_p, l) => layerName(l, H))));
  }
  const mode = eo.sparseKernels ?? cfg.engine?.sparseKernels ?? 'auto';
  const paths = kernelPaths(sparsePlans, mode, tf.getBackend());
  const nets = [new MaskedMLP({ ...common, role: 'sparse', width: m.width, plans: sparsePlans, paths })];
  if (cfg.sparsity.pair) {
    const densePlans = planLayers({ shapes: denseShapes, method: 'none', init: 'dense-fan-in', gain, rng: rng.fork('net:dense') });
    nets.push(new MaskedMLP({ ...common, role: 'dense', width: hD, plans: densePlans }));
  }
  return nets;
}

/**
 * The nets of an experiment, whatever its architecture (`model.architecture`): the MLP and its
 * SC-SDC twin (buildNets), or a conv net (cnn, wrn) and its twin (buildConvNets). `shape` is the
 * dataset's [H, W, C]; conv nets see their batches as [n, H, W, C].
 */
export function buildExperimentNets(
  cfg: ExperimentConfig,
  shape: readonly [number, number, number],
  classes: number,
  rng: Rng,
  options: Partial<EngineOptions> = {},
  criterionBatches: Batch[] = [],
  guardLog?: (message: string) => void,
): TrainableNet[] {
  if (architectureOf(cfg.model) === 'mlp') return buildNets(cfg, shape[0] * shape[1] * shape[2], classes, rng, options, criterionBatches, guardLog);
  return buildConvNets(cfg, shape, classes, rng, options, criterionBatches, guardLog);
}

/** An error about one key of the experiment file (the trainer puts it on that key's line). */
function keyError(key: string, message: string): Error {
  return Object.assign(new Error(`${key}: ${message}`), { key });
}

/** The conv net an experiment file describes, as the spec nn/arch.ts builds from. */
export function convSpec(cfg: ExperimentConfig, shape: readonly [number, number, number], classes: number): ConvNetSpec {
  const m = cfg.model;
  const arch = architectureOf(m);
  if (arch === 'mlp') throw new Error('internal: convSpec of an MLP');
  const common = { architecture: arch, input: [shape[0], shape[1], shape[2]] as [number, number, number], classes, activation: m.activation, batchNorm: m.batchNorm };
  if (arch === 'cnn') {
    const channels = m.channels ?? [...CNN_DEFAULT_CHANNELS];
    const listed = m.pool === undefined || m.pool === 'auto' ? undefined : new Set(m.pool);
    return { ...common, channels, pool: listed ? channels.map((_c, i) => listed.has(i + 1)) : 'auto', skip: m.skip };
  }
  return {
    ...common,
    ...(m.depth !== undefined ? { depth: m.depth } : {}),
    ...(m.widenFactor !== undefined ? { widenFactor: m.widenFactor } : {}),
    ...(m.block !== undefined ? { block: m.block } : {}),
  };
}

/** A conv net and (sparsity.pair) its SC-SDC dense twin: every designed channel count × ρ, each sparse layer keeping the twin's weight count. */
export function buildConvNets(
  cfg: ExperimentConfig,
  shape: readonly [number, number, number],
  classes: number,
  rng: Rng,
  options: Partial<EngineOptions> = {},
  criterionBatches: Batch[] = [],
  guardLog?: (message: string) => void,
): TrainableNet[] {
  const eo: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...options };
  const guard = cfg.sparsity.guard === 'egf';
  const spec = convSpec(cfg, shape, classes);
  const gain = eo.initGain ?? heGain(cfg.model.activation);
  const bn = { bnEpsilon: eo.bnEpsilon, bnMomentum: eo.bnMomentum };
  const method = cfg.sparsity.method;
  if (method === 'none') {
    const bp = blueprint(spec);
    const plans = planLayers({ shapes: bp.layers.map(layerShape), method: 'none', init: 'dense-fan-in', gain, rng: rng.fork('net:dense') });
    return [new ConvNet({ role: 'dense', blueprint: bp, plans, ...bn })];
  }
  const density = cfg.sparsity.density;
  if (density === undefined) throw keyError('sparsity.density', `required for method '${method}' with architecture '${spec.architecture}' (the dense twin has every channel count × ρ)`);
  const pair = scsdcConvPair(spec, { density });
  const shapes = pair.sparse.layers.map(layerShape);
  const scope = cfg.sparsity.scope ?? 'layerwise';
  const initSpec = { shapes, activeCounts: pair.activeCounts, denseFanIns: pair.denseFanIns, scope, init: cfg.sparsity.init, gain, rng: rng.fork('net:sparse') };
  let plans: LayerMaskPlan[];
  // For the collapse guard: the unpruned kernels and the ranking the masks were chosen by.
  let guardInput: { full: Float32Array[]; ranking: ArrayLike<number>[] } | undefined;
  if (method === 'snip' || method === 'grasp' || method === 'synflow') {
    // As planByCriterion: the full kernels of the random draw, scored on the unpruned net.
    const initRng = initSpec.rng.fork('init');
    initSpec.rng.fork('mask');
    const { kernels, stds } = drawKernels({ ...initSpec, method: 'scored' }, initRng);
    let masks: Float32Array[];
    let scores: Float64Array[];
    if (method === 'synflow') {
      const rounds = cfg.sparsity.synflowRounds ?? DEFAULT_SYNFLOW_ROUNDS;
      ({ masks, scores } = convSynflowMasks({ blueprint: pair.sparse, kernels, bnEpsilon: eo.bnEpsilon }, pair.activeCounts, scope, rounds));
    } else {
      if (criterionBatches.length === 0) throw new Error(`sparsity.method '${method}' needs at least one training batch`);
      const scoring = new ConvNet({ role: 'sparse', blueprint: pair.sparse, plans: plansFrom(shapes, kernels.map((k) => k.slice()), stds), ...bn });
      try {
        scores = method === 'snip' ? snipScores(scoring, criterionBatches) : convGraspScores(scoring, criterionBatches).scores;
      } finally {
        scoring.dispose();
      }
      masks = selectMasks(method, scores, pair.activeCounts, scope);
    }
    if (guard) guardInput = { full: kernels.map((k) => Float32Array.from(k)), ranking: rankingValues(method, scores) };
    plans = plansFrom(shapes, kernels, stds, masks);
  } else if (method === 'gmp') {
    const initialDensity = (cfg.sparsity.gmp ?? DEFAULT_GMP).initialDensity;
    plans = planLayers({ ...initSpec, method: 'gmp', initialCounts: shapes.map((s, l) => gmpInitialCount(s.fanIn * s.fanOut, at(pair.activeCounts, l), initialDensity)) });
  } else if (method === 'random' || method === 'magnitude') {
    const r = planLayersFull({ ...initSpec, method });
    plans = r.plans;
    if (guard) {
      // As buildNets: magnitude ranks by |w|; random keeps its drawn positions first, then a seeded order.
      const g = initSpec.rng.fork('guard');
      guardInput = {
        full: r.full,
        ranking: method === 'magnitude' ? r.full.map((k) => k.map(Math.abs)) : plans.map((p) => Float64Array.from(p.mask ?? [], (v) => (v !== 0 ? 1 : 0) + g.next())),
      };
    }
  } else {
    const never: never = method;
    throw keyError('sparsity.method', `'${String(never)}' is not available for architecture '${spec.architecture}'`);
  }
  if (guardInput) {
    // The EGF collapse guard (pruning/guard-conv.ts) on the chosen masks, before they are fixed.
    const r = convGuardPlans({ blueprint: pair.sparse, ...bn }, plans, guardInput.full, guardInput.ranking, criterionBatches);
    plans = r.plans;
    guardLog?.(guardSummary(r.result, pair.sparse.layers.map((d) => d.name)));
  }
  const paths = convKernelPaths(plans, pair.sparse.layers, eo.sparseKernels ?? cfg.engine?.sparseKernels ?? 'auto', tf.getBackend());
  const nets: TrainableNet[] = [new ConvNet({ role: 'sparse', blueprint: pair.sparse, plans, paths, ...bn })];
  if (cfg.sparsity.pair) {
    const densePlans = planLayers({ shapes: pair.dense.layers.map(layerShape), method: 'none', init: 'dense-fan-in', gain, rng: rng.fork('net:dense') });
    nets.push(new ConvNet({ role: 'dense', blueprint: pair.dense, plans: densePlans, ...bn }));
  }
  return nets;
}

/** SC-SDC's final per-layer counts of the sparse net (gmp prunes down to them). */
export function sparseTargetCounts(cfg: ExperimentConfig, shape: readonly [number, number, number], classes: number): number[] {
  if (architectureOf(cfg.model) === 'mlp') return scsdcActiveCounts(shape[0] * shape[1] * shape[2], cfg.sparsity.denseWidth ?? 0, cfg.model.hiddenLayers, classes);
  return scsdcConvPair(convSpec(cfg, shape, classes), { density: cfg.sparsity.density ?? 1 }).activeCounts;
}

export function netInfo(net: TrainableNet, pruning?: PruningInfo): NetInfo {
  // The protocol's fields only (a net may keep more per layer).
  const layers = net.layerInfo.map((l, i) => ({
    name: l.name,
    fanIn: l.fanIn,
    fanOut: l.fanOut,
    active: l.active,
    total: l.total,
    density: l.density,
    deadUnits: l.deadUnits,
    path: at(net.paths, i),

  }));
  // widthOf only for conv nets: an MLP's record stays what it was (absent = hidden units).
  const info: NetInfo = { net: net.role, width: net.width, ...(net.widthOf === 'channels' ? { widthOf: net.widthOf } : {}), layers, activeWeights: net.activeWeights };
  return pruning ? { ...info, pruning } : info;
}

export { disposeBatch, makeBatch, splitBatches } from './batches';

export async function trainExperiment(
  cfg: ExperimentConfig,
  data: Dataset,
  hooks: TrainHooks,
  options: Partial<EngineOptions> = {},
): Promise<TrainResult> {
  const eo: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...options };
  const t = cfg.training;
  const mon = cfg.monitoring;
  if (data.train.n === 0) throw new Error('the training split is empty');
  if (t.batchSize < 1 || t.epochs < 0) throw new Error('training.batch_size must be ≥ 1 and epochs ≥ 0');
  const { features, classes } = data;
  // The order of the forks is part of the seed's meaning: model, shuffle, flow, (prune), dynamic.
  const rng = createRng(t.seed);
  const modelRng = rng.fork('model');
  const shuffleRng = rng.fork('shuffle');
  const flowRng = rng.fork('flow');
  // Data-driven pruning criteria (snip, grasp) score on their own seeded batches (src/engine/pruning).
  const criterionRows = criterionBatchRows(cfg, data.train.n, rng);
  const criterionBatches = criterionRows.map((rows) => makeBatch(data.train, features, classes, rows, 0, rows.length, undefined, true));
  let nets: TrainableNet[];
  const guardNotes: string[] = [];
  try {
    nets = buildExperimentNets(cfg, data.shape, classes, modelRng, eo, criterionBatches, (msg) => guardNotes.push(msg));
  } finally {
    criterionBatches.forEach(disposeBatch);
  }
  const coupledL2 = t.optimizer === 'adamw' ? 0 : t.weightDecay;
  const runs = nets.map((net) => newRun(net, cfg, eo));
  // Mask changes (updateMask) reset the optimizer state of the entries they touch.
  for (const r of runs) r.net.attachOptimizer(r.opt);

  const nTrain = data.train.n;
  const stepsPerEpoch = Math.ceil(nTrain / t.batchSize);
  const totalSteps = stepsPerEpoch * t.epochs;
  const evalBatch = eo.evalBatchSize ?? (runs.some((r) => r.net instanceof ConvNet) ? Math.min(EVAL_BATCH_SIZE, t.batchSize) : EVAL_BATCH_SIZE);
  const valBatches = splitBatches(data.validation, features, classes, evalBatch);
  const testBatches = splitBatches(data.test, features, classes, evalBatch);
  // Fixed flow-measurement set: the first flowBatches·batchSize rows of one seeded permutation of the
  // training split (ours). They are still trained on: "held out" only from the shuffling.
  const flowPerm = permutation(nTrain, flowRng);
  const flowBatches: Batch[] = [];
  for (let b = 0; b < eo.flowBatches && b * t.batchSize < nTrain; b++) {
    const s = b * t.batchSize;
    flowBatches.push(makeBatch(data.train, features, classes, flowPerm, s, Math.min(t.batchSize, nTrain - s), undefined, true));
  }
  const method = cfg.sparsity.method;
  const scope = cfg.sparsity.scope ?? 'layerwise';
  // Dynamic sparse training / gradual magnitude pruning (policies/mask-updates.ts): the sparse net's
  // masks move; the initial masks are kept to report how far they moved.
  const dynamic = method !== 'none' ? cfg.sparsity.dynamic : undefined;
  const dynamicRng = rng.fork('dynamic');
  const maskUpdates = maskUpdatePolicy({
    runs,
    totalSteps,
    coupledL2,
    ...(dynamic ? { dynamic: { config: dynamic, rng: dynamicRng } } : {}),
    ...(method === 'gmp'
      ? { gmp: { config: cfg.sparsity.gmp ?? DEFAULT_GMP, scope, finalCounts: sparseTargetCounts(cfg, data.shape, classes) } }
      : {}),
    ...(hooks.onMaskUpdate ? { onMaskUpdate: hooks.onMaskUpdate } : {}),
  });
  const every = Math.max(1, Math.floor(mon.every));
  // Which steps carry each net's raw norms (flow.ts rawNormEvery; `auto` when unset).
  const rawEvery = new Map<NetRun, RawEvery>(
    runs.map((r) => {
      const layers = r.net.paths.map((path, l) => ({ masked: r.net.masked[l] ?? false, path }));
      return [r, { l1: rawNormEvery(eo.rawL1Every ?? cfg.engine?.rawL1Every, layers), l2: rawNormEvery(eo.rawL2Every ?? cfg.engine?.rawL2Every, layers) }];
    }),
  );
  const everyOf = (r: NetRun): RawEvery => rawEvery.get(r) ?? { l1: 1, l2: 1 };
  const plan: LoopPlan = {
    epochs: t.epochs,
    stepsPerEpoch,
    nTrain,
    batchSize: t.batchSize,
    shuffle: () => permutation(nTrain, shuffleRng),
    batch: (order, start, n) => makeBatch(data.train, features, classes, order, start, n, t.augmentation ? hooks.augment : undefined, true),
    stepOptions: (r, step) => ({
      coupledL2,
      collectNorms: step % every === 0,
      checkIntegrity: eo.checkIntegrity && r.net.masks.some((m) => m !== undefined),
      rawL1: step % everyOf(r).l1 === 0,
      rawL2: step % everyOf(r).l2 === 0,
      skipUpdate: r.skipUpdate,
    }),
  };

  const started = performance.now();
  const release = (): void => {
    runs.forEach((r) => {
      r.net.dispose();
      r.opt.dispose();
    });
    [...valBatches, ...testBatches, ...flowBatches].forEach(disposeBatch);
  };
  let result: TrainResult;
  try {
    announce(cfg, runs, hooks, { stepsPerEpoch, totalSteps }, guardNotes, everyOf);
    const evaluateNet = netEvaluator(valBatches, testBatches);
    // The policies, in the order they see each step (loop.ts).
    const policies: LoopHook[] = [
      progressPolicy(hooks.onStep),
      normAlertPolicy(hooks.onAlert),
      divergencePolicy({ onNan: mon.onNan, onAlert: hooks.onAlert, evaluate: evaluateNet, ...(hooks.onLog ? { onLog: hooks.onLog } : {}) }),
      integrityPolicy(hooks.onAlert),
      ...(maskUpdates ? [maskUpdates] : []),
      flowPointPolicy({ schedule: flowSchedule(t.epochs, stepsPerEpoch), batches: flowBatches, coupledL2, onFlowPoint: hooks.onFlowPoint }),
      evaluationPolicy({ evaluate: evaluateNet, nTrain, started, onEpoch: hooks.onEpoch }),
      stopPolicy(hooks.shouldStop),
      ...(t.lrSchedule ? [lrSchedulePolicy({ base: t.learningRate, schedule: t.lrSchedule, ...(hooks.onLog ? { onLog: hooks.onLog } : {}) })] : []),
    ];
    const s = await runLoop(plan, runs, policies);
    const summaries: NetSummary[] = runs.map((r) => ({
      net: r.role,
      steps: r.steps,
      epochs: r.epochs,
      final: r.final,
      flowAverage: meanFlow(r.flowPoints),
      flowPoints: r.flowPoints,
      layers: netInfo(r.net).layers,
      msPerStep: r.steps > 0 ? r.stepMs / r.steps : 0,
      memoryBytes: r.net.memoryBytes(r.opt),
      rawEvery: everyOf(r),
      ...(r.diverged ? { diverged: r.diverged } : r.nonFiniteAt ? { diverged: r.nonFiniteAt } : {}),
    }));
    const divergedReasons = runs.flatMap((r) => (r.diverged ? [r.diverged.reason] : []));
    const why = s.reason ?? (divergedReasons.length > 0 ? divergedReasons.join('; ') : undefined);
    result = { nets: summaries, stopped: s.stopped, ...(s.failed ? { failed: true } : {}), ...(why !== undefined ? { reason: why } : {}) };
  } catch (e) {
    try {
      release();
    } catch {
      // After a failure (a wasm heap exhausted mid-kernel) freeing can fail too: the first error is
      // the one the user needs, so it is not replaced by this one.
    }
    throw e;
  }
  release();
  return result;
}

/** A net's training state before the first step: its optimizer, parameters and alert tracker. */
function newRun(net: TrainableNet, cfg: ExperimentConfig, eo: EngineOptions): NetRun {
  const t = cfg.training;
  const mon = cfg.monitoring;
  const decoupled = t.optimizer === 'adamw';
  return {
    role: net.role,
    net,
    opt: createOptimizer({
      name: t.optimizer,
      learningRate: t.learningRate,
      momentum: t.momentum,
      nesterov: t.nesterov === true,
      decoupledDecay: decoupled ? t.weightDecay : 0,
      beta1: eo.beta1,
      beta2: eo.beta2,
      rho: eo.rho,
      ...(eo.epsilon !== undefined ? { epsilon: eo.epsilon } : {}),
    }),
    params: optimizerParams(net),
    alerts: new AlertTracker(net.role, { explosion: mon.explosion, collapse: mon.collapse }, net.layerInfo.map((l) => l.name)),
    flowPoints: [],
    stepMs: 0,
    steps: 0,
    epochs: 0,
    epochLoss: 0,
    epochCorrect: 0,
    epochN: 0,
    final: { train: { loss: NaN, accuracy: NaN }, validation: { loss: NaN, accuracy: NaN }, test: { loss: NaN, accuracy: NaN } },
    skipUpdate: false,
  };
}

/** Before the first step: `ready` with the nets, the pruning header, guard notes, kernel paths, collapse-at-mask alerts. */
/**
 * gmp with `init: dense-fan-in`: the sparse net starts dense (or at gmp.initial_density) with
 * weights drawn for the twin's fan-in, so each unit sums over more weights than that std assumes
 * and activations grow layer by layer. Said when some layer's start fan-in is ≥ 2× the twin's.
 */
function gmpInitNote(cfg: ExperimentConfig, runs: NetRun[]): string | undefined {
  if (cfg.sparsity.method !== 'gmp' || cfg.sparsity.init !== 'dense-fan-in') return undefined;
  const sparse = runs.find((r) => r.role === 'sparse')?.net.layerInfo;
  const twin = runs.find((r) => r.role === 'dense')?.net.layerInfo;
  if (!sparse || !twin) return undefined;
  let worst = { name: '', factor: 0 };
  sparse.forEach((l, i) => {
    const factor = l.active / l.fanOut / (twin[i]?.fanIn ?? l.fanIn);
    if (factor > worst.factor) worst = { name: l.name, factor };
  });
  if (worst.factor < 2) return undefined;
  return (
    `gmp: the sparse net starts with more weights than its init assumes (sparsity.init: dense-fan-in draws them for the twin's fan-in): ` +
    `each unit of ${worst.name} sums ${worst.factor.toFixed(1)}× as many, so its activations start that much larger in variance, compounding layer by layer. ` +
    `sparsity.init: sparse-fan-in draws each layer for the fan-in it starts training with.`
  );
}

/**
 * gmp whose `every` is as long as its pruning span (the default 100 on a run of a few hundred steps):
 * it prunes at one or two steps, so the net drops to its final counts at once, not gradually.
 */
export function gmpScheduleNote(cfg: ExperimentConfig, totalSteps: number): string | undefined {
  if (cfg.sparsity.method !== 'gmp' || totalSteps < 1) return undefined;
  const c = cfg.sparsity.gmp ?? DEFAULT_GMP;
  const t = gmpTiming(c, totalSteps);
  const steps: number[] = [];
  for (let g = Math.max(1, t.t0); g <= Math.min(t.tEnd, totalSteps); g++) if (isPruneStep(g, t)) steps.push(g);
  if (steps.length > 2) return undefined;
  const span = t.tEnd - t.t0;
  const suggest = Math.max(1, Math.floor(span / 10));
  return (
    `gmp: sparsity.gmp.every is ${c.every} steps and pruning spans steps ${t.t0}–${t.tEnd} of ${totalSteps}, so it prunes only at step${steps.length === 1 ? '' : 's'} ${steps.join(' and ')}: ` +
    `the net drops to its final counts at once rather than gradually. sparsity.gmp.every: ${suggest} prunes about 10 times.`
  );
}

function announce(cfg: ExperimentConfig, runs: NetRun[], hooks: TrainHooks, info: { stepsPerEpoch: number; totalSteps: number }, guardNotes: string[], rawEvery: (r: NetRun) => RawEvery): void {
  const pruning = pruningInfo(cfg);
  hooks.onReady(runs.map((r) => ({ ...netInfo(r.net, r.role === 'sparse' ? pruning : undefined), rawEvery: rawEvery(r) })), info);
  const header = pruningHeader(cfg, runs.find((r) => r.role === 'sparse')?.net.layerInfo ?? [], runs.length > 1);
  if (header) hooks.onLog?.('info', header);
  for (const note of guardNotes) hooks.onLog?.('info', note);
  const initNote = gmpInitNote(cfg, runs);
  if (initNote) hooks.onLog?.('warn', initNote);
  const scheduleNote = gmpScheduleNote(cfg, info.totalSteps);
  if (scheduleNote) hooks.onLog?.('warn', scheduleNote);
  for (const r of runs) {
    if (!r.net.paths.includes('sparse')) continue;
    const { kernels, note } = sparseKernels();
    const layers = r.net.layerInfo.map((l, i) => `${l.name} ${r.net.paths[i]}`).join(', ');
    hooks.onLog?.(note ? 'warn' : 'info', `${r.role} net kernel paths: ${layers} (sparse kernels: ${kernels.impl}${note ? `, because ${note}` : ''})`);
  }
  for (const r of runs) {
    if (!(r.net instanceof ConvNet)) continue;
    // Conv layers on the sparse path run the sparse kernels (logged above), not these.
    const paths = r.net.paths;
    const convs = r.net.layers.filter((l, i) => l.kind === 'conv' && paths[i] !== 'sparse');
    if (convs.length === 0) continue;
    const note = convKernelNote(convs);
    hooks.onLog?.(note.level, `${r.role} net ${note.text}`);
  }
  // Which steps carry which numbers, when some net skips raw norms on some steps.
  if (runs.some((r) => rawEvery(r).l1 > 1 || rawEvery(r).l2 > 1)) hooks.onLog?.('info', rawEveryNote(runs.map((r) => ({ role: r.role, every: rawEvery(r) })), cfg.monitoring.every));
  for (const r of runs) {
    if (r.net.masked.some((m) => m)) {
      maskAlerts(r.role, r.net.layerInfo, r.net.maskPaths(), { method: cfg.sparsity.method, scope: cfg.sparsity.scope ?? 'layerwise' }).forEach((a) => hooks.onAlert(a));
    }
  }
}
