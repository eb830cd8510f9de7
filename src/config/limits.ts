/**
 * Limits that keep a hostile or mistaken experiment file from hanging or exhausting the machine.
 * Every limit is documented in docs/experiment-file.md ("Limits"); the per-key maxima are in
 * `gradflow.schema.json` (so they show in hover text and the generated docs), the rest are here.
 */

/** Default of `sweep.max_runs`: a sweep with more runs (points × seeds) is an error on `sweep:`. */
export const DEFAULT_MAX_SWEEP_RUNS = 100_000;

/**
 * Above this many runs the CLI's local executor streams a sweep (`runStreamedSweep`): runs are
 * generated as workers need them and the first starts at once. At or below it the whole plan is built
 * and checked first (a few seconds at most), so an invalid combination is refused before any run.
 * The editor plans every sweep whole (its sweep view shows every configuration from the start), so
 * it refuses sweeps above this bound and points to `gradflow sweep`.
 */
export const STREAM_ABOVE_RUNS = 10_000;

/**
 * The Slurm executor writes every configuration into one frozen batch file, so it plans the whole
 * sweep before submitting; this bounds that (about 30 s and 150 MB of planning at the bound).
 */
export const MAX_SLURM_SWEEP_RUNS = 100_000;

/**
 * The editor (language server, extension) checks a sweep's combinations (e.g. a dense width not
 * smaller than a swept width) only when it has at most this many points; above it, each value is
 * checked on its own and the combinations are checked when the sweep is expanded to run (before any
 * run starts). Validation never materialises the runs of a sweep.
 */
export const EDITOR_COMBINATION_BUDGET = 64;

/** Deepest nesting of YAML collections accepted (the schema needs 6; more is hostile or a mistake). */
export const MAX_YAML_DEPTH = 64;

/**
 * Largest experiment file read (characters). Real files are a few kB; a big sweep a few tens of kB.
 * Checked before the YAML parser runs, so a huge file costs one error, not seconds.
 */
export const MAX_FILE_CHARS = 256 * 1024;

/**
 * Most entries (keys, list items, flow-collection members) in a file. An experiment has about 50, a
 * large sweep a few hundred to two thousand; counted by a linear scan before parsing, which bounds the parser's work
 * (about 20 µs an entry) so the editor's check of any file stays well under 200 ms.
 */
export const MAX_ENTRIES = 3_000;

/**
 * Weights of one net (all layers) above which a model is refused before training: 2²⁸ float32
 * weights are 1 GiB, and the optimizer keeps up to two more copies.
 */
export const MAX_MODEL_WEIGHTS = 2 ** 28;

/** Values of generated synthetic data (examples × features, train and test together): 2²⁸ float32 = 1 GiB. */
export const MAX_SYNTHETIC_VALUES = 2 ** 28;

/**
 * Default bound on a run's estimated peak memory (MiB), `run.max_memory_mb` overrides it. A run
 * whose estimate (`memoryEstimate` in resources.ts) is above it is refused before it trains: 4 GiB
 * leaves room for a few runs in parallel on a 16 GB laptop; the paper-scale examples need < 1 GiB.
 */
export const DEFAULT_MAX_MEMORY_MB = 4096;

/** What Node and TensorFlow.js take before any tensor (measured RSS of a trainer at its first step on a tiny net: ≈ 150–200 MB). */
export const RUNTIME_BASE_MB = 200;

/** Counts a product of factors without overflow: `Infinity` when it exceeds `cap`. */
export function cappedProduct(factors: readonly number[], cap: number): number {
  let n = 1;
  for (const f of factors) {
    n *= f;
    if (n > cap) return Infinity;
  }
  return n;
}

export { grouped } from '../shared/format';
