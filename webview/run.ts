/**
 * The run view: one run's gradient-flow charts, layer table, heatmap and alerts, beside the sweep
 * view (`sweep.ts`). `main.ts` owns the model, the tabs and the frame scheduling; this view draws
 * the run it is given and reports the user's choices back through `RunViewHost`.
 */
import type { NetRole } from '../src/shared/experiment';
import type { Alert } from '../src/shared/protocol';
import { CSV_KINDS, isCsvKind, type CsvKind, type NetState, type Points, type RunState } from '../src/shared/webview-protocol';
import { LineChart, type SeriesSpec, type XY } from './charts';
import { densityText } from '../src/shared/format';
import { isFailure, statusDescription, statusLabel } from '../src/shared/run-status';
import { maskDrift, maskUpdateSteps } from '../src/shared/webview/mask-drift';
import { runOptionText, startingText, statusTitle } from '../src/shared/webview/run-text';
import { clear, fmtInt, fmtNum, h } from './dom';
import { Heatmap, type HeatmapRow } from './heatmap';
import type { Theme } from './theme';
import { post, type UiState } from './vscode-api';

export interface RunViewHost {
  /** The user picked another run in the selector. */
  runChosen(runId: string): void;
  /** A display option (log scale, heatmap net) changed in `ui`: persist it and redraw. */
  optionsChanged(): void;
}

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
  let runs: readonly RunState[] = [];
  const selectedRun = (): RunState | undefined => shown;
  const root = h('div', { attrs: { id: 'gf-run-view', role: 'tabpanel', 'aria-labelledby': 'gf-tab-run' } });

  const runSelect = h('select', { attrs: { id: 'gf-run', 'aria-label': 'Run' } });
  const statusBadge = h('span', { class: 'gf-badge' });
  const logToggle = h('input', { attrs: { type: 'checkbox', id: 'gf-log' } });
  const csvSelect = h('select', { attrs: { 'aria-label': 'CSV data' } });
  for (const k of CSV_KINDS) csvSelect.append(h('option', { attrs: { value: k } }, csvLabel(k)));
  const csvButton = h('button', { class: 'gf-button', attrs: { type: 'button' } }, 'Export CSV');
  const infoLine = h('div', { class: 'gf-info' });
  // A global pruning scope: the pair is matched in total only (issue 9), said at the top, not only in the Layers table.
  const pairingNote = h('p', { class: 'gf-warn gf-pairing', attrs: { id: 'gf-pairing', hidden: '' } });
  // Shown from the moment Run is pressed until the trainer reports its run (backend, data, networks).
  const startingNote = h('div', { class: 'gf-starting', attrs: { role: 'status', 'aria-live': 'polite', hidden: '' } });
  // A failed, killed or corrupt run: its error and the last lines of its log (issue 11), above what it measured.
  const failureTitle = h('h2', {});
  const failureMessage = h('p', {});
  const failureLog = h('pre', { class: 'gf-log-tail', attrs: { tabindex: '0', 'aria-label': 'Last lines of the run log' } });
  const failurePanel = h('section', { class: 'gf-failure', attrs: { id: 'gf-failure', role: 'region', 'aria-label': 'Why the run ended', hidden: '' } }, failureTitle, failureMessage, failureLog);
  const emptyNote = h(
    'p',
    { class: 'gf-empty' },
    'No runs yet. Run an experiment file (Gradflow: Run Experiment, or the ▶ code lens) to see live gradient flow here.',
  );

  root.append(
    h(
      'header',
      { class: 'gf-toolbar' },
      h('label', { class: 'gf-field' }, 'Run ', runSelect),
      statusBadge,
      h('span', { class: 'gf-spacer' }),
      h('label', { class: 'gf-field', title: 'Logarithmic y axis for gradient norms' }, logToggle, ' Log scale'),
      h('span', { class: 'gf-field' }, csvSelect, csvButton),
    ),
    infoLine,
    pairingNote,
    startingNote,
    failurePanel,
    emptyNote,
  );

  const grid = h('div', { class: 'gf-grid' });
  root.append(grid);

  interface Card {
    root: HTMLElement;
    body: HTMLElement;
    actions: HTMLElement;
  }

  function card(id: string, title: string, subtitle: string, wide = false): Card {
    const actions = h('span', { class: 'gf-actions' });
    const body = h('div', { class: 'gf-card-body' });
    const root = h(
      'section',
      { class: wide ? 'gf-card gf-wide' : 'gf-card', attrs: { id: `gf-${id}`, 'aria-label': title } },
      h('div', { class: 'gf-card-head' }, h('h2', {}, title), actions),
      h('p', { class: 'gf-sub' }, subtitle),
      body,
    );
    grid.append(root);
    return { root, body, actions };
  }

  function pngButton(c: Card, name: string, canvas: () => string): void {
    const b = h('button', { class: 'gf-button gf-small', attrs: { type: 'button', title: 'Save this chart as PNG' } }, 'PNG');
    b.addEventListener('click', () => {
      const run = selectedRun();
      post({ type: 'savePng', name: fileName(`${run ? run.meta.title : 'gradflow'}-${name}`), dataUrl: canvas() });
    });
    c.actions.append(b);
  }

  function chartCard(id: string, title: string, subtitle: string, spec: ConstructorParameters<typeof LineChart>[1]): LineChart {
    const c = card(id, title, subtitle);
    const canvas = h('canvas', { attrs: { role: 'img', 'aria-label': title } });
    c.body.append(h('div', { class: 'gf-chart-box' }, canvas));
    const chart = new LineChart(canvas, spec, theme);
    pngButton(c, id, () => chart.toPng());
    return chart;
  }

  const l1Chart = chartCard('l1', 'EGF₁ and ‖g‖₁', 'Masked (EGF, what the optimizer sees) vs raw gradient, L1, on norm-collecting steps (monitoring.every). ‖g‖₁ of a sparse net is drawn only on steps that are multiples of engine.raw_l1_every (gaps in between); the 11 flow points always carry it. Dotted verticals: mask updates (sparsity.dynamic).', {
    xTitle: 'step', yTitle: 'L1 norm', logCapable: true,
  });
  const l2Chart = chartCard('l2', 'EGF₂ and ‖g‖₂', 'Masked (EGF) vs raw gradient, L2, on norm-collecting steps (monitoring.every). ‖g‖₂ of a sparse net is drawn only on steps that are multiples of engine.raw_l2_every (on the sparse path from the Gram identity, exact); the 11 flow points always carry it. Dotted verticals: mask updates (sparsity.dynamic).', {
    xTitle: 'step', yTitle: 'L2 norm', logCapable: true,
  });
  const layerChart = chartCard('layers', 'Masked L2 norm per layer', '‖g ⊙ m‖₂ of each weight layer per step. Log scale: a norm of 0 (collapsed layer) is a ▲ on the axis floor. Dotted verticals: mask updates.', {
    xTitle: 'step', yTitle: '‖g ⊙ m‖₂', logCapable: true,
  });
  // Dynamic sparse training only: hidden for runs whose masks never move.
  const driftChart = chartCard('drift', 'Mask drift per layer', 'Share of each layer\'s initial active weights no longer active (1 − overlap with the initial mask), at every mask update (sparsity.dynamic). The tooltip gives the update\'s dropped and grown counts.', {
    xTitle: 'step', yTitle: 'moved from the initial mask', logCapable: false, percent: true,
  });
  const driftCard = driftChart.canvas.closest('section');

  const alertsCard = card('alerts', 'Alerts', 'Click an alert to open the experiment-file line it concerns.');
  const alertCount = h('span', { class: 'gf-count' });
  alertsCard.actions.append(alertCount);

  const heatCard = card('heatmap', 'Layer × step', 'Masked L2 norm per layer (log colour). Dark: vanishing; bright: large; red: NaN/Inf.', true);
  const heatNetSelect = h('select', { attrs: { 'aria-label': 'Net shown in the heatmap' } });
  for (const v of ['both', 'sparse', 'dense'] as const) heatNetSelect.append(h('option', { attrs: { value: v } }, v === 'both' ? 'sparse + dense' : v));
  heatCard.actions.append(heatNetSelect);
  const heatCanvas = h('canvas', { class: 'gf-heatmap', attrs: { role: 'img', 'aria-label': 'Layer by step heatmap' } });
  heatCard.body.append(h('div', { class: 'gf-heat-box' }, heatCanvas));
  const heatmap = new Heatmap(heatCanvas);
  pngButton(heatCard, 'heatmap', () => {
    const out = document.createElement('canvas');
    out.width = heatCanvas.width;
    out.height = heatCanvas.height;
    const ctx = out.getContext('2d');
    if (!ctx) return heatCanvas.toDataURL('image/png');
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(heatCanvas, 0, 0);
    return out.toDataURL('image/png');
  });

  const accChart = chartCard('accuracy', 'Accuracy per epoch', 'Train, validation and test accuracy after each epoch.', {
    xTitle: 'epoch', yTitle: 'accuracy', logCapable: false, percent: true, integerX: true,
  });
  const lossChart = chartCard('loss', 'Loss per epoch', 'Train, validation and test loss after each epoch.', {
    xTitle: 'epoch', yTitle: 'loss', logCapable: false, integerX: true,
  });

  const tableCard = card('density', 'Layers', 'Density and active (unmasked) weights per layer; latest masked L2 norm.', true);

  const charts = [l1Chart, l2Chart, layerChart, driftChart, accChart, lossChart];

  logToggle.checked = ui.logScale;
  heatNetSelect.value = ui.heatmapNet;

  runSelect.addEventListener('change', () => host.runChosen(runSelect.value));
  logToggle.addEventListener('change', () => {
    ui.logScale = logToggle.checked;
    host.optionsChanged();
  });
  heatNetSelect.addEventListener('change', () => {
    const v = heatNetSelect.value;
    if (v === 'both' || v === 'sparse' || v === 'dense') ui.heatmapNet = v;
    host.optionsChanged();
  });
  csvButton.addEventListener('click', () => {
    const run = selectedRun();
    const what = csvSelect.value;
    if (run && isCsvKind(what)) post({ type: 'exportCsv', runId: run.meta.runId, what });
  });

  let resizeQueued = false;
  new ResizeObserver(() => {
    // The heatmap is ours to size (chart.js resizes its own canvases).
    if (resizeQueued) return;
    resizeQueued = true;
    requestAnimationFrame(() => {
      resizeQueued = false;
      drawHeatmap(selectedRun());
    });
  }).observe(heatCard.body);

  function renderRun(structure: boolean): void {
    const run = selectedRun();
    if (structure) renderRunSelect(run);
    emptyNote.hidden = runs.length > 0;
    const starting = run?.meta.status === 'starting';
    startingNote.hidden = !starting;
    if (run && starting) startingNote.textContent = startingText(run.meta);
    // Nothing to chart before the trainer reported its networks (starting, or failed while starting).
    grid.hidden = run === undefined || (run.setup === null && run.nets.length === 0);
    renderStatus(run);
    renderPairing(run);
    renderFailure(run);
    if (!run || grid.hidden) return;
    const pair = run.nets.length > 1;
    const log = ui.logScale;
    const markers = { xs: maskUpdateSteps(run.nets), color: theme.muted };
    for (const c of [l1Chart, l2Chart, layerChart]) {
      c.setLog(log);
      c.setMarkers(markers);
    }
    renderDrift(run, pair);
    const fp = flowPointsSeries(run);
    l1Chart.setSeries([
      ...perNet(run, pair, (n, suffix, dashed) => [
        line(`egf1-${n.net}`, `EGF₁${suffix}`, theme.blue, dashed, n.series.egf1),
        line(`g1-${n.net}`, `‖g‖₁${suffix}`, theme.orange, dashed, n.series.g1),
      ]),
      ...fp.map((p) => ({ ...p.l1 })),
    ]);
    l2Chart.setSeries([
      ...perNet(run, pair, (n, suffix, dashed) => [
        line(`egf2-${n.net}`, `EGF₂${suffix}`, theme.blue, dashed, n.series.egf2),
        line(`g2-${n.net}`, `‖g‖₂${suffix}`, theme.orange, dashed, n.series.g2),
      ]),
      ...fp.map((p) => ({ ...p.l2 })),
    ]);
    layerChart.setSeries(
      perNet(run, pair, (n, suffix, dashed) =>
        n.series.layerL2.map((pts, l) =>
          line(`layer${l}-${n.net}`, `${layerName(run, n.net, l)}${suffix}`, theme.palette[l % theme.palette.length], dashed, pts),
        ),
      ),
    );
    const splits = [
      ['train', 'train', theme.blue],
      ['validation', 'validation', theme.orange],
      ['test', 'test', theme.green],
    ] as const;
    accChart.setSeries(
      perNet(run, pair, (n, suffix, dashed) =>
        splits.map(([k, label, color]) => epochLine(`acc-${k}-${n.net}`, `${label}${suffix}`, color, dashed, n, (e) => e[k].accuracy)),
      ),
    );
    lossChart.setSeries(
      perNet(run, pair, (n, suffix, dashed) =>
        splits.map(([k, label, color]) => epochLine(`loss-${k}-${n.net}`, `${label}${suffix}`, color, dashed, n, (e) => e[k].loss)),
      ),
    );
    heatCard.actions.hidden = false;
    heatNetSelect.hidden = !pair;
    drawHeatmap(run);
    renderTable(run);
    if (structure) renderAlerts(run);
  }

  function renderDrift(run: RunState, pair: boolean): void {
    const moving = run.nets.filter((n) => n.maskUpdates.length > 0);
    if (driftCard) driftCard.hidden = moving.length === 0;
    if (moving.length === 0) return;
    driftChart.setSeries(
      moving.flatMap((n) =>
        maskDrift(n.maskUpdates).map((d) => ({
          key: `drift${d.layer}-${n.net}`,
          label: `${layerName(run, n.net, d.layer)}${pair ? ` · ${n.net}` : ''}`,
          color: theme.palette[d.layer % theme.palette.length],
          dashed: pair && n.net === 'dense',
          points: true,
          data: d.points.map((p) => ({
            x: p.step,
            y: p.moved,
            note: p.step === 0 ? 'initial mask' : `dropped ${fmtInt(p.dropped)}, grown ${fmtInt(p.grown)} (${fmtInt(p.regrown)} regrown), ${fmtInt(p.active)} active`,
          })),
        })),
      ),
    );
  }

  function renderRunSelect(run: RunState | undefined): void {
    clear(runSelect);
    for (const r of runs) runSelect.append(h('option', { attrs: { value: r.meta.runId, title: statusDescription(r.meta.status, r.meta.diverged) } }, runOptionText(r.meta)));
    runSelect.disabled = runs.length === 0;
    if (run) runSelect.value = run.meta.runId;
  }

  function renderStatus(run: RunState | undefined): void {
    if (!run) {
      statusBadge.textContent = '';
      statusBadge.className = 'gf-badge';
      infoLine.textContent = '';
      return;
    }
    const { status, diverged } = run.meta;
    statusBadge.textContent = statusLabel(status, diverged);
    statusBadge.className = `gf-badge gf-status-${status}`;
    statusBadge.title = statusTitle(run.meta);
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
    infoLine.textContent = parts.join(' · ');
  }

  function renderPairing(run: RunState | undefined): void {
    const sparse = run?.setup?.nets.find((n) => n.pruning !== undefined && !n.pruning.scsdcPerLayer);
    pairingNote.hidden = sparse === undefined;
    if (run === undefined || sparse?.pruning === undefined) return;
    const densities = sparse.layers.map((l) => `${l.name} ${densityText(l.total > 0 ? l.active / l.total : l.density)}`).join(', ');
    const pair = (run.setup?.nets.length ?? 0) > 1;
    pairingNote.textContent =
      `${pair ? 'Not SC-SDC per layer: ' : ''}${sparse.pruning.method} with global scope chose the per-layer densities (${densities})` +
      (pair ? `; the dense twin is matched in total active weights (${fmtInt(sparse.activeWeights)}) only, not layer by layer.` : '.');
  }

  function renderFailure(run: RunState | undefined): void {
    const status = run?.meta.status;
    failurePanel.hidden = run === undefined || status === undefined || !isFailure(status);
    if (run === undefined || failurePanel.hidden) return;
    const { meta } = run;
    const measured = run.nets.some((n) => n.series.count > 0 || n.epochs.length > 0);
    failureTitle.textContent = `${statusDescription(meta.status)}${measured ? ' What it measured is below.' : ' It measured nothing.'}`;
    failureMessage.textContent = meta.message !== undefined && meta.message !== '' ? meta.message : 'No error message was recorded.';
    const tail = meta.logTail ?? [];
    failureLog.textContent = tail.length > 0 ? tail.join('\n') : 'No log lines were recorded.';
  }

  /** The 11 EGF evaluation points (method.md §3), placed at their epoch's step, as markers. */
  function flowPointsSeries(run: RunState): { l1: SeriesSpec; l2: SeriesSpec }[] {
    const spe = run.setup?.stepsPerEpoch ?? 0;
    if (spe <= 0) return [];
    const pair = run.nets.length > 1;
    return run.nets
      .filter((n) => n.flowPoints.length > 0)
      .map((n) => {
        const suffix = pair ? ` · ${n.net}` : '';
        const dashed = pair && n.net === 'dense';
        const pts = (k: 'egf1' | 'egf2'): XY[] => n.flowPoints.map((p) => ({ x: Math.max(1, p.epoch * spe), y: p[k] }));
        return {
          l1: { key: `fp1-${n.net}`, label: `EGF₁ eval points${suffix}`, color: theme.purple, dashed, markersOnly: true, data: pts('egf1') },
          l2: { key: `fp2-${n.net}`, label: `EGF₂ eval points${suffix}`, color: theme.purple, dashed, markersOnly: true, data: pts('egf2') },
        };
      });
  }

  function drawHeatmap(run: RunState | undefined): void {
    if (!run) return;
    const pair = run.nets.length > 1;
    const rows: HeatmapRow[] = [];
    for (const n of run.nets) {
      if (pair && ui.heatmapNet !== 'both' && ui.heatmapNet !== n.net) continue;
      n.series.layerL2.forEach((points, l) => rows.push({ label: `${pair ? `${n.net} · ` : ''}${layerName(run, n.net, l)}`, points }));
    }
    heatmap.draw(rows, theme);
  }

  function renderTable(run: RunState): void {
    clear(tableCard.body);
    const setupNets = run.setup?.nets ?? [];
    if (setupNets.length === 0) {
      tableCard.body.append(h('p', { class: 'gf-muted' }, 'Waiting for the trainer to build the networks…'));
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
    tableCard.body.append(table);
    // A global pruning scope lets the criterion choose the per-layer counts (docs/pruning.md).
    const pruning = setupNets.find((n) => n.pruning)?.pruning;
    if (pruning) {
      const note = pruning.scsdcPerLayer
        ? `Masks: ${pruning.method}, layerwise (SC-SDC counts in every layer).`
        : `Masks: ${pruning.method}, global scope: the per-layer densities above were chosen by the criterion.${pair ? ' The dense twin matches in total active weights only: this pair is not SC-SDC per layer.' : ''}`;
      tableCard.body.append(h('p', { class: pruning.scsdcPerLayer ? 'gf-muted gf-pruning' : 'gf-warn gf-pruning' }, note));
    }
  }

  function renderAlerts(run: RunState): void {
    clear(alertsCard.body);
    alertCount.textContent = run.alerts.length > 0 ? String(run.alerts.length) : '';
    if (run.alerts.length === 0) {
      alertsCard.body.append(h('p', { class: 'gf-muted' }, 'No alerts: no NaN, explosion, collapse or mask leak detected.'));
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
    alertsCard.body.append(list);
  }

  return {
    root,
    render(run, all, structure) {
      shown = run;
      runs = all;
      renderRun(structure);
    },
    setTheme(t) {
      theme = t;
      for (const c of charts) c.setTheme(t);
    },
  };
}

/** Builds each net's series; for a pair the dense twin is dashed and labelled. */
function perNet(run: RunState, pair: boolean, f: (n: NetState, suffix: string, dashed: boolean) => SeriesSpec[]): SeriesSpec[] {
  return run.nets.flatMap((n) => f(n, pair ? ` · ${n.net}` : '', pair && n.net === 'dense'));
}

function toXY(p: Points): XY[] {
  const out: XY[] = new Array<XY>(p.x.length);
  for (let i = 0; i < p.x.length; i++) out[i] = { x: p.x[i], y: p.y[i] };
  return out;
}

function line(key: string, label: string, color: string, dashed: boolean, p: Points): SeriesSpec {
  return { key, label, color, dashed, data: toXY(p) };
}

function epochLine(
  key: string,
  label: string,
  color: string,
  dashed: boolean,
  n: NetState,
  pick: (e: NetState['epochs'][number]) => number | null,
): SeriesSpec {
  return { key, label, color, dashed, points: true, data: n.epochs.map((e) => ({ x: e.epoch, y: pick(e) })) };
}

function layerName(run: RunState, net: NetRole, layer: number): string {
  if (layer < 0) return 'whole network';
  return run.setup?.nets.find((n) => n.net === net)?.layers[layer]?.name ?? `layer ${layer}`;
}

function lastValue(p: Points | undefined): number | null | undefined {
  if (!p || p.y.length === 0) return undefined;
  return p.y[p.y.length - 1];
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

/** Must pass the host's name check (`isPageToHost`): letters/digits first, then a plain set. */
function fileName(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9._ -]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 90);
  return clean.length > 0 ? clean : 'gradflow-chart';
}
