/**
 * The run view: one run's gradient-flow charts, layer table, heatmap and alerts, beside the sweep
 * view (`sweep.ts`). `main.ts` owns the model, the tabs and the frame scheduling; this view draws
 * the run it is given and reports the user's choices back through `RunViewHost`.
 *
 * Its parts, top to bottom: `RunHeader` (toolbar, info line, notes; `run-header.ts`), then a grid of
 * cards (`run-cards.ts`): the step charts (`StepCharts`, `run-charts.ts`), the alerts and the heatmap
 * (`run-details.ts`), the epoch charts, and the layer table.
 */
import type { RunState } from '../src/shared/webview-protocol';
import { h } from './dom';
import { CardGrid } from './run-cards';
import { EpochCharts, StepCharts } from './run-charts';
import { AlertsCard, HeatmapCard, LayerTable } from './run-details';
import { RunHeader, type RunViewHost } from './run-header';
import type { Theme } from './theme';
import type { UiState } from './vscode-api';

export type { RunViewHost } from './run-header';

export interface RunView {
  /** The tab panel (`#gf-run-view`). */
  readonly root: HTMLElement;
  /** Draws `run` (the selected one, if any) of `runs`; `structure`: rebuild selector, alerts and status too. */
  render(run: RunState | undefined, runs: readonly RunState[], structure: boolean): void;
  setTheme(theme: Theme): void;
}

/** Builds the run view's static layout once; `render` only fills it. `ui` is read and updated in place. */
export function createRunView(ui: UiState, initialTheme: Theme, host: RunViewHost): RunView {
  let theme = initialTheme;
  let shown: RunState | undefined;
  const selectedRun = (): RunState | undefined => shown;
  const root = h('div', { attrs: { id: 'gf-run-view', role: 'tabpanel', 'aria-labelledby': 'gf-tab-run' } });
  const header = new RunHeader(ui, host, selectedRun);
  const grid = new CardGrid(selectedRun, () => theme);
  root.append(...header.elements, grid.root);
  // Cards appear in the order they are made.
  const steps = new StepCharts(grid);
  const alerts = new AlertsCard(grid);
  const heat = new HeatmapCard(grid, ui, () => theme, selectedRun, () => host.optionsChanged());
  const epochs = new EpochCharts(grid);
  const table = new LayerTable(grid, ui, () => host.optionsChanged());
  const charts = [...steps.charts, ...epochs.charts];

  return {
    root,
    render(run, runs, structure) {
      shown = run;
      header.render(run, runs, structure);
      // Nothing to chart before the trainer reported its networks (starting, or failed while starting).
      grid.root.hidden = run === undefined || (run.setup === null && run.nets.length === 0);
      if (!run || grid.root.hidden) return;
      steps.render(run, theme, ui.logScale, ui.layerGroup);
      epochs.render(run, theme);
      heat.render(run);
      table.render(run);
      if (structure) alerts.render(run);
    },
    setTheme(t) {
      theme = t;
      for (const c of charts) c.setTheme(t);
    },
  };
}
