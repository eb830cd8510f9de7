/**
 * The run view's cards below the step charts: the alerts (a click opens the experiment-file line),
 * the layer × step heatmap, and the layer table (density, active weights, dead units).
 */
import type { Alert } from '../src/shared/protocol';
import { densityText } from '../src/shared/format';
import type { RunState } from '../src/shared/webview-protocol';
import { clear, fmtInt, fmtNum, h } from './dom';
import { Heatmap, type HeatmapRow } from './heatmap';
import type { Card, CardGrid } from './run-cards';
import { lastValue, layerName } from './run-series';
import type { Theme } from './theme';
import { post, type UiState } from './vscode-api';

/** The alerts of the run, each a button that asks the host to reveal its line. */
export class AlertsCard {
  private readonly card: Card;
  private readonly count = h('span', { class: 'gf-count' });

  constructor(grid: CardGrid) {
    this.card = grid.card('alerts', 'Alerts', 'Click an alert to open the experiment-file line it concerns.');
    this.card.actions.append(this.count);
  }

  render(run: RunState): void {
    clear(this.card.body);
    this.count.textContent = run.alerts.length > 0 ? String(run.alerts.length) : '';
    if (run.alerts.length === 0) {
      this.card.body.append(h('p', { class: 'gf-muted' }, 'No alerts: no NaN, explosion, collapse or mask leak detected.'));
      return;
    }
    const list = h('ul', { class: 'gf-alerts' });
    run.alerts.forEach((a: Alert, index) => {
      const button = h(
        'button',
        { class: `gf-alert gf-${a.severity}`, attrs: { type: 'button', 'data-alert-index': String(index) } },
        h('span', { class: 'gf-alert-kind' }, a.kind),
        h('span', { class: 'gf-alert-meta' }, `step ${fmtInt(a.step)} · ${layerName(run, a.net, a.layer)}${run.nets.length > 1 ? ` · ${a.net}` : ''} · ${fmtNum(a.value)}`),
        h('span', { class: 'gf-alert-msg' }, a.message),
      );
      button.addEventListener('click', () => post({ type: 'revealAlert', runId: run.meta.runId, alertIndex: index }));
      list.append(h('li', {}, button));
    });
    this.card.body.append(list);
  }
}

/** Masked L2 norm per layer and step, sized to its card (chart.js sizes its own canvases, this one is ours). */
export class HeatmapCard {
  private readonly card: Card;
  private readonly netSelect = h('select', { attrs: { 'aria-label': 'Net shown in the heatmap' } });
  private readonly canvas = h('canvas', { class: 'gf-heatmap', attrs: { role: 'img', 'aria-label': 'Layer by step heatmap' } });
  private readonly heatmap = new Heatmap(this.canvas);
  private resizeQueued = false;

  constructor(
    grid: CardGrid,
    private readonly ui: UiState,
    private readonly theme: () => Theme,
    selectedRun: () => RunState | undefined,
    optionsChanged: () => void,
  ) {
    this.card = grid.card('heatmap', 'Layer × step', 'Masked L2 norm per layer (log colour). Dark: vanishing; bright: large; red: NaN/Inf.', true);
    for (const v of ['both', 'sparse', 'dense'] as const) this.netSelect.append(h('option', { attrs: { value: v } }, v === 'both' ? 'sparse + dense' : v));
    this.card.actions.append(this.netSelect);
    this.card.body.append(h('div', { class: 'gf-heat-box' }, this.canvas));
    grid.pngButton(this.card, 'heatmap', () => this.png());
    this.netSelect.value = ui.heatmapNet;
    this.netSelect.addEventListener('change', () => {
      const v = this.netSelect.value;
      if (v === 'both' || v === 'sparse' || v === 'dense') ui.heatmapNet = v;
      optionsChanged();
    });
    new ResizeObserver(() => {
      if (this.resizeQueued) return;
      this.resizeQueued = true;
      requestAnimationFrame(() => {
        this.resizeQueued = false;
        this.draw(selectedRun());
      });
    }).observe(this.card.body);
  }

  render(run: RunState): void {
    this.card.actions.hidden = false;
    this.netSelect.hidden = run.nets.length <= 1;
    this.draw(run);
  }

  private draw(run: RunState | undefined): void {
    if (!run) return;
    const pair = run.nets.length > 1;
    const rows: HeatmapRow[] = [];
    for (const n of run.nets) {
      if (pair && this.ui.heatmapNet !== 'both' && this.ui.heatmapNet !== n.net) continue;
      n.series.layerL2.forEach((points, l) => rows.push({ label: `${pair ? `${n.net} · ` : ''}${layerName(run, n.net, l)}`, points }));
    }
    this.heatmap.draw(rows, this.theme());
  }

  /** The heatmap on the theme's background (the canvas itself is transparent). */
  private png(): string {
    const out = document.createElement('canvas');
    out.width = this.canvas.width;
    out.height = this.canvas.height;
    const ctx = out.getContext('2d');
    if (!ctx) return this.canvas.toDataURL('image/png');
    ctx.fillStyle = this.theme().background;
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(this.canvas, 0, 0);
    return out.toDataURL('image/png');
  }
}

/** Per layer: shape, active and total weights, density, dead units, last masked norm. */
export class LayerTable {
  private readonly card: Card;

  constructor(grid: CardGrid) {
    this.card = grid.card('density', 'Layers', 'Density and active (unmasked) weights per layer; latest masked L2 norm.', true);
  }

  render(run: RunState): void {
    clear(this.card.body);
    const setupNets = run.setup?.nets ?? [];
    if (setupNets.length === 0) {
      this.card.body.append(h('p', { class: 'gf-muted' }, 'Waiting for the trainer to build the networks…'));
      return;
    }
    const pair = setupNets.length > 1;
    const table = h('table', { class: 'gf-table' });
    table.append(
      h('thead', {}, h('tr', {}, ...[pair ? 'net' : null, 'layer', 'shape', 'active', 'total', 'density', 'dead units', 'last ‖g⊙m‖₂']
        .filter((x): x is string => x !== null)
        .map((t) => h('th', {}, t)))),
    );
    const tbody = h('tbody');
    for (const info of setupNets) {
      const series = run.nets.find((n) => n.net === info.net)?.series;
      info.layers.forEach((l, i) => {
        // A live count that differs from the mask-time count is a mask leak: show the live one.
        const live = series?.active[i];
        const active = live !== undefined && live > 0 ? live : l.active;
        const density = l.total > 0 ? active / l.total : l.density;
        const bar = h('span', { class: 'gf-bar' });
        bar.style.width = `${Math.max(0, Math.min(100, density * 100)).toFixed(1)}%`; // CSSOM: allowed by the CSP
        const lastY = series ? lastValue(series.layerL2[i]) : undefined;
        tbody.append(
          h(
            'tr',
            { class: active !== l.active ? 'gf-leak' : '' },
            pair ? h('td', {}, info.net) : null,
            h('td', {}, l.name),
            h('td', { class: 'gf-num' }, `${l.fanIn}×${l.fanOut}`),
            h('td', { class: 'gf-num', title: active !== l.active ? `mask had ${fmtInt(l.active)} active weights` : '' }, fmtInt(active)),
            h('td', { class: 'gf-num' }, fmtInt(l.total)),
            h('td', { class: 'gf-density', title: `${fmtInt(active)} of ${fmtInt(l.total)} weights` }, h('span', { class: 'gf-bar-track' }, bar), ` ${densityText(density)}`),
            h('td', { class: l.deadUnits > 0 ? 'gf-num gf-warn' : 'gf-num' }, fmtInt(l.deadUnits)),
            h('td', { class: 'gf-num' }, lastY === undefined ? '—' : fmtNum(lastY)),
          ),
        );
      });
      tbody.append(
        h('tr', { class: 'gf-total' }, pair ? h('td', {}, info.net) : null, h('td', {}, 'total'), h('td', {}, `width ${info.width}`),
          h('td', { class: 'gf-num' }, fmtInt(info.activeWeights)), h('td', {}), h('td', {}), h('td', {}), h('td', {})),
      );
    }
    table.append(tbody);
    this.card.body.append(table);
    // A global pruning scope lets the criterion choose the per-layer counts (docs/pruning.md).
    const pruning = setupNets.find((n) => n.pruning)?.pruning;
    if (pruning) {
      const note = pruning.scsdcPerLayer
        ? `Masks: ${pruning.method}, layerwise (SC-SDC counts in every layer).`
        : `Masks: ${pruning.method}, global scope: the per-layer densities above were chosen by the criterion.${pair ? ' The dense twin matches in total active weights only: this pair is not SC-SDC per layer.' : ''}`;
      this.card.body.append(h('p', { class: pruning.scsdcPerLayer ? 'gf-muted gf-pruning' : 'gf-warn gf-pruning' }, note));
    }
  }
}
