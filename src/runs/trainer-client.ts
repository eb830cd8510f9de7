/**
 * Host side of the trainer protocol, shared by the CLI and the VS Code extension: starts the
 * trainer as a child Node process with an IPC channel, performs the handshake, and turns every way
 * a trainer can end (done, error, crash, kill) into protocol messages, so a host never hangs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { BackendPreference, ExperimentConfig } from '../shared/experiment';
import { PROTOCOL_VERSION, readTrainerMessage, type HostToTrainer, type TrainerToHost } from '../shared/protocol';

export interface StartTrainerOptions {
  /** Path of the bundled trainer entry (`dist/trainer.js`). */
  trainerPath: string;
  /** Node executable; defaults to the current runtime. An Electron runtime gets ELECTRON_RUN_AS_NODE. */
  nodePath?: string;
  config: ExperimentConfig;
  sourceFile?: string | undefined;
  backend?: BackendPreference | undefined;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Sweep config id recorded in the run folder. */
  configId?: string | undefined;
  /**
   * Start-up deadline (ms): a trainer that has not said `hello` by then is killed and reported
   * ("sent nothing"). Default `startupDeadlineMs()`.
   */
  startupDeadlineMs?: number;
  /** Arguments to the entry (`['supervise']` when it is the CLI bundle acting as a run's supervisor). */
  args?: string[];
  /**
   * Start it in its own session and process group, so that it outlives this process (a window
   * reload ends the extension host, not the run). The IPC channel still works while both live.
   */
  detached?: boolean;
}

/** How long a trainer may take to say hello: `GRADFLOW_STARTUP_TIMEOUT_S`, default 60 s (tfjs loads first). */
export function startupDeadlineMs(): number {
  const env = Number(process.env.GRADFLOW_STARTUP_TIMEOUT_S);
  return Number.isFinite(env) && env > 0 ? env * 1000 : 60_000;
}

export interface TrainerExit {
  code: number | null;
  signal: string | null;
  /** Last lines the trainer wrote to stderr (for crash reports). */
  stderrTail: string[];
}

export interface TrainerHandle {
  readonly pid: number | undefined;
  onMessage(cb: (m: TrainerToHost) => void): void;
  onStderr(cb: (line: string) => void): void;
  /** Ask the trainer to stop after the current step (it still sends `done`). */
  stop(): void;
  /** Kill the trainer at once (SIGKILL). The run log keeps what was flushed. */
  kill(): void;
  readonly exited: Promise<TrainerExit>;
}

const STDERR_TAIL = 30;

export function startTrainer(opts: StartTrainerOptions): TrainerHandle {
  const execPath = opts.nodePath ?? process.execPath;
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  // Inside VS Code the default runtime is Electron; this makes it behave as plain Node.
  if (process.versions.electron !== undefined || /electron|code/i.test(execPath)) env.ELECTRON_RUN_AS_NODE = '1';
  const child: ChildProcess = fork(opts.trainerPath, opts.args ?? [], {
    execPath,
    cwd: opts.cwd,
    env,
    ...(opts.detached === true ? { detached: true } : {}),
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  });

  const messageListeners: Array<(m: TrainerToHost) => void> = [];
  const stderrListeners: Array<(line: string) => void> = [];
  const tail: string[] = [];
  let ended = false; // a `done` or `error` was delivered
  let handshaken = false;
  let heardFrom = false;
  const deadline = opts.startupDeadlineMs ?? startupDeadlineMs();
  const startupTimer = setTimeout(() => {
    if (heardFrom) return;
    emit({ type: 'error', message: `the trainer sent nothing within ${Math.round(deadline / 1000)} s of starting (start-up deadline; GRADFLOW_STARTUP_TIMEOUT_S sets it): it was killed` });
    child.kill('SIGKILL');
  }, deadline);
  startupTimer.unref();

  const emit = (m: TrainerToHost): void => {
    if (m.type === 'done' || m.type === 'error') {
      if (ended) return;
      ended = true;
    }
    for (const cb of messageListeners) cb(m);
  };

  const send = (m: HostToTrainer): void => {
    if (child.connected) child.send(m);
  };

  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > STDERR_TAIL) tail.shift();
      for (const cb of stderrListeners) cb(line);
    }
  });

  child.on('message', (wire: unknown) => {
    // Decoded: measured numbers JSON turned into null are NaN again.
    const raw = readTrainerMessage(wire);
    if (raw === undefined) return;
    if (!heardFrom) {
      heardFrom = true;
      clearTimeout(startupTimer);
    }
    if (raw.type === 'hello') {
      if (raw.protocolVersion !== PROTOCOL_VERSION) {
        emit({ type: 'error', message: `trainer speaks protocol ${raw.protocolVersion}, this host ${PROTOCOL_VERSION}: rebuild (npm run build)` });
        child.kill('SIGKILL');
        return;
      }
      handshaken = true;
      send({
        type: 'start',
        protocolVersion: PROTOCOL_VERSION,
        config: opts.config,
        ...(opts.sourceFile !== undefined ? { sourceFile: opts.sourceFile } : {}),
        ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
        ...(opts.configId !== undefined ? { configId: opts.configId } : {}),
      });
    }
    emit(raw);
  });

  const exited = new Promise<TrainerExit>((resolve) => {
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(startupTimer);
      if (partial) tail.push(partial);
      if (!ended) {
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        const when = handshaken ? 'before finishing' : 'at start, before the handshake';
        const last = tail.slice(-8).join('\n');
        emit({ type: 'error', message: `trainer ${how} ${when}${last ? `; last output:\n${last}` : ''}` });
      }
      resolve({ code, signal, stderrTail: [...tail] });
    };
    // 'close' (not 'exit') so that every IPC message and stderr line has been delivered first.
    child.on('close', finish);
    child.on('error', (err) => {
      tail.push(err.message);
      finish(null, null);
    });
  });

  return {
    pid: child.pid,
    onMessage: (cb) => void messageListeners.push(cb),
    onStderr: (cb) => void stderrListeners.push(cb),
    stop: () => send({ type: 'stop' }),
    kill: () => void child.kill('SIGKILL'),
    exited,
  };
}
