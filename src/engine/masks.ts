/**
 * SC-SDC masks (method.md §2): layer densities, exact-count random masks, magnitude-at-init masks,
 * He-normal initialisation and mask-time structural checks (dead units, no active path).
 *
 * Everything here is plain typed arrays so it can be tested without a TF.js backend.
 */
import type { InitMode, PruningScope } from '../shared/experiment';
import type { Rng } from '../shared/rng';
import { at, atF32, atU32, atU8 } from '../shared/checked';

/** Shape of one weight layer of an MLP: kernel is [fanIn, fanOut], row-major (index = i*fanOut + j). */
export interface LayerShape {
  fanIn: number;
  fanOut: number;
}

/** Weight-layer shapes of an MLP d → h × H → C (L = H + 1 layers). */
export function mlpShapes(inputs: number, width: number, hiddenLayers: number, classes: number): LayerShape[] {
  const shapes: LayerShape[] = [];
  let fanIn = inputs;
  for (let i = 0; i < hiddenLayers; i++) {
    shapes.push({ fanIn, fanOut: width });
    fanIn = width;
  }
  shapes.push({ fanIn, fanOut: classes });
  return shapes;
}

/**
 * Active count per layer for the SC-SDC sparse net: exactly the dense twin's weight count
 * (d·h_D, h_D·h_D, …, h_D·C). Equivalently densities h_D/h_S for the first and output layers and
 * (h_D/h_S)^2 for hidden-to-hidden, but counted in integers so the twins match exactly.
 */
export function scsdcActiveCounts(inputs: number, denseWidth: number, hiddenLayers: number, classes: number): number[] {
  return mlpShapes(inputs, denseWidth, hiddenLayers, classes).map((s) => s.fanIn * s.fanOut);
}

/** Nominal SC-SDC densities (method.md §2), for display: one definition, in `src/shared/scsdc.ts`. */
export { scsdcDensities } from '../shared/scsdc';

/**
 * Exactly k of n positions set to 1, uniformly without replacement (partial Fisher-Yates: the
 * first k entries of a random permutation). A Bernoulli draw would only match k in expectation.
 */
export function randomMask(n: number, k: number, rng: Rng): Float32Array {
  if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`mask count ${k} out of range 0..${n}`);
  const mask = new Float32Array(n);
  if (k === n) return mask.fill(1);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = atU32(idx, i);
    idx[i] = atU32(idx, j);
    idx[j] = t;
    mask[atU32(idx, i)] = 1;
  }
  return mask;
}

/**
 * Keep the k entries of largest |w| (method.md §1 extension, ours). Ties are broken by index so the
 * count is exact and the result deterministic.
 */
export function magnitudeMask(kernel: Float32Array, k: number): Float32Array {
  const n = kernel.length;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`mask count ${k} out of range 0..${n}`);
  const mask = new Float32Array(n);
  if (k === n) return mask.fill(1);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const mag = new Float32Array(n);
  for (let i = 0; i < n; i++) mag[i] = Math.abs(atF32(kernel, i));
  order.sort((a, b) => atF32(mag, b) - atF32(mag, a) || a - b);
  for (let i = 0; i < k; i++) mask[atU32(order, i)] = 1;
  return mask;
}

export function countActive(mask: Float32Array): number {
  let c = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) c++;
  return c;
}

/** Output units of a layer with no active incoming weight (a column of the mask that is all zero). */
export function deadUnits(mask: Float32Array, shape: LayerShape): number {
  const alive = new Uint8Array(shape.fanOut);
  for (let i = 0; i < shape.fanIn; i++) {
    const row = i * shape.fanOut;
    for (let j = 0; j < shape.fanOut; j++) if (mask[row + j] !== 0) alive[j] = 1;
  }
  let dead = 0;
  for (let j = 0; j < shape.fanOut; j++) if (!alive[j]) dead++;
  return dead;
}

/** Result of propagating reachability from the inputs through the masks. */
export interface PathReport {
  /** Per layer: output units reachable from some input through active weights (ignoring biases). */
  reachable: number[];
  /** First layer (0-based) whose output has no reachable unit, or -1 if every layer passes signal. */
  brokenLayer: number;
  /**
   * Per layer: output units with no active OUTGOING weight in the next layer (and no identity skip
   * to carry them on): their activations reach nothing, so their incoming weights get no gradient.
   * 0 for the output layer.
   */
  noOutgoing: number[];
}

/**
 * "No active path" detection (layer collapse at mask time, method.md §6 note): a unit is reachable
 * if some active weight connects it to a reachable unit of the previous layer. With identity skips
 * a hidden unit is also reachable through the residual. If an entire layer is unreachable no input
 * can influence the output: the network is untrainable through its kernels.
 */
export function activePaths(masks: Float32Array[], shapes: LayerShape[], skip: boolean[] = []): PathReport {
  let prev: Uint8Array = new Uint8Array(shapes[0]?.fanIn ?? 0).fill(1);
  const reachable: number[] = [];
  let brokenLayer = -1;
  shapes.forEach((s, l) => {
    const cur = new Uint8Array(s.fanOut);
    const m = at(masks, l);
    for (let i = 0; i < s.fanIn; i++) {
      if (!prev[i]) continue;
      const row = i * s.fanOut;
      for (let j = 0; j < s.fanOut; j++) if (m[row + j] !== 0) cur[j] = 1;
    }
    if (skip[l] && s.fanIn === s.fanOut) for (let j = 0; j < s.fanOut; j++) if (prev[j]) cur[j] = 1;
    let count = 0;
    for (let j = 0; j < s.fanOut; j++) count += atU8(cur, j);
    reachable.push(count);
    if (count === 0 && brokenLayer < 0) brokenLayer = l;
    prev = cur;
  });
  const noOutgoing = shapes.map((_s, l) => {
    const next = shapes[l + 1];
    if (!next) return 0;
    // A skip around layer l+1 carries unit j forward whatever its outgoing weights.
    if (skip[l + 1] && next.fanIn === next.fanOut) return 0;
    const m = at(masks, l + 1);
    let dead = 0;
    for (let i = 0; i < next.fanIn; i++) {
      const row = i * next.fanOut;
      let any = false;
      for (let j = 0; j < next.fanOut && !any; j++) any = m[row + j] !== 0;
      if (!any) dead++;
    }
    return dead;
  });
  return { reachable, brokenLayer, noOutgoing };
}

/** Gain for He-normal init (√2 for ReLU-like units, 1 for sigmoid: ours, after Glorot/He). */
export function heGain(activation: string): number {
  return activation === 'sigmoid' ? 1 : Math.SQRT2;
}

/**
 * He-normal std for one layer (method.md §2). 'dense-fan-in' (default, ours): std = gain/√(fan-in
 * of the dense twin's layer), so the active weights of S and D come from the same distribution.
 * 'sparse-fan-in': std = gain/√(expected active fan-in of the sparse layer) = gain/√(k/fanOut),
 * an ablation. For a dense net both coincide with gain/√fanIn.
 */
export function initStd(gain: number, mode: InitMode, denseFanIn: number, activeCount: number, fanOut: number): number {
  const fan = mode === 'dense-fan-in' ? denseFanIn : activeCount / fanOut;
  return gain / Math.sqrt(fan);
}

/** Untruncated normal kernel with the given std, drawn from the seeded generator. */
export function normalKernel(n: number, std: number, rng: Rng): Float32Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = rng.normal() * std;
  return w;
}

export interface LayerMaskPlan {
  shape: LayerShape;
  /** Kernel values with pruned entries already zero. */
  kernel: Float32Array;
  /** 1 = active, 0 = pruned; undefined for an unmasked (dense) layer. */
  mask?: Float32Array;
  active: number;
  std: number;
}

export interface InitSpec {
  shapes: LayerShape[];
  /** Active count per layer; undefined = dense (no mask). With `global` scope only their sum counts. */
  activeCounts?: number[] | undefined;
  /** Fan-in of the dense twin's layers (for 'dense-fan-in'); defaults to the layer's own fan-in. */
  denseFanIns?: number[];
  /**
   * 'none' = dense. 'random' / 'magnitude' are drawn here; 'scored' takes `masks` (a criterion's,
   * computed from the same kernels by src/engine/pruning).
   */
  method: 'none' | 'random' | 'magnitude' | 'scored' | 'gmp';
  /**
   * For method 'gmp': the counts at the start of training (the largest |w| are kept, per layer or
   * globally); `activeCounts` stay the final (SC-SDC) counts, which set the init std as always,
   * except with init 'sparse-fan-in', whose std is that of the initial counts.
   */
  initialCounts?: number[];
  /** How counts apply (default layerwise): per layer, or one ranking / draw over all layers. */
  scope?: PruningScope;
  /** For method 'scored': the masks, [fanIn, fanOut] row-major per layer. */
  masks?: Float32Array[];
  init: InitMode;
  gain: number;
  rng: Rng;
}

/** The full (unpruned) initial kernels and their stds, from the spec's 'init' stream. */
export function drawKernels(spec: InitSpec, initRng: Rng = spec.rng.fork('init')): { kernels: Float32Array[]; stds: number[] } {
  const dense = spec.method === 'none' || spec.activeCounts === undefined;
  const stds: number[] = [];
  const kernels = spec.shapes.map((shape, l) => {
    const n = shape.fanIn * shape.fanOut;
    // The std follows the layer's NOMINAL (SC-SDC) count, also with global scope, so the kernels
    // a criterion ranks are the same draw whatever the scope. gmp with 'sparse-fan-in' is the
    // exception: its layer starts training with its initial count (dense by default), and that is
    // the fan-in its units sum over until pruning begins.
    const k = spec.method === 'gmp' && spec.init === 'sparse-fan-in' && spec.initialCounts ? at(spec.initialCounts, l) : spec.activeCounts ? at(spec.activeCounts, l) : n;
    const denseFanIn = spec.denseFanIns ? at(spec.denseFanIns, l) : shape.fanIn;
    const std = initStd(spec.gain, dense ? 'dense-fan-in' : spec.init, denseFanIn, k, shape.fanOut);
    stds.push(std);
    return normalKernel(n, std, initRng);
  });
  return { kernels, stds };
}

/** Exactly k of all positions of several layers (concatenated in layer order), uniformly. */
function randomGlobalMasks(sizes: number[], k: number, rng: Rng): Float32Array[] {
  const all = randomMask(sizes.reduce((a, b) => a + b, 0), k, rng);
  const out: Float32Array[] = [];
  let o = 0;
  for (const n of sizes) {
    out.push(all.slice(o, o + n));
    o += n;
  }
  return out;
}

/** Keep the k largest |w| over all layers; ties by position (layer order, then index). */
function magnitudeGlobalMasks(kernels: Float32Array[], k: number): Float32Array[] {
  const all = new Float32Array(kernels.reduce((a, w) => a + w.length, 0));
  let o = 0;
  for (const w of kernels) {
    all.set(w, o);
    o += w.length;
  }
  const m = magnitudeMask(all, k);
  const out: Float32Array[] = [];
  o = 0;
  for (const w of kernels) {
    out.push(m.slice(o, o + w.length));
    o += w.length;
  }
  return out;
}

/** Plans from kernels and masks: pruned entries set to +0 (not w·0, which gives −0 for negative w). */
export function plansFrom(shapes: LayerShape[], kernels: Float32Array[], stds: number[], masks?: Float32Array[]): LayerMaskPlan[] {
  return shapes.map((shape, l) => {
    const kernel = at(kernels, l);
    const n = shape.fanIn * shape.fanOut;
    const std = at(stds, l);
    if (!masks) return { shape, kernel, active: n, std };
    const mask = at(masks, l);
    for (let i = 0; i < n; i++) if (mask[i] === 0) kernel[i] = 0;
    return { shape, kernel, mask, active: countActive(mask), std };
  });
}

/**
 * Draw every kernel and its mask. The full sparse kernel is drawn from the same distribution as
 * the dense twin and then masked (method.md §2); magnitude pruning keeps the largest |w| of that
 * same initial kernel. The random draws per layer come from the 'mask' stream, layer by layer, so a
 * layerwise plan is the same as before scopes existed.
 */
export function planLayers(spec: InitSpec): LayerMaskPlan[] {
  return planLayersFull(spec).plans;
}

/** planLayers, also returning copies of the full (unpruned) kernels (for the collapse guard). */
export function planLayersFull(spec: InitSpec): { plans: LayerMaskPlan[]; full: Float32Array[] } {
  // Fork order matters (a fork draws from the parent): 'init' first, then 'mask', as always.
  const initRng = spec.rng.fork('init');
  const maskRng = spec.rng.fork('mask');
  const { kernels, stds } = drawKernels(spec, initRng);
  const counts = spec.activeCounts;
  const full = kernels.map((k) => Float32Array.from(k));
  if (spec.method === 'none' || counts === undefined) return { plans: plansFrom(spec.shapes, kernels, stds), full };
  const global = spec.scope === 'global';
  const total = counts.reduce((a, b) => a + b, 0);
  let masks: Float32Array[];
  switch (spec.method) {
    case 'random':
      masks = global
        ? randomGlobalMasks(spec.shapes.map((s) => s.fanIn * s.fanOut), total, maskRng)
        : spec.shapes.map((s, l) => randomMask(s.fanIn * s.fanOut, at(counts, l), maskRng));
      break;
    case 'magnitude':
      masks = global ? magnitudeGlobalMasks(kernels, total) : kernels.map((w, l) => magnitudeMask(w, at(counts, l)));
      break;
    case 'gmp': {
      const start = spec.initialCounts ?? spec.shapes.map((s) => s.fanIn * s.fanOut);
      masks = global ? magnitudeGlobalMasks(kernels, start.reduce((a, b) => a + b, 0)) : kernels.map((w, l) => magnitudeMask(w, at(start, l)));
      break;
    }
    case 'scored':
      if (!spec.masks || spec.masks.length !== spec.shapes.length) throw new Error('internal: a scored plan needs one mask per layer');
      masks = spec.masks;
      break;
  }
  return { plans: plansFrom(spec.shapes, kernels, stds, masks), full };
}

/**
 * SC-SDC for any layered net (conv nets: docs/conv-nets.md): the sparse net's layer l keeps exactly
 * the dense twin's weight count in that layer (c_in·c_out·k² of the twin for a conv kernel). The two
 * nets must have the same weight layers (same depth and topology); the twin's layer may not be
 * larger than the sparse one.
 */
export function twinActiveCounts(sparse: LayerShape[], twin: LayerShape[], names: string[] = []): number[] {
  if (sparse.length !== twin.length) throw new Error(`SC-SDC: the dense twin has ${twin.length} weight layers, the sparse net ${sparse.length}`);
  return sparse.map((s, l) => {
    const k = at(twin, l).fanIn * at(twin, l).fanOut;
    const n = s.fanIn * s.fanOut;
    if (k > n) throw new Error(`SC-SDC: layer ${names[l] ?? l} of the dense twin has ${k} weights, more than the sparse layer's ${n}`);
    return k;
  });
}
