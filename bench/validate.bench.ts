/**
 * Validation time of hostile experiment files (issue 10). Run:
 *   npx tsc -p tsconfig.test.json && node out/bench/validate.bench.js
 * Prints CPU time (user + system of this process; the median of 7 warm runs) so a loaded machine
 * inflates it less than wall time.
 * 1. `parseExperiment` (what the language server runs on every edit) on the worst files of at
 *    most 1 MB: the limits (256 KiB, 3,000 entries) bound every shape.
 * 2. The unknown-key and duplicate-key checks alone at 10k / 20k / 100k keys (past the entry limit,
 *    called directly), against the `yaml` package's own duplicate check (`uniqueKeys: true`, which
 *    compares every key with every earlier one): linear vs quadratic.
 */
import { LineCounter, parseDocument } from 'yaml';
import { parseExperiment } from '../src/config/parse';
import { GRADFLOW_SCHEMA } from '../src/config/schema';
import { validateValue } from '../src/config/validate';
import { structureProblems } from '../src/config/yaml-guards';
import type { ConfigIssue, Range } from '../src/config/types';
import { at } from '../src/shared/checked';

function cpuMs(f: () => void, runs = 7): number {
  f(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    times.push((c.user + c.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return at(times, Math.floor(runs / 2));
}

const MB = 1024 * 1024;
const lines = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join('\n');
const axis = (key: string, f: (i: number) => number): string => `    ${key}: [${Array.from({ length: 10 }, (_, i) => f(i)).join(', ')}]`;

const files: Array<[string, string]> = [
  [
    'the issue’s sweep: 8 axes × 10 values (10⁸ runs)',
    `sweep:\n  seeds: [0]\n  grid:\n${[
      axis('training.learning_rate', (i) => (i + 1) / 1000),
      axis('training.batch_size', (i) => 16 + i),
      axis('training.epochs', (i) => 1 + i),
      axis('training.weight_decay', (i) => i / 1e4),
      axis('model.width', (i) => 100 + i),
      axis('dataset.validation_fraction', (i) => (i + 1) / 20),
      axis('monitoring.every', (i) => 1 + i),
      axis('monitoring.explosion.window', (i) => 5 + i),
    ].join('\n')}\n`,
  ],
  ['2,900 unknown keys', `training:\n${lines(2900, (i) => `  k${i}: ${i}`)}\n`],
  ['2,900 duplicate keys', `training:\n${lines(2900, (i) => `  epochs: ${i + 1}`)}\n`],
  ['2,900 bad sweep values', `sweep:\n  grid:\n    training.optimizer:\n${lines(2900, (i) => `      - opt${i}`)}\n`],
  ['2,900 seeds in a flow list', `sweep:\n  seeds: [${Array.from({ length: 2900 }, (_, i) => i).join(', ')}]\n`],
  ['60 linked items (sweep, combinations checked)', `sweep:\n  seeds: [0]\n  linked:\n${lines(60, (i) => `    - { training.optimizer: sgd, training.learning_rate: ${(i + 1) / 1e4} }`)}\n`],
  ['1,400 linked items (sweep, values only)', `sweep:\n  seeds: [0]\n  linked:\n${lines(1400, (i) => `    - { training.optimizer: sgd, training.learning_rate: ${(i + 1) / 1e4} }`)}\n`],
  ['255 kB string value', `name: "${'x'.repeat(255 * 1024)}"\n`],
  ['1 MB string value (over the size limit)', `name: "${'x'.repeat(MB - 16)}"\n`],
  ['1 MB of keys (over the limits)', `training:\n${lines(80_000, (i) => `  key${i}: ${i}`)}\n`],
  ['50,000 nested [ (over the depth limit)', `name: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`],
];

console.log('parseExperiment, CPU ms (median of 7 warm runs):');
for (const [name, text] of files) {
  const ms = cpuMs(() => parseExperiment(text, '/tmp/bench/exp.gradflow.yaml'));
  console.log(`  ${ms.toFixed(1).padStart(7)}  ${name} (${(text.length / 1024).toFixed(1)} kB)`);
}

const NOWHERE: Range = { line: 1, column: 1, endLine: 1, endColumn: 1, offset: 0, endOffset: 0 };
console.log('\nthe checks alone, CPU ms (median of 3):');
console.log('     keys  unknown-key check  duplicate check (ours)  yaml uniqueKeys:true parse  yaml uniqueKeys:false parse');
for (const n of [10_000, 20_000, 100_000]) {
  const raw = { training: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 1])) };
  const unknown = cpuMs(() => {
    const issues: ConfigIssue[] = [];
    validateValue(raw, GRADFLOW_SCHEMA, '', { file: 'f', issues, locate: { key: () => NOWHERE, value: () => NOWHERE }, root: GRADFLOW_SCHEMA });
  }, 3);
  const dupText = `training:\n${lines(n, () => '  epochs: 1')}\n`;
  const lc = new LineCounter();
  const doc = parseDocument(dupText, { uniqueKeys: false, lineCounter: lc });
  const dup = cpuMs(() => structureProblems(doc, lc), 3);
  const free = cpuMs(() => parseDocument(dupText, { uniqueKeys: false }), 1);
  const quadratic = n <= 20_000 ? cpuMs(() => parseDocument(dupText, { uniqueKeys: true }), 1) : NaN;
  const q = Number.isNaN(quadratic) ? '(skipped: minutes)' : quadratic.toFixed(0);
  console.log(`  ${String(n).padStart(7)}  ${unknown.toFixed(1).padStart(17)}  ${dup.toFixed(1).padStart(22)}  ${q.padStart(26)}  ${free.toFixed(0).padStart(27)}`);
}
