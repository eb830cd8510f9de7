/**
 * Dense WRN-16-4 step against PyTorch (npm run bench; issue 19 "Speed"): one training step of a
 * dense WRN-16-4, batch 64, 32×32×3, 10 classes, SGD + momentum 0.9, no norm collection, on the
 * wasm backend (step.ts's trainStep, as a run does), against the same net and step in PyTorch on
 * one thread (bench/wrn-step.bench.py: Debian python3-torch, torch.set_num_threads(1),
 * OPENBLAS_NUM_THREADS=1, OPENBLAS_CORETYPE unset). Target: Gradflow / PyTorch ≤ 3.
 *
 * The PyTorch process stays up and steps on request, so the two are sampled alternately (order
 * swapped every pair) and load drifts on a shared machine hit both alike; medians of wall and
 * process CPU time (both run single-threaded, so CPU time is the steadier figure under load).
 * Without python3 + torch it says so and exits 0.
 *
 * --before: also steps the same net (same weights) on the conv paths used before the Winograd
 * convolution (2026-12-07 07:30 UTC: every pass in XNNPACK's convolution, the filter gradient as one
 * convolution, a strided input gradient over the phases: nn/conv.ts modes 'backend' / 'conv' /
 * 'forward'), in the same rotation, so the change is measured against the old code in one process. --profile: after the samples, one tf.profile'd
 * step per net, the kernels summed by name (largest first).
 *
 * Options: --pairs N (default 4), --warmup N (default 1), --backend (default wasm),
 * --depth 16 --widen 4 --batch 64, --before, --profile.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendPreference } from '../src/shared/experiment';
import { createRng } from '../src/shared/rng';
import { initBackend } from '../src/engine/backend';
import { blueprint } from '../src/engine/nn/arch';
import { buildConvNet } from '../src/engine/nn/build';
import { createOptimizer } from '../src/engine/optimizers';
import { optimizerParams, trainStep, type Batch } from '../src/engine/step';
import { arg, median } from './util';

function repo(): string {
  for (let d = __dirname; path.dirname(d) !== d; d = path.dirname(d)) if (fs.existsSync(path.join(d, 'bench', 'wrn-step.bench.py'))) return d;
  return process.cwd();
}

interface Sample {
  wall: number;
  cpu: number;
}

/** The PyTorch process: one JSON line per request. */
class Torch {
  private buffer = '';
  private readonly queue: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;
  constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        this.push(this.buffer.slice(0, i));
        this.buffer = this.buffer.slice(i + 1);
      }
    });
    proc.on('exit', () => {
      this.ended = true;
      this.waiting?.(undefined);
    });
  }
  private push(line: string): void {
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w(line);
    } else this.queue.push(line);
  }
  async next(): Promise<Record<string, unknown>> {
    const line = this.queue.shift() ?? (this.ended ? undefined : await new Promise<string | undefined>((resolve) => (this.waiting = resolve)));
    if (line === undefined) throw new Error('the PyTorch process ended early (see its stderr above)');
    return JSON.parse(line) as Record<string, unknown>;
  }
  async step(): Promise<Sample> {
    this.proc.stdin.write('step\n');
    const r = await this.next();
    return { wall: Number(r.wall), cpu: Number(r.cpu) };
  }
  quit(): void {
    this.proc.stdin.end('quit\n');
  }
}

async function main(): Promise<void> {
  const python = process.env.GRADFLOW_PYTHON ?? '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(`WRN step bench: skipped, ${python} cannot import torch (Debian: python3-torch)`);
    return;
  }
  const pairs = Number(arg('pairs') ?? 4);
  const warmup = Number(arg('warmup') ?? 1);
  const depth = Number(arg('depth') ?? 16);
  const widen = Number(arg('widen') ?? 4);
  const B = Number(arg('batch') ?? 64);
  const pref = (arg('backend') ?? 'wasm') as BackendPreference;
  const C = 10;

  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' };
  delete env.OPENBLAS_CORETYPE;
  const proc = spawn(python, [path.join(repo(), 'bench', 'wrn-step.bench.py'), '--depth', String(depth), '--widen', String(widen), '--batch', String(B)], {
    stdio: 'pipe',
    env,
  });
  proc.stderr.pipe(process.stderr);
  const torch = new Torch(proc);
  // The PyTorch process is told to quit however this ends (an exception here would otherwise leave
  // it waiting on its stdin and keep this process alive).
  try {
    await measure(torch, { pairs, warmup, depth, widen, B, pref, C });
  } finally {
    torch.quit();
  }
}

async function measure(torch: Torch, o: { pairs: number; warmup: number; depth: number; widen: number; B: number; pref: BackendPreference; C: number }): Promise<void> {
  const { pairs, warmup, depth, widen, B, pref, C } = o;
  const backend = await initBackend(pref);
  const rng = createRng(1);
  const bp = blueprint({ architecture: 'wrn', input: [32, 32, 3], classes: C, activation: 'relu', batchNorm: true, depth, widenFactor: widen });
  const net = buildConvNet({ role: 'dense', blueprint: bp, method: 'none', init: 'dense-fan-in', rng });
  const opt = createOptimizer({ name: 'momentum', learningRate: 0.01, momentum: 0.9, decoupledDecay: 0 });
  const params = optimizerParams(net);
  const before = process.argv.includes('--before');
  const old = before ? buildConvNet({ role: 'dense', blueprint: bp, method: 'none', init: 'dense-fan-in', rng: createRng(1), forward: 'backend', filterGrad: 'conv', inputGrad: 'forward' }) : undefined;
  const oldOpt = before ? createOptimizer({ name: 'momentum', learningRate: 0.01, momentum: 0.9, decoupledDecay: 0 }) : undefined;
  const oldParams = old ? optimizerParams(old) : undefined;
  const xs = new Float32Array(B * 32 * 32 * 3);
  for (let i = 0; i < xs.length; i++) xs[i] = rng.normal();
  const labels = new Int32Array(B);
  for (let i = 0; i < B; i++) labels[i] = rng.int(C);
  const lab = tf.tensor1d(labels, 'int32');
  const batch: Batch = { x: tf.tensor2d(xs, [B, xs.length / B]), y: tf.cast(tf.oneHot(lab, C), 'float32') as tf.Tensor2D, labels: lab, n: B };
  const stepOf = (which: 'new' | 'old'): void => {
    if (which === 'new') trainStep(net, opt, params, batch, { coupledL2: 0, collectNorms: false, checkIntegrity: false });
    else if (old && oldOpt && oldParams) trainStep(old, oldOpt, oldParams, batch, { coupledL2: 0, collectNorms: false, checkIntegrity: false });
  };
  const timedStep = (which: 'new' | 'old'): Sample => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    stepOf(which);
    const wall = performance.now() - t0;
    const c1 = process.cpuUsage(c0);
    return { wall, cpu: (c1.user + c1.system) / 1000 };
  };
  const ours = (): Sample => timedStep('new');

  const ready = await torch.next();
  const ourParams = net.params.reduce((s, p) => s + p.variable.size, 0);
  if (ready.params !== ourParams) console.log(`WARNING: parameter counts differ (Gradflow ${ourParams}, PyTorch ${String(ready.params)}): not the same net`);
  for (let i = 0; i < warmup; i++) {
    ours();
    if (old) timedStep('old');
  }
  const g: Sample[] = [];
  const t: Sample[] = [];
  const before0: Sample[] = [];
  const load0 = os.loadavg()[0] ?? NaN;
  for (let i = 0; i < pairs; i++) {
    // Rotated order: new, PyTorch[, old]; then reversed.
    const seq: ('new' | 'torch' | 'old')[] = old ? ['new', 'torch', 'old'] : ['new', 'torch'];
    for (const which of i % 2 === 0 ? seq : [...seq].reverse()) {
      if (which === 'torch') t.push(await torch.step());
      else if (which === 'new') g.push(ours());
      else before0.push(timedStep('old'));
    }
    const a = g[g.length - 1];
    const b = t[t.length - 1];
    const c = old ? before0[before0.length - 1] : undefined;
    if (a && b)
      console.error(
        `pair ${i + 1}/${pairs}: Gradflow ${a.wall.toFixed(0)} ms wall, ${a.cpu.toFixed(0)} ms CPU; PyTorch ${b.wall.toFixed(0)} ms wall, ${b.cpu.toFixed(0)} ms CPU` +
          (c ? `; before ${c.wall.toFixed(0)} ms wall, ${c.cpu.toFixed(0)} ms CPU` : ''),
      );
  }
  const load1 = os.loadavg()[0] ?? NaN;
  const gw = median(g.map((s) => s.wall));
  const gc = median(g.map((s) => s.cpu));
  const tw = median(t.map((s) => s.wall));
  const tc = median(t.map((s) => s.cpu));
  const f = (x: number): string => x.toFixed(0).padStart(8);
  console.log(`WRN-${depth}-${widen} dense training step, batch ${B}, 32×32×3, SGD momentum; ${ourParams} parameters in both nets`);
  console.log(`Gradflow on ${backend} vs PyTorch ${String(ready.torch)} on ${String(ready.threads)} thread; ${pairs} alternated pairs after ${warmup} warm-up; load average ${load0.toFixed(2)} → ${load1.toFixed(2)} on ${os.cpus().length} cores`);
  console.log('                      median wall   median CPU');
  console.log(`Gradflow (${backend})     : ${f(gw)} ms ${f(gc)} ms`);
  console.log(`PyTorch (1 thread)  : ${f(tw)} ms ${f(tc)} ms`);
  console.log(`ratio Gradflow/PyTorch: ${(gw / tw).toFixed(2).padStart(7)} x  ${(gc / tc).toFixed(2).padStart(7)} x   (target <= 3)`);
  if (old) {
    const ow = median(before0.map((s) => s.wall));
    const oc = median(before0.map((s) => s.cpu));
    console.log(`before (XNNPACK convolutions, no Winograd): ${f(ow)} ms ${f(oc)} ms; ratio ${(ow / tw).toFixed(2)} x wall, ${(oc / tc).toFixed(2)} x CPU`);
  }
  if (process.argv.includes('--profile')) {
    for (const which of old ? (['new', 'old'] as const) : (['new'] as const)) {
      const info = await tf.profile(() => stepOf(which));
      const byName = new Map<string, { ms: number; calls: number }>();
      for (const k of info.kernels) {
        const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
        e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        e.calls++;
        byName.set(k.name, e);
      }
      const rows = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms);
      const total = rows.reduce((s, [, e]) => s + e.ms, 0);
      console.log(`per-kernel time, one profiled step (${which === 'new' ? 'current paths' : 'before'}): ${total.toFixed(0)} ms in kernels`);
      for (const [name, e] of rows.slice(0, 14)) console.log(`  ${name.padEnd(24)} ${e.ms.toFixed(0).padStart(6)} ms  ${String(e.calls).padStart(4)} calls`);
    }
  }
  old?.dispose();
  oldOpt?.dispose();
  net.dispose();
  opt.dispose();
  tf.dispose([batch.x, batch.y, batch.labels]);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
