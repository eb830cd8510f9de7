/**
 * The PyTorch examples (examples/torch/) against the engine's definitions: the SC-SDC example's
 * nets have the engine's per-layer active counts (scsdcActiveCounts) and its data the engine's
 * split (src/data/prepare.ts splitIndices, re-implemented in fmnist_data.py); the WRN example runs
 * end to end under a host (a tiny synthetic configuration) and reports what docs/torch.md says.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { splitIndices } from '../../src/data/prepare';
import { scsdcActiveCounts } from '../../src/engine/masks';
import { flowSchedule } from '../../src/engine/flow';
import { PY_DIR, REPO, ofType, runScript, torchMissing } from './helpers';
import { at } from '../../src/shared/checked';

const skip = torchMissing();

describe('PyTorch examples', { skip }, () => {
  it('fmnist_data.split_indices is the engine splitIndices', async () => {
    const cases = [
      { nTrain: 1000, nTest: 300, seed: 0, f: 0.1 },
      { nTrain: 60000, nTest: 10000, seed: 7, f: 0.1, trainLimit: 15000, testLimit: 5000 },
      { nTrain: 777, nTest: 50, seed: 123456, f: 0.25, trainLimit: 100 },
    ];
    const r = await runScript(path.join(PY_DIR, 'split.py'), [JSON.stringify(cases)], { gradflow: false });
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { train: number[]; validation: number[]; test: number }[];
    cases.forEach((c, i) => {
      const { trainLimit, testLimit } = c;
      const dataset = { name: 'fashion-mnist', validationFraction: c.f, ...(trainLimit !== undefined ? { trainLimit } : {}), ...(testLimit !== undefined ? { testLimit } : {}) } as const;
      const want = splitIndices('fashion-mnist', c.nTrain, c.nTest, dataset, c.seed);
      assert.deepEqual(at(got, i).train, Array.from(want.train), `case ${i} train`);
      assert.deepEqual(at(got, i).validation, Array.from(want.validation), `case ${i} validation`);
      assert.equal(at(got, i).test, want.test.length, `case ${i} test`);
    });
  });

  it("scsdc_mlp.py builds the SC-SDC pair with the engine's active counts", async () => {
    const c = { inputs: 784, classes: 10, model: { hidden_layers: 2, width: 1000, activation: 'relu', batch_norm: false, skip: false }, sparsity: { method: 'random', dense_width: 100 } };
    const r = await runScript(path.join(PY_DIR, 'scsdc_build.py'), [JSON.stringify(c)], { gradflow: false });
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Record<'sparse' | 'dense', number[][]>;
    const k = scsdcActiveCounts(784, 100, 2, 10);
    assert.deepEqual(got.sparse.map((l) => [l[0], l[1], l[3]]), [[784, 1000, 784000], [1000, 1000, 1e6], [1000, 10, 10000]]);
    assert.deepEqual(got.sparse.map((l) => l[2]), k, 'sparse active = the dense twin counts');
    assert.deepEqual(got.sparse.map((l) => l[4]), k, 'pruned weights are 0 in the forward kernel');
    assert.deepEqual(got.dense.map((l) => l[2]), k, 'dense twin');
  });

  it('wrn_magnitude.py trains a tiny pruned WRN on synthetic images under Gradflow', async () => {
    const config = {
      name: 'wrn-test',
      dataset: { name: 'cifar10', validation_fraction: 0.25, train_limit: 32, test_limit: 16, path: path.join(REPO, 'nonexistent-cifar') },
      sparsity: { method: 'magnitude', density: 0.2, pair: false },
      training: { optimizer: 'momentum', learning_rate: 0.01, lr_schedule: { milestones: [1], gamma: 0.5 }, momentum: 0.9, nesterov: true, weight_decay: 0.0005, augmentation: true, epochs: 2, batch_size: 16, seed: 0 },
      monitoring: { every: 1, on_nan: 'stop' },
      trainer: { args: { blocks: [1, 1, 1, 1], width_per_group: 4, cifar_stem: true, synthetic_size: 64, download: false } },
    };
    const r = await runScript(path.join(REPO, 'examples', 'torch', 'wrn_magnitude.py'), [], { config, timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr);
    const ready = ofType(r, 'ready')[0] as unknown as { nets: { net: string; layers: { active: number; total: number }[] }[]; stepsPerEpoch: number; totalSteps: number };
    const layers = at(ready.nets, 0).layers;
    // conv1 + 4 Bottleneck blocks × 3 convs + 4 downsample convs + fc
    assert.equal(layers.length, 18);
    const total = layers.reduce((s, l) => s + l.total, 0);
    const active = layers.reduce((s, l) => s + l.active, 0);
    assert.equal(total - active, Math.round(0.8 * total), 'global magnitude pruning keeps density 0.2 of all kernel weights');
    assert.equal(ready.stepsPerEpoch, 2);
    assert.equal(ready.totalSteps, 4);
    assert.ok(ofType(r, 'log').some((m) => /^data: synthetic 32×32 images/.test(String(m.message))));
    // The schedule (and Nesterov momentum) of the experiment file, applied by the script as the engine does.
    assert.ok(ofType(r, 'log').some((m) => m.message === 'learning rate 0.005 from epoch 2 (training.lr_schedule)'), JSON.stringify(ofType(r, 'log')));
    const steps = ofType(r, 'step').map((m) => m.metrics as { layers: unknown[]; loss: number | null });
    assert.equal(steps.length, 4);
    assert.ok(steps.every((s) => s.layers.length === 18 && typeof s.loss === 'number'));
    assert.deepEqual(ofType(r, 'flow').map((m) => (m.point as { index: number }).index), flowSchedule(2, 2).map((p) => p.index));
    assert.equal(ofType(r, 'epoch').length, 2);
    assert.deepEqual(ofType(r, 'done'), [{ type: 'done', stopped: false }]);
  });
});
