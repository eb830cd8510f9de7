/**
 * The reducer shared by the page (its live model) and the host tests (replaying a snapshot equals
 * applying the incremental stream). Pure and DOM-free.
 */
import type { NetRole } from '../experiment';
import type { DashboardModel, HostToPage, NetState, Points, RunState, StepSeries, SweepModel } from './types';


export function emptyModel(): DashboardModel {
  return { runs: [], focusRunId: null, sweeps: [], focusSweepId: null };
}

export function findSweep(model: DashboardModel, sweepId: string): SweepModel | undefined {
  return model.sweeps?.find((s) => s.info.sweepId === sweepId);
}

export function emptySeries(): StepSeries {
  const p = (): Points => ({ x: [], y: [] });
  return { lastStep: 0, count: 0, loss: p(), accuracy: p(), egf1: p(), egf2: p(), g1: p(), g2: p(), layerL2: [], active: [] };
}

export function findRun(model: DashboardModel, runId: string): RunState | undefined {
  return model.runs.find((r) => r.meta.runId === runId);
}

function netOf(run: RunState, net: NetRole): NetState {
  let n = run.nets.find((s) => s.net === net);
  if (!n) {
    n = { net, series: emptySeries(), epochs: [], flowPoints: [], maskUpdates: [] };
    run.nets.push(n);
  }
  return n;
}

/**
 * Folds one notification into the model (mutating it; the page redraws from it) and returns the
 * model, which is a new object only for `init`. Notifications for unknown runs are dropped: the
 * host always sends `runAdded` first, so one arriving out of order means a stale message.
 */
export function applyNotification(model: DashboardModel, msg: HostToPage): DashboardModel {
  switch (msg.type) {
    case 'init':
      // An older host sends no sweep fields: normalise, so the rest of the page never sees them absent.
      return { ...msg.model, sweeps: msg.model.sweeps ?? [], focusSweepId: msg.model.focusSweepId ?? null };
    case 'sweepAdded': {
      const sweeps = (model.sweeps ??= []);
      const i = sweeps.findIndex((s) => s.info.sweepId === msg.sweep.info.sweepId);
      if (i >= 0) sweeps[i] = msg.sweep;
      else sweeps.push(msg.sweep);
      return model;
    }
    case 'sweepRow': {
      // A row of an unknown sweep or configuration is stale (the sweep was re-planned): drop it.
      const sweep = findSweep(model, msg.sweepId);
      const i = sweep ? sweep.rows.findIndex((r) => r.configId === msg.row.configId) : -1;
      if (sweep && i >= 0) sweep.rows[i] = msg.row;
      return model;
    }
    case 'sweepStatus': {
      const sweep = findSweep(model, msg.sweepId);
      if (sweep) {
        sweep.info.status = msg.status;
        if (msg.message !== undefined) sweep.info.message = msg.message;
      }
      return model;
    }
    case 'focusSweep':
      model.focusSweepId = msg.sweepId;
      return model;
    case 'runAdded': {
      const i = model.runs.findIndex((r) => r.meta.runId === msg.run.meta.runId);
      if (i >= 0) model.runs[i] = msg.run;
      else model.runs.push(msg.run);
      return model;
    }
    case 'runRemoved':
      model.runs = model.runs.filter((r) => r.meta.runId !== msg.runId);
      if (model.focusRunId === msg.runId) model.focusRunId = msg.replacedBy ?? null;
      return model;
    case 'focusRun':
      model.focusRunId = msg.runId;
      // Showing a run leaves the sweep view.
      model.focusSweepId = null;
      return model;
    default:
      break;
  }
  const run = findRun(model, msg.runId);
  if (!run) return model;
  switch (msg.type) {
    case 'runSetup':
      run.setup = msg.setup;
      for (const n of msg.setup.nets) netOf(run, n.net);
      break;
    case 'series':
      netOf(run, msg.net).series = msg.series;
      break;
    case 'epoch':
      netOf(run, msg.net).epochs.push(msg.point);
      break;
    case 'flowPoint':
      netOf(run, msg.net).flowPoints.push(msg.point);
      break;
    case 'maskUpdate':
      netOf(run, msg.net).maskUpdates.push(msg.update);
      break;
    case 'alert':
      // Index check makes a duplicated or reordered alert harmless instead of shifting every index.
      if (msg.index === run.alerts.length) run.alerts.push(msg.alert);
      break;
    case 'runStatus':
      run.meta.status = msg.status;
      if (msg.message !== undefined) run.meta.message = msg.message;
      // The host sends its whole current list, or none.
      if (msg.diverged !== undefined) run.meta.diverged = msg.diverged;
      else delete run.meta.diverged;
      if (msg.logTail !== undefined) run.meta.logTail = msg.logTail;
      else delete run.meta.logTail;
      break;
    default: {
      const never: never = msg;
      return never;
    }
  }
  return model;
}

/** Non-finite metrics travel as null (JSON has no NaN). */
export function toMetric(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
