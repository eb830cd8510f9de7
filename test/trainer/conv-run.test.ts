/**
 * `gradflow run` on a small CNN experiment file (synthetic 8×8×3 images), end to end through the
 * CLI and the trainer process (dist/), on the cpu and the wasm backends: both nets of the SC-SDC
 * pair train, the run folder records conv layer names, per-layer counts and memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cliPath, tmpDir } from './helpers';
import type { TrainerToHost } from '../../src/shared/protocol';
import { at } from '../../src/shared/checked';

function cnnYaml(backend: string, runsDir: string): string {
  return `name: conv-run
dataset:
  name: synthetic
  synthetic: { features: 192, shape: [8, 8, 3], classes: 3, train_size: 96, test_size: 32 }
model: { architecture: cnn, channels: [4, 8], activation: relu, batch_norm: true, skip: true }
sparsity: { method: random, density: 0.5 }
training: { optimizer: adam, learning_rate: 0.01, epochs: 2, batch_size: 32, seed: 3 }
monitoring: { every: 1 }
run: { backend: ${backend}, runs_dir: ${JSON.stringify(runsDir)} }
`;
}

for (const backend of ['cpu', 'wasm']) {
  test(`gradflow run trains a CNN SC-SDC pair on ${backend}`, () => {
    const dir = tmpDir('conv');
    const file = path.join(dir, 'cnn.gradflow.yaml');
    fs.writeFileSync(file, cnnYaml(backend, path.join(dir, 'runs')));
    const r = spawnSync(process.execPath, [cliPath, 'run', file, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as TrainerToHost);
    const ready = events.find((e) => e.type === 'ready');
    assert.ok(ready && ready.type === 'ready');
    assert.equal(ready.backend, backend);
    const names = ['block1.conv', 'block1.shortcut', 'block2.conv', 'block2.shortcut', 'fc'];
    assert.deepEqual(ready.nets.map((n) => n.net), ['sparse', 'dense']);
    for (const n of ready.nets) assert.deepEqual(n.layers.map((l) => l.name), names);
    // ρ = 0.5: the twin has channels [2, 4]; each sparse layer keeps the twin's weight count.
    assert.deepEqual(at(ready.nets, 0).layers.map((l) => l.active), [54, 6, 72, 8, 12]);
    assert.deepEqual(at(ready.nets, 1).layers.map((l) => l.total), [54, 6, 72, 8, 12]);
    // NetInfo.width of a conv net: its widest layer's output channels (8 designed, 4 in the twin).
    assert.deepEqual(ready.nets.map((n) => [n.width, n.widthOf]), [[8, 'channels'], [4, 'channels']]);
    const done = at(events, events.length - 1);
    assert.ok(done.type === 'done');
    assert.equal(done.summary.finished, true);
    for (const n of done.summary.nets) {
      // 96 less 10 % validation = 87 rows → 3 steps per epoch, 2 epochs.
      assert.equal(n.steps, 6);
      assert.equal(n.flowPoints.length, 7);
      assert.ok(n.memoryBytes && n.memoryBytes.parameters > 0);
      assert.ok(Number.isFinite(n.final.test.accuracy));
    }
  });
}
