/**
 * Errors raised by the statistics library.
 *
 * Every public function validates its input and throws a `StatsError` with a machine-readable
 * `code` (so a sweep report can, e.g., skip a degenerate measure) and a human-readable message
 * that names the function and the offending argument.
 */

export type StatsErrorCode =
  | 'invalid-argument' // wrong option value, wrong type
  | 'non-finite' // NaN or ±Infinity in the data
  | 'length-mismatch' // paired samples of different lengths
  | 'too-few' // not enough observations for the statistic
  | 'degenerate'; // statistic undefined for these data (constant input, all differences zero, ...)

export class StatsError extends Error {
  readonly code: StatsErrorCode;
  constructor(code: StatsErrorCode, message: string) {
    super(message);
    this.name = 'StatsError';
    this.code = code;
  }
}

/** Alternative hypothesis, with SciPy's spelling and meaning. */
export type Alternative = 'two-sided' | 'greater' | 'less';

const ALTERNATIVES: readonly Alternative[] = ['two-sided', 'greater', 'less'];

export function checkAlternative(fn: string, alternative: unknown): Alternative {
  if (typeof alternative !== 'string' || !(ALTERNATIVES as readonly string[]).includes(alternative)) {
    throw new StatsError(
      'invalid-argument',
      `${fn}: alternative must be 'two-sided', 'greater' or 'less', got ${String(alternative)}`,
    );
  }
  return alternative as Alternative;
}

/** Checks that `xs` is an array of finite numbers with at least `minLength` entries. */
export function checkSample(fn: string, name: string, xs: unknown, minLength: number): readonly number[] {
  if (!Array.isArray(xs) && !ArrayBuffer.isView(xs)) {
    throw new StatsError('invalid-argument', `${fn}: ${name} must be an array of numbers`);
  }
  const arr = xs as ArrayLike<unknown>;
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (typeof v !== 'number') {
      throw new StatsError('invalid-argument', `${fn}: ${name}[${i}] is not a number (${typeof v})`);
    }
    if (!Number.isFinite(v)) {
      throw new StatsError('non-finite', `${fn}: ${name}[${i}] is ${String(v)}; remove or impute non-finite values first`);
    }
  }
  if (arr.length < minLength) {
    throw new StatsError(
      'too-few',
      `${fn}: ${name} has ${arr.length} observation(s); at least ${minLength} needed`,
    );
  }
  return Array.from(arr as ArrayLike<number>);
}

export function checkPaired(fn: string, x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) {
    throw new StatsError('length-mismatch', `${fn}: x has ${x.length} values but y has ${y.length}; paired samples must have equal length`);
  }
}
