/**
 * The Python client (clients/python/gradflow) in the situations of a user's loop, driven by
 * test/torch/py/scenarios.py under a minimal host (helpers.ts): mask discovery (prune, explicit,
 * dense, bad masks), monitoring.every, stop, exceptions, NaN, an SC-SDC pair, mask updates, flow
 * points without flow data, and the script run without Gradflow.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { flowSchedule } from '../../src/engine/flow';
import { PY_DIR, assertRel, ofType, runScript, torchMissing, type Message, type ScriptOptions, type WireNorms } from './helpers';
import { at } from '../../src/shared/checked';

const skip = torchMissing();
const SCRIPT = path.join(PY_DIR, 'scenarios.py');
const scenario = (name: string, opts: ScriptOptions = {}) => runScript(SCRIPT, [name], opts);

interface ReadyLayer {
  name: string;
  fanIn: number;
  fanOut: number;
  active: number;
  total: number;
  deadUnits: number;
}
interface ReadyNet {
  net: string;
  width?: number;
  layers: ReadyLayer[];
}
const readyNets = (msgs: Message[]): ReadyNet[] => (msgs.find((m) => m.type === 'ready') as unknown as { nets: ReadyNet[] }).nets;
const stepMetrics = (msgs: Message[]) => msgs.filter((m) => m.type === 'step').map((m) => m.metrics as { net: string; step: number; epoch: number; loss: number | null; accuracy?: number | null; layers: WireNorms[]; egf1?: number | null });
const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').pop() ?? '') as T;

function checkNorms(got: WireNorms[], want: { raw: number[]; masked: number[] }[], what: string): void {
  assert.equal(got.length, want.length);
  got.forEach((g, l) => {
    assertRel(g.raw.l1, at(at(want, l).raw, 0), 1e-5, `${what} layer ${l} raw L1`);
    assertRel(g.raw.l2, at(at(want, l).raw, 1), 1e-5, `${what} layer ${l} raw L2`);
    assertRel(g.masked.l1, at(at(want, l).masked, 0), 1e-5, `${what} layer ${l} masked L1`);
    assertRel(g.masked.l2, at(at(want, l).masked, 1), 1e-5, `${what} layer ${l} masked L2`);
  });
}

describe('Python client: masks', { skip }, () => {
  it('finds torch.nn.utils.prune masks (global_unstructured on convs, custom_from_mask), not BN', async () => {
    const r = await scenario('masks_prune');
    assert.equal(r.code, 0, r.stderr);
    const out = lastJson<{ active: number[]; norms: { raw: number[]; masked: number[] }[] }>(r.stdout);
    const [net] = readyNets(r.messages);
    assert.ok(net !== undefined);
    assert.deepEqual(net.layers.map((l) => [l.name, l.fanIn, l.fanOut, l.total]), [['0', 27, 4, 108], ['2', 4, 2, 8], ['4', 32, 3, 96]]);
    assert.deepEqual(net.layers.map((l) => l.active), out.active);
    // global_unstructured at 0.5 keeps half of the 116 conv weights, over both layers together.
    assert.equal(at(out.active, 0) + at(out.active, 1), 58);
    assert.equal(out.active[2], 96 - 32 - 5);
    assert.deepEqual(net.layers.map((l) => l.deadUnits).slice(2), [1]);
    checkNorms(at(stepMetrics(r.messages), 0).layers, out.norms, 'prune');
  });

  it('takes explicit masks by parameter or module name; an unnamed layer is dense', async () => {
    const r = await scenario('masks_explicit');
    assert.equal(r.code, 0, r.stderr);
    const [net] = readyNets(r.messages);
    assert.ok(net !== undefined);
    assert.deepEqual(net.layers.map((l) => [l.active, l.total, l.deadUnits]), [[10, 30, 0], [5, 25, 0], [15, 15, 0]]);
    checkNorms(at(stepMetrics(r.messages), 0).layers, lastJson<{ norms: { raw: number[]; masked: number[] }[] }>(r.stdout).norms, 'explicit');
  });

  it('a net without masks is dense: masked norms equal raw ones', async () => {
    const r = await scenario('masks_dense');
    assert.equal(r.code, 0, r.stderr);
    const [net] = readyNets(r.messages);
    assert.ok(net !== undefined);
    assert.equal(net.net, 'dense');
    assert.ok(net.layers.every((l) => l.active === l.total));
    for (const s of stepMetrics(r.messages)) for (const l of s.layers) assert.deepEqual(l.masked, l.raw);
  });

  for (const [name, expect] of [
    ['masks_bad', /masks\['fc9\.weight'\] names no Linear\/Conv kernel of the model \(its weight layers: '0\.weight', '2\.weight', '4\.weight'\)/],
    ['masks_bad_shape', /masks\['0\.weight'\] has shape \(6, 5\), the kernel has \(5, 6\)/],
    ['masks_bad_values', /masks\['0\.weight'\] has 30 entries that are neither 0 nor 1/],
  ] as const) {
    it(`refuses a bad mask with a clear error: ${name}`, async () => {
      const r = await scenario(name);
      assert.notEqual(r.code, 0);
      const [err] = ofType(r, 'error');
      assert.ok(err !== undefined);
      assert.match(String(err.message), expect);
      assert.match(String(err.traceback), /Traceback \(most recent call last\)/);
      assert.equal(ofType(r, 'ready').length, 0);
    });
  }
});

describe('Python client: the loop', { skip }, () => {
  it('honours monitoring.every: norms on every 3rd step, loss on every step', async () => {
    const r = await scenario('every', { config: { monitoring: { every: 3 } } });
    assert.equal(r.code, 0, r.stderr);
    const steps = stepMetrics(r.messages);
    assert.deepEqual(steps.map((s) => s.step), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(steps.map((s) => s.layers.length), [0, 0, 3, 0, 0, 3, 0]);
    assert.deepEqual(steps.map((s) => s.egf1 !== undefined), [false, false, true, false, false, true, false]);
    assert.ok(steps.every((s) => typeof s.loss === 'number' && typeof s.accuracy === 'number'));
  });

  it('stops on `stop`: done says stopped, with the reason', async () => {
    const r = await scenario('stop', {
      onMessage: (m, send) => {
        if (m.type === 'step' && (m.metrics as { step: number }).step === 3) send({ type: 'stop', reason: 'stopped by request' });
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const done = ofType(r, 'done');
    assert.deepEqual(done, [{ type: 'done', stopped: true, reason: 'stopped by request' }]);
    assert.equal(r.messages.at(-1)?.type, 'done');
    assert.ok(stepMetrics(r.messages).length >= 3);
  });

  it('an exception sends error with the traceback; the script still fails', async () => {
    const r = await scenario('raises');
    assert.notEqual(r.code, 0);
    const errs = ofType(r, 'error');
    assert.equal(errs.length, 1);
    assert.equal(at(errs, 0).message, 'ValueError: the data loader ran dry');
    assert.match(String(at(errs, 0).traceback), /in inner_failure\n\s+raise ValueError/);
    assert.equal(r.messages.at(-1)?.type, 'error');
    assert.match(r.stderr, /ValueError: the data loader ran dry/);
  });

  it('an exception inside `with gradflow.init()` sends one error', async () => {
    const r = await scenario('raises_in_with');
    assert.notEqual(r.code, 0);
    assert.deepEqual(r.messages.map((m) => m.type), ['hello', 'error']);
    assert.equal(at(ofType(r, 'error'), 0).message, 'RuntimeError: inside the with block');
  });

  it('ConfigError names the experiment key', async () => {
    const r = await scenario('config_error');
    const [err] = ofType(r, 'error');
    assert.ok(err !== undefined);
    assert.equal(err.key, 'training.nonexistent_key');
  });

  it('run.config is the experiment over the defaults; get() reads dotted keys', async () => {
    const r = await scenario('config', { config: { training: { learning_rate: 0.1 }, trainer: { args: { width: 9 } } } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), { lr: 0.1, momentum: 0.5, width: 9, missing: 'dflt', run_dir: '/nonexistent/test-run', active: true });
  });

  it('NaN: the step carries null (non-finite) and the net knows it diverged', async () => {
    const r = await scenario('nan');
    assert.equal(r.code, 0, r.stderr);
    const steps = stepMetrics(r.messages);
    assert.equal(typeof at(steps, 0).loss, 'number');
    assert.equal(at(steps, 1).loss, null);
    assert.deepEqual(lastJson(r.stdout), { diverged: [false, true, true] });
  });

  it('an SC-SDC pair: one ready with both nets, steps, epochs and flow points per net', async () => {
    const r = await scenario('pair', { config: { training: { epochs: 2 } } });
    assert.equal(r.code, 0, r.stderr);
    const ready = r.messages.find((m) => m.type === 'ready') as unknown as { nets: ReadyNet[]; stepsPerEpoch: number; totalSteps: number };
    assert.deepEqual(ready.nets.map((n) => [n.net, n.width, n.layers.map((l) => l.total)]), [['sparse', 10, [60, 100, 30]], ['dense', 5, [30, 25, 15]]]);
    assert.deepEqual(at(ready.nets, 0).layers.map((l) => l.active), [30, 25, 15]);
    assert.equal(ready.stepsPerEpoch, 2);
    assert.equal(ready.totalSteps, 4);
    for (const net of ['sparse', 'dense']) {
      assert.deepEqual(stepMetrics(r.messages).filter((s) => s.net === net).map((s) => [s.step, s.epoch]), [[1, 0], [2, 0], [3, 1], [4, 1]]);
      const points = ofType(r, 'flow').map((m) => m.point as { net: string; index: number; epoch: number }).filter((p) => p.net === net);
      assert.deepEqual(points.map((p) => [p.index, p.epoch]), flowSchedule(2, 2).map((p) => [p.index, p.epoch]));
    }
    const epochs = ofType(r, 'epoch').map((m) => m.metrics as Record<string, unknown>);
    assert.deepEqual(epochs.map((e) => [e.net, e.epoch, e.step]), [['sparse', 1, 2], ['dense', 1, 2], ['sparse', 2, 4], ['dense', 2, 4]]);
    assert.deepEqual(at(epochs, 0).validation, { loss: 0.5, accuracy: 0.75 });
    assert.equal(at(epochs, 0).test, undefined);
    assert.deepEqual(at(epochs, 1).test, { loss: 0.25, accuracy: 0.5 });
    // Train loss/accuracy default to the mean of the epoch's steps.
    const s = stepMetrics(r.messages).filter((x) => x.net === 'sparse');
    const train = at(epochs, 0).train as { loss: number; accuracy: number };
    assertRel(train.loss, ((at(s, 0).loss ?? NaN) + (at(s, 1).loss ?? NaN)) / 2, 1e-12, 'default train loss');
    assertRel(train.accuracy, ((at(s, 0).accuracy ?? NaN) + (at(s, 1).accuracy ?? NaN)) / 2, 1e-12, 'default train accuracy');
  });

  it('masks_changed: per-layer dropped, grown, active and overlap; a layer pruned later joins', async () => {
    const r = await scenario('mask_update');
    assert.equal(r.code, 0, r.stderr);
    const updates = ofType(r, 'mask-update').map((m) => m.update as Record<string, unknown>);
    assert.deepEqual(updates, [
      { net: 'sparse', step: 2, epoch: 0, method: 'rigl', fraction: 0.1, layers: [{ layer: 0, dropped: 2, grown: 1, active: 14, overlap: 13 / 15 }] },
      { net: 'sparse', step: 2, epoch: 0, method: 'gmp', layers: [{ layer: 0, dropped: 1, grown: 0, active: 13, overlap: 13 / 15 }, { layer: 1, dropped: 10, grown: 0, active: 15, overlap: 15 / 25 }] },
    ]);
    // The layer pruned during training is measured through prune from then on: masked ≠ raw.
    const last = stepMetrics(r.messages).at(-1);
    assert.ok(last);
    const pruned = at(last.layers, 1);
    assert.ok(pruned.masked.l1 !== null && pruned.raw.l1 !== null && pruned.masked.l1 < pruned.raw.l1);

  });

  it('without flow_data, points come from the next step; the last one is reported missing', async () => {
    const r = await scenario('flow_without_data', { config: { training: { epochs: 1 } } });
    assert.equal(r.code, 0, r.stderr);
    const sched = flowSchedule(1, 2);
    const points = ofType(r, 'flow').map((m) => m.point as { index: number; layers: WireNorms[] });
    assert.deepEqual(points.map((p) => p.index), sched.filter((p) => p.step < 2).map((p) => p.index));
    const steps = stepMetrics(r.messages);
    // The point after step 0 is the gradient of step 1, the one after step 1 that of step 2.
    assert.deepEqual(at(points, 0).layers, at(steps, 0).layers);
    assert.deepEqual(points.at(-1)?.layers, at(steps, 1).layers);
    const lastIndex = sched.filter((p) => p.step === 2).map((p) => p.index).join(', ');
    assert.ok(ofType(r, 'log').some((m) => String(m.message).includes(`flow point ${lastIndex} (after step 2) not measured`)), JSON.stringify(ofType(r, 'log')));
  });
});

describe('Python client without Gradflow', { skip }, () => {
  it('prints one line and does nothing else', async () => {
    const r = await scenario('noop', { gradflow: false });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(at(lines, 0), /^gradflow: not started by Gradflow/);
    assert.deepEqual(lastJson(r.stdout), { active: false, epochs: 2, should_stop: false, diverged: false });
    assert.equal(r.stdout.trim().split('\n').length, 1);
  });
});
