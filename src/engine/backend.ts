/**
 * TF.js backend selection for the trainer process (docs/environment.md).
 *
 * - `tensorflow` = @tensorflow/tfjs-node: an optionalDependency whose install fails on machines
 *   without access to the libtensorflow download, so it is loaded lazily and its absence is normal.
 * - `wasm` = @tensorflow/tfjs-backend-wasm: ships its .wasm binaries; in Node they must be found on
 *   disk via setWasmPaths (the bundled build copies them next to dist/*.js).
 * - `cpu` = pure-JS reference backend, always available, slow.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName, BackendPreference } from '../shared/experiment';
import { at } from '../shared/checked';

export interface BackendOptions {
  /** Folder holding tfjs-backend-wasm*.wasm (e.g. dist/ of the bundled build). */
  wasmDir?: string;
  /** Told why each faster backend was passed over when `auto` falls back (so the run log says why it is slow). */
  onFallback?: (message: string) => void;
}

const WASM_FILE = 'tfjs-backend-wasm.wasm';

/** Candidate folders for the wasm binaries, most specific first. */
export function wasmDirCandidates(opts: BackendOptions = {}): string[] {
  const out: string[] = [];
  if (opts.wasmDir) out.push(opts.wasmDir);
  const env = process.env.GRADFLOW_WASM_DIR;
  if (env) out.push(env);
  // Installed package: resolve its main file and take its dist/ folder. require.resolve works both
  // from tsc output and from an esbuild bundle that keeps @tensorflow/* external.
  try {
    const main = require.resolve('@tensorflow/tfjs-backend-wasm');
    let dir = path.dirname(main);
    // main lives in dist/ (or dist/<format>/); walk up to the folder that has the binaries.
    for (let i = 0; i < 3; i++) {
      out.push(dir);
      if (path.basename(dir) === 'dist') break;
      dir = path.dirname(dir);
    }
  } catch {
    /* not resolvable: fall through to the bundle-relative guesses */
  }
  // Bundled build: binaries copied beside dist/trainer.js.
  out.push(__dirname);
  out.push(path.join(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'));
  return out;
}

export function findWasmDir(opts: BackendOptions = {}): string | undefined {
  return wasmDirCandidates(opts).find((d) => fs.existsSync(path.join(d, WASM_FILE)));
}

let tfjsNodeTried: boolean | undefined;
let tfjsNodeError = '@tensorflow/tfjs-node is not installed or failed to load';

/** Load tfjs-node if installed. It registers backend 'tensorflow' as a side effect. */
function tryLoadTfjsNode(): boolean {
  if (tfjsNodeTried !== undefined) return tfjsNodeTried;
  try {
    // Loaded by name at run time (bundlers leave it alone): the package is optional and usually absent.
    createRequire(__filename)('@tensorflow/tfjs-node');
    tfjsNodeTried = tf.findBackendFactory('tensorflow') !== null;
  } catch (e: unknown) {
    tfjsNodeTried = false;
    // Absent (the usual case where its install script could not download libtensorflow) or present
    // but broken (e.g. npm did not run that script): say which.
    const first = at((e instanceof Error ? e.message : String(e)).split('\n'), 0);
    tfjsNodeError = /Cannot find module '@tensorflow\/tfjs-node'/.test(first) ? '@tensorflow/tfjs-node is not installed' : `@tensorflow/tfjs-node failed to load: ${first}`;
  }
  return tfjsNodeTried;
}

let wasmPathsSet = false;

async function trySetBackend(name: BackendName, opts: BackendOptions): Promise<string | undefined> {
  if (name === 'tensorflow') {
    if (!tryLoadTfjsNode()) return tfjsNodeError;
  }
  if (name === 'wasm' && !wasmPathsSet) {
    const dir = findWasmDir(opts);
    if (!dir) return `no ${WASM_FILE} found (looked in: ${wasmDirCandidates(opts).join(', ')})`;
    // setWasmPaths wants a prefix; in Node it is used as a file path prefix.
    setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
    wasmPathsSet = true;
  }
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return `backend '${name}' failed to initialise`;
    await tf.ready();
    return tf.getBackend() === name ? undefined : `backend '${name}' is not active after setBackend`;
  } catch (e: unknown) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * Select the backend. 'auto' tries tensorflow → wasm → cpu; a forced choice throws when it cannot be
 * used. Returns the backend actually in use.
 */
export async function initBackend(pref: BackendPreference, opts: BackendOptions = {}): Promise<BackendName> {
  // Production mode: skips TF.js debug checks and its console banner ("install tfjs-node"), which
  // would otherwise land on the trainer's stderr for every cpu run.
  tf.enableProdMode();
  const order: BackendName[] = pref === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [pref];
  const failures: string[] = [];
  for (const name of order) {
    const err = await trySetBackend(name, opts);
    if (err === undefined) {
      if (failures.length > 0) opts.onFallback?.(`backend ${name} (${failures.join('; ')})`);
      return tf.getBackend() as BackendName;
    }
    failures.push(`${name}: ${err}`);
  }
  throw new Error(`backend '${pref}' unavailable: ${failures.join('; ')}`);
}
