/**
 * How a list names a recorded run (Open Past Run): a run of a sweep by its grid point, not only the
 * sweep's name its runs all share; a run whose name another run from a different file also has, by
 * its file too.
 */
import * as path from 'node:path';

export interface NamedRun {
  runId: string;
  name: string;
  sourceFile?: string;
  /** Sweep name, for a run of a sweep. */
  sweep?: string;
}

/** `lr=0.1, seed=2`: a grid point's settings in the manifest's order. */
export function pointText(point: Readonly<Record<string, unknown>>): string {
  return Object.entries(point)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

/**
 * The label of each run (by run id). `pointOf`: the grid point of a sweep's run, when its manifest
 * names one. Names are compared after the grid point is added; a label shared by runs of two or more
 * files gets the file's base name (its relative path when base names collide too is left to the
 * item's detail line, which shows the run folder).
 */
export function runLabels<R extends NamedRun>(runs: readonly R[], pointOf: (r: R) => Readonly<Record<string, unknown>> | undefined): Map<string, string> {
  const base = new Map<string, string>();
  for (const r of runs) {
    const point = r.sweep !== undefined ? pointOf(r) : undefined;
    base.set(r.runId, point !== undefined && Object.keys(point).length > 0 ? `${r.name} · ${pointText(point)}` : r.name);
  }
  const files = new Map<string, Set<string>>();
  for (const r of runs) {
    const label = base.get(r.runId) ?? r.name;
    let set = files.get(label);
    if (set === undefined) files.set(label, (set = new Set()));
    set.add(r.sourceFile ?? '');
  }
  const out = new Map<string, string>();
  for (const r of runs) {
    const label = base.get(r.runId) ?? r.name;
    const collides = (files.get(label)?.size ?? 0) > 1;
    out.set(r.runId, collides ? `${label} (${r.sourceFile !== undefined ? path.basename(r.sourceFile) : 'no file'})` : label);
  }
  return out;
}
