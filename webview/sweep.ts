/**
 * The sweep view: one table row per planned configuration of a sweep, its grid point, status and
 * final results; sortable (header buttons, keyboard too), filterable (text + status), each row
 * opening its run. Columns, cell text, sorting, filtering and the CSV are the shared
 * `sweep-table.ts`, so the host's CSV export is this very table.
 *
 * Rendering rebuilds the table from the model (at most once per animation frame, ≤ 4 updates per
 * second from the host): a sweep has tens to a few hundred rows, far below what needs diffing.
 * Keyboard focus survives a rebuild (restored by row id / column id).
 */
import {
  cellText,
  cellValue,
  nextSort,
  statusCounts,
  sweepColumns,
  visibleRows,
  type SweepColumn,
} from '../src/shared/sweep-table';
import { psiDisplay } from '../src/shared/sweep-psi';
import {
  MAX_FILTER_LENGTH,
  SWEEP_ROW_STATUSES,
  type SweepModel,
  type SweepRow,
  type SweepRowStatus,
  type SweepTableView,
} from '../src/shared/webview-protocol';
import { clear, fmtInt, h } from './dom';
import { post } from './vscode-api';

export interface SweepViewHost {
  /** The user changed sort or filters: persist them (page UI state). */
  viewChanged(view: SweepTableView): void;
  /** The user picked another sweep in the selector. */
  sweepChosen(sweepId: string): void;
}

export class SweepView {
  readonly root: HTMLElement;
  private readonly select = h('select', { attrs: { id: 'gf-sweep-select', 'aria-label': 'Sweep' } });
  private readonly badge = h('span', { class: 'gf-badge', attrs: { id: 'gf-sweep-status' } });
  private readonly summary = h('span', { class: 'gf-sweep-summary', attrs: { id: 'gf-sweep-summary' } });
  private readonly csvButton = h('button', { class: 'gf-button', attrs: { type: 'button', id: 'gf-sweep-csv', title: 'Export the table as shown (filters and sort applied) as CSV' } }, 'Export CSV');
  private readonly filter = h('input', {
    attrs: { type: 'search', id: 'gf-sweep-filter', placeholder: 'Filter rows, e.g. adam true', 'aria-label': 'Filter rows (every word must match some cell)', autocomplete: 'off', spellcheck: 'false', maxlength: String(MAX_FILTER_LENGTH) },
  });
  private readonly statusBoxes = new Map<SweepRowStatus, { input: HTMLInputElement; count: HTMLElement }>();
  private readonly shown = h('span', { class: 'gf-muted', attrs: { id: 'gf-sweep-shown', 'aria-live': 'polite' } });
  private readonly info = h('p', { class: 'gf-sub gf-sweep-info' });
  private readonly tableBox = h('div', { class: 'gf-table-wrap' });
  /** Granulated Kendall Ψ per measure (src/shared/sweep-psi.ts), over the finished rows. */
  private readonly psiBox = h('div', { class: 'gf-sweep-psi', attrs: { id: 'gf-sweep-psi' } });
  private readonly emptyNote = h('p', { class: 'gf-empty' });
  private sweep: SweepModel | undefined;

  constructor(
    private view: SweepTableView,
    private readonly host: SweepViewHost,
  ) {
    const statusSet = h('fieldset', { class: 'gf-status-filter' }, h('legend', {}, 'Status'));
    for (const s of SWEEP_ROW_STATUSES) {
      const input = h('input', { attrs: { type: 'checkbox', value: s, 'data-status': s } });
      input.checked = view.statuses.includes(s);
      const count = h('span', { class: 'gf-muted' });
      input.addEventListener('change', () => this.onStatusesChanged());
      statusSet.append(h('label', { class: `gf-field gf-status-${s}-label` }, input, h('span', { class: `gf-dot gf-dot-${s}`, attrs: { 'aria-hidden': 'true' } }), `${s} `, count));
      this.statusBoxes.set(s, { input, count });
    }
    this.filter.value = view.text;
    this.root = h(
      'section',
      { class: 'gf-sweep', attrs: { id: 'gf-sweep', 'aria-label': 'Sweep runs' } },
      h(
        'div',
        { class: 'gf-sweepbar' },
        h('label', { class: 'gf-field' }, 'Sweep ', this.select),
        this.badge,
        this.summary,
        h('span', { class: 'gf-spacer' }),
        this.csvButton,
      ),
      h('div', { class: 'gf-sweep-filters' }, h('label', { class: 'gf-field' }, 'Filter ', this.filter), statusSet, this.shown),
      this.info,
      this.psiBox,
      this.tableBox,
      this.emptyNote,
    );
    this.select.addEventListener('change', () => this.host.sweepChosen(this.select.value));
    this.filter.addEventListener('input', () => {
      this.view = { ...this.view, text: this.filter.value };
      this.host.viewChanged(this.view);
      this.render(this.sweep, [], false);
    });
    this.csvButton.addEventListener('click', () => {
      if (this.sweep) post({ type: 'exportSweepCsv', sweepId: this.sweep.info.sweepId, view: this.view });
    });
  }

  /** Draws `sweep` (the one selected) with the selector listing `all`; `structure`: the list changed. */
  render(sweep: SweepModel | undefined, all: readonly SweepModel[], structure: boolean): void {
    this.sweep = sweep;
    if (structure) {
      clear(this.select);
      for (const s of all) this.select.append(h('option', { attrs: { value: s.info.sweepId } }, s.info.name));
      this.select.disabled = all.length < 2;
    }
    if (!sweep) {
      this.badge.textContent = '';
      this.summary.textContent = '';
      this.shown.textContent = '';
      this.info.textContent = '';
      this.csvButton.disabled = true;
      clear(this.tableBox);
      clear(this.psiBox);
      this.emptyNote.hidden = false;
      this.emptyNote.textContent = 'No sweep yet. Run a file with a sweep section (Gradflow: Run Sweep) or open a sweep folder (Gradflow: Open Sweep…).';
      return;
    }
    this.select.value = sweep.info.sweepId;
    this.csvButton.disabled = false;
    this.badge.textContent = sweep.info.status;
    this.badge.className = `gf-badge gf-status-${sweep.info.status === 'recorded' ? 'recorded' : sweep.info.status}`;
    this.badge.title = sweep.info.message ?? '';
    const counts = statusCounts(sweep.rows);
    for (const [s, box] of this.statusBoxes) box.count.textContent = `(${fmtInt(counts[s])})`;
    this.summary.textContent = `${fmtInt(counts.finished)} of ${fmtInt(sweep.rows.length)} finished${counts.running > 0 ? ` · ${fmtInt(counts.running)} running` : ''}${counts.failed > 0 ? ` · ${fmtInt(counts.failed)} failed` : ''}`;
    const where = [sweep.info.sweepId, sweep.info.sourceFile ? `from ${sweep.info.sourceFile}` : ''].filter((x) => x !== '');
    this.info.textContent = `${where.join(' · ')}. Click a row (or press Enter on it) to open its run; click a column header to sort.`;
    this.renderPsi(sweep);
    this.renderTable(sweep);
  }

  /**
   * The granulated Kendall coefficient of each measure (all finished rows, whatever the filters):
   * one line per net and target. A list, not a second <table>, so the runs table stays the only
   * table of the view.
   */
  private renderPsi(sweep: SweepModel): void {
    const d = psiDisplay(sweep.rows);
    clear(this.psiBox);
    if (d.empty !== undefined) {
      this.psiBox.append(h('p', { class: 'gf-muted' }, d.empty));
      return;
    }
    const list = h('ul', { class: 'gf-sweep-psi-list', attrs: { 'aria-label': 'Granulated Kendall coefficient Ψ per measure' } });
    for (const r of d.rows) {
      const li = h('li', { attrs: { 'data-psi': r.label } }, h('strong', {}, r.label), ': ');
      r.cells.forEach((c, i) => {
        if (i > 0) li.append(' · ');
        li.append(h('span', { class: 'gf-num', title: c.title }, `Ψ ${d.header[i + 1]} ${c.text}`));
      });
      list.append(li);
    }
    this.psiBox.append(h('p', { class: 'gf-sub', title: d.caption }, 'Granulated Kendall Ψ per measure (hover for what it is)'), list);
  }

  private onStatusesChanged(): void {
    const statuses = SWEEP_ROW_STATUSES.filter((s) => this.statusBoxes.get(s)?.input.checked === true);
    this.view = { ...this.view, statuses };
    this.host.viewChanged(this.view);
    this.render(this.sweep, [], false);
  }

  private sortBy(column: string): void {
    this.view = { ...this.view, sort: nextSort(this.view.sort, column) };
    this.host.viewChanged(this.view);
    this.render(this.sweep, [], false);
  }

  private renderTable(sweep: SweepModel): void {
    // Focus lives on a header button or a row; remember which, to put it back after the rebuild.
    const active = document.activeElement;
    const focusColumn = active instanceof HTMLElement && this.tableBox.contains(active) ? active.dataset.column : undefined;
    const focusRow = active instanceof HTMLElement && this.tableBox.contains(active) ? active.dataset.configId : undefined;

    const columns = sweepColumns(sweep.info.axes);
    const rows = visibleRows(sweep.rows, columns, this.view);
    const table = h('table', { class: 'gf-table gf-sweep-table', attrs: { 'aria-rowcount': String(rows.length + 1) } });
    table.append(h('caption', { class: 'gf-sr-only' }, `Runs of sweep ${sweep.info.name}: one row per configuration. Column headers sort; rows open their run.`));
    const headRow = h('tr');
    for (const c of columns) headRow.append(this.header(c));
    table.append(h('thead', {}, headRow));
    const tbody = h('tbody');
    for (const r of rows) tbody.append(this.row(r, columns));
    table.append(tbody);
    clear(this.tableBox);
    this.tableBox.append(table);

    this.shown.textContent = rows.length === sweep.rows.length ? `${fmtInt(rows.length)} rows` : `showing ${fmtInt(rows.length)} of ${fmtInt(sweep.rows.length)}`;
    this.emptyNote.hidden = rows.length > 0;
    this.emptyNote.textContent = sweep.rows.length === 0 ? 'This sweep plans no configurations.' : 'No row matches the filters.';

    const again =
      focusColumn !== undefined
        ? table.querySelector<HTMLElement>(`button[data-column="${CSS.escape(focusColumn)}"]`)
        : focusRow !== undefined
          ? table.querySelector<HTMLElement>(`tr[data-config-id="${CSS.escape(focusRow)}"]`)
          : null;
    again?.focus();
  }

  private header(c: SweepColumn): HTMLElement {
    const sorted = this.view.sort?.column === c.id ? this.view.sort.direction : undefined;
    const button = h(
      'button',
      { class: 'gf-sort', title: `${c.title}. Sort by this column.`, attrs: { type: 'button', 'data-column': c.id } },
      c.label,
      h('span', { class: 'gf-sort-icon', attrs: { 'aria-hidden': 'true' } }, sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : ''),
    );
    // A <button> is focusable and fires click on Enter and Space: keyboard sorting needs nothing more.
    button.addEventListener('click', () => this.sortBy(c.id));
    return h(
      'th',
      {
        class: c.numeric ? 'gf-num' : '',
        attrs: { scope: 'col', 'aria-sort': sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none' },
      },
      button,
    );
  }

  private row(r: SweepRow, columns: readonly SweepColumn[]): HTMLElement {
    const opens = r.runId !== null;
    const tr = h('tr', {
      class: `gf-sweep-row gf-row-${r.status}${opens ? ' gf-row-open' : ''}`,
      title: opens ? `Open run ${r.runId ?? ''}${r.message ? ` — ${r.message}` : ''}` : 'Not started yet',
      attrs: { 'data-config-id': r.configId, 'data-status': r.status },
    });
    if (opens) {
      tr.tabIndex = 0;
      tr.setAttribute('aria-label', `Open the run of configuration ${r.configId}`);
      const open = (): void => {
        if (this.sweep) post({ type: 'openSweepRun', sweepId: this.sweep.info.sweepId, configId: r.configId });
      };
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      });
    }
    for (const c of columns) tr.append(this.cell(r, c));
    return tr;
  }

  private cell(r: SweepRow, c: SweepColumn): HTMLElement {
    const text = cellText(r, c);
    if (c.kind === 'status') {
      const td = h('td', { class: 'gf-status-cell' }, h('span', { class: `gf-dot gf-dot-${r.status}`, attrs: { 'aria-hidden': 'true' } }), text);
      if (r.status === 'running' && r.progress !== null) {
        const bar = h('span', { class: 'gf-bar' });
        bar.style.width = `${(r.progress * 100).toFixed(1)}%`; // CSSOM: allowed by the CSP, unlike a style attribute
        td.append(
          ' ',
          h('span', {
            class: 'gf-bar-track',
            attrs: { role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.floor(r.progress * 100)), 'aria-label': 'progress' },
          }, bar),
        );
      }
      if (r.message) {
        td.title = r.message;
        // The scheduler's word on the row (e.g. "Slurm PENDING (task 12_3)", "Slurm CANCELLED") in
        // view, not only in the tooltip: its first line, the rest in the title.
        const note = slurmNote(r.message);
        if (note !== undefined) td.append(' ', h('span', { class: 'gf-row-note' }, note));
      }
      return td;
    }
    let cls = c.numeric ? 'gf-num' : '';
    if (c.kind === 'accuracyDiff') {
      const v = cellValue(r, c);
      if (typeof v === 'number' && !Number.isNaN(v) && text !== '0.00 pp') cls += v > 0 ? ' gf-pos' : ' gf-neg';
    }
    if (text === 'NaN') cls += ' gf-nan';
    return h('td', { class: cls.trim() }, text);
  }
}

/** "Slurm STATE (task J_i)" from a row message that starts with the scheduler's state, else undefined. */
export function slurmNote(message: string): string | undefined {
  const m = /^Slurm [A-Z_]+(?: \(task [^)]*\))?/.exec(message);
  return m?.[0];
}
