/** Helpers the run view's parts share: a run's series as chart series, layer names, last values. */
import type { NetRole } from '../src/shared/experiment';
import type { NetState, Points, RunState } from '../src/shared/webview-protocol';
import { layerGroups, type LayerGroup } from '../src/shared/webview/layer-groups';
import type { SeriesSpec, XY } from './charts';
import type { Theme } from './theme';
import { at } from '../src/shared/checked';

/** Builds each net's series; for a pair the dense twin is dashed and labelled. */
export function perNet(run: RunState, pair: boolean, f: (n: NetState, suffix: string, dashed: boolean) => SeriesSpec[]): SeriesSpec[] {
  return run.nets.flatMap((n) => f(n, pair ? ` · ${n.net}` : '', pair && n.net === 'dense'));
}

function toXY(p: Points): XY[] {
  const out: XY[] = new Array<XY>(p.x.length);
  for (let i = 0; i < p.x.length; i++) out[i] = { x: at(p.x, i), y: at(p.y, i) };
  return out;
}

export function line(key: string, label: string, color: string, dashed: boolean, p: Points): SeriesSpec {
  return { key, label, color, dashed, data: toXY(p) };
}

export function epochLine(
  key: string,
  label: string,
  color: string,
  dashed: boolean,
  n: NetState,
  pick: (e: NetState['epochs'][number]) => number | null,
): SeriesSpec {
  return { key, label, color, dashed, points: true, data: n.epochs.map((e) => ({ x: e.epoch, y: pick(e) })) };
}

export function layerName(run: RunState, net: NetRole, layer: number): string {
  if (layer < 0) return 'whole network';
  return run.setup?.nets.find((n) => n.net === net)?.layers[layer]?.name ?? `layer ${layer}`;
}

export function lastValue(p: Points | undefined): number | null | undefined {
  if (!p || p.y.length === 0) return undefined;
  return p.y[p.y.length - 1];
}

/** The layer groups of a run's nets (the first net's names: an SC-SDC pair's nets share them), or null. */
export function runLayerGroups(run: RunState): LayerGroup[] | null {
  const first = run.setup?.nets[0];
  return first ? layerGroups(first.layers.map((l) => l.name)) : null;
}

/** The group `wanted` if the run has it, else null (every layer). */
export function shownGroup(run: RunState, wanted: string): LayerGroup | null {
  if (wanted === '') return null;
  return runLayerGroups(run)?.find((g) => g.name === wanted) ?? null;
}

/** The indices of the layers a per-layer view shows: the chosen group's, or all `count`. */
export function shownLayers(run: RunState, wanted: string, count: number): number[] {
  const g = shownGroup(run, wanted);
  return g ? g.layers.filter((l) => l < count) : [...Array(count).keys()];
}

/** Colour `i` of `n` series: the theme's palette while it lasts, else `n` evenly spaced hues. */
export function seriesColor(theme: Theme, i: number, n: number): string {
  if (n <= theme.palette.length) return at(theme.palette, i % theme.palette.length);
  return `hsl(${Math.round((i * 360) / n)}, 65%, 60%)`;
}
