/**
 * The Python client's gradient-flow numbers (clients/python/gradflow, docs/torch.md) against the
 * engine's and against an independent float64 computation, on the PyTorch reference MLPs of
 * test/fixtures/engine/ref_flow.json (kernels, masks, biases, batch): for each case the client
 * watches the same net rebuilt in torch (float32) and reports one step and two flow points
 * (test/torch/py/ref_case.py); the engine measures the same net on the same batches
 * (measureFlowLayers, as its flow points do). Masks reach the client through torch.nn.utils.prune
 * (even cases) or as explicit {param_name: mask} (odd cases).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerStep } from '../../src/shared/protocol';
import { combineFlow, flowSchedule } from '../../src/engine/flow';
import { measureFlowLayers, type Batch } from '../../src/engine/step';
import { fixturePath, testBackend } from '../engine/helpers';
import { buildRefNet, type RefCase } from '../engine/ref-net';
import { PY_DIR, assertRel, ofType, runScript, torchMissing, type WireNorms } from './helpers';
import { at } from '../../src/shared/checked';

interface Independent {
  loss: number;
  layers: { raw: { l1: number; l2: number }; masked: { l1: number; l2: number } }[];
  egf1: number;
  egf2: number;
  g1: number;
  g2: number;
}
interface FlowMsg {
  net: string;
  index: number;
  epoch: number;
  layers: WireNorms[];
  egf1: number;
  egf2: number;
  g1: number;
  g2: number;
}
interface StepMsg extends Omit<FlowMsg, 'index'> {
  step: number;
  loss: number;
  accuracy: number;
}

const ref = JSON.parse(fs.readFileSync(fixturePath('ref_flow.json'), 'utf8')) as { flow: { case: RefCase }[] };
const REL = 1e-5;
const skip = torchMissing();

/** Rows [from, to) of the case's batch as an engine batch. */
function rows(c: RefCase, from: number, to: number): Batch {
  const n = to - from;
  const labels = tf.tensor1d(c.y.slice(from, to), 'int32');
  return { x: tf.tensor2d(c.x.slice(from * c.d, to * c.d), [n, c.d]), y: tf.cast(tf.oneHot(labels, c.C), 'float32') as tf.Tensor2D, labels, n };
}

function engineLayers(c: RefCase, splits: [number, number][]): LayerStep[] {
  const net = buildRefNet(c);
  const batches = splits.map(([a, b]) => rows(c, a, b));
  try {
    return measureFlowLayers(net, batches, c.l2);
  } finally {
    net.dispose();
    batches.forEach((b) => tf.dispose([b.x, b.y, b.labels]));
  }
}

function compareLayers(got: WireNorms[], want: { raw: { l1: number; l2: number }; masked: { l1: number; l2: number } }[], what: string): void {
  assert.equal(got.length, want.length, `${what}: layer count`);
  got.forEach((g, l) => {
    assertRel(g.raw.l1, at(want, l).raw.l1, REL, `${what} layer ${l} raw L1`);
    assertRel(g.raw.l2, at(want, l).raw.l2, REL, `${what} layer ${l} raw L2`);
    assertRel(g.masked.l1, at(want, l).masked.l1, REL, `${what} layer ${l} masked L1`);
    assertRel(g.masked.l2, at(want, l).masked.l2, REL, `${what} layer ${l} masked L2`);
  });
}

function compareFlow(got: { egf1: number; egf2: number; g1: number; g2: number }, want: { egf1: number; egf2: number; g1: number; g2: number }, what: string): void {
  for (const k of ['egf1', 'egf2', 'g1', 'g2'] as const) assertRel(got[k], want[k], REL, `${what} ${k}`);
}

before(async () => {
  if (!skip) await testBackend();
});

describe('Python client vs engine vs independent float64 (ref_flow.json MLPs)', { skip }, () => {
  ref.flow.forEach(({ case: c }, i) => {
    const mode = i % 2 === 0 ? 'prune' : 'explicit';
    it(`${c.name} (${mode} masks): step and flow points`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-torch-'));
      const file = path.join(dir, 'case.json');
      fs.writeFileSync(file, JSON.stringify(c));
      try {
        const r = await runScript(path.join(PY_DIR, 'ref_case.py'), [file, mode], { config: { training: { epochs: 1 }, monitoring: { every: 1 } } });
        assert.equal(r.code, 0, `exit code; stderr:\n${r.stderr}`);
        const independent = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Independent;
        const ready = ofType(r, 'ready')[0] as unknown as { nets: { layers: { active: number; total: number; fanIn: number; fanOut: number }[] }[] };
        const shapes = at(ready.nets, 0).layers;
        assert.equal(shapes.length, c.H + 1);
        shapes.forEach((l, k) => {
          assert.equal(l.active, at(c.masks, k).reduce((s, v) => s + v, 0), `layer ${k} active`);
          assert.equal(l.total, at(c.masks, k).length, `layer ${k} total`);
        });
        assert.deepEqual(shapes.map((l) => l.fanIn), [c.d, ...Array<number>(c.H).fill(c.width)]);

        // The step: the whole batch, norms of the client equal the engine's and the independent ones.
        const steps = ofType(r, 'step').map((m) => m.metrics as StepMsg);
        assert.equal(steps.length, 1);
        const s = at(steps, 0);
        const engineStep = engineLayers(c, [[0, c.n]]);
        compareLayers(s.layers, engineStep, `${c.name} step vs engine`);
        compareFlow(s, combineFlow(engineStep), `${c.name} step vs engine`);
        compareLayers(s.layers, independent.layers, `${c.name} step vs independent`);
        compareFlow(s, independent, `${c.name} step vs independent`);
        assertRel(s.loss, independent.loss, REL, `${c.name} loss`);

        // Flow points: the schedule of one epoch of one step, measured on the two flow batches.
        const points = ofType(r, 'flow').map((m) => m.point as FlowMsg);
        assert.deepEqual(points.map((p) => [p.index, p.epoch]), flowSchedule(1, 1).map((p) => [p.index, p.epoch]));
        const k = Math.floor(c.n / 3);
        const engineFlow = engineLayers(c, [[0, k], [k, c.n]]);
        for (const p of points) {
          compareLayers(p.layers, engineFlow, `${c.name} flow point ${p.index} vs engine`);
          compareFlow(p, combineFlow(engineFlow), `${c.name} flow point ${p.index} vs engine`);
        }
        assert.deepEqual(r.messages.map((m) => m.type), ['hello', 'ready', 'flow', 'step', 'flow', 'done']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
