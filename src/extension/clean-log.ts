/**
 * The Gradflow output channel with every logged string stripped of escape sequences and control
 * characters (issue 10: user text — names, values, a trainer's stderr — reaches this log too).
 * Generic over the channel's type so it is tested in plain Node without the editor API.
 */
import { stripControl } from '../shared/text';

/** The channel methods that take text; their first argument is cleaned, multi-line kept. */
const TEXT_METHODS: ReadonlySet<PropertyKey> = new Set(['trace', 'debug', 'info', 'warn', 'error', 'append', 'appendLine', 'replace']);

export function cleanLog<T extends object>(channel: T): T {
  return new Proxy(channel, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (!TEXT_METHODS.has(prop)) return fn.bind(target);
      return (first: unknown, ...rest: unknown[]) =>
        fn.call(target, typeof first === 'string' ? stripControl(first, { keepNewlines: true }) : first, ...rest);
    },
  });
}
