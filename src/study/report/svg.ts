/**
 * Hand-written SVG line plots with error bars (no dependency): the width plots of the report.
 * Sparse and dense series are overlaid, shifted a few pixels apart so their error bars stay
 * readable when they overlap. Self-contained (inline attributes only, no CSS or fonts to load), so
 * the same text renders in a browser, in report.md viewers, and in headless chromium for the PNG.
 */
import { xmlText } from '../../shared/sanitize';
import type { Plot, PlotSeries } from './types';

export const SVG_WIDTH = 680;
export const SVG_HEIGHT = 420;
const MARGIN = { left: 78, right: 120, top: 44, bottom: 58 };
/** Characters per subtitle line at 11 px that fit the width (Helvetica averages ~0.55 em). */
const SUBTITLE_CHARS = 100;

/** Greedy wrap at ', ' and spaces; a single over-long word gets a line of its own. */
export function wrapText(s: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of s.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const STYLE: Record<PlotSeries['net'], { color: string; dash: string; offset: number }> = {
  sparse: { color: '#c0392b', dash: '', offset: -4 },
  dense: { color: '#1f5fa8', dash: '6 3', offset: 4 },
};

/** Titles, labels and notes in the SVG: shared/sanitize.ts `xmlText`. */
export function xmlEscape(s: string): string {
  return xmlText(s);
}

/** Round numbers for coordinates: 2 decimals keeps files small and diffs stable. */
function c(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Tick values covering [lo, hi] with a 1-2-5 step, about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function tickLabel(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/** Domain [lo, hi] padded by 6 % on each side (or ±1 / ±10 % for a single value). */
function pad(lo: number, hi: number): [number, number] {
  if (hi > lo) {
    const p = (hi - lo) * 0.06;
    return [lo - p, hi + p];
  }
  const p = lo === 0 ? 1 : Math.abs(lo) * 0.1;
  return [lo - p, hi + p];
}

export function renderSvg(plot: Plot): string {
  const subtitle = plot.subtitle ? wrapText(plot.subtitle, SUBTITLE_CHARS).slice(0, 3) : [];
  // The plot area shrinks by the subtitle lines so the SVG keeps one size (the PNG viewport).
  const M = { ...MARGIN, top: MARGIN.top + subtitle.length * 14 };
  const pts = plot.series.flatMap((s) => s.points);
  const xs = [...new Set(pts.map((p) => p.x))].sort((a, b) => a - b);
  const lows = pts.map((p) => (Number.isFinite(p.std) ? p.mean - p.std : p.mean));
  const highs = pts.map((p) => (Number.isFinite(p.std) ? p.mean + p.std : p.mean));
  const [x0, x1] = pad(Math.min(...xs), Math.max(...xs));
  const [y0, y1] = pad(Math.min(...lows), Math.max(...highs));
  const W = SVG_WIDTH - M.left - M.right;
  const H = SVG_HEIGHT - M.top - M.bottom;
  const sx = (x: number): number => M.left + ((x - x0) / (x1 - x0)) * W;
  const sy = (y: number): number => M.top + H - ((y - y0) / (y1 - y0)) * H;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SVG_WIDTH}" height="${SVG_HEIGHT}" viewBox="0 0 ${SVG_WIDTH} ${SVG_HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${xmlEscape(plot.title)}</title>`,
    `<rect x="0" y="0" width="${SVG_WIDTH}" height="${SVG_HEIGHT}" fill="#ffffff"/>`,
    `<text x="${c(SVG_WIDTH / 2)}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${xmlEscape(plot.title)}</text>`,
  );
  subtitle.forEach((line, i) => out.push(`<text x="${c(SVG_WIDTH / 2)}" y="${38 + i * 14}" text-anchor="middle" font-size="11" fill="#444444">${xmlEscape(line)}</text>`));

  // Grid and ticks. The x ticks are the width levels themselves when there are few (they are the design).
  const xTicks = xs.length <= 8 ? xs : niceTicks(x0, x1);
  const yTicks = niceTicks(y0, y1).filter((v) => v >= y0 && v <= y1);
  out.push('<g stroke="#e3e3e3" stroke-width="1">');
  for (const v of yTicks) out.push(`<line x1="${M.left}" y1="${c(sy(v))}" x2="${M.left + W}" y2="${c(sy(v))}"/>`);
  out.push('</g>');
  out.push('<g class="axes" stroke="#333333" stroke-width="1">');
  out.push(`<line x1="${M.left}" y1="${M.top + H}" x2="${M.left + W}" y2="${M.top + H}"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + H}"/>`);
  for (const v of xTicks) out.push(`<line x1="${c(sx(v))}" y1="${M.top + H}" x2="${c(sx(v))}" y2="${M.top + H + 5}"/>`);
  for (const v of yTicks) out.push(`<line x1="${M.left - 5}" y1="${c(sy(v))}" x2="${M.left}" y2="${c(sy(v))}"/>`);
  out.push('</g>');
  out.push('<g class="tick-labels" fill="#333333">');
  for (const v of xTicks) out.push(`<text x="${c(sx(v))}" y="${M.top + H + 19}" text-anchor="middle">${xmlEscape(tickLabel(v))}</text>`);
  for (const v of yTicks) out.push(`<text x="${M.left - 8}" y="${c(sy(v) + 4)}" text-anchor="end">${xmlEscape(tickLabel(v))}</text>`);
  out.push('</g>');
  out.push(`<text x="${c(M.left + W / 2)}" y="${SVG_HEIGHT - 14}" text-anchor="middle">${xmlEscape(plot.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${c(M.top + H / 2)}) rotate(-90)" text-anchor="middle">${xmlEscape(plot.yLabel)}</text>`);

  // Series: line through the means, error bars of ± std with caps, markers (circle sparse, square dense).
  for (const s of plot.series) {
    const st = STYLE[s.net];
    const ps = [...s.points].sort((a, b) => a.x - b.x);
    out.push(`<g class="series" data-series="${xmlEscape(s.name)}" stroke="${st.color}" fill="${st.color}">`);
    if (ps.length > 1) {
      const d = ps.map((p, i) => `${i === 0 ? 'M' : 'L'}${c(sx(p.x) + st.offset)} ${c(sy(p.mean))}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke-width="2"${st.dash ? ` stroke-dasharray="${st.dash}"` : ''}/>`);
    }
    for (const p of ps) {
      const x = sx(p.x) + st.offset;
      if (Number.isFinite(p.std) && p.std > 0) {
        const yl = sy(p.mean - p.std);
        const yh = sy(p.mean + p.std);
        out.push(`<line x1="${c(x)}" y1="${c(yl)}" x2="${c(x)}" y2="${c(yh)}" stroke-width="1.2"/>`);
        out.push(`<line x1="${c(x - 4)}" y1="${c(yl)}" x2="${c(x + 4)}" y2="${c(yl)}" stroke-width="1.2"/>`);
        out.push(`<line x1="${c(x - 4)}" y1="${c(yh)}" x2="${c(x + 4)}" y2="${c(yh)}" stroke-width="1.2"/>`);
      }
      const tip = `${s.name} h_D=${p.x}: mean ${tickLabel(p.mean)}${Number.isFinite(p.std) ? ` ± ${tickLabel(p.std)}` : ''}, min ${tickLabel(p.min)}, max ${tickLabel(p.max)}, n=${p.n}`;
      const marker =
        s.net === 'sparse'
          ? `<circle cx="${c(x)}" cy="${c(sy(p.mean))}" r="4">`
          : `<rect x="${c(x - 3.5)}" y="${c(sy(p.mean) - 3.5)}" width="7" height="7">`;
      out.push(`${marker}<title>${xmlEscape(tip)}</title>${s.net === 'sparse' ? '</circle>' : '</rect>'}`);
    }
    out.push('</g>');
  }

  // Legend, right of the plot area.
  const lx = M.left + W + 16;
  out.push('<g class="legend">');
  plot.series.forEach((s, i) => {
    const st = STYLE[s.net];
    const y = M.top + 12 + i * 22;
    out.push(`<line x1="${lx}" y1="${y}" x2="${lx + 26}" y2="${y}" stroke="${st.color}" stroke-width="2"${st.dash ? ` stroke-dasharray="${st.dash}"` : ''}/>`);
    out.push(
      s.net === 'sparse'
        ? `<circle cx="${lx + 13}" cy="${y}" r="4" fill="${st.color}"/>`
        : `<rect x="${lx + 9.5}" y="${y - 3.5}" width="7" height="7" fill="${st.color}"/>`,
    );
    out.push(`<text x="${lx + 32}" y="${y + 4}">${xmlEscape(s.name)}</text>`);
  });
  out.push(`<text x="${lx}" y="${M.top + 12 + plot.series.length * 22 + 4}" fill="#666666" font-size="10">bars: ± 1 sd</text>`);
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}
