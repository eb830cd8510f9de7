/**
 * Issue 10, items 2–3: data files that are not what they claim. A link to /dev/zero, a FIFO, a
 * header describing gigabytes, a gzip bomb: each is refused from its kind or its header before the
 * body is read, and no message shows the file's bytes. (The old reader followed /dev/zero to 4 GB
 * and printed the first bytes of /etc/passwd as a "magic".)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { loadDataset, DatasetError } from '../../src/data';
import { readCache } from '../../src/data/cache';
import { cfg, idxBytes, tempDir, writeIdxFolder } from './helpers';

async function problemOf(dir: string): Promise<string> {
  const err = await loadDataset(cfg('mnist', { path: dir, cacheDir: path.join(dir, 'cache') }), { seed: 1, fetch: false }).then(
    () => assert.fail('should throw'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DatasetError, String(err));
  return err.message;
}

test('a data file linked to /dev/zero is refused without reading it', { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  writeIdxFolder(dir, 20, 10);
  fs.rmSync(path.join(dir, 'train-images-idx3-ubyte'));
  fs.symlinkSync('/dev/zero', path.join(dir, 'train-images-idx3-ubyte'));
  const before = process.memoryUsage().rss;
  const message = await problemOf(dir);
  assert.match(message, /train-images-idx3-ubyte: (inside \/dev|is a character device)/);
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024);
});

test('a FIFO as data file is refused without blocking', { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  writeIdxFolder(dir, 20, 10);
  const fifo = path.join(dir, 'train-labels-idx1-ubyte');
  fs.rmSync(fifo);
  const made = spawnSync('mkfifo', [fifo]);
  if (made.status !== 0) return t.skip('mkfifo is not available');
  assert.match(await problemOf(dir), /train-labels-idx1-ubyte: is a named pipe \(FIFO\), expected a regular file/);
});

test('a wrong file (e.g. a link to a password file) is named, its bytes never shown', async (t) => {
  const dir = tempDir(t);
  writeIdxFolder(dir, 20, 10);
  const secret = path.join(dir, 'passwd');
  fs.writeFileSync(secret, 'root:x:0:0:root:/root:/bin/bash\n'.repeat(40));
  fs.rmSync(path.join(dir, 't10k-images-idx3-ubyte'));
  fs.symlinkSync(secret, path.join(dir, 't10k-images-idx3-ubyte'));
  const message = await problemOf(dir);
  assert.match(message, /t10k-images-idx3-ubyte: not an IDX image file/);
  // 'root' is 72 6f 6f 74: neither the text nor its hex may appear.
  assert.doesNotMatch(message, /root|726f6f74|bash/i);
});

test('sizes come from the header, checked before the body is read', async (t) => {
  const dir = tempDir(t);
  writeIdxFolder(dir, 20, 10);
  // A header describing 4·10⁹ images of 28×28 (3 TB) on a 1 kB file.
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), idxBytes([4_000_000_000, 28, 28], new Uint8Array(1000)));
  // A label file one byte short of its header's count.
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idxBytes([20], new Uint8Array(19)));
  const message = await problemOf(dir);
  assert.match(message, /train-images-idx3-ubyte: its header describes 3136000000016 bytes of data, more than the 784000016 bytes a file of this kind may have/);
  assert.match(message, /train-labels-idx1-ubyte: file truncated: expected 28 bytes, got 27/);
});

test('a gzip of zeros is refused from its first decompressed bytes (not an IDX header)', { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  writeIdxFolder(dir, 20, 10);
  fs.rmSync(path.join(dir, 'train-labels-idx1-ubyte'));
  // 64 MiB of zeros in ~64 kB: the header (magic 0) is refused after 8 decompressed bytes.
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }));
  assert.match(await problemOf(dir), /train-labels-idx1-ubyte\.gz: not an IDX label file/);
});

/**
 * A real gzip bomb, made cheaply: gzip members concatenated (a valid gzip stream), the first
 * holding a genuine IDX header, then `zeroMembers` members of 1 MiB of zeros each (about 1 kB
 * compressed apiece).
 */
function idxBomb(header: Buffer, zeroMembers: number): Buffer {
  const zeros = zlib.gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  return Buffer.concat([zlib.gzipSync(header), ...new Array<Buffer>(zeroMembers).fill(zeros)]);
}

test('an IDX gzip bomb stops inflating at the size its header describes (13 MB → 3 GB case)', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  writeIdxFolder(dir, 20, 10);
  fs.rmSync(path.join(dir, 'train-images-idx3-ubyte'));
  // Header: 60,000 images of 28×28 (47,040,016 bytes); the stream inflates to 3 GiB + 16 bytes.
  const bomb = idxBomb(idxBytes([60_000, 28, 28], new Uint8Array(0)), 3 * 1024);
  assert.ok(bomb.length < 16 * 1024 * 1024, `${bomb.length} bytes compressed`);
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), bomb);
  const message = await problemOf(dir);
  const m = /train-images-idx3-ubyte\.gz: unexpected trailing data \(after decompressing\): its header describes 47040016 bytes, and it decompresses to more \(stopped at (\d+)\)/.exec(message);
  assert.ok(m, message);
  // Stopped within one output chunk (64 KiB) past the header's size, not at 784 MB or 3 GB.
  assert.ok(Number(m[1]) > 47_040_016 && Number(m[1]) <= 47_040_016 + 64 * 1024, m[1]);
});

test('a label gzip bomb is refused at its header size as well', { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  writeIdxFolder(dir, 20, 10);
  fs.rmSync(path.join(dir, 'train-labels-idx1-ubyte'));
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), idxBomb(idxBytes([20], new Uint8Array(0)), 64));
  assert.match(await problemOf(dir), /train-labels-idx1-ubyte\.gz: unexpected trailing data \(after decompressing\): its header describes 28 bytes, and it decompresses to more \(stopped at \d+\)/);
});

test('a cache file linked to /dev/zero is corrupt, not an endless read', { timeout: 20_000 }, (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'mnist.gfds');
  fs.symlinkSync('/dev/zero', file);
  const r = readCache(file, 'mnist');
  assert.equal(r.kind, 'corrupt');
  assert.match(r.kind === 'corrupt' ? r.problem : '', /\/dev|character device/);
});
