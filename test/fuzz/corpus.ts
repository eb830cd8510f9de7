/**
 * The fuzz corpus: hostile and broken experiment files, generated from a seed (same seed, same
 * files). Three families:
 * - `issue`: every file-level case of issue 10, written out (sweep bombs, /proc, /dev/zero, a
 *   300-character sweep name, 10k/20k/100k keys, escape sequences, huge sizes, prototype-named
 *   keys, `!!set`, plus alias bombs, deep nesting, 1 MB files);
 * - `mutant`: the example files with random edits (lines deleted, duplicated, re-indented, cut;
 *   values and keys replaced from a pool of awkward tokens; control bytes inserted);
 * - `random`: small files assembled from random keys (known, near-miss and hostile) and values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as checked from '../../src/shared/checked';
import { at } from '../../src/shared/checked';

export interface FuzzFile {
  name: string;
  text: string;
}

/** mulberry32: a tiny seeded PRNG, independent of src/shared/rng. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ESC = '\u001b';

/** Values no experiment should contain, as YAML source text. */
const AWKWARD_VALUES = [
  '1e308', '-1e308', '1e9', '-1', '0', '-0', '.nan', '.inf', '-.inf', '0x7fffffff', '4294967296', '1.5', '2.5e-324',
  '~', 'null', '', '[]', '{}', '[1, 2', '{a: 1', '"unterminated', "'single", 'true', 'yes', 'no', 'on',
  '!!set {a, b}', '!!binary aGk=', '!!timestamp 2001-12-14', '!!omap [ {a: 1} ]', '!foo bar', '!!str 5', '!!int "7"',
  '*nowhere', '&anchor 1', `"${ESC}]0;pwned\\a${ESC}[2J"`, '"\\e[2J\\e[H"', '"\\u202eevil"', '"\\0\\b\\x7f"',
  '"日本語"', 'x'.repeat(300), `"${'y'.repeat(5000)}"`, '|\n    block\n    scalar', '>\n    folded', '- a\n  - b',
  '{__proto__: {polluted: 1}}', '[[[[[[[[[[1]]]]]]]]]]', '"/proc/runs"', '/dev/zero', '/etc/passwd', '../../../../etc',
  '"\\t\\r\\n"', '2001-01-01', '0o17', '+12', '1_000', '0b101', '"12"', '- 1', ': x', '? k', '#', '%YAML 1.2',
];

/** Keys: valid, near-miss, prototype-named, hostile. */
const AWKWARD_KEYS = [
  'name', 'dataset', 'model', 'training', 'sparsity', 'monitoring', 'run', 'sweep', 'epochs', 'width', 'learning_rate',
  'optimizer', 'seeds', 'grid', 'linked', 'max_runs', 'runs_dir', 'path', 'cache_dir', 'synthetic', 'classes',
  'train_size', 'features', 'hidden_layers', 'dense_width', 'density', 'batch_size', 'seed', 'every', 'workers',
  'epoch', 'widht', 'learningRate', 'Optimizer', 'bach_size', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
  'valueOf', 'prototype', '<<', '"quoted key"', `"${ESC}[2Jkey"`, '"\\u0000"', 'k'.repeat(200), '日本', '"a.b.c"',
  'training.optimizer', 'model.width', '? complex', '- item', '"${HOME}"',
];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return at(xs, Math.floor(rnd() * xs.length));
}

function int(rnd: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}

/** Every file-level case of issue 10 (and the classic YAML attacks), written out. */
export function issueCases(): FuzzFile[] {
  const out: FuzzFile[] = [];
  const add = (name: string, text: string): void => {
    out.push({ name: `issue/${name}`, text });
  };
  const axis = (key: string, n: number, f: (i: number) => number | string): string => `    ${key}: [${Array.from({ length: n }, (_, i) => f(i)).join(', ')}]`;
  // 1. Sweep bombs: eight axes of ten values (10⁸ runs in < 1 kB), 10⁵ points, seeds × axes.
  const eight = [
    axis('training.learning_rate', 10, (i) => (i + 1) / 1000),
    axis('training.batch_size', 10, (i) => 16 + i),
    axis('training.epochs', 10, (i) => i + 1),
    axis('training.weight_decay', 10, (i) => i / 1e4),
    axis('model.width', 10, (i) => 100 + i),
    axis('dataset.validation_fraction', 10, (i) => (i + 1) / 20),
    axis('monitoring.every', 10, (i) => i + 1),
    axis('monitoring.explosion.window', 10, (i) => i + 5),
  ];
  add('sweep-1e8', `dataset:\n  name: synthetic\nsweep:\n  seeds: [0]\n  grid:\n${eight.join('\n')}\n`);
  add('sweep-1e5', `sweep:\n  seeds: [0]\n  grid:\n${eight.slice(0, 5).join('\n')}\n`);
  add('sweep-1e9-seeds', `sweep:\n  seeds: [${Array.from({ length: 1000 }, (_, i) => i).join(', ')}]\n  grid:\n${eight.slice(0, 6).join('\n')}\n`);
  add('sweep-linked-huge', `sweep:\n  grid:\n${eight.slice(0, 4).join('\n')}\n  linked:\n${Array.from({ length: 200 }, (_, i) => `    - { training.optimizer: sgd, training.momentum: ${i / 1000} }`).join('\n')}\n`);
  add('sweep-1e3-combination-errors', `model:\n  width: 100\nsparsity:\n  method: random\n  dense_width: 10\nsweep:\n  grid:\n    sparsity.dense_width: [150, 200, 300]\n${axis('training.epochs', 400, (i) => i + 1)}\n`);
  // 2. Kernel file systems and odd folders.
  add('runs-dir-proc', 'run:\n  runs_dir: /proc/runs\n');
  add('runs-dir-sys', 'run:\n  runs_dir: /sys/kernel/runs\n');
  add('runs-dir-dev-null', 'run:\n  runs_dir: /dev/null\n');
  add('runs-dir-under-file', 'run:\n  runs_dir: /etc/passwd/runs\n');
  add('cache-dir-proc-self', 'dataset:\n  cache_dir: /proc/self/cwd/cache\n');
  // 3. Data paths at devices and secrets.
  add('dataset-dev-zero', 'dataset:\n  name: mnist\n  path: /dev/zero\n');
  add('dataset-etc-passwd', 'dataset:\n  name: fashion-mnist\n  path: /etc/passwd\n');
  add('dataset-proc', 'dataset:\n  name: cifar10\n  path: /proc/self\n');
  // 4. A 300-character sweep name (and other long names).
  add('name-300', `name: ${'a'.repeat(300)}\nsweep:\n  seeds: [0]\n`);
  add('name-300-unicode', `name: "${'ü'.repeat(300)}"\nsweep:\n  seeds: [0]\n`);
  add('name-100k', `name: ${'n'.repeat(100_000)}\n`);
  // 5. Many keys: 10k, 20k, 100k unknown keys; 10k duplicate keys; many top-level sections.
  for (const n of [10_000, 20_000, 100_000]) add(`keys-${n}`, `training:\n${Array.from({ length: n }, (_, i) => `  k${i}: 1`).join('\n')}\n`);
  add('keys-2900', `training:\n${Array.from({ length: 2900 }, (_, i) => `  k${i}: 1`).join('\n')}\n`);
  add('duplicates-2900', `training:\n${Array.from({ length: 2900 }, (_, i) => `  epochs: ${i + 1}`).join('\n')}\n`);
  add('top-keys-2900', `${Array.from({ length: 2900 }, (_, i) => `k${i}: 1`).join('\n')}\n`);
  add('seeds-2900-repeated', `sweep:\n  seeds: [${Array.from({ length: 2900 }, (_, i) => i % 7).join(', ')}]\n`);
  add('values-2900-bad', `sweep:\n  grid:\n    training.optimizer:\n${Array.from({ length: 2900 }, (_, i) => `      - opt${i}`).join('\n')}\n`);
  add('flow-keys-2900', `training: {${Array.from({ length: 2900 }, (_, i) => `k${i}: 1`).join(', ')}}\n`);
  // 6. Terminal escape sequences in names, keys and values.
  add('escapes-name', `name: "${ESC}]0;pwned\\a${ESC}[2J${ESC}[Hexp"\n`);
  add('escapes-value', 'training:\n  optimizer: "\\e[2J\\e[3J\\ec"\n');
  add('escapes-key', 'training:\n  "\\e]0;title\\a": 1\n');
  add('escapes-sweep-axis', 'sweep:\n  grid:\n    "\\e[2Jtraining.epochs": [1]\n');
  add('bidi', 'name: "\\u202eevil\\u202c"\ntraining:\n  optimizer: "ad\\u202eam"\n');
  // 7. Sizes that blow up at run time.
  for (const [k, v] of [['train_size', '1e9'], ['features', '1e9'], ['classes', '1e9'], ['test_size', '1e12'], ['features', '100000']] as const) {
    add(`synthetic-${k}-${v}`, `dataset:\n  name: synthetic\n  synthetic:\n    ${k}: ${v}\n`);
  }
  add('epochs-1e308', 'training:\n  epochs: 1e308\n');
  add('batch-1e9', 'training:\n  batch_size: 1e9\n');
  add('width-1e9', 'model:\n  width: 1000000000\n');
  add('width-30000', 'model:\n  width: 30000\n');
  add('layers-64-wide', 'model:\n  hidden_layers: 64\n  width: 10000\n');
  add('window-1e9', 'monitoring:\n  explosion:\n    window: 1000000000\n');
  add('limit-1e308', 'dataset:\n  train_limit: 1e308\n');
  add('workers-1e6', 'sweep:\n  workers: 1000000\n');
  add('max-runs-1e12', 'sweep:\n  max_runs: 1e12\n');
  // 8. Prototype-named keys and tags beyond the core schema.
  add('proto-keys', ['__proto__: 1', 'constructor: 2', 'toString: 3', 'hasOwnProperty: 4', 'training:', '  __proto__: {epochs: 1}', '  constructor: x', ''].join('\n'));
  add('proto-axis', 'sweep:\n  grid:\n    training.__proto__: [1]\n    constructor.prototype: [1]\n  linked:\n    - { __proto__: 1 }\n');
  add('tag-set', 'model: !!set {a, b}\n');
  add('tag-binary', 'name: !!binary aGVsbG8=\n');
  add('tag-custom', 'training: !custom\n  epochs: 1\n');
  add('tag-timestamp', 'name: !!timestamp 2001-12-14t21:59:43.10-05:00\n');
  // Classic YAML attacks.
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array.from({ length: 9 }, () => `*${String.fromCharCode(96 + i)}`).join(',')}]`);
  add('billion-laughs', `${laughs.join('\n')}\n`);
  add('alias-cycle', 'a: &x\n  b: *x\n');
  add('alias-undefined', 'training: *missing\n');
  add('flow-nesting-50000', `name: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`);
  add('flow-nesting-map', `name: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}\n`);
  add('block-nesting-500', Array.from({ length: 500 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + '\n');
  add('seq-nesting', `name: ${'- '.repeat(3000)}x\n`);
  add('one-megabyte-string', `name: "${'x'.repeat(1024 * 1024 - 16)}"\n`);
  add('one-megabyte-comments', Array.from({ length: 16_000 }, (_, i) => `# ${i} ${'c'.repeat(60)}`).join('\n') + '\n');
  add('one-megabyte-keys', `training:\n${Array.from({ length: 80_000 }, (_, i) => `  key${i}: ${i}`).join('\n')}\n`);
  add('long-line-key', `training:\n  ${'k'.repeat(2000)}: 1\n`);
  add('explicit-long-key', `training:\n  ? ${'k'.repeat(100_000)}\n  : 1\n`);
  add('many-documents', '---\na: 1\n---\nb: 2\n---\nc: 3\n');
  add('bom-crlf', '\ufeffname: exp\r\ntraining:\r\n  epochs: 2\r\n');
  add('nul-bytes', 'name: exp\u0000\ntraining:\n  epochs: 1\u0000\n');
  add('tabs', 'training:\n\tepochs: 1\n');
  add('empty', '');
  add('only-spaces', '   \n\n   \n');
  add('scalar-doc', '42\n');
  add('list-doc', '- a\n- b\n');
  add('lone-surrogate', 'name: "\\ud800"\n');
  add('directive', '%YAML 1.1\n%TAG ! tag:evil.com,2000:\n---\nname: !x y\n');
  add('merge-key', 'base: &b\n  epochs: 1\ntraining:\n  <<: *b\n');
  return out;
}

/** The example files of the repository: the seeds of the mutants. */
export function exampleTexts(root: string): string[] {
  const dir = path.join(root, 'examples');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.gradflow.yaml'))
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
}

/** One random edit of a file's text. */
function mutate(rnd: () => number, text: string): string {
  const lines = text.split('\n');
  const i = int(rnd, 0, Math.max(0, lines.length - 1));
  switch (int(rnd, 0, 11)) {
    case 0: // delete a line
      lines.splice(i, 1);
      break;
    case 1: // duplicate a line (duplicate keys)
      lines.splice(i, 0, checked.at(lines, i));
      break;
    case 2: // re-indent a line
      lines[i] = ' '.repeat(int(rnd, 0, 7)) + checked.at(lines, i).trimStart();
      break;
    case 3: {
      // replace a value
      const colon = checked.at(lines, i).indexOf(':');
      if (colon >= 0) lines[i] = `${checked.at(lines, i).slice(0, colon + 1)} ${pick(rnd, AWKWARD_VALUES)}`;
      else lines[i] = `${lines[i]} ${pick(rnd, AWKWARD_VALUES)}`;
      break;
    }
    case 4: {
      // replace a key
      const m = /^(\s*)([^:#]+):(.*)$/.exec(checked.at(lines, i));
      if (m) lines[i] = `${m[1]}${pick(rnd, AWKWARD_KEYS)}:${m[3]}`;
      break;
    }
    case 5: // insert a key with a value
      lines.splice(i, 0, `${' '.repeat(2 * int(rnd, 0, 3))}${pick(rnd, AWKWARD_KEYS)}: ${pick(rnd, AWKWARD_VALUES)}`);
      break;
    case 6: // cut the file
      return text.slice(0, int(rnd, 0, text.length));
    case 7: {
      // insert a control or odd character
      const at = int(rnd, 0, text.length);
      const odd = pick(rnd, ['\u0000', '\t', '\r', ESC, '\u0007', '\u0085', '\u2028', '\ufeff', '\u202e', '\ud800', '"', "'", '[', '{', '&', '*', '!', '|', '>', '%', '@', '`']);
      return text.slice(0, at) + odd + text.slice(at);
    }
    case 8: {
      // swap two lines
      const j = int(rnd, 0, Math.max(0, lines.length - 1));
      [lines[i], lines[j]] = [at(lines, j), at(lines, i)];
      break;
    }
    case 9: // turn a block into flow style badly
      lines[i] = checked.at(lines, i).replace(':', ': {');
      break;
    case 10: // add a sweep section with random axes
      lines.push('sweep:', `  seeds: [${Array.from({ length: int(rnd, 0, 4) }, () => int(rnd, -2, 5)).join(', ')}]`, '  grid:', `    ${pick(rnd, ['training.optimizer', 'model.width', 'sparsity.density', 'training.seed', 'name', pick(rnd, AWKWARD_KEYS)])}: [${Array.from({ length: int(rnd, 0, 5) }, () => pick(rnd, AWKWARD_VALUES.slice(0, 30))).join(', ')}]`);
      break;
    default: // repeat a line many times
      lines.splice(i, 0, ...Array.from({ length: int(rnd, 2, 400) }, () => checked.at(lines, i)));
      break;
  }
  return lines.join('\n');
}

/** Mutants of the examples: each applies 1 to 6 random edits. */
export function mutants(seed: number, count: number, examples: readonly string[]): FuzzFile[] {
  const rnd = prng(seed);
  return Array.from({ length: count }, (_, k) => {
    let text = pick(rnd, examples);
    const edits = int(rnd, 1, 6);
    for (let e = 0; e < edits; e++) text = mutate(rnd, text);
    return { name: `mutant/${seed}/${k}`, text };
  });
}

/** Small files assembled from random sections, keys and values. */
export function randoms(seed: number, count: number): FuzzFile[] {
  const rnd = prng(seed);
  return Array.from({ length: count }, (_, k) => {
    const lines: string[] = [];
    const sections = int(rnd, 1, 5);
    for (let s = 0; s < sections; s++) {
      lines.push(`${pick(rnd, AWKWARD_KEYS)}:${rnd() < 0.2 ? ` ${pick(rnd, AWKWARD_VALUES)}` : ''}`);
      const keys = int(rnd, 0, 6);
      for (let j = 0; j < keys; j++) lines.push(`${' '.repeat(rnd() < 0.9 ? 2 : int(rnd, 0, 6))}${pick(rnd, AWKWARD_KEYS)}: ${pick(rnd, AWKWARD_VALUES)}`);
    }
    return { name: `random/${seed}/${k}`, text: `${lines.join('\n')}\n` };
  });
}

/** The whole corpus for a seed: the issue's cases, `mutantCount` mutants and `randomCount` random files. */
export function corpus(root: string, seed: number, mutantCount = 700, randomCount = 300): FuzzFile[] {
  return [...issueCases(), ...mutants(seed, mutantCount, exampleTexts(root)), ...randoms(seed + 1, randomCount)];
}
