/**
 * The dashboard page's HTML shell. Pure (tested in plain Node). All content is built by the
 * bundled script; the HTML only carries the CSP, the stylesheet and the script.
 *
 * CSP, after GitLens: nothing by default; images from the webview source or `data:` (PNG export
 * previews); styles from the webview source or carrying the per-instance nonce; scripts only with
 * the nonce. No `unsafe-eval` (chart.js 4 does not need it) and no `unsafe-inline`: chart.js sets
 * canvas sizes through the CSSOM (`el.style.x = …`), which CSP does not govern.
 */
import { randomBytes } from 'node:crypto';

export interface DashboardHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** Per-instance nonce, see `makeNonce`. */
  nonce: string;
  /** `webview.asWebviewUri(dist/webview.js)`, as a string. */
  scriptUri: string;
  /** `webview.asWebviewUri(media/dashboard.css)`, as a string. */
  styleUri: string;
}

/** 16 random bytes, base64: unguessable per panel, and base64 is what CSP nonces are written in. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function dashboardCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** Escapes for a double-quoted attribute value. */
function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderDashboardHtml(opts: DashboardHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=]+$/.test(opts.nonce)) throw new Error('nonce must be base64');
  const csp = dashboardCsp(opts.cspSource, opts.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${attr(opts.nonce)}" href="${attr(opts.styleUri)}">
<title>Gradflow dashboard</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="gf-empty">Loading the Gradflow dashboard…</p></main>
<script nonce="${attr(opts.nonce)}" src="${attr(opts.scriptUri)}"></script>
</body>
</html>
`;
}
