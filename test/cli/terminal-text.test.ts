/**
 * Issue 10, item 6: names and values with terminal escape sequences are printed without them by the
 * CLI (run banner, trainer lines, summary, errors). Drives the built CLI (dist/cli.js) with a tiny
 * synthetic run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

test('the run banner and summary print an experiment name without its escape sequences', { timeout: 120_000 }, () => {
  const dir = tempFolder('gradflow-esc-');
  try {
    const file = path.join(dir, 'esc.gradflow.yaml');
    // Retitle the terminal, clear the screen, move the cursor home.
    fs.writeFileSync(
      file,
      [
        'name: "\\e]0;pwned\\a\\e[2J\\e[Hesc-test"',
        'dataset:',
        '  name: synthetic',
        '  synthetic: { features: 4, classes: 2, train_size: 64, test_size: 16 }',
        'model: { hidden_layers: 1, width: 8 }',
        'training: { epochs: 1, batch_size: 32 }',
        'run: { backend: cpu }',
        '',
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, [cli, 'run', file], { encoding: 'utf8', cwd: dir, timeout: 110_000 });
    assert.equal(r.status, 0, r.stderr);
    const all = r.stdout + r.stderr;
    // The OSC sequence is removed whole (title text included), the CSI ones too.
    assert.match(all, /^gradflow: esc-test on synthetic/m);
    assert.ok(!CONTROL.test(all), JSON.stringify(all.slice(0, 400)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI errors show escape sequences of keys and values as text, with no stack trace', { timeout: 60_000 }, () => {
  const dir = tempFolder('gradflow-esc-');
  try {
    const file = path.join(dir, 'bad.gradflow.yaml');
    fs.writeFileSync(file, 'training:\n  "\\e[2Jepochs": 3\n  optimizer: "\\e]0;x\\aadam"\n');
    const r = spawnSync(process.execPath, [cli, 'run', file], { encoding: 'utf8', cwd: dir, timeout: 50_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.ok(!CONTROL.test(r.stderr.replace(/\n/g, '')), JSON.stringify(r.stderr));
    assert.match(r.stderr, /unknown optimizer '\\x1b\]0;x\\x07adam'/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('issue 18: a newline in a name or a file name does not forge a line on stderr or stdout', { timeout: 180_000 }, () => {
  const dir = tempFolder('gradflow-nl-');
  try {
    const body = [
      'dataset:',
      '  name: synthetic',
      '  synthetic: { features: 4, classes: 2, train_size: 64, test_size: 16 }',
      'model: { hidden_layers: 1, width: 8 }',
      'training: { epochs: 1, batch_size: 32 }',
      'run: { backend: cpu }',
      '',
    ].join('\n');
    // Named in the file.
    const named = path.join(dir, 'named.gradflow.yaml');
    fs.writeFileSync(named, `name: "ok\\nforged: line \\r\\e[2Jx"\n${body}`);
    const r = spawnSync(process.execPath, [cli, 'run', named], { encoding: 'utf8', cwd: dir, timeout: 80_000 });
    assert.equal(r.status, 0, r.stderr);
    const lines = (r.stdout + r.stderr).split('\n');
    assert.ok(lines.some((l) => l.startsWith('gradflow: ok\\nforged: line \\rx on synthetic: ')), r.stderr);
    assert.ok(!lines.some((l) => l.startsWith('forged')), 'no forged line');
    // Named after its file (no name key), the file name holding a newline; an error message names it too.
    const file = path.join(dir, 'nl\nforged: file.gradflow.yaml');
    fs.writeFileSync(file, `${body}sweep: { seeds: [1] }\n`);
    const e = spawnSync(process.execPath, [cli, 'run', file], { encoding: 'utf8', cwd: dir, timeout: 80_000 });
    assert.equal(e.status, 2, e.stderr);
    assert.equal(e.stderr, `gradflow: ${dir}/nl\\nforged: file.gradflow.yaml declares a sweep: run it with \`gradflow sweep ${dir}/nl\\nforged: file.gradflow.yaml\` (or remove the sweep section to train one configuration)\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
