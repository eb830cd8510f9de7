/** Helpers the run view's parts share: a run's series as chart series, layer names, last values. */
import type { NetRole } from '../src/shared/experiment';
import type { NetState, Points, RunState } from '../src/shared/webview-protocol';
import type { SeriesSpec, XY } from './charts';

/** Builds each net's series; for a pair the dense twin is dashed and labelled. */
export function perNet(run: RunState, pair: boolean, f: (n: NetState, suffix: string, dashed: boolean) => SeriesSpec[]): SeriesSpec[] {
  return run.nets.flatMap((n) => f(n, pair ? ` · ${n.net}` : '', pair && n.net === 'dense'));
}

function toXY(p: Points): XY[] {
  const out: XY[] = new Array<XY>(p.x.length);
  for (let i = 0; i < p.x.length; i++) out[i] = { x: p.x[i], y: p.y[i] };
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
