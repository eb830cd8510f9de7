/**
 * One experiment from start message to summary: backend, data, run folder, training. Kept apart from
 * the process plumbing in main.ts so it can be driven in-process by tests.
 */
import { architectureOf, type BackendName, type ExperimentConfig } from '../shared/experiment';
import type { Alert, AlertKind, RunSummary, StartMessage, StartPhase, TrainerToHost } from '../shared/protocol';
import { primaryKey } from '../config/remedies';
import { createRng } from '../shared/rng';
import { initBackend } from '../engine/backend';
import { trainExperiment } from '../engine/train';
import { loadDataset, augmentBatch, defaultAugment } from '../data';

export interface RunContext {
  /** Folder holding the tfjs wasm binaries (the bundle copies them next to itself). */
  wasmDir?: string;
  /** Create the run folder once the config is known; returns its id and path. */
  openRun(config: ExperimentConfig): { runId: string; runDir: string };
  send(m: TrainerToHost): void;
  shouldStop(): boolean;
  /** Called as soon as the backend is known (so a failure summary can name it). */
  onBackend?(b: BackendName): void;
}

export async function runExperiment(msg: StartMessage, ctx: RunContext): Promise<RunSummary> {
  const config = msg.config;
  const startedAt = new Date().toISOString();
  const log = (message: string): void => ctx.send({ type: 'log', level: 'info', message });
  const phase = (p: StartPhase, message: string): void => ctx.send({ type: 'log', level: 'info', message, phase: p });

  phase('backend', `loading the ${msg.backend ?? config.run.backend} backend`);
  const backend = await initBackend(msg.backend ?? config.run.backend, {
    ...(ctx.wasmDir !== undefined ? { wasmDir: ctx.wasmDir } : {}),
    onFallback: log,
  });
  ctx.onBackend?.(backend);

  phase('data', `loading ${config.dataset.name}${config.dataset.name === 'synthetic' ? ' data' : ''}`);
  let data;
  try {
    data = await loadDataset(config.dataset, { seed: config.training.seed, log });
  } catch (e) {
    // Name the key at fault so the extension can put the error on the experiment file's line.
    const err = e instanceof Error ? e : new Error(String(e));
    throw Object.assign(err, { key: config.dataset.path !== undefined ? 'dataset.path' : 'dataset.name' });
  }
  // Before the run folder exists, so start-up chatter stays out of metrics.jsonl.
  phase('model', 'building the networks and masks');
  const { runId, runDir } = ctx.openRun(config);

  const augRng = createRng(config.training.seed).fork('augment');
  const augOpts = defaultAugment(data.name, data, architectureOf(config.model));
  const augment = config.training.augmentation
    ? (x: Float32Array, n: number): Float32Array => augmentBatch(x, n, data.shape, augOpts, augRng)
    : undefined;

  const alerts: Alert[] = [];
  const kinds = new Set<AlertKind>();
  const result = await trainExperiment(config, data, {
    onReady: (nets, info) =>
      ctx.send({
        type: 'ready',
        runId,
        runDir,
        backend,
        nets,
        stepsPerEpoch: info.stepsPerEpoch,
        totalSteps: info.totalSteps,
        dataset: { name: data.name, train: data.train.n, validation: data.validation.n, test: data.test.n, source: data.source },
      }),
    onStep: (m) => ctx.send({ type: 'step', metrics: m }),
    onEpoch: (m) => ctx.send({ type: 'epoch', metrics: m }),
    onFlowPoint: (p) => ctx.send({ type: 'flow', point: p }),
    onMaskUpdate: (u) => ctx.send({ type: 'mask-update', update: u }),
    onAlert: (raw) => {
      // Stamp the setting most responsible (the remedy table), so the host needs no re-derivation.
      const key = raw.key ?? primaryKey(raw, config, kinds);
      const a: Alert = key !== undefined ? { ...raw, key } : raw;
      kinds.add(a.kind);
      alerts.push(a);
      ctx.send({ type: 'alert', alert: a });
    },
    shouldStop: ctx.shouldStop,
    onLog: (level, message) => ctx.send({ type: 'log', level, message }),
    ...(augment ? { augment } : {}),
  });

  return {
    runId,
    runDir,
    backend,
    finished: !result.stopped && result.failed !== true,
    stopped: result.stopped,
    ...(result.reason !== undefined ? { reason: result.reason } : {}),
    nets: result.nets,
    alerts,
    startedAt,
    endedAt: new Date().toISOString(),
  };
}
