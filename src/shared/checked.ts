/**
 * Checked reads for `noUncheckedIndexedAccess`. Where an index is in range by construction (a
 * loop bound set a few lines away, a permutation, a sorted order) but the compiler cannot see it,
 * `at` reads the element and throws a RangeError naming the index and the length if the
 * construction was wrong, so a bug surfaces where it happens instead of flowing on as
 * `undefined` (or NaN). DOM-free and Node-free: the webview bundles this file too.
 */

/** `xs[i]`; a RangeError when `i` is not an index of `xs`. */
export function at<T>(xs: ArrayLike<T>, i: number): T {
  const v = xs[i];
  // One comparison on the hot path: an in-range read of a typed array is never undefined.
  if (v !== undefined || (Number.isInteger(i) && i >= 0 && i < xs.length)) return v as T;
  throw new RangeError(`index ${i} is out of range for a length of ${xs.length}`);
}

/** `xs[xs.length - 1]`; a RangeError when `xs` is empty. */
export function last<T>(xs: ArrayLike<T>): T {
  return at(xs, xs.length - 1);
}

// One accessor per typed-array type for hot numeric loops: each function keeps its own (monomorphic)
// property-access feedback in V8, which one generic `at` shared by every caller would not.

/** `xs[i]` of a Float32Array; a RangeError when `i` is not an index of `xs`. */
export function atF32(xs: Float32Array, i: number): number {
  const v = xs[i];
  if (v !== undefined) return v;
  throw new RangeError(`index ${i} is out of range for a length of ${xs.length}`);
}

/** `xs[i]` of a Float64Array; a RangeError when `i` is not an index of `xs`. */
export function atF64(xs: Float64Array, i: number): number {
  const v = xs[i];
  if (v !== undefined) return v;
  throw new RangeError(`index ${i} is out of range for a length of ${xs.length}`);
}

/** `xs[i]` of a Uint8Array (or Buffer); a RangeError when `i` is not an index of `xs`. */
export function atU8(xs: Uint8Array, i: number): number {
  const v = xs[i];
  if (v !== undefined) return v;
  throw new RangeError(`index ${i} is out of range for a length of ${xs.length}`);
}

/** `xs[i]` of a Uint32Array; a RangeError when `i` is not an index of `xs`. */
export function atU32(xs: Uint32Array, i: number): number {
  const v = xs[i];
  if (v !== undefined) return v;
  throw new RangeError(`index ${i} is out of range for a length of ${xs.length}`);
}

/** `xs[i]` of an Int32Array; a RangeError when `i` is not an index of `xs`. */
export function atI32(xs: Int32Array, i: number): number {
  const v = xs[i];
  if (v !== undefined) return v;
  throw new RangeError(`index ${i} is out of range for a length of ${xs.length}`);
}

/** `xs[i]` of an Int8Array; a RangeError when `i` is not an index of `xs`. */
export function atI8(xs: Int8Array, i: number): number {
  const v = xs[i];
  if (v !== undefined) return v;
  throw new RangeError(`index ${i} is out of range for a length of ${xs.length}`);
}
