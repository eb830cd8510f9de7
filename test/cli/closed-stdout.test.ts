/**
 * A reader that goes away (`gradflow run FILE --json | head -2`, `gradflow runs | head -1`) must not
 * end the CLI with an EPIPE stack trace: `run` stops its trainer after the current step and keeps the
 * run log; the other commands end quietly. Drives the built CLI (dist/cli.js) with real pipes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempFolder } from '../tmp';

const repoRoot = ((): string => {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'src'))) return d;
  }
  return process.cwd();
})();
const cli = path.join(repoRoot, 'dist', 'cli.js');

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the CLI, reads `lines` lines of its stdout, then closes the pipe as `head` would. */
function runAndCloseAfter(args: string[], cwd: string, lines: number): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let seen = 0;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      seen += d.split('\n').length - 1;
      if (seen >= lines) child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

test('run --json whose reader goes away stops the run and keeps its log, without a stack trace', { timeout: 180_000 }, async () => {
  const dir = tempFolder('gradflow-epipe-');
  try {
    fs.mkdirSync(path.join(dir, '.gradflow'));
    const file = path.join(dir, 'pipe.gradflow.yaml');
    // Enough steps that the run is still training when the pipe closes.
    fs.writeFileSync(
      file,
      [
        'name: pipe-test',
        'dataset:',
        '  name: synthetic',
        '  synthetic: { features: 16, classes: 2, train_size: 4096, test_size: 64 }',
        'model: { hidden_layers: 1, width: 16 }',
        'training: { epochs: 50, batch_size: 16 }',
        'run: { backend: cpu }',
        '',
      ].join('\n'),
    );
    const r = await runAndCloseAfter(['run', file, '--json'], dir, 2);
    assert.doesNotMatch(r.stderr, /EPIPE.*\n\s+at |Error: write EPIPE|\n\s+at /, r.stderr);
    assert.match(r.stderr, /stdout closed \(EPIPE\): stopping after the current step/, r.stderr);
    // Stopped, as on Ctrl-C: exit 130, not a crash (1) or a kill by signal.
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.code, 130, r.stderr);
    const runs = fs.readdirSync(path.join(dir, '.gradflow', 'runs'));
    assert.equal(runs.length, 1);
    const summary = JSON.parse(fs.readFileSync(path.join(dir, '.gradflow', 'runs', runs[0]!, 'summary.json'), 'utf8')) as { stopped: boolean; finished: boolean };
    assert.equal(summary.stopped, true);
    assert.equal(summary.finished, false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('help piped into a reader that closes at once ends quietly with status 141', { timeout: 30_000 }, async () => {
  const r = await runAndCloseAfter(['help'], repoRoot, 1);
  assert.doesNotMatch(r.stderr, /\n\s+at |EPIPE/, r.stderr);
  assert.ok(r.code === 0 || r.code === 141, `exit ${String(r.code)}: ${r.stderr}`);
});
