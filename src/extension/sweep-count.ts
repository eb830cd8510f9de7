/**
 * What the Runs view counts for a sweep: configurations, as the sweep view does (its rows are the
 * manifest's configurations), not run folders (a configuration not started yet has none; one run
 * again has two). A configuration counts as finished when any of its runs trained to the end.
 */
import { isComplete, type RunStatus } from '../shared/run-status';

export interface SweepRunRef {
  configId?: string;
  runId: string;
  status: RunStatus;
}

/**
 * `{ finished, total }` over configurations. `manifestIds`: the sweep manifest's configuration ids,
 * when readable (the total); else the configurations that have a run folder are all there is.
 */
export function countSweepConfigs(runs: readonly SweepRunRef[], manifestIds?: readonly string[]): { finished: number; total: number } {
  const done = new Set<string>();
  const seen = new Set<string>();
  for (const r of runs) {
    const id = r.configId ?? r.runId; // a run without a configuration id stands for itself
    seen.add(id);
    if (isComplete(r.status)) done.add(id);
  }
  if (manifestIds !== undefined && manifestIds.length > 0) {
    const ids = new Set(manifestIds);
    return { finished: [...done].filter((id) => ids.has(id)).length, total: ids.size };
  }
  return { finished: done.size, total: seen.size };
}
