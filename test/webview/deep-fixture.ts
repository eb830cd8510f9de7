/**
 * A synthetic 56-layer run, named the way the conv nets of issue 19 name their layers (`stem`,
 * `group1.block1.conv1`, `group2.block1.shortcut`, …, `fc`), for the dashboard's readability at
 * 50+ layers: the messages the trainer would send for an SC-SDC pair, and a run folder (run.json,
 * config.json, metrics.jsonl, summary.json) made from them, which the extension's loader reads
 * like any recorded run. Values are made up but shaped like a trainer's; nothing here is a test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NetRole } from '../../src/shared/experiment';
import type { LayerInfo, NetInfo, RunSummary, TrainerToHost } from '../../src/shared/protocol';
import { wire } from './fixtures';
import { at } from '../../src/shared/checked';

/**
 * stem; group1: 9 blocks of conv1 + conv2; group2 and group3: a 1×1 shortcut in block 1, then 9 and
 * 8 blocks; fc. 1 + 18 + 19 + 17 + 1 = 56 weight layers.
 */
export function deepLayerNames(): string[] {
  const names = ['stem'];
  const groups: Array<[number, number, boolean]> = [[1, 9, false], [2, 9, true], [3, 8, true]];
  for (const [g, blocks, shortcut] of groups) {
    if (shortcut) names.push(`group${g}.block1.shortcut`);
    for (let b = 1; b <= blocks; b++) names.push(`group${g}.block${b}.conv1`, `group${g}.block${b}.conv2`);
  }
  names.push('fc');
  return names;
}

export const DEEP_LAYERS = 56;

function layerInfo(name: string, i: number, net: NetRole): LayerInfo {
  const group = name.startsWith('group') ? Number(name[5]) : name === 'fc' ? 4 : 0;
  const cin = name === 'stem' ? 3 : 16 * 2 ** Math.max(0, group - 1);
  const cout = name === 'fc' ? 10 : name === 'stem' ? 16 : 16 * 2 ** Math.max(0, group - 1);
  const k = name === 'fc' || name.endsWith('shortcut') ? 1 : 9;
  const total = cin * cout * k;
  const density = net === 'dense' ? 1 : i === 0 || name === 'fc' ? 0.3 : 0.09;
  const active = Math.max(1, Math.round(total * density));
  return { name, fanIn: cin * k, fanOut: cout, active, total, density: active / total, deadUnits: net === 'sparse' && i === 30 ? 2 : 0 };
}

function netInfo(net: NetRole): NetInfo {
  const layers = deepLayerNames().map((n, i) => layerInfo(n, i, net));
  // A conv net's width is its widest layer's output channels (group 3: 64).
  return { net, width: 64, widthOf: 'channels', layers, activeWeights: layers.reduce((a, l) => a + l.active, 0) };
}

/** The message stream of a finished pair run of `steps` steps (10 per epoch), norms on every step. */
export function deepRunMessages(runId: string, runDir: string, steps = 60): TrainerToHost[] {
  const nets: NetRole[] = ['sparse', 'dense'];
  const out: TrainerToHost[] = [{
    type: 'ready',
    runId,
    runDir,
    backend: 'wasm',
    nets: nets.map(netInfo),
    stepsPerEpoch: 10,
    totalSteps: steps,
    dataset: { name: 'synthetic', train: 576, validation: 64, test: 128, source: 'synthetic 32×32×3' },
  }];
  for (let s = 1; s <= steps; s++) {
    for (const net of nets) {
      const layers = deepLayerNames().map((_, l) => {
        // Deeper layers get smaller gradients; one sparse layer decays towards collapse.
        const v = (0.5 + 0.3 * Math.sin(s / 5 + l)) * 10 ** (-l / 28) * (net === 'sparse' && l === 40 ? Math.exp(-s / 8) : 1);
        return { active: at(netInfo(net).layers, l).active, raw: { l1: v * 30, l2: v * 1.2 }, masked: { l1: v * 20, l2: v } };
      });
      const egf2 = layers.reduce((a, l) => a + l.masked.l2, 0) / layers.length;
      out.push({
        type: 'step',
        metrics: {
          net, step: s, epoch: Math.floor((s - 1) / 10), loss: 2.3 * Math.exp(-s / 40) + 0.2, accuracy: 0.1 + 0.7 * (1 - Math.exp(-s / 30)),
          egf1: egf2 * 20, egf2, g1: egf2 * 36, g2: egf2 * 1.4, layers,
        },
      });
    }
    if (s % 10 === 0) {
      const e = s / 10;
      for (const net of nets) {
        const acc = 0.3 + 0.08 * e;
        out.push({
          type: 'epoch',
          metrics: {
            net, epoch: e, step: s, elapsed: e * 4,
            train: { loss: 1.5 / e, accuracy: acc + 0.02 }, validation: { loss: 1.6 / e, accuracy: acc }, test: { loss: 1.65 / e, accuracy: acc - 0.01 },
          },
        });
      }
    }
  }
  return out;
}

function summary(runId: string, runDir: string, steps: number): RunSummary {
  return {
    runId,
    runDir,
    backend: 'wasm',
    finished: true,
    stopped: false,
    nets: (['sparse', 'dense'] as const).map((net) => ({
      net,
      steps,
      epochs: steps / 10,
      final: { train: { loss: 0.3, accuracy: 0.8 }, validation: { loss: 0.35, accuracy: 0.78 }, test: { loss: 0.36, accuracy: 0.77 } },
      flowAverage: { egf1: 4, egf2: 0.2, g1: 7, g2: 0.3 },
      flowPoints: [],
      layers: [],
      msPerStep: 40,
    })),
    alerts: [],
    startedAt: '2026-12-06T08:00:00.000Z',
    endedAt: '2026-12-06T08:01:00.000Z',
  };
}

/** Writes the run folder `<parent>/<runId>` (a finished run) and returns its path. */
export function writeDeepRun(parent: string, runId = '20261206-080000-wrn-deep-56ly', steps = 60): string {
  const runDir = path.join(parent, runId);
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ runId, name: 'wrn-deep', startedAt: '2026-12-06T08:00:00.000Z', pid: 99_999_999 }, null, 2));
  fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ name: 'wrn-deep' }));
  const lines = deepRunMessages(runId, runDir, steps).map((m) => JSON.stringify(wire(m)));
  lines.push(JSON.stringify(wire({ type: 'done', summary: summary(runId, runDir, steps) })));
  fs.writeFileSync(path.join(runDir, 'metrics.jsonl'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(runDir, 'summary.json'), JSON.stringify(wire(summary(runId, runDir, steps)), null, 2));
  fs.writeFileSync(path.join(runDir, 'heartbeat'), '');
  return runDir;
}
