/** Shared set-up for tests that drive the real trainer process (dist/trainer.js, built by `pretest`). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseExperiment } from '../../src/config';
import type { ExperimentConfig } from '../../src/shared/experiment';
import { startTrainer, type TrainerExit } from '../../src/runs/trainer-client';
import { tempFolder } from '../tmp';
import type { TrainerToHost } from '../../src/shared/protocol';

/** The repository root, from either the sources (test/trainer) or the compiled tests (out/test/trainer). */
export const repoRoot = ((): string => {
  // Bundled one-off runs (scripts/run-ts.sh) live in /tmp: fall back to the working directory.
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'src'))) return d;
  }
  return process.cwd();
})();

export const trainerPath = path.join(repoRoot, 'dist', 'trainer.js');
export const cliPath = path.join(repoRoot, 'dist', 'cli.js');

/** A fresh folder `gradflow-<prefix>-XXXXXX` in the system temp dir, removed when the test process exits (../tmp.ts). */
export function tmpDir(prefix: string): string {
  return tempFolder(`gradflow-${prefix}-`);
}

/** A small synthetic SC-SDC pair on the CPU backend; `extra` is YAML appended to override sections. */
export function syntheticYaml(opts: { epochs?: number; trainSize?: number; lr?: number; optimizer?: string; runsDir: string; onNan?: string }): string {
  return `name: proc-test
dataset:
  name: synthetic
  synthetic: { features: 16, classes: 3, train_size: ${opts.trainSize ?? 512}, test_size: 128 }
model: { hidden_layers: 2, width: 64, activation: relu }
sparsity: { method: random, dense_width: 16 }
training: { optimizer: ${opts.optimizer ?? 'adam'}, learning_rate: ${opts.lr ?? 0.01}, epochs: ${opts.epochs ?? 2}, batch_size: 32, seed: 3 }
monitoring: { every: 1, on_nan: ${opts.onNan ?? 'stop'} }
run: { backend: cpu, runs_dir: ${JSON.stringify(opts.runsDir)} }
`;
}

export function configOf(yaml: string, file = '/virtual/test.gradflow.yaml'): ExperimentConfig {
  const r = parseExperiment(yaml, file);
  if (!r.config) throw new Error(r.issues.map((i) => `${i.line}:${i.column} ${i.key}: ${i.message}`).join('\n'));
  return r.config;
}

export interface Collected {
  messages: TrainerToHost[];
  exit: TrainerExit;
}

/** Run the trainer to its end; `onMessage` may stop or kill it. */
export async function runTrainer(
  config: ExperimentConfig,
  onMessage?: (m: TrainerToHost, h: { stop(): void; kill(): void }) => void,
): Promise<Collected> {
  const h = startTrainer({ trainerPath, config });
  const messages: TrainerToHost[] = [];
  h.onMessage((m) => {
    messages.push(m);
    onMessage?.(m, h);
  });
  const exit = await h.exited;
  return { messages, exit };
}
