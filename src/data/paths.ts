/**
 * Checks on the paths an experiment names (`run.runs_dir`, `dataset.cache_dir`, `dataset.path`) and
 * on the files read from them, made before anything is created or read: the kind of file (a folder
 * where a folder is expected, a regular file where data is read; devices, FIFOs and sockets
 * refused), and no kernel file systems (`/proc`, `/sys`, `/dev`), where a recursive `mkdir` can spin
 * forever and a "file" can be endless. Messages name the path, never the content of a file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shownText } from '../shared/text';

/** Kernel file systems: nothing of an experiment is read from or written to them. */
const KERNEL_ROOTS = ['/proc', '/sys', '/dev'];

function underKernelRoot(p: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  return KERNEL_ROOTS.find((root) => p === root || p.startsWith(`${root}/`));
}

/** What a `fs.Stats` is, in words. */
export function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFile()) return 'a regular file';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

function errnoWords(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'a loop of symbolic links';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    default:
      return code ?? 'cannot be inspected';
  }
}

export interface FolderCheck {
  /** Why the folder cannot be used, or undefined when it can (it may not exist yet). */
  problem?: string;
  exists: boolean;
}

/**
 * Whether `dir` (absolute) can be used as a folder: it is a folder (symbolic links followed), or it
 * does not exist and its nearest existing parent is a folder; and neither it nor that parent (after
 * resolving links) is inside `/proc`, `/sys` or `/dev`. Only `stat` calls: never blocks on a FIFO.
 */
export function checkFolder(dir: string): FolderCheck {
  const shown = shownText(dir, 200);
  const lexical = underKernelRoot(path.resolve(dir));
  if (lexical) return { exists: false, problem: `${shown} is inside ${lexical}, a kernel file system: choose an ordinary folder` };
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return { exists: false, problem: `${shown} cannot be used: ${errnoWords(e)}` };
    // Missing: the nearest existing ancestor decides whether it can be created.
    let parent = path.dirname(dir);
    for (;;) {
      try {
        const pst = fs.statSync(parent);
        if (!pst.isDirectory()) return { exists: false, problem: `${shown} cannot be created: ${shownText(parent, 200)} is ${kindOf(pst)}, not a folder` };
        const real = underKernelRoot(fs.realpathSync(parent));
        if (real) return { exists: false, problem: `${shown} would be created inside ${real}, a kernel file system: choose an ordinary folder` };
        return { exists: false };
      } catch (pe) {
        const pcode = (pe as NodeJS.ErrnoException).code;
        if (pcode !== 'ENOENT' && pcode !== 'ENOTDIR') return { exists: false, problem: `${shown} cannot be created: ${errnoWords(pe)}` };
        const up = path.dirname(parent);
        if (up === parent) return { exists: false };
        parent = up;
      }
    }
  }
  if (!st.isDirectory()) return { exists: true, problem: `${shown} is ${kindOf(st)}, expected a folder` };
  try {
    const real = underKernelRoot(fs.realpathSync(dir));
    if (real) return { exists: true, problem: `${shown} leads into ${real}, a kernel file system: choose an ordinary folder` };
  } catch (e) {
    return { exists: true, problem: `${shown} cannot be used: ${errnoWords(e)}` };
  }
  return { exists: true };
}

/**
 * Opens a data file for reading after checking, on the open descriptor, that it is a regular file
 * (a link to `/dev/zero` or a FIFO is refused without reading a byte) of at most `maxBytes`.
 * Returns undefined when the file does not exist. The caller closes the descriptor.
 */
export function openRegularFile(file: string, maxBytes: number): { fd: number; size: number } | undefined {
  const name = path.basename(file);
  const kernel = underKernelRoot(path.resolve(file));
  if (kernel) throw new DataFileError(`${name}: inside ${kernel}, a kernel file system: not read`);
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new DataFileError(`${name}: cannot be opened: ${errnoWords(e)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new DataFileError(`${name}: is ${kindOf(st)}, expected a regular file: not read`);
    const real = underKernelRoot(fs.realpathSync(file));
    if (real) throw new DataFileError(`${name}: leads into ${real}, a kernel file system: not read`);
    if (st.size > maxBytes) throw new DataFileError(`${name}: ${st.size} bytes, more than the ${maxBytes} bytes any valid file of this kind can have: not read`);
    return { fd, size: st.size };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** Reads `length` bytes at `position` (fewer only at the end of the file). */
export function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** A data file is unusable for a reason about the file itself (kind, size, place). */
export class DataFileError extends Error {
  override readonly name = 'DataFileError';
}
