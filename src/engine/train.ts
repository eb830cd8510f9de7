/**
 * The training loop: builds the net(s) of an experiment, trains an SC-SDC pair interleaved on
 * identical batches, streams step / epoch / flow-point / alert events through hooks.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExperimentConfig, NetRole, SparseKernelMode } from '../shared/experiment';
import type {
  Alert,
  EpochMetrics,
  FlowMeasures,
  FlowPoint,
  NetInfo,
  MaskUpdate,
  NetSummary,
  PruningInfo,
  SplitMetrics,
  StepMetrics,
} from '../shared/protocol';
import { createRng, permutation, type Rng } from '../shared/rng';
import type { Dataset, Split } from '../data/types';
import { AlertTracker, maskAlerts } from './alerts';
import { combineFlow, flowSchedule, meanFlow } from './flow';
import { heGain, mlpShapes, planLayers, planLayersFull, scsdcActiveCounts, type LayerMaskPlan } from './masks';
import { layerName, MaskedMLP, type KernelPath } from './model';
import type { TrainableNet } from './net';
import { DynamicSparsity } from './pruning/dynamic';
import { DEFAULT_GMP, gmpInitialCount, GradualPruning } from './pruning/gmp';
import { criterionBatchRows, DEFAULT_SYNFLOW_ROUNDS, guardPlans, guardSummary, isCriterion, planByCriterion, pruningHeader, pruningInfo, rankingValues } from './pruning';
import { SPARSE_MAX_UNITS, sparseKernels } from './sparse';
import { createOptimizer, type Optimizer, type Param } from './optimizers';
import { evaluate, measureFlowLayers, optimizerParams, trainStepDeferred, type Batch, type PendingStep } from './step';

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
  /** Batch size for validation / test evaluation (default 1000). */
  evalBatchSize: number;
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
  /** Raw L1 / L2 norms of masked layers on collecting steps that are multiples of these (`engine.raw_l1_every` / `raw_l2_every`). */
  rawL1Every?: number;
  rawL2Every?: number;
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

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  flowBatches: 4,
  evalBatchSize: 1000,
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

interface NetRun {
  role: NetRole;
  net: TrainableNet;
  opt: Optimizer;
  params: Param[];
  alerts: AlertTracker;
  flowPoints: FlowPoint[];
  stepMs: number;
  steps: number;
  epochs: number;
  epochLoss: number;
  epochCorrect: number;
  epochN: number;
  final: NetSummary['final'];
  /** Set when this net diverged under `on_nan: stop`: it trains no further, its twin goes on. */
  diverged?: { step: number; reason: string };
  /** First non-finite loss or gradient under `on_nan: continue` (the net trained on); written as the summary's `diverged`. */
  nonFiniteAt?: { step: number; reason: string };
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
          initialCounts: sparseShapes.map((s, l) => gmpInitialCount(s.fanIn * s.fanOut, initSpec.activeCounts[l], (cfg.sparsity.gmp ?? DEFAULT_GMP).initialDensity)),
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

export function netInfo(net: TrainableNet, pruning?: PruningInfo): NetInfo {
  const layers = net.layerInfo.map((l, i) => ({ ...l, path: net.paths[i] }));
  const info: NetInfo = { net: net.role, width: net.width, layers, activeWeights: net.activeWeights };
  return pruning ? { ...info, pruning } : info;
}

/** Rows `idx[start..start+n)` of a split as a Batch (tensors owned by the caller). */
export function makeBatch(
  split: Split,
  features: number,
  classes: number,
  idx: ArrayLike<number>,
  start: number,
  n: number,
  augment?: (x: Float32Array, n: number) => Float32Array,
  transpose = false,
): Batch {
  let x: Float32Array = new Float32Array(n * features);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = idx[start + i];
    x.set(split.x.subarray(r * features, (r + 1) * features), i * features);
    labels[i] = split.y[r];
  }
  if (augment) x = augment(x, n);
  const lab = tf.tensor1d(labels, 'int32');
  const xt = tf.tensor2d(x, [n, features]);
  const y = tf.tidy(() => tf.cast(tf.oneHot(lab, classes), 'float32') as tf.Tensor2D);
  if (!transpose) return { x: xt, y, labels: lab, n };
  return { x: xt, xT: tf.transpose(xt), y, labels: lab, n };
}

export function disposeBatch(b: Batch): void {
  b.x.dispose();
  b.xT?.dispose();
  b.y.dispose();
  b.labels.dispose();
}

/** Consecutive batches over a whole split, in order. */
export function splitBatches(split: Split, features: number, classes: number, batchSize: number): Batch[] {
  const ident = new Uint32Array(split.n);
  for (let i = 0; i < split.n; i++) ident[i] = i;
  const out: Batch[] = [];
  for (let s = 0; s < split.n; s += batchSize) out.push(makeBatch(split, features, classes, ident, s, Math.min(batchSize, split.n - s)));
  return out;
}

const nanFlow: FlowMeasures = { egf1: NaN, egf2: NaN, g1: NaN, g2: NaN };

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
  const features = data.features;
  const classes = data.classes;
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
    nets = buildNets(cfg, features, classes, modelRng, eo, criterionBatches, (msg) => guardNotes.push(msg));
  } finally {
    criterionBatches.forEach(disposeBatch);
  }
  const decoupled = t.optimizer === 'adamw';
  const coupledL2 = decoupled ? 0 : t.weightDecay;
  const every = Math.max(1, Math.floor(mon.every));
  const rawL1Every = Math.max(1, Math.floor(eo.rawL1Every ?? cfg.engine?.rawL1Every ?? 1));
  const rawL2Every = Math.max(1, Math.floor(eo.rawL2Every ?? cfg.engine?.rawL2Every ?? 1));

  const runs: NetRun[] = nets.map((net) => ({
    role: net.role,
    net,
    opt: createOptimizer({
      name: t.optimizer,
      learningRate: t.learningRate,
      momentum: t.momentum,
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
  }));

  // Mask changes (updateMask) reset the optimizer state of the entries they touch.
  for (const r of runs) r.net.attachOptimizer(r.opt);

  const nTrain = data.train.n;
  const stepsPerEpoch = Math.ceil(nTrain / t.batchSize);
  const totalSteps = stepsPerEpoch * t.epochs;
  const valBatches = splitBatches(data.validation, features, classes, eo.evalBatchSize);
  const testBatches = splitBatches(data.test, features, classes, eo.evalBatchSize);
  // Fixed flow-measurement set: the first flowBatches·batchSize rows of one seeded permutation of the
  // training split (ours). They are still trained on: "held out" only from the shuffling.
  const flowPerm = permutation(nTrain, flowRng);
  const flowBatches: Batch[] = [];
  for (let b = 0; b < eo.flowBatches && b * t.batchSize < nTrain; b++) {
    const s = b * t.batchSize;
    flowBatches.push(makeBatch(data.train, features, classes, flowPerm, s, Math.min(t.batchSize, nTrain - s), undefined, true));
  }
  const schedule = flowSchedule(t.epochs, stepsPerEpoch);
  // Dynamic sparse training (src/engine/pruning/dynamic.ts): the sparse net's masks move; the
  // initial masks are kept to report how far they moved.
  const dynamic = cfg.sparsity.method !== 'none' ? cfg.sparsity.dynamic : undefined;
  const dynamicRng = rng.fork('dynamic');
  // Gradual magnitude pruning (pruning/gmp.ts): from the initial counts to SC-SDC's.
  const gmps = new Map<NetRun, GradualPruning>();
  if (cfg.sparsity.method === 'gmp') {
    const hD = cfg.sparsity.denseWidth ?? 0;
    const finals = scsdcActiveCounts(features, hD, cfg.model.hiddenLayers, classes);
    for (const r of runs) {
      if (r.role !== 'sparse') continue;
      const initial = r.net.masked.map((m, l) => (m ? r.net.maskArray(l) : undefined));
      const starts = r.net.layerInfo.map((l) => l.active);
      gmps.set(r, new GradualPruning(cfg.sparsity.gmp ?? DEFAULT_GMP, totalSteps, cfg.sparsity.scope ?? 'layerwise', starts, finals, initial));
    }
  }
  // The published timing and order (pruning/dynamic.ts), on the sparse net's optimizer-step count.
  const dynamics = new Map<NetRun, DynamicSparsity>();
  if (dynamic) {
    for (const r of runs) {
      if (r.role !== 'sparse') continue;
      const initial = r.net.masked.map((m, l) => (m ? r.net.maskArray(l) : undefined));
      dynamics.set(r, new DynamicSparsity(dynamic, totalSteps, dynamicRng, initial));
    }
  }

  let stopped = false;
  let failed = false;
  let reason: string | undefined;
  const active = (): NetRun[] => runs.filter((r) => !r.diverged);
  const alert = (a: Alert | undefined): void => {
    if (a) hooks.onAlert(a);
  };

  const measurePoint = (atStep: number): void => {
    for (const p of schedule.filter((s) => s.step === atStep)) {
      const epoch = p.epoch;
      // A diverged net has no gradient flow left to measure; its summary averages the points it had.
      for (const r of active()) {
        const fm = combineFlow(measureFlowLayers(r.net, flowBatches, coupledL2));
        const point: FlowPoint = { net: r.role, epoch, index: p.index, ...fm };
        r.flowPoints.push(point);
        hooks.onFlowPoint(point);
      }
    }
  };

  const splitEval = (r: NetRun): { validation: SplitMetrics; test: SplitMetrics } => ({
    validation: evaluate(r.net, valBatches),
    test: evaluate(r.net, testBatches),
  });

  const started = performance.now();
  try {
    const pruning = pruningInfo(cfg);
    hooks.onReady(runs.map((r) => netInfo(r.net, r.role === 'sparse' ? pruning : undefined)), { stepsPerEpoch, totalSteps });
    const header = pruningHeader(cfg, runs.find((r) => r.role === 'sparse')?.net.layerInfo ?? [], runs.length > 1);
    if (header) hooks.onLog?.('info', header);
    for (const note of guardNotes) hooks.onLog?.('info', note);
    for (const r of runs) {
      if (!r.net.paths.includes('sparse')) continue;
      const { kernels, note } = sparseKernels();
      const layers = r.net.layerInfo.map((l, i) => `${l.name} ${r.net.paths[i]}`).join(', ');
      hooks.onLog?.(note ? 'warn' : 'info', `${r.role} net kernel paths: ${layers} (sparse kernels: ${kernels.impl}${note ? `, because ${note}` : ''})`);
    }
    for (const r of runs) {
      if (r.net.masked.some((m) => m)) {
        maskAlerts(r.role, r.net.layerInfo, r.net.maskPaths(), { method: cfg.sparsity.method, scope: cfg.sparsity.scope ?? 'layerwise' }).forEach((a) => hooks.onAlert(a));
      }
    }
    measurePoint(0);
    let step = 0;
    let epochDone = true;
    outer: for (let epoch = 0; epoch < t.epochs; epoch++) {
      const perm = permutation(nTrain, shuffleRng);
      epochDone = false;
      for (const r of runs) {
        r.epochLoss = 0;
        r.epochCorrect = 0;
        r.epochN = 0;
      }
      for (let s = 0; s < stepsPerEpoch; s++) {
        step++;
        const start = s * t.batchSize;
        const n = Math.min(t.batchSize, nTrain - start);
        // One batch for every net: an SC-SDC pair sees identical examples in identical order.
        const batch = makeBatch(data.train, features, classes, perm, start, n, t.augmentation ? hooks.augment : undefined, true);
        const collect = step % every === 0;
        try {
          // Every net updates, then ONE transfer reads all their numbers for this step.
          // RigL: a due mask update replaces this iteration's optimizer step (pruning/dynamic.ts).
          const replaced = new Set<NetRun>();
          if (!stopped) for (const r of active()) if (dynamics.get(r)?.replacesStep(r.opt.iterations)) replaced.add(r);
          const pending: { r: NetRun; p: PendingStep }[] = [];
          for (const r of active()) {
            const t0 = performance.now();
            const checkIntegrity = eo.checkIntegrity && r.net.masks.some((m) => m !== undefined);
            const rawL1 = step % rawL1Every === 0;
            const rawL2 = step % rawL2Every === 0;
            pending.push({ r, p: trainStepDeferred(r.net, r.opt, r.params, batch, { coupledL2, collectNorms: collect, checkIntegrity, rawL1, rawL2, skipUpdate: replaced.has(r) }) });
            r.stepMs += performance.now() - t0;
          }
          const t1 = performance.now();
          const all = pending.length === 1 ? pending[0].p.stats : tf.concat(pending.map((x) => x.p.stats));
          const values = all.dataSync();
          all.dispose();
          pending.forEach((x) => x.p.stats.dispose());
          const readMs = (performance.now() - t1) / runs.length;
          let offset = 0;
          for (const { r, p } of pending) {
            const res = p.decode(values, offset);
            offset += p.stats.size;
            r.stepMs += readMs;
            r.steps = step;
            r.epochLoss += res.loss * n;
            r.epochCorrect += res.correct;
            r.epochN += n;
            const fm = res.layers ? combineFlow(res.layers) : nanFlow;
            hooks.onStep({ net: r.role, step, epoch, loss: res.loss, accuracy: res.correct / n, layers: res.layers ?? [], ...fm });
            if (res.layers) r.alerts.observe(step, res.layers).forEach((a) => hooks.onAlert(a));
            if (res.nonFinite) {
              alert(r.alerts.nonFinite(step, res.nonFinite.where, res.nonFinite.value));
              if (mon.onNan !== 'stop' && !r.nonFiniteAt) {
                const where = typeof res.nonFinite.where === 'number' ? r.net.layerInfo[res.nonFinite.where].name : res.nonFinite.where;
                r.nonFiniteAt = { step, reason: `non-finite ${where === 'loss' ? 'loss' : `gradient (${where})`} in the ${r.role} net at step ${step} (monitoring.on_nan: continue, it trained on)` };
              }
              if (mon.onNan === 'stop' && !r.diverged) {
                // A diverged net is a result of its configuration, not a failed run: it stops
                // training, its twin goes on, and the run still finishes.
                const where = typeof res.nonFinite.where === 'number' ? r.net.layerInfo[res.nonFinite.where].name : res.nonFinite.where;
                r.diverged = { step, reason: `non-finite ${where === 'loss' ? 'loss' : `gradient (${where})`} in the ${r.role} net at step ${step}` };
                hooks.onLog?.('warn', `${r.diverged.reason}: that net stops training (monitoring.on_nan: stop)`);
                // Its final numbers are those of the weights it diverged with.
                const train = { loss: NaN, accuracy: (r.epochCorrect) / Math.max(1, r.epochN) };
                r.final = { train, ...splitEval(r) };
              }
            }
            for (const iv of res.integrity) {
              alert(r.alerts.integrity(step, iv.layer, iv.value));
              if (!stopped) {
                stopped = true;
                failed = true;
                reason = `mask integrity violated in the ${r.role} net, layer ${r.net.layerInfo[iv.layer].name}, at step ${step}`;
              }
            }
          }
          if (!stopped) {
            for (const r of active()) {
              // RigL at the pre-step weights (its step was skipped); SET after its step.
              const u = dynamics.get(r)?.afterStep(r.net, batch, r.opt.iterations, replaced.has(r), { coupledL2 }) ?? gmps.get(r)?.afterStep(r.net, r.opt.iterations);
              if (u) hooks.onMaskUpdate?.({ net: r.role, step, epoch, ...u });
            }
          }
        } finally {
          disposeBatch(batch);
        }
        if (!stopped) measurePoint(step);
        // Let IPC messages (stop) in before the next step.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (!stopped && hooks.shouldStop()) {
          stopped = true;
          reason = `stopped by request at step ${step}`;
        }
        if (stopped) break outer;
        // Every net diverged: nothing left to train, and the run is complete.
        if (active().length === 0) break outer;
      }
      epochDone = true;
      const elapsed = (performance.now() - started) / 1000;
      for (const r of active()) {
        r.epochs = epoch + 1;
        const train = { loss: r.epochLoss / r.epochN, accuracy: r.epochCorrect / r.epochN };
        const ev = splitEval(r);
        r.final = { train, ...ev };
        hooks.onEpoch({ net: r.role, epoch: epoch + 1, step, train, ...ev, elapsed });
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!stopped && hooks.shouldStop()) {
        stopped = true;
        reason = `stopped by request after epoch ${epoch + 1}`;
        break;
      }
    }
    if (!epochDone) {
      // Stopped mid-epoch: the final numbers describe the weights as they are now.
      for (const r of active()) {
        const train = r.epochN > 0 ? { loss: r.epochLoss / r.epochN, accuracy: r.epochCorrect / r.epochN } : r.final.train;
        r.final = { train, ...splitEval(r) };
        // Stopped on the last step of an epoch: that epoch's updates are all done.
        if (r.epochN === nTrain) r.epochs += 1;
      }
    }
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
      ...(r.diverged ? { diverged: r.diverged } : r.nonFiniteAt ? { diverged: r.nonFiniteAt } : {}),
    }));
    const divergedReasons = runs.flatMap((r) => (r.diverged ? [r.diverged.reason] : []));
    const why = reason ?? (divergedReasons.length > 0 ? divergedReasons.join('; ') : undefined);
    return { nets: summaries, stopped, ...(failed ? { failed } : {}), ...(why !== undefined ? { reason: why } : {}) };
  } finally {
    runs.forEach((r) => {
      r.net.dispose();
      r.opt.dispose();
    });
    [...valBatches, ...testBatches, ...flowBatches].forEach(disposeBatch);
  }
}
