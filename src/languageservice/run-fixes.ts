/**
 * A run's diagnostics as LSP diagnostics, each with its quick fixes recorded beside it (as
 * vscode-eslint records its fixes): the fixes are computed when the diagnostics are, from the same
 * parse of the same document version, and a code-action request only looks them up. The fixes read
 * the file's configuration as it resolves now (under the editor settings, `document.ts`), so their
 * titles and edits match the file the user is looking at; the lines come from the run's own
 * configuration and the key the trainer stamped (`alert-rules.ts`).
 */
import { FIX_KEYS } from '../config/remedies';
import { RUN_SOURCE } from '../shared/lsp-protocol';
import type { Alert, AlertKind } from '../shared/protocol';
import type { ExperimentConfig } from '../shared/experiment';
import { responsibleRanges } from './alert-rules';
import type { ExperimentDocument } from './document';
import { fixesFor, type QuickFix } from './quick-fixes';
import { isAlertKind, planRunDiagnostics, type PlannedDiagnostic, type RunFileState } from './run-plan';
import { CodeActionKind, DiagnosticSeverity, type CodeAction, type Diagnostic, type Range } from './types';
import type { YamlText } from './yaml-edit';

const SEVERITY: Record<PlannedDiagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

/** Identifies a diagnostic the client sends back in a code-action request (range, code, message). */
export function diagnosticKey(d: Pick<Diagnostic, 'range' | 'code' | 'message'>): string {
  const r = d.range;
  return `[${r.start.line},${r.start.character},${r.end.line},${r.end.character}]-${String(d.code)}-${d.message}`;
}

export interface RunDiagnostics {
  diagnostics: Diagnostic[];
  /** Quick fixes by `diagnosticKey` of the diagnostic they fix. */
  fixes: Map<string, CodeAction[]>;
}

/**
 * The run diagnostics of `state` on `doc`, with their fixes. `run`: the file as the run saw it, when
 * a report has just arrived (sets the baseline of the keys; see `planRunDiagnostics`).
 */
export function runDiagnostics(state: RunFileState, doc: ExperimentDocument, run?: YamlText): RunDiagnostics {
  const planned = planRunDiagnostics(state, doc, run);
  const diagnostics = planned.map((p): Diagnostic => ({
    range: p.range,
    message: p.message,
    severity: SEVERITY[p.severity],
    source: RUN_SOURCE,
    code: p.code,
    relatedInformation: p.related.map((o) => ({ location: { uri: doc.uri, range: o.range }, message: `also implicated: ${o.key}` })),
  }));
  // Kinds of this file's run diagnostics (a mask-time collapse changes what a collapse needs first).
  const runKinds = new Set(planned.map((p) => p.code).filter(isAlertKind));
  const config = doc.parsed.config;
  const fixes = new Map<string, CodeAction[]>();
  for (const d of diagnostics) {
    // No fix while the file has errors: the static diagnostics say what to repair first.
    if (config === undefined || !isAlertKind(d.code)) continue;
    fixes.set(diagnosticKey(d), fixesOn(doc, config, d, d.code, runKinds));
  }
  return { diagnostics, fixes };
}

/** The fixes of one diagnostic: the fix for the setting on its line first, then the rest in the rules' order. */
function fixesOn(doc: ExperimentDocument, config: ExperimentConfig, d: Diagnostic, kind: AlertKind, runKinds: ReadonlySet<AlertKind>): CodeAction[] {
  const lineKey = doc.keys.keyOnLine(d.range.start.line);
  const fixes = fixesFor(kind, doc, config, runKinds);
  const here = (f: QuickFix): boolean => lineKey !== undefined && FIX_KEYS[f.id].includes(lineKey);
  return [...fixes.filter(here), ...fixes.filter((f) => !here(f))].map((f) => ({
    title: f.title,
    kind: CodeActionKind.QuickFix,
    diagnostics: [d],
    isPreferred: here(f) || (f.preferred && !fixes.some(here)),
    edit: { changes: { [doc.uri]: f.edits } },
  }));
}

/**
 * The recorded fixes of the diagnostics a code-action request names, each title once (several
 * diagnostics of one alert offer the same fixes).
 */
export function recordedFixes(fixes: ReadonlyMap<string, readonly CodeAction[]>, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  const seen = new Set<string>();
  for (const d of diagnostics) {
    if (d.source !== RUN_SOURCE) continue;
    for (const a of fixes.get(diagnosticKey(d)) ?? []) {
      if (seen.has(a.title)) continue;
      seen.add(a.title);
      out.push(a);
    }
  }
  return out;
}

/**
 * Where the dashboard's "reveal alert" jumps: the range of the setting most responsible for the
 * alert, in the file as it is now, with the file's own configuration if it still parses, else the
 * one the run used. Undefined when neither is known.
 */
export function alertRange(doc: ExperimentDocument, alert: Alert, runConfig?: ExperimentConfig, runKinds?: ReadonlySet<AlertKind>): Range | undefined {
  const config = doc.parsed.config ?? runConfig;
  if (config === undefined) return undefined;
  return responsibleRanges(alert, config, doc.keys, runKinds)[0]?.range;
}
