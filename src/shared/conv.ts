/**
 * The geometry of the conv architectures as the experiment file describes them (docs/experiment-file.md,
 * "Conv nets"): which blocks pool, the dense twin's channel counts under SC-SDC, and the shape of
 * every masked kernel (stem, convs, projections, classifier). Pure and shared: the config package
 * checks files and estimates memory with it; the engine builds the same layers.
 */
import type { DatasetName, ModelConfig, WrnBlock } from './experiment';
import { at } from './checked';

/** [height, width, channels] of the image datasets' examples; undefined for `synthetic` (its file says). */
export function imageShapeOf(name: DatasetName): [number, number, number] | undefined {
  switch (name) {
    case 'fashion-mnist':
    case 'mnist':
      return [28, 28, 1];
    case 'cifar10':
    case 'cifar100':
      return [32, 32, 3];
    case 'synthetic':
      return undefined;
  }
}

/** The model keys the conv geometry reads (a resolved `ModelConfig` is one). */
export type ConvModelSpec = Pick<ModelConfig, 'architecture' | 'channels' | 'depth' | 'widenFactor' | 'block' | 'skip'>;

/** A masked weight layer: kernel height × width × input channels × output channels (1 × 1 for a linear layer). */
export interface KernelShape {
  kind: 'conv' | 'linear';
  /** Kernel side (3 for 3×3 convs, 1 for 1×1 projections and the classifier). */
  k: number;
  cin: number;
  cout: number;
}

/** Weights of a kernel: k² · c_in · c_out. */
export function kernelWeights(s: KernelShape): number {
  return s.k * s.k * s.cin * s.cout;
}

/**
 * The dense twin's count for a designed channel count c at density ρ: round(c · ρ) (SC-SDC for conv
 * nets, docs/experiment-file.md). 0 means the density is too low for this layer (the config refuses it).
 */
export function scaledChannels(c: number, density: number): number {
  return Math.round(c * density);
}

export interface PoolPlan {
  /** Per block: does a 2×2 max-pool (stride 2, odd sides rounded down) end it. */
  pool: boolean[];
  /** Per block: the feature map [height, width] after the block (after its pooling). */
  maps: Array<[number, number]>;
  /** The first 1-based block that would pool a 1×1 map, or a block number beyond the blocks (an explicit list only). */
  problem?: { block: number; reason: 'map-1x1' | 'no-such-block' };
}

/**
 * Which blocks of a `cnn` pool, from `model.pool`. `auto`: every block whose map is larger than 1×1
 * in either side (28 → 14 → 7 → 3 → 1: blocks 1–4 pool, block 5 does not). A list: exactly the listed
 * 1-based blocks; a block that would pool a 1×1 map, or a number past the last block, is a problem.
 */
export function cnnPoolPlan(input: readonly [number, number], blocks: number, pool: 'auto' | readonly number[]): PoolPlan {
  let [h, w] = input;
  const out: PoolPlan = { pool: [], maps: [] };
  const listed = pool === 'auto' ? undefined : new Set(pool);
  if (listed) {
    const past = [...listed].filter((b) => b > blocks).sort((a, b) => a - b)[0];
    if (past !== undefined) out.problem = { block: past, reason: 'no-such-block' };
  }
  for (let b = 1; b <= blocks; b++) {
    const wants = listed ? listed.has(b) : h > 1 || w > 1;
    if (wants && h <= 1 && w <= 1 && out.problem === undefined) out.problem = { block: b, reason: 'map-1x1' };
    const pools = wants && (h > 1 || w > 1);
    if (pools) {
      h = Math.max(1, Math.floor(h / 2));
      w = Math.max(1, Math.floor(w / 2));
    }
    out.pool.push(pools);
    out.maps.push([h, w]);
  }
  return out;
}

/** The channel counts of a Wide ResNet, before any SC-SDC scaling. */
export interface WrnLayout {
  stem: number;
  /** Per group: blocks, stride of its first block, the 3×3 width, and the block's output channels. */
  groups: Array<{ blocks: number; stride: number; width: number; out: number }>;
  block: WrnBlock;
}

/** Blocks per group of the bottleneck Wide ResNets by depth (torchvision's wide_resnet50_2 / 101_2: 3-4-6-3, 3-4-23-3). */
export const BOTTLENECK_BLOCKS: Readonly<Record<number, readonly number[]>> = { 50: [3, 4, 6, 3], 101: [3, 4, 23, 3] };

/**
 * WRN-d-k with basic blocks: stem 16, three groups of (d − 4)/6 blocks at 16k, 32k, 64k, strides 1, 2,
 * 2. Bottleneck (depth 50 or 101): stem 64, groups 3-4-6-3 (3-4-23-3) with 3×3 width 64k·2^g and
 * outputs 256·2^g, strides 1, 2, 2, 2 (torchvision's wide_resnet50_2 / 101_2 for k = 2). Undefined for a depth the block
 * type cannot have.
 */
export function wrnLayout(depth: number, k: number, block: WrnBlock): WrnLayout | undefined {
  if (block === 'bottleneck') {
    const counts = Object.prototype.hasOwnProperty.call(BOTTLENECK_BLOCKS, depth) ? BOTTLENECK_BLOCKS[depth] : undefined;
    if (counts === undefined) return undefined;
    return {
      stem: 64,
      groups: counts.map((blocks, g) => ({ blocks, stride: g === 0 ? 1 : 2, width: 64 * k * 2 ** g, out: 256 * 2 ** g })),
      block,
    };
  }
  if (depth < 10 || (depth - 4) % 6 !== 0) return undefined;
  const n = (depth - 4) / 6;
  return { stem: 16, groups: [0, 1, 2].map((g) => ({ blocks: n, stride: g === 0 ? 1 : 2, width: 16 * k * 2 ** g, out: 16 * k * 2 ** g })), block };
}

/** Every channel count of a layout × ρ, rounded (the SC-SDC dense twin). */
export function scaleLayout(layout: WrnLayout, density: number): WrnLayout {
  return {
    stem: scaledChannels(layout.stem, density),
    groups: layout.groups.map((g) => ({ ...g, width: scaledChannels(g.width, density), out: scaledChannels(g.out, density) })),
    block: layout.block,
  };
}

/**
 * The masked kernels of a conv net in build order, for input channels `inC` and `classes` classes;
 * with `density` the dense twin's (every designed channel count × ρ, rounded). cnn: per block the
 * 3×3 conv, then (with `skip`, where the channel count changes) its 1×1 projection; the classifier.
 * wrn: the stem, per block its convs then its 1×1 projection shortcut where the shape changes; the
 * classifier. Undefined for an MLP or an impossible WRN depth.
 */
export function convKernelShapes(model: ConvModelSpec, inC: number, classes: number, density?: number): KernelShape[] | undefined {
  const scale = (c: number): number => (density === undefined ? c : scaledChannels(c, density));
  const out: KernelShape[] = [];
  // Whether a block has a projection is decided on the designed counts, so a twin has the sparse
  // net's topology (the same weight layers) even where rounding makes two of its counts equal.
  if (model.architecture === 'cnn') {
    let designedIn = inC;
    let cin = inC;
    for (const designed of model.channels ?? []) {
      const c = scale(designed);
      out.push({ kind: 'conv', k: 3, cin, cout: c });
      if (model.skip && designedIn !== designed) out.push({ kind: 'conv', k: 1, cin, cout: c });
      designedIn = designed;
      cin = c;
    }
    out.push({ kind: 'linear', k: 1, cin, cout: classes });
    return out;
  }
  if (model.architecture === 'wrn') {
    const base = wrnLayout(model.depth ?? 16, model.widenFactor ?? 4, model.block ?? 'basic');
    if (!base) return undefined;
    const layout = density === undefined ? base : scaleLayout(base, density);
    out.push({ kind: 'conv', k: 3, cin: inC, cout: layout.stem });
    let cin = layout.stem;
    let designedIn = base.stem;
    layout.groups.forEach((g, gi) => {
      const designedOut = at(base.groups, gi).out;
      for (let b = 0; b < g.blocks; b++) {
        const stride = b === 0 ? g.stride : 1;
        if (layout.block === 'basic') {
          out.push({ kind: 'conv', k: 3, cin, cout: g.width }, { kind: 'conv', k: 3, cin: g.width, cout: g.width });
        } else {
          out.push({ kind: 'conv', k: 1, cin, cout: g.width }, { kind: 'conv', k: 3, cin: g.width, cout: g.width }, { kind: 'conv', k: 1, cin: g.width, cout: g.out });
        }
        if (stride !== 1 || designedIn !== designedOut) out.push({ kind: 'conv', k: 1, cin, cout: g.out });
        cin = g.out;
        designedIn = designedOut;
      }
    });
    out.push({ kind: 'linear', k: 1, cin, cout: classes });
    return out;
  }
  return undefined;
}

/** The designed channel counts of a conv net (what ρ scales): cnn its `channels`; wrn stem, widths and outputs. */
export function designedChannels(model: { [K in keyof Omit<ConvModelSpec, 'skip'>]?: ConvModelSpec[K] | undefined }): number[] {
  if (model.architecture === 'cnn') return [...(model.channels ?? [])];
  if (model.architecture === 'wrn') {
    const layout = wrnLayout(model.depth ?? 16, model.widenFactor ?? 4, model.block ?? 'basic');
    if (!layout) return [];
    return [layout.stem, ...layout.groups.flatMap((g) => [g.width, g.out])];
  }
  return [];
}

/**
 * SC-SDC densities of a conv net's masked layers, in `convKernelShapes` order: each layer of the
 * sparse net keeps exactly its twin's weight count, so its density is twin weights / sparse weights
 * (ρ for the first conv and the classifier, about ρ² between convs). Undefined where the shapes are.
 */
export function convLayerDensities(model: ConvModelSpec, inC: number, classes: number, density: number): number[] | undefined {
  const sparse = convKernelShapes(model, inC, classes);
  const twin = convKernelShapes(model, inC, classes, density);
  if (!sparse || !twin || sparse.length !== twin.length) return undefined;
  return sparse.map((s, i) => kernelWeights(at(twin, i)) / kernelWeights(s));
}
