/**
 * Chromium harness shared by the webview browser tests (page.test.ts, sweep-page.test.ts): the
 * real page bundle (built here with webview/build.mjs) and HTML shell served from one fake origin
 * with the dashboard CSP (as header and meta), a stub `acquireVsCodeApi`, a CSP violation recorder,
 * VS Code's theme variables, and helpers to send host messages and read what the page posted.
 * Runs Debian's chromium through playwright-core. Not a test file itself.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dashboardCsp, makeNonce, renderDashboardHtml } from '../../src/extension/dashboard/html';
import type { PageToHost } from '../../src/shared/webview-protocol';

export const CHROMIUM = '/usr/bin/chromium';
export const ORIGIN = 'https://gradflow.test';

/** The `skip` option of a browser suite: skipped without chromium, unless GRADFLOW_E2E=required makes that a failure. */
export const skip =
  !existsSync(CHROMIUM) && process.env.GRADFLOW_E2E !== 'required'
    ? `${CHROMIUM} not found (apt-get install -y chromium); set GRADFLOW_E2E=required to make this a failure`
    : false;

/** Repo root: the folder holding webview/build.mjs, found from the compiled test or the cwd. */
export function repoRoot(): string {
  for (let d = __dirname; ; d = dirname(d)) {
    if (existsSync(join(d, 'webview', 'build.mjs'))) return d;
    if (dirname(d) === d) break;
  }
  return process.cwd();
}

/*
 * Code that runs in the page is written as strings: the tests compile with the Node tsconfig
 * (no DOM lib), and pulling DOM types into that whole program would blur what Node code may use.
 */

/** Before any page script: the stub VS Code API, a CSP violation recorder, theme variables. */
export const INIT_SCRIPT = `(() => {
  const rec = { posted: [], csp: [] };
  window.__gradflow = rec;
  document.addEventListener('securitypolicyviolation', (e) => rec.csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample));
  let state;
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => rec.posted.push(JSON.parse(JSON.stringify(m))),
    getState: () => state,
    setState: (s) => { state = s; },
  });
  // VS Code's Dark Modern variables, as the workbench injects them into a webview.
  const vars = {
    '--vscode-editor-foreground': '#cccccc', '--vscode-editor-background': '#1f1f1f',
    '--vscode-descriptionForeground': '#9d9d9d', '--vscode-panel-border': '#2b2b2b',
    '--vscode-sideBar-background': '#181818', '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7', '--vscode-charts-red': '#f14c4c', '--vscode-charts-yellow': '#cca700',
    '--vscode-charts-lines': 'rgba(204,204,204,0.15)', '--vscode-errorForeground': '#f85149',
    '--vscode-list-hoverBackground': '#2a2d2e', '--vscode-focusBorder': '#0078d4',
    '--vscode-input-background': '#313131', '--vscode-input-border': '#3c3c3c', '--vscode-input-foreground': '#cccccc',
    '--vscode-font-family': 'system-ui, sans-serif', '--vscode-font-size': '13px',
  };
  // Init scripts run before <html> exists: apply the variables as soon as it is inserted.
  const apply = () => { for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v); };
  if (document.documentElement) apply();
  else {
    const mo = new MutationObserver(() => {
      if (!document.documentElement) return;
      mo.disconnect();
      apply();
    });
    mo.observe(document, { childList: true });
  }
})();`;

/** Resolves after queued messages were dispatched and two animation frames drew. */
export const SETTLE = 'new Promise((r) => setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(() => r())), 50))';

export interface WebviewPageOptions {
  /** Prefix of the temporary folder the page bundle is built into. */
  tmpPrefix: string;
  viewport: { width: number; height: number };
  /** Also print the stack of a page error to stderr (it is recorded in `pageErrors` either way). */
  printPageErrorStacks?: boolean;
}

/**
 * One dashboard page in chromium. Construct it in a suite, `open()` it in `before` and `close()` it
 * in `after`; `consoleLines` and `pageErrors` collect from the moment the page exists.
 */
export class WebviewPage {
  readonly consoleLines: string[] = [];
  readonly pageErrors: string[] = [];
  private outdir = '';
  private browser: Browser | undefined;
  private current: Page | undefined;

  constructor(private readonly opts: WebviewPageOptions) {}

  get page(): Page {
    if (!this.current) throw new Error('WebviewPage: open() has not run');
    return this.current;
  }

  /** Builds the bundle, launches chromium, loads the page and waits for its `ready`. */
  async open(): Promise<Page> {
    const root = repoRoot();
    this.outdir = mkdtempSync(join(tmpdir(), this.opts.tmpPrefix));
    const mod = (await import(pathToFileURL(join(root, 'webview', 'build.mjs')).href)) as {
      buildWebview(outdir: string, opts?: { production?: boolean }): Promise<unknown>;
    };
    await mod.buildWebview(this.outdir, { production: false });
    const js = readFileSync(join(this.outdir, 'webview.js'));
    const nonce = makeNonce();
    const html = renderDashboardHtml({
      cspSource: ORIGIN,
      nonce,
      scriptUri: `${ORIGIN}/dist/webview.js`,
      styleText: readFileSync(join(root, 'media', 'dashboard.css'), 'utf8'),
    });
    const csp = dashboardCsp(ORIGIN, nonce);

    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const context = await this.browser.newContext({ viewport: this.opts.viewport, deviceScaleFactor: 1 });
    // Everything is served from one fake origin; anything else (a remote fetch) is refused and fails the test.
    const unexpected: string[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      const body: Record<string, [Buffer | string, string]> = {
        [`${ORIGIN}/index.html`]: [html, 'text/html; charset=utf-8'],
        [`${ORIGIN}/dist/webview.js`]: [js, 'text/javascript'],
      };
      const hit = body[url];
      if (!hit) {
        unexpected.push(url);
        await route.abort();
        return;
      }
      await route.fulfill({ status: 200, body: hit[0], headers: { 'content-type': hit[1], 'content-security-policy': csp } });
    });
    // The stub VS Code gives a webview, plus a CSP violation recorder (before any page script).
    await context.addInitScript({ content: INIT_SCRIPT });
    const page = await context.newPage();
    this.current = page;
    page.on('console', (m) => this.consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => {
      this.pageErrors.push(String(e));
      if (this.opts.printPageErrorStacks) console.error(e.stack);
    });
    await page.goto(`${ORIGIN}/index.html`);
    await page.evaluate("document.body.classList.add('vscode-dark')");
    // The page loads its bundle after the document's `load` (src/extension/dashboard/html.ts): poll
    // for its `ready` from here. (waitForFunction with a string evals in the page, which the CSP refuses.)
    for (const deadline = Date.now() + 30_000; !(await page.evaluate<boolean>("window.__gradflow.posted.some((m) => m.type === 'ready')")); ) {
      if (Date.now() > deadline) throw new Error('the dashboard page did not post `ready` within 30 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(unexpected, []);
    return page;
  }

  async close(): Promise<void> {
    await this.browser?.close();
    if (this.outdir) rmSync(this.outdir, { recursive: true, force: true });
  }

  /** Posts host messages to the page and waits until they were handled and drawn. */
  readonly send = async (msgs: unknown[]): Promise<void> => {
    // JSON, as postMessage from the host is; a NaN in a malformed sample becomes null (still malformed).
    await this.page.evaluate(`for (const m of ${JSON.stringify(msgs)}) window.postMessage(m, '*')`);
    // Messages are dispatched as tasks, renders happen on the next animation frame.
    await this.page.evaluate(SETTLE);
  };

  /** Every message the page posted to the host so far. */
  readonly posted = async (): Promise<PageToHost[]> => this.page.evaluate<PageToHost[]>('window.__gradflow.posted');
}
