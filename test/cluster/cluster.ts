/**
 * The real one-node Slurm cluster of the tests (scripts/setup-slurm.sh), shared by the cluster
 * suite (test/cluster/slurm.test.ts) and the end-to-end test of the extension's sweep view
 * (test/e2e/gradflow-slurm.test.ts). Not a test file: loading it does nothing.
 *
 * Policy: without Slurm (or root to start it) the tests skip with the reason;
 * `GRADFLOW_CLUSTER=required` (set by .ci/run) makes that a failure.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliPath, repoRoot } from '../trainer/helpers';

export const setupSlurm = path.join(repoRoot, 'scripts', 'setup-slurm.sh');

export function clusterRequired(): boolean {
  return process.env.GRADFLOW_CLUSTER === 'required';
}

/** Why the cluster tests cannot run here, or undefined when they can. */
export function clusterUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the test cluster needs Linux';
  if (spawnSync('sh', ['-c', 'command -v slurmctld && command -v munged'], { encoding: 'utf8' }).status !== 0)
    return 'slurm-wlm and munge are not installed (scripts/setup-slurm.sh installs them)';
  if (process.getuid?.() !== 0) return 'starting the test cluster needs root';
  if (!fs.existsSync(cliPath)) return 'dist/cli.js is missing (npm run build)';
  return undefined;
}

/**
 * node:test `skip` value for a suite that needs the cluster: the reason when it cannot run, false
 * when it can. Throws when it cannot run but GRADFLOW_CLUSTER=required.
 */
export function clusterSkip(): string | false {
  const reason = clusterUnavailable();
  if (reason !== undefined && clusterRequired()) throw new Error(`GRADFLOW_CLUSTER=required but the cluster tests cannot run: ${reason}`);
  return reason !== undefined ? `no Slurm cluster: ${reason}` : false;
}

/**
 * Start the cluster (idempotent). Returns a function that stops it again only if it was started
 * here: a cluster someone else started (CI, another test file) is left running.
 */
export function startCluster(): () => void {
  const alreadyUp = spawnSync(setupSlurm, ['status']).status === 0;
  const r = spawnSync(setupSlurm, ['start'], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`scripts/setup-slurm.sh start failed:\n${r.stderr}`);
  return () => {
    if (!alreadyUp) spawnSync(setupSlurm, ['stop'], { timeout: 120_000 });
  };
}

/**
 * A sweep of tiny synthetic SC-SDC pairs (6 features, width 8 vs dense width 4, adam), one
 * configuration per seed: what the cluster tests submit. `runsDir` absent: the project's default
 * (`.gradflow/runs`); `extra` is YAML appended under `sweep:` (e.g. a `grid`).
 */
export function tinySweepYaml(name: string, seeds: number, opts: { epochs?: number; trainSize?: number; runsDir?: string; extra?: string } = {}): string {
  return `name: ${name}
dataset:
  name: synthetic
  synthetic: { features: 6, classes: 2, train_size: ${opts.trainSize ?? 64}, test_size: 16 }
model: { hidden_layers: 1, width: 8 }
sparsity: { method: random, dense_width: 4 }
training: { optimizer: adam, learning_rate: 0.01, epochs: ${opts.epochs ?? 1}, batch_size: 32 }
run: { backend: cpu${opts.runsDir !== undefined ? `, runs_dir: ${opts.runsDir}` : ''} }
sweep:
  seeds: [${Array.from({ length: seeds }, (_, i) => i).join(', ')}]
${opts.extra ?? ''}`;
}
