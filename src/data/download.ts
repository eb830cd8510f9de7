/**
 * Dataset downloads: HTTPS only, every file checked against the SHA-256 committed in
 * `checksums.ts` before anything is parsed or cached. Used by the trainer when no local copy or
 * cache exists (`loadDataset`), and by the VS Code extension before a run starts (with a progress
 * notification and a Cancel button).
 *
 * Errors say which kind of failure it was, because the caller reacts differently:
 *  - `UnreachableError`: the network did not deliver (DNS, refused, TLS, HTTP status, stalled,
 *    a non-HTTPS URL refused). The lookup may go on with another source.
 *  - `ChecksumError`: bytes arrived but are not the published file (size or SHA-256 differ). An
 *    error: the file is dropped and nothing is cached.
 *  - `DownloadCancelledError`: the caller's AbortSignal fired.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { DATASET_FILES, OFFICIAL_BASES, datasetBytes, type DatasetFile, type DownloadableName } from './checksums';
import { readCifar10, readCifar100 } from './cifar';
import { DataFormatError, errorMessage } from './errors';
import { mapSource, MAX_DATA_FILE_BYTES } from './files';
import { readIdxDataset } from './idx';
import type { FileSource, RawData } from './raw';
import { readTar } from './tar';
import { at } from '../shared/checked';

export type { DownloadableName } from './checksums';

/** Thrown when a URL cannot be fetched; the message says why in one line. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

/** The bytes are not the published file. */
export class ChecksumError extends Error {
  override readonly name = 'ChecksumError';
}

export class DownloadCancelledError extends Error {
  override readonly name = 'DownloadCancelledError';
}

export interface DownloadProgress {
  /** The file being fetched. */
  file: string;
  /** Bytes received so far over all files of the dataset, and the dataset's total. */
  received: number;
  total: number;
}

export interface DownloadOptions {
  log?: (msg: string) => void;
  /** Base URLs tried in order, each file at `<base><file>` (default: `OFFICIAL_BASES[name]`). */
  bases?: readonly string[];
  /**
   * A folder of manually downloaded files (`<dir>/<file>`), checked first with the same checksums.
   * The extension passes `<cache>/<name>/` and tells offline users to put the files there.
   */
  localDir?: string;
  /** Expected files (default: `DATASET_FILES[name]`, the committed checksums). Tests serving generated data pass their own. */
  files?: readonly DatasetFile[];
  /** Abort when no bytes arrive for this long (default 30 s; a whole-request timeout would kill slow but healthy downloads). */
  idleMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /**
   * CA certificates to trust instead of the system store (tests use a throwaway CA). Without it,
   * Node's default store applies, which includes `NODE_EXTRA_CA_CERTS`.
   */
  ca?: string | Buffer;
}

const MAX_REDIRECTS = 5;

export function sha256(buf: Uint8Array): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/** Checks size and SHA-256; throws ChecksumError naming the file, its source and both values. */
export function verifyFile(buf: Uint8Array, expected: DatasetFile, where: string): void {
  if (buf.length !== expected.bytes) {
    throw new ChecksumError(`${where}: ${buf.length} bytes, the published ${expected.file} has ${expected.bytes}; not used`);
  }
  const got = sha256(buf);
  if (got !== expected.sha256) {
    throw new ChecksumError(`${where}: SHA-256 ${got} does not match the published ${expected.sha256} of ${expected.file}; not used`);
  }
}

function cancelled(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/**
 * GET one URL over HTTPS, following redirects (HTTPS only), with no more than `maxBytes` accepted.
 * `onBytes` gets each chunk's length.
 */
export function httpsGet(
  url: string,
  opts: { idleMs: number; maxBytes: number; signal?: AbortSignal; ca?: string | Buffer; onBytes?: (n: number) => void },
  redirects = 0,
): Promise<Buffer> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new UnreachableError(`${url}: not a valid URL`));
  }
  if (u.protocol !== 'https:') {
    return Promise.reject(new UnreachableError(`${url}: refused: datasets are only downloaded over https://`));
  }
  if (cancelled(opts.signal)) return Promise.reject(new DownloadCancelledError(`${url}: download cancelled`));
  return new Promise<Buffer>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (err: Error | undefined, value?: Buffer): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) {
        req.destroy();
        reject(err);
      } else resolve(value as Buffer);
    };
    const touch = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => done(new UnreachableError(`${url}: not reachable (no data for ${opts.idleMs / 1000} s)`)), opts.idleMs);
    };
    const onAbort = (): void => done(new DownloadCancelledError(`${url}: download cancelled`));
    opts.signal?.addEventListener('abort', onAbort);
    const req = https.get(u, { headers: { 'user-agent': 'gradflow', accept: '*/*' }, ...(opts.ca !== undefined ? { ca: opts.ca } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location !== undefined) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return done(new UnreachableError(`${url}: more than ${MAX_REDIRECTS} redirects`));
        const next = new URL(res.headers.location, u).toString();
        httpsGet(next, opts, redirects + 1).then(
          (b) => done(undefined, b),
          (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
        );
        return;
      }
      if (status !== 200) {
        res.resume();
        return done(new UnreachableError(`${url}: HTTP ${status}`));
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        return done(new ChecksumError(`${url}: the server announces ${declared} bytes, the published file has ${opts.maxBytes}; not used`));
      }
      const chunks: Buffer[] = [];
      let received = 0;
      touch();
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > opts.maxBytes) {
          done(new ChecksumError(`${url}: more than the ${opts.maxBytes} bytes of the published file; not used`));
          return;
        }
        chunks.push(chunk);
        opts.onBytes?.(chunk.length);
        touch();
      });
      res.on('end', () => done(undefined, Buffer.concat(chunks)));
      res.on('error', (e) => done(new UnreachableError(`${url}: not reachable (${errorMessage(e)})`)));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      const why = e.code ?? errorMessage(e);
      done(new UnreachableError(`${url}: not reachable (${why})`));
    });
    touch();
  });
}

/** One place the files may come from: an HTTPS base URL or a local folder. */
interface Origin {
  where: string;
  fetch(f: DatasetFile): Promise<Buffer>;
}

function urlOrigin(base: string, o: DownloadOptions, progress: (file: string, n: number) => void): Origin {
  const b = base.endsWith('/') ? base : `${base}/`;
  return {
    where: b,
    async fetch(f: DatasetFile): Promise<Buffer> {
      const url = `${b}${f.file}`;
      o.log?.(`downloading ${url}`);
      return httpsGet(url, {
        idleMs: o.idleMs ?? 30_000,
        maxBytes: f.bytes,
        ...(o.signal !== undefined ? { signal: o.signal } : {}),
        ...(o.ca !== undefined ? { ca: o.ca } : {}),
        onBytes: (n) => progress(f.file, n),
      });
    },
  };
}

function folderOrigin(dir: string): Origin {
  return {
    where: dir,
    async fetch(f: DatasetFile): Promise<Buffer> {
      const file = path.join(dir, f.file);
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch {
        throw new UnreachableError(`${file}: no such file`);
      }
      // Never read a special file or something far bigger than the published one.
      if (!st.isFile()) throw new UnreachableError(`${file}: not a regular file`);
      if (st.size !== f.bytes) throw new ChecksumError(`${file}: ${st.size} bytes, the published ${f.file} has ${f.bytes}; not used`);
      return fs.readFileSync(file);
    },
  };
}

/**
 * Decompresses a downloaded archive. Its compressed bytes were checked against the published
 * SHA-256 first, so its size is known; `maxBytes` still bounds the output (docs/limits.md).
 */
function gunzip(buf: Buffer, where: string, maxBytes: number): Buffer {
  try {
    return zlib.gunzipSync(buf, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw new DataFormatError(`${where}: decompresses to more than ${maxBytes} bytes`);
    throw new DataFormatError(`${where}: not a valid gzip file (${errorMessage(e)})`);
  }
}

/** Verifies a fetched file and, where an independent hash of the decompressed content exists, that too. */
function checked(buf: Buffer, f: DatasetFile, where: string): Buffer {
  verifyFile(buf, f, where);
  if (f.uncompressed === undefined) return buf;
  verifyFile(gunzip(buf, where, f.uncompressed.bytes + 1), { file: f.uncompressed.file, bytes: f.uncompressed.bytes, sha256: f.uncompressed.sha256 }, `${where} (decompressed)`);
  return buf;
}

async function parse(name: DownloadableName, files: Map<string, Buffer>, where: string): Promise<RawData> {
  const source = `download:${where}`;
  if (name === 'fashion-mnist' || name === 'mnist') return readIdxDataset(mapSource(where, files), source);
  const tar = gunzip(at([...files.values()], 0), where, MAX_DATA_FILE_BYTES);
  const src: FileSource = mapSource(where, readTar(tar, where));
  return name === 'cifar10' ? readCifar10(src, source) : readCifar100(src, source);
}

/**
 * Fetches every file of `name` from the first origin that has them all (the local folder, then
 * each base URL), verifies each against its SHA-256, and parses them. Throws
 * DownloadCancelledError at once when cancelled; otherwise, when no origin worked, ChecksumError
 * if some origin served wrong bytes, else UnreachableError (every origin and why, joined by "; ").
 */
export async function downloadDataset(name: DownloadableName, o: DownloadOptions = {}): Promise<RawData> {
  const files = o.files ?? DATASET_FILES[name];
  const total = datasetBytes(files);
  let received = 0;
  const progress = (file: string, n: number): void => {
    received += n;
    o.onProgress?.({ file, received, total });
  };
  const origins: Origin[] = [];
  if (o.localDir !== undefined && fs.existsSync(o.localDir)) origins.push(folderOrigin(o.localDir));
  for (const b of o.bases ?? OFFICIAL_BASES[name]) origins.push(urlOrigin(b, o, progress));

  const problems: string[] = [];
  let mismatch = false;
  for (const origin of origins) {
    received = 0;
    const got = new Map<string, Buffer>();
    try {
      // The smallest file first (a labels file): an unreachable host costs one short request.
      for (const f of [...files].sort((a, b) => a.bytes - b.bytes)) got.set(f.file, checked(await origin.fetch(f), f, `${origin.where}${origin.where.endsWith('/') ? '' : '/'}${f.file}`));
    } catch (e) {
      if (e instanceof DownloadCancelledError) throw e;
      if (e instanceof ChecksumError) mismatch = true;
      if (e instanceof UnreachableError || e instanceof ChecksumError || e instanceof DataFormatError) {
        problems.push(e.message);
        o.log?.(e.message);
        continue;
      }
      throw e;
    }
    return parse(name, got, origin.where);
  }
  if (cancelled(o.signal)) throw new DownloadCancelledError(`${name}: download cancelled`);
  const msg = problems.length > 0 ? problems.join('; ') : `${name}: no download location`;
  throw mismatch ? new ChecksumError(msg) : new UnreachableError(msg);
}
