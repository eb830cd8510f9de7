/**
 * chart.js with only what the dashboard draws registered (tree-shaken: line charts on linear or
 * log axes, legend, tooltip). Animation is off and every update is `update('none')`: at four
 * updates per second an animation would never finish and only costs frames.
 */
import {
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type ChartOptions,
  type Plugin,
} from 'chart.js';
import { logFloor } from '../src/shared/format';
import { dropCrowdedLastTick } from '../src/shared/webview/ticks';
import type { Theme } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);

export interface XY {
  x: number;
  y: number | null;
  /** Log scale only: the value was ≤ 0 (a collapsed layer's norm) and is drawn at the axis floor. */
  floor?: boolean;
  /** More to say about this point in the tooltip (e.g. a mask update's dropped and grown counts). */
  note?: string;
}

/** Vertical lines across the plot area at these x values (events on the time axis: mask updates). */
export interface Markers {
  xs: readonly number[];
  color: string;
}

type LineData = XY[];

export interface SeriesSpec {
  /** Stable identity across updates: keeps a series' legend on/off state while data streams in. */
  key: string;
  label: string;
  color: string;
  /** SC-SDC pairs: the dense twin is dashed, the sparse net solid, on the same axes. */
  dashed: boolean;
  data: XY[];
  /** Epoch-level series are few points: show them. Step-level series: lines only. */
  points?: boolean;
  /** Markers only (e.g. the 11 EGF evaluation points). */
  markersOnly?: boolean;
}

export interface ChartSpec {
  xTitle: string;
  yTitle: string;
  /** Offer a log y axis (norms span orders of magnitude). */
  logCapable: boolean;
  /** Values are fractions 0..1 shown as percentages. */
  percent?: boolean;
  /** x is a count (epochs): no 1.5-epoch ticks. */
  integerX?: boolean;
}

export class LineChart {
  readonly chart: Chart<'line', LineData>;
  private readonly datasets = new Map<string, ChartDataset<'line', LineData>>();
  private raw = new Map<string, XY[]>();
  private log = false;
  /** Log scale with values ≤ 0: where they are drawn (the axis minimum). */
  private floor: number | null = null;
  /** Marker radius and style of each dataset when not at the floor. */
  private readonly points = new Map<string, { radius: number; style: 'rectRot' | 'circle' }>();
  private markers: Markers = { xs: [], color: '' };
  private legend = true;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly spec: ChartSpec,
    private theme: Theme,
  ) {
    // Drawn by this chart's own inline plugin (no annotation plugin to download; nothing remote).
    const markerPlugin: Plugin<'line'> = { id: 'gfMarkers', afterDatasetsDraw: (chart) => this.drawMarkers(chart) };
    this.chart = new Chart<'line', LineData>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: this.options(),
      plugins: [markerPlugin],
    });
  }

  /** Vertical dotted lines at these x values; drawn at the next `setSeries` / update. */
  setMarkers(markers: Markers): void {
    this.markers = markers;
  }

  private drawMarkers(chart: Chart<'line'>): void {
    const { xs, color } = this.markers;
    const x = chart.scales.x as (typeof chart.scales)[string] | undefined;
    if (xs.length === 0 || x === undefined) return;
    const { ctx, chartArea } = chart;
    ctx.save();
    ctx.strokeStyle = color;
    ctx.lineWidth = 1;
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    for (const v of xs) {
      const px = Math.round(x.getPixelForValue(v)) + 0.5;
      if (!(px >= chartArea.left && px <= chartArea.right)) continue;
      ctx.moveTo(px, chartArea.top);
      ctx.lineTo(px, chartArea.bottom);
    }
    ctx.stroke();
    ctx.restore();
  }

  setSeries(series: SeriesSpec[]): void {
    const next: ChartDataset<'line', LineData>[] = [];
    const keep = new Map<string, ChartDataset<'line', LineData>>();
    this.raw = new Map();
    for (const s of series) {
      const ds = this.datasets.get(s.key) ?? ({ data: [] } as unknown as ChartDataset<'line', LineData>);
      ds.label = s.label;
      ds.borderColor = s.color;
      ds.backgroundColor = s.color;
      ds.borderDash = s.dashed ? [6, 4] : [];
      ds.borderWidth = s.markersOnly ? 0 : 1.5;
      ds.showLine = !s.markersOnly;
      this.points.set(s.key, { radius: s.markersOnly ? 3.5 : s.points ? 2.5 : 0, style: s.dashed ? 'rectRot' : 'circle' });
      ds.pointHoverRadius = 4;
      ds.spanGaps = false; // a NaN is a gap: a divergence must not be bridged
      this.raw.set(s.key, s.data);
      keep.set(s.key, ds);
      next.push(ds);
    }
    const floor = this.log ? this.floorOf() : null;
    const floorChanged = floor !== this.floor;
    this.floor = floor;
    for (const [k, ds] of keep) this.fill(k, ds);
    // The axis minimum follows the floor; rebuilding options otherwise would cost every update.
    if (floorChanged) this.chart.options = this.options();
    this.datasets.clear();
    for (const [k, v] of keep) this.datasets.set(k, v);
    this.chart.data.datasets = next;
    this.chart.update('none');
    // The lines' names, readable without the canvas (its legend is drawn, and hidden for deep nets).
    this.canvas.dataset.series = series.map((s) => s.label).join('\n');
  }

  /** Shows or hides the legend (a chart of dozens of layers: the tooltip names the line instead). */
  setLegend(visible: boolean): void {
    if (visible === this.legend) return;
    this.legend = visible;
    this.chart.options = this.options();
    this.chart.update('none');
  }

  setLog(log: boolean): void {
    if (!this.spec.logCapable || log === this.log) return;
    this.log = log;
    this.floor = log ? this.floorOf() : null;
    for (const [k, ds] of this.datasets) this.fill(k, ds);
    this.chart.options = this.options();
    this.chart.update('none');
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.chart.options = this.options();
    this.chart.update('none');
  }

  /** PNG with the theme background painted in: a transparent PNG is unreadable in a paper or on a dark slide. */
  toPng(): string {
    const src = this.chart.canvas;
    const out = document.createElement('canvas');
    out.width = src.width;
    out.height = src.height;
    const ctx = out.getContext('2d');
    if (!ctx) return src.toDataURL('image/png');
    ctx.fillStyle = this.theme.background;
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(src, 0, 0);
    return out.toDataURL('image/png');
  }

  destroy(): void {
    this.chart.destroy();
  }

  /**
   * A log axis cannot place 0 or negatives. Dropping them would make a collapsed layer (norm 0)
   * vanish from the chart, so they are drawn at the axis floor (a decade below the smallest positive
   * value) and marked (`floor`: triangles, "0" in the tooltip). null (NaN) stays a gap.
   */
  private forScale(data: XY[]): XY[] {
    if (!this.log || this.floor === null) return data;
    const floor = this.floor;
    return data.map((p) => (p.y !== null && p.y <= 0 ? { x: p.x, y: floor, floor: true } : p));
  }

  /**
   * Data and markers of one dataset. Values at the log floor get triangles; per-point (scriptable)
   * options only for datasets that have such values, since they cost a call per point per draw.
   */
  private fill(key: string, ds: ChartDataset<'line', LineData>): void {
    const data = this.forScale(this.raw.get(key) ?? []);
    ds.data = data;
    const { radius, style } = this.points.get(key) ?? { radius: 0, style: 'circle' as const };
    if (data.some((p) => p.floor === true)) {
      ds.pointRadius = (c) => ((c.raw as XY | undefined)?.floor === true ? 4 : radius);
      ds.pointStyle = (c) => ((c.raw as XY | undefined)?.floor === true ? 'triangle' : style);
    } else {
      ds.pointRadius = radius;
      ds.pointStyle = style;
    }
  }

  /** The floor if some value needs it, else null (the axis then fits the data as before). */
  private floorOf(): number | null {
    let needed = false;
    const values: (number | null)[] = [];
    for (const data of this.raw.values()) {
      for (const p of data) {
        values.push(p.y);
        if (p.y !== null && p.y <= 0) needed = true;
      }
    }
    return needed ? logFloor(values) : null;
  }

  private options(): ChartOptions<'line'> {
    const t = this.theme;
    const font = { family: t.fontFamily, size: Math.max(10, t.fontSize - 2) };
    const percent = this.spec.percent === true;
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      color: t.foreground,
      font,
      scales: {
        x: {
          type: 'linear',
          // End the axis at the last step (the live edge is the right edge); start step axes at 0 so ticks stay round.
          bounds: 'data',
          ...(this.spec.integerX === true ? {} : { min: 0 }),
          title: { display: true, text: this.spec.xTitle, color: t.muted, font },
          // Steps and epochs are counts: never a 2.5 tick on a short run.
          ticks: { color: t.muted, font, maxRotation: 0, precision: 0 },
          afterBuildTicks: (axis) => {
            dropCrowdedLastTick(axis);
            // The step ticks as drawn, for a look from outside (the page tests read them).
            this.canvas.dataset.xTicks = axis.ticks.map((tk) => tk.value).join(' ');
          },
          grid: { color: t.grid },
          border: { color: t.grid },
        },
        y: {
          type: this.log ? 'logarithmic' : 'linear',
          title: { display: true, text: this.spec.yTitle + (this.log ? ' (log)' : ''), color: t.muted, font },
          ticks: {
            color: t.muted,
            font,
            callback: (v) => (percent ? `${Math.round(Number(v) * 100)}%` : this.log ? logTick(Number(v)) : formatTick(Number(v))),
          },
          grid: { color: t.grid },
          border: { color: t.grid },
          ...(percent ? { min: 0, max: 1 } : {}),
          ...(this.log && this.floor !== null ? { min: this.floor } : {}),
        },
      },
      plugins: {
        legend: {
          display: this.legend,
          labels: { color: t.foreground, font, boxWidth: 18, boxHeight: 2, usePointStyle: false },
        },
        tooltip: {
          callbacks: {
            label: (item) => {
              const raw = item.raw as XY;
              const y = raw.y;
              if (raw.floor === true) return `${item.dataset.label ?? ''}: 0 (collapsed; drawn at the axis floor)`;
              const val = y === null ? 'NaN' : percent ? `${(y * 100).toFixed(2)}%` : formatTick(y);
              return `${item.dataset.label ?? ''}: ${val}${raw.note !== undefined ? ` (${raw.note})` : ''}`;
            },
          },
        },
      },
    };
  }
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-2) return v.toExponential(0);
  return Number(v.toPrecision(3)).toString();
}

/** On a log axis chart.js places a tick at every 1..9 × 10^k; label only 1, 2 and 5 to stay legible. */
function logTick(v: number): string {
  if (!(v > 0)) return '';
  const m = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  return [1, 2, 5].some((k) => Math.abs(m - k) < 1e-6) ? formatTick(v) : '';
}
