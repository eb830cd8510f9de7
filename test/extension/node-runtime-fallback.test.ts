/**
 * The fallback to the editor's own runtime when no `node` is on PATH, for real: the choice made
 * with the real file checks and an empty PATH, then the trainer bundle started with that runtime
 * answers `hello` (the extension host's process.execPath is Node here, as in code-server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveNodeRuntime } from '../../src/extension/node-runtime';
import { tempFolder } from '../tmp';

const repo = [path.resolve(__dirname, '..', '..'), process.cwd()].find((d) => fs.existsSync(path.join(d, 'dist', 'trainer.js')));

test('no node on PATH: the editor runtime runs the trainer bundle', { skip: repo === undefined ? 'dist/trainer.js not built' : false, timeout: 60_000 }, async () => {
  const empty = tempFolder('gf-nonode-');
  try {
    const isExecutable = (f: string): boolean => {
      try {
        fs.accessSync(f, fs.constants.X_OK);
        return fs.statSync(f).isFile();
      } catch {
        return false;
      }
    };
    const rt = resolveNodeRuntime({ setting: '', envPath: empty, platform: process.platform, execPath: process.execPath, electron: false, isExecutable });
    assert.equal(rt.source, 'editor');
    assert.equal(rt.nodePath, process.execPath);
    const child = spawn(rt.nodePath, [path.join(repo ?? '', 'dist', 'trainer.js'), '--stdio'], { env: { ...process.env, ...rt.env, PATH: empty }, stdio: ['pipe', 'pipe', 'pipe'] });
    const first = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString('utf8');
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(out.slice(0, nl));
      });
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`trainer exited with ${String(code)} before saying hello`)));
    });
    // SIGKILL and wait: the trainer treats SIGTERM as "stop after this step" and would keep this
    // test file's process (and its pipes) alive.
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end();
    child.kill('SIGKILL');
    await exited;
    const hello = JSON.parse(first) as { type?: unknown };
    assert.equal(hello.type, 'hello');
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
