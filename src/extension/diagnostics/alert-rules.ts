/**
 * Which lines of an experiment file are responsible for a training alert, and what to tell the user
 * there. Pure (no editor API): the extension turns the result into diagnostics, and the tests check
 * the mapping on hand-counted lines.
 *
 * The rules follow what the paper and practice blame for each failure:
 * - explosion: the step size (learning rate) and the optimizer; Adam + coupled L2 in particular
 *   (the paper's Adam + L2 collapse, which AdamW recovers);
 * - NaN: almost always a too-large learning rate;
 * - collapse (vanishing flow in a layer): the activation, the density (too sparse), missing BatchNorm
 *   (BN helps sparse nets most, method.md §7);
 * - collapse at mask time: a global pruning scope, a collapse-prone criterion (snip, grasp,
 *   magnitude), the density and the width that produced an empty layer (docs/pruning.md);
 * - mask integrity (a pruned weight became non-zero): the pruning method's masking.
 */
import type { Alert, AlertKind } from '../../shared/protocol';
import { decodeNumber } from '../../shared/protocol';
import type { ExperimentConfig } from '../../shared/experiment';
import type { ParseResult, Range as SourceRange } from '../../config/types';
import { keyRange } from '../../config/positions';

/** 0-based range (LSP / VS Code convention). */
export interface ZeroRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

/** Where the keys of the file are (built from `parseExperiment`'s result and `keyRange`). */
export interface KeyLocator {
  /**
   * Range of a dotted snake_case key path (1-based, as `src/config` reports it). For a key the file
   * does not set: the nearest enclosing section (or line 1), so a defaulted setting still points
   * somewhere visible.
   */
  range(key: string): SourceRange | undefined;
  /** Whether the file writes the key itself. */
  has(key: string): boolean;
}

export interface ResponsibleRange {
  /** Dotted snake_case key the range stands for. */
  key: string;
  range: ZeroRange;
  /** The main culprit (first in the list); the others are contributing settings. */
  primary: boolean;
  /** Why this setting is implicated, appended to the diagnostic message. */
  hint: string;
}

interface Suspect {
  key: string;
  hint: string;
}

function suspects(alert: Alert, config: ExperimentConfig, keys: KeyLocator): Suspect[] {
  const sparse = config.sparsity.method !== 'none';
  // The resolved config always has a dense width; point at whichever of the two the file writes.
  const densityKey: Suspect[] = sparse
    ? [{ key: keys.has('sparsity.density') ? 'sparsity.density' : 'sparsity.dense_width', hint: 'the network may be too sparse: raise the density (dense_width).' }]
    : [];
  const kind: AlertKind = alert.kind;
  switch (kind) {
    case 'explosion': {
      const out: Suspect[] = [
        { key: 'training.learning_rate', hint: `the learning rate (${config.training.learningRate}) may be too high.` },
        { key: 'training.optimizer', hint: `${config.training.optimizer} is sensitive to high gradient flow.` },
      ];
      if (config.training.optimizer === 'adam' && config.training.weightDecay > 0) {
        out.push({ key: 'training.weight_decay', hint: 'Adam with coupled L2 is known to blow up; AdamW decouples the decay.' });
      }
      return out;
    }
    case 'nan':
      return [{ key: 'training.learning_rate', hint: `the learning rate (${config.training.learningRate}) is the usual cause of NaN.` }];
    case 'collapse': {
      const out: Suspect[] = [{ key: 'model.activation', hint: `${config.model.activation} may saturate; swish or prelu keep gradients flowing in sparse nets.` }];
      out.push(...densityKey);
      if (!config.model.batchNorm) out.push({ key: 'model.batch_norm', hint: 'BatchNorm helps sparse networks keep their gradient flow.' });
      return out;
    }
    case 'collapse-at-mask': {
      // A global criterion chooses per-layer counts and can empty a layer (docs/pruning.md).
      const out: Suspect[] = [];
      const method = config.sparsity.method;
      if (config.sparsity.scope === 'global') {
        out.push({ key: 'sparsity.scope', hint: "a global scope lets the criterion empty a layer; 'layerwise' keeps SC-SDC's count in every layer." });
      }
      if (method === 'snip' || method === 'grasp' || method === 'magnitude') {
        out.push({ key: 'sparsity.method', hint: `${method} is prone to layer collapse at high sparsity; synflow is designed to avoid it.` });
      }
      out.push(...(sparse ? densityKey : []), { key: 'model.width', hint: 'a layer this narrow at this density can lose every path.' });
      return out;
    }
    case 'mask-integrity':
      return [{ key: 'sparsity.method', hint: 'pruned weights must stay exactly 0; this is a masking bug, please report it.' }];
    default: {
      const never: never = kind;
      throw new Error(`unknown alert kind ${String(never)}`);
    }
  }
}

/** A locator over a parsed file. */
export function locatorFor(parsed: Pick<ParseResult, 'keyRanges' | 'keyNameRanges' | 'firstLine'>): KeyLocator {
  return { range: (key) => keyRange(parsed, key), has: (key) => parsed.keyRanges.has(key) };
}

export function toZeroRange(r: SourceRange): ZeroRange {
  return {
    start: { line: r.line - 1, character: r.column - 1 },
    end: { line: r.endLine - 1, character: r.endColumn - 1 },
  };
}

/**
 * The ranges of the settings responsible for an alert, most responsible first. Two suspects that
 * fall back to the same place (both absent from a section) yield one range.
 */
export function responsibleRanges(alert: Alert, config: ExperimentConfig, keys: KeyLocator): ResponsibleRange[] {
  const out: ResponsibleRange[] = [];
  for (const s of suspects(alert, config, keys)) {
    const r = keys.range(s.key);
    if (r === undefined) continue;
    const range = toZeroRange(r);
    const dup = out.find((o) => o.range.start.line === range.start.line && o.range.start.character === range.start.character);
    if (dup !== undefined) {
      dup.hint += ` Also: ${s.hint}`;
      continue;
    }
    out.push({ key: s.key, range, primary: out.length === 0, hint: s.hint });
  }
  return out;
}

const TITLES: Record<AlertKind, string> = {
  nan: 'NaN/Inf in training',
  explosion: 'Exploding gradients',
  collapse: 'Layer collapse (vanishing gradient flow)',
  'collapse-at-mask': 'Layer collapse at mask time',
  'mask-integrity': 'Mask integrity violated',
};

export function formatMeasured(v: Alert['value']): string {
  const x = decodeNumber(v);
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

/** `layer 2 (dense2)`, or `whole network` for layer -1. Names come from the run's `ready` message when known. */
export function layerLabel(layer: number, names?: readonly string[]): string {
  if (layer < 0) return 'whole network';
  const name = names?.[layer];
  return name !== undefined ? `layer ${layer} (${name})` : `layer ${layer}`;
}

/**
 * What happened, where (net, layer), when (step) and the measured value on the first line (what the
 * Problems view shows), the trainer's own explanation next, then why this line is implicated.
 */
export function alertMessage(alert: Alert, hint: string, layerNames?: readonly string[]): string {
  const when = alert.step === 0 ? 'at mask time' : `at step ${alert.step}`;
  const head = `${TITLES[alert.kind]} in the ${alert.net} net, ${layerLabel(alert.layer, layerNames)}, ${when}: measured ${formatMeasured(alert.value)}.`;
  const detail = alert.message.trim();
  return `${head}${detail !== '' ? `\n${detail}` : ''}\nHere: ${hint}`;
}
