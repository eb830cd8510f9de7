/** Committed conv-net fixtures (test/fixtures/conv/), found from tsc output and from a bundled temp file. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function convFixturePath(name: string): string {
  const candidates = [
    path.resolve(__dirname, '../../../test/fixtures/conv', name),
    path.resolve(__dirname, '../fixtures/conv', name),
    path.resolve(process.cwd(), 'test/fixtures/conv', name),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`fixture ${name} not found in ${candidates.join(', ')}`);
  return found;
}

/** A float32 array stored in a fixture as base64 of its little-endian bytes (the reference scripts' `b64`). */
export function f32(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** A 0/1 mask stored as base64 of one byte per entry, as floats. */
export function u8(s: string): Float32Array {
  return Float32Array.from(Buffer.from(s, 'base64'));
}
