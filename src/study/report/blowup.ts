/**
 * Nets that failed numerically without producing NaN ("blown up"), named instead of averaged
 * (docs/study.md, "Blown-up nets"). A net is blown up when, at the end of its run,
 *
 * - its final test loss exceeds `LOSS_FACTOR`·ln K (K classes; ln K is the loss of a uniform guess),
 * - or an 11-point average of a gradient-flow measure (‖g‖₁, ‖g‖₂, EGF₁, EGF₂) exceeds `FLOW_BOUND`,
 * - or its test accuracy stays at chance (≤ 1/K + `CHANCE_MARGIN`) while its twin learns
 *   (≥ 1/K + `LEARNED_MARGIN`).
 *
 * A net with a non-finite loss, accuracy or measure (NaN/Inf: it diverged) is not "blown up" here:
 * the tables already leave those out; this rule catches the finite failures.
 */
import type { NetRole } from '../../shared/experiment';
import type { NetSummary } from '../../shared/protocol';
import { MEASURES } from './labels';
import type { SweepRow } from './types';

export const BLOWUP_RULE = {
  /** Test loss above this multiple of ln K (chance cross-entropy): 23.0 for K = 10. */
  lossFactor: 10,
  /** Any 11-point average flow measure above this. Healthy nets measure O(1)–O(10⁴). */
  flowBound: 1e8,
  /** "At chance": test accuracy ≤ 1/K + this. */
  chanceMargin: 0.05,
  /** "Its twin learns": the twin's test accuracy ≥ 1/K + this. */
  learnedMargin: 0.25,
} as const;

const CLASSES: Record<string, number> = { 'fashion-mnist': 10, mnist: 10, cifar10: 10, cifar100: 100 };

/** Number of classes K of a run's dataset. */
export function classCount(row: SweepRow): number {
  const ds = row.config.dataset as { name: string; synthetic?: { classes?: number } };
  if (ds.synthetic && typeof ds.synthetic.classes === 'number') return ds.synthetic.classes;
  return CLASSES[ds.name] ?? 10;
}

/** Why the `net` of `row` is blown up, or undefined when it is not (or absent, or non-finite). */
export function blownUpReason(row: SweepRow, net: NetRole): string | undefined {
  const n = row.nets[net];
  if (!n) return undefined;
  const k = classCount(row);
  const loss = n.final.test.loss;
  const acc = n.final.test.accuracy;
  const lossBound = BLOWUP_RULE.lossFactor * Math.log(k);
  if (Number.isFinite(loss) && loss > lossBound) return `test loss ${fmt(loss)} > ${fmt(lossBound)} (${BLOWUP_RULE.lossFactor}·ln ${k})`;
  for (const m of MEASURES) {
    const v = n.flowAverage[m.key];
    if (Number.isFinite(v) && v > BLOWUP_RULE.flowBound) return `${m.label} ${fmt(v)} > ${fmt(BLOWUP_RULE.flowBound)}`;
  }
  const twin: NetSummary | undefined = row.nets[net === 'sparse' ? 'dense' : 'sparse'];
  const chance = 1 / k;
  const twinAcc = twin?.final.test.accuracy ?? NaN;
  if (Number.isFinite(acc) && acc <= chance + BLOWUP_RULE.chanceMargin && Number.isFinite(twinAcc) && twinAcc >= chance + BLOWUP_RULE.learnedMargin) {
    return `test accuracy ${fmt(acc)} at chance (≤ ${fmt(chance + BLOWUP_RULE.chanceMargin)}) while its twin reached ${fmt(twinAcc)}`;
  }
  return undefined;
}

export interface BlownUpNet {
  row: SweepRow;
  net: NetRole;
  reason: string;
}

/** Every blown-up net of the rows, in row order (sparse before dense). */
export function blownUpNets(rows: readonly SweepRow[]): BlownUpNet[] {
  const out: BlownUpNet[] = [];
  for (const row of rows) {
    for (const net of ['sparse', 'dense'] as const) {
      const reason = blownUpReason(row, net);
      if (reason !== undefined) out.push({ row, net, reason });
    }
  }
  return out;
}

/** One note naming the blown-up nets (run id, net, reason), or undefined when there is none. */
export function blownUpNote(list: readonly BlownUpNet[], what: string): string | undefined {
  if (list.length === 0) return undefined;
  const shown = list.slice(0, 20).map((b) => `${b.row.runId} ${b.net} (${b.reason})`);
  return `${list.length} blown-up net${list.length === 1 ? '' : 's'} ${what}: ${shown.join('; ')}${list.length > 20 ? `; … (${list.length} in all)` : ''}.`;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}
