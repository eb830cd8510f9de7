/**
 * Loading the engine's own WebAssembly modules (AssemblyScript, built by `npm run build` into dist/):
 * dist/gradflow-sparse.wasm (sparse.ts) and dist/gradflow-conv.wasm (nn/fastconv.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The parts of the WebAssembly API used here (the project's TS lib has no DOM types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

/**
 * Where dist/<file> may be: the file an environment variable names, beside the bundle, or dist/ above
 * the tsc output (up to five levels), or dist/ under the working directory.
 */
export function engineWasmCandidates(file: string, envVar: string): string[] {
  const out: string[] = [];
  const fromEnv = process.env[envVar];
  if (fromEnv) out.push(fromEnv);
  out.push(path.join(__dirname, file));
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    out.push(path.join(dir, 'dist', file));
    dir = path.dirname(dir);
  }
  out.push(path.join(process.cwd(), 'dist', file));
  return out;
}

/**
 * Instantiate the first of `candidates` that exists: its exports, or why not (no file, no
 * WebAssembly, or a runtime that refuses the module — typically one without WebAssembly SIMD).
 */
export function instantiateEngineWasm(file: string, candidates: string[]): { exports: object } | { error: string } {
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) return { error: `no ${file} found (run npm run build)` };
  const wa = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wa) return { error: 'this runtime has no WebAssembly' };
  try {
    const mod = new wa.Module(fs.readFileSync(found));
    const inst = new wa.Instance(mod, {
      env: {
        abort: () => {
          throw new Error(`${file}: abort`);
        },
      },
    });
    return { exports: inst.exports };
  } catch (e: unknown) {
    return { error: `${found} could not be loaded (${e instanceof Error ? e.message : String(e)})` };
  }
}
