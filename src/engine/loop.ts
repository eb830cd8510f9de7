/**
 * The training loop as a loop, and the hook interface its policies implement (policies/: progress
 * messages, norm alerts, divergence, mask integrity, mask updates, flow points, epoch evaluation,
 * stop requests). tfjs-layers' fit loop with its callbacks is the model: the loop owns the order of
 * events (epochs, batches, one step of every net, one transfer) and nothing else; every decision
 * about what a step's numbers mean is a hook's.
 *
 * Order of one iteration (the hooks of a phase run in the order they were given):
 *   beforeStep → every active net steps on the SAME batch (one read-back for all) → netStep per net,
 *   nets in order → afterStep (batch alive; skipped once stopped) → batch freed → afterBatch (skipped
 *   once stopped) → yield to the event loop → polled('step') (skipped once stopped) → leave when
 *   stopped or when no net is left training.
 * Epoch: epochStart → iterations → epochEnd → yield → polled('epoch') (skipped once stopped).
 * `start` runs before the first epoch, `end` after the last (or the break).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NetRole } from '../shared/experiment';
import type { FlowPoint, NetSummary } from '../shared/protocol';
import type { AlertTracker } from './alerts';
import { disposeBatch } from './batches';
import type { TrainableNet } from './net';
import type { Optimizer, Param } from './optimizers';
import { trainStepDeferred, type Batch, type StepOptions, type StepResult } from './step';
import { at } from '../shared/checked';

/** One net's training state, shared by the loop and the policies. */
export interface NetRun {
  role: NetRole;
  net: TrainableNet;
  opt: Optimizer;
  params: Param[];
  alerts: AlertTracker;
  flowPoints: FlowPoint[];
  stepMs: number;
  steps: number;
  epochs: number;
  epochLoss: number;
  epochCorrect: number;
  epochN: number;
  final: NetSummary['final'];
  /** Set before a step by a policy: compute the step but skip its optimizer update (RigL's mask update replaces it). */
  skipUpdate: boolean;
  /** Set when this net diverged under `on_nan: stop`: it trains no further, its twin goes on. */
  diverged?: { step: number; reason: string };
  /** First non-finite loss or gradient under `on_nan: continue` (the net trained on); written as the summary's `diverged`. */
  nonFiniteAt?: { step: number; reason: string };
}

export interface LoopState {
  readonly runs: NetRun[];
  /** Steps taken (1-based once the first has started). */
  step: number;
  /** Epoch in progress, 0-based. */
  epoch: number;
  /** False while an epoch is under way (true before the first and after each completed one). */
  epochDone: boolean;
  stopped: boolean;
  failed: boolean;
  reason?: string;
  /** The nets still training (not diverged). */
  active(): NetRun[];
  /** End the run after this step; the first reason is kept. `failed`: the run is invalid. */
  stop(reason: string, failed?: boolean): void;
}

export interface LoopHook {
  start?(s: LoopState): void;
  epochStart?(s: LoopState): void;
  beforeStep?(s: LoopState): void;
  netStep?(s: LoopState, r: NetRun, res: StepResult, n: number): void;
  afterStep?(s: LoopState, batch: Batch): void;
  afterBatch?(s: LoopState): void;
  epochEnd?(s: LoopState): void;
  polled?(s: LoopState, at: 'step' | 'epoch'): void;
  end?(s: LoopState): void;
}

export interface LoopPlan {
  epochs: number;
  stepsPerEpoch: number;
  nTrain: number;
  batchSize: number;
  /** Order of the training rows for the next epoch. */
  shuffle(): ArrayLike<number>;
  /** The training batch of rows order[start .. start + n) (the loop frees it). */
  batch(order: ArrayLike<number>, start: number, n: number): Batch;
  stepOptions(r: NetRun, step: number): StepOptions;
}

export function loopState(runs: NetRun[]): LoopState {
  const s: LoopState = {
    runs,
    step: 0,
    epoch: 0,
    epochDone: true,
    stopped: false,
    failed: false,
    active: () => runs.filter((r) => !r.diverged),
    stop: (reason, failed = false) => {
      if (s.stopped) return;
      s.stopped = true;
      s.failed = failed;
      s.reason = reason;
    },
  };
  return s;
}

const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

export async function runLoop(plan: LoopPlan, runs: NetRun[], hooks: LoopHook[]): Promise<LoopState> {
  const s = loopState(runs);
  for (const h of hooks) h.start?.(s);
  outer: for (let epoch = 0; epoch < plan.epochs; epoch++) {
    const order = plan.shuffle();
    s.epoch = epoch;
    s.epochDone = false;
    for (const h of hooks) h.epochStart?.(s);
    for (let i = 0; i < plan.stepsPerEpoch; i++) {
      s.step++;
      const start = i * plan.batchSize;
      const n = Math.min(plan.batchSize, plan.nTrain - start);
      // One batch for every net: an SC-SDC pair sees identical examples in identical order.
      const batch = plan.batch(order, start, n);
      try {
        for (const h of hooks) h.beforeStep?.(s);
        const results = stepNets(s.active(), batch, (r) => plan.stepOptions(r, s.step), runs.length, s.step);
        for (const [r, res] of results) for (const h of hooks) h.netStep?.(s, r, res, n);
        if (!s.stopped) for (const h of hooks) h.afterStep?.(s, batch);
      } finally {
        disposeBatch(batch);
      }
      if (!s.stopped) for (const h of hooks) h.afterBatch?.(s);
      // Let IPC messages (stop) in before the next step.
      await yieldToEventLoop();
      if (!s.stopped) for (const h of hooks) h.polled?.(s, 'step');
      // Stopped, or every net diverged: nothing left to train, and the run is complete.
      if (s.stopped || s.active().length === 0) break outer;
    }
    s.epochDone = true;
    for (const h of hooks) h.epochEnd?.(s);
    await yieldToEventLoop();
    if (!s.stopped) for (const h of hooks) h.polled?.(s, 'epoch');
    if (s.stopped) break;
  }
  for (const h of hooks) h.end?.(s);
  return s;
}

/**
 * Every net updates, then ONE transfer reads all their numbers for this step. Each net's stepMs
 * gains its own update time and an equal share (1/`shares`) of the read; `steps` becomes `step`.
 */
export function stepNets(nets: NetRun[], batch: Batch, options: (r: NetRun) => StepOptions, shares: number, step: number): [NetRun, StepResult][] {
  const pending = nets.map((r) => {
    const t0 = performance.now();
    const p = trainStepDeferred(r.net, r.opt, r.params, batch, options(r));
    r.stepMs += performance.now() - t0;
    return { r, p };
  });
  const t1 = performance.now();
  const all = pending.length === 1 ? at(pending, 0).p.stats : tf.concat(pending.map((x) => x.p.stats));
  const values = all.dataSync();
  all.dispose();
  pending.forEach((x) => x.p.stats.dispose());
  const readMs = (performance.now() - t1) / shares;
  let offset = 0;
  return pending.map(({ r, p }) => {
    const res = p.decode(values, offset);
    offset += p.stats.size;
    r.stepMs += readMs;
    r.steps = step;
    return [r, res];
  });
}
