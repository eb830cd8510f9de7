/**
 * Pruning criteria compared (issue 9, docs/pruning.md "Example"): when a sweep varies the pruning
 * method (`sparsity.method`, or `sparsity.dynamic.method`), one row per criterion × scope × dynamic
 * method, per dataset, in three tables:
 *
 * - `criteria`: the sparse net's EGF₁ / EGF₂ at initialisation (flow point 0, before the first
 *   update) and their 11-point averages, final test accuracy of the sparse and the dense net, and
 *   how many runs collapsed (an error-level `collapse-at-mask` alert: an empty layer or no active
 *   path; a `collapse` alert during training: a layer's masked gradient stayed below the threshold)
 *   or diverged;
 * - `criteria-density`: the per-layer densities the masks ended up with (a global scope lets the
 *   criterion choose them);
 * - `criteria-wilcoxon`: the sparse-vs-dense test of the significance tables (one-sided Wilcoxon,
 *   H1 sparse > dense on final test accuracy) per row, Holm-adjusted over the rows.
 *
 * Every row pools its runs across all other axes (seeds, widths, …), as the significance cells do.
 * Numbers are means over the row's runs; non-finite values (a diverged net's NaN, `null` in JSON)
 * are left out of the means and counted in the notes.
 */
import { DYNAMIC_METHODS, PRUNING_METHODS, PRUNING_SCOPES } from '../../shared/experiment';
import type { Alert, NetSummary } from '../../shared/protocol';
import { holm } from '../stats';
import { NA, byDataset, fixedColumn, groupBy, intColumn, mean, num, plural, sigColumn, textColumn } from './common';
import { resolveOptions, significanceTestInfo, sparseVsDense } from './tables';
import type { Cell, Column, SweepRow, Table, TableOptions } from './types';
import { at } from '../../shared/checked';

/** The label of a run without dynamic sparse training. */
export const STATIC = 'static';

/** What a row of the criteria tables is: a pruning criterion, its scope, its dynamic method. */
export interface CriterionKey {
  method: string;
  scope: string;
  dynamic: string;
}

export function criterionOf(row: SweepRow): CriterionKey {
  const s = row.config.sparsity;
  // The EGF collapse guard (docs/pruning.md) is shown with the scope it acts on: `global+egf`.
  const guard = s.guard === 'egf' && s.method !== 'none' && s.method !== 'gmp' ? '+egf' : '';
  return { method: s.method, scope: s.method === 'none' ? '—' : `${s.scope ?? 'layerwise'}${guard}`, dynamic: s.dynamic?.method ?? STATIC };
}

/** True when the rows differ in `sparsity.method` or in the dynamic method: then the criteria tables are built. */
export function variesPruningMethod(rows: readonly SweepRow[]): boolean {
  const keys = rows.map(criterionOf);
  return new Set(keys.map((k) => k.method)).size > 1 || new Set(keys.map((k) => k.dynamic)).size > 1 || new Set(keys.map((k) => k.scope.endsWith('+egf'))).size > 1;
}

/** A number read from a summary field that JSON may have turned into null. */
function finite(v: unknown): number {
  return typeof v === 'number' ? v : NaN;
}

/** Mean of the finite values, and how many were not finite. */
function finiteMean(xs: readonly number[]): { mean: number; n: number; dropped: number } {
  const ok = xs.filter(Number.isFinite);
  return { mean: mean(ok), n: ok.length, dropped: xs.length - ok.length };
}

export interface CriterionRow extends CriterionKey {
  runs: SweepRow[];
  /** Runs with a sparse net. */
  sparseRuns: number;
  egf1Init: number;
  egf2Init: number;
  egf1Avg: number;
  egf2Avg: number;
  sparseAccuracy: number;
  denseAccuracy: number;
  /** Runs with an error-level collapse-at-mask alert on the sparse net. */
  collapsedAtMask: number;
  /** Runs with a collapse alert on the sparse net during training. */
  collapsedInTraining: number;
  /** Runs counted in either of the two. */
  collapsed: number;
  /** Runs with a diverged (NaN/Inf) sparse or dense net. */
  diverged: number;
  /** Per weight layer (by index): mean density over the runs that have the layer, and its name. */
  densities: Array<{ name: string; mean: number; min: number; max: number }>;
  /** Non-finite values left out of the means, per quantity label. */
  dropped: Map<string, number>;
  /** Sparse-vs-dense pairs: final test accuracies of the runs with both nets finite. */
  pairs: { sparse: number[]; dense: number[] };
}

function compareKnown(known: readonly string[], a: string, b: string): number {
  const ia = known.indexOf(a);
  const ib = known.indexOf(b);
  return (ia < 0 ? known.length : ia) - (ib < 0 ? known.length : ib) || (a < b ? -1 : a > b ? 1 : 0);
}

function compareKeys(a: CriterionKey, b: CriterionKey): number {
  return (
    compareKnown(PRUNING_METHODS, a.method, b.method) ||
    compareKnown(['—', ...PRUNING_SCOPES.flatMap((x) => [x, `${x}+egf`])], a.scope, b.scope) ||
    compareKnown([STATIC, ...DYNAMIC_METHODS], a.dynamic, b.dynamic)
  );
}

function isCollapseAtMask(a: Alert): boolean {
  return a.net === 'sparse' && a.kind === 'collapse-at-mask' && a.severity === 'error';
}

function isCollapseInTraining(a: Alert): boolean {
  return a.net === 'sparse' && a.kind === 'collapse';
}

function isDiverged(n: NetSummary | undefined): boolean {
  return n !== undefined && (n.diverged !== undefined || !Number.isFinite(finite(n.final.test.loss)));
}

/** One row per criterion × scope × dynamic method, in the schema's order of each. */
export function criterionRows(rows: readonly SweepRow[]): CriterionRow[] {
  const groups = groupBy(rows, (r) => {
    const k = criterionOf(r);
    return `${k.method}\u0000${k.scope}\u0000${k.dynamic}`;
  });
  const out: CriterionRow[] = [];
  for (const runs of groups.values()) {
    const key = criterionOf(at(runs, 0));
    const sparse = runs.map((r) => r.nets.sparse).filter((n): n is NetSummary => n !== undefined);
    const dense = runs.map((r) => r.nets.dense).filter((n): n is NetSummary => n !== undefined);
    const dropped = new Map<string, number>();
    const avg = (label: string, xs: number[]): number => {
      const m = finiteMean(xs);
      if (m.dropped > 0) dropped.set(label, m.dropped);
      return m.mean;
    };
    const init = (n: NetSummary, m: 'egf1' | 'egf2'): number => finite(n.flowPoints.find((p) => p.index === 0)?.[m]);
    const layerCount = Math.max(0, ...sparse.map((n) => n.layers.length));
    const densities = Array.from({ length: layerCount }, (_, l) => {
      const present = sparse.filter((n) => l < n.layers.length);
      const ds = present.map((n) => finite(at(n.layers, l).density)).filter(Number.isFinite);
      return { name: at(at(present, 0).layers, l).name ?? `layer ${l}`, mean: mean(ds), min: ds.length ? Math.min(...ds) : NaN, max: ds.length ? Math.max(...ds) : NaN };
    });
    const pairs = { sparse: [] as number[], dense: [] as number[] };
    for (const r of runs) {
      const s = finite(r.nets.sparse?.final.test.accuracy);
      const d = finite(r.nets.dense?.final.test.accuracy);
      if (Number.isFinite(s) && Number.isFinite(d)) {
        pairs.sparse.push(s);
        pairs.dense.push(d);
      }
    }
    const atMask = runs.filter((r) => r.alerts.some(isCollapseAtMask));
    const inTraining = runs.filter((r) => r.alerts.some(isCollapseInTraining));
    out.push({
      ...key,
      runs,
      sparseRuns: sparse.length,
      egf1Init: avg('EGF_1 at init', sparse.map((n) => init(n, 'egf1'))),
      egf2Init: avg('EGF_2 at init', sparse.map((n) => init(n, 'egf2'))),
      egf1Avg: avg('EGF_1 11-point average', sparse.map((n) => finite(n.flowAverage.egf1))),
      egf2Avg: avg('EGF_2 11-point average', sparse.map((n) => finite(n.flowAverage.egf2))),
      sparseAccuracy: avg('sparse test accuracy', sparse.map((n) => finite(n.final.test.accuracy))),
      denseAccuracy: avg('dense test accuracy', dense.map((n) => finite(n.final.test.accuracy))),
      collapsedAtMask: atMask.length,
      collapsedInTraining: inTraining.length,
      collapsed: new Set([...atMask, ...inTraining]).size,
      diverged: runs.filter((r) => isDiverged(r.nets.sparse) || isDiverged(r.nets.dense)).length,
      densities,
      dropped,
      pairs,
    });
  }
  return out.sort(compareKeys);
}

function keyColumns(dynamic: boolean): Column[] {
  return [textColumn('method'), textColumn('scope'), ...(dynamic ? [textColumn('dynamic')] : [])];
}

function keyCells(r: CriterionRow, dynamic: boolean): Cell[] {
  return [r.method, r.scope, ...(dynamic ? [r.dynamic] : [])];
}

function rowName(r: CriterionKey): string {
  return `${r.method}/${r.scope}${r.dynamic === STATIC ? '' : `/${r.dynamic}`}`;
}

/** Per row: which quantities had non-finite values left out, grouped by how many. */
function droppedNote(rows: readonly CriterionRow[]): string[] {
  const parts = rows.flatMap((r) =>
    [...groupBy([...r.dropped], ([, n]) => String(n))].map(([n, items]) => `${rowName(r)}: ${plural(Number(n), 'non-finite value')} each of ${items.map(([what]) => what).join(', ')}`),
  );
  return parts.length > 0 ? [`Left out of the means (values of diverged nets that are not finite): ${parts.join('; ')}. A cell with no finite value is n/a.`] : [];
}

function criteriaTable(rows: readonly CriterionRow[], dynamic: boolean, idSuffix: string, titleSuffix: string): Table {
  const collapsedRows = rows.filter((r) => r.collapsed > 0);
  return {
    id: `criteria${idSuffix}`,
    title: `Pruning criteria compared${titleSuffix}`,
    columns: [
      ...keyColumns(dynamic),
      intColumn('runs'),
      sigColumn('egf1_init', 'EGF_1 at init', 3),
      sigColumn('egf1_avg', 'EGF_1 11-pt avg', 3),
      sigColumn('egf2_init', 'EGF_2 at init', 3),
      sigColumn('egf2_avg', 'EGF_2 11-pt avg', 3),
      fixedColumn('acc_sparse', 'test acc. sparse', 4),
      fixedColumn('acc_dense', 'test acc. dense', 4),
      intColumn('collapsed', 'collapsed runs'),
      intColumn('collapsed_at_mask', 'at mask'),
      intColumn('collapsed_in_training', 'in training'),
      intColumn('diverged'),
    ],
    rows: rows.map((r) => [
      ...keyCells(r, dynamic),
      r.runs.length,
      num(r.egf1Init),
      num(r.egf1Avg),
      num(r.egf2Init),
      num(r.egf2Avg),
      num(r.sparseAccuracy),
      num(r.denseAccuracy),
      r.collapsed,
      r.collapsedAtMask,
      r.collapsedInTraining,
      r.diverged,
    ]),
    notes: [
      'One row per pruning criterion and scope (and dynamic method, when the sweep has one); each row pools its runs over every other axis (seeds, widths, …). Numbers are means over the row\'s runs.',
      'EGF of the sparse net (method.md §3): at init = flow point 0, measured on the pruned net before the first update; 11-pt avg = the average over the 11 evaluation points. Test accuracy: final, of the sparse net and of its dense twin.',
      'Collapsed runs: runs whose sparse net had a layer collapse at mask time (an error-level collapse-at-mask alert: a layer without active weights, or no active path through it) or during training (a collapse alert: a layer\'s masked gradient L2 stayed below monitoring.collapse.min_norm); a run can count in both columns. Diverged: runs with a net whose loss stopped being finite (not a number or infinite).',
      ...(collapsedRows.length > 0 ? [`Rows with collapsed runs: ${collapsedRows.map((r) => `${rowName(r)} (${r.collapsed} of ${r.runs.length})`).join(', ')}.`] : ['No run collapsed.']),
      ...(rows.some((r) => r.scope.endsWith('+egf')) ? ['A scope ending in +egf: the EGF collapse guard (sparsity.guard: egf, docs/pruning.md) checked and, where a layer was at risk, reallocated the criterion\'s masks before training; the total count is unchanged, the per-layer counts are not SC-SDC\'s.'] : []),
      ...(rows.some((r) => r.method === 'gmp') ? ['gmp (gradual magnitude pruning during training, docs/pruning.md) starts dense (or at sparsity.gmp.initial_density) and reaches its final counts at sparsity.gmp.end: its EGF at init is that of the unpruned sparse-width net, and its densities are those at the end.'] : []),
      ...(rows.some((r) => r.scope.startsWith('global')) ? ['With scope global the dense twin matches its sparse twin in total active weights only: the pair is not SC-SDC per layer (docs/pruning.md).'] : []),
      ...droppedNote(rows),
    ],
  };
}

function densityTable(rows: readonly CriterionRow[], dynamic: boolean, idSuffix: string, titleSuffix: string): Table | undefined {
  const layers = Math.max(0, ...rows.map((r) => r.densities.length));
  if (layers === 0) return undefined;
  const names = Array.from({ length: layers }, (_, l) => rows.map((r) => r.densities[l]).find((d) => d !== undefined)?.name ?? `layer ${l}`);
  const varying = rows.flatMap((r) => r.densities.filter((d) => d.min !== d.max).map((d) => `${rowName(r)} ${d.name} ${d.min.toPrecision(3)}–${d.max.toPrecision(3)}`));
  return {
    id: `criteria-density${idSuffix}`,
    title: `Per-layer density of the sparse net by criterion${titleSuffix}`,
    columns: [...keyColumns(dynamic), intColumn('runs'), ...names.map((n, l) => sigColumn(`density_${l}`, n, 3))],
    rows: rows.map((r) => [...keyCells(r, dynamic), r.sparseRuns, ...names.map((_, l) => (l < r.densities.length ? num(at(r.densities, l).mean) : NA))]),
    notes: [
      'Active share of each weight layer\'s kernel in the sparse net (first layer to output), mean over the row\'s runs, as the run recorded it (summary.json). With scope layerwise these are SC-SDC\'s densities; with scope global the criterion chose them. Dynamic methods keep every layer\'s count.',
      ...(varying.length > 0 ? [`Varies across the row's runs (other axes pooled), min–max: ${varying.join('; ')}.`] : []),
    ],
  };
}

function wilcoxonTable(rows: readonly CriterionRow[], dynamic: boolean, options: TableOptions, idSuffix: string, titleSuffix: string): Table {
  const opts = resolveOptions(options);
  const info = significanceTestInfo('wilcoxon');
  const results = rows.map((r) => ({ row: r, result: sparseVsDense('wilcoxon', r.pairs.sparse, r.pairs.dense, opts.minPairs) }));
  const tested = results.filter((x) => x.result.na === undefined);
  const adjusted = new Map<CriterionRow, number>();
  if (tested.length > 0) {
    const h = holm(tested.map((x) => x.result.pValue), opts.alpha);
    tested.forEach((x, i) => adjusted.set(x.row, at(h.adjusted, i)));
  }
  const diff = (r: CriterionRow): Cell => (r.pairs.sparse.length > 0 ? mean(r.pairs.sparse.map((s, i) => s - at(r.pairs.dense, i))) : NA);
  return {
    id: `criteria-wilcoxon${idSuffix}`,
    title: `Sparse > dense per criterion (${info.name}, one-sided)${titleSuffix}`,
    columns: [
      ...keyColumns(dynamic),
      intColumn('n', 'n pairs'),
      intColumn('used', 'n ≠ 0'),
      fixedColumn('mean_diff', 'mean Δacc (sparse − dense)', 4),
      sigColumn('statistic', info.statisticLabel, 4),
      { key: 'p', label: 'p', format: 'p', shade: true },
      { key: 'p_holm', label: 'p (Holm)', format: 'p', shade: true },
      fixedColumn('effect', info.effectLabel, 3),
      textColumn('note', 'note', true),
    ],
    rows: results.map(({ row: r, result: t }) => {
      const ok = t.na === undefined;
      return [
        ...keyCells(r, dynamic),
        r.pairs.sparse.length,
        t.used,
        diff(r),
        ok ? t.statistic : NA,
        ok ? t.pValue : NA,
        adjusted.get(r) ?? NA,
        ok ? t.effect : NA,
        t.na ?? t.method,
      ];
    }),
    notes: [
      `${info.description} Pairs here: the runs of the row.`,
      `A p-value needs at least ${opts.minPairs} non-zero differences (with n ≤ 4 the smallest attainable one-sided p is 1/2^n ≥ 0.0625, so the test cannot reject at 5 %); below that the row is n/a and the note says why. Holm over the ${plural(tested.length, 'row')} with a p-value.`,
    ],
  };
}

/**
 * The criteria tables, per dataset, when the rows vary the pruning method (otherwise none).
 * `options` are the significance options (minPairs, alpha) of the other sparse-vs-dense tables.
 */
export function criteriaTables(rows: readonly SweepRow[], options: TableOptions = {}): Table[] {
  if (!variesPruningMethod(rows)) return [];
  const tables: Table[] = [];
  for (const g of byDataset(rows)) {
    const crit = criterionRows(g.rows);
    const dynamic = crit.some((r) => r.dynamic !== STATIC);
    tables.push(criteriaTable(crit, dynamic, g.idSuffix, g.titleSuffix));
    const dens = densityTable(crit, dynamic, g.idSuffix, g.titleSuffix);
    if (dens) tables.push(dens);
    tables.push(wilcoxonTable(crit, dynamic, options, g.idSuffix, g.titleSuffix));
  }
  return tables;
}
