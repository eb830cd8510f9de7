/**
 * The run view's cards below the step charts: the alerts (a click opens the experiment-file line),
 * the layer × step heatmap, and the layer table (density, active weights, dead units).
 */
import { densityText } from '../src/shared/format';
import type { Alert, NetInfo } from '../src/shared/protocol';
import type { Points, RunState } from '../src/shared/webview-protocol';
import { clear, fmtInt, fmtNum, h } from './dom';
import { Heatmap, type HeatmapRow } from './heatmap';
import type { Card, CardGrid } from './run-cards';
import { groupOf, nameInGroup } from '../src/shared/webview/layer-groups';
import { lastValue, layerName, runLayerGroups, shownGroup, shownLayers } from './run-series';
import type { Theme } from './theme';
import { post, type UiState } from './vscode-api';
import { at } from '../src/shared/checked';

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
    // A deep net: the chosen group's layers named inside it (`block3.conv1`), or all of them with a
    // line between groups. MLPs have no groups and are drawn as before.
    const grouped = runLayerGroups(run) !== null;
    const group = shownGroup(run, this.ui.layerGroup);
    for (const n of run.nets) {
      if (pair && this.ui.heatmapNet !== 'both' && this.ui.heatmapNet !== n.net) continue;
      const prefix = pair ? `${n.net} · ` : '';
      let previous: string | undefined;
      shownLayers(run, this.ui.layerGroup, n.series.layerL2.length).forEach((l, k) => {
        const name = layerName(run, n.net, l);
        const g = groupOf(name);
        const label = `${prefix}${group !== null ? nameInGroup(name) : name}`;
        rows.push({ label, title: `${prefix}${name}`, points: at(n.series.layerL2, l), groupStart: (grouped && g !== previous) || (k === 0 && rows.length > 0) });
        previous = g;
      });
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

  constructor(
    grid: CardGrid,
    private readonly ui: UiState,
    private readonly optionsChanged: () => void,
  ) {
    this.card = grid.card('density', 'Layers', 'Density and active (unmasked) weights per layer; latest masked L2 norm.', true);
  }

  render(run: RunState): void {
    // The table is rebuilt on every draw: keep the keyboard on the group toggle it was on.
    const active = document.activeElement;
    const focusedToggle = active instanceof HTMLElement && this.card.body.contains(active) ? active.dataset.groupToggle : undefined;
    clear(this.card.body);
    const setupNets = run.setup?.nets ?? [];
    if (setupNets.length === 0) {
      this.card.body.append(h('p', { class: 'gf-muted' }, 'Waiting for the trainer to build the networks…'));
      return;
    }
    const pair = setupNets.length > 1;
    const groups = runLayerGroups(run);
    // A deep pair names its net once, in a heading row above its layers, instead of in a column
    // on every row: the width goes to the columns (an MLP pair keeps its net column).
    const netColumn = pair && groups === null;
    const table = h('table', { class: 'gf-table gf-layers' });
    // Short headers (the page may be half a window wide); each says in full on hover.
    const heads: Array<[string, string, boolean]> = [
      ['net', 'SC-SDC pair: the sparse net or its dense twin', netColumn],
      ['layer', 'Weight layer', true],
      ['shape', 'fan-in × fan-out of the kernel', true],
      ['active', 'Active (unmasked) weights', true],
      ['total', 'Weights in the kernel', true],
      ['density', 'Active / total', true],
      ['dead', 'Dead units: output units with no active incoming weight', true],
      ['‖g⊙m‖₂', 'Latest masked L2 gradient norm', true],
    ];
    table.append(h('thead', {}, h('tr', {}, ...heads.filter(([, , on]) => on).map(([t, title]) => h('th', { title, attrs: { scope: 'col' } }, t)))));
    const tbody = h('tbody');
    const columns = heads.filter(([, , on]) => on).length;
    const chosen = shownGroup(run, this.ui.layerGroup);
    for (const info of setupNets) {
      const series = run.nets.find((n) => n.net === info.net)?.series;
      const row = (i: number, label: string, inGroup: boolean): HTMLTableRowElement => {
        const l = at(info.layers, i);
        // A live count that differs from the mask-time count is a mask leak: show the live one.
        const live = series?.active[i];
        const activeNow = live !== undefined && live > 0 ? live : l.active;
        const density = l.total > 0 ? activeNow / l.total : l.density;
        const lastY = series ? lastValue(series.layerL2[i]) : undefined;
        return h(
          'tr',
          { class: `${activeNow !== l.active ? 'gf-leak' : ''}${inGroup ? ' gf-in-group' : ''}`.trim() },
          netColumn ? h('td', {}, info.net) : null,
          h('td', { class: 'gf-layer-name', title: l.name }, label),
          h('td', { class: 'gf-num' }, `${l.fanIn}×${l.fanOut}`),
          h('td', { class: 'gf-num', title: activeNow !== l.active ? `mask had ${fmtInt(l.active)} active weights` : '' }, fmtInt(activeNow)),
          h('td', { class: 'gf-num' }, fmtInt(l.total)),
          densityCell(activeNow, l.total, density),
          h('td', { class: l.deadUnits > 0 ? 'gf-num gf-warn' : 'gf-num' }, fmtInt(l.deadUnits)),
          h('td', { class: 'gf-num' }, lastY === undefined ? '—' : fmtNum(lastY)),
        );
      };
      if (pair && !netColumn) tbody.append(h('tr', { class: 'gf-net-row' }, h('th', { attrs: { colspan: String(columns), scope: 'rowgroup' } }, info.net === 'dense' ? 'dense twin' : 'sparse net')));
      if (groups === null) {
        info.layers.forEach((l, i) => tbody.append(row(i, l.name, false)));
      } else {
        for (const g of groups) {
          const idx = g.layers.filter((i) => i < info.layers.length);
          if (chosen !== null && chosen.name !== g.name) continue;
          if (idx.length === 1 && at(info.layers, at(idx, 0)).name === g.name) {
            tbody.append(row(at(idx, 0), g.name, false)); // stem, fc: a group of one
            continue;
          }
          const open = chosen !== null || this.ui.openGroups.includes(g.name);
          tbody.append(this.groupRow(info, series?.layerL2, g.name, idx, open, netColumn));
          if (open) for (const i of idx) tbody.append(row(i, nameInGroup(at(info.layers, i).name), true));
        }
      }
      tbody.append(
        h('tr', { class: 'gf-total' }, netColumn ? h('td', {}, info.net) : null, h('td', {}, 'total'), widthCell(info),
          h('td', { class: 'gf-num' }, fmtInt(info.activeWeights)), h('td', {}), h('td', {}), h('td', {}), h('td', {})),
      );
    }
    table.append(tbody);
    // Wider than the page (a narrow split): the table scrolls inside its card, never the page.
    this.card.body.append(h('div', { class: 'gf-table-wrap' }, table));
    if (focusedToggle !== undefined) {
      for (const b of this.card.body.querySelectorAll<HTMLElement>('[data-group-toggle]')) if (b.dataset.groupToggle === focusedToggle) b.focus();
    }
    // A global pruning scope lets the criterion choose the per-layer counts (docs/pruning.md).
    const pruning = setupNets.find((n) => n.pruning)?.pruning;
    if (pruning) {
      const note = pruning.scsdcPerLayer
        ? `Masks: ${pruning.method}, layerwise (SC-SDC counts in every layer).`
        : `Masks: ${pruning.method}, global scope: the per-layer densities above were chosen by the criterion.${pair ? ' The dense twin matches in total active weights only: this pair is not SC-SDC per layer.' : ''}`;
      this.card.body.append(h('p', { class: pruning.scsdcPerLayer ? 'gf-muted gf-pruning' : 'gf-warn gf-pruning' }, note));
    }
  }

  /** A group's summary row: a toggle (expand / collapse), its weights in total, its largest latest norm. */
  private groupRow(info: NetInfo, norms: Points[] | undefined, name: string, idx: number[], open: boolean, netColumn: boolean): HTMLTableRowElement {
    const active = idx.reduce((a, i) => a + at(info.layers, i).active, 0);
    const total = idx.reduce((a, i) => a + at(info.layers, i).total, 0);
    const dead = idx.reduce((a, i) => a + at(info.layers, i).deadUnits, 0);
    let maxNorm: number | null | undefined;
    for (const i of idx) {
      const v = norms ? lastValue(norms[i]) : undefined;
      if (v === undefined) continue;
      if (v === null || maxNorm === null) maxNorm = null; // NaN wins: it is the thing to see
      else maxNorm = maxNorm === undefined ? v : Math.max(maxNorm, v);
    }
    const key = `${info.net}:${name}`;
    const toggle = h(
      'button',
      { class: 'gf-group-toggle', title: `${open ? 'Collapse' : 'Expand'} ${name}: ${idx.length} layers`, attrs: { type: 'button', 'aria-expanded': String(open), 'data-group-toggle': key } },
      `${open ? '▾' : '▸'} ${name} (${idx.length})`,
    );
    toggle.addEventListener('click', () => {
      const set = new Set(this.ui.openGroups);
      if (set.has(name)) set.delete(name);
      else set.add(name);
      this.ui.openGroups = [...set];
      this.optionsChanged();
    });
    // Chosen in the toolbar's group selector: always open, nothing to toggle.
    toggle.disabled = this.ui.layerGroup === name;
    return h(
      'tr',
      { class: 'gf-group-row' },
      netColumn ? h('td', {}, info.net) : null,
      h('td', {}, toggle),
      h('td', {}),
      h('td', { class: 'gf-num' }, fmtInt(active)),
      h('td', { class: 'gf-num' }, fmtInt(total)),
      densityCell(active, total, total > 0 ? active / total : 0),
      h('td', { class: dead > 0 ? 'gf-num gf-warn' : 'gf-num' }, fmtInt(dead)),
      h('td', { class: 'gf-num', title: 'Largest latest masked L2 norm in the group' }, maxNorm === undefined ? '—' : fmtNum(maxNorm)),
    );
  }
}

function densityCell(active: number, total: number, density: number): HTMLTableCellElement {
  const bar = h('span', { class: 'gf-bar' });
  bar.style.width = `${Math.max(0, Math.min(100, density * 100)).toFixed(1)}%`; // CSSOM: allowed by the CSP
  return h('td', { class: 'gf-density', title: `${fmtInt(active)} of ${fmtInt(total)} weights` }, h('span', { class: 'gf-bar-track' }, bar), ` ${densityText(density)}`);
}

/** The total row's width cell: hidden units for an MLP, the widest layer's channels for a conv net. */
function widthCell(info: NetInfo): HTMLTableCellElement {
  return info.widthOf === 'channels'
    ? h('td', { class: 'gf-width', title: 'channels: output channels of the widest layer' }, `≤ ${fmtInt(info.width)} ch`)
    : h('td', { class: 'gf-width' }, `width ${info.width}`);
}
