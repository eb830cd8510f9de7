/**
 * The run view's line charts: per step, the gradient flow (EGF and raw norms, L1 and L2, with the 11
 * evaluation points), the masked norm per layer and the mask drift; per epoch, accuracy and loss.
 */
import type { RunState } from '../src/shared/webview-protocol';
import { maskDrift, maskUpdateSteps } from '../src/shared/webview/mask-drift';
import type { LineChart, SeriesSpec, XY } from './charts';
import { everyNth } from '../src/shared/format';
import { fmtInt } from './dom';
import type { CardGrid } from './run-cards';
import { MANY_LAYERS } from '../src/shared/webview/layer-groups';
import { epochLine, layerName, line, perNet, runLayerGroups, seriesColor, shownGroup, shownLayers } from './run-series';
import type { Theme } from './theme';
import { at } from '../src/shared/checked';

/**
 * The legend's note on which steps carry a net's raw norm (NetInfo.rawEvery: ` (every 10th step)`);
 * nothing when every norm-collecting step does.
 */
export function rawNote(run: RunState, net: string, norm: 'l1' | 'l2'): string {
  const every = run.setup?.nets.find((s) => s.net === net)?.rawEvery?.[norm] ?? 1;
  return every > 1 ? ` (${everyNth(every)})` : '';
}

/** Gradient flow per step: four cards (L1, L2, per layer, mask drift). */
export class StepCharts {
  private readonly l1: LineChart;
  private readonly l2: LineChart;
  private readonly layers: LineChart;
  private readonly drift: LineChart;
  private readonly driftCard: HTMLElement | null;

  constructor(grid: CardGrid) {
    this.l1 = grid.chartCard('l1', 'EGF₁ and ‖g‖₁', 'Masked (EGF, what the optimizer sees) vs raw gradient, L1, on norm-collecting steps (monitoring.every). ‖g‖₁ is taken only on the steps its legend names (engine.raw_l1_every; auto: every 10th step for a net with sparse-path layers, every step otherwise) and drawn through them; a gap is a NaN (divergence). The 11 flow points always carry it. Dotted verticals: mask updates (sparsity.dynamic).', {
      xTitle: 'step', yTitle: 'L1 norm', logCapable: true,
    });
    this.l2 = grid.chartCard('l2', 'EGF₂ and ‖g‖₂', 'Masked (EGF) vs raw gradient, L2, on norm-collecting steps (monitoring.every). ‖g‖₂ is taken only on the steps its legend names (engine.raw_l2_every; auto: every 10th step for a net with sparse-path layers, every step otherwise; on the sparse path from the Gram identity, exact) and drawn through them; a gap is a NaN (divergence). The 11 flow points always carry it. Dotted verticals: mask updates (sparsity.dynamic).', {
      xTitle: 'step', yTitle: 'L2 norm', logCapable: true,
    });
    this.layers = grid.chartCard('layers', 'Masked L2 norm per layer', '‖g ⊙ m‖₂ of each weight layer per step. Log scale: a norm of 0 (collapsed layer) is a ▲ on the axis floor. Dotted verticals: mask updates.', {
      xTitle: 'step', yTitle: '‖g ⊙ m‖₂', logCapable: true,
    });
    // Dynamic sparse training only: hidden for runs whose masks never move.
    this.drift = grid.chartCard('drift', 'Mask drift per layer', 'Share of each layer\'s initial active weights no longer active (1 − overlap with the initial mask), at every mask update (sparsity.dynamic). The tooltip gives the update\'s dropped and grown counts.', {
      xTitle: 'step', yTitle: 'moved from the initial mask', logCapable: false, percent: true,
    });
    this.driftCard = this.drift.canvas.closest('section');
  }

  get charts(): LineChart[] {
    return [this.l1, this.l2, this.layers, this.drift];
  }

  /** `group`: the layer group the per-layer chart shows ('' for all, ui.layerGroup). */
  render(run: RunState, theme: Theme, log: boolean, group = ''): void {
    const pair = run.nets.length > 1;
    const markers = { xs: maskUpdateSteps(run.nets), color: theme.muted };
    for (const c of [this.l1, this.l2, this.layers]) {
      c.setLog(log);
      c.setMarkers(markers);
    }
    this.renderDrift(run, pair, theme);
    const fp = this.flowPointsSeries(run, theme);
    this.l1.setSeries([
      ...perNet(run, pair, (n, suffix, dashed) => [
        line(`egf1-${n.net}`, `EGF₁${suffix}`, theme.blue, dashed, n.series.egf1),
        line(`g1-${n.net}`, `‖g‖₁${rawNote(run, n.net, 'l1')}${suffix}`, theme.orange, dashed, n.series.g1),
      ]),
      ...fp.map((p) => ({ ...p.l1 })),
    ]);
    this.l2.setSeries([
      ...perNet(run, pair, (n, suffix, dashed) => [
        line(`egf2-${n.net}`, `EGF₂${suffix}`, theme.blue, dashed, n.series.egf2),
        line(`g2-${n.net}`, `‖g‖₂${rawNote(run, n.net, 'l2')}${suffix}`, theme.orange, dashed, n.series.g2),
      ]),
      ...fp.map((p) => ({ ...p.l2 })),
    ]);
    this.renderLayers(run, theme, pair, group);
  }

  /**
   * One line per layer. A deep net shows the chosen group's layers, each its own colour; all of
   * them at once are coloured by group, with the legend hidden past MANY_LAYERS lines (the tooltip
   * names each line).
   */
  private renderLayers(run: RunState, theme: Theme, pair: boolean, group: string): void {
    const groups = runLayerGroups(run);
    const byGroup = groups !== null && shownGroup(run, group) === null;
    const groupIndex = new Map<number, number>();
    groups?.forEach((g, gi) => g.layers.forEach((l) => groupIndex.set(l, gi)));
    const series = perNet(run, pair, (n, suffix, dashed) => {
      const shown = shownLayers(run, group, n.series.layerL2.length);
      return shown.map((l, k) => {
        const color = byGroup ? at(theme.palette, (groupIndex.get(l) ?? 0) % theme.palette.length) : seriesColor(theme, k, shown.length);
        return line(`layer${l}-${n.net}`, `${layerName(run, n.net, l)}${suffix}`, color, dashed, at(n.series.layerL2, l));
      });
    });
    this.layers.setLegend(series.length <= MANY_LAYERS * (pair ? 2 : 1));
    this.layers.setSeries(series);
  }

  private renderDrift(run: RunState, pair: boolean, theme: Theme): void {
    const moving = run.nets.filter((n) => n.maskUpdates.length > 0);
    if (this.driftCard) this.driftCard.hidden = moving.length === 0;
    if (moving.length === 0) return;
    this.drift.setSeries(
      moving.flatMap((n) =>
        maskDrift(n.maskUpdates).map((d) => ({
          key: `drift${d.layer}-${n.net}`,
          label: `${layerName(run, n.net, d.layer)}${pair ? ` · ${n.net}` : ''}`,
          color: at(theme.palette, d.layer % theme.palette.length),
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

  /** The 11 EGF evaluation points (method.md §3), placed at their epoch's step, as markers. */
  private flowPointsSeries(run: RunState, theme: Theme): { l1: SeriesSpec; l2: SeriesSpec }[] {
    const spe = run.setup?.stepsPerEpoch ?? 0;
    if (spe <= 0) return [];
    const pair = run.nets.length > 1;
    return run.nets
      .filter((n) => n.flowPoints.length > 0)
      .map((n) => {
        const suffix = pair ? ` · ${n.net}` : '';
        const dashed = pair && n.net === 'dense';
        // Sparse and dense points in two colours (their markers differ too: ● and ◆).
        const color = n.net === 'dense' ? theme.green : theme.purple;
        const pts = (k: 'egf1' | 'egf2'): XY[] => n.flowPoints.map((p) => ({ x: Math.max(1, p.epoch * spe), y: p[k] }));
        return {
          l1: { key: `fp1-${n.net}`, label: `EGF₁ eval points${suffix}`, color, dashed, markersOnly: true, data: pts('egf1') },
          l2: { key: `fp2-${n.net}`, label: `EGF₂ eval points${suffix}`, color, dashed, markersOnly: true, data: pts('egf2') },
        };
      });
  }
}

/** Accuracy and loss per epoch, train / validation / test. */
export class EpochCharts {
  private readonly accuracy: LineChart;
  private readonly loss: LineChart;

  constructor(grid: CardGrid) {
    this.accuracy = grid.chartCard('accuracy', 'Accuracy per epoch', 'Train, validation and test accuracy after each epoch.', {
      xTitle: 'epoch', yTitle: 'accuracy', logCapable: false, percent: true, integerX: true,
    });
    this.loss = grid.chartCard('loss', 'Loss per epoch', 'Train, validation and test loss after each epoch.', {
      xTitle: 'epoch', yTitle: 'loss', logCapable: false, integerX: true,
    });
  }

  get charts(): LineChart[] {
    return [this.accuracy, this.loss];
  }

  render(run: RunState, theme: Theme): void {
    const pair = run.nets.length > 1;
    const splits = [
      ['train', 'train', theme.blue],
      ['validation', 'validation', theme.orange],
      ['test', 'test', theme.green],
    ] as const;
    this.accuracy.setSeries(
      perNet(run, pair, (n, suffix, dashed) =>
        splits.map(([k, label, color]) => epochLine(`acc-${k}-${n.net}`, `${label}${suffix}`, color, dashed, n, (e) => e[k].accuracy)),
      ),
    );
    this.loss.setSeries(
      perNet(run, pair, (n, suffix, dashed) =>
        splits.map(([k, label, color]) => epochLine(`loss-${k}-${n.net}`, `${label}${suffix}`, color, dashed, n, (e) => e[k].loss)),
      ),
    );
  }
}
