/**
 * Sweep folders built by hand (sweep.json + run folders with run.json / summary.json), the
 * summaries the trainer would have sent, and small sweep rows, for the sweep view tests. Numbers
 * are chosen so every expected table value can be checked by eye.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NetRole } from '../../src/shared/experiment';
import type { NetSummary, RunSummary } from '../../src/shared/protocol';
import type { SweepRow } from '../../src/shared/webview-protocol';
import { wire } from './fixtures';

/** A pid no process has (above Linux's pid_max), so a summary-less run reads as killed, not running. */
export const DEAD_PID = 99_999_999;

export interface NetNumbers {
  acc: number | null;
  loss: number | null;
  egf1: number | null;
  egf2: number | null;
  /** Default 1 and 0.1. */
  g1?: number | null;
  g2?: number | null;
}

export function netSummary(net: NetRole, n: NetNumbers): NetSummary {
  // JSON has no NaN: a diverged metric is written as null, which is what a typed NaN becomes on disk.
  const v = (x: number | null): number => (x === null ? NaN : x);
  return {
    net,
    steps: 100,
    epochs: 1,
    final: {
      train: { loss: 0.5, accuracy: 0.8 },
      validation: { loss: 0.55, accuracy: 0.79 },
      test: { loss: v(n.loss), accuracy: v(n.acc) },
    },
    flowAverage: { egf1: v(n.egf1), egf2: v(n.egf2), g1: v(n.g1 === undefined ? 1 : n.g1), g2: v(n.g2 === undefined ? 0.1 : n.g2) },
    flowPoints: [],
    layers: [],
    msPerStep: 3,
  };
}

export function runSummary(
  runId: string,
  runDir: string,
  nets: Partial<Record<NetRole, NetNumbers>>,
  end: { finished: boolean; stopped: boolean; reason?: string } = { finished: true, stopped: false },
): RunSummary {
  return {
    runId,
    runDir,
    backend: 'cpu',
    finished: end.finished,
    stopped: end.stopped,
    ...(end.reason !== undefined ? { reason: end.reason } : {}),
    nets: (['sparse', 'dense'] as const).filter((k) => nets[k] !== undefined).map((k) => netSummary(k, nets[k] as NetNumbers)),
    alerts: [],
    startedAt: '2026-11-26T08:00:00.000Z',
    endedAt: '2026-11-26T08:01:00.000Z',
  };
}

/** What crosses a process boundary or a file: JSON (NaN → null); the same as fixtures.ts's. */
export { wire };

export interface RecordedRun {
  runId: string;
  configId: string;
  /** ISO start time: listRuns orders by it (newest first). */
  startedAt: string;
  /** Written as summary.json when given; without it the run reads as killed (dead pid). */
  summary?: (runDir: string) => RunSummary;
}

export function writeSweepFolder(
  dir: string,
  manifest: { name: string; sourceFile?: string; createdAt?: string; runs: Array<{ id: string; point: Record<string, unknown> }> },
  runs: readonly RecordedRun[],
): Map<string, RunSummary> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'sweep.json'), JSON.stringify({ createdAt: '2026-11-26T07:59:00.000Z', ...manifest }, null, 2));
  const summaries = new Map<string, RunSummary>();
  for (const r of runs) {
    const runDir = path.join(dir, r.runId);
    fs.mkdirSync(runDir);
    fs.writeFileSync(
      path.join(runDir, 'run.json'),
      JSON.stringify({ runId: r.runId, name: manifest.name, startedAt: r.startedAt, pid: DEAD_PID, configId: r.configId }),
    );
    fs.writeFileSync(path.join(runDir, 'config.json'), '{}');
    fs.writeFileSync(path.join(runDir, 'metrics.jsonl'), '');
    if (r.summary) {
      const s = wire(r.summary(runDir));
      fs.writeFileSync(path.join(runDir, 'summary.json'), JSON.stringify(s, null, 2));
      summaries.set(r.runId, s);
    }
  }
  return summaries;
}

/** A sweep row for the pure table tests. */
export function row(configId: string, point: SweepRow['point'], over: Partial<SweepRow> = {}): SweepRow {
  return { configId, point, status: 'finished', progress: null, runId: `run-${configId}`, sparse: null, dense: null, ...over };
}

export function result(acc: number | null, loss: number | null = 0.5, egf1: number | null = 1, egf2: number | null = 0.1, g1: number | null = 2, g2: number | null = 0.2): SweepRow['sparse'] {
  return { testAccuracy: acc, testLoss: loss, egf1, egf2, g1, g2 };
}

/**
 * opt, dense_width, seed, EGF_1, loss: the hand sweep of test/study/report/robust-correlation.test.ts
 * (Ψ of EGF_1 vs loss = −0.5), shared by the sweep view's Ψ tests.
 */
export const PSI_SWEEP: ReadonlyArray<[string, number, number, number, number]> = [
  ['sgd', 16, 0, 1.0, 0.9],
  ['sgd', 48, 0, 3.0, 0.5],
  ['adam', 16, 0, 1.1, 0.8],
  ['adam', 48, 0, 3.1, 0.4],
  ['sgd', 16, 1, 1.2, 0.85],
  ['sgd', 48, 1, 3.2, 0.45],
  ['adam', 16, 1, 1.3, 0.3],
  ['adam', 48, 1, 3.3, 0.6],
];
