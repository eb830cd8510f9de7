/**
 * Minimal reader for the (ustar / GNU) tar archives CIFAR is distributed in: 512-byte headers, file
 * name at 0..100 (+ ustar prefix at 345..500), size in octal at 124..136, type flag at 156. Only
 * regular files are kept; GNU long names ('L' entries) are honoured because some tools emit them.
 */
import { DataFormatError } from './errors';
import { at } from '../shared/checked';

export function readTar(buf: Uint8Array, label: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const text = (from: number, len: number): string => {
    const s = Buffer.from(buf.subarray(from, from + len)).toString('utf8');
    const z = s.indexOf('\0');
    return z >= 0 ? s.slice(0, z) : s;
  };
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= buf.length) {
    if (buf.subarray(off, off + 512).every((b) => b === 0)) break; // end-of-archive marker
    const sizeText = text(off + 124, 12).trim();
    const size = parseInt(sizeText || '0', 8);
    if (!Number.isFinite(size)) throw new DataFormatError(`${label}: bad tar header at ${off}`);
    const type = String.fromCharCode(at(buf, off + 156));
    const magic = text(off + 257, 6);
    const prefix = magic.startsWith('ustar') ? text(off + 345, 155) : '';
    let name = prefix ? `${prefix}/${text(off, 100)}` : text(off, 100);
    const dataStart = off + 512;
    if (dataStart + size > buf.length) throw new DataFormatError(`${label}: archive truncated inside ${name}`);
    const content = Buffer.from(buf.subarray(dataStart, dataStart + size));
    if (type === 'L') {
      longName = content.toString('utf8').replace(/\0+$/, '');
    } else {
      if (longName !== undefined) name = longName;
      longName = undefined;
      if (type === '0' || type === '\0') files.set(name, content);
    }
    off = dataStart + Math.ceil(size / 512) * 512;
  }
  return files;
}
