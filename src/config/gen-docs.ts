/**
 * Generates docs/experiment-file.md from gradflow.schema.json, so the reference cannot drift from
 * what the validator accepts (test/config/docs.test.ts fails when the committed file is stale).
 * Regenerate: scripts/run-ts.sh src/config/gen-docs.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GRADFLOW_SCHEMA, type SchemaNode } from './schema';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function typeOf(node: SchemaNode): string {
  if (node.oneOf && node.type === undefined) return node.oneOf.map(typeOf).join(' or ');
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' | ');
  const type = Array.isArray(node.type) ? node.type.join(' or ') : (node.type ?? 'any');
  const bounds: string[] = [];
  if (node.minimum !== undefined) bounds.push(`≥ ${node.minimum}`);
  if (node.exclusiveMinimum !== undefined) bounds.push(`> ${node.exclusiveMinimum}`);
  if (node.maximum !== undefined) bounds.push(`≤ ${node.maximum}`);
  if (node.exclusiveMaximum !== undefined) bounds.push(`< ${node.exclusiveMaximum}`);
  if (type === 'array' && node.items) {
    const { minItems, maxItems } = node;
    const count = minItems !== undefined && minItems === maxItems ? `, ${minItems} items` : `${minItems ? `, ≥ ${minItems} item(s)` : ''}${maxItems !== undefined ? `, ≤ ${maxItems} items` : ''}`;
    return `list of ${typeOf(node.items)}${count}`;
  }
  if (type === 'object' && !node.properties) return 'mapping';
  return bounds.length > 0 ? `${type} ${bounds.join(', ')}` : type;
}

function defaultOf(node: SchemaNode): string {
  if (node.default === undefined) return '—';
  return `\`${typeof node.default === 'string' ? node.default : JSON.stringify(node.default)}\``;
}

function renderSection(key: string, node: SchemaNode, level: number, out: string[]): void {
  out.push(`${'#'.repeat(level)} \`${key}\``, '', node.description ?? '', '');
  const props = Object.entries(node.properties ?? {});
  const leaves = props.filter(([, child]) => !child.properties);
  if (leaves.length > 0) {
    out.push('| key | type | default | description |', '|---|---|---|---|');
    for (const [name, child] of leaves) {
      out.push(`| \`${key}.${name}\` | ${cell(typeOf(child))} | ${cell(defaultOf(child))} | ${cell(child.description ?? '')} |`);
    }
    out.push('');
  }
  for (const [name, child] of props) if (child.properties) renderSection(`${key}.${name}`, child, level + 1, out);
}

const INTRO = `# The experiment file (\`*.gradflow.yaml\`)

<!-- Generated from src/config/gradflow.schema.json by src/config/gen-docs.ts; do not edit by hand.
     Regenerate: scripts/run-ts.sh src/config/gen-docs.ts -->

An experiment file is YAML (1.2) describing one experiment: the data, the network or SC-SDC
sparse/dense pair, how it is trained, what the gradient-flow monitor alerts on and, optionally, a
sweep. Keys are \`snake_case\`; every key is optional and takes the default listed below. Defaults
marked **ours** are Gradflow's choices where the paper is silent (see \`method.md\`).

The JSON Schema \`src/config/gradflow.schema.json\` is the single source of this reference, of the
validator, and of hover text and completion in the editor. Examples: \`examples/\`.

## Errors

Problems are reported with their position, like a compiler:

\`\`\`
fmnist.gradflow.yaml:11:14: error: training.optimizer: unknown optimizer 'adm': expected one of sgd, momentum, adam, adamw, rmsprop, adagrad; did you mean 'adam'?
\`\`\`

Unknown keys and unknown values are errors (with a "did you mean" when one is close); so are wrong
types and out-of-range numbers. Settings that have no effect (e.g. \`training.momentum\` with
\`optimizer: adam\`) are warnings, and so are settings that run but likely not as meant (\`method: gmp\`
with the default \`init: dense-fan-in\`; in VS Code its quick fix writes \`init: sparse-fan-in\`). A file
with any error is not run.

### \`--set\` overrides (CLI)

\`gradflow run|sweep FILE --set KEY=VALUE\` (repeatable) changes one key of the file before it is
checked: \`KEY\` is a dotted key path (\`training.epochs\`, \`dataset.synthetic.features\`) and
\`VALUE\` is read as one YAML value (\`1e-3\`, \`true\`, \`adam\`, \`[0, 1]\`; quote it to keep a
text: \`name='"5"'\`). The file is checked as written first (positions point at its lines), then with
the overrides. Errors name the argument, the key and what the key expects, e.g.

\`\`\`
--set training.epochs=*a: the value '*a' is a YAML alias (*name), which refers to an anchor a --set value cannot have; to pass the text itself, quote it: training.epochs='"*a"'; training.epochs expects an integer of at least 1 and at most 1000000
--set training.epochs.x=1: training.epochs holds a value, not keys, so 'training.epochs.x' is not a key; training.epochs expects an integer of at least 1 and at most 1000000 (--set training.epochs=VALUE)
\`\`\`

A value YAML cannot read, an alias, a tag (\`!!str 3\`), a key below a key that holds a value, or a
key below something the file sets to a value (\`training: 3\`) is refused this way (exit code 2);
a value of the wrong type or range is refused by the same checks as the file's own values, with
the \`--set\` argument named.

## Limits

A file is checked before anything runs, and nothing in it can make the checker or the trainer hang
or run out of memory; each limit is an error on the key at fault.

- **Sweep size**: the runs of a sweep (points × seeds) are counted before any is built; more than
  \`sweep.max_runs\` (default 100,000, at most 1,000,000; set it in the \`sweep:\` section) is an
  error on the \`sweep:\` line naming the count. The editor never builds a sweep's runs: it checks
  every value on its own, and tries the combinations (e.g. a swept \`dense_width\` against a swept
  \`width\`) only for sweeps of at most 64 points; larger sweeps get that check when they are run,
  before the first run starts.
- **Sizes**: every size has a maximum (see the reference below: \`width\` 100,000, \`classes\` 256,
  \`train_size\` 10,000,000, \`epochs\` 1,000,000, \`batch_size\` 65,536, …). Across keys: one net may
  have at most 2²⁸ weights (1 GiB of float32; blamed on \`model.width\`), and synthetic data at most
  2²⁸ values ((train_size + test_size) × features).
- **Memory**: before a run trains (and in the editor, as a diagnostic), its peak memory is
  estimated from the config and checked against a bound: 4,096 MB, or \`run.max_memory_mb\` for a
  machine with more (it does not change the run id). The estimate adds, for the sparse net (counted
  at full width, an upper bound) and the dense twin: parameters (inputs × width, width × width per
  hidden layer, width × classes, biases, BatchNorm) × copies (weights, gradient, the optimizer's
  slots — Adam/AdamW/RMSprop 2, momentum/Adagrad 1, SGD 0 — and for the masked net its mask and raw
  gradient), and activations (batch × (inputs + widths + classes) × 4); the data (examples ×
  features × raw bytes + 4 prepared bytes); 200 MB for Node and TensorFlow.js. Above the bound, the
  error sits on the key of the largest term and lists the terms and the keys to lower, e.g.
  \`--set dataset.synthetic.features=1000000\` on the quick example gives "estimated peak memory
  …, more than the bound of 4,096 MB (run.max_memory_mb): sparse net: … parameters (1,000,000
  inputs × width 128, …) × 6 copies … Lower dataset.synthetic.features, model.width, … or raise
  run.max_memory_mb".
- **YAML**: collections nest at most 64 levels; duplicate keys, aliases expanding to more than 100
  nodes, and tags beyond the YAML 1.2 core schema (\`!!set\`, \`!!binary\`, \`!!timestamp\`, \`!foo\`) are
  errors; keys named like JavaScript built-ins (\`__proto__\`, \`constructor\`) are unknown keys.
- **YAML tags**: a value is read by its plain YAML type, so the core tags (\`!!str\`, \`!!int\`,
  \`!!float\`, \`!!bool\`, \`!!null\`, \`!!map\`, \`!!seq\`) are accepted only where they say what the
  value already is (\`!!int 3\`, \`!!str adam\`, \`!!float 0.01\`). A tag that does not fit its value
  (\`!!float 3\`: the core schema's float needs a decimal point or an exponent, so YAML would leave
  the text "3"; \`!!bool yes\`) or that changes its type (\`!!str 5\`, \`!!int "3"\`) is an error on
  its key, e.g. \`exp.gradflow.yaml:1:15: error: name: YAML: tag '!!float' does not fit '3': …\`.
  Write the value plainly: \`name: "5"\` for a text, \`epochs: 3\` for a number. A file therefore
  means the same with or without redundant tags, in Gradflow and in any other YAML reader.
- **Folders** (\`run.runs_dir\`, \`dataset.cache_dir\`, \`dataset.path\`): must be folders (or not exist
  yet, under a folder); paths in \`/proc\`, \`/sys\` or \`/dev\` (also through a symbolic link) are
  refused. Data files must be regular files whose size matches their header
  ([datasets.md](datasets.md#limits)); errors name the file, never its content.
- **Names**: folder names made from a name are cut to a fixed number of bytes (with a hash, so long
  names stay distinct); names and values are printed without control characters.
- **File size**: a file of more than 256 KiB (262,144 characters) or with more than 3,000 entries
  (keys and list items) is one error, found by a linear scan before the YAML parser runs; real
  files are a few kB. This bounds the time to check any file, however built: the worst files of up
  to 1 MB take at most 138 ms of CPU to check (\`node out/bench/validate.bench.js\`, 2 cores at load
  average 23, 2026-12-01); the 914-byte sweep of 10⁸ runs takes 13 ms.

## SC-SDC in one paragraph

With any \`sparsity.method\` but \`none\`, \`model.width\` is the sparse width h_S and
\`sparsity.dense_width\` the dense twin's width h_D < h_S (or give \`sparsity.density\` = h_D/h_S and
h_D = round(h_S · density)). Both nets have the same number of non-zero weights in every layer:
first and output layer density h_D/h_S, hidden-to-hidden (h_D/h_S)². With \`pair: true\` (the
default) both are trained side by side. With \`sparsity.scope: global\` a criterion chooses the
per-layer counts itself and the twins match in total active weights only (see
[pruning.md](pruning.md)).

## Conv nets

\`model.architecture\` is \`mlp\` (the default: a file without it is the MLP it always was, with
the same run ids), \`cnn\` or \`wrn\`. Conv nets take images as [N, H, W, C]: Fashion-MNIST and
MNIST 28×28×1, CIFAR 32×32×3, synthetic data with \`dataset.synthetic.shape\`.

| architecture | its keys | shared keys | the net |
|---|---|---|---|
| \`mlp\` | \`hidden_layers\`, \`width\` | \`activation\`, \`batch_norm\`, \`skip\` | input → hidden_layers × (Linear [→ BN] → activation) → Linear |
| \`cnn\` | \`channels\`, \`pool\` | \`activation\`, \`batch_norm\`, \`skip\` | per entry of \`channels\`: 3×3 conv (same padding) [→ BN] → activation [→ 2×2 max-pool]; with \`skip\` a residual around each block (1×1 projection where the channels change); global average pooling → Linear |
| \`wrn\` | \`depth\`, \`widen_factor\`, \`block\` | \`activation\` (\`batch_norm\`, \`skip\` always on) | WRN-d-k for 32×32 inputs: stem 3×3 conv (16) → 3 groups of (d − 4)/6 pre-activation basic blocks at 16k, 32k, 64k channels, strides 1, 2, 2 → BN → activation → global average pooling → Linear; or \`block: bottleneck\`, depth 50 (or 101): torchvision's wide_resnet50_2 (101_2) with a 3×3 stride-1 stem |

- A key of another architecture is a warning on its line (\`ignored: only architecture 'mlp' uses
  it, found architecture 'cnn'\`) and does not reach the run's configuration. In the editor, once
  \`model.architecture\` is written, completion offers only its keys.
- The twin's topology is the sparse net's: whether a block has a 1×1 projection is decided on the
  designed channel counts, so both nets have the same weight layers even where rounding makes two
  of the twin's counts equal.
- A conv net on flat synthetic data is an error on \`model.architecture\` (give
  \`dataset.synthetic.shape\`). A \`wrn\` needs 32×32 inputs: on Fashion-MNIST or MNIST (28×28) it is
  an error naming the dataset (use \`cnn\`, CIFAR, or a synthetic \`[32, 32, C]\`); 28×28 images are
  not padded or resized behind your back.
- \`pool: auto\` pools after every block whose map is still larger than 1×1: on 28×28 the maps go
  28 → 14 → 7 → 3 → 1 and the fifth block does not pool; on 32×32 all five do. A list names the
  pooling blocks (\`[1, 2]\`); a block that would pool a 1×1 map is an error.
- **SC-SDC.** \`sparsity.density\` ρ: the dense twin has every designed channel count × ρ, rounded
  (for a \`cnn\` each entry of \`channels\`; for a \`wrn\` the stem, every width and every block
  output), and each masked layer of the sparse net keeps exactly the twin's weight count in that
  layer (k² · c_in · c_out of the twin). The first conv and the classifier then have density ρ and
  conv-to-conv layers about ρ². For a \`wrn\`, \`sparsity.dense_widen_factor\` k_D is the same as
  ρ = k_D / k. \`sparsity.dense_width\` is the MLP's and an error with a conv net. A density that
  leaves a twin layer with no channel (round(c · ρ) = 0) is an error naming the smallest density
  that works. Worked example, the simple CNN on Fashion-MNIST at ρ = 0.25: the sparse convs
  1→32, 32→64, 64→64, 64→128, 128→128 and the classifier 128→10 hold 288, 18,432, 36,864, 73,728,
  147,456 and 1,280 weights; the twin (8, 16, 16, 32, 32 channels) 72, 1,152, 2,304, 4,608, 9,216
  and 320, so the sparse layers keep those counts: densities 0.25, 0.0625, 0.0625, 0.0625, 0.0625,
  0.25.
- **Augmentation** (\`training.augmentation: true\`) for conv nets: random crop with 4-pixel zero
  (black) padding on every image set, plus a horizontal flip for CIFAR (not for (Fashion-)MNIST),
  seeded by \`training.seed\`.
- **Memory**: the estimate counts a conv net's kernel weights from its architecture (plus four
  values per output channel for biases and BatchNorm) and its activations at every conv output,
  twice (the conv, and its BatchNorm / activation / pooling), as float32 value and gradient. A
  WRN-16-4 on CIFAR-10 at batch 128 fits the default bound; a WRN-50-2 at batch 128 does not
  (raise \`run.max_memory_mb\` on a machine that has the memory, or lower the batch).

## Sweeps

\`sweep.grid\` maps dotted key paths of the file to lists of values. The runs are every combination
of the axes, in file order with the last axis varying fastest, times every seed of \`sweep.seeds\`
(innermost). Each value is validated as if written at its key, and each combination is resolved
like a file of its own (so, e.g., \`pair\` and a \`density\`-derived \`dense_width\` follow the point).
Each run's id is the first 12 hex digits of the SHA-256 of its resolved configuration as canonical
JSON (sorted keys), excluding \`name\` and \`run.runs_dir\`: the same configuration always gets the same
id. \`training.seed\`, \`name\` and \`run.runs_dir\` cannot be axes.

\`\`\`yaml
sweep:
  seeds: [0, 1, 2]
  grid:
    training.optimizer: [sgd, adam]
    model.batch_norm: [false, true]   # 2 × 2 × 3 seeds = 12 runs
\`\`\`

### Linked settings: \`sweep.linked\`

Some settings only make sense together, e.g. a learning rate per optimizer. \`sweep.linked\` is a list
of items, each mapping dotted key paths (as in \`grid\`) to **one** value. The items are not crossed
with each other: the list is one more axis whose values are the items, crossed with the grid axes.

\`\`\`yaml
sweep:
  seeds: [0, 1, 2]
  grid:
    model.batch_norm: [false, true]
  linked:                                    # after grid: the innermost axis before the seeds
    - { training.optimizer: sgd,  training.learning_rate: 0.05 }
    - { training.optimizer: adam, training.learning_rate: 0.001 }
# 2 (batch_norm) × 2 (items) × 3 seeds = 12 runs:
# batch_norm false: sgd 0.05 (seeds 0, 1, 2), adam 0.001 (seeds 0, 1, 2); then batch_norm true: …
\`\`\`

- The linked axis takes its place in file order: written after \`grid\` (as above) it varies faster
  than the grid axes; written before \`grid\` it is the outermost axis.
- Every item sets the same keys (an item lacking one is an error that names it). A key is swept
  in \`grid\` or in \`linked\`, not both (\`sparsity.density\` and \`sparsity.dense_width\` count as one
  setting). Keys and values are checked as for \`grid\`: unknown keys get a "did you mean", each value
  must be valid for its key, and errors point at the offending key or value in the item.
- Each run's \`point\` (in \`sweep.json\`, the sweep view and the report) has every key of its item,
  in the first item's order. Ids are unchanged: they depend only on the resolved configuration, so a
  run of a linked sweep has the id of the same configuration run from a plain grid or a single file.
- Why \`linked\`: \`zip\` suggests zipping parallel lists (which silently truncates a shorter one), and
  \`points\` would clash with each run's \`point\`; \`linked\` says what the items are — settings tied
  together.

## For developers

\`src/config\` (import from \`src/config\`, i.e. its \`index.ts\`):

- \`parseExperiment(text, file, { runsDirBase? })\` → \`{ config?, sweep?, issues, keyRanges, keyNameRanges, valueRanges, firstLine }\`;
  never throws; \`config\` only when there is no error. Issues carry 1-based \`line\`/\`column\`/\`endLine\`/\`endColumn\`
  (end exclusive), 0-based \`offset\`/\`endOffset\`, the dotted \`key\`, a \`code\` and, for typos, a \`suggestion\`.
- \`loadExperimentFile(path)\` → \`{ config, sweep?, warnings }\` or throws \`ConfigError\` (\`issues\`, compiler-style message).
- \`keyRange(parseResultOrText, keyPath)\`: range of a key and its value; snake_case or camelCase paths; an absent key
  maps to its nearest section's key, else line 1.
- \`expandSweep(config, spec)\` → \`[{ id, config, point }]\`; \`configId(config)\` for single runs. \`spec.axes\` holds grid
  axes \`{ key, values }\` and the linked axis \`{ linked: [{ key: value, … }, …] }\` (\`isLinkedAxis\`), in file order.
  An optional third argument \`onPoint(done, total)\` hears the progress (the CLI's "planning sweep …" line).
- \`iterateSweep(config, spec)\`: the same runs, ids and order, one at a time (a generator): values and the run
  count are checked first, then each point is resolved only when its runs are asked for, so the first run of a
  10⁶-run sweep is there in ≈ 0.2 s with memory of one point; a bad combination throws \`ConfigError\` when
  reached. \`sweepRunCount(spec)\` counts the runs without building any.
- \`GRADFLOW_SCHEMA\` / \`gradflow.schema.json\`: the schema; \`scsdcDensities(h_S, h_D, hidden_layers)\`: the layer densities.
- Conv nets: \`architectureOf(model)\` (\`src/shared/experiment.ts\`; \`mlp\` when the resolved field is
  absent); in \`src/shared/conv.ts\` (pure) \`cnnPoolPlan(input, blocks, pool)\` (which blocks pool, the maps after each),
  \`wrnLayout(depth, k, block)\`, \`convKernelShapes(model, inC, classes, ρ?)\` (every masked kernel of
  the net, or of its twin with ρ), \`convLayerDensities\` (twin / sparse weights per layer). A resolved
  conv config has \`model.architecture\`, its own keys, and for a pair \`sparsity.density\` = ρ.

## Reference
`;

export function renderExperimentDoc(schema: SchemaNode = GRADFLOW_SCHEMA): string {
  const out: string[] = [INTRO];
  const props = Object.entries(schema.properties ?? {});
  const top = props.filter(([, child]) => !child.properties);
  if (top.length > 0) {
    out.push('### Top level', '', '| key | type | default | description |', '|---|---|---|---|');
    for (const [name, child] of top) out.push(`| \`${name}\` | ${cell(typeOf(child))} | ${cell(defaultOf(child))} | ${cell(child.description ?? '')} |`);
    out.push('');
  }
  for (const [name, child] of props) if (child.properties) renderSection(name, child, 3, out);
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** Walks up from `start` to the folder holding Gradflow's package.json. */
export function findRepoRoot(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.existsSync(path.join(dir, 'src', 'config'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

if (require.main === module) {
  const root = findRepoRoot(process.cwd()) ?? findRepoRoot(__dirname);
  if (!root) throw new Error('gen-docs: run from inside the Gradflow repository');
  const target = path.join(root, 'docs', 'experiment-file.md');
  fs.writeFileSync(target, renderExperimentDoc());
  console.log(`wrote ${target}`);
}
