/**
 * CIFAR binary readers. CIFAR-10: data_batch_1..5.bin + test_batch.bin, records of 1 label byte +
 * 3072 pixel bytes. CIFAR-100: train.bin + test.bin, records of coarse label, fine label, 3072
 * pixel bytes (we keep the fine label, 100 classes). Pixels are stored channel-planar (1024 R, then
 * 1024 G, then 1024 B, each row-major 32×32); we convert to HWC because every split is NHWC.
 *
 * Record counts are not fixed to 10,000 per file: any whole number of records is accepted so that
 * tests can use small files in the exact format. A size that is not a multiple of the record is
 * reported as truncated.
 */
import { DataFormatError } from './errors';
import type { FileSource, RawData, SizeRule } from './raw';
import { at, atU8 } from '../shared/checked';

/** Most records one CIFAR binary file may hold (the largest standard file, CIFAR-100 train.bin, has 50,000). */
export const MAX_CIFAR_RECORDS = 60_000;

/** Size bound of a CIFAR file: no header, so at most MAX_CIFAR_RECORDS records. */
export function cifarRule(labelBytes: 1 | 2): SizeRule {
  return { max: MAX_CIFAR_RECORDS * (labelBytes + 3 * 32 * 32) };
}

const PIXELS = 32 * 32;
const IMAGE_BYTES = 3 * PIXELS;

export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILE = 'test_batch.bin';

interface Records {
  x: Uint8Array;
  y: Uint8Array;
  n: number;
}

/** Parses records of `labelBytes` label bytes + 3072 CHW pixels; label taken from byte `labelIndex`. */
export function parseCifarRecords(buf: Uint8Array, label: string, labelBytes: 1 | 2, labelIndex: number, classes: number): Records {
  const rec = labelBytes + IMAGE_BYTES;
  if (buf.length === 0) throw new DataFormatError(`${label}: empty file`);
  if (buf.length % rec !== 0) {
    const n = Math.ceil(buf.length / rec);
    throw new DataFormatError(
      `${label}: file truncated: size ${buf.length} is not a multiple of the ${rec}-byte record (expected ${n * rec} bytes for ${n} records, got ${buf.length})`,
    );
  }
  const n = buf.length / rec;
  const x = new Uint8Array(n * IMAGE_BYTES);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const off = i * rec;
    const lab = atU8(buf, off + labelIndex);
    if (lab >= classes) throw new DataFormatError(`${label}: record ${i} has label ${lab}, expected 0..${classes - 1}`);
    y[i] = lab;
    const px = off + labelBytes;
    const out = i * IMAGE_BYTES;
    // CHW → HWC: pixel p of channel c moves from c·1024 + p to p·3 + c.
    for (let p = 0; p < PIXELS; p++) {
      x[out + p * 3] = atU8(buf, px + p);
      x[out + p * 3 + 1] = atU8(buf, px + PIXELS + p);
      x[out + p * 3 + 2] = atU8(buf, px + 2 * PIXELS + p);
    }
  }
  return { x, y, n };
}

function concat(parts: Records[]): Records {
  const n = parts.reduce((a, p) => a + p.n, 0);
  const x = new Uint8Array(n * IMAGE_BYTES);
  const y = new Uint8Array(n);
  let filled = 0;
  for (const p of parts) {
    x.set(p.x, filled * IMAGE_BYTES);
    y.set(p.y, filled);
    filled += p.n;
  }
  return { x, y, n };
}

async function readAll(src: FileSource, names: string[], labelBytes: 1 | 2, labelIndex: number, classes: number): Promise<Records[]> {
  const problems: string[] = [];
  const parts: Records[] = [];
  for (const name of names) {
    try {
      const buf = await src.get(name, cifarRule(labelBytes));
      if (buf === undefined) problems.push(`${name}: missing`);
      else parts.push(parseCifarRecords(buf, name, labelBytes, labelIndex, classes));
    } catch (e) {
      if (e instanceof DataFormatError) problems.push(e.message);
      else throw e;
    }
  }
  if (problems.length > 0) throw new DataFormatError(problems.join('; '));
  return parts;
}

export async function readCifar10(src: FileSource, source: string): Promise<RawData> {
  const parts = await readAll(src, [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE], 1, 0, 10);
  const train = concat(parts.slice(0, 5));
  const test = at(parts, 5);
  return { shape: [32, 32, 3], classes: 10, trainX: train.x, trainY: train.y, nTrain: train.n, testX: test.x, testY: test.y, nTest: test.n, source };
}

export async function readCifar100(src: FileSource, source: string): Promise<RawData> {
  // Byte 0 is the coarse (20-superclass) label, byte 1 the fine label we train on.
  const parts = await readAll(src, ['train.bin', 'test.bin'], 2, 1, 100);
  const train = at(parts, 0);
  const test = at(parts, 1);
  return { shape: [32, 32, 3], classes: 100, trainX: train.x, trainY: train.y, nTrain: train.n, testX: test.x, testY: test.y, nTest: test.n, source };
}
