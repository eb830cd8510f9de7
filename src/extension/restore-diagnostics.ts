/**
 * Diagnostics that come back after a window reload. The language server keeps run diagnostics only
 * in memory, so on activation the extension finds each experiment file's latest recorded run and
 * replays what it reported (alerts, a refused setting) as `gradflow/runReport` notifications, the
 * same ones a live run sends. The text each report carries is the file as the run saw it when the
 * extension recorded it (`RunTexts`), so settings edited since the run get the "from the run before
 * … was changed" note; without a record (a run from the CLI or another window) the file as it is now
 * is the baseline, and no setting counts as changed.
 *
 * Pure functions: the extension reads the folders and the file texts, these decide what to send.
 */
import type { ExperimentConfig } from '../shared/experiment';
import type { RunReport } from '../shared/lsp-protocol';
import type { TrainerToHost } from '../shared/protocol';
import { isRecord } from '../shared/guards';

/** What the restore needs of a recorded run (a `PastRun`). */
export interface RecordedRunRef {
  runId: string;
  sourceFile?: string;
  startedAt: string;
}

/**
 * The run shown for each experiment file: its latest by start time (the one the Runs view lists
 * first), keyed by the source file. Runs without a source file (started from a config in memory)
 * belong to no file.
 */
export function latestRunPerFile<R extends RecordedRunRef>(runs: readonly R[]): Map<string, R> {
  const out = new Map<string, R>();
  for (const r of runs) {
    if (r.sourceFile === undefined || r.sourceFile === '') continue;
    const seen = out.get(r.sourceFile);
    if (seen === undefined || r.startedAt > seen.startedAt || (r.startedAt === seen.startedAt && r.runId > seen.runId)) out.set(r.sourceFile, r);
  }
  return out;
}

/**
 * The reports that put a recorded run's problems back on its file `uri`: a reset, then each alert
 * of the log (with the layer names of the `ready` before it, as a live run sends them) and the
 * setting the trainer refused, if it did. `text`: the file as the run saw it (see the module
 * comment). Without the run's config, alerts cannot be placed and only the refused setting is sent.
 */
export function restoreReports(uri: string, text: string, messages: readonly TrainerToHost[], config: ExperimentConfig | undefined): RunReport[] {
  const out: RunReport[] = [{ type: 'reset', uri }];
  let layerNames: string[] = [];
  for (const m of messages) {
    if (m.type === 'ready') {
      // As the run manager does live: the sparse net is the primary one.
      const primary = m.nets.find((n) => n.net === 'sparse') ?? m.nets[0];
      layerNames = primary?.layers.map((l) => l.name) ?? [];
    } else if (m.type === 'alert' && config !== undefined) {
      out.push({ type: 'alert', uri, text, alert: m.alert, config, layerNames });
    } else if (m.type === 'error' && m.key !== undefined) {
      out.push({ type: 'trainer-error', uri, text, key: m.key, message: m.message });
    }
  }
  return out;
}

/** The text a run of a file saw, as recorded by the extension (one entry per file: its last run). */
export interface RunText {
  runId: string;
  text: string;
}

/** The recorded text of `runId` among the per-file records, else `current` (see the module comment). */
export function baselineText(records: Readonly<Record<string, RunText>>, uri: string, runId: string, current: string): string {
  const r = records[uri];
  return r !== undefined && r.runId === runId ? r.text : current;
}

/** Workspace-state key of the per-file `RunText` records. */
export const RUN_TEXTS_KEY = 'gradflow.runTexts';

/** The records kept under `RUN_TEXTS_KEY`, the malformed ones dropped. */
export function runTextsOf(state: { get(key: string): unknown }): Record<string, RunText> {
  const raw = state.get(RUN_TEXTS_KEY);
  const out: Record<string, RunText> = {};
  if (!isRecord(raw)) return out;
  for (const [uri, v] of Object.entries(raw)) if (isRecord(v) && typeof v.runId === 'string' && typeof v.text === 'string') out[uri] = { runId: v.runId, text: v.text };
  return out;
}
