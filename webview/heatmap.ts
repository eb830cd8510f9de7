/**
 * Layer × step heatmap of the masked L2 gradient norm, drawn on a plain canvas (chart.js has no
 * matrix chart, and a plugin would be one more dependency in the bundle). This is the compact
 * per-layer view users ask for instead of walls of histograms: a collapsing layer shows as a dark
 * band, an exploding one as a bright band, a NaN as the error colour.
 *
 * Each column covers an equal range of steps and takes the bucket's maximum (the host's
 * decimation keeps every bucket's max, so no spike is lost); the colour is log10 of the norm,
 * scaled over the whole map, with a perceptual (viridis) ramp that reads on light and dark themes.
 */
import type { Points } from '../src/shared/webview-protocol';
import { fmtNum as fmtNorm } from './dom';
import type { Theme } from './theme';
import { at } from '../src/shared/checked';

export interface HeatmapRow {
  label: string;
  points: Points;
  /** The hover text's name when the label is shortened (a deep net's `block3.conv1` in group `group2`). */
  title?: string;
  /** A thin line above this row: the first row of a layer group, or of the second net. */
  groupStart?: boolean;
}

/** viridis at 9 stops: perceptually uniform and colour-blind safe. */
const VIRIDIS: [number, number, number][] = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

function ramp(t: number): string {
  const u = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - i;
  const a = at(VIRIDIS, i);
  const b = at(VIRIDIS, i + 1);
  const c = (k: number): number => Math.round(at(a, k) + (at(b, k) - at(a, k)) * f);
  return `rgb(${c(0)},${c(1)},${c(2)})`;
}

const FULL_ROW_H = 18;
/** Rows per map above which they are drawn closer (a 56-layer net: 56 × 13 px per net). */
const COMPACT_ROWS = 16;
const COMPACT_ROW_H = 13;
const TOP = 6;
const BOTTOM = 30;
/** Colour bar: gap before it, its width, gap before its labels. */
const BAR_GAP = 14;
const BAR_W = 10;
const BAR_TEXT_GAP = 3;
/** The colour bar is at most this tall (a tall map scrolls; its scale stays in view at the top). */
const MAX_BAR_H = 180;

/** Cell value: a log10 norm, -Infinity for an exact zero (collapse), NaN for a non-finite norm. */
type Cell = number | undefined;

export class Heatmap {
  private cells: Cell[][] = [];
  private rows: HeatmapRow[] = [];
  private geom = { left: 0, plotW: 0, cols: 0, xMin: 0, xMax: 0 };
  private lo = 0;
  private hi = 1;
  private rowH = FULL_ROW_H;

  constructor(readonly canvas: HTMLCanvasElement) {
    canvas.addEventListener('mousemove', (e) => this.hover(e));
  }

  draw(rows: HeatmapRow[], theme: Theme): void {
    this.rows = rows;
    const canvas = this.canvas;
    const ROW_H = rows.length > COMPACT_ROWS ? COMPACT_ROW_H : FULL_ROW_H;
    this.rowH = ROW_H;
    const cssW = Math.max(200, canvas.parentElement?.clientWidth ?? 600);
    const cssH = TOP + Math.max(1, rows.length) * ROW_H + BOTTOM;
    const dpr = window.devicePixelRatio || 1;
    // Sizing through the CSSOM, which the CSP allows (style attributes would be blocked).
    canvas.style.width = `${cssW}px`;
    canvas.style.height = `${cssH}px`;
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const font = `${rows.length > COMPACT_ROWS ? Math.max(10, theme.fontSize - 3) : Math.max(10, theme.fontSize - 2)}px ${theme.fontFamily}`;
    ctx.font = font;
    ctx.textBaseline = 'middle';

    let xMin = Infinity;
    let xMax = -Infinity;
    for (const r of rows) {
      if (r.points.x.length === 0) continue;
      xMin = Math.min(xMin, at(r.points.x, 0));
      xMax = Math.max(xMax, at(r.points.x, r.points.x.length - 1));
    }
    const labelW = rows.reduce((w, r) => Math.max(w, ctx.measureText(r.label).width), 0);
    const left = Math.ceil(labelW) + 10;
    // Room for the colour bar's labels: values of the whole map, whose bounds are not known before
    // binning. Reserve the widest a norm label can be (fmtNorm: "-1.23e+45"), so it is never clipped.
    const legendW = BAR_GAP + BAR_W + BAR_TEXT_GAP + Math.ceil(Math.max(ctx.measureText('-8.88e+88').width, ctx.measureText('-8.888').width)) + 4;
    const plotW = Math.max(10, cssW - left - legendW);
    if (!Number.isFinite(xMin)) {
      ctx.fillStyle = theme.muted;
      ctx.fillText('No per-layer norms yet.', left, TOP + ROW_H / 2);
      this.cells = [];
      return;
    }
    const cols = Math.max(1, Math.min(Math.floor(plotW), xMax - xMin + 1));
    const span = xMax - xMin + 1;
    this.geom = { left, plotW, cols, xMin, xMax };

    // Bin: max per column; non-finite wins (it is the event to see); exact zero is kept apart.
    this.cells = rows.map((r) => {
      const cells: Cell[] = new Array<Cell>(cols).fill(undefined);
      for (let i = 0; i < r.points.x.length; i++) {
        const c = Math.min(cols - 1, Math.floor(((at(r.points.x, i) - xMin) / span) * cols));
        const y = at(r.points.y, i);
        const v = y === null ? NaN : y > 0 ? Math.log10(y) : -Infinity;
        const prev = cells[c];
        if (prev === undefined || Number.isNaN(v) || (!Number.isNaN(prev) && v > prev)) cells[c] = v;
      }
      // Fewer points than columns (norms every N steps): hold each value until the next one.
      const firstX = r.points.x[0] ?? Infinity;
      for (let c = 1; c < cols; c++) if (cells[c] === undefined && xMin + (c * span) / cols >= firstX) cells[c] = cells[c - 1];
      return cells;
    });

    let lo = Infinity;
    let hi = -Infinity;
    for (const row of this.cells) for (const v of row) if (v !== undefined && Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (!Number.isFinite(lo)) {
      lo = -1;
      hi = 1;
    } else if (hi - lo < 1e-6) {
      lo -= 0.5;
      hi += 0.5;
    }
    this.lo = lo;
    this.hi = hi;

    const colW = plotW / cols;
    this.cells.forEach((row, ri) => {
      const y0 = TOP + ri * ROW_H;
      if (at(rows, ri).groupStart === true && ri > 0) {
        ctx.strokeStyle = theme.muted;
        ctx.beginPath();
        ctx.moveTo(4, y0 + 0.5);
        ctx.lineTo(left + plotW, y0 + 0.5);
        ctx.stroke();
      }
      ctx.fillStyle = theme.foreground;
      ctx.textAlign = 'right';
      ctx.fillText(at(rows, ri).label, left - 6, y0 + ROW_H / 2);
      row.forEach((v, c) => {
        if (v === undefined) return;
        ctx.fillStyle = Number.isNaN(v) ? theme.error : ramp(v === -Infinity ? 0 : (v - lo) / (hi - lo));
        // +0.6 px overlap hides hairline seams between columns at fractional widths.
        ctx.fillRect(left + c * colW, y0 + 1, colW + 0.6, ROW_H - 2);
      });
    });

    // Step axis.
    const axisY = TOP + rows.length * ROW_H + 4;
    ctx.strokeStyle = theme.grid;
    ctx.beginPath();
    ctx.moveTo(left, axisY);
    ctx.lineTo(left + plotW, axisY);
    ctx.stroke();
    ctx.fillStyle = theme.muted;
    ctx.textAlign = 'center';
    for (const t of niceTicks(xMin, xMax, 6)) {
      const x = left + ((t - xMin + 0.5) / span) * plotW;
      ctx.fillText(String(t), x, axisY + 10);
    }
    ctx.textAlign = 'right';
    ctx.fillText('step', left + plotW, axisY + 22);

    // Colour bar: log10 scale, top = high.
    const barX = left + plotW + BAR_GAP;
    const barH = Math.min(MAX_BAR_H, Math.max(ROW_H, rows.length * ROW_H - 2));
    for (let i = 0; i < barH; i++) {
      ctx.fillStyle = ramp(1 - i / Math.max(1, barH - 1));
      ctx.fillRect(barX, TOP + 1 + i, BAR_W, 1);
    }
    ctx.fillStyle = theme.muted;
    ctx.textAlign = 'left';
    ctx.fillText(fmtNorm(10 ** hi), barX + BAR_W + BAR_TEXT_GAP, TOP + 6);
    ctx.fillText(fmtNorm(10 ** lo), barX + BAR_W + BAR_TEXT_GAP, TOP + barH - 4);
  }

  /** The cell under the pointer as a native tooltip (no extra DOM, nothing for the CSP to block). */
  private hover(e: MouseEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const ri = Math.floor((y - TOP) / this.rowH);
    const { left, plotW, cols, xMin, xMax } = this.geom;
    const c = Math.floor(((x - left) / plotW) * cols);
    const cell = this.cells[ri]?.[c];
    if (ri < 0 || ri >= this.rows.length || c < 0 || c >= cols || cell === undefined) {
      this.canvas.title = '';
      return;
    }
    const span = xMax - xMin + 1;
    const s0 = Math.round(xMin + (c * span) / cols);
    const s1 = Math.max(s0, Math.round(xMin + ((c + 1) * span) / cols) - 1);
    const val = Number.isNaN(cell) ? 'NaN/Inf' : cell === -Infinity ? '0' : (10 ** cell).toExponential(3);
    this.canvas.title = `${at(this.rows, ri).title ?? at(this.rows, ri).label} · step ${s0 === s1 ? s0 : `${s0}–${s1}`} · max ‖g⊙m‖₂ = ${val}`;
  }

  /** The scale of the last draw (for tests and the caption). */
  scale(): { lo: number; hi: number } {
    return { lo: this.lo, hi: this.hi };
  }
}

/** Round step numbers (1, 2, 5 × 10^k spacing) for the axis. */
function niceTicks(min: number, max: number, count: number): number[] {
  const range = Math.max(1, max - min);
  const raw = range / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max; t += step) out.push(Math.max(1, Math.round(t)));
  return [...new Set(out)];
}
