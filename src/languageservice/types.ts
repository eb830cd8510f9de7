/**
 * The language service's result shapes are the Language Server Protocol's own types (0-based lines,
 * UTF-16 character offsets, numeric kinds), imported from `vscode-languageserver` rather than
 * re-declared, so the server hands them to the connection as they are. Only the types and their
 * constant tables are used here: nothing in this folder opens a connection, and it runs in plain
 * Node tests.
 */
import type * as lsp from 'vscode-languageserver';

export type {
  Command,
  Diagnostic,
  DiagnosticRelatedInformation,
  MarkupContent,
  Position,
  Range,
  TextEdit,
} from 'vscode-languageserver';
export { CodeActionKind, CompletionItemKind, DiagnosticSeverity, InsertTextFormat, MarkupKind } from 'vscode-languageserver';

/** Carried with a static diagnostic (`data`) from validation to the code-action request. */
export interface DiagnosticData {
  /** Dotted key path at fault (e.g. `training.learning_rate`); '' for the whole file. */
  key: string;
  /** The closest valid spelling, for a "did you mean" fix. */
  suggestion?: string;
  /** A setting that resolves the issue, for a fix that writes it (ConfigIssue.set). */
  set?: { key: string; value: string };
}

/*
 * The LSP types leave open what the service always fills in; these say what it gives (each is still
 * the LSP type, narrowed), so callers and tests need no checks for the forms it never produces.
 */

/** A completion: always a plain text edit on the line, markdown documentation, a sort key. */
export type CompletionItem = lsp.CompletionItem & { textEdit: lsp.TextEdit; documentation?: lsp.MarkupContent; sortText: string };

/** A hover: markdown on the key's range. */
export type Hover = lsp.Hover & { contents: lsp.MarkupContent; range: lsp.Range };

/** A code lens with its command resolved. */
export type CodeLens = lsp.CodeLens & { command: lsp.Command };

/** A quick fix: its edits on one document. */
export type CodeAction = lsp.CodeAction & { edit: { changes: Record<string, lsp.TextEdit[]> } };
