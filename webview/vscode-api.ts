/**
 * The one global VS Code gives a webview. `acquireVsCodeApi` may be called only once per page
 * load, so this module calls it and everything else imports the result.
 */
import type { NetRole } from '../src/shared/experiment';
import type { PageToHost } from '../src/shared/webview-protocol';

/** UI state only (what the user chose); data comes from the host's replay, never from here. */
export interface UiState {
  runId: string | null;
  logScale: boolean;
  /** Which net the heatmap shows for an SC-SDC pair ('both' stacks them). */
  heatmapNet: NetRole | 'both';
}

interface VsCodeApi {
  postMessage(message: PageToHost): void;
  getState(): unknown;
  setState(state: UiState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export const vscode: VsCodeApi = acquireVsCodeApi();

export function post(message: PageToHost): void {
  vscode.postMessage(message);
}

/** Restores UI state, trusting nothing: it may come from an older page version. */
export function loadUiState(): UiState {
  const s = vscode.getState();
  const ui: UiState = { runId: null, logScale: true, heatmapNet: 'both' };
  if (typeof s === 'object' && s !== null) {
    const r = s as Record<string, unknown>;
    if (typeof r.runId === 'string') ui.runId = r.runId;
    if (typeof r.logScale === 'boolean') ui.logScale = r.logScale;
    if (r.heatmapNet === 'sparse' || r.heatmapNet === 'dense' || r.heatmapNet === 'both') ui.heatmapNet = r.heatmapNet;
  }
  return ui;
}

export function saveUiState(ui: UiState): void {
  vscode.setState(ui);
}
