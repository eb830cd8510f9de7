/**
 * Issue 18, row 9: resource limits that follow from the config are checked against a memory bound
 * before training, with an error naming the keys and the estimate; `run.max_memory_mb` raises it.
 * Expected byte counts are worked out by hand below (float32 = 4 bytes), not taken from the code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseExperiment, expandSweep, configId } from '../../src/config';
import { memoryEstimate } from '../../src/config/resources';
import { DEFAULT_MAX_MEMORY_MB } from '../../src/config/limits';
import { CliUsageError, loadForCli } from '../../src/cli/load';
import { FILE, issueFor, repoRoot } from './helpers';
import { at } from '../../src/shared/checked';

const BASE = `name: mem
dataset:
  name: synthetic
  synthetic: { features: 32, classes: 4, train_size: 2048, test_size: 512 }
model: { hidden_layers: 2, width: 128 }
sparsity: { method: random, dense_width: 32 }
training: { optimizer: adam, batch_size: 64 }
run: { backend: cpu }
`;

test('the estimate of a small SC-SDC pair, term by term, by hand', () => {
  const r = parseExperiment(BASE, FILE);
  assert.ok(r.config, r.issues.map((i) => i.message).join('\n'));
  const e = memoryEstimate(r.config);
  // Sparse net 32-128-128-4: weights 32·128 + 128·128 + 128·4 = 4096 + 16384 + 512 = 20992, biases 128 + 128 + 4 = 260
  // → 21252 parameters × (weights, gradient, 2 Adam slots, mask, raw gradient = 6) × 4 bytes.
  assert.equal(at(e.terms, 0).bytes, 21252 * 6 * 4);
  // Activations: 64 × (32 + 2·128 + 4 = 292) × 4 copies × 4 bytes.
  assert.equal(at(e.terms, 1).bytes, 64 * 292 * 16);
  // Dense twin 32-32-32-4: 1024 + 1024 + 128 = 2176 weights + 68 biases = 2244 × 4 copies × 4 bytes.
  assert.equal(at(e.terms, 2).bytes, 2244 * 4 * 4);
  assert.equal(at(e.terms, 3).bytes, 64 * (32 + 64 + 4) * 16);
  // Data: 2560 examples × 32 features × (4 raw + 4 prepared) bytes.
  assert.equal(at(e.terms, 4).bytes, 2560 * 32 * 8);
  assert.equal(e.limitMb, DEFAULT_MAX_MEMORY_MB);
});

/** Examples meant for a bigger machine (a WRN-16-4 pair on all of CIFAR-10 at batch 128): under the default bound, not under 1 GiB. */
const BIG_MACHINE_EXAMPLES = new Set(['cifar10-wrn.gradflow.yaml']);

test('every example (and every point of its sweep) is well under the default bound', () => {
  const dir = path.join(repoRoot(), 'examples');
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.gradflow.yaml'))) {
    const r = parseExperiment(fs.readFileSync(path.join(dir, f), 'utf8'), path.join(dir, f));
    assert.ok(r.config, f);
    const configs = r.sweep ? expandSweep(r.config, r.sweep).map((p) => p.config) : [r.config];
    const bound = BIG_MACHINE_EXAMPLES.has(f) ? 4096 : 1024;
    for (const c of configs) assert.ok(memoryEstimate(c).bytes < bound * 2 ** 20, `${f}: ${memoryEstimate(c).bytes}`);
  }
});

test('a run estimated above the bound is an error naming the keys and the estimate; run.max_memory_mb lifts it', () => {
  // features 200,000 × width 128: 200,000·128 + 128·128 + 128·4 + 260 biases = 25,617,156 parameters × 6 copies × 4 B ≈ 586 MiB for the sparse
  // net; data 320 × 200,000 × 8 B ≈ 488 MiB; both below their own limits, together above a 1 GiB bound.
  const big = BASE.replace('features: 32, classes: 4, train_size: 2048, test_size: 512', 'features: 200000, classes: 4, train_size: 256, test_size: 64').replace('run: { backend: cpu }', 'run: { backend: cpu, max_memory_mb: 1024 }');
  const issues = parseExperiment(big, FILE).issues.filter((i) => i.severity === 'error');
  assert.equal(issues.length, 1, issues.map((i) => i.message).join('\n'));
  const issue = issueFor(issues, 'dataset.synthetic.features');
  assert.equal(issue.line, 4);
  assert.match(issue.message, /^estimated peak memory 1,7\d\d MB, more than the bound of 1,024 MB \(run\.max_memory_mb\): sparse net: 25,617,156 parameters .* × 6 copies .*; data: 320 examples × 200,000 features × 8 bytes .*\. Lower dataset\.synthetic\.features, model\.width, .*or raise run\.max_memory_mb/);
  // Raised: accepted, and the run id is that of the same file without the key.
  const raised = parseExperiment(big.replace('max_memory_mb: 1024', 'max_memory_mb: 8192'), FILE);
  assert.ok(raised.config, raised.issues.map((i) => i.message).join('\n'));
  const without = parseExperiment(big.replace(', max_memory_mb: 1024', ''), FILE);
  assert.ok(without.config);
  assert.equal(configId(raised.config), configId(without.config));
});

test('the batch is blamed when activations dominate', () => {
  const text = BASE.replace('batch_size: 64', 'batch_size: 65536').replace('width: 128', 'width: 4096').replace('dense_width: 32', 'dense_width: 1024');
  const issues = parseExperiment(text, FILE).issues.filter((i) => i.severity === 'error');
  const issue = issueFor(issues, 'training.batch_size');
  assert.match(issue.message, /sparse net activations: batch 65,536 × /);
});

test('--set dataset.synthetic.features=1000000 is refused before training, naming the --set argument', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-mem-'));
  const file = path.join(dir, 'x.gradflow.yaml');
  fs.writeFileSync(file, BASE);
  assert.throws(
    () => loadForCli(file, ['dataset.synthetic.features=1000000', 'dataset.synthetic.train_size=64', 'dataset.synthetic.test_size=16']),
    (e: Error) => e instanceof CliUsageError && /^--set dataset\.synthetic\.features=1000000: dataset\.synthetic\.features: estimated peak memory [\d,]+ MB, more than the bound of 4,096 MB/.test(e.message),
  );
  fs.rmSync(dir, { recursive: true, force: true });
});
