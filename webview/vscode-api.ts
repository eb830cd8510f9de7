/**
 * The one global VS Code gives a webview. `acquireVsCodeApi` may be called only once per page
 * load, so this module calls it and everything else imports the result.
 */
import type { NetRole } from '../src/shared/experiment';
import { defaultView } from '../src/shared/sweep-table';
import { isSweepTableView, type PageToHost, type SweepTableView } from '../src/shared/webview-protocol';

/** UI state only (what the user chose); data comes from the host's replay, never from here. */
export interface UiState {
  runId: string | null;
  logScale: boolean;
  /** Which net the heatmap shows for an SC-SDC pair ('both' stacks them). */
  heatmapNet: NetRole | 'both';
  /** Which view is shown: a run's charts or a sweep's table. */
  view: 'run' | 'sweep';
  sweepId: string | null;
  /** Sort and filters of the sweep table (one setting for every sweep: the columns mostly agree). */
  sweepView: SweepTableView;
  /**
   * Deep nets (layer names with groups, src/shared/webview/layer-groups.ts): the group the per-layer
   * chart, the heatmap and the layers table show; '' for every layer.
   */
  layerGroup: string;
  /** Groups of the layers table shown expanded (the others are one summary row). */
  openGroups: string[];
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
  const ui: UiState = { runId: null, logScale: true, heatmapNet: 'both', view: 'run', sweepId: null, sweepView: defaultView(), layerGroup: '', openGroups: [] };
  if (typeof s === 'object' && s !== null) {
    const r = s as Record<string, unknown>;
    if (typeof r.runId === 'string') ui.runId = r.runId;
    if (typeof r.logScale === 'boolean') ui.logScale = r.logScale;
    if (r.heatmapNet === 'sparse' || r.heatmapNet === 'dense' || r.heatmapNet === 'both') ui.heatmapNet = r.heatmapNet;
    if (r.view === 'run' || r.view === 'sweep') ui.view = r.view;
    if (typeof r.sweepId === 'string') ui.sweepId = r.sweepId;
    if (isSweepTableView(r.sweepView)) ui.sweepView = r.sweepView;
    if (typeof r.layerGroup === 'string') ui.layerGroup = r.layerGroup;
    if (Array.isArray(r.openGroups)) ui.openGroups = r.openGroups.filter((g): g is string => typeof g === 'string');
  }
  return ui;
}

export function saveUiState(ui: UiState): void {
  vscode.setState(ui);
}
