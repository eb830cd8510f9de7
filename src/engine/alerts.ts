/**
 * Alert rules over per-step numbers. Pure (no TF.js, no I/O) so they can be tested on hand-made
 * sequences. Each distinct alert is raised once per (net, kind, layer).
 *
 * Observations are the steps on which norms were collected (monitoring.every): `window` and
 * `steps` count observations, which equal steps when every = 1.
 */
import type { CollapseRule, ExplosionRule, NetRole } from '../shared/experiment';
import { encodeNumber, type Alert, type AlertKind, type LayerInfo, type LayerStep } from '../shared/protocol';
import type { PathReport } from './masks';
import { at } from '../shared/checked';

export interface AlertRules {
  explosion: ExplosionRule;
  collapse: CollapseRule;
}

/** Largest growth ratio x[t]/x[t−window] at the end of a series, or undefined if too short / base 0. */
export function growthRatio(series: readonly number[], window: number): number | undefined {
  if (window < 1 || series.length <= window) return undefined;
  const cur = at(series, series.length - 1);
  const base = at(series, series.length - 1 - window);
  if (!(base > 0)) return undefined;
  return cur / base;
}

/** Median of the finite values, or undefined when there are none. */
export function median(values: readonly number[]): number | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (at(v, mid - 1) + at(v, mid)) / 2;
}

/**
 * Does the newest value explode? Explosion needs growth AND a high level:
 * - growth: the norm rose over the window (a falling norm is never an explosion), by more than
 *   `growthFactor` unless the level is above `maxNorm` already;
 * - level: above `maxNorm` (absolute: `why: 'max'`), or more than `growthFactor` × the run's own
 *   early norm of this layer (`early`, the median of its first observations: `why: 'growth'`).
 * So a collapsing layer whose norm falls 6.7e-3 → 3.2e-6 → 6.2e-7 raises nothing, nor does a tiny
 * norm that jitters back up by 100× while still far below where the run started.
 */
export function explosionReason(
  series: readonly number[],
  rule: ExplosionRule,
  early?: number,
): { value: number; why: 'max' | 'growth' } | undefined {
  if (series.length === 0) return undefined;
  const cur = at(series, series.length - 1);
  if (!Number.isFinite(cur)) return undefined; // NaN/Inf is the `nan` alert's business
  const g = growthRatio(series, rule.window);
  // Too short to see growth: only an absolute level counts, as long as it is not falling.
  const previous = series.length > 1 ? series[series.length - 2] : undefined;
  const rising = g !== undefined ? g > 1 : previous === undefined || cur > previous;
  if (!rising) return undefined;
  if (cur > rule.maxNorm) return { value: cur, why: 'max' };
  if (g !== undefined && g > rule.growthFactor && early !== undefined && early > 0 && cur > rule.growthFactor * early) return { value: cur, why: 'growth' };
  return undefined;
}

/** Length of the run of values below minNorm at the end of the series. */
export function lowRunLength(series: readonly number[], minNorm: number): number {
  let n = 0;
  for (let i = series.length - 1; i >= 0 && at(series, i) < minNorm; i--) n++;
  return n;
}

export function isCollapsed(series: readonly number[], rule: CollapseRule): boolean {
  return rule.steps > 0 && lowRunLength(series, rule.minNorm) >= rule.steps;
}

/** Per-net stateful tracker: keeps short histories and the set of alerts already raised. */
export class AlertTracker {
  private readonly raised = new Set<string>();
  private readonly history: number[][];
  /** Each layer's first observations (finite ones): its early norm is their median. */
  private readonly early: number[][];
  private readonly keep: number;

  constructor(
    readonly net: NetRole,
    readonly rules: AlertRules,
    readonly layerNames: string[],
  ) {
    this.history = layerNames.map(() => []);
    this.early = layerNames.map(() => []);
    this.keep = Math.max(rules.explosion.window + 1, rules.collapse.steps, 1);
  }

  /** True the first time (kind, layer) is seen; later calls return false. */
  once(kind: AlertKind, layer: number): boolean {
    const key = `${kind}:${layer}`;
    if (this.raised.has(key)) return false;
    this.raised.add(key);
    return true;
  }

  private name(layer: number): string {
    return layer < 0 ? 'network' : `layer ${layer} (${this.layerNames[layer] ?? '?'})`;
  }

  make(kind: AlertKind, step: number, layer: number, value: number, message: string, severity: Alert['severity']): Alert {
    return { net: this.net, kind, step, layer, value: encodeNumber(value), message, severity };
  }

  /** Explosion / collapse rules over the masked L2 norms of one observed step. */
  observe(step: number, layers: LayerStep[]): Alert[] {
    const out: Alert[] = [];
    layers.forEach((ls, l) => {
      const h = at(this.history, l);
      const early = at(this.early, l);
      // The early norm is taken before this observation joins it: a first-steps blow-up still counts.
      const reference = median(early);
      if (early.length < Math.max(1, this.rules.explosion.window) && Number.isFinite(ls.masked.l2)) early.push(ls.masked.l2);
      h.push(ls.masked.l2);
      if (h.length > this.keep) h.shift();
      const ex = explosionReason(h, this.rules.explosion, reference);
      if (ex && this.once('explosion', l)) {
        const msg =
          ex.why === 'max'
            ? `${this.net} net, step ${step}: masked gradient L2 of ${this.name(l)} is ${ex.value.toPrecision(4)} > max_norm ${this.rules.explosion.maxNorm}`
            : `${this.net} net, step ${step}: masked gradient L2 of ${this.name(l)} grew more than ${this.rules.explosion.growthFactor}× over ${this.rules.explosion.window} steps to ${ex.value.toPrecision(4)}, more than ${this.rules.explosion.growthFactor}× its early level ${(reference ?? 0).toPrecision(3)}`;
        out.push(this.make('explosion', step, l, ex.value, msg, 'warning'));
      }
      if (isCollapsed(h, this.rules.collapse) && this.once('collapse', l)) {
        out.push(
          this.make(
            'collapse',
            step,
            l,
            ls.masked.l2,
            `${this.net} net, step ${step}: masked gradient L2 of ${this.name(l)} below ${this.rules.collapse.minNorm} for ${this.rules.collapse.steps} steps (now ${ls.masked.l2.toPrecision(4)}): the layer has stopped learning`,
            'warning',
          ),
        );
      }
    });
    return out;
  }

  /** A non-finite loss (layer −1) or gradient. */
  nonFinite(step: number, where: 'loss' | 'other' | number, value: number): Alert | undefined {
    const layer = typeof where === 'number' ? where : -1;
    if (!this.once('nan', layer)) return undefined;
    const what =
      where === 'loss' ? 'the loss' : where === 'other' ? 'a bias / BatchNorm / activation-parameter gradient' : `the gradient of ${this.name(layer)}`;
    return this.make('nan', step, layer, value, `${this.net} net, step ${step}: ${what} is ${String(value)}`, 'error');
  }

  integrity(step: number, layer: number, value: number): Alert | undefined {
    if (!this.once('mask-integrity', layer)) return undefined;
    return this.make(
      'mask-integrity',
      step,
      layer,
      value,
      `${this.net} net, step ${step}: pruned weights of ${this.name(layer)} are no longer zero (Σ|w| over pruned = ${value}); masking is broken`,
      'error',
    );
  }
}

/** How the masks were chosen, for the wording of mask-time alerts. */
export interface MaskContext {
  method: string;
  /** 'global': the criterion chose the per-layer counts (a layer can be emptied). */
  scope: 'layerwise' | 'global';
}

/**
 * Mask-time checks (layer collapse "at mask", docs/pruning.md), for every pruning method:
 * - error: a layer with no active weight at all;
 * - error: no active path from the inputs through some layer (every unit cut off);
 * - warning: units of a layer with no active incoming weight (not repaired, method.md §2);
 * - warning: hidden units with no active outgoing weight (their activations reach nothing).
 * With a context, messages name the method and, for a global scope, say that the criterion chose
 * the layer's density.
 */
export function maskAlerts(net: NetRole, layers: LayerInfo[], paths: PathReport, context?: MaskContext): Alert[] {
  const out: Alert[] = [];
  const by = context ? ` (${context.method}, ${context.scope} scope${context.scope === 'global' ? ': the criterion chose this layer\'s density' : ''})` : '';
  const alert = (layer: number, value: number, message: string, severity: Alert['severity']): void => {
    out.push({ net, kind: 'collapse-at-mask', step: 0, layer, value, message, severity });
  };
  const empty = new Set<number>();
  layers.forEach((info, l) => {
    if (info.active === 0 && info.total > 0) {
      empty.add(l);
      alert(l, 0, `${net} net: layer ${l} (${info.name}) has no active weight${by}: the layer is collapsed, no signal or gradient passes its kernel`, 'error');
    }
  });
  if (paths.brokenLayer >= 0 && !empty.has(paths.brokenLayer)) {
    const l = paths.brokenLayer;
    alert(l, 0, `${net} net: no active path from the inputs through layer ${l} (${layers[l]?.name ?? '?'})${by}: every unit is cut off, the network cannot learn`, 'error');
  }
  layers.forEach((info, l) => {
    if (empty.has(l) || l === paths.brokenLayer) return;
    if (info.deadUnits > 0) {
      alert(l, info.deadUnits, `${net} net: ${info.deadUnits} of ${info.fanOut} units of layer ${l} (${info.name}) have no active incoming weight (density ${info.density.toFixed(4)})${by}`, 'warning');
    }
    const noOut = paths.noOutgoing[l] ?? 0;
    if (noOut > 0 && !empty.has(l + 1)) {
      alert(l, noOut, `${net} net: ${noOut} of ${info.fanOut} units of layer ${l} (${info.name}) have no active outgoing weight in layer ${l + 1} (${layers[l + 1]?.name ?? '?'}, density ${(layers[l + 1]?.density ?? 0).toFixed(4)})${by}: they reach nothing`, 'warning');
    }
  });
  return out;
}
