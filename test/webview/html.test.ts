import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootView, dashboardCsp, makeNonce, renderDashboardHtml } from '../../src/extension/dashboard/html';
import type { RunMeta } from '../../src/shared/webview/types';
import { decodePngDataUrl } from '../../src/extension/dashboard/png';
import { at } from '../../src/shared/checked';

const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';
const scriptUri = 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js';
const styleText = '.gf-badge { color: red; }\n';

describe('renderDashboardHtml', () => {
  const nonce = 'q1w2e3r4t5y6u7i8o9p0AA==';
  const html = renderDashboardHtml({ cspSource, nonce, scriptUri, styleText });

  it('carries the exact CSP with the nonce', () => {
    const expected = `default-src 'none'; img-src ${cspSource} data:; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'`;
    assert.equal(dashboardCsp(cspSource, nonce), expected);
    assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${expected}">`));
  });

  it('has one script, carrying the nonce: a loader that adds the bundle with the nonce once the document has loaded; the stylesheet is inline with the nonce', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([^<]*)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.equal(at(scripts, 0)[1], ` nonce="${nonce}"`);
    assert.equal(
      at(scripts, 0)[2],
      `addEventListener('load', function () { var s = document.createElement('script'); s.nonce = "${nonce}"; s.src = "${scriptUri}"; document.body.appendChild(s); }, { once: true });`,
    );
    assert.deepEqual([...html.matchAll(/<link\b[^>]*>/g)], []);
    assert.deepEqual([...html.matchAll(/<style\b[^>]*>([^<]*)<\/style>/g)].map((m) => [m[0].slice(0, m[0].indexOf('>') + 1), at(m, 1).trim()]), [
      [`<style nonce="${nonce}">`, styleText.trim()],
    ]);
  });

  it('has no style attribute, no unsafe sources and no remote URLs', () => {
    assert.ok(!/\sstyle=/.test(html), 'style attribute');
    assert.ok(!html.includes('unsafe-'));
    const rest = html.split(scriptUri).join('').split(cspSource).join('');
    assert.ok(!/https?:|\/\//.test(rest), `remote URL in ${rest}`);
  });

  it('escapes the script URL in the loader: it cannot end the script element or the string', () => {
    const h = renderDashboardHtml({ cspSource, nonce, scriptUri: 'x";alert(1);"</script><script>alert(2)</script>', styleText });
    assert.equal(h.split('</script').length, 2, 'one script element, closed once');
    assert.ok(h.includes('s.src = "x\\";alert(1);\\"\\u003c/script>\\u003cscript>alert(2)\\u003c/script>";'));
  });

  it('rejects a nonce that could break out of the CSP, and a stylesheet that would end its element', () => {
    assert.throws(() => renderDashboardHtml({ cspSource, nonce: "abc' 'unsafe-inline", scriptUri, styleText }));
    assert.throws(() => renderDashboardHtml({ cspSource, nonce, scriptUri, styleText: 'a{}</STYLE><script>alert(1)</script>' }), /<\/style/);
  });

  it('without a run to show, says it is loading', () => {
    assert.ok(html.includes('<main id="app" aria-live="polite"><p class="gf-empty">Loading the Gradflow dashboard…</p></main>'));
  });

  it('draws the first view of a run with escaped texts, as the page draws it', () => {
    const h = renderDashboardHtml({
      cspSource,
      nonce,
      scriptUri,
      styleText,
      boot: {
        options: [{ text: 'old <b> run', selected: false }, { text: 'a & b — starting', selected: true }],
        badge: { text: 'starting', status: 'starting', title: 'Starting: "x"' },
        starting: 'Starting a & b: loading <data>…',
      },
    });
    const main = h.slice(h.indexOf('<main'), h.indexOf('</main>') + 7);
    assert.equal(
      main,
      '<main id="app" aria-live="polite"><div id="gf-run-view" class="gf-boot">' +
        '<header class="gf-toolbar"><label class="gf-field">Run <select id="gf-run" aria-label="Run" disabled>' +
        '<option>old &lt;b&gt; run</option><option selected>a &amp; b — starting</option></select></label>' +
        '<span class="gf-badge gf-status-starting" title="Starting: &quot;x&quot;">starting</span></header>' +
        '<div class="gf-starting" role="status" aria-live="polite">Starting a &amp; b: loading &lt;data&gt;…</div></div></main>',
    );
  });
});

describe('bootView', () => {
  it('a starting run: the texts the page shows for it, written out by hand', () => {
    const starting: RunMeta = { runId: 'starting-run-1', title: 'quick', status: 'starting', message: 'reading the experiment file' };
    assert.deepEqual(bootView([starting], starting), {
      options: [{ text: 'quick — starting', selected: true }],
      badge: {
        text: 'starting',
        status: 'starting',
        title: 'Starting: the trainer is loading its backend, data and networks.\nreading the experiment file',
      },
      starting: 'Starting quick: reading the experiment file…',
    });
  });

  it('a diverged run among others: selected by id, nets named, no starting line', () => {
    const a: RunMeta = { runId: '20261201-aaaa', title: 'quick', status: 'finished' };
    const b: RunMeta = { runId: '20261201-bbbb', title: 'quick', status: 'diverged', diverged: ['sparse'] };
    const v = bootView([a, b], b);
    assert.deepEqual(v.options, [
      { text: 'quick — finished · 20261201-aaaa', selected: false },
      { text: 'quick — diverged (sparse) · 20261201-bbbb', selected: true },
    ]);
    assert.equal(v.badge.text, 'diverged (sparse)');
    assert.equal(v.starting, undefined);
  });
});

describe('makeNonce', () => {
  it('is 16 random bytes in base64, different each time', () => {
    const a = makeNonce();
    const b = makeNonce();
    assert.match(a, /^[A-Za-z0-9+/]{22}==$/);
    assert.equal(Buffer.from(a, 'base64').length, 16);
    assert.notEqual(a, b);
  });
});

describe('decodePngDataUrl', () => {
  it('decodes a PNG and rejects anything else', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    assert.deepEqual(Buffer.from(decodePngDataUrl(`data:image/png;base64,${png.toString('base64')}`)), png);
    assert.throws(() => decodePngDataUrl(`data:image/png;base64,${Buffer.from('GIF89a....').toString('base64')}`), /not a PNG/);
    assert.throws(() => decodePngDataUrl('data:image/png;base64,@@@'), /base64/);
    assert.throws(() => decodePngDataUrl('data:text/plain;base64,AAAA'), /PNG data URL/);
  });
});
