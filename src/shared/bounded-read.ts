/**
 * Bounded reads (Node only): a file Gradflow reads is checked against its documented bound
 * (docs/limits.md) on the open descriptor before its body is read, and never more than the bound
 * is read even when the file grows in between. A file past its bound costs one `stat`, not its
 * size in memory and time.
 */
import * as fs from 'node:fs';
import { grouped } from './format';

/** Why a bounded read failed: `missing` (no such file), `too-large`, `not-a-file`, `unreadable`. */
export type BoundedReadProblem = 'missing' | 'too-large' | 'not-a-file' | 'unreadable';

export class BoundedReadError extends Error {
  override readonly name = 'BoundedReadError';
  constructor(
    message: string,
    readonly problem: BoundedReadProblem,
    readonly file: string,
    /** The errno code (`ENOENT`, `EACCES`, …) when the system refused. */
    readonly code?: string,
    /** The file's size when it is past the bound. */
    readonly size?: number,
  ) {
    super(message);
  }
}

export interface BoundOptions {
  /** Largest number of bytes accepted. */
  maxBytes: number;
  /** What the file is, for the message: "experiment file", "summary.json", … */
  what: string;
  /** Why the bound is what it is, appended to the message (e.g. "an experiment file is a few kB"). */
  why?: string;
}

/** `1.5 GB`-style size for messages (decimal units, like `ls -lh --si`). */
export function humanBytes(n: number): string {
  if (n < 1000) return `${n} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 1000 && u < units.length - 1);
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** The message of a file past its bound: names the file, its size and the bound. */
export function tooLargeMessage(file: string, size: number, opts: BoundOptions): string {
  return `${file}: the ${opts.what} is ${grouped(size)} bytes (${humanBytes(size)}), more than the limit of ${grouped(opts.maxBytes)} bytes${opts.why !== undefined ? `: ${opts.why}` : ''}; not read`;
}

/**
 * Reads a whole regular file of at most `maxBytes` bytes. Throws `BoundedReadError` (with the file,
 * its size and the bound in the message) instead of reading a file past the bound, a FIFO or a
 * device. At most `maxBytes + 1` bytes are ever read.
 */
export function readBoundedFile(file: string, opts: BoundOptions): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    throw new BoundedReadError(`${file}: cannot read the ${opts.what} (${missing ? 'no such file' : (code ?? (e as Error).message)})`, missing ? 'missing' : 'unreadable', file, code);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new BoundedReadError(`${file}: the ${opts.what} is not a regular file; not read`, 'not-a-file', file);
    if (st.size > opts.maxBytes) throw new BoundedReadError(tooLargeMessage(file, st.size, opts), 'too-large', file, undefined, st.size);
    // The file may grow between fstat and the read (a snapshot of a growing file is what is read);
    // one byte past the bound is read to notice it growing past the bound.
    const buf = Buffer.alloc(Math.min(st.size, opts.maxBytes) + 1);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    if (got > opts.maxBytes) {
      const size = fs.fstatSync(fd).size;
      throw new BoundedReadError(tooLargeMessage(file, size, opts), 'too-large', file, undefined, size);
    }
    return buf.subarray(0, got);
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new BoundedReadError(`${file}: cannot read the ${opts.what} (${code ?? (e as Error).message})`, 'unreadable', file, code);
  } finally {
    fs.closeSync(fd);
  }
}

/** `readBoundedFile` decoded as UTF-8. */
export function readBoundedText(file: string, opts: BoundOptions): string {
  return readBoundedFile(file, opts).toString('utf8');
}

/**
 * Largest JSON file of a run folder or a sweep folder read whole (run.json, config.json,
 * summary.json, claims, a Slurm task record): real ones are a few kB (a summary with every layer
 * of a deep net a few hundred kB).
 */
export const MAX_RUN_JSON_BYTES = 16 * 1024 * 1024;

/** Largest sweep manifest (sweep.json) read whole: a 100,000-run sweep's plan is about 30 MB. */
export const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;
