/**
 * The run view's cards: a titled section in the grid, with an actions slot in its head (the PNG
 * button, counts, selectors) and a body. Cards appear in the grid in the order they are made.
 */
import type { RunState } from '../src/shared/webview-protocol';
import { LineChart } from './charts';
import { h } from './dom';
import type { Theme } from './theme';
import { post } from './vscode-api';

export interface Card {
  root: HTMLElement;
  body: HTMLElement;
  actions: HTMLElement;
}

export class CardGrid {
  readonly root = h('div', { class: 'gf-grid' });

  constructor(
    /** The run shown (for the PNG file name). */
    private readonly selectedRun: () => RunState | undefined,
    /** The theme now (charts are drawn with the theme at their creation; `setTheme` changes them). */
    private readonly theme: () => Theme,
  ) {}

  card(id: string, title: string, subtitle: string, wide = false): Card {
    const actions = h('span', { class: 'gf-actions' });
    const body = h('div', { class: 'gf-card-body' });
    const root = h(
      'section',
      { class: wide ? 'gf-card gf-wide' : 'gf-card', attrs: { id: `gf-${id}`, 'aria-label': title } },
      h('div', { class: 'gf-card-head' }, h('h2', {}, title), actions),
      h('p', { class: 'gf-sub' }, subtitle),
      body,
    );
    this.root.append(root);
    return { root, body, actions };
  }

  /** A "PNG" button in the card's head that saves `canvas()` (a data URL) under the run's title. */
  pngButton(c: Card, name: string, canvas: () => string): void {
    const b = h('button', { class: 'gf-button gf-small', attrs: { type: 'button', title: 'Save this chart as PNG' } }, 'PNG');
    b.addEventListener('click', () => {
      const run = this.selectedRun();
      post({ type: 'savePng', name: fileName(`${run ? run.meta.title : 'gradflow'}-${name}`), dataUrl: canvas() });
    });
    c.actions.append(b);
  }

  /** A card holding one line chart, with its PNG button. */
  chartCard(id: string, title: string, subtitle: string, spec: ConstructorParameters<typeof LineChart>[1]): LineChart {
    const c = this.card(id, title, subtitle);
    const canvas = h('canvas', { attrs: { role: 'img', 'aria-label': title } });
    c.body.append(h('div', { class: 'gf-chart-box' }, canvas));
    const chart = new LineChart(canvas, spec, this.theme());
    this.pngButton(c, id, () => chart.toPng());
    return chart;
  }
}

/** Must pass the host's name check (`isPageToHost`): letters/digits first, then a plain set. */
function fileName(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9._ -]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 90);
  return clean.length > 0 ? clean : 'gradflow-chart';
}
