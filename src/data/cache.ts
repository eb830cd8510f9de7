/**
 * Compact binary cache of a parsed dataset, so that the slow first parse (150 MB of Fashion-MNIST
 * JSON, a CIFAR tarball) happens once. One file per dataset: `<cacheDir>/<name>.gfds`.
 *
 * Layout (little-endian):
 *   0  4 bytes  magic "GFDS"
 *   4  u32      format version (CACHE_VERSION)
 *   8  u32 ×4   height, width, channels, classes
 *  24  u32 ×2   nTrain, nTest
 *  32  u32      CRC-32 of everything after the 64-byte header
 *  36  u32      byte length S of the source description
 *  40  24 bytes reserved (zero)
 *  64  S bytes  source description (UTF-8)
 *  then uint8 train images (nTrain·h·w·c, HWC), train labels (nTrain), test images, test labels.
 *
 * Written to a temporary file and renamed, so concurrent runs (a sweep) never see half a file.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { DatasetName } from '../shared/experiment';
import { errorMessage } from './errors';
import { checkFolder, DataFileError, openRegularFile, readAt } from './paths';
import type { RawData } from './raw';

export const CACHE_MAGIC = 'GFDS';
export const CACHE_VERSION = 1;
export const CACHE_HEADER_BYTES = 64;

/** cfg.cacheDir, else $GRADFLOW_CACHE, else ~/.cache/gradflow/datasets. */
export function resolveCacheDir(cfgCacheDir?: string): string {
  if (cfgCacheDir) return cfgCacheDir;
  const env = process.env.GRADFLOW_CACHE;
  if (env) return env;
  return path.join(os.homedir(), '.cache', 'gradflow', 'datasets');
}

export function cacheFile(dir: string, name: DatasetName): string {
  return path.join(dir, `${name}.gfds`);
}

/** The shape every source of a dataset must produce; a cache that disagrees is treated as corrupt. */
export const EXPECTED_SHAPE: Record<Exclude<DatasetName, 'synthetic'>, { shape: [number, number, number]; classes: number }> = {
  'fashion-mnist': { shape: [28, 28, 1], classes: 10 },
  mnist: { shape: [28, 28, 1], classes: 10 },
  cifar10: { shape: [32, 32, 3], classes: 10 },
  cifar100: { shape: [32, 32, 3], classes: 100 },
};

export type CacheRead = { kind: 'ok'; data: RawData } | { kind: 'missing' } | { kind: 'corrupt'; problem: string };

/** Largest cache file read: the biggest dataset (CIFAR-100, 60,000 × 3,073 bytes) fits many times over. */
export const MAX_CACHE_BYTES = 1024 * 1024 * 1024;

export function readCache(file: string, name: Exclude<DatasetName, 'synthetic'>): CacheRead {
  // A regular file whose size agrees with its header, checked before the body is read (a cache
  // path that is a link to /dev/zero or a FIFO is "corrupt", not an endless read).
  let opened: { fd: number; size: number } | undefined;
  try {
    opened = openRegularFile(file, MAX_CACHE_BYTES);
  } catch (e) {
    return { kind: 'corrupt', problem: e instanceof DataFileError ? e.message.replace(/^[^:]*: /, '') : `cannot read (${errorMessage(e)})` };
  }
  if (!opened) return { kind: 'missing' };
  let buf: Buffer;
  try {
    const { fd, size } = opened;
    if (size < CACHE_HEADER_BYTES) return { kind: 'corrupt', problem: `file truncated: ${size} bytes, header alone is ${CACHE_HEADER_BYTES}` };
    const head = readAt(fd, CACHE_HEADER_BYTES, 0);
    const problem = headerProblem(head, name, size);
    if (problem) return { kind: 'corrupt', problem };
    buf = readAt(fd, size, 0);
  } catch (e) {
    return { kind: 'corrupt', problem: `cannot read (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)})` };
  } finally {
    fs.closeSync(opened.fd);
  }
  const { h, w, c, classes, nTrain, nTest, crc, srcLen } = headerFields(buf);
  const f = h * w * c;
  const body = buf.subarray(CACHE_HEADER_BYTES);
  const actualCrc = zlib.crc32(body) >>> 0;
  if (actualCrc !== crc) return { kind: 'corrupt', problem: `checksum mismatch (stored ${crc.toString(16)}, computed ${actualCrc.toString(16)})` };
  let at = CACHE_HEADER_BYTES;
  const take = (len: number): Uint8Array => {
    const v = new Uint8Array(buf.buffer, buf.byteOffset + at, len);
    at += len;
    return v;
  };
  const source = Buffer.from(take(srcLen)).toString('utf8');
  const trainX = take(nTrain * f);
  const trainY = take(nTrain);
  const testX = take(nTest * f);
  const testY = take(nTest);
  for (const [labels, split] of [[trainY, 'train'], [testY, 'test']] as const) {
    const bad = labels.findIndex((v) => v >= classes);
    if (bad >= 0) return { kind: 'corrupt', problem: `${split} label ${labels[bad]} at ${bad} is not below ${classes}` };
  }
  return { kind: 'ok', data: { shape: [h, w, c], classes, trainX, trainY, nTrain, testX, testY, nTest, source } };
}

/** The header's uint32 fields after the magic and the version (the layout `writeCache` writes). */
function headerFields(head: Buffer): { h: number; w: number; c: number; classes: number; nTrain: number; nTest: number; crc: number; srcLen: number } {
  const u32 = (offset: number): number => head.readUInt32LE(offset);
  return { h: u32(8), w: u32(12), c: u32(16), classes: u32(20), nTrain: u32(24), nTest: u32(28), crc: u32(32), srcLen: u32(36) };
}

/** What is wrong with a cache header (magic, version, shape, size against the file's), or undefined. */
function headerProblem(head: Buffer, name: Exclude<DatasetName, 'synthetic'>, size: number): string | undefined {
  // The bytes found are not shown: the path may point at any file.
  if (head.toString('latin1', 0, 4) !== CACHE_MAGIC) return `not a Gradflow cache file: its first 4 bytes are not "${CACHE_MAGIC}"`;
  const version = head.readUInt32LE(4);
  if (version !== CACHE_VERSION) return `format version ${version}, ${CACHE_VERSION} expected`;
  const { h, w, c, classes, nTrain, nTest, srcLen } = headerFields(head);
  const want = EXPECTED_SHAPE[name];
  if (h !== want.shape[0] || w !== want.shape[1] || c !== want.shape[2] || classes !== want.classes) {
    return `holds ${h}×${w}×${c} with ${classes} classes, ${want.shape.join('×')} with ${want.classes} expected`;
  }
  const f = h * w * c;
  const expected = CACHE_HEADER_BYTES + srcLen + nTrain * (f + 1) + nTest * (f + 1);
  if (size !== expected) return `${size < expected ? 'file truncated' : 'unexpected size'}: expected ${expected} bytes, got ${size}`;
  return undefined;
}

/** Writes the cache atomically. Only uint8 data is cacheable (synthetic data is never cached). */
export function writeCache(file: string, data: RawData): void {
  if (!(data.trainX instanceof Uint8Array) || !(data.testX instanceof Uint8Array)) {
    throw new Error('writeCache: only uint8 image data can be cached');
  }
  const src = Buffer.from(data.source, 'utf8');
  const header = Buffer.alloc(CACHE_HEADER_BYTES);
  header.write(CACHE_MAGIC, 0, 'latin1');
  const [h, w, c] = data.shape;
  [CACHE_VERSION, h, w, c, data.classes, data.nTrain, data.nTest].forEach((v, i) => header.writeUInt32LE(v, 4 + 4 * i));
  const body = [src, data.trainX, data.trainY, data.testX, data.testY];
  let crc = 0;
  for (const part of body) crc = zlib.crc32(part, crc);
  header.writeUInt32LE(crc >>> 0, 32);
  header.writeUInt32LE(src.length, 36);
  // Never a recursive mkdir into /proc or /sys (it can spin forever) or through a regular file.
  const folder = checkFolder(path.dirname(file));
  if (folder.problem) throw new Error(folder.problem);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const part of [header, ...body]) {
        // writeSync may write less than asked; loop until the whole part is on disk.
        let off = 0;
        while (off < part.length) off += fs.writeSync(fd, part, off, part.length - off);
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
