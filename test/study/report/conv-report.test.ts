/**
 * The report on conv runs and on a sweep that mixes a CNN and an MLP: real runs made on the fly
 * (`gradflow sweep` through dist/, synthetic 8×8×1 images, 1 epoch, channels [4, 8], cpu backend).
 * The grid is `model.architecture: [mlp, cnn]` × `sparsity.density: [0.25, 0.5]` × 2 seeds: one
 * key, two meanings — the MLP's h_D/h_S (dense width 4 and 8 of 16), the CNN's ρ (twin channels
 * [1, 2] and [2, 4]). Expected: one group of tables per architecture, each named in its title; the
 * CNN's level is ρ; the width table's numbers equal the mean / sample standard deviation / min / max
 * computed here from the run folders' summary.json files, read without the report's loader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildTables, densityLevel, loadSweepResults, widthLevel, type Table } from '../../../src/study/report';
import { architectureLabel } from '../../../src/study/report/labels';
import { checkConfig } from '../../../src/study/report/load';
import { makeConfig } from './fixture';
import type { ExperimentConfig } from '../../../src/shared/experiment';
import { at } from '../../../src/shared/checked';
import { tempFolder } from '../../tmp';

const repoRoot = ((): string => {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'src'))) return d;
  }
  return process.cwd();
})();
const cli = path.join(repoRoot, 'dist', 'cli.js');

const YAML = (runsDir: string): string => `name: conv-study
dataset:
  name: synthetic
  synthetic: { shape: [8, 8, 1], classes: 3, train_size: 96, test_size: 48 }
model: { architecture: cnn, channels: [4, 8], hidden_layers: 1, width: 16, activation: relu }
sparsity: { method: random, density: 0.5 }
training: { optimizer: adam, learning_rate: 0.01, epochs: 1, batch_size: 32, seed: 0 }
monitoring: { every: 1 }
run: { backend: cpu, runs_dir: ${JSON.stringify(runsDir)} }
sweep:
  seeds: [0, 1]
  workers: 1
  grid:
    model.architecture: [mlp, cnn]
    sparsity.density: [0.25, 0.5]
`;

/** The sweep folder, trained once for the tests below. */
let sweepDir: string | undefined;
function sweep(): string {
  if (sweepDir !== undefined) return sweepDir;
  const dir = tempFolder('gradflow-conv-report-');
  const file = path.join(dir, 'conv-study.gradflow.yaml');
  fs.writeFileSync(file, YAML(path.join(dir, 'runs')));
  const r = spawnSync(process.execPath, [cli, 'sweep', file, '--workers', '1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  sweepDir = path.join(dir, 'runs', 'sweep-conv-study');
  assert.ok(fs.existsSync(path.join(sweepDir, 'sweep.json')), fs.readdirSync(path.join(dir, 'runs')).join(', '));
  return sweepDir;
}

interface RawRun {
  architecture: string;
  density: number;
  nets: Array<{ net: string; final: { test: { accuracy: number } }; flowAverage: { egf1: number; egf2: number }; layers: Array<{ name: string }> }>;
}

/** Every run folder of the sweep, read with JSON.parse only. */
function rawRuns(dir: string): RawRun[] {
  const out: RawRun[] = [];
  for (const name of fs.readdirSync(dir)) {
    const runDir = path.join(dir, name);
    if (!fs.existsSync(path.join(runDir, 'summary.json'))) continue;
    const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')) as { model: { architecture?: string }; sparsity: { density?: number; denseWidth?: number } };
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as { nets: RawRun['nets'] };
    const arch = config.model.architecture ?? 'mlp';
    // The MLP keeps only its dense width (16 × ρ); the CNN its ρ.
    const density = arch === 'mlp' ? (config.sparsity.denseWidth as number) / 16 : (config.sparsity.density as number);
    out.push({ architecture: arch, density, nets: summary.nets });
  }
  return out;
}

/** Mean, sample standard deviation (n − 1), min, max, written out for two or more values. */
function stats(xs: number[]): [number, number, number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - m) * (x - m), 0) / (xs.length - 1));
  return [m, sd, Math.min(...xs), Math.max(...xs)];
}

function table(tables: Table[], id: string): Table {
  const t = tables.find((x) => x.id === id);
  assert.ok(t, `no table ${id}; tables: ${tables.map((x) => x.id).join(', ')}`);
  return t;
}

test('architecture labels: cnn channels, WRN-d-k, MLP depth', () => {
  const model = (m: Partial<ExperimentConfig['model']>): ExperimentConfig['model'] => ({ hiddenLayers: 3, width: 308, activation: 'relu', batchNorm: false, skip: false, ...m });
  assert.equal(architectureLabel(model({ architecture: 'cnn', channels: [32, 64, 64, 128, 128] })), 'cnn 32-64-64-128-128');
  assert.equal(architectureLabel(model({ architecture: 'wrn', depth: 16, widenFactor: 4, block: 'basic' })), 'WRN-16-4');
  assert.equal(architectureLabel(model({ architecture: 'wrn', depth: 50, widenFactor: 2, block: 'bottleneck' })), 'WRN-50-2');
  assert.equal(architectureLabel(model({})), 'MLP with 3 hidden layers');
  assert.equal(architectureLabel(model({ hiddenLayers: 1 })), 'MLP with 1 hidden layer');
});

test('a config.json without the keys that name its architecture is refused, naming the run and the key', () => {
  const base = makeConfig();
  const withModel = (model: Record<string, unknown>, sparsity: Record<string, unknown> = {}): unknown => ({ ...base, model: { ...base.model, ...model }, sparsity: { ...base.sparsity, ...sparsity } });
  assert.doesNotThrow(() => checkConfig(withModel({ architecture: 'cnn', channels: [4, 8] }, { density: 0.5 }), 'r1'));
  assert.throws(() => checkConfig(withModel({ architecture: 'cnn' }), 'r1'), /^ReportError: run r1: config\.json has no list of channel counts model\.channels$/);
  assert.throws(() => checkConfig(withModel({ architecture: 'cnn', channels: [4, 0] }), 'r1'), /model\.channels \(found \[4,0\]\)$/);
  assert.throws(() => checkConfig(withModel({ architecture: 'wrn', depth: 16 }), 'r2'), /^ReportError: run r2: config\.json has no number model\.widenFactor$/);
  assert.throws(() => checkConfig(withModel({ architecture: 'resnet' }), 'r3'), /model\.architecture \(found "resnet"\)$/);
  assert.throws(() => checkConfig(withModel({ architecture: 'cnn', channels: [4] }, { density: 2 }), 'r4'), /sparsity\.density \(found 2\)$/);
  assert.throws(() => checkConfig(withModel({ hiddenLayers: undefined }), 'r5'), /model\.hiddenLayers$/);
});

test('a sweep of real CNN and MLP runs: levels, tables per architecture, width table values by hand', () => {
  const dir = sweep();
  const results = loadSweepResults(dir);
  assert.equal(results.rows.length, 8);
  assert.deepEqual(results.unfinished, []);
  // Levels: the CNN's ρ as given; the MLP's h_D/h_S from its dense width.
  for (const row of results.rows) {
    const rho = row.point['sparsity.density'] as number;
    assert.equal(densityLevel(row), rho, row.runId);
    if (row.config.model.architecture === 'cnn') {
      assert.equal(widthLevel(row), rho);
      assert.deepEqual(row.nets.sparse?.layers.map((l) => l.name), ['block1.conv', 'block2.conv', 'fc']);
    } else {
      assert.equal(row.config.sparsity.denseWidth, 16 * rho);
      assert.equal(widthLevel(row), 16 * rho);
    }
  }

  const { tables, plots } = buildTables(results);
  // Two architectures on one dataset: every table of the report is split, its id carries the architecture.
  for (const t of tables) assert.match(t.title, / — synthetic, (cnn 4-8|MLP with 1 hidden layer)$/, t.id);
  for (const p of plots) assert.match(p.title, / — synthetic, (cnn 4-8|MLP with 1 hidden layer)$/, p.id);
  table(tables, 'correlation-synthetic-cnn-4-8');
  table(tables, 'correlation-synthetic-mlp-with-1-hidden-layer');

  // Density-controlled table of the CNN: two density levels (before conv levels existed it had none).
  const dens = table(tables, 'correlation-density-synthetic-cnn-4-8');
  assert.ok(dens.notes.some((n) => n.startsWith('Density level = ρ (sparsity.density') && n.includes('each of the 2 density levels')), dens.notes.join('\n'));
  assert.ok(!dens.notes.some((n) => /without sparsity\.(density|dense_width) left out/.test(n)), dens.notes.join('\n'));

  // The CNN's width table: x = ρ, one row per net and ρ, statistics over the two seeds.
  const raw = rawRuns(dir);
  assert.equal(raw.length, 8);
  for (const [arch, id, levelKey, level] of [
    ['cnn', 'width-synthetic-cnn-4-8', 'density', (rho: number) => rho],
    ['mlp', 'width-synthetic-mlp-with-1-hidden-layer', 'width', (rho: number) => 16 * rho],
  ] as const) {
    const t = table(tables, id);
    assert.equal(t.title, `Test accuracy and average EGF against ${arch === 'cnn' ? 'density' : 'width'} — synthetic, ${arch === 'cnn' ? 'cnn 4-8' : 'MLP with 1 hidden layer'}`);
    const col = (key: string): number => {
      const i = t.columns.findIndex((c) => c.key === key);
      assert.ok(i >= 0, `${id}: no column ${key}`);
      return i;
    };
    assert.equal(t.rows.length, 4, JSON.stringify(t.rows));
    for (const net of ['sparse', 'dense']) {
      for (const rho of [0.25, 0.5]) {
        const row = t.rows.find((r) => r[col('net')] === net && r[col(levelKey)] === level(rho));
        assert.ok(row, `${id}: no row ${net} ${levelKey} ${level(rho)}`);
        const nets = raw.filter((r) => r.architecture === arch && r.density === rho).map((r) => r.nets.find((n) => n.net === net));
        assert.equal(nets.length, 2);
        assert.equal(row[col('n')], 2);
        for (const [metric, of] of [
          ['accuracy', (n: RawRun['nets'][number]) => n.final.test.accuracy],
          ['egf1', (n: RawRun['nets'][number]) => n.flowAverage.egf1],
          ['egf2', (n: RawRun['nets'][number]) => n.flowAverage.egf2],
        ] as const) {
          const want = stats(nets.map((n) => of(n as RawRun['nets'][number])));
          ['mean', 'std', 'min', 'max'].forEach((s, k) => {
            const got = row[col(`${metric}_${s}`)];
            const w = at(want, k);
            if (!Number.isFinite(w)) return assert.equal(got, 'n/a');
            assert.ok(typeof got === 'number' && Math.abs(got - w) <= 1e-12 * Math.max(1, Math.abs(w)), `${id} ${net} ${rho} ${metric}_${s}: ${String(got)} vs ${w}`);
          });
        }
      }
    }
  }
  const cnnPlot = plots.find((p) => p.id === 'width-synthetic-cnn-4-8-accuracy');
  assert.ok(cnnPlot, plots.map((p) => p.id).join(', '));
  assert.equal(cnnPlot.xLabel, 'density ρ (dense twin: channels × ρ)');
  assert.deepEqual(cnnPlot.series.map((s) => s.points.map((p) => p.x)), [[0.25, 0.5], [0.25, 0.5]]);
});
