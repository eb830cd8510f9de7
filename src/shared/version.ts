/**
 * The Gradflow version, read from the package.json of the installation (next to `dist/` in the
 * repository and in an installed extension). Every run records it, so a sweep resumed after an
 * upgrade can say which finished runs were made by another version. Read at run time rather than
 * imported: importing the JSON would copy a package.json into the compiled test tree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function versionAbove(start: string): string | undefined {
  for (let d = start; d !== path.dirname(d); d = path.dirname(d)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'gradflow' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here: keep walking up
    }
  }
  return undefined;
}

// The working directory is the fallback for one-off bundles run from a temporary folder.
function readVersion(): string {
  return versionAbove(__dirname) ?? versionAbove(process.cwd()) ?? 'unknown';
}

export const GRADFLOW_VERSION: string = readVersion();
