/**
 * Architectures of the conv nets as plain data (no TF.js): the paper's simple CNN, WRN-d-k with
 * pre-activation basic blocks, and the bottleneck Wide ResNet-50-2. A Blueprint lists the weight
 * layers (conv and linear kernels, the ones that are masked and counted, method.md §2–3) and the
 * graph of operations between them; ConvNet (convnet.ts) builds tensors and passes from it.
 *
 * Channel counts go through a channel map so the SC-SDC dense twin (docs/conv-nets.md) has the SAME
 * topology as its sparse net: whether a block gets a 1×1 projection shortcut is decided on the
 * designed (unmapped) channel counts, then every count is mapped.
 */
import type { Activation } from '../../shared/experiment';
import type { LayerShape } from '../masks';
import { at } from '../../shared/checked';

export type ConvArchitecture = 'cnn' | 'wrn';
export type WrnBlock = 'basic' | 'bottleneck';

/** The paper's simple CNN channels (issue 19; "Keep the Gradients Flowing" talk). */
export const CNN_DEFAULT_CHANNELS: readonly number[] = [32, 64, 64, 128, 128];
/** Bottleneck block counts per group (torchvision's ResNet-50 / wide_resnet50_2). */
export const BOTTLENECK_BLOCKS: Readonly<Record<number, readonly number[]>> = { 50: [3, 4, 6, 3], 101: [3, 4, 23, 3] };

/**
 * What a conv net is (the typed spec the trainer maps an experiment file to). Fields that do not
 * apply to the architecture are ignored.
 */
export interface ConvNetSpec {
  architecture: ConvArchitecture;
  /** Input image shape [H, W, C] (NHWC without the batch). */
  input: [number, number, number];
  classes: number;
  activation: Activation;
  /** cnn: BatchNorm after each conv (conv bias off then). wrn: always on (part of the design). */
  batchNorm: boolean;
  /** cnn: channels per conv block (default CNN_DEFAULT_CHANNELS). */
  channels?: number[];
  /**
   * cnn: 2×2 max-pooling after block i. 'auto' (default) = after every block while the map is larger
   * than 1×1; an array gives one flag per block.
   */
  pool?: 'auto' | boolean[];
  /** cnn: residual connection around each conv block (1×1 projection where channels change). */
  skip?: boolean;
  /** wrn: depth d ((d − 4) % 6 == 0 for basic blocks; 50 or 101 for bottleneck). */
  depth?: number;
  /** wrn: widen factor k (basic default 1, bottleneck default 2 = wide_resnet50_2). */
  widenFactor?: number;
  /** wrn: block type (default basic). */
  block?: WrnBlock;
}

/** A conv or linear kernel: the unit of masking, counting and gradient flow. */
export interface WeightLayerDesc {
  name: string;
  kind: 'conv' | 'dense';
  /** Kernel size (1 for dense). */
  k: number;
  stride: number;
  pad: number;
  cin: number;
  cout: number;
  /** A bias vector (never masked or counted). */
  bias: boolean;
}

/** Kernel of a weight layer as a masks.ts LayerShape: [k·k·cIn, cOut] row-major = the [k, k, cIn, cOut] kernel flattened. */
export function layerShape(d: WeightLayerDesc): LayerShape {
  return { fanIn: d.k * d.k * d.cin, fanOut: d.cout };
}

export type BlueprintNode =
  | { op: 'conv'; layer: number }
  | { op: 'dense'; layer: number }
  | { op: 'bn'; name: string; channels: number }
  | { op: 'act'; name: string; channels: number }
  | { op: 'maxpool' }
  | { op: 'gap' }
  | ResidualNode;

/**
 * out = post(body(p) + shortcut(s)), p = pre(x), s = x ('input') or p ('pre'); an empty shortcut
 * is the identity. Covers the CNN's skip (pre = post = []), the pre-activation basic block
 * (pre = BN-act, projection from 'pre') and the bottleneck (post = act).
 */
export interface ResidualNode {
  op: 'residual';
  name: string;
  pre: BlueprintNode[];
  body: BlueprintNode[];
  shortcut: BlueprintNode[];
  from: 'input' | 'pre';
  post: BlueprintNode[];
}

export interface Blueprint {
  spec: ConvNetSpec;
  layers: WeightLayerDesc[];
  nodes: BlueprintNode[];
}

/** Role of a channel count for a channel map: the stem's output, or any other designed count. */
export type ChannelRole = 'stem' | 'body';
export type ChannelMap = (designed: number, role: ChannelRole) => number;

const identityMap: ChannelMap = (c) => c;

/** Every designed channel count scaled by ρ and rounded (at least 1): the SC-SDC dense twin. */
export function scaleChannels(rho: number): ChannelMap {
  if (!(rho > 0 && rho <= 1)) throw new Error(`channel scale ${rho} outside (0, 1]`);
  return (c) => Math.max(1, Math.round(c * rho));
}

/** WRN twin by widen factor (sparsity.dense_widen_factor): group widths 16·k_D·2^g, stem 16 unchanged. */
export function rewiden(k: number, kDense: number): ChannelMap {
  if (!(kDense > 0)) throw new Error(`dense widen factor ${kDense} must be > 0`);
  return (c, role) => (role === 'stem' ? c : Math.max(1, Math.round((c * kDense) / k)));
}

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${v}`);
  return v;
}

/** The architecture of `spec`, with every channel count passed through `map` (default: as designed). */
export function blueprint(spec: ConvNetSpec, map: ChannelMap = identityMap): Blueprint {
  const [h, w, c] = spec.input;
  positiveInt(h, 'input height');
  positiveInt(w, 'input width');
  positiveInt(c, 'input channels');
  positiveInt(spec.classes, 'classes');
  const layers: WeightLayerDesc[] = [];
  const add = (d: WeightLayerDesc): BlueprintNode => {
    layers.push(d);
    return { op: d.kind, layer: layers.length - 1 } as BlueprintNode;
  };
  const conv = (name: string, k: number, stride: number, cin: number, cout: number, bias = false): BlueprintNode =>
    add({ name, kind: 'conv', k, stride, pad: (k - 1) / 2, cin, cout, bias });
  const bn = (name: string, channels: number): BlueprintNode => ({ op: 'bn', name, channels });
  const act = (name: string, channels: number): BlueprintNode => ({ op: 'act', name, channels });
  const nodes: BlueprintNode[] = [];
  let last: number;
  if (spec.architecture === 'cnn') {
    const designed = spec.channels ?? [...CNN_DEFAULT_CHANNELS];
    if (designed.length === 0) throw new Error('cnn: channels must list at least one block');
    designed.forEach((ch, i) => positiveInt(ch, `cnn: channels[${i}]`));
    const pool = spec.pool ?? 'auto';
    if (Array.isArray(pool) && pool.length !== designed.length) throw new Error(`cnn: pool has ${pool.length} flags for ${designed.length} blocks`);
    let size: [number, number] = [h, w];
    let cinDesigned = c;
    let cin = c;
    designed.forEach((chD, i) => {
      const name = `block${i + 1}`;
      const ch = map(chD, i === 0 ? 'stem' : 'body');
      const body = [conv(`${name}.conv`, 3, 1, cin, ch, !spec.batchNorm)];
      if (spec.batchNorm) body.push(bn(`${name}.bn`, ch));
      body.push(act(`${name}.act`, ch));
      if (spec.skip) {
        const shortcut = cinDesigned === chD ? [] : [conv(`${name}.shortcut`, 1, 1, cin, ch)];
        nodes.push({ op: 'residual', name, pre: [], body, shortcut, from: 'input', post: [] });
      } else {
        nodes.push(...body);
      }
      const doPool = pool === 'auto' ? size[0] > 1 && size[1] > 1 : pool[i];
      if (doPool) {
        if (size[0] < 2 || size[1] < 2) throw new Error(`cnn: cannot pool after block ${i + 1}: the map is ${size[0]}×${size[1]}`);
        nodes.push({ op: 'maxpool' });
        size = [Math.floor(size[0] / 2), Math.floor(size[1] / 2)];
      }
      cin = ch;
      cinDesigned = chD;
    });
    last = cin;
  } else if (spec.architecture === 'wrn') {
    const depth = spec.depth ?? 16;
    const block = spec.block ?? 'basic';
    if (block === 'basic') {
      const k = positiveInt(spec.widenFactor ?? 1, 'wrn: widen_factor');
      if ((depth - 4) % 6 !== 0 || depth < 10) throw new Error(`wrn: depth ${depth} must satisfy (depth − 4) % 6 == 0 and be ≥ 10 (10, 16, 22, 28, 40, …)`);
      const n = (depth - 4) / 6;
      const stemD = 16;
      const stem = map(stemD, 'stem');
      nodes.push(conv('stem', 3, 1, c, stem));
      let cinD = stemD;
      let cin = stem;
      [1, 2, 2].forEach((stride0, g) => {
        const wD = 16 * k * 2 ** g;
        const wc = map(wD, 'body');
        for (let b = 0; b < n; b++) {
          const name = `group${g + 1}.block${b + 1}`;
          const stride = b === 0 ? stride0 : 1;
          const project = cinD !== wD || stride !== 1;
          const pre = [bn(`${name}.bn1`, cin), act(`${name}.act1`, cin)];
          const body = [conv(`${name}.conv1`, 3, stride, cin, wc), bn(`${name}.bn2`, wc), act(`${name}.act2`, wc), conv(`${name}.conv2`, 3, 1, wc, wc)];
          const shortcut = project ? [conv(`${name}.shortcut`, 1, stride, cin, wc)] : [];
          nodes.push({ op: 'residual', name, pre, body, shortcut, from: project ? 'pre' : 'input', post: [] });
          cinD = wD;
          cin = wc;
        }
      });
      nodes.push(bn('final.bn', cin), act('final.act', cin));
      last = cin;
    } else {
      const counts = BOTTLENECK_BLOCKS[depth];
      if (!counts) throw new Error(`wrn: a bottleneck net has depth 50 or 101, got ${depth}`);
      const k = positiveInt(spec.widenFactor ?? 2, 'wrn: widen_factor');
      const stemD = 64;
      const stem = map(stemD, 'stem');
      // 3×3 stride-1 stem and no max-pool: the usual adaptation of ImageNet ResNets to 32×32 inputs.
      nodes.push(conv('stem', 3, 1, c, stem), bn('stem.bn', stem), act('stem.act', stem));
      let cinD = stemD;
      let cin = stem;
      counts.forEach((nb, g) => {
        const planesD = 64 * 2 ** g;
        const widthD = planesD * k;
        const outD = planesD * 4;
        const width = map(widthD, 'body');
        const out = map(outD, 'body');
        for (let b = 0; b < nb; b++) {
          const name = `group${g + 1}.block${b + 1}`;
          const stride = b === 0 && g > 0 ? 2 : 1;
          const project = stride !== 1 || cinD !== outD;
          const body = [
            conv(`${name}.conv1`, 1, 1, cin, width),
            bn(`${name}.bn1`, width),
            act(`${name}.act1`, width),
            conv(`${name}.conv2`, 3, stride, width, width),
            bn(`${name}.bn2`, width),
            act(`${name}.act2`, width),
            conv(`${name}.conv3`, 1, 1, width, out),
            bn(`${name}.bn3`, out),
          ];
          const shortcut = project ? [conv(`${name}.shortcut`, 1, stride, cin, out), bn(`${name}.shortcut.bn`, out)] : [];
          nodes.push({ op: 'residual', name, pre: [], body, shortcut, from: 'input', post: [act(`${name}.act3`, out)] });
          cinD = outD;
          cin = out;
        }
      });
      last = cin;
    }
  } else {
    const never: never = spec.architecture;
    throw new Error(`unknown architecture ${String(never)}`);
  }
  nodes.push({ op: 'gap' });
  nodes.push(add({ name: 'fc', kind: 'dense', k: 1, stride: 1, pad: 0, cin: last, cout: spec.classes, bias: true }));
  return { spec, layers, nodes };
}

/** The spatial output size of every conv layer, [H, W] per weight layer (dense layers: [1, 1]). */
export function layerOutputSizes(bp: Blueprint): [number, number][] {
  const out: [number, number][] = bp.layers.map(() => [1, 1]);
  const run = (nodes: BlueprintNode[], size: [number, number]): [number, number] => {
    let s = size;
    for (const n of nodes) {
      if (n.op === 'conv') {
        const d = at(bp.layers, n.layer);
        s = [Math.floor((s[0] + 2 * d.pad - d.k) / d.stride) + 1, Math.floor((s[1] + 2 * d.pad - d.k) / d.stride) + 1];
        out[n.layer] = s;
      } else if (n.op === 'maxpool') {
        s = [Math.floor(s[0] / 2), Math.floor(s[1] / 2)];
      } else if (n.op === 'gap') {
        s = [1, 1];
      } else if (n.op === 'residual') {
        const p = run(n.pre, s);
        const b = run(n.body, p);
        run(n.shortcut, n.from === 'pre' ? p : s);
        s = run(n.post, b);
      }
    }
    return s;
  };
  run(bp.nodes, [bp.spec.input[0], bp.spec.input[1]]);
  return out;
}
