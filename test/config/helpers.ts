/**
 * Test helpers for the config suites. Tests run both from `out/test/config` (npm test) and from a
 * temporary esbuild bundle (scripts/run-ts.sh), so the repository is found from either place.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConfigIssue } from '../../src/config/types';

export function repoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let dir = path.resolve(start);
    for (;;) {
      if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src', 'config', 'gradflow.schema.json'))) return dir;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error('repository root not found');
}

/** The issue for `key`, failing with the full list when absent (readable test failures). */
export function issueFor(issues: readonly ConfigIssue[], key: string): ConfigIssue {
  const found = issues.find((i) => i.key === key);
  if (!found) throw new Error(`no issue for '${key}'; issues:\n${issues.map((i) => `${i.line}:${i.column} ${i.key}: ${i.message}`).join('\n')}`);
  return found;
}

/** [line, column, endLine, endColumn] of an issue, for compact position assertions. */
export function span(issue: { line: number; column: number; endLine: number; endColumn: number }): [number, number, number, number] {
  return [issue.line, issue.column, issue.endLine, issue.endColumn];
}

export const FILE = '/tmp/gradflow-tests/exp.gradflow.yaml';
