/** Public surface of the dashboard for the rest of the extension. */
export { DashboardPanel, type DashboardLog, type DashboardPanelOptions } from './panel';
export { UpdatePump, UPDATE_INTERVAL_MS } from './pump';
export { DashboardState, runInfoOf, type DashboardStateOptions, type RunInfo, type StatusDetail } from './state';
export { renderDashboardHtml, makeNonce, dashboardCsp, type DashboardHtmlOptions } from './html';
export { decimate, DEFAULT_MAX_POINTS } from './decimate';
export { SweepState, type SweepStateEvent, type PlannedConfig, type SweepStateInfo } from './sweep-state';
export { loadSweepFolder, listSweepFolders, type SweepFolder } from './sweep-folder';
