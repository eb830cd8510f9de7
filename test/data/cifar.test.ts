import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCifar10, readCifar100 } from '../../src/data/cifar';
import { folderSource } from '../../src/data/files';
import { DatasetError, loadDataset, readFolder } from '../../src/data/index';
import { cfg, cifarPattern, cifarRecord, mean, std, tempDir, writeCifar100Folder, writeCifar10Folder } from './helpers';
import * as checked from '../../src/shared/checked';

/** HWC index of (row, col, channel) in image i of a 32×32×3 set. */
const at = (i: number, r: number, col: number, c: number): number => i * 3072 + (r * 32 + col) * 3 + c;

test('CIFAR-10 binary: batches concatenated in order, CHW converted to HWC, labels kept', async (t) => {
  const dir = tempDir(t);
  writeCifar10Folder(dir, 4, 6);
  const raw = await readCifar10(folderSource(dir), 'x');
  assert.equal(raw.nTrain, 20);
  assert.equal(raw.nTest, 6);
  assert.deepEqual(raw.shape, [32, 32, 3]);
  assert.equal(raw.classes, 10);
  assert.deepEqual(Array.from(raw.trainY), Array.from({ length: 20 }, (_, i) => i % 10));
  assert.deepEqual(Array.from(raw.testY), [3, 4, 5, 6, 7, 8]);
  for (const [img, r, col, c] of [
    [0, 0, 0, 0],
    [0, 0, 1, 2],
    [7, 31, 0, 1],
    [13, 5, 30, 2],
    [19, 31, 31, 0],
  ] as const) {
    assert.equal(raw.trainX[at(img, r, col, c)], cifarPattern(img)(c, r, col), `train ${img} (${r},${col},${c})`);
  }
  assert.equal(raw.testX[at(5, 2, 3, 1)], cifarPattern(1005)(1, 2, 3));
});

test('CIFAR-10 HWC placement of single marked pixels', async (t) => {
  // One image, all zero except R(0,1)=10, G(1,0)=20, B(31,31)=30: in HWC they sit at 3, 97, 3071.
  const dir = tempDir(t);
  const px = (c: number, r: number, col: number): number =>
    c === 0 && r === 0 && col === 1 ? 10 : c === 1 && r === 1 && col === 0 ? 20 : c === 2 && r === 31 && col === 31 ? 30 : 0;
  for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(dir, `data_batch_${b}.bin`), cifarRecord([b], px));
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarRecord([9], px));
  const raw = await readCifar10(folderSource(dir), 'x');
  const nz = Array.from(raw.trainX.subarray(0, 3072).entries()).filter(([, v]) => v !== 0);
  assert.deepEqual(nz, [
    [3, 10],
    [97, 20],
    [3071, 30],
  ]);
  assert.deepEqual(Array.from(raw.trainY), [1, 2, 3, 4, 5]);
});

test('CIFAR-100 binary: fine label (second byte) kept, coarse ignored, pixels HWC', async (t) => {
  const dir = tempDir(t);
  writeCifar100Folder(dir, 12, 5);
  const raw = await readCifar100(folderSource(dir), 'x');
  assert.equal(raw.classes, 100);
  assert.equal(raw.nTrain, 12);
  assert.equal(raw.nTest, 5);
  assert.deepEqual(Array.from(raw.trainY), Array.from({ length: 12 }, (_, i) => (i * 37) % 100));
  assert.deepEqual(Array.from(raw.testY), Array.from({ length: 5 }, (_, i) => ((i + 500) * 37) % 100));
  assert.equal(raw.trainX[at(11, 17, 9, 2)], cifarPattern(11)(2, 17, 9));
  assert.equal(raw.testX[at(4, 0, 31, 0)], cifarPattern(504)(0, 0, 31));
});

test('CIFAR errors: truncated batch, missing batch, bad label — all named', async (t) => {
  const dir = tempDir(t);
  writeCifar10Folder(dir, 3, 2);
  fs.truncateSync(path.join(dir, 'data_batch_2.bin'), 3 * 3073 - 5);
  fs.rmSync(path.join(dir, 'data_batch_4.bin'));
  const bad = cifarRecord([10], () => 0);
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), bad);
  await assert.rejects(readCifar10(folderSource(dir), 'x'), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /data_batch_2\.bin: file truncated: size 9214 is not a multiple of the 3073-byte record \(expected 9219 bytes for 3 records, got 9214\)/);
    assert.match(e.message, /data_batch_4\.bin: missing/);
    assert.match(e.message, /test_batch\.bin: record 0 has label 10, expected 0\.\.9/);
    return true;
  });
  const d100 = tempDir(t);
  writeCifar100Folder(d100, 2, 2);
  fs.writeFileSync(path.join(d100, 'test.bin'), cifarRecord([3, 100], () => 0));
  await assert.rejects(readCifar100(folderSource(d100), 'x'), /test\.bin: record 0 has label 100, expected 0\.\.99/);
});

test('readFolder accepts the parent of cifar-10-batches-bin / cifar-100-binary', async (t) => {
  const dir = tempDir(t);
  writeCifar10Folder(path.join(dir, 'cifar-10-batches-bin'), 2, 2);
  writeCifar100Folder(path.join(dir, 'cifar-100-binary'), 3, 2);
  assert.equal((await readFolder('cifar10', dir)).nTrain, 10);
  assert.equal((await readFolder('cifar100', dir)).nTrain, 3);
});

test('loadDataset(cifar10) from dataset.path: per-channel normalisation with train statistics', async (t) => {
  const dir = tempDir(t);
  // Channel c of source image i is the constant (i·11 + c·60) mod 256, so the statistics are easy
  // to compute here. Training images are 0..99, test images 1000..1009.
  const value = (img: number, c: number): number => (img * 11 + c * 60) % 256;
  writeCifar10Folder(dir, 20, 10, (img) => (c) => value(img, c));

  // validationFraction 0: the train split is the whole training set, so μ, σ are known here.
  const all = await loadDataset(cfg('cifar10', { path: dir, validationFraction: 0 }), { seed: 5, fetch: false });
  assert.equal(all.source, `file:${dir}`);
  assert.equal(all.train.n, 100);
  assert.equal(all.validation.n, 0);
  for (let c = 0; c < 3; c++) {
    const raw = Array.from({ length: 100 }, (_, i) => value(i, c) / 255);
    const mu = mean(raw);
    const sigma = std(raw);
    assert.ok(all.normalization);
    assert.ok(Math.abs(checked.at(all.normalization.mean, c) - mu) < 1e-12);
    assert.ok(Math.abs(checked.at(all.normalization.std, c) - sigma) < 1e-12);
    assert.ok(Math.abs(checked.at(all.normalization.zero, c) + mu / sigma) < 1e-12);
    for (const j of [0, 7, 9]) {
      for (const p of [0, 50, 1023]) {
        assert.ok(Math.abs(checked.atF32(all.test.x, j * 3072 + p * 3 + c) - (value(1000 + j, c) / 255 - mu) / sigma) < 1e-5, `test ${j} px ${p} ch ${c}`);
      }
    }
  }

  // With a validation split, statistics come from the train part only: train is exactly standardised.
  const ds = await loadDataset(cfg('cifar10', { path: dir, validationFraction: 0.2 }), { seed: 5, fetch: false });
  assert.deepEqual(ds.shape, [32, 32, 3]);
  assert.equal(ds.features, 3072);
  assert.equal(ds.train.n, 80);
  assert.equal(ds.validation.n, 20);
  assert.equal(ds.test.n, 10);
  assert.equal(ds.train.x.length, 80 * 3072);
  for (let c = 0; c < 3; c++) {
    assert.ok(Math.abs(mean(ds.train.x, c, 3)) < 1e-5, `channel ${c} mean`);
    assert.ok(Math.abs(std(ds.train.x, c, 3) - 1) < 1e-4, `channel ${c} std`);
  }
});

test('CIFAR with nothing anywhere: DatasetError lists cache, download and npm', async (t) => {
  const dir = tempDir(t);
  const err = await loadDataset(cfg('cifar100', { cacheDir: dir }), { seed: 1, fetch: false }).then(
    () => assert.fail('should throw'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DatasetError);
  assert.deepEqual(err.looked, [
    `${path.join(dir, 'cifar100.gfds')} (cache): no cache file`,
    'official download: skipped (fetch disabled)',
    'npm: no package ships cifar100 data',
  ]);
  assert.match(err.message, /set dataset\.path/);
});

test('a broken file inside cifar-10-batches-bin/ is reported with the subfolder', async (t) => {
  const dir = tempDir(t);
  writeCifar10Folder(path.join(dir, 'cifar-10-batches-bin'), 2, 2);
  fs.truncateSync(path.join(dir, 'cifar-10-batches-bin', 'data_batch_3.bin'), 10);
  await assert.rejects(readFolder('cifar10', dir), /^DataFormatError: cifar-10-batches-bin\/: data_batch_3\.bin: file truncated/);
  await assert.rejects(
    loadDataset(cfg('cifar10', { path: dir }), { seed: 1, fetch: false }),
    (e: unknown) => e instanceof DatasetError && e.looked.length === 1 && checked.at(e.looked, 0).startsWith(`${dir} (dataset.path): cifar-10-batches-bin/: data_batch_3.bin: file truncated`),
  );
});
