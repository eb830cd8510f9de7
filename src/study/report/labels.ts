/**
 * Labels and orders of the report's axes: the paper's regulariser names (NR, L2, DA, SC, BN and
 * their combinations), optimizers and activations in the order of the experiment schema, and the
 * four gradient-flow measures.
 */
import { ACTIVATIONS, OPTIMIZERS, architectureOf, type ExperimentConfig } from '../../shared/experiment';
import type { FlowMeasures } from '../../shared/protocol';
import { boundedSlug } from '../../shared/text';

/** Order of the parts of a regulariser label (method.md §5 writes DA_BN, L2_BN, SC_BN). */
export const REGULARISER_PARTS = ['DA', 'L2', 'SC', 'BN'] as const;
export type RegulariserPart = (typeof REGULARISER_PARTS)[number];

/**
 * The paper's regulariser label of a configuration: the parts present joined with '_' in the order
 * DA, L2, SC, BN; 'NR' (no regularisation) when none is. L2 means `training.weight_decay > 0`
 * whatever the optimizer, so AdamW's decoupled decay is labelled L2 too — the optimizer column tells
 * Adam + L2 from AdamW.
 */
export function regulariserLabel(config: ExperimentConfig): string {
  const on: Record<RegulariserPart, boolean> = {
    DA: config.training.augmentation,
    L2: config.training.weightDecay > 0,
    SC: config.model.skip,
    BN: config.model.batchNorm,
  };
  const parts = REGULARISER_PARTS.filter((p) => on[p]);
  return parts.length === 0 ? 'NR' : parts.join('_');
}

/** NR first, then by number of parts, then by the DA, L2, SC, BN order of the parts. */
export function compareRegularisers(a: string, b: string): number {
  const key = (label: string): number[] => {
    if (label === 'NR') return [0];
    const parts = label.split('_').map((p) => REGULARISER_PARTS.indexOf(p as RegulariserPart));
    return [parts.length, ...parts];
  };
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
    const d = (ka[i] ?? -1) - (kb[i] ?? -1);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The architecture a report table is about, named as a reader knows it: `cnn 32-64-64-128-128` (the
 * sparse net's designed channels), `WRN-16-4` (depth and widen factor of the sparse net; WRN-50-2 is
 * the bottleneck one), `MLP with 3 hidden layers`. What SC-SDC varies (the MLP's widths, a conv
 * net's density ρ) is the tables' level, not part of the name, so the runs of one study share it.
 */
export function architectureLabel(model: ExperimentConfig['model']): string {
  switch (architectureOf(model)) {
    case 'cnn':
      return `cnn ${(model.channels ?? []).join('-')}`;
    case 'wrn':
      return `WRN-${model.depth ?? '?'}-${model.widenFactor ?? '?'}`;
    case 'mlp':
      return `MLP with ${model.hiddenLayers} hidden layer${model.hiddenLayers === 1 ? '' : 's'}`;
  }
}

/** Sort by the position in a known list; unknown values last, alphabetically. */
function byKnownOrder(known: readonly string[]): (a: string, b: string) => number {
  return (a, b) => {
    const ia = known.indexOf(a);
    const ib = known.indexOf(b);
    const ra = ia < 0 ? known.length : ia;
    const rb = ib < 0 ? known.length : ib;
    return ra - rb || (a < b ? -1 : a > b ? 1 : 0);
  };
}

export const compareOptimizers = byKnownOrder(OPTIMIZERS);
export const compareActivations = byKnownOrder(ACTIVATIONS);

export interface MeasureInfo {
  key: keyof FlowMeasures;
  /** Plain text (Markdown, CSV). */
  label: string;
  /** LaTeX math. */
  latex: string;
}

/** The four measures of method.md §4, in the paper's order. */
export const MEASURES: readonly MeasureInfo[] = [
  { key: 'g1', label: '||g||_1', latex: '$\\|g\\|_1$' },
  { key: 'g2', label: '||g||_2', latex: '$\\|g\\|_2$' },
  { key: 'egf1', label: 'EGF_1', latex: '$\\mathrm{EGF}_1$' },
  { key: 'egf2', label: 'EGF_2', latex: '$\\mathrm{EGF}_2$' },
];

/** LaTeX spellings of plain-text labels that appear in table cells and headers. */
export const LATEX_LABELS: Readonly<Record<string, string>> = Object.fromEntries(MEASURES.map((m) => [m.label, m.latex]));

/**
 * File-name-safe form of a label (lower-case letters, digits, `-`), at most 64 bytes: table and plot
 * ids, and so file names, are made of it plus a fixed prefix and suffix, well under 255 bytes even
 * for a dataset name or grid value of any length (shared/text.ts `boundedSlug`).
 */
export function slug(s: string): string {
  return boundedSlug(s, 64, 'x');
}
