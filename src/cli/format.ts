/** Pure text formatting for the CLI: progress line and summary tables. */
import type { NetSummary, RunSummary } from '../shared/protocol';
import { metricText } from '../runs/status';
import { everyNth } from '../shared/format';
import { at } from '../shared/checked';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  const ss = String(r).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Compact number: 4 significant digits, exponent for very small or large magnitudes; null (JSON's NaN) is "NaN", a missing value "—". */
export function num(x: number | null | undefined, digits = 4): string {
  return metricText(x, digits);
}

export const metricCell = num;

export function pct(x: number | null): string {
  if (x === null) return 'n/a';
  return Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : 'n/a';
}

export interface ProgressState {
  step: number;
  totalSteps: number;
  epoch: number;
  epochs: number;
  stepsPerSecond: number;
  /**
   * Latest loss and EGF_2 per net; absent until the net's first step (or first measured norms)
   * arrives, and shown as "—" then: a NaN here is a real NaN of the run.
   */
  nets: Array<{ net: string; loss?: number; egf2?: number }>;
}

export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.floor(f * width);
  const partials = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
  const rem = Math.floor((f * width - full) * 8);
  const head = full < width ? at(partials, rem) : '';
  return '█'.repeat(full) + head + ' '.repeat(Math.max(0, width - full - (head ? 1 : 0)));
}

export function progressLine(p: ProgressState, columns = 100): string {
  const frac = p.totalSteps > 0 ? p.step / p.totalSteps : 0;
  const eta = p.stepsPerSecond > 0 ? (p.totalSteps - p.step) / p.stepsPerSecond : NaN;
  const shown = (v: number | undefined): string => (v === undefined ? '—' : num(v, 3));
  const nets = p.nets.map((n) => `${n.net} loss ${shown(n.loss)} EGF₂ ${shown(n.egf2)}`).join(' │ ');
  const head = `${String(Math.round(frac * 100)).padStart(3)}% step ${p.step}/${p.totalSteps} ep ${Math.min(p.epoch + 1, p.epochs)}/${p.epochs} ${p.stepsPerSecond.toFixed(1)} st/s ETA ${formatDuration(eta)}`;
  const text = `${head} │ ${nets}`;
  const barWidth = Math.max(10, Math.min(30, columns - text.length - 4));
  const line = `|${bar(frac, barWidth)}| ${text}`;
  return line.length > columns ? line.slice(0, columns - 1) + '…' : line;
}

/** Left-aligned first column, right-aligned others; box-drawing rule under the header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(at(widths, i)) : c.padStart(at(widths, i)))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

/** Sparse and dense side by side (or one column for a single net). */
export function summaryTable(summary: RunSummary): string {
  const nets = summary.nets;
  if (nets.length === 0) return '(no network finished an epoch)';
  const header = ['', ...nets.map((n) => n.net)];
  const row = (label: string, f: (n: NetSummary) => string): string[] => [label, ...nets.map(f)];
  const rows: string[][] = [
    row('test accuracy', (n) => pct(n.final.test.accuracy)),
    row('test loss', (n) => num(n.final.test.loss)),
    row('validation accuracy', (n) => pct(n.final.validation.accuracy)),
    row('train loss', (n) => num(n.final.train.loss)),
    row('EGF_1 (11-pt avg)', (n) => num(n.flowAverage.egf1)),
    row('EGF_2 (11-pt avg)', (n) => num(n.flowAverage.egf2)),
    row('||g||_1 (11-pt avg)', (n) => num(n.flowAverage.g1)),
    row('||g||_2 (11-pt avg)', (n) => num(n.flowAverage.g2)),
    row('epochs / steps', (n) => `${n.epochs} / ${n.steps}`),
    row('diverged', (n) => (n.diverged ? `at step ${n.diverged.step}` : 'no')),
    row('ms per step', (n) => num(n.msPerStep, 3)),
    // engine.raw_l1_every / raw_l2_every: which steps carried ||g||_1 / ||g||_2 (the flow points always do).
    row('raw norms (L1 / L2) on', (n) => (n.rawEvery ? (n.rawEvery.l1 === n.rawEvery.l2 ? everyNth(n.rawEvery.l1) : `${everyNth(n.rawEvery.l1)} / ${everyNth(n.rawEvery.l2)}`) : '')),
    row('active weights', (n) => String(n.layers.reduce((s, l) => s + l.active, 0))),
    // engine.sparse_kernels: parameters + index + optimizer state the net holds (NetSummary.memoryBytes).
    row('memory (params+index+optimizer)', (n) => {
      const m = n.memoryBytes;
      if (!m) return '';
      const b = m.parameters + m.index + m.optimizer;
      return b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`;
    }),
  ];
  const depth = Math.max(...nets.map((n) => n.layers.length));
  for (let i = 0; i < depth; i++) {
    const name = nets.map((n) => n.layers[i]).find((l) => l !== undefined)?.name ?? `layer ${i}`;
    rows.push(
      row(`  ${name} active (density)`, (n) => {
        const l = n.layers[i];
        return l ? `${l.active} (${l.density < 1 ? l.density.toPrecision(3) : '1'})${l.path === 'sparse' ? ' sparse path' : ''}` : '';
      }),
    );
  }
  return table(header, rows);
}
