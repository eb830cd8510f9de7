/**
 * Building conv nets and their SC-SDC pairs (docs/conv-nets.md):
 *  - the dense twin is the same architecture with every designed channel count mapped (scaled by ρ
 *    and rounded, or re-widened for a WRN), the same weight layers in the same order;
 *  - each masked layer of the sparse net keeps exactly the twin's weight count in that layer
 *    (masks.twinActiveCounts), drawn by the existing mask helpers (masks.planLayers: random with an
 *    exact count, magnitude of the initial kernel, or a criterion's masks);
 *  - both nets' active weights are He-normal with the dense twin's fan-in k²·c_in(twin).
 */
import type { InitMode, NetRole, PruningScope, SparseKernelMode } from '../../shared/experiment';
import type { KernelPath } from '../net';
import type { Rng } from '../../shared/rng';
import { heGain, planLayers, twinActiveCounts, type LayerMaskPlan, type LayerShape } from '../masks';
import { blueprint, layerShape, rewiden, scaleChannels, type Blueprint, type ChannelMap, type ConvNetSpec } from './arch';
import { ConvNet, type ConvNetOptions } from './convnet';
import { at } from '../../shared/checked';

/** How the dense twin is derived: every channel count × ρ (rounded), or a WRN's widen factor k_D. */
export type TwinRule = { density: number } | { denseWidenFactor: number };

export function twinChannelMap(spec: ConvNetSpec, rule: TwinRule): ChannelMap {
  if ('density' in rule) return scaleChannels(rule.density);
  if (spec.architecture !== 'wrn') throw new Error('dense_widen_factor applies to wrn nets only');
  const k = spec.widenFactor ?? (spec.block === 'bottleneck' ? 2 : 1);
  return rewiden(k, rule.denseWidenFactor);
}

export interface ConvPairPlan {
  sparse: Blueprint;
  dense: Blueprint;
  /** Active count per weight layer of the sparse net = the twin's weight count in that layer. */
  activeCounts: number[];
  /** Fan-in k²·c_in of the twin's layers (init std of both nets, method.md §2). */
  denseFanIns: number[];
}

/** The SC-SDC pair of a conv net: both blueprints and the sparse net's per-layer counts. */
export function scsdcConvPair(spec: ConvNetSpec, rule: TwinRule): ConvPairPlan {
  const sparse = blueprint(spec);
  const dense = blueprint(spec, twinChannelMap(spec, rule));
  const sShapes = sparse.layers.map(layerShape);
  const dShapes: LayerShape[] = dense.layers.map(layerShape);
  dense.layers.forEach((d, l) => {
    if (d.name !== at(sparse.layers, l).name) throw new Error(`internal: twin layer ${l} is ${d.name}, sparse ${at(sparse.layers, l).name}`);
  });
  const activeCounts = twinActiveCounts(sShapes, dShapes, sparse.layers.map((d) => d.name));
  return { sparse, dense, activeCounts, denseFanIns: dShapes.map((s) => s.fanIn) };
}

export interface BuildConvNetOptions {
  role: NetRole;
  blueprint: Blueprint;
  /** 'none' = dense (no masks). */
  method: 'none' | 'random' | 'magnitude' | 'scored';
  /** Active counts per layer (required unless method is 'none'). */
  activeCounts?: number[];
  /** Dense twin's fan-ins (default: the layers' own). */
  denseFanIns?: number[];
  /** For method 'scored': one [fanIn, fanOut] mask per layer. */
  masks?: Float32Array[];
  scope?: PruningScope;
  init: InitMode;
  rng: Rng;
  bnEpsilon?: number;
  bnMomentum?: number;
  forward?: ConvNetOptions['forward'];
  filterGrad?: ConvNetOptions['filterGrad'];
  inputGrad?: ConvNetOptions['inputGrad'];
}

/** Draw the kernels (and masks) with masks.planLayers and build the net. */
export function buildConvNet(o: BuildConvNetOptions): ConvNet {
  const shapes = o.blueprint.layers.map(layerShape);
  if (o.method !== 'none' && !o.activeCounts) throw new Error(`internal: method ${o.method} needs active counts`);
  const plans = planLayers({
    shapes,
    ...(o.method !== 'none' ? { activeCounts: o.activeCounts } : {}),
    ...(o.denseFanIns ? { denseFanIns: o.denseFanIns } : {}),
    method: o.method,
    ...(o.masks ? { masks: o.masks } : {}),
    ...(o.scope ? { scope: o.scope } : {}),
    init: o.init,
    gain: heGain(o.blueprint.spec.activation),
    rng: o.rng,
  });
  return new ConvNet({
    role: o.role,
    blueprint: o.blueprint,
    plans,
    ...(o.bnEpsilon !== undefined ? { bnEpsilon: o.bnEpsilon } : {}),
    ...(o.bnMomentum !== undefined ? { bnMomentum: o.bnMomentum } : {}),
    ...(o.forward ? { forward: o.forward } : {}),
    ...(o.filterGrad ? { filterGrad: o.filterGrad } : {}),
    ...(o.inputGrad ? { inputGrad: o.inputGrad } : {}),
  });
}

/**
 * `engine.sparse_kernels: auto` for conv layers: the densities below which the direct sparse
 * convolution is taken on the wasm backend, for stride-1 layers and for strided ones
 * (bench/sparse-conv.bench.ts `--part crossover`; src/engine/README.md "Sparse convolution"). The
 * crossover was above 1 while the masked-dense backward pass ran the wasm backend's plain-loop
 * kernels; 0.39–0.47 (simple CNN block-3 shape, 7×7×64 → 64) and 0.21 (WRN-like stride-2 layer,
 * 16×16×64 → 128) once its gradients were forward convolutions (one rule, 0.2); 0.87 and 0.68 once
 * the sparse kernels' packing became a blocked SIMD transpose; and, with the masked-dense path's
 * own WebAssembly conv kernels (Winograd for 3×3 stride 1, im2col products: nn/conv.ts), 0.27–0.32
 * and 0.12–0.15 (2026-12-07 07:58 UTC, 5 alternated samples, load 5.5 from other jobs). The
 * simple CNN's block 1 (density 0.25, one input channel) stays far on the kernel's side: 12.0
 * against 52.3 ms CPU per pass. So 0.25 at stride 1 and 0.1 for a strided layer.
 */
export const SPARSE_CONV_AUTO_MAX_DENSITY = 0.25;
export const SPARSE_CONV_AUTO_MAX_DENSITY_STRIDED = 0.1;

/**
 * Path of each weight layer of a conv net: 'sparse' (the direct sparse convolution) only for masked
 * conv layers; linear layers and unmasked layers (the dense twin) stay 'dense'. `on`: every masked
 * conv layer, on any backend (the kernel is our own WebAssembly module, independent of TF.js's
 * backend); `auto`: masked conv layers of density ≤ SPARSE_CONV_AUTO_MAX_DENSITY (stride 1) or
 * SPARSE_CONV_AUTO_MAX_DENSITY_STRIDED (stride > 1) on the wasm backend only (the crossover is
 * measured there; cpu and tensorflow keep masked-dense); `off`: none.
 */
export function convKernelPaths(plans: readonly LayerMaskPlan[], layers: readonly { kind: 'conv' | 'dense'; stride: number }[], mode: SparseKernelMode, backend: string): KernelPath[] {
  return plans.map((p, l) => {
    if (!p.mask || mode === 'off' || at(layers, l).kind !== 'conv') return 'dense';
    if (mode === 'on') return 'sparse';
    const max = at(layers, l).stride > 1 ? SPARSE_CONV_AUTO_MAX_DENSITY_STRIDED : SPARSE_CONV_AUTO_MAX_DENSITY;
    return backend === 'wasm' && p.active / (p.shape.fanIn * p.shape.fanOut) <= max ? 'sparse' : 'dense';
  });
}
