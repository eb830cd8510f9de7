/**
 * Runtime type guards shared by every protocol module (trainer ↔ host, host ↔ webview) and every
 * reader of JSON from disk. Small combinators keep each message guard a readable list of its fields.
 * DOM-free and Node-free: the webview bundles this file too.
 */

export type Guard<T> = (v: unknown) => v is T;

/** A plain object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const isString: Guard<string> = (v): v is string => typeof v === 'string';
export const isNonEmptyString: Guard<string> = (v): v is string => typeof v === 'string' && v.length > 0;
/** Finite number: NaN/Infinity are never valid where this is used. */
export const isNum: Guard<number> = (v): v is number => typeof v === 'number' && Number.isFinite(v);
export const isCount: Guard<number> = (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
/** A metric as JSON carries it: a finite number, or null for NaN/±Infinity. */
export const isMetric: Guard<number | null> = (v): v is number | null => v === null || isNum(v);

export function isOneOf<T extends string>(values: readonly T[]): Guard<T> {
  return (v): v is T => typeof v === 'string' && (values as readonly string[]).includes(v);
}
export function isArrayOf<T>(item: Guard<T>): Guard<T[]> {
  return (v): v is T[] => Array.isArray(v) && v.every((e) => item(e));
}
export function isOptional<T>(g: Guard<T>): Guard<T | undefined> {
  return (v): v is T | undefined => v === undefined || g(v);
}
export function isNullable<T>(g: Guard<T>): Guard<T | null> {
  return (v): v is T | null => v === null || g(v);
}
/** Every listed field passes its guard. Extra fields are tolerated (forward compatible within a version). */
export function isShape<T>(fields: { [K in keyof T]-?: Guard<T[K]> }): Guard<T> {
  const entries = Object.entries(fields) as [string, Guard<unknown>][];
  return (v): v is T => isRecord(v) && entries.every(([k, g]) => g(v[k]));
}
/** A plain record (no prototype tricks) whose every value passes `value`. */
export function isRecordOf<T>(value: Guard<T>): Guard<Record<string, T>> {
  return (v): v is Record<string, T> => isRecord(v) && Object.keys(v).every((k) => k !== '__proto__' && value(v[k]));
}
export const lit =
  <T extends string>(t: T): Guard<T> =>
  (v): v is T =>
    v === t;

/** `k` is an own key of `o` (not inherited: `toString`, `__proto__` are not message types). */
export function hasKey<T extends object>(o: T, k: string): k is Extract<keyof T, string> {
  return Object.prototype.hasOwnProperty.call(o, k);
}
