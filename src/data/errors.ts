import type { DatasetName } from '../shared/experiment';

/**
 * A dataset could not be produced. `looked` lists every place that was tried, each with what was
 * wrong there, so a user can fix the one they meant (the message repeats the list).
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly dataset: DatasetName;
  readonly looked: string[];

  constructor(dataset: DatasetName, summary: string, looked: string[] = []) {
    const lines = looked.length > 0 ? `\nLooked in:\n${looked.map((l) => `  - ${l}`).join('\n')}` : '';
    super(`Dataset "${dataset}": ${summary}${lines}`);
    this.dataset = dataset;
    this.looked = looked;
  }
}

/**
 * Internal: one source (a folder, an archive, a package) holds malformed or missing files. Caught by
 * the lookup in `index.ts`, which turns it into a `looked` entry and tries the next source.
 */
export class DataFormatError extends Error {
  override readonly name = 'DataFormatError';
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
