/**
 * Small helpers every report table module uses: the n/a cell, grouping rows by dataset, plural
 * words, and column constructors (so a table's column list reads as data, not as repeated literals).
 */
import * as path from 'node:path';
import { architectureOf, type NetRole } from '../../shared/experiment';
import { StatsError } from '../stats';
import { architectureLabel, slug } from './labels';
import type { Cell, Column, SweepRow } from './types';

/** The cell of a statistic that is undefined; the reason is in the table's notes. */
export const NA = 'n/a';

export const NETS: readonly NetRole[] = ['sparse', 'dense'];

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A finite number as it is, anything else as n/a. */
export function num(v: number): Cell {
  return Number.isFinite(v) ? v : NA;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The message of a statistics error (a test that cannot run on these data); anything else is rethrown. */
export function reason(e: unknown): string {
  if (e instanceof StatsError) return e.message;
  throw e;
}

/** Groups by `key`, keeping the order of first appearance. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

export interface DatasetGroup {
  dataset: string;
  /** The architecture of every row of the group (`architectureLabel`): `cnn 32-64-64-128-128`, `WRN-16-4`, `MLP with 3 hidden layers`. */
  architecture: string;
  /** Whether the group's nets are conv nets (their level is the density ρ, not the dense width h_D). */
  conv: boolean;
  rows: SweepRow[];
  /** `-<dataset slug>`, plus `-<architecture slug>` when the dataset has runs of more than one architecture: appended to table ids. */
  idSuffix: string;
  /** ` — <dataset>, <architecture>`: appended to table titles. */
  titleSuffix: string;
}

/**
 * Rows by dataset and architecture, in order of first appearance: pooling datasets would mix
 * accuracies on different scales, and pooling architectures nets whose widths and densities mean
 * different things. Every table names both; a table id gains the architecture only where a dataset
 * has several, so the ids (file names) of a one-architecture sweep are those of its dataset.
 */
export function byDataset(rows: readonly SweepRow[]): DatasetGroup[] {
  const out: DatasetGroup[] = [];
  for (const [dataset, rs] of groupBy(rows, (r) => r.config.dataset.name)) {
    const archs = groupBy(rs, (r) => architectureLabel(r.config.model));
    for (const [architecture, ars] of archs) {
      const first = ars[0];
      out.push({
        dataset,
        architecture,
        conv: first !== undefined && architectureOf(first.config.model) !== 'mlp',
        rows: ars,
        idSuffix: archs.size > 1 ? `-${slug(dataset)}-${slug(architecture)}` : `-${slug(dataset)}`,
        titleSuffix: ` — ${dataset}, ${architecture}`,
      });
    }
  }
  return out;
}

// -------------------------------------------------------------------------------------------------
// Columns

export function textColumn(key: string, label = key, wrap = false): Column {
  return wrap ? { key, label, format: 'text', wrap } : { key, label, format: 'text' };
}

export function intColumn(key: string, label = key): Column {
  return { key, label, format: 'int' };
}

export function fixedColumn(key: string, label: string, digits: number): Column {
  return { key, label, format: 'fixed', digits };
}

export function sigColumn(key: string, label: string, digits: number): Column {
  return { key, label, format: 'sig', digits };
}

/**
 * A path as a report or a per-net table prints it, without the machine's folder layout: an absolute
 * path inside `cwd` (default the working directory) relative to it (`.gradflow/runs/sweep-x`), any
 * other absolute path by its last component (`sweep-x`); a relative path (already so written, e.g.
 * read back from a per-net table) as it is. Committed reports and tables then carry no machine path,
 * and the report from a table equals the report from the run folders it was exported with.
 */
export function displayPath(p: string, cwd: string = process.cwd()): string {
  if (!path.isAbsolute(p)) return p.split(path.sep).join('/');
  const rel = path.relative(cwd, p);
  if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  return path.basename(p);
}
