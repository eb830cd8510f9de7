import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { findWasmDir, initBackend, wasmDirCandidates } from '../../src/engine/backend';

const product = (): number[] => Array.from(tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]))).dataSync());

describe('backend selection', () => {
  it('cpu works', async () => {
    assert.equal(await initBackend('cpu'), 'cpu');
    assert.deepEqual(product(), [17, 39]);
  });

  it('forcing tensorflow fails clearly when tfjs-node is absent', async (t) => {
    let hasNode = true;
    try {
      require.resolve('@tensorflow/tfjs-node');
    } catch {
      hasNode = false;
    }
    if (hasNode) {
      t.skip('tfjs-node is installed here');
      return;
    }
    await assert.rejects(initBackend('tensorflow'), /tensorflow.*tfjs-node/);
  });

  it('finds the wasm binaries, honours an explicit folder first', () => {
    const dir = findWasmDir();
    assert.ok(dir, 'no wasm dir found');
    assert.ok(fs.existsSync(path.join(dir, 'tfjs-backend-wasm.wasm')));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-wasm-'));
    fs.writeFileSync(path.join(tmp, 'tfjs-backend-wasm.wasm'), '');
    assert.equal(wasmDirCandidates({ wasmDir: tmp })[0], tmp);
    assert.equal(findWasmDir({ wasmDir: tmp }), tmp);
    // A folder without the binaries is skipped.
    assert.notEqual(findWasmDir({ wasmDir: os.tmpdir() }), os.tmpdir());
    fs.rmSync(tmp, { recursive: true });
  });

  it('wasm works in Node and auto picks the fastest available backend', async () => {
    assert.equal(await initBackend('wasm'), 'wasm');
    assert.deepEqual(product(), [17, 39]);
    const notes: string[] = [];
    const auto = await initBackend('auto', { onFallback: (m) => notes.push(m) });
    assert.ok(auto === 'tensorflow' || auto === 'wasm', auto);
    assert.equal(tf.getBackend(), auto);
    // Where tfjs-node is missing (this machine, CI), the fallback is reported with the reason.
    let hasTfjsNode = true;
    try {
      require.resolve('@tensorflow/tfjs-node');
    } catch {
      hasTfjsNode = false;
    }
    if (!hasTfjsNode) assert.deepEqual(notes, ['backend wasm (tensorflow: @tensorflow/tfjs-node is not installed)']);
    else if (auto === 'tensorflow') assert.deepEqual(notes, []);
  });
});
