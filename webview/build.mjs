// Bundles the dashboard page (webview/main.ts + chart.js) into one browser IIFE, `webview.js`.
// Called by scripts/build.mjs as `buildWebview(outdir, { production })`; also runnable alone:
//   node webview/build.mjs [outdir] [--production]     (outdir defaults to dist/)
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** esbuild options for the page; exported so a caller can add plugins or watch mode. */
export function webviewBuildOptions(outdir, { production = false } = {}) {
  return {
    entryPoints: [join(here, 'main.ts')],
    outfile: join(outdir, 'webview.js'),
    bundle: true,
    // An IIFE: the page loads one classic <script nonce=…>, no module loader, no eval.
    format: 'iife',
    platform: 'browser',
    // VS Code's Electron Chromium and Debian chromium both run ES2022.
    target: 'es2022',
    tsconfig: join(here, 'tsconfig.json'),
    minify: production,
    // Linked maps in development for debugging the webview; none in the shipped bundle.
    sourcemap: production ? false : 'linked',
    legalComments: production ? 'none' : 'eof',
    define: { 'process.env.NODE_ENV': production ? '"production"' : '"development"' },
    logLevel: 'warning',
  };
}

export async function buildWebview(outdir, opts = {}) {
  return build(webviewBuildOptions(resolve(outdir), opts));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const outdir = args.find((a) => !a.startsWith('--')) ?? join(here, '..', 'dist');
  await buildWebview(outdir, { production: args.includes('--production') });
  console.log(`webview: ${join(resolve(outdir), 'webview.js')}`);
}
