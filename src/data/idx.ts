/**
 * IDX reader (the MNIST / Fashion-MNIST file format): a big-endian header — two zero bytes, a type
 * byte (0x08 = unsigned byte), the number of dimensions — then one u32 per dimension, then the
 * values. Images are idx3 (magic 0x00000803), labels idx1 (0x00000801).
 */
import { DataFormatError } from './errors';
import type { FileSource, RawData, SizeRule } from './raw';
import { at } from '../shared/checked';

/** Most images (or labels) an IDX file may hold: MNIST-style sets have 70,000; this bounds memory. */
export const MAX_IDX_ITEMS = 1_000_000;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** Parses one IDX buffer; `label` names the file in error messages. Only the ubyte type is accepted. */
export function parseIdx(buf: Uint8Array, label: string, expectedDims: 1 | 3): IdxArray {
  const expectedMagic = 0x00000800 | expectedDims;
  if (buf.length < 4) throw new DataFormatError(`${label}: file truncated: expected at least 4 bytes, got ${buf.length}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    // The bytes found are not shown: a wrong file may be anything (a password file, a key).
    throw new DataFormatError(`${label}: not an IDX ${expectedDims === 3 ? 'image' : 'label'} file: its first 4 bytes are not the magic number ${hex(expectedMagic)}`);
  }
  const headerBytes = 4 + 4 * expectedDims;
  if (buf.length < headerBytes) {
    throw new DataFormatError(`${label}: file truncated: expected at least ${headerBytes} bytes, got ${buf.length}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < expectedDims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (buf.length < expected) {
    throw new DataFormatError(`${label}: file truncated: expected ${expected} bytes, got ${buf.length}`);
  }
  if (buf.length > expected) {
    throw new DataFormatError(`${label}: unexpected trailing data: expected ${expected} bytes, got ${buf.length}`);
  }
  return { dims, data: buf.subarray(headerBytes, expected) };
}

/**
 * The size an IDX file must have, from its header: magic, then one u32 per dimension; at most
 * MAX_IDX_ITEMS items of 28×28 (images) or 1 byte (labels).
 */
export function idxRule(expectedDims: 1 | 3): SizeRule {
  const headerBytes = 4 + 4 * expectedDims;
  const itemBytes = expectedDims === 3 ? 28 * 28 : 1;
  return {
    headerBytes,
    max: headerBytes + MAX_IDX_ITEMS * itemBytes,
    total: (header: Buffer): number => {
      const magic = header.readUInt32BE(0);
      const label = expectedDims === 3 ? 'image' : 'label';
      if (magic !== (0x00000800 | expectedDims)) throw new DataFormatError(`not an IDX ${label} file: its first 4 bytes are not the magic number ${hex(0x00000800 | expectedDims)}`);
      let total = headerBytes;
      let product = 1;
      for (let i = 0; i < expectedDims; i++) product *= header.readUInt32BE(4 + 4 * i);
      total += product;
      return total;
    },
  };
}

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/**
 * Reads the four IDX files of an MNIST-style dataset (28×28 grey, 10 classes). Every problem of
 * every file is collected before throwing, so one message tells the user all that is wrong.
 */
export async function readIdxDataset(src: FileSource, source: string): Promise<RawData> {
  const problems: string[] = [];
  const read = async (name: string, dims: 1 | 3): Promise<IdxArray | undefined> => {
    try {
      const buf = await src.get(name, idxRule(dims));
      if (buf === undefined) {
        problems.push(`${name}: missing (also tried ${name}.gz)`);
        return undefined;
      }
      return parseIdx(buf, name, dims);
    } catch (e) {
      if (e instanceof DataFormatError) {
        problems.push(e.message);
        return undefined;
      }
      throw e;
    }
  };
  const trI = await read(IDX_FILES.trainImages, 3);
  const trL = await read(IDX_FILES.trainLabels, 1);
  const teI = await read(IDX_FILES.testImages, 3);
  const teL = await read(IDX_FILES.testLabels, 1);
  const checkPair = (imgName: string, img?: IdxArray, lab?: IdxArray): void => {
    if (img && (img.dims[1] !== 28 || img.dims[2] !== 28)) {
      problems.push(`${imgName}: images are ${img.dims[1]}×${img.dims[2]}, 28×28 expected`);
    }
    if (img && lab && img.dims[0] !== lab.dims[0]) {
      problems.push(`${imgName}: ${img.dims[0]} images but ${lab.dims[0]} labels`);
    }
    if (lab) {
      const bad = lab.data.findIndex((v) => v > 9);
      if (bad >= 0) problems.push(`${imgName.replace('images-idx3', 'labels-idx1')}: label ${lab.data[bad]} at index ${bad} is not in 0..9`);
    }
  };
  checkPair(IDX_FILES.trainImages, trI, trL);
  checkPair(IDX_FILES.testImages, teI, teL);
  if (problems.length > 0 || !trI || !trL || !teI || !teL) throw new DataFormatError(problems.join('; '));
  return {
    shape: [28, 28, 1],
    classes: 10,
    trainX: trI.data,
    trainY: trL.data,
    nTrain: at(trI.dims, 0),
    testX: teI.data,
    testY: teL.data,
    nTest: at(teI.dims, 0),
    source,
  };
}
