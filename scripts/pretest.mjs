#!/usr/bin/env node
// `npm run pretest`: the bundles (scripts/build.mjs), then the type-checks and lint that `npm test`
// needs green, two at a time. Each check is one single-threaded process (tsc, eslint), so on the
// 2-core CI machine running them in pairs takes about half the wall time of running them one after
// another (docs/testing.md, "How the suites share the cores"). The build goes first and alone: the
// tests need dist/, and esbuild already uses every core.
//
// A check's output is printed as one block when it ends (never interleaved), with its command and
// how long it took. The exit code is non-zero when the build or any check failed; every check runs
// to its end even when another has failed, so one run shows every error.
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

// Longest first, so the two workers end together. Lint is two processes: the shipped code's
// type-checked rules (src, webview: about 24 s alone) and the rest (about 7 s); as one process it
// took 45 s beside the type-check of a clean clone, the other worker idle for the last 14 s.
const CHECKS = [
  ['lint src, webview', bin('eslint'), ['--max-warnings', '0', '--cache', '--cache-location', '.cache/eslint/shipped', 'src', 'webview']],
  ['type-check src, tests, bench', bin('tsc'), ['-p', 'tsconfig.test.json']],
  ['lint test, bench, assembly', bin('eslint'), ['--max-warnings', '0', '--cache', '--cache-location', '.cache/eslint/rest', 'test', 'bench', 'assembly']],
  ['type-check webview', bin('tsc'), ['-p', 'webview/tsconfig.json']],
  ['type-check assembly', bin('tsc'), ['-p', 'assembly/tsconfig.json']],
];

/** Runs one command, collecting its output; resolves with its exit status and the output. */
function run(label, cmd, args) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (b) => chunks.push(b));
    child.stderr.on('data', (b) => chunks.push(b));
    child.on('error', (err) => resolve({ label, ok: false, out: `${err.message}\n`, seconds: 0 }));
    child.on('close', (code, signal) => {
      const out = Buffer.concat(chunks).toString('utf8');
      resolve({ label, ok: code === 0, out: signal ? `${out}killed by ${signal}\n` : out, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

function report(r, cmd) {
  console.log(`pretest: ${r.label} (${cmd}) ${r.ok ? 'passed' : 'FAILED'} in ${r.seconds.toFixed(1)} s`);
  if (r.out.trim() !== '') process.stdout.write(r.out.endsWith('\n') ? r.out : `${r.out}\n`);
}

const build = await run('build', process.execPath, [path.join(root, 'scripts', 'build.mjs')]);
report(build, 'node scripts/build.mjs');
if (!build.ok) process.exit(1);

const width = Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length));
let next = 0;
let failed = false;
async function worker() {
  while (next < CHECKS.length) {
    const [label, cmd, args] = CHECKS[next++];
    const r = await run(label, cmd, args);
    report(r, `${path.basename(cmd)} ${args.join(' ')}`);
    if (!r.ok) failed = true;
  }
}
await Promise.all(Array.from({ length: width }, worker));
process.exit(failed ? 1 : 0);
