/**
 * The top of the run view: the toolbar (run selector, status badge, log scale, CSV export), the run's
 * info line, and the notes that stand above the charts (global-scope pairing, starting, failure, no
 * runs yet).
 */
import { densityText } from '../src/shared/format';
import { isFailure, statusDescription, statusLabel } from '../src/shared/run-status';
import { CSV_KINDS, isCsvKind, type CsvKind, type RunState } from '../src/shared/webview-protocol';
import { runOptionText, startingText, statusTitle } from '../src/shared/webview/run-text';
import { clear, fmtInt, h } from './dom';
import { runLayerGroups } from './run-series';
import { post, type UiState } from './vscode-api';

export interface RunViewHost {
  /** The user picked another run in the selector. */
  runChosen(runId: string): void;
  /** A display option (log scale, heatmap net) changed in `ui`: persist it and redraw. */
  optionsChanged(): void;
}

export class RunHeader {
  private readonly runSelect = h('select', { attrs: { id: 'gf-run', 'aria-label': 'Run' } });
  private readonly statusBadge = h('span', { class: 'gf-badge' });
  // Deep nets only (layer names with groups): which group the per-layer views show.
  private readonly groupSelect = h('select', { attrs: { id: 'gf-layer-group', 'aria-label': 'Layer group shown by the per-layer chart, the heatmap and the layers table' } });
  private readonly groupField = h('label', { class: 'gf-field gf-group-field', title: 'Layer group shown by the per-layer chart, the heatmap and the layers table', attrs: { hidden: '' } }, 'Layers ', this.groupSelect);
  private groupKey = '';
  private readonly logToggle = h('input', { attrs: { type: 'checkbox', id: 'gf-log' } });
  private readonly csvSelect = h('select', { attrs: { 'aria-label': 'CSV data' } });
  private readonly csvButton = h('button', { class: 'gf-button', attrs: { type: 'button' } }, 'Export CSV');
  private readonly infoLine = h('div', { class: 'gf-info' });
  // A global pruning scope: the pair is matched in total only (issue 9), said at the top, not only in the Layers table.
  private readonly pairingNote = h('p', { class: 'gf-warn gf-pairing', attrs: { id: 'gf-pairing', hidden: '' } });
  // Shown from the moment Run is pressed until the trainer reports its run (backend, data, networks).
  private readonly startingNote = h('div', { class: 'gf-starting', attrs: { role: 'status', 'aria-live': 'polite', hidden: '' } });
  // A failed, killed or corrupt run: its error and the last lines of its log (issue 11), above what it measured.
  private readonly failureTitle = h('h2', {});
  private readonly failureMessage = h('p', {});
  private readonly failureLog = h('pre', { class: 'gf-log-tail', attrs: { tabindex: '0', 'aria-label': 'Last lines of the run log' } });
  private readonly failurePanel = h('section', { class: 'gf-failure', attrs: { id: 'gf-failure', role: 'region', 'aria-label': 'Why the run ended', hidden: '' } }, this.failureTitle, this.failureMessage, this.failureLog);
  private readonly emptyNote = h(
    'p',
    { class: 'gf-empty' },
    'No runs yet. Run an experiment file (Gradflow: Run Experiment, or the ▶ code lens) to see live gradient flow here.',
  );

  /** The toolbar, the info line and the notes, in page order. */
  readonly elements: readonly HTMLElement[];

  constructor(private readonly ui: UiState, host: RunViewHost, selectedRun: () => RunState | undefined) {
    for (const k of CSV_KINDS) this.csvSelect.append(h('option', { attrs: { value: k } }, csvLabel(k)));
    this.elements = [
      h(
        'header',
        { class: 'gf-toolbar' },
        h('label', { class: 'gf-field gf-run-field' }, 'Run ', this.runSelect),
        this.statusBadge,
        h('span', { class: 'gf-spacer' }),
        this.groupField,
        h('label', { class: 'gf-field', title: 'Logarithmic y axis for gradient norms' }, this.logToggle, ' Log scale'),
        h('span', { class: 'gf-field' }, this.csvSelect, this.csvButton),
      ),
      this.infoLine,
      this.pairingNote,
      this.startingNote,
      this.failurePanel,
      this.emptyNote,
    ];
    this.logToggle.checked = ui.logScale;
    this.groupSelect.addEventListener('change', () => {
      ui.layerGroup = this.groupSelect.value;
      host.optionsChanged();
    });
    this.runSelect.addEventListener('change', () => host.runChosen(this.runSelect.value));
    this.logToggle.addEventListener('change', () => {
      ui.logScale = this.logToggle.checked;
      host.optionsChanged();
    });
    this.csvButton.addEventListener('click', () => {
      const run = selectedRun();
      const what = this.csvSelect.value;
      if (run && isCsvKind(what)) post({ type: 'exportCsv', runId: run.meta.runId, what });
    });
  }

  /** `structure`: the run list changed (rebuild the selector). */
  render(run: RunState | undefined, runs: readonly RunState[], structure: boolean): void {
    if (structure) this.renderRunSelect(run, runs);
    this.emptyNote.hidden = runs.length > 0;
    const starting = run?.meta.status === 'starting';
    this.startingNote.hidden = !starting;
    if (run && starting) this.startingNote.textContent = startingText(run.meta);
    this.renderStatus(run);
    this.renderGroups(run);
    this.renderPairing(run);
    this.renderFailure(run);
  }

  /** The group selector: shown for nets with layer groups, rebuilt when the groups change. */
  private renderGroups(run: RunState | undefined): void {
    const groups = run ? runLayerGroups(run) : null;
    this.groupField.hidden = groups === null;
    if (groups === null) return;
    const total = groups.reduce((a, g) => a + g.layers.length, 0);
    const key = JSON.stringify(groups.map((g) => [g.name, g.layers.length]));
    if (key !== this.groupKey) {
      this.groupKey = key;
      clear(this.groupSelect);
      this.groupSelect.append(h('option', { attrs: { value: '' } }, `all ${total}`));
      for (const g of groups) this.groupSelect.append(h('option', { attrs: { value: g.name } }, g.layers.length > 1 ? `${g.name} (${g.layers.length})` : g.name));
    }
    this.groupSelect.value = groups.some((g) => g.name === this.ui.layerGroup) ? this.ui.layerGroup : '';
  }

  private renderRunSelect(run: RunState | undefined, runs: readonly RunState[]): void {
    clear(this.runSelect);
    for (const r of runs) this.runSelect.append(h('option', { attrs: { value: r.meta.runId, title: statusDescription(r.meta.status, r.meta.diverged) } }, runOptionText(r.meta)));
    this.runSelect.disabled = runs.length === 0;
    if (run) this.runSelect.value = run.meta.runId;
    // The picker shrinks to the page's width (the text is cut): the whole text on hover.
    this.runSelect.title = this.runSelect.selectedOptions[0]?.textContent ?? '';
  }

  private renderStatus(run: RunState | undefined): void {
    if (!run) {
      this.statusBadge.textContent = '';
      this.statusBadge.className = 'gf-badge';
      this.infoLine.textContent = '';
      return;
    }
    const { status, diverged } = run.meta;
    this.statusBadge.textContent = statusLabel(status, diverged);
    this.statusBadge.className = `gf-badge gf-status-${status}`;
    this.statusBadge.title = statusTitle(run.meta);
    const parts: string[] = [];
    const s = run.setup;
    if (s) parts.push(`${s.dataset.name} (${fmtInt(s.dataset.train)} train / ${fmtInt(s.dataset.validation)} val / ${fmtInt(s.dataset.test)} test)`);
    const backend = s?.backend ?? run.meta.backend;
    if (backend) parts.push(`backend ${backend}`);
    const first = run.nets[0];
    if (first) {
      const total = s ? ` / ${fmtInt(s.totalSteps)}` : '';
      parts.push(`step ${fmtInt(first.series.lastStep)}${total}`);
      const shown = Math.max(first.series.loss.x.length, first.series.egf2.x.length);
      if (first.series.count > shown) parts.push(`plotting ${fmtInt(shown)} of ${fmtInt(first.series.count)} points per series (min/max kept)`);
    }
    const updates = run.nets.flatMap((n) => n.maskUpdates);
    if (updates.length > 0) parts.push(`${fmtInt(updates.length)} mask update${updates.length > 1 ? 's' : ''} (${[...new Set(updates.map((u) => u.method))].join(', ')})`);
    if (run.meta.sourceFile) parts.push(run.meta.sourceFile);
    // A failure's message is in its own panel.
    if (run.meta.message && status !== 'running' && status !== 'starting' && !isFailure(status)) parts.push(run.meta.message);
    this.infoLine.textContent = parts.join(' · ');
  }

  private renderPairing(run: RunState | undefined): void {
    const sparse = run?.setup?.nets.find((n) => n.pruning !== undefined && !n.pruning.scsdcPerLayer);
    this.pairingNote.hidden = sparse === undefined;
    if (run === undefined || sparse?.pruning === undefined) return;
    const densities = sparse.layers.map((l) => `${l.name} ${densityText(l.total > 0 ? l.active / l.total : l.density)}`).join(', ');
    const pair = (run.setup?.nets.length ?? 0) > 1;
    this.pairingNote.textContent =
      `${pair ? 'Not SC-SDC per layer: ' : ''}${sparse.pruning.method} with global scope chose the per-layer densities (${densities})` +
      (pair ? `; the dense twin is matched in total active weights (${fmtInt(sparse.activeWeights)}) only, not layer by layer.` : '.');
  }

  private renderFailure(run: RunState | undefined): void {
    const status = run?.meta.status;
    this.failurePanel.hidden = run === undefined || status === undefined || !isFailure(status);
    if (run === undefined || this.failurePanel.hidden) return;
    const { meta } = run;
    const measured = run.nets.some((n) => n.series.count > 0 || n.epochs.length > 0);
    this.failureTitle.textContent = `${statusDescription(meta.status)}${measured ? ' What it measured is below.' : ' It measured nothing.'}`;
    this.failureMessage.textContent = meta.message !== undefined && meta.message !== '' ? meta.message : 'No error message was recorded.';
    const tail = meta.logTail ?? [];
    this.failureLog.textContent = tail.length > 0 ? tail.join('\n') : 'No log lines were recorded.';
  }
}

function csvLabel(k: CsvKind): string {
  switch (k) {
    case 'steps':
      return 'Steps (loss, EGF, ‖g‖)';
    case 'layers':
      return 'Layer norms per step';
    case 'epochs':
      return 'Epoch metrics';
    case 'alerts':
      return 'Alerts';
    case 'masks':
      return 'Mask updates per layer';
    default: {
      const never: never = k;
      return never;
    }
  }
}
