/**
 * Reading an experiment file from disk: sized before it is read (shared/bounded-read.ts), with the
 * bound that follows from the parser's character limit (limits.ts).
 */
import { grouped, MAX_FILE_CHARS } from './limits';
import { readBoundedText } from '../shared/bounded-read';

/**
 * Largest experiment file read from disk, in bytes: `MAX_FILE_CHARS` characters take at most 3
 * UTF-8 bytes each (a 4-byte character is 2 UTF-16 units; an invalid byte decodes to 1 unit), so a
 * bigger file has too many characters for sure and is refused from its size alone. A file within
 * this bound is then held to `MAX_FILE_CHARS` by the parser's own check.
 */
export const MAX_EXPERIMENT_FILE_BYTES = 3 * MAX_FILE_CHARS;

/** Reads an experiment file (CLI, sweep, extension): bounded by `MAX_EXPERIMENT_FILE_BYTES`. */
export function readExperimentText(file: string): string {
  return readBoundedText(file, {
    maxBytes: MAX_EXPERIMENT_FILE_BYTES,
    what: 'experiment file',
    why: `an experiment file may have at most ${grouped(MAX_FILE_CHARS)} characters (real ones are a few kB)`,
  });
}
