/**
 * "Show Problems" for an experiment file that cannot run: the file at hand, not whatever the
 * Problems view showed last. The Problems view opens on the active file's problems only, then the
 * file becomes the active editor with the first error selected.
 *
 * The Problems view's "Show Active File Only" filter has a command, but it is a toggle
 * (`workbench.actions.workbench.panel.markers.view.toggleActiveFile`, VS Code ≥ 1.70) and an
 * extension cannot read its state (the context key `problems.filter.activeFile`). So Gradflow turns
 * it on once per workspace — from the default, off — and remembers having done so; after that the
 * filter is the user's (turned off again, it stays off). Without the command (older editors) the
 * view only reveals and selects the active file's entries (`problems.autoReveal`, on by default).
 */
import * as vscode from 'vscode';

/** 1-based line/column of the first problem, as `ConfigIssue` gives them. */
export interface ProblemAt {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export const TOGGLE_ACTIVE_FILE_FILTER = 'workbench.actions.workbench.panel.markers.view.toggleActiveFile';
/** Workspace-state key: Gradflow has turned the active-file filter on in this workspace. */
export const ACTIVE_FILE_FILTER_SET = 'gradflow.problems.activeFileFilterSet';

export async function showProblemsOf(uri: vscode.Uri, first?: ProblemAt, state?: vscode.Memento): Promise<void> {
  const selection =
    first !== undefined
      ? new vscode.Range(Math.max(0, first.line - 1), Math.max(0, first.column - 1), Math.max(0, first.endLine - 1), Math.max(0, first.endColumn - 1))
      : undefined;
  // The view first: it reveals the active editor's entries when the active editor changes while it
  // is open, so the file is shown after it (opened first, the view kept its old selection).
  await vscode.commands.executeCommand('workbench.actions.view.problems');
  if (state !== undefined && state.get<boolean>(ACTIVE_FILE_FILTER_SET) !== true) {
    const commands = await vscode.commands.getCommands(true);
    if (commands.includes(TOGGLE_ACTIVE_FILE_FILTER)) {
      await vscode.commands.executeCommand(TOGGLE_ACTIVE_FILE_FILTER);
      await state.update(ACTIVE_FILE_FILTER_SET, true);
    }
  }
  await vscode.window.showTextDocument(uri, { preview: false, preserveFocus: false, ...(selection !== undefined ? { selection } : {}) });
}
