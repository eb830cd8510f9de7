/**
 * Trainer messages for a small SC-SDC pair run, shared by the state and page tests. Values are
 * made up but shaped like the trainer's: two weight layers per net, norms every other step.
 * Also the page's side of the host → page stream (pageApply), for the state tests, and the
 * field-by-field guard checks shared by the protocol tests.
 */
import assert from 'node:assert/strict';
import type { DashboardState } from '../../src/extension/dashboard/state';
import type { NetRole } from '../../src/shared/experiment';
import type { Alert, NetInfo, ReadyMessage, StepMessage, TrainerToHost } from '../../src/shared/protocol';
import {
  WEBVIEW_PROTOCOL_VERSION,
  applyNotification,
  isHostToPage,
  type DashboardModel,
  type HostToPage,
} from '../../src/shared/webview-protocol';
import { at } from '../../src/shared/checked';

export function netInfo(net: NetRole): NetInfo {
  const dense = net === 'dense';
  return {
    net,
    width: dense ? 64 : 32,
    activeWeights: dense ? 784 * 64 + 64 * 10 : 12000,
    layers: [
      { name: 'dense1', fanIn: 784, fanOut: dense ? 64 : 32, active: dense ? 50176 : 11680, total: dense ? 50176 : 25088, density: dense ? 1 : 0.4655, deadUnits: 0 },
      { name: 'dense2', fanIn: dense ? 64 : 32, fanOut: dense ? 64 : 32, active: dense ? 4096 : 256, total: dense ? 4096 : 1024, density: dense ? 1 : 0.25, deadUnits: dense ? 0 : 1 },
      { name: 'output', fanIn: dense ? 64 : 32, fanOut: 10, active: dense ? 640 : 150, total: dense ? 640 : 320, density: dense ? 1 : 0.46875, deadUnits: 0 },
    ],
  };
}

export function ready(runId: string, nets: NetRole[] = ['sparse', 'dense'], totalSteps = 400): ReadyMessage {
  return {
    type: 'ready',
    runId,
    runDir: `/tmp/runs/${runId}`,
    backend: 'cpu',
    nets: nets.map(netInfo),
    stepsPerEpoch: 100,
    totalSteps,
    dataset: { name: 'fashion-mnist', train: 54000, validation: 6000, test: 10000, source: 'fashion-mnist package' },
  };
}

/** A smooth, deterministic trajectory; layer 1 of the sparse net decays towards collapse. */
export function step(net: NetRole, s: number, withLayers: boolean, nanAt = -1): StepMessage {
  const decay = Math.exp(-s / 150);
  const wiggle = 1 + 0.3 * Math.sin(s / 7);
  const scale = net === 'dense' ? 1.6 : 1;
  const l2 = [0.8 * wiggle * scale, (net === 'sparse' ? 0.5 * decay * decay : 0.4) * wiggle, 0.3 * wiggle * scale * (1 + s / 400)];
  const layers = withLayers
    ? l2.map((v, i) => ({
        active: at(netInfo(net).layers, i).active,
        raw: { l1: v * 40, l2: v * 1.3 },
        masked: { l1: v * 25, l2: s === nanAt && i === 1 ? NaN : v },
      }))
    : [];
  const egf2 = withLayers ? l2.reduce((a, b) => a + b, 0) / 3 : 0;
  return {
    type: 'step',
    metrics: {
      net,
      step: s,
      epoch: Math.floor((s - 1) / 100),
      loss: 2.3 * decay + 0.3 + 0.05 * Math.sin(s),
      accuracy: Math.min(1, 0.1 + 0.8 * (1 - decay)),
      egf1: egf2 * 25,
      egf2,
      g1: egf2 * 40 * 1.2,
      g2: egf2 * 1.3 * 1.2,
      layers,
    },
  };
}

export function epoch(net: NetRole, e: number): TrainerToHost {
  const acc = 0.6 + 0.08 * e - (net === 'dense' ? 0 : 0.02);
  return {
    type: 'epoch',
    metrics: {
      net,
      epoch: e,
      step: e * 100,
      train: { loss: 1.2 / e, accuracy: acc + 0.03 },
      validation: { loss: 1.3 / e, accuracy: acc },
      test: { loss: 1.35 / e, accuracy: acc - 0.01 },
      elapsed: e * 2.5,
    },
  };
}

export function alert(net: NetRole, kind: Alert['kind'], stepNo: number, layer: number, value: Alert['value'], message: string): TrainerToHost {
  return { type: 'alert', alert: { net, kind, step: stepNo, layer, value, message, severity: kind === 'nan' ? 'error' : 'warning' } };
}

/** The whole message stream of a pair run of `steps` steps (both nets interleaved per step). */
export function pairRun(runId: string, steps: number): TrainerToHost[] {
  const out: TrainerToHost[] = [ready(runId, ['sparse', 'dense'], steps)];
  for (let s = 1; s <= steps; s++) {
    for (const net of ['sparse', 'dense'] as const) out.push(step(net, s, s % 2 === 1 || s === steps));
    if (s % 100 === 0) for (const net of ['sparse', 'dense'] as const) out.push(epoch(net, s / 100));
    if (s === 150) out.push(alert('sparse', 'collapse', 150, 1, 0.00042, 'dense2: masked L2 norm below 1e-3 for 50 steps (0.00042 at step 150)'));
    if (s === 260) out.push(alert('dense', 'explosion', 260, 2, 412.5, 'output: masked L2 norm 412.5 exceeds max_norm 100 at step 260'));
  }
  return out;
}

/** What crosses postMessage, a process boundary or a file: JSON (NaN → null, undefined fields vanish). */
export function wire<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** The page's side: validate, then fold, exactly as webview/main.ts does. */
export function pageApply(model: DashboardModel, msgs: HostToPage[]): DashboardModel {
  for (const m of msgs) {
    const w = wire(m);
    assert.ok(isHostToPage(w), `invalid ${m.type}: ${JSON.stringify(w).slice(0, 300)}`);
    model = applyNotification(model, w);
  }
  return model;
}

/** The `init` message of the state's current snapshot. */
export function init(state: DashboardState): HostToPage {
  return { type: 'init', protocolVersion: WEBVIEW_PROTOCOL_VERSION, model: state.snapshot() };
}

/** A place in a JSON value: object keys and array indices from the root. */
export type Path = (string | number)[];

type Guard = (v: unknown) => boolean;

/** Every path in a JSON value, leaves and containers (the root excluded). */
function paths(v: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(v)) v.forEach((e, i) => out.push([...prefix, i], ...paths(e, [...prefix, i])));
  else if (typeof v === 'object' && v !== null) for (const [k, e] of Object.entries(v)) out.push([...prefix, k], ...paths(e, [...prefix, k]));
  return out;
}

function mutate(sample: unknown, path: Path, f: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy: unknown = JSON.parse(JSON.stringify(sample));
  let parent = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  f(parent, at(path, path.length - 1));
  return copy;
}

function get(sample: unknown, path: Path): unknown {
  let v = sample;
  for (const k of path) v = (v as Record<string | number, unknown>)[k];
  return v;
}

/**
 * Asserts that `guard` rejects each sample with any one object field removed, anywhere in it,
 * except the fields `optional` allows to be absent. Returns how many fields were checked.
 */
export function assertRejectsMissingFields(samples: readonly unknown[], guard: Guard, optional: (key: string, path: Path) => boolean): number {
  let checked = 0;
  for (const s of samples) {
    for (const p of paths(s)) {
      const key = p[p.length - 1];
      if (typeof key !== 'string' || optional(key, p)) continue;
      assert.equal(guard(mutate(s, p, (o, k) => delete o[k])), false, `${(s as { type: string }).type}: without ${p.join('.')}`);
      checked++;
    }
  }
  return checked;
}

/** Asserts that `guard` rejects each sample with a wrong type in any one field, anywhere in it. */
export function assertRejectsWrongTypes(samples: readonly unknown[], guard: Guard): void {
  for (const s of samples) {
    for (const p of paths(s)) {
      const v = get(s, p);
      // An object where a primitive or array is expected; an array where an object is.
      const wrong = typeof v === 'object' && v !== null && !Array.isArray(v) ? [] : {};
      assert.equal(guard(mutate(s, p, (o, k) => (o[k] = wrong))), false, `${(s as { type: string }).type}: ${p.join('.')} = ${JSON.stringify(wrong)}`);
    }
  }
}

/** Asserts that `guard` rejects each sample with NaN, Infinity or -Infinity in any one number field. */
export function assertRejectsNonFinite(samples: readonly unknown[], guard: Guard): void {
  for (const s of samples) {
    for (const p of paths(s)) {
      if (typeof get(s, p) !== 'number') continue;
      for (const bad of [NaN, Infinity, -Infinity]) {
        assert.equal(guard(mutate(s, p, (o, k) => (o[k] = bad))), false, `${(s as { type: string }).type}: ${p.join('.')} = ${bad}`);
      }
    }
  }
}
