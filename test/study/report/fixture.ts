/**
 * Hand-built sweep folders for the report tests: sweep.json plus run folders with run.json,
 * config.json and summary.json holding chosen numbers (no trainer involved).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExperimentConfig } from '../../../src/shared/experiment';
import type { Alert, FlowMeasures, NetSummary, RunSummary } from '../../../src/shared/protocol';
import { tempFolder } from '../../tmp';
import type { SweepRow } from '../../../src/study/report';

export function tmpDir(prefix = 'gradflow-report-'): string {
  return tempFolder(prefix);
}

export interface ConfigOverrides {
  dataset?: string;
  optimizer?: ExperimentConfig['training']['optimizer'];
  batchNorm?: boolean;
  skip?: boolean;
  augmentation?: boolean;
  weightDecay?: number;
  activation?: ExperimentConfig['model']['activation'];
  denseWidth?: number;
  seed?: number;
  method?: ExperimentConfig['sparsity']['method'];
  scope?: ExperimentConfig['sparsity']['scope'];
  dynamic?: 'set' | 'rigl';
}

export function makeConfig(o: ConfigOverrides = {}): ExperimentConfig {
  return {
    name: 'hand-sweep',
    dataset: { name: (o.dataset ?? 'fashion-mnist') as ExperimentConfig['dataset']['name'], validationFraction: 0.1 },
    model: { hiddenLayers: 2, width: 512, activation: o.activation ?? 'relu', batchNorm: o.batchNorm ?? false, skip: o.skip ?? false },
    sparsity: {
      method: o.method ?? 'random',
      denseWidth: o.denseWidth ?? 64,
      pair: true,
      init: 'dense-fan-in',
      ...(o.scope !== undefined ? { scope: o.scope } : {}),
      ...(o.dynamic !== undefined ? { dynamic: { method: o.dynamic, every: 100, fraction: 0.3, schedule: 'cosine' as const, until: 0.75 } } : {}),
    },
    training: {
      optimizer: o.optimizer ?? 'sgd',
      learningRate: 0.01,
      momentum: 0.9,
      weightDecay: o.weightDecay ?? 0,
      augmentation: o.augmentation ?? false,
      epochs: 2,
      batchSize: 128,
      seed: o.seed ?? 0,
    },
    monitoring: {
      every: 1,
      explosion: { maxNorm: 1e6, growthFactor: 100, window: 10 },
      collapse: { minNorm: 1e-12, steps: 50 },
      onNan: 'stop',
    },
    run: { backend: 'cpu', runsDir: '/tmp/unused' },
  };
}

export interface NetNumbers {
  accuracy: number;
  loss?: number;
  flow?: Partial<FlowMeasures>;
  /** The flow measures at point 0 (initialisation); without it the net has no flow points. */
  init?: Partial<FlowMeasures>;
  /** Per-layer densities (layers dense1, dense2, … output); default no layers. */
  densities?: number[];
  diverged?: boolean;
}

export function makeNet(net: 'sparse' | 'dense', n: NetNumbers): NetSummary {
  const split = { loss: n.loss ?? 1, accuracy: n.accuracy };
  return {
    net,
    steps: 80,
    epochs: 2,
    final: { train: split, validation: split, test: split },
    flowAverage: { g1: 1, g2: 1, egf1: 1, egf2: 1, ...n.flow },
    flowPoints: n.init ? [{ net, epoch: 0, index: 0, g1: 1, g2: 1, egf1: 1, egf2: 1, ...n.init }] : [],
    layers: (n.densities ?? []).map((density, i, all) => ({
      name: i === all.length - 1 ? 'output' : `dense${i + 1}`,
      fanIn: 100,
      fanOut: 100,
      active: Math.round(density * 10000),
      total: 10000,
      density,
      deadUnits: 0,
    })),
    msPerStep: 1,
    ...(n.diverged ? { diverged: { step: 3, reason: 'loss is NaN' } } : {}),
  };
}

export interface HandRun {
  id: string;
  point: Record<string, unknown>;
  config: ExperimentConfig;
  sparse?: NetNumbers;
  dense?: NetNumbers;
  /** Default true; false writes a stopped run. */
  finished?: boolean;
  /** Default: a fixed time plus the run's index, so later runs are newer. */
  startedAt?: string;
  /** Not listed in sweep.json (a run of an earlier grid). */
  orphan?: boolean;
  alerts?: Alert[];
  /** Edit the summary before it is written (to break it). */
  mutate?: (summary: Record<string, unknown>) => void;
}

/** Writes `runs` as a sweep folder (`dir/sweep.json` + one folder per run) and returns `dir`. */
export function writeSweep(dir: string, runs: HandRun[], name = 'hand-sweep'): string {
  fs.mkdirSync(dir, { recursive: true });
  const planned = new Map<string, Record<string, unknown>>();
  for (const r of runs) if (!r.orphan) planned.set(r.id, r.point);
  fs.writeFileSync(
    path.join(dir, 'sweep.json'),
    JSON.stringify({ name, createdAt: '2026-11-26T08:00:00.000Z', runs: [...planned].map(([id, point]) => ({ id, point })) }, null, 2),
  );
  runs.forEach((r, i) => {
    const runId = `20261126-0800${String(i).padStart(2, '0')}-${name}-${i.toString(16).padStart(4, '0')}`;
    const runDir = path.join(dir, runId);
    fs.mkdirSync(runDir);
    const startedAt = r.startedAt ?? new Date(Date.UTC(2026, 10, 26, 8, 0, i)).toISOString();
    fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ runId, name, startedAt, pid: 1, configId: r.id }));
    fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify(r.config));
    const finished = r.finished ?? true;
    const summary: RunSummary = {
      runId,
      runDir,
      backend: 'cpu',
      finished,
      stopped: !finished,
      nets: [...(r.sparse ? [makeNet('sparse', r.sparse)] : []), ...(r.dense ? [makeNet('dense', r.dense)] : [])],
      alerts: r.alerts ?? [],
      startedAt,
      endedAt: startedAt,
    };
    const raw = JSON.parse(JSON.stringify(summary)) as Record<string, unknown>;
    r.mutate?.(raw);
    fs.writeFileSync(path.join(runDir, 'summary.json'), JSON.stringify(raw));
  });
  return dir;
}

/** In-memory rows for the pure table functions. */
export function makeRow(id: string, config: ExperimentConfig, point: Record<string, unknown>, sparse?: NetNumbers, dense?: NetNumbers, alerts: Alert[] = []): SweepRow {
  return {
    configId: id,
    runId: `run-${id}`,
    runDir: `/nowhere/run-${id}`,
    point,
    config,
    nets: { ...(sparse ? { sparse: makeNet('sparse', sparse) } : {}), ...(dense ? { dense: makeNet('dense', dense) } : {}) },
    alerts,
  };
}

/**
 * The main hand sweep: 2 optimizers (sgd, adam) × batch_norm (false, true) × 6 seeds, dense test
 * accuracy 0.5 throughout, sparse accuracy chosen per cell (differences d = sparse − dense):
 * - sgd, BN:    d = +0.01 … +0.06   all positive, distinct
 * - sgd, no BN: d = −0.01 … −0.06   all negative
 * - adam, BN:   d = +0.01 … +0.05, −0.06
 * - adam, no BN: d = 0 six times
 */
export function mainSweepRuns(): HandRun[] {
  const runs: HandRun[] = [];
  const diffs: Record<string, number[]> = {
    'sgd/true': [1, 2, 3, 4, 5, 6],
    'sgd/false': [-1, -2, -3, -4, -5, -6],
    'adam/true': [1, 2, 3, 4, 5, -6],
    'adam/false': [0, 0, 0, 0, 0, 0],
  };
  for (const optimizer of ['sgd', 'adam'] as const) {
    for (const bn of [false, true]) {
      for (let seed = 0; seed < 6; seed++) {
        const d = diffs[`${optimizer}/${bn}`]![seed]! / 100;
        runs.push({
          id: `${optimizer}-${bn ? 'bn' : 'nr'}-${seed}`,
          point: { 'training.optimizer': optimizer, 'model.batch_norm': bn, 'training.seed': seed },
          config: makeConfig({ optimizer, batchNorm: bn, seed }),
          sparse: { accuracy: 0.5 + d, loss: 1 - d, flow: { egf1: 2 + seed, egf2: 1 + seed / 10, g1: 10 + seed, g2: 3 + seed } },
          dense: { accuracy: 0.5, loss: 1, flow: { egf1: 1 + seed, egf2: 0.5 + seed / 10, g1: 5 + seed, g2: 2 + seed } },
        });
      }
    }
  }
  return runs;
}
