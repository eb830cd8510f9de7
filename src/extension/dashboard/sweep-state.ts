/**
 * One sweep as the dashboard's sweep view shows it: a row per planned configuration, folded from
 * the sweep runner's events (live) or read from a sweep folder (past; `sweep-folder.ts`). Pure (no
 * `vscode`, no file system), so "events of a sweep" and "its folder afterwards" are tested to give
 * the same table.
 *
 * Only the host knows each row's run folder (`runDir`): the page asks for a row's run by
 * configuration id and the host loads it from there if it is not in memory.
 */
import type { NetSummary, RunSummary } from '../../shared/protocol';
import { sweepCsv } from '../../shared/sweep-table';
import type {
  PointValue,
  SweepInfo,
  SweepModel,
  SweepNetResult,
  SweepRow,
  SweepRowStatus,
  SweepStatus,
  SweepTableView,
} from '../../shared/webview-protocol';
import type { SweepEvent } from '../../runs/sweep';
import { SEED_AXIS } from '../../shared/sweep-table';
import type { RunStatus } from '../../runs/status';

/** A run status as a sweep row shows it (killed and corrupt runs are failures; a diverged run finished, with NaN results). */
export function rowStatusOf(status: RunStatus): SweepRowStatus {
  switch (status) {
    case 'starting':
    case 'running':
      return 'running';
    case 'finished':
    case 'diverged':
      return 'finished';
    case 'stopped':
      return 'stopped';
    case 'failed':
    case 'killed':
    case 'corrupt':
      return 'failed';
    default: {
      const never: never = status;
      return never;
    }
  }
}

/**
 * What the state folds: the sweep runner's events, plus `run` once a trainer has named its run
 * (the runner does not need it, the dashboard does: a running row opens its live run), and
 * `unstarted`: why a configuration that is still pending was never started (a cancelled sweep).
 */
export type SweepStateEvent = SweepEvent | { type: 'run'; id: string; runId: string; runDir: string } | { type: 'unstarted'; id: string; reason: string };

/** A planned configuration: sweep.json `runs[]`. */
export interface PlannedConfig {
  id: string;
  point: Record<string, unknown>;
}

export interface SweepStateInfo {
  /** The sweep folder's absolute path. */
  sweepId: string;
  name: string;
  sourceFile?: string;
  createdAt?: string;
  status: SweepStatus;
}

interface RowStore {
  row: SweepRow;
  /** Host-only: where the row's run is recorded. */
  runDir: string | null;
}

/** JSON values of the grid become what a table cell can hold; structured ones keep their JSON text. */
export function pointValue(v: unknown): PointValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  try {
    return JSON.stringify(v) ?? typeof v;
  } catch {
    return typeof v; // circular or a bigint inside: no JSON text
  }
}

/** Axes in first-seen order over the points (file order), the seed last. */
export function axesOf(points: readonly Record<string, unknown>[]): string[] {
  const keys: string[] = [];
  for (const p of points) for (const k of Object.keys(p)) if (!keys.includes(k)) keys.push(k);
  const seed = keys.indexOf(SEED_AXIS);
  if (seed >= 0) keys.push(...keys.splice(seed, 1));
  return keys;
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A net's final results from its summary; any missing or non-finite number becomes null. */
export function netResult(n: NetSummary | undefined): SweepNetResult | null {
  if (n === undefined) return null;
  return {
    testAccuracy: finiteOrNull(n.final?.test?.accuracy),
    testLoss: finiteOrNull(n.final?.test?.loss),
    egf1: finiteOrNull(n.flowAverage?.egf1),
    egf2: finiteOrNull(n.flowAverage?.egf2),
    g1: finiteOrNull(n.flowAverage?.g1),
    g2: finiteOrNull(n.flowAverage?.g2),
  };
}

/** The table's results of a run: only a finished run has final metrics worth comparing (as in the report). */
export function summaryResults(summary: RunSummary | undefined, status: SweepRowStatus): Pick<SweepRow, 'sparse' | 'dense'> {
  if (summary === undefined || status !== 'finished' || !Array.isArray(summary.nets)) return { sparse: null, dense: null };
  return {
    sparse: netResult(summary.nets.find((n) => n.net === 'sparse')),
    dense: netResult(summary.nets.find((n) => n.net === 'dense')),
  };
}

function copyRow(r: SweepRow): SweepRow {
  return {
    ...r,
    point: { ...r.point },
    sparse: r.sparse ? { ...r.sparse } : null,
    dense: r.dense ? { ...r.dense } : null,
  };
}

export class SweepState {
  private readonly rows = new Map<string, RowStore>();
  private readonly info: SweepInfo;

  constructor(info: SweepStateInfo, planned: readonly PlannedConfig[]) {
    this.info = {
      sweepId: info.sweepId,
      name: info.name,
      createdAt: info.createdAt ?? '',
      status: info.status,
      axes: axesOf(planned.map((p) => p.point)),
      ...(info.sourceFile !== undefined ? { sourceFile: info.sourceFile } : {}),
    };
    for (const p of planned) {
      if (this.rows.has(p.id)) continue; // the same configuration twice in a manifest: one row
      const point: Record<string, PointValue> = {};
      for (const [k, v] of Object.entries(p.point)) point[k] = pointValue(v);
      this.rows.set(p.id, {
        row: { configId: p.id, point, status: 'pending', progress: null, runId: null, sparse: null, dense: null },
        runDir: null,
      });
    }
  }

  get sweepId(): string {
    return this.info.sweepId;
  }

  get name(): string {
    return this.info.name;
  }

  get status(): SweepStatus {
    return this.info.status;
  }

  get axes(): string[] {
    return [...this.info.axes];
  }

  hasConfig(configId: string): boolean {
    return this.rows.has(configId);
  }

  configIds(): string[] {
    return [...this.rows.keys()];
  }

  /**
   * Sets what a folder says about one configuration's run (used by the loader). Returns false for
   * a configuration that is not planned.
   */
  setRecorded(configId: string, rec: { runId: string; runDir: string; status: SweepRowStatus; message?: string; summary?: RunSummary }): boolean {
    const store = this.rows.get(configId);
    if (!store) return false;
    const row: SweepRow = {
      configId,
      point: store.row.point,
      status: rec.status,
      progress: null,
      runId: rec.runId,
      ...summaryResults(rec.summary, rec.status),
    };
    if (rec.message !== undefined) row.message = rec.message;
    store.row = row;
    store.runDir = rec.runDir;
    return true;
  }

  /** Folds one event; returns the configuration ids whose row changed (none for an unknown id). */
  apply(e: SweepStateEvent): string[] {
    // The plan is the constructor's (counts are derived from the rows); log lines go to the host's log.
    if (e.type === 'plan' || e.type === 'log') return [];
    const store = this.rows.get(e.id);
    if (!store) return [];
    const r = store.row;
    switch (e.type) {
      case 'start':
        // A configuration that ran before (stopped, failed) starts over in a new folder.
        store.row = { configId: r.configId, point: r.point, status: 'running', progress: null, runId: null, sparse: null, dense: null };
        store.runDir = null;
        break;
      case 'run':
        r.runId = e.runId;
        store.runDir = e.runDir;
        if (r.status === 'pending') r.status = 'running';
        break;
      case 'progress': {
        if (r.status !== 'running' && r.status !== 'pending') return [];
        r.status = 'running';
        const p = e.totalSteps > 0 ? Math.min(1, Math.max(0, e.step / e.totalSteps)) : null;
        if (p === r.progress) return [];
        r.progress = p;
        break;
      }
      case 'slurm':
        // The sweep view shows each configuration's Slurm state while the array runs.
        if (r.status === 'pending' || r.status === 'running') {
          r.message = `Slurm ${e.state} (task ${e.task})`;
          if (e.state === 'RUNNING') r.status = 'running';
        }
        break;
      case 'unstarted':
        // Still pending (a later Run Sweep runs it); the row says why it did not start.
        if (r.status !== 'pending') return [];
        r.message = e.reason;
        break;
      case 'busy':
        // Another scheduler has it: it is theirs to run; the folder will show the result.
        if (r.status === 'running' || r.status === 'pending') {
          r.message = `claimed elsewhere: ${e.holder}`;
          r.status = 'pending';
        }
        break;
      case 'end': {
        const status = rowStatusOf(e.status);
        const row: SweepRow = {
          configId: r.configId,
          point: r.point,
          status,
          progress: null,
          runId: e.summary?.runId ?? r.runId,
          ...summaryResults(e.summary, status),
        };
        const diverged = e.summary?.nets.filter((n) => n.diverged !== undefined).map((n) => n.net) ?? [];
        const message = e.summary?.reason ?? e.error ?? (diverged.length > 0 ? `diverged (${diverged.join(', ')})` : undefined);
        if (message !== undefined) row.message = message;
        store.row = row;
        if (e.summary?.runDir !== undefined) store.runDir = e.summary.runDir;
        break;
      }
      default: {
        const never: never = e;
        return never;
      }
    }
    return [e.id];
  }

  setStatus(status: SweepStatus, message?: string): void {
    this.info.status = status;
    if (message !== undefined) this.info.message = message;
  }

  /** A fresh copy for the page. */
  model(): SweepModel {
    return { info: { ...this.info, axes: [...this.info.axes] }, rows: [...this.rows.values()].map((s) => copyRow(s.row)) };
  }

  row(configId: string): SweepRow | undefined {
    const s = this.rows.get(configId);
    return s ? copyRow(s.row) : undefined;
  }

  /** The run a row shows and where it is recorded, if it has started. */
  runOf(configId: string): { runId: string; runDir: string | null } | undefined {
    const s = this.rows.get(configId);
    return s && s.row.runId !== null ? { runId: s.row.runId, runDir: s.runDir } : undefined;
  }

  /** The table as the page shows it with `view`, as CSV. */
  csv(view: SweepTableView): string {
    return sweepCsv([...this.rows.values()].map((s) => s.row), this.info.axes, view);
  }
}
