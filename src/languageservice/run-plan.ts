/**
 * What the run diagnostics of one file are, as plain data (`run-fixes.ts` turns them into LSP
 * diagnostics with their quick fixes). Pure, so the behaviour on edits is unit-tested:
 * - ranges are computed from the file as it is now (they follow the user's edits);
 * - a diagnostic whose setting changed since the run (a quick fix, or by hand) is dropped at once;
 * - when an alert's main culprit changed, its remaining diagnostics are marked as from the run
 *   before the edit and lowered to information.
 */
import { fileKeys, zeroRange, type ZeroRange } from '../config/keys';
import { ALERT_KINDS, type Alert, type AlertKind } from '../shared/protocol';
import type { ExperimentConfig } from '../shared/experiment';
import { alertMessage, responsibleRanges } from './alert-rules';
import type { YamlText } from './yaml-edit';

export interface KindEntry {
  first: Alert;
  count: number;
  layerNames: readonly string[];
}

/** What one file's current run reported, and the file's settings as the run read them. */
export interface RunFileState {
  config?: ExperimentConfig;
  kinds: Map<AlertKind, KindEntry>;
  /** Trainer errors that named a key. */
  errors: { key: string; message: string }[];
  /** Written value of each key as the run saw it (to tell what an edit changed). */
  baseline: Map<string, string | undefined>;
}

export function emptyRunState(): RunFileState {
  return { kinds: new Map(), errors: [], baseline: new Map() };
}

export interface PlannedDiagnostic {
  range: ZeroRange;
  message: string;
  severity: 'error' | 'warning' | 'information';
  /** The alert kind, or `trainer-error`. */
  code: string;
  related: { key: string; range: ZeroRange }[];
}

export function isAlertKind(v: unknown): v is AlertKind {
  return typeof v === 'string' && (ALERT_KINDS as readonly string[]).includes(v);
}

/** `key=value text` as the file writes it (the spelling it uses), or undefined when it does not. */
function writtenValues(doc: YamlText): (key: string) => string | undefined {
  const { text, positions } = doc;
  const keys = fileKeys(positions);
  return (key) => {
    const written = keys.written(key);
    const r = positions.valueRanges.get(written);
    return r === undefined || !keys.has(written) ? undefined : `${written}=${text.slice(r.offset, r.endOffset)}`;
  };
}

/**
 * The diagnostics of `state` on `doc` (the file now, parsed once). `run`: the file as the run saw
 * it, given when a report arrives; keys first seen then are recorded in the baseline (mutated).
 */
export function planRunDiagnostics(state: RunFileState, doc: YamlText, run?: YamlText): PlannedDiagnostic[] {
  const keys = fileKeys(doc.positions);
  const now = writtenValues(doc);
  const before = run !== undefined ? writtenValues(run) : undefined;
  const edited = (key: string): boolean => {
    if (!state.baseline.has(key)) {
      if (before === undefined) return false;
      state.baseline.set(key, before(key));
    }
    return state.baseline.get(key) !== now(key);
  };
  const out: PlannedDiagnostic[] = [];
  for (const e of state.errors) {
    if (edited(e.key)) continue;
    out.push({ range: zeroRange(keys.range(e.key)), message: `Run failed: ${e.message}`, severity: 'error', code: 'trainer-error', related: [] });
  }
  if (state.config === undefined) return out;
  const runKinds = new Set(state.kinds.keys());
  for (const [kind, e] of state.kinds) {
    const ranges = responsibleRanges(e.first, state.config, keys, runKinds);
    const changed = new Set(ranges.filter((r) => edited(r.key)));
    const stale = ranges.some((r) => r.primary && changed.has(r));
    const more = e.count > 1 ? ` (${e.count - 1} more ${kind} alert${e.count > 2 ? 's' : ''} in this run)` : '';
    const kept = ranges.filter((r) => !changed.has(r));
    for (const r of kept) {
      const message = alertMessage(e.first, r.hint, e.layerNames) + more;
      out.push({
        range: r.range,
        message: stale ? `(from the run before ${[...changed].map((c) => c.key).join(', ')} was changed) ${message}` : message,
        severity: stale ? 'information' : e.first.severity,
        code: kind,
        related: kept.filter((o) => o !== r).map((o) => ({ key: o.key, range: o.range })),
      });
    }
  }
  return out;
}
