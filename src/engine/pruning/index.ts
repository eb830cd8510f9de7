/**
 * Pruning at initialisation by a criterion (docs/pruning.md): SNIP, GraSP, SynFlow.
 *
 * The sparse net's full kernels are drawn exactly as for `random` / `magnitude` (masks.drawKernels),
 * the criterion scores every entry of the UNPRUNED net (biases 0, activation parameters at their
 * initial values), and the masks keep, per layer (`layerwise`, SC-SDC's counts) or over all layers
 * (`global`, the same total), the best-ranked entries under the tie rule of select.ts. The model is
 * then built from those kernels and masks like any other plan.
 */
import type { ExperimentConfig, PruningScope } from '../../shared/experiment';
import type { LayerInfo, PruningInfo } from '../../shared/protocol';
import { permutation, type Rng } from '../../shared/rng';
import { drawKernels, plansFrom, type InitSpec, type LayerMaskPlan } from '../masks';
import { MaskedMLP, type NetSpec } from '../model';
import { measureFlowLayers, type Batch } from '../step';
import { guardOnPlans, type GuardResult } from './guard';
import { graspScores } from './grasp';
import { selectGlobal, selectLayerwise } from './select';
import { snipScores } from './snip';
import { synflowMasks } from './synflow';
import { at } from '../../shared/checked';

export type Criterion = 'snip' | 'grasp' | 'synflow';

export function isCriterion(method: string): method is Criterion {
  return method === 'snip' || method === 'grasp' || method === 'synflow';
}

/** Default SynFlow rounds (Tanaka et al. 2020) and criterion batches. */
export const DEFAULT_SYNFLOW_ROUNDS = 100;
export const DEFAULT_CRITERION_BATCHES = 1;

/** A criterion's settings, and (the NetSpec fields) the net the kernels belong to. */
export interface CriterionSpec extends Pick<NetSpec, 'inputs' | 'classes' | 'width' | 'hiddenLayers' | 'activation' | 'batchNorm' | 'skip' | 'bnEpsilon' | 'bnMomentum'> {
  method: Criterion;
  scope: PruningScope;
  /** Training batches for snip / grasp (ignored by synflow). */
  batches: Batch[];
  synflowRounds: number;
}

export interface CriterionResult {
  plans: LayerMaskPlan[];
  /**
   * The criterion's scores per layer ([fanIn, fanOut] row-major), as defined in docs/pruning.md
   * (GraSP: −θ ⊙ Hg, kept smallest; SynFlow: those of the last round).
   */
  scores: Float64Array[];
  /** The full (unpruned) kernels the criterion scored. */
  full: Float32Array[];
}

/** Values ranked by select.ts (largest kept): the scores, negated for GraSP (whose smallest are kept). */
export function rankingValues(method: Criterion, scores: Float64Array[]): Float64Array[] {
  return method === 'grasp' ? scores.map((s) => s.map((v) => -v)) : scores;
}

/** Masks from scores by scope and counts. */
export function selectMasks(method: Criterion, scores: Float64Array[], counts: number[], scope: PruningScope): Float32Array[] {
  const ranked = rankingValues(method, scores);
  return scope === 'global' ? selectGlobal(ranked, counts.reduce((a, b) => a + b, 0)) : selectLayerwise(ranked, counts);
}

/** Scores of a data-driven criterion on an unpruned net built from `kernels`. */
function dataScores(c: CriterionSpec, kernels: Float32Array[], shapes: InitSpec['shapes']): Float64Array[] {
  if (c.batches.length === 0) throw new Error(`sparsity.method '${c.method}' needs at least one training batch`);
  const plans = plansFrom(shapes, kernels.map((k) => k.slice()), shapes.map(() => 0));
  const net = new MaskedMLP({
    role: 'sparse',
    inputs: c.inputs,
    classes: c.classes,
    width: c.width,
    hiddenLayers: c.hiddenLayers,
    activation: c.activation,
    batchNorm: c.batchNorm,
    skip: c.skip,
    plans,
    ...(c.bnEpsilon !== undefined ? { bnEpsilon: c.bnEpsilon } : {}),
    ...(c.bnMomentum !== undefined ? { bnMomentum: c.bnMomentum } : {}),
  });
  try {
    return c.method === 'snip' ? snipScores(net, c.batches) : graspScores(net, c.batches).scores;
  } finally {
    net.dispose();
  }
}

/**
 * Kernels and masks of the sparse net under a criterion. `init.activeCounts` are SC-SDC's counts
 * (their sum is the global budget). Consumes `init.rng` like planLayers ('init', then 'mask').
 */
export function planByCriterion(init: InitSpec, c: CriterionSpec): CriterionResult {
  const counts = init.activeCounts;
  if (!counts) throw new Error('internal: a criterion needs active counts');
  const initRng = init.rng.fork('init');
  init.rng.fork('mask'); // kept in step with planLayers' streams
  const { kernels, stds } = drawKernels(init, initRng);
  let scores: Float64Array[];
  let masks: Float32Array[];
  if (c.method === 'synflow') {
    const skips = init.shapes.slice(0, -1).map((s, l) => c.skip && l > 0 && s.fanIn === s.fanOut);
    const r = synflowMasks(
      { shapes: init.shapes, kernels, skips, activation: c.activation, ...(c.batchNorm ? { batchNormEpsilon: c.bnEpsilon ?? 1e-5 } : {}) },
      counts,
      c.scope,
      c.synflowRounds,
    );
    scores = r.scores;
    masks = r.masks;
  } else {
    scores = dataScores(c, kernels, init.shapes);
    masks = selectMasks(c.method, scores, counts, c.scope);
  }
  const full = kernels.map((k) => Float32Array.from(k));
  return { plans: plansFrom(init.shapes, kernels, stds, masks), scores, full };
}

/**
 * Training rows of the criterion batches of snip / grasp: `sparsity.batches` consecutive batches of
 * `training.batch_size` rows of one permutation of the training split drawn from the run's 'prune'
 * stream (the last may be shorter; no more batches than the split holds). [] for other methods.
 */
export function criterionBatchRows(cfg: ExperimentConfig, nTrain: number, rng: Rng): Uint32Array[] {
  const method = cfg.sparsity.method;
  const guard = cfg.sparsity.guard === 'egf' && method !== 'none' && method !== 'gmp';
  if (method !== 'snip' && method !== 'grasp' && !guard) return [];
  const perm = permutation(nTrain, rng.fork('prune'));
  const size = cfg.training.batchSize;
  const want = cfg.sparsity.batches ?? DEFAULT_CRITERION_BATCHES;
  const out: Uint32Array[] = [];
  for (let b = 0; b < want && b * size < nTrain; b++) out.push(perm.slice(b * size, Math.min(nTrain, (b + 1) * size)));
  return out;
}

/** The sparse net's pruning, for NetInfo; undefined for a dense run. */
export function pruningInfo(cfg: ExperimentConfig): PruningInfo | undefined {
  const method = cfg.sparsity.method;
  if (method === 'none') return undefined;
  const scope = cfg.sparsity.scope ?? 'layerwise';
  return { method, scope, scsdcPerLayer: scope === 'layerwise' && cfg.sparsity.guard !== 'egf' };
}

/**
 * The run-header line of a global scope: the per-layer densities the criterion chose, and that the
 * pair is matched in total active weights only. undefined for a layerwise (SC-SDC) or dense run.
 */
export function pruningHeader(cfg: ExperimentConfig, layers: LayerInfo[], pair: boolean): string | undefined {
  const info = pruningInfo(cfg);
  if (!info || info.scsdcPerLayer) return undefined;
  const densities = layers.map((l) => `${l.name} ${formatDensity(l.density)} (${l.active}/${l.total})`).join(', ');
  const total = layers.reduce((s, l) => s + l.active, 0);
  const twin = pair
    ? `the dense twin is matched in total active weights (${total}) only: this pair is NOT SC-SDC per layer`
    : `${total} active weights in total`;
  return `sparsity: ${info.method}, global scope: per-layer densities chosen by the criterion: ${densities}; ${twin}`;
}

function formatDensity(d: number): string {
  return d === 0 ? '0' : d >= 0.01 ? d.toFixed(3) : d.toPrecision(2);
}

/**
 * The EGF collapse guard (guard.ts) on a sparse net's plans: the masked gradient norms at
 * initialisation are measured on `batches` with the net built from the full kernels and each
 * candidate mask set. Returns the plans to build (the same ones when nothing was at risk).
 */
export function guardPlans(
  spec: Omit<NetSpec, 'role' | 'plans' | 'paths' | 'sparseKernels'>,
  plans: LayerMaskPlan[],
  full: Float32Array[],
  ranking: ArrayLike<number>[],
  batches: Batch[],
): { plans: LayerMaskPlan[]; result: GuardResult } {
  if (batches.length === 0) throw new Error('sparsity.guard egf needs at least one training batch');
  const L = plans.length;
  return guardOnPlans(plans, full, ranking, (plansOf) => ({
    skips: plans.map((p, l) => spec.skip && l > 0 && l < L - 1 && p.shape.fanIn === p.shape.fanOut),
    norms: (m) => {
      const net = new MaskedMLP({ ...spec, role: 'sparse', plans: plansOf(m) });
      try {
        return measureFlowLayers(net, batches, 0).map((l) => l.masked.l2);
      } finally {
        net.dispose();
      }
    },
  }));
}

/** One run-log line about what the guard found and did. */
export function guardSummary(r: GuardResult, names: string[]): string {
  const pct = (v: number): string => `${(100 * v).toPrecision(2)}%`;
  const before = names.map((n, l) => `${n} ${pct(at(r.sharesBefore, l))}`).join(', ');
  if (!r.changed) return `collapse guard (egf): no layer at risk; shares of the masked gradient flow at init: ${before}`;
  const risk = r.atRiskBefore.map((x) => `${names[x.layer]} (${x.reason})`).join(', ');
  const moved = r.moves.map((m) => `${m.count} ${names[m.from]}→${names[m.to]}`).join(', ');
  const after = names.map((n, l) => `${n} ${pct(at(r.sharesAfter, l))}`).join(', ');
  return `collapse guard (egf): at risk ${risk}; moved ${moved}; shares at init ${before} → ${after}${r.resolved ? '' : ' (still at risk after the last round)'}`;
}
