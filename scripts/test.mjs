#!/usr/bin/env node
// `npm test`: the compiled tests (out/test/) in two node --test runs, so the end-to-end suites do
// not share the 2 cores with each other or with the unit tests (docs/testing.md, "How the suites
// share the cores"):
//
//   1. unit and integration tests: every test file outside out/test/e2e/, concurrency 2;
//   2. end-to-end suites: out/test/e2e/ and any *-e2e.test.js file (each starts code-server and
//      chromium), concurrency 1, after the first run has ended.
//
// Both runs print node's own closing summary (# tests, # pass, # fail, …); a last line adds them
// up. The exit code is non-zero when either run failed. Arguments are passed to both runs (e.g.
// --test-reporter=tap).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const outTest = path.join(root, 'out', 'test');
// The names node --test looks for in a folder (Node 20): *.test.js, *-test.js, *_test.js, test-*.js, test.js.
const TEST_FILE = /(^test\.[cm]?js$)|(^test-.+\.[cm]?js$)|([.\-_]test\.[cm]?js$)/;

function testFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') out.push(...testFiles(p));
    } else if (TEST_FILE.test(e.name)) out.push(p);
  }
  return out.sort();
}

if (!fs.existsSync(outTest)) {
  console.error('npm test: out/test/ is missing: run `npm run pretest` (npm test does it first)');
  process.exit(2);
}
// A compiled test whose source is gone (deleted or renamed since the last build: tsc never removes
// outputs) is left out, and said so, instead of running a test that no longer exists.
const all = testFiles(outTest).filter((f) => {
  const source = path.join(root, path.relative(path.join(root, 'out'), f)).replace(/\.js$/, '.ts');
  if (fs.existsSync(source)) return true;
  console.log(`npm test: skipping ${path.relative(root, f)}: its source ${path.relative(root, source)} no longer exists`);
  return false;
});
const isE2E = (f) => f.startsWith(path.join(outTest, 'e2e') + path.sep) || /-e2e\.test\.[cm]?js$/.test(path.basename(f));
const unit = all.filter((f) => !isE2E(f)).map((f) => path.relative(root, f));
const e2e = all.filter(isE2E).map((f) => path.relative(root, f));
const extra = process.argv.slice(2);

const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
let failed = false;

/** One node --test run; its output streams through (and is kept to read the summary). */
function run(label, files, concurrency) {
  if (files.length === 0) return Promise.resolve();
  console.log(`\n# npm test: ${label}: ${files.length} files, --test-concurrency=${concurrency}`);
  const t0 = Date.now();
  // The child's stdout is a pipe: ask for the reporter node would pick on our terminal.
  const reporter = extra.some((a) => a.startsWith('--test-reporter')) ? [] : [`--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`];
  const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...reporter, ...extra, ...files], {
    cwd: root,
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  let tail = '';
  child.stdout.on('data', (b) => {
    process.stdout.write(b);
    tail = (tail + b.toString('utf8')).slice(-20_000);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      // node's closing summary: "# pass 12" (tap) or "ℹ pass 12" (spec): the last of each.
      for (const key of Object.keys(totals)) {
        const m = [...tail.matchAll(new RegExp(`^(?:#|ℹ) ${key} (\\d+)$`, 'gm'))].pop();
        if (m) totals[key] += Number(m[1]);
      }
      console.log(`# npm test: ${label} took ${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${code ?? signal}`);
      if (code !== 0) failed = true;
      resolve();
    });
  });
}

await run('unit and integration tests', unit, 2);
await run('end-to-end suites', e2e, 1);
console.log(`\n# npm test, both runs: ${Object.entries(totals).map(([k, v]) => `${k} ${v}`).join(', ')}`);
process.exit(failed ? 1 : 0);
