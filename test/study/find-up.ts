/**
 * A repository path for the study tests, found by walking up from this file (out/test/… when
 * compiled, a temp folder when bundled) or from the working directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The folder `folder` (relative to the repository root) that holds `marker`; throws naming both. */
export function findRepoFolder(folder: string, marker: string): string {
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const f = path.join(dir, folder);
      if (fs.existsSync(path.join(f, marker))) return f;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(`cannot find ${path.join(folder, marker)} above ${__dirname} or ${process.cwd()}`);
}
