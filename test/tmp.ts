/**
 * Temp folders for tests: made in the system temp dir and removed when the test process exits, so
 * test runs do not pile folders up in /tmp. GRADFLOW_KEEP_TMP=1 keeps them, to look at what a
 * failing test left.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = [];

/** A fresh folder `<tmp>/<prefix>XXXXXX`, removed at process exit. */
export function tempFolder(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (made.length === 0 && process.env.GRADFLOW_KEEP_TMP === undefined) process.on('exit', removeMade);
  made.push(dir);
  return dir;
}

function removeMade(): void {
  for (const d of made) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      // a folder still in use elsewhere (a Slurm task's log) stays; the OS cleans its temp dir
    }
  }
}
