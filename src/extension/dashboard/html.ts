/**
 * The dashboard page's HTML shell. Pure (tested in plain Node). The bundled script builds the page;
 * the HTML carries the CSP, the stylesheet, the script, and a first view drawn by the host.
 *
 * First paint (issue 11: the dashboard visible within a second of Run). A webview's resources are
 * fetched through VS Code's service worker, the workbench and the remote connection, and a
 * stylesheet in <head> holds the first paint until it arrives: measured in code-server on 2 cores
 * during a run, 0.3–0.7 s for the stylesheet and 0.4–0.9 s for the script, then a round trip to the
 * extension host for the state. So:
 * - the stylesheet is inlined (with the nonce);
 * - the host draws the run being shown (selector, status badge, starting line) in the HTML, with the
 *   same classes and texts the page uses; the page keeps that view until the host's state arrives,
 *   then replaces it (webview/main.ts);
 * - the bundle is added by a three-line loader (with the nonce) once the document has loaded: VS
 *   Code shows a webview's frame on its `load` event or 200 ms after writing it, whichever is
 *   first, and a script in the document would hold `load` until it had come through the service
 *   worker.
 *
 * CSP, after GitLens: nothing by default; images from the webview source or `data:` (PNG export
 * previews); styles and scripts only with the per-instance nonce. No `unsafe-eval` (chart.js 4 does
 * not need it) and no `unsafe-inline`: chart.js sets canvas sizes through the CSSOM
 * (`el.style.x = …`), which CSP does not govern.
 */
import { htmlAttr, htmlText } from '../../shared/sanitize';
import { randomBytes } from 'node:crypto';
import { statusLabel, type RunStatus } from '../../shared/run-status';
import { runOptionText, startingText, statusTitle } from '../../shared/webview/run-text';
import type { RunMeta } from '../../shared/webview/types';

/** The host's first view of the run being shown, as texts (`bootView`). */
export interface DashboardBoot {
  /** The run selector's entries, in order; one is selected. */
  options: { text: string; selected: boolean }[];
  badge: { text: string; status: RunStatus; title: string };
  /** The line under the header while the run starts. */
  starting?: string;
}

export interface DashboardHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** Per-instance nonce, see `makeNonce`. */
  nonce: string;
  /** `webview.asWebviewUri(dist/webview.js)`, as a string. */
  scriptUri: string;
  /** The text of media/dashboard.css, inlined. */
  styleText: string;
  /** The view to show before the script has run; without it, a one-line "Loading" note. */
  boot?: DashboardBoot;
}

/** The first view of `shown` among `runs`, with the texts the page draws for them (webview/run.ts). */
export function bootView(runs: readonly RunMeta[], shown: RunMeta): DashboardBoot {
  return {
    options: runs.map((m) => ({ text: runOptionText(m), selected: m.runId === shown.runId })),
    badge: { text: statusLabel(shown.status, shown.diverged), status: shown.status, title: statusTitle(shown) },
    ...(shown.status === 'starting' ? { starting: startingText(shown) } : {}),
  };
}

/** 16 random bytes, base64: unguessable per panel, and base64 is what CSP nonces are written in. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function dashboardCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

/** Escapes for a quoted attribute value and for element text: shared/sanitize.ts. */
const attr = htmlAttr;
const text = htmlText;

/** A JSON string literal that cannot end the <script> element it is written in. */
function jsString(s: string): string {
  return JSON.stringify(s).replace(/</g, '\\u003c');
}

/** Adds the bundle once the document has loaded (see the header comment); the element carries the nonce. */
function loaderJs(scriptUri: string, nonce: string): string {
  return (
    `addEventListener('load', function () { var s = document.createElement('script'); ` +
    `s.nonce = ${jsString(nonce)}; s.src = ${jsString(scriptUri)}; document.body.appendChild(s); }, { once: true });`
  );
}

function bootHtml(boot: DashboardBoot): string {
  const options = boot.options.map((o) => `<option${o.selected ? ' selected' : ''}>${text(o.text)}</option>`).join('');
  const { badge } = boot;
  // Same structure and classes as webview/run.ts draws (the e2e tests and the stylesheet rely on both).
  return (
    `<div id="gf-run-view" class="gf-boot">` +
    `<header class="gf-toolbar"><label class="gf-field">Run <select id="gf-run" aria-label="Run" disabled>${options}</select></label>` +
    `<span class="gf-badge gf-status-${attr(badge.status)}" title="${attr(badge.title)}">${text(badge.text)}</span></header>` +
    (boot.starting !== undefined ? `<div class="gf-starting" role="status" aria-live="polite">${text(boot.starting)}</div>` : '') +
    `</div>`
  );
}

export function renderDashboardHtml(opts: DashboardHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=]+$/.test(opts.nonce)) throw new Error('nonce must be base64');
  // The stylesheet is ours, but an inlined `</style` would end the element early: refuse it.
  if (/<\/style/i.test(opts.styleText)) throw new Error('the stylesheet must not contain "</style"');
  const csp = dashboardCsp(opts.cspSource, opts.nonce);
  const body = opts.boot !== undefined ? bootHtml(opts.boot) : '<p class="gf-empty">Loading the Gradflow dashboard…</p>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${attr(opts.nonce)}">
${opts.styleText}
</style>
<title>Gradflow dashboard</title>
</head>
<body>
<main id="app" aria-live="polite">${body}</main>
<script nonce="${attr(opts.nonce)}">${loaderJs(opts.scriptUri, opts.nonce)}</script>
</body>
</html>
`;
}
