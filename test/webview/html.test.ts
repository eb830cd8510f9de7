import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardCsp, makeNonce, renderDashboardHtml } from '../../src/extension/dashboard/html';
import { decodePngDataUrl } from '../../src/extension/dashboard/png';

const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';
const scriptUri = 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js';
const styleUri = 'https://file+.vscode-resource.vscode-cdn.net/ext/media/dashboard.css';

describe('renderDashboardHtml', () => {
  const nonce = 'q1w2e3r4t5y6u7i8o9p0AA==';
  const html = renderDashboardHtml({ cspSource, nonce, scriptUri, styleUri });

  it('carries the exact CSP with the nonce', () => {
    const expected =
      `default-src 'none'; img-src ${cspSource} data:; style-src ${cspSource} 'nonce-${nonce}'; ` +
      `script-src 'nonce-${nonce}'; font-src ${cspSource}`;
    assert.equal(dashboardCsp(cspSource, nonce), expected);
    assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${expected.replace(/'/g, "'")}">`));
  });

  it('loads exactly one script and one stylesheet, both with the nonce', () => {
    assert.deepEqual([...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]), [`<script nonce="${nonce}" src="${scriptUri}">`]);
    assert.deepEqual([...html.matchAll(/<link\b[^>]*>/g)].map((m) => m[0]), [`<link rel="stylesheet" nonce="${nonce}" href="${styleUri}">`]);
  });

  it('has no inline script or style, no unsafe sources and no remote URLs', () => {
    assert.ok(!/<script\b[^>]*>[^<]+<\/script>/.test(html), 'inline script');
    assert.ok(!/<style\b/.test(html) && !/\sstyle=/.test(html), 'inline style');
    assert.ok(!html.includes('unsafe-'));
    const rest = html.split(scriptUri).join('').split(styleUri).join('').split(cspSource).join('');
    assert.ok(!/https?:|\/\//.test(rest), `remote URL in ${rest}`);
  });

  it('escapes attribute values', () => {
    const h = renderDashboardHtml({ cspSource, nonce, scriptUri: 'x"><script>alert(1)</script>', styleUri });
    assert.ok(h.includes('src="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'));
  });

  it('rejects a nonce that could break out of the CSP', () => {
    assert.throws(() => renderDashboardHtml({ cspSource, nonce: "abc' 'unsafe-inline", scriptUri, styleUri }));
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
