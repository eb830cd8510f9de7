/**
 * Types shared by the experiment-file parser, the sweep expander and their consumers (CLI, language
 * service, extension). Positions are 1-based lines and columns, like a compiler prints them; the
 * 0-based `offset`s are there so editor code can convert without re-counting lines.
 */
import type { ExperimentConfig } from '../shared/experiment';
import { terminalText } from '../shared/sanitize';

export interface Range {
  /** 1-based line of the first character. */
  line: number;
  /** 1-based column of the first character. */
  column: number;
  /** 1-based line of the last character's end. */
  endLine: number;
  /** 1-based column just past the last character (exclusive end, as in LSP). */
  endColumn: number;
  /** 0-based character offset of the start in the text. */
  offset: number;
  /** 0-based exclusive end offset. */
  endOffset: number;
}

export type IssueSeverity = 'error' | 'warning';

/** Machine-readable kind of an issue, so quick fixes need not parse messages. */
export type IssueCode =
  | 'yaml-syntax'
  | 'yaml-warning'
  | 'unknown-key'
  | 'unknown-value'
  | 'wrong-type'
  | 'out-of-range'
  | 'missing'
  | 'conflict'
  | 'ignored'
  | 'sweep'
  /** Valid, but likely not what was meant; `set` names the setting that fixes it. */
  | 'advice';

export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** Dotted key path of the offending key, e.g. `training.optimizer`; list items add `.0`, `.1`. '' for the whole file. */
  key: string;
  /** What was expected and what was found. */
  message: string;
  severity: IssueSeverity;
  code: IssueCode;
  /** For `unknown-key` / `unknown-value`: the closest valid spelling (the "did you mean"), for a quick fix. */
  suggestion?: string;
  /** A setting that resolves the issue (key path, YAML value), for a quick fix that writes it. */
  set?: { key: string; value: string };
  /** 0-based offsets of the same range (for editors). */
  offset: number;
  endOffset: number;
}

export interface SweepAxis {
  /** Dotted snake_case key path, as written in the file, e.g. `training.optimizer`. */
  key: string;
  values: unknown[];
}

/**
 * `sweep.linked`: one axis whose values are items of settings taken together (e.g. an optimizer with
 * its own learning rate). The items are not crossed with each other; the axis is crossed with the
 * grid axes like any other. Every item sets the same keys.
 */
export interface LinkedSweepAxis {
  /** Each item: dotted snake_case key path → value, as written in the file. */
  linked: Array<Record<string, unknown>>;
}

export function isLinkedAxis(axis: SweepAxis | LinkedSweepAxis): axis is LinkedSweepAxis {
  return 'linked' in axis;
}

export interface SweepSpec {
  seeds: number[];
  /** In file order: the grid axes, and the `linked` axis before or after them, where it is written. */
  axes: Array<SweepAxis | LinkedSweepAxis>;
  workers?: number;
  /** `sweep.max_runs`: more runs (points × seeds) is an error, found by counting (default 100,000). */
  maxRuns?: number;
}

export interface ParseResult {
  /** Present only when there is no error (warnings allowed). */
  config?: ExperimentConfig;
  /** Present only when the file has a `sweep` section and there is no error. */
  sweep?: SweepSpec;
  issues: ConfigIssue[];
  /** Dotted key path → range of the key and its value (list items: `sweep.seeds.0`). */
  keyRanges: Map<string, Range>;
  /** Dotted key path → range of the key alone (what an editor underlines for that key). */
  keyNameRanges: Map<string, Range>;
  /** Dotted key path → range of the value alone. */
  valueRanges: Map<string, Range>;
  /** Number of lines of the text, and the range of line 1: the fallback of `keyRange`. */
  firstLine: Range;
  /** Every `key: value` pair in file order, in editor coordinates (`positions.ts` `KeyEntry`). */
  entries: KeyEntry[];
}

/** Thrown by `loadExperimentFile` / `expandSweep`; `message` has one `file:line:col: error: key: message` line per issue. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  // One line per issue: a file or key name cannot start a line of its own (shared/sanitize.ts).
  const where = `${terminalText(issue.file)}:${issue.line}:${issue.column}`;
  const key = issue.key ? `${terminalText(issue.key)}: ` : '';
  return `${where}: ${issue.severity}: ${key}${issue.message}`;
}

/** Where a validator reports a key path of the file (`keys.ts` `locator` builds one from a parse). */
export interface Locator {
  /** Range of the key itself (falls back to the nearest section present, then line 1). */
  key(path: string): Range;
  /** Range of the value (falls back like `key`). */
  value(path: string): Range;
}

/** How a key's value is written. */
export type ValueKind =
  /** nothing (`model:` with no value) */
  | 'empty'
  /** a scalar on the key's line (plain or quoted) */
  | 'scalar'
  /** a flow collection (`{width: 3}`, `[1, 2]`) */
  | 'flow'
  /** a block mapping or list on the lines below */
  | 'block'
  /** a block scalar (`|` or `>`): text on the lines below */
  | 'text';

/**
 * One `key: value` pair as the YAML parser found it, in the 0-based line / character coordinates an
 * editor uses: what hover, completion and the quick fixes' edits work from.
 */
export interface KeyEntry {
  /** 0-based line of the key. */
  line: number;
  /** Column where the key starts (after any `- `); the block indentation of its mapping. */
  indent: number;
  key: string;
  /** Key path, the key included, without list indices (a key of a `sweep.linked` item: `sweep.linked.<key>`). */
  path: string[];
  keyStart: number;
  /** Column just past the key's text (its quotes included). */
  keyEnd: number;
  /** Column of the `:` after the key. */
  colon: number;
  valueKind: ValueKind;
  /** Columns of the value on the key's line (`valueStart === valueEnd` when it is not on that line). */
  valueStart: number;
  valueEnd: number;
  /** The value's text on the key's line ('' when it is not on that line). */
  value: string;
  /** The pair sits inside a flow mapping (`model: {width: 3}`). */
  inFlow: boolean;
  /** For a flow mapping value: 0-based position of its closing `}` and whether it has entries. */
  flowClose?: { at: { line: number; character: number }; empty: boolean };
}
