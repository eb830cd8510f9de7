/** Loading an experiment file for the CLI, with `--set key=value` overrides. */
import * as path from 'node:path';
import { isMap, isScalar, parseDocument, visit } from 'yaml';
import type { ExperimentConfig } from '../shared/experiment';
import { parseExperiment, formatIssue, type ConfigIssue, type SweepSpec } from '../config';
import type { SettingsLayer } from '../config/layers';
import { keyInfo } from '../config/keys';
import { expectedText } from '../config/validate';
import { shownText } from '../shared/text';
import { projectRoot } from '../runs/folders';
import { terminalText } from '../shared/sanitize';
import { BoundedReadError } from '../shared/bounded-read';
import { readExperimentText } from '../config/read-file';
import * as checked from '../shared/checked';

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

/** What `path` accepts, for an error: `training.epochs expects an integer of at least 1`. */
function expects(path: string): string {
  const info = keyInfo(path);
  if (info === undefined) return `'${path}' is not a key of an experiment file`;
  return info.section ? `${path} is a section (set its keys: ${path}.<key>=VALUE)` : `${path} expects ${expectedText(info.node)}`;
}

/** The longest proper prefix of `segments` that is a key holding a value (not a section), if any. */
function valuePrefix(segments: readonly string[]): string | undefined {
  for (let n = segments.length - 1; n > 0; n--) {
    const prefix = segments.slice(0, n).join('.');
    const info = keyInfo(prefix);
    if (info !== undefined && !info.section && info.snake === prefix) return prefix;
  }
  return undefined;
}

/** The value of `--set KEY=VALUE` as YAML would read it, or a clear error naming the argument, the key and what it expects. */
function overrideValue(arg: string, key: string, raw: string): unknown {
  const vdoc = parseDocument(raw, { prettyErrors: false });
  const refuse = (why: string): never => {
    throw new CliUsageError(`${arg}: ${why}; ${expects(key)}`);
  };
  const first = vdoc.errors[0];
  if (first !== undefined) refuse(`the value '${shownText(raw)}' is not a YAML value (${shownText(checked.at(first.message.split('\n'), 0).replace(/ at line \d+, column \d+:?$/, ''), 120)})`);
  let alias = false;
  let tagged = false;
  visit(vdoc, {
    Alias() {
      alias = true;
      return visit.BREAK;
    },
    Node(_, node) {
      if (typeof node.tag === 'string') tagged = true;
    },
  });
  if (alias) refuse(`the value '${shownText(raw)}' is a YAML alias (*name), which refers to an anchor a --set value cannot have; to pass the text itself, quote it: ${key}='"${shownText(raw)}"'`);
  if (tagged) refuse(`the value '${shownText(raw)}' has a YAML tag (!!…); write the value plainly`);
  try {
    return vdoc.toJS();
  } catch (e) {
    return refuse(`the value '${shownText(raw)}' cannot be read (${shownText(e instanceof Error ? e.message : String(e), 120)})`);
  }
}

/**
 * Apply `a.b.c=value` overrides to the YAML text; values are parsed as YAML scalars (so 1e-3, true,
 * adam work). A value YAML cannot read, an alias, a tag, or a key below a key that holds a value
 * (`training.epochs.x`) is a `CliUsageError` naming the `--set` argument, the key and what it expects.
 */
export function applyOverrides(text: string, sets: readonly string[]): string {
  if (sets.length === 0) return text;
  const doc = parseDocument(text);
  for (const s of sets) {
    const eq = s.indexOf('=');
    const key = s.slice(0, eq).trim();
    const raw = s.slice(eq + 1);
    const arg = `--set ${shownText(s)}`;
    if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/.test(key)) throw new CliUsageError(`${arg}: '${shownText(key)}' is not a key path like training.epochs`);
    const segments = key.split('.');
    const holder = valuePrefix(segments);
    if (holder !== undefined && keyInfo(key) === undefined) {
      throw new CliUsageError(`${arg}: ${holder} holds a value, not keys, so '${key}' is not a key; ${expects(holder)} (--set ${holder}=VALUE)`);
    }
    const value = overrideValue(arg, key, raw);
    // Where the file itself writes a value in the way (`training: 3`), setting a key below it cannot work.
    for (let n = 1; n < segments.length; n++) {
      const at = doc.getIn(segments.slice(0, n), true);
      // An empty section (`training:` with nothing under it) becomes a mapping to set the key in.
      if (isScalar(at) && at.value === null) {
        doc.setIn(segments.slice(0, n), doc.createNode({}));
        continue;
      }
      if (at !== undefined && at !== null && !isMap(at)) {
        const prefix = segments.slice(0, n).join('.');
        throw new CliUsageError(`${arg}: the file sets ${prefix} to a value, not a mapping of keys, so '${key}' cannot be set; ${expects(prefix)}`);
      }
    }
    try {
      doc.setIn(segments, value);
    } catch (e) {
      throw new CliUsageError(`${arg}: cannot be applied (${shownText(e instanceof Error ? e.message : String(e), 120)}); ${expects(key)}`);
    }
  }
  return doc.toString();
}

/** The `--set` argument that wrote `issueKey` (the same key or a section above it), for errors found after applying them. */
function setFor(sets: readonly string[], issueKey: string): string | undefined {
  let best: string | undefined;
  let bestLength = -1;
  for (const s of sets) {
    const key = s.slice(0, s.indexOf('=')).trim();
    if ((issueKey === key || issueKey.startsWith(`${key}.`) || key.startsWith(`${issueKey}.`)) && key.length > bestLength) {
      best = s;
      bestLength = key.length;
    }
  }
  return best;
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
    throw new CliUsageError(
      `${secondErrors
        .map((i) => {
          const by = setFor(sets, i.key);
          return by !== undefined ? `--set ${shownText(by)}: ${i.key}: ${i.message}` : `--set: ${i.key || 'file'}: ${i.message}`;
        })
        .join('\n')}\ninvalid override, nothing was run`,
    );
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
