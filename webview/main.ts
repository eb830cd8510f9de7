/**
 * Gradflow dashboard page. Holds a `DashboardModel` folded from validated host notifications
 * (`applyNotification`, shared with the host tests) and redraws the selected run at most once per
 * animation frame. The host owns the data and replays it after every reload, so nothing here
 * needs to survive a tab switch except UI choices (`setState`).
 */
import {
  WEBVIEW_PROTOCOL_VERSION,
  applyNotification,
  emptyModel,
  findRun,
  findSweep,
  isHostToPage,
  type DashboardModel,
  type HostToPage,
  type RunState,
  type SweepModel,
} from '../src/shared/webview-protocol';
import { clear, h } from './dom';
import { createRunView } from './run';
import { SweepView } from './sweep';
import { readTheme, watchTheme, type Theme } from './theme';
import { loadUiState, post, saveUiState, type UiState } from './vscode-api';

const ui: UiState = loadUiState();
let model: DashboardModel = emptyModel();
let theme: Theme = readTheme();
let protocolError: string | null = null;

// ---------------------------------------------------------------------------------------------
// Static layout: built once; renders only fill it.

const app = document.getElementById('app') ?? document.body.appendChild(h('main', { attrs: { id: 'app' } }));

const banner = h('div', { class: 'gf-banner', attrs: { role: 'alert', hidden: '' } });

// Run / Sweep tabs (WAI-ARIA tabs pattern). Hidden until the host knows a sweep, so a dashboard
// of single runs looks as it always did.
const runTab = h('button', { class: 'gf-tab', attrs: { type: 'button', role: 'tab', id: 'gf-tab-run', 'aria-controls': 'gf-run-view' } }, 'Run');
const sweepTab = h('button', { class: 'gf-tab', attrs: { type: 'button', role: 'tab', id: 'gf-tab-sweep', 'aria-controls': 'gf-sweep-view' } }, 'Sweep');
const tabs = h('div', { class: 'gf-tabs', attrs: { role: 'tablist', 'aria-label': 'Dashboard view' } }, runTab, sweepTab);
const runView = createRunView(ui, theme, {
  runChosen: (id) => {
    ui.runId = id;
    saveUiState(ui);
    post({ type: 'selectRun', runId: id });
    scheduleRender(true);
  },
  optionsChanged: () => {
    saveUiState(ui);
    scheduleRender();
  },
});
const sweepView = new SweepView(ui.sweepView, {
  viewChanged: (v) => {
    ui.sweepView = v;
    saveUiState(ui);
  },
  sweepChosen: (id) => {
    ui.sweepId = id;
    saveUiState(ui);
    post({ type: 'selectSweep', sweepId: id });
    scheduleRender(true);
  },
});
const sweepPanel = h('div', { attrs: { id: 'gf-sweep-view', role: 'tabpanel', 'aria-labelledby': 'gf-tab-sweep' } }, sweepView.root);

/**
 * The host drew a first view in the HTML (the run being shown, see src/extension/dashboard/html.ts).
 * It stays until the host's state arrives: drawing from the empty model before that would flash
 * "No runs yet" over a run that is starting.
 */
let mounted = false;
function mount(): void {
  if (mounted) return;
  mounted = true;
  clear(app);
  app.append(tabs, banner, runView.root, sweepPanel);
}

// ---------------------------------------------------------------------------------------------
// Controls

function showView(view: 'run' | 'sweep'): void {
  if (ui.view === view) return;
  ui.view = view;
  saveUiState(ui);
  // The host remembers the view for the replay after the next reload (tab hidden and shown).
  if (view === 'sweep') {
    const s = selectedSweep();
    post({ type: 'selectSweep', sweepId: s ? s.info.sweepId : null });
  } else {
    post({ type: 'selectSweep', sweepId: null });
  }
  scheduleRender(true);
}
runTab.addEventListener('click', () => showView('run'));
sweepTab.addEventListener('click', () => showView('sweep'));
tabs.addEventListener('keydown', (e) => {
  // Arrow keys move between tabs, as in VS Code's own tab lists.
  if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight' && e.key !== 'Home' && e.key !== 'End') return;
  e.preventDefault();
  const next = e.key === 'Home' ? 'run' : e.key === 'End' ? 'sweep' : ui.view === 'run' ? 'sweep' : 'run';
  showView(next);
  (next === 'run' ? runTab : sweepTab).focus();
});

watchTheme(() => {
  theme = readTheme();
  runView.setTheme(theme);
  scheduleRender(true);
});

// ---------------------------------------------------------------------------------------------
// Messages

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const msg = event.data;
  if (!isHostToPage(msg)) {
    // A stale or buggy sender must not break the page; say what was dropped for debugging.
    console.warn('gradflow: ignored malformed message', msg);
    return;
  }
  onMessage(msg);
});

function onMessage(msg: HostToPage): void {
  if (msg.type === 'init') {
    mount();
    if (msg.protocolVersion !== WEBVIEW_PROTOCOL_VERSION) {
      protocolError = `The dashboard page (protocol ${WEBVIEW_PROTOCOL_VERSION}) does not match the extension (protocol ${msg.protocolVersion}). Reload the window.`;
      scheduleRender(true);
      return;
    }
    protocolError = null;
    model = applyNotification(model, msg);
    // The host's focus tracks the latest choice on either side, so it wins over a stale local one.
    if (model.focusRunId !== null && findRun(model, model.focusRunId)) {
      ui.runId = model.focusRunId;
    }
    const focusSweep = model.focusSweepId ? findSweep(model, model.focusSweepId) : undefined;
    ui.view = focusSweep ? 'sweep' : 'run';
    if (focusSweep) ui.sweepId = focusSweep.info.sweepId;
    saveUiState(ui);
    scheduleRender(true);
    return;
  }
  model = applyNotification(model, msg);
  if (msg.type === 'runRemoved' && ui.runId === msg.runId) {
    // A starting entry replaced by its run: keep looking at the same run.
    ui.runId = msg.replacedBy ?? null;
    saveUiState(ui);
  }
  if (msg.type === 'focusRun' && findRun(model, msg.runId)) {
    ui.runId = msg.runId;
    ui.view = 'run';
    saveUiState(ui);
  }
  switch (msg.type) {
    case 'focusSweep':
      if (findSweep(model, msg.sweepId)) {
        ui.sweepId = msg.sweepId;
        ui.view = 'sweep';
        saveUiState(ui);
      }
      scheduleRender(true);
      return;
    case 'sweepAdded':
      scheduleRender(true); // the selector and the tabs may change
      return;
    case 'sweepRow':
    case 'sweepStatus':
      // Rows of a sweep nobody is looking at change nothing on screen.
      if (ui.view === 'sweep' && selectedSweep()?.info.sweepId === msg.sweepId) scheduleRender();
      return;
    default:
      break;
  }
  // Data for a run nobody is looking at changes nothing on screen: skip the redraw.
  const shown = selectedRun()?.meta.runId;
  if ((msg.type === 'series' || msg.type === 'epoch' || msg.type === 'flowPoint' || msg.type === 'runSetup') && msg.runId !== shown) return;
  scheduleRender(msg.type === 'runAdded' || msg.type === 'runRemoved' || msg.type === 'runStatus' || msg.type === 'focusRun' || msg.type === 'alert');
}

// ---------------------------------------------------------------------------------------------
// Rendering

let frameQueued = false;
let structureDirty = true;

/** `structure`: the run list, alert list or status changed (DOM rebuild), not only chart data. */
function scheduleRender(structure = false): void {
  structureDirty ||= structure;
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(() => {
    frameQueued = false;
    const s = structureDirty;
    structureDirty = false;
    render(s);
  });
}

function selectedSweep(): SweepModel | undefined {
  const sweeps = model.sweeps ?? [];
  if (ui.sweepId !== null) {
    const s = findSweep(model, ui.sweepId);
    if (s) return s;
  }
  return sweeps[sweeps.length - 1];
}

function selectedRun(): RunState | undefined {
  if (ui.runId !== null) {
    const r = findRun(model, ui.runId);
    if (r) return r;
  }
  return model.runs[model.runs.length - 1];
}

function render(structure: boolean): void {
  if (!mounted) return;
  banner.hidden = protocolError === null;
  banner.textContent = protocolError ?? '';
  const sweeps = model.sweeps ?? [];
  tabs.hidden = sweeps.length === 0 && ui.view === 'run';
  const onSweep = ui.view === 'sweep';
  runTab.setAttribute('aria-selected', String(!onSweep));
  sweepTab.setAttribute('aria-selected', String(onSweep));
  // Roving tabindex: Tab reaches the selected tab only; arrows move between them.
  runTab.tabIndex = onSweep ? -1 : 0;
  sweepTab.tabIndex = onSweep ? 0 : -1;
  runView.root.hidden = onSweep;
  sweepPanel.hidden = !onSweep;
  // Only the visible view is drawn; switching views asks for a full (structure) render.
  if (onSweep) sweepView.render(selectedSweep(), sweeps, structure);
  else runView.render(selectedRun(), model.runs, structure);
}

// Listening: ask the host for the state (also after every reload that follows a tab switch).
// Drawing waits for it (`mount`).
post({ type: 'ready', protocolVersion: WEBVIEW_PROTOCOL_VERSION });
