/**
 * The dataset as read from its source, before split and normalisation: images as stored (uint8
 * pixels HWC, or float features for synthetic data), official train and test sets.
 */
export interface RawData {
  /** [height, width, channels]. */
  shape: [number, number, number];
  classes: number;
  /** nTrain × h·w·c values, HWC per example. Uint8 pixels are scaled by 1/255 before normalising. */
  trainX: Uint8Array | Float32Array;
  trainY: Uint8Array;
  nTrain: number;
  testX: Uint8Array | Float32Array;
  testY: Uint8Array;
  nTest: number;
  /** Human-readable origin, recorded in the run (see `Dataset.source`). */
  source: string;
}

/**
 * How big a file may be, derived from its format before its body is read: `max` bytes at most, and
 * when `total` is given, exactly `total(header)` bytes, where `header` is the first `headerBytes`
 * bytes (`total` throws DataFormatError when the header itself is wrong). For gzip files the limits
 * apply to the decompressed bytes, which stop being produced once they are exceeded.
 */
export interface SizeRule {
  max: number;
  headerBytes?: number;
  total?: (header: Buffer) => number;
}

/**
 * A place holding the standard files of a dataset by name (a folder, a downloaded archive, a set
 * of URLs). `get` resolves to undefined when the file is absent; it throws DataFormatError when the
 * file exists but cannot be read (e.g. broken gzip).
 */
export interface FileSource {
  /** For messages: the folder path or base URL. */
  where: string;
  /** `rule`: the size the format allows (checked before the body is read, where the source can). */
  get(name: string, rule?: SizeRule): Promise<Buffer | undefined>;
}
