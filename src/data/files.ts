import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { DataFormatError, errorMessage } from './errors';
import type { FileSource } from './raw';

/** Gzip streams start with 1f 8b; checked on content, not the file name, so a renamed file still works. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

export function gunzipIfNeeded(buf: Buffer, label: string): Buffer {
  if (!isGzip(buf)) return buf;
  try {
    return zlib.gunzipSync(buf);
  } catch (e) {
    throw new DataFormatError(`${label}: not a valid gzip file (${errorMessage(e)})`);
  }
}

/**
 * A folder holding the standard files. `get('train-images-idx3-ubyte')` also accepts the `.gz`
 * form and the dotted spelling some mirrors use (`train-images.idx3-ubyte`).
 */
export function folderSource(dir: string): FileSource {
  return {
    where: dir,
    async get(name: string): Promise<Buffer | undefined> {
      const dotted = name.replace(/-(idx\d-ubyte)$/, '.$1');
      const candidates = [name, `${name}.gz`, dotted, `${dotted}.gz`];
      for (const c of [...new Set(candidates)]) {
        const file = path.join(dir, c);
        let buf: Buffer;
        try {
          buf = fs.readFileSync(file);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'ENOTDIR') continue;
          throw new DataFormatError(`${c}: cannot read (${errorMessage(e)})`);
        }
        return gunzipIfNeeded(buf, c);
      }
      return undefined;
    },
  };
}

/** Files of an in-memory archive (see tar.ts), looked up by base name so any top folder works. */
export function mapSource(where: string, files: Map<string, Buffer>): FileSource {
  return {
    where,
    async get(name: string): Promise<Buffer | undefined> {
      for (const [p, buf] of files) {
        if (path.posix.basename(p) === name || path.posix.basename(p) === `${name}.gz`) return gunzipIfNeeded(buf, p);
      }
      return undefined;
    },
  };
}
