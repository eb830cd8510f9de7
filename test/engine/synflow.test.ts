/**
 * SynFlow as published on every activation: against an independent PyTorch re-implementation of
 * ganguli-lab/Synaptic-Flow's SynFlow.score (torch.nn modules, state_dict made absolute, eval mode,
 * all-ones input, float64): scripts/reference/synflow_activations.py →
 * test/fixtures/engine/ref_synflow_act.json. The identity-activation variant differs on sigmoid and
 * swish (why `synflow` no longer uses it).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Activation } from '../../src/shared/experiment';
import { synflowActivation, synflowMasks } from '../../src/engine/pruning/synflow';
import { fixturePath } from './helpers';
import { at } from '../../src/shared/checked';

interface Case {
  name: string;
  d: number;
  width: number;
  H: number;
  C: number;
  activation: Activation;
  batch_norm: boolean;
  skip: boolean;
  shapes: [number, number][];
  kernels: number[][];
  counts: number[];
}
interface Ref {
  synflow: { case: Case; rounds: number; result: Record<'layerwise' | 'global', { scores: number[][]; masks: number[][] }> }[];
}

const ref = JSON.parse(fs.readFileSync(fixturePath('ref_synflow_act.json'), 'utf8')) as Ref;

function netOf(c: Case, activation: Activation | 'linear') {
  const shapes = c.shapes.map(([fanIn, fanOut]) => ({ fanIn, fanOut }));
  return {
    shapes,
    kernels: c.kernels.map((k) => Float32Array.from(k)),
    skips: shapes.slice(0, -1).map((s, l) => c.skip && l > 0 && s.fanIn === s.fanOut),
    activation,
    ...(c.batch_norm ? { batchNormEpsilon: 1e-5 } : {}),
  };
}

function jaccard(a: number[][], b: ArrayLike<number>[]): number {
  let both = 0;
  let either = 0;
  a.forEach((m, l) => m.forEach((v, i) => {
    const w = at(b, l)[i] !== 0;
    if (v !== 0 && w) both++;
    if (v !== 0 || w) either++;
  }));
  return both / either;
}

describe('synflow on every activation (published algorithm)', () => {
  it('activation values and slopes at the |θ| parameters (by hand)', () => {
    const s = synflowActivation('sigmoid');
    assert.equal(s.f(0), 0.5);
    assert.equal(s.df(0), 0.25);
    const w = synflowActivation('swish');
    assert.ok(Math.abs(w.f(1) - 1 / (1 + Math.exp(-1))) < 1e-15);
    // SReLU with |t_l| = t_r = 0.4, a_l = 0.4, a_r = 2: 0.4 + 2(z − 0.4) above, 0.4 + 0.4(z − 0.4) below.
    const r = synflowActivation('srelu');
    assert.ok(Math.abs(r.f(1) - 1.6) < 1e-15);
    assert.ok(Math.abs(r.f(0.1) - 0.28) < 1e-15);
    assert.equal(r.df(1), 2);
    assert.equal(r.df(0.1), 0.4);
  });

  for (const { case: c, rounds, result } of ref.synflow) {
    for (const scope of ['layerwise', 'global'] as const) {
      it(`${c.name}, ${scope}, ${rounds} rounds: masks identical, scores to 1e-9 of the layer's largest`, () => {
        const want = result[scope];
        const res = synflowMasks(netOf(c, c.activation), c.counts, scope, rounds);
        res.masks.forEach((m, l) => assert.deepEqual(Array.from(m), want.masks[l], `layer ${l} mask`));
        res.scores.forEach((s, l) => {
          const scale = Math.max(1e-300, ...at(want.scores, l).map(Math.abs));
          at(want.scores, l).forEach((v, i) => assert.ok(Math.abs(at(s, i) - v) <= 1e-9 * scale, `layer ${l} score ${i}: ${s[i]} vs ${v}`));
        });
      });
    }
  }

  it('the identity variant (`linear`) is not the published algorithm on sigmoid and swish', () => {
    for (const name of ['sigmoid', 'swish']) {
      const r = ref.synflow.find((x) => x.case.name === name);
      assert.ok(r);
      const lin = synflowMasks(netOf(r.case, 'linear'), r.case.counts, 'global', r.rounds);
      const j = jaccard(r.result.global.masks, lin.masks);
      assert.ok(j < 1, `${name}: Jaccard ${j}`);
    }
  });
});
