/**
 * "Show Problems" for an experiment file that cannot run: the file at hand, not whatever the
 * Problems view showed last. The Problems view opens, then the file becomes the active editor with
 * the first error selected; the view reveals and selects the active file's entries
 * (`problems.autoReveal`, on by default).
 */
import * as vscode from 'vscode';

/** 1-based line/column of the first problem, as `ConfigIssue` gives them. */
export interface ProblemAt {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export async function showProblemsOf(uri: vscode.Uri, first?: ProblemAt): Promise<void> {
  const selection =
    first !== undefined
      ? new vscode.Range(Math.max(0, first.line - 1), Math.max(0, first.column - 1), Math.max(0, first.endLine - 1), Math.max(0, first.endColumn - 1))
      : undefined;
  // The view first: it reveals the active editor's entries when the active editor changes while it
  // is open, so the file is shown after it (opened first, the view kept its old selection).
  await vscode.commands.executeCommand('workbench.actions.view.problems');
  await vscode.window.showTextDocument(uri, { preview: false, preserveFocus: false, ...(selection !== undefined ? { selection } : {}) });
}
