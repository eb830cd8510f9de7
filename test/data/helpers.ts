/** Shared helpers for the data tests: temp folders, writers for the standard formats, fixtures. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { DatasetConfig, DatasetName } from '../../src/shared/experiment';
import type { Rng } from '../../src/shared/rng';
import { at } from '../../src/shared/checked';

export function tempDir(t: { after: (fn: () => void) => void }, label = 'gf-data-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), label));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Repository root, found from this file (out/test/data, or a run-ts temp bundle) or the working directory. */
export function repoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let d = start;
    for (;;) {
      if (fs.existsSync(path.join(d, 'test', 'fixtures', 'data')) && fs.existsSync(path.join(d, 'package.json'))) return d;
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  throw new Error('repository root not found');
}

export function readFixture<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'data', name), 'utf8')) as T;
}

export function cfg(name: DatasetName, extra: Partial<DatasetConfig> = {}): DatasetConfig {
  return { name, validationFraction: 0.1, ...extra };
}

/** IDX bytes per the format spec (big-endian header), written here independently of src/data. */
export function idxBytes(dims: number[], data: Uint8Array, magic = 0x800 | dims.length): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

/** Writes a small MNIST-style folder: image i has every pixel = (i·7 + pixel) mod 256, label i mod 10. */
export function writeIdxFolder(dir: string, nTrain: number, nTest: number, gzip = false): void {
  fs.mkdirSync(dir, { recursive: true });
  const make = (n: number, offset: number): { img: Uint8Array; lab: Uint8Array } => {
    const img = new Uint8Array(n * 784);
    const lab = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < 784; p++) img[i * 784 + p] = ((i + offset) * 7 + p) % 256;
      lab[i] = (i + offset) % 10;
    }
    return { img, lab };
  };
  const write = (name: string, buf: Buffer): void => {
    fs.writeFileSync(path.join(dir, gzip ? `${name}.gz` : name), gzip ? zlib.gzipSync(buf) : buf);
  };
  const tr = make(nTrain, 0);
  const te = make(nTest, 1000);
  write('train-images-idx3-ubyte', idxBytes([nTrain, 28, 28], tr.img));
  write('train-labels-idx1-ubyte', idxBytes([nTrain], tr.lab));
  write('t10k-images-idx3-ubyte', idxBytes([nTest, 28, 28], te.img));
  write('t10k-labels-idx1-ubyte', idxBytes([nTest], te.lab));
}

/**
 * One CIFAR record: label byte(s) then 3072 bytes channel-planar (R plane, G plane, B plane, each
 * 32×32 row-major). pixel(c, row, col) gives the value.
 */
export function cifarRecord(labels: number[], pixel: (c: number, row: number, col: number) => number): Buffer {
  const b = Buffer.alloc(labels.length + 3072);
  labels.forEach((l, i) => (b[i] = l));
  for (let c = 0; c < 3; c++) for (let r = 0; r < 32; r++) for (let col = 0; col < 32; col++) b[labels.length + c * 1024 + r * 32 + col] = pixel(c, r, col) & 255;
  return b;
}

/** A pattern where every (image, channel, row, col) has a distinct-enough value to catch misplacement. */
export const cifarPattern = (img: number) => (c: number, r: number, col: number): number => (img * 31 + c * 80 + r * 3 + col * 5) % 256;

/** CIFAR-10 folder: 5 train batches of `perBatch` records and a test batch of `nTest`. Labels (batch·perBatch + i) mod 10. */
export function writeCifar10Folder(dir: string, perBatch: number, nTest: number, pixel = cifarPattern): void {
  fs.mkdirSync(dir, { recursive: true });
  let img = 0;
  for (let b = 1; b <= 5; b++) {
    const recs: Buffer[] = [];
    for (let i = 0; i < perBatch; i++, img++) recs.push(cifarRecord([img % 10], pixel(img)));
    fs.writeFileSync(path.join(dir, `data_batch_${b}.bin`), Buffer.concat(recs));
  }
  const recs: Buffer[] = [];
  for (let i = 0; i < nTest; i++) recs.push(cifarRecord([(i + 3) % 10], pixel(1000 + i)));
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), Buffer.concat(recs));
}

/** CIFAR-100 folder: coarse label = fine mod 20 (arbitrary, must be ignored), fine label (i·37) mod 100. */
export function writeCifar100Folder(dir: string, nTrain: number, nTest: number, pixel = cifarPattern): void {
  fs.mkdirSync(dir, { recursive: true });
  const rec = (i: number, off: number): Buffer => {
    const fine = ((i + off) * 37) % 100;
    return cifarRecord([fine % 20, fine], pixel(i + off));
  };
  fs.writeFileSync(path.join(dir, 'train.bin'), Buffer.concat(Array.from({ length: nTrain }, (_, i) => rec(i, 0))));
  fs.writeFileSync(path.join(dir, 'test.bin'), Buffer.concat(Array.from({ length: nTest }, (_, i) => rec(i, 500))));
}

/** An Rng that replays given uniforms (next) and integers (int) in order, for exact augmentation checks. */
export function scriptedRng(ints: number[], uniforms: number[] = []): Rng & { used(): { ints: number; uniforms: number } } {
  let i = 0;
  let u = 0;
  const rng = {
    next: (): number => {
      const v = uniforms[u];
      if (v === undefined) throw new Error('scriptedRng: out of uniforms');
      u++;
      return v;
    },
    int: (n: number): number => {
      if (i >= ints.length) throw new Error('scriptedRng: out of ints');
      const v = at(ints, i++);
      if (v < 0 || v >= n) throw new Error(`scriptedRng: ${v} not in [0, ${n})`);
      return v;
    },
    normal: (): number => {
      throw new Error('scriptedRng: normal not scripted');
    },
    fork: (): Rng => {
      throw new Error('scriptedRng: fork not scripted');
    },
    used: () => ({ ints: i, uniforms: u }),
  };
  return rng;
}

export function mean(xs: ArrayLike<number>, from = 0, step = 1): number {
  let s = 0;
  let n = 0;
  for (let i = from; i < xs.length; i += step, n++) s += at(xs, i);
  return s / n;
}

export function std(xs: ArrayLike<number>, from = 0, step = 1): number {
  const m = mean(xs, from, step);
  let s = 0;
  let n = 0;
  for (let i = from; i < xs.length; i += step, n++) s += (at(xs, i) - m) ** 2;
  return Math.sqrt(s / n);
}
