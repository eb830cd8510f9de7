/**
 * Which lines of an experiment file are responsible for a training alert, and what to tell the user
 * there. Pure (no editor API): the run's diagnostics (`run-plan.ts`) and the alert jump are built on
 * it, and the tests check the mapping on hand-counted lines. The key the trainer stamped on the alert
 * is taken as it is, never re-derived. What is blamed, and why, is the remedy table
 * (`src/config/remedies.ts`); where the keys are is the key registry (`src/config/keys.ts`).
 */
import type { Alert, AlertKind } from '../shared/protocol';
import { decodeNumber } from '../shared/protocol';
import type { ExperimentConfig } from '../shared/experiment';
import { zeroRange, type FileKeys, type ZeroRange } from '../config/keys';
import { REMEDIES } from '../config/remedies';

export type { ZeroRange } from '../config/keys';

export interface ResponsibleRange {
  /** Dotted snake_case key the range stands for. */
  key: string;
  range: ZeroRange;
  /** The main culprit (first in the list); the others are contributing settings. */
  primary: boolean;
  /** Why this setting is implicated, appended to the diagnostic message. */
  hint: string;
}

/**
 * The ranges of the settings responsible for an alert, most responsible first. Two suspects that
 * fall back to the same place (both absent from a section) yield one range.
 */
export function responsibleRanges(
  alert: Alert,
  config: ExperimentConfig,
  keys: FileKeys,
  runKinds?: ReadonlySet<AlertKind>,
): ResponsibleRange[] {
  const out: ResponsibleRange[] = [];
  const suspects = REMEDIES[alert.kind].suspects({ config, keys, ...(runKinds !== undefined ? { runKinds } : {}) });
  // The key the trainer stamped comes first (it is the table's primary key for the run it saw).
  const stamped = alert.key !== undefined ? keys.written(alert.key) : undefined;
  const ordered = stamped !== undefined ? [...suspects.filter((s) => s.key === stamped), ...suspects.filter((s) => s.key !== stamped)] : suspects;
  for (const s of ordered) {
    const range = zeroRange(keys.range(s.key));
    const dup = out.find((o) => o.range.start.line === range.start.line && o.range.start.character === range.start.character);
    if (dup !== undefined) {
      dup.hint += ` Also: ${s.hint}`;
      continue;
    }
    out.push({ key: s.key, range, primary: out.length === 0, hint: s.hint });
  }
  return out;
}

export function formatMeasured(v: Alert['value']): string {
  const x = decodeNumber(v);
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

/**
 * The measured value with what it counts: a mask-time collapse counts units cut off (0 when the
 * whole layer is: no active weight or no active path); other kinds keep the bare value, which the
 * detail line beside it names.
 */
function measuredText(alert: Alert): string {
  if (alert.kind === 'collapse-at-mask') {
    const n = decodeNumber(alert.value);
    if (n === 0) return alert.layer < 0 ? 'no active path through the network' : 'the whole layer is cut off';
    return `${formatMeasured(alert.value)} unit${n === 1 ? '' : 's'} cut off`;
  }
  return `measured ${formatMeasured(alert.value)}`;
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
  const title = REMEDIES[alert.kind].title;
  // A title that already says when (`Layer collapse at mask time`) is not followed by it again.
  const when = alert.step === 0 ? (/at mask time/.test(title) ? '' : ', at mask time') : `, at step ${alert.step}`;
  const head = `${title} in the ${alert.net} net, ${layerLabel(alert.layer, layerNames)}${when}: ${measuredText(alert)}.`;
  const detail = alert.message.trim();
  return `${head}${detail !== '' ? `\n${detail}` : ''}\nHere: ${hint}`;
}
