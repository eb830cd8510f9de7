/**
 * The language service's result shapes. They are structurally identical to the Language Server
 * Protocol types (0-based lines and UTF-16 character offsets, numeric kinds), so the server hands
 * them to `vscode-languageserver` as they are, while this folder stays free of any LSP or editor
 * package and runs in plain Node tests.
 */

export interface Position {
  /** 0-based line. */
  line: number;
  /** 0-based UTF-16 offset in the line. */
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** LSP DiagnosticSeverity values. */
export const Severity = { Error: 1, Warning: 2, Information: 3, Hint: 4 } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

export interface Diagnostic {
  range: Range;
  severity: Severity;
  message: string;
  source: string;
  /** Machine-readable kind of the problem (`unknown-key`, `out-of-range`, …, see `src/config/types.ts`). */
  code?: string;
  data?: DiagnosticData;
}

/** Carried with a diagnostic from validation to the code-action request. */
export interface DiagnosticData {
  /** Dotted key path at fault (e.g. `training.learning_rate`); '' for the whole file. */
  key: string;
  /** The closest valid spelling, for a "did you mean" fix. */
  suggestion?: string;
}

export interface CodeAction {
  title: string;
  kind: 'quickfix';
  diagnostics: Diagnostic[];
  isPreferred?: boolean;
  edit: { changes: Record<string, TextEdit[]> };
}

export interface MarkupContent {
  kind: 'markdown';
  value: string;
}

export interface Hover {
  contents: MarkupContent;
  range: Range;
}

/** LSP CompletionItemKind values used here. */
export const CompletionKind = { Module: 9, Property: 10, Value: 12, EnumMember: 20 } as const;
export type CompletionKind = (typeof CompletionKind)[keyof typeof CompletionKind];

/** LSP InsertTextFormat.Snippet. */
export const SNIPPET = 2;

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface CompletionItem {
  label: string;
  kind: CompletionKind;
  /** One line: the type and default. */
  detail?: string;
  documentation?: MarkupContent;
  textEdit: TextEdit;
  insertTextFormat?: typeof SNIPPET;
  /** Keeps the schema's order instead of alphabetical. */
  sortText: string;
}

export interface Command {
  title: string;
  command: string;
  arguments?: string[];
}

export interface CodeLens {
  range: Range;
  command: Command;
}
