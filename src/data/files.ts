import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { DataFormatError, errorMessage } from './errors';
import { DataFileError, openRegularFile, readAt } from './paths';
import type { FileSource, SizeRule } from './raw';

/**
 * Largest data file read when its format gives no tighter bound (CIFAR-100's train.bin, the
 * largest standard file, is 153,700,000 bytes).
 */
export const MAX_DATA_FILE_BYTES = 512 * 1024 * 1024;

/** Gzip streams start with 1f 8b; checked on content, not the file name, so a renamed file still works. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** The byte count `rule` allows for a file whose first bytes are `header` (throws DataFormatError). */
function allowedBytes(rule: SizeRule | undefined, header: Buffer | undefined, label: string): { exact?: number; max: number } {
  const max = rule?.max ?? MAX_DATA_FILE_BYTES;
  if (!rule?.total || header === undefined) return { max };
  try {
    return { exact: rule.total(header), max };
  } catch (e) {
    if (e instanceof DataFormatError) throw new DataFormatError(`${label}: ${e.message}`);
    throw e;
  }
}

function sizeProblem(label: string, size: number, allowed: { exact?: number; max: number }, what = ''): string | undefined {
  if (allowed.exact !== undefined && allowed.exact > allowed.max) {
    return `${label}: its header describes ${allowed.exact} bytes of data, more than the ${allowed.max} bytes a file of this kind may have`;
  }
  if (allowed.exact !== undefined && size !== allowed.exact) {
    return size < allowed.exact ? `${label}: file truncated${what}: expected ${allowed.exact} bytes, got ${size}` : `${label}: unexpected trailing data${what}: expected ${allowed.exact} bytes, got ${size}`;
  }
  if (size > allowed.max) return `${label}: ${size} bytes${what}, more than the ${allowed.max} bytes a file of this kind may have`;
  return undefined;
}

/** Output chunk of the streaming gunzip: the most it inflates past a bound before stopping. */
const GUNZIP_CHUNK_BYTES = 64 * 1024;

/**
 * gunzip without a bound on its output is a memory bomb. This inflates as a stream and stops as
 * soon as the output passes the bound: `rule.max` for the kind of file, and, once the first
 * `rule.headerBytes` decompressed bytes are out, the exact size the header describes (an IDX file
 * of 60,000 images stops at 47 MB, whatever the archive would inflate to). At most the bound plus
 * one chunk (64 KiB) is ever held.
 */
export function gunzipIfNeeded(buf: Buffer, label: string, rule?: SizeRule): Promise<Buffer> {
  if (!isGzip(buf)) return Promise.resolve(buf);
  const max = rule?.max ?? MAX_DATA_FILE_BYTES;
  return new Promise<Buffer>((resolve, reject) => {
    const gunzip = zlib.createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    const parts: Buffer[] = [];
    let total = 0;
    let limit = max;
    let fromHeader = false;
    let settled = false;
    const fail = (e: Error): void => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      parts.length = 0;
      reject(e);
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (settled) return;
      total += chunk.length;
      parts.push(chunk);
      if (!fromHeader && rule?.total !== undefined && rule.headerBytes !== undefined && total >= rule.headerBytes) {
        fromHeader = true;
        try {
          const allowed = allowedBytes(rule, Buffer.concat(parts).subarray(0, rule.headerBytes), label);
          if (allowed.exact !== undefined) {
            if (allowed.exact > max) return fail(new DataFormatError(sizeProblem(label, total, allowed, ' (after decompressing)') ?? label));
            limit = allowed.exact;
          }
        } catch (e) {
          return fail(e instanceof Error ? e : new Error(String(e)));
        }
      }
      if (total > limit) {
        fail(
          new DataFormatError(
            fromHeader && limit < max
              ? `${label}: unexpected trailing data (after decompressing): its header describes ${limit} bytes, and it decompresses to more (stopped at ${total})`
              : `${label}: decompresses to more than the ${max} bytes a file of this kind may have`,
          ),
        );
      }
    });
    gunzip.on('error', (e) => fail(new DataFormatError(`${label}: not a valid gzip file (${errorMessage(e)})`)));
    gunzip.on('end', () => {
      if (settled) return;
      settled = true;
      const out = Buffer.concat(parts, total);
      const header = rule?.headerBytes !== undefined && out.length >= rule.headerBytes ? out.subarray(0, rule.headerBytes) : undefined;
      try {
        const problem = sizeProblem(label, out.length, allowedBytes(rule, header, label), ' (after decompressing)');
        if (problem) throw new DataFormatError(problem);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      resolve(out);
    });
    gunzip.end(buf);
  });
}

/**
 * Reads a data file after checking that it is a regular file (not a device, FIFO or a link to one)
 * and that its size agrees with `rule` — from its header when the format has one — so the body of
 * a wrong file is never read. Undefined when the file does not exist.
 */
export async function readDataFile(file: string, label: string, rule?: SizeRule): Promise<Buffer | undefined> {
  let opened: { fd: number; size: number } | undefined;
  try {
    // A gzip file is bounded after decompression; the compressed file itself by the same maximum.
    opened = openRegularFile(file, rule?.max ?? MAX_DATA_FILE_BYTES);
  } catch (e) {
    if (e instanceof DataFileError) throw new DataFormatError(e.message);
    throw e;
  }
  if (!opened) return undefined;
  const { fd, size } = opened;
  try {
    const head = readAt(fd, Math.min(size, Math.max(2, rule?.headerBytes ?? 0)), 0);
    if (!isGzip(head) && rule?.headerBytes !== undefined && size >= rule.headerBytes) {
      const problem = sizeProblem(label, size, allowedBytes(rule, head.subarray(0, rule.headerBytes), label));
      if (problem) throw new DataFormatError(problem);
    }
    const buf = readAt(fd, size, 0);
    return await gunzipIfNeeded(buf, label, rule);
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new DataFormatError(`${label}: cannot read (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)})`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A folder holding the standard files. `get('train-images-idx3-ubyte')` also accepts the `.gz`
 * form and the dotted spelling some mirrors use (`train-images.idx3-ubyte`).
 */
export function folderSource(dir: string): FileSource {
  return {
    where: dir,
    async get(name: string, rule?: SizeRule): Promise<Buffer | undefined> {
      const dotted = name.replace(/-(idx\d-ubyte)$/, '.$1');
      const candidates = [name, `${name}.gz`, dotted, `${dotted}.gz`];
      for (const c of [...new Set(candidates)]) {
        const buf = await readDataFile(path.join(dir, c), c, rule);
        if (buf !== undefined) return buf;
      }
      return undefined;
    },
  };
}

/** Files of an in-memory archive (see tar.ts), looked up by base name so any top folder works. */
export function mapSource(where: string, files: Map<string, Buffer>): FileSource {
  return {
    where,
    async get(name: string, rule?: SizeRule): Promise<Buffer | undefined> {
      for (const [p, buf] of files) {
        if (path.posix.basename(p) === name || path.posix.basename(p) === `${name}.gz`) return gunzipIfNeeded(buf, p, rule);
      }
      return undefined;
    },
  };
}
