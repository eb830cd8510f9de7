/**
 * Runs a Python script with the Gradflow client (clients/python) under a minimal host: the two
 * pipes of docs/torch.md (fd 3 script → host, fd 4 host → script), `start` sent on `hello`, every
 * line the script sends collected and checked with the host's own parser (a refused line fails the
 * run). Not a test file (no `.test.` in the name).
 *
 * Python: GRADFLOW_PYTHON, default /usr/bin/python3 (Debian's, with python3-torch). Without it the
 * torch tests are skipped with the reason; GRADFLOW_TORCH=required makes that a failure (CI).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseScriptLine } from '../../src/shared/external-protocol';

/** The repository: above out/test/torch when compiled, the working directory when bundled elsewhere. */
function findRepo(): string {
  for (const start of [__dirname, process.cwd()]) {
    for (let d = start; ; d = path.dirname(d)) {
      if (fs.existsSync(path.join(d, 'clients', 'python', 'gradflow', '__init__.py'))) return d;
      if (path.dirname(d) === d) break;
    }
  }
  throw new Error('the repository (clients/python/gradflow) is not above the test or the working directory');
}

export const REPO = findRepo();
export const CLIENT_DIR = path.join(REPO, 'clients', 'python');
export const PY_DIR = path.join(REPO, 'test', 'torch', 'py');
export const PYTHON = process.env.GRADFLOW_PYTHON ?? '/usr/bin/python3';

let probe: string | false | undefined;

/** False when python3 with torch is there; else why not (a thrown error under GRADFLOW_TORCH=required). */
export function torchMissing(): string | false {
  if (probe === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
    probe = r.status === 0 ? false : `${PYTHON} with torch is not available (${(r.error?.message ?? r.stderr).trim().split('\n').pop() ?? ''}); install Debian's python3-torch or set GRADFLOW_PYTHON`;
  }
  if (probe && process.env.GRADFLOW_TORCH === 'required') throw new Error(`GRADFLOW_TORCH=required: ${probe}`);
  return probe;
}

export type Message = Record<string, unknown> & { type: string };

export interface ScriptResult {
  messages: Message[];
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Lines the host's own check (parseScriptLine, src/shared/external-protocol.ts) refused, with the reason. */
  refused: string[];
}

export interface ScriptOptions {
  /** The resolved experiment sent in `start` (snake_case). */
  config?: Record<string, unknown>;
  /** false: start the script without Gradflow's environment (no pipes). */
  gradflow?: boolean;
  /** Called on every message; `send` writes a line to the script's fd 4. */
  onMessage?: (m: Message, send: (x: unknown) => void, all: Message[]) => void;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** One thread for torch and BLAS: the machine's cores are shared. */
const THREADS = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

export function runScript(script: string, args: string[] = [], opts: ScriptOptions = {}): Promise<ScriptResult> {
  const gradflow = opts.gradflow ?? true;
  const env: Record<string, string | undefined> = { ...process.env, ...THREADS, PYTHONPATH: CLIENT_DIR, PYTHONDONTWRITEBYTECODE: '1', ...opts.env };
  delete env.GRADFLOW_PROTOCOL;
  delete env.GRADFLOW_FD_OUT;
  delete env.GRADFLOW_FD_IN;
  if (gradflow) Object.assign(env, { GRADFLOW_PROTOCOL: '1', GRADFLOW_FD_OUT: '3', GRADFLOW_FD_IN: '4' });
  const child = spawn(PYTHON, [script, ...args], {
    cwd: REPO,
    env,
    stdio: gradflow ? ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
  });
  const messages: Message[] = [];
  const refused: string[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const toScript = gradflow ? (child.stdio[4] as NodeJS.WritableStream) : undefined;
  const send = (x: unknown): void => {
    toScript?.write(`${JSON.stringify(x)}\n`);
  };
  toScript?.on('error', () => undefined);
  if (gradflow) {
    let buf = '';
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const checked = parseScriptLine(line);
        if (!checked.ok) refused.push(`${checked.reason}: ${line.slice(0, 300)}`);
        const m = JSON.parse(line) as Message;
        messages.push(m);
        if (m.type === 'hello') send({ type: 'start', protocolVersion: 1, config: opts.config ?? {}, runId: 'test-run', runDir: '/nonexistent/test-run' });
        opts.onMessage?.(m, send, messages);
      }
    });
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(script)} ${args.join(' ')}: no exit within ${opts.timeoutMs ?? 120_000} ms\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      toScript?.end();
      if (refused.length > 0) reject(new Error(`the host's check refused ${refused.length} line(s) of ${path.basename(script)}:\n${refused.join('\n')}`));
      else resolve({ messages, stdout, stderr, code, signal, refused });
    });
  });
}

/** The messages of one type. */
export function ofType(r: ScriptResult, type: string): Message[] {
  return r.messages.filter((m) => m.type === type);
}

export interface WireNorms {
  raw: { l1: number | null; l2: number | null };
  masked: { l1: number | null; l2: number | null };
}

/** |a − b| ≤ rel·max(|a|, |b|) (+ a tiny absolute floor), with a message naming the value. */
export function assertRel(got: number | null, want: number, rel: number, what: string): void {
  if (got === null || !Number.isFinite(got) || Math.abs(got - want) > rel * Math.max(Math.abs(got), Math.abs(want)) + 1e-12) {
    throw new Error(`${what}: got ${String(got)}, expected ${want} (relative tolerance ${rel})`);
  }
}
