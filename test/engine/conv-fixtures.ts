/** Committed conv-net fixtures (test/fixtures/conv/), found from tsc output and from a bundled temp file. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function convFixturePath(name: string): string {
  const candidates = [
    path.resolve(__dirname, '../../../test/fixtures/conv', name),
    path.resolve(__dirname, '../fixtures/conv', name),
    path.resolve(process.cwd(), 'test/fixtures/conv', name),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`fixture ${name} not found in ${candidates.join(', ')}`);
  return found;
}
