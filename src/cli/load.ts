/** Loading an experiment file for the CLI, with `--set key=value` overrides. */
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import type { ExperimentConfig } from '../shared/experiment';
import { parseExperiment, formatIssue, type ConfigIssue, type SweepSpec } from '../config';
import type { SettingsLayer } from '../config/layers';
import { projectRoot } from '../runs/folders';
import { terminalText } from '../shared/sanitize';
import { BoundedReadError, readExperimentText } from '../shared/bounded-read';

export class CliUsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = false,
  ) {
    super(message);
  }
}

export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map(formatIssue).join('\n');
}

/** Apply `a.b.c=value` overrides to the YAML text; values are parsed as YAML scalars (so 1e-3, true, adam work). */
export function applyOverrides(text: string, sets: readonly string[]): string {
  if (sets.length === 0) return text;
  const doc = parseDocument(text);
  for (const s of sets) {
    const eq = s.indexOf('=');
    const key = s.slice(0, eq).trim();
    const raw = s.slice(eq + 1);
    if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/.test(key)) throw new CliUsageError(`--set ${s}: '${key}' is not a key path like training.epochs`);
    const value: unknown = parseDocument(raw).toJS();
    doc.setIn(key.split('.'), value);
  }
  return doc.toString();
}

export interface CliExperiment {
  config: ExperimentConfig;
  sweep?: SweepSpec;
  sourceFile: string;
}

/**
 * `settings`: a settings layer (`src/config/layers.ts`) replacing schema defaults where the file is
 * silent, resolved by the same function as the extension's run settings.
 */
export function loadForCli(file: string, sets: readonly string[], settings: SettingsLayer = {}): CliExperiment {
  const sourceFile = path.resolve(file);
  let text: string;
  try {
    // Stat first, then a bounded read: a 3 GB file named *.gradflow.yaml costs one stat.
    text = readExperimentText(sourceFile);
  } catch (e) {
    // The message names the file: shown on a terminal, so without control characters.
    if (e instanceof BoundedReadError) throw new CliUsageError(e.problem === 'too-large' || e.problem === 'not-a-file' ? terminalText(e.message) : `cannot read experiment file ${terminalText(file)}: ${e.code ?? e.problem}`);
    throw e;
  }
  // Validate the file as written first, so positions point at its real lines.
  const first = parseExperiment(text, sourceFile, { settings });
  const firstErrors = first.issues.filter((i) => i.severity === 'error');
  if (firstErrors.length > 0 || !first.config) throw new CliUsageError(`${formatIssues(firstErrors)}\n${terminalText(file)}: invalid experiment file, nothing was run`);
  if (sets.length === 0) return { config: placeRuns(first.config, first.keyRanges, sourceFile, settings), sourceFile, ...(first.sweep ? { sweep: first.sweep } : {}) };
  const second = parseExperiment(applyOverrides(text, sets), sourceFile, { settings });
  const secondErrors = second.issues.filter((i) => i.severity === 'error');
  if (secondErrors.length > 0 || !second.config)
    throw new CliUsageError(`${secondErrors.map((i) => `--set: ${i.key}: ${i.message}`).join('\n')}\ninvalid override, nothing was run`);
  return { config: placeRuns(second.config, second.keyRanges, sourceFile, settings), sourceFile, ...(second.sweep ? { sweep: second.sweep } : {}) };
}

/**
 * A file that does not set `run.runs_dir` runs into `<project>/.gradflow/runs`, the folder the
 * extension uses too (see runs/folders.ts); a file that sets it keeps it (relative to the file).
 */
function placeRuns(config: ExperimentConfig, keys: ReadonlyMap<string, unknown>, sourceFile: string, settings: SettingsLayer): ExperimentConfig {
  if (keys.has('run.runs_dir') || settingsSetRunsDir(settings)) return config;
  return { ...config, run: { ...config.run, runsDir: path.join(projectRoot(sourceFile), '.gradflow', 'runs') } };
}

function settingsSetRunsDir(settings: SettingsLayer): boolean {
  return settings['run.runs_dir'] !== undefined;
}
