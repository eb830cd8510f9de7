/**
 * `gradflow supervise`: the detached host of one run started from VS Code.
 *
 * The extension starts this command in its own session and process group (detached), with an IPC
 * channel, instead of the trainer itself. To the extension it speaks the trainer protocol (it says
 * `hello`, takes `start` and `stop`, and relays every trainer message), so a run started by the
 * window streams exactly as before. What it adds is that the run no longer belongs to the window:
 *
 * - it starts the trainer as its own child, so the trainer's stderr and IPC channel end here, not
 *   in the extension host, and a window reload (or a crash of the extension host) only closes the
 *   channel to the extension: the run goes on and writes its summary;
 * - it honours a stop request recorded in the run folder (`stop-request.json`, store.ts) by whoever
 *   asks — this window, a later window that reattached to the run, any tool — and records one
 *   itself when it is asked by its host's `stop` (Stop in VS Code) or by a signal;
 * - it ends as its trainer ended (the same exit code, or the same signal), so the extension reads a
 *   trainer that was killed as killed.
 *
 * Everything the run measured is in its folder; a window that reloads follows the folder again.
 */
import * as path from 'node:path';
import { PROTOCOL_VERSION, isHostMessage, type HostToTrainer, type StartMessage, type TrainerToHost } from '../shared/protocol';
import { startRun, type RunSession } from '../runs/session';
import { requestStop, watchStopRequest } from '../runs/store';
import type { StopRequest, StopSource } from '../runs/status';

export interface SuperviseOptions {
  trainerPath: string;
  /** Where the supervisor's own notes go (its stderr, relayed to the host while it is there). */
  note?(line: string): void;
}

/** Runs until the trainer has ended; resolves with the exit it should mirror. */
export function supervise(opts: SuperviseOptions): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const note = opts.note ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const toHost = (m: TrainerToHost): Promise<void> =>
    new Promise<void>((resolve) => {
      if (!process.connected || process.send === undefined) {
        resolve();
        return;
      }
      try {
        process.send(m, undefined, {}, () => resolve());
      } catch {
        resolve(); // the channel closed meanwhile: the run folder has the message
      }
    });
  // Messages keep their order.
  let chain: Promise<void> = Promise.resolve();
  const relay = (m: TrainerToHost): void => {
    chain = chain.then(() => toHost(m));
  };

  let session: RunSession | undefined;
  let runDir: string | undefined;
  /** A stop asked before the run folder existed: recorded there once it does. */
  let pendingStop: Omit<StopRequest, 'at'> | undefined;
  let stopped = false;
  let unwatch: (() => void) | undefined;

  const record = (by: StopSource, detail?: string): void => {
    const request = { by, ...(detail !== undefined ? { detail } : {}) };
    if (runDir === undefined) {
      pendingStop ??= request;
      return;
    }
    try {
      requestStop(runDir, request);
    } catch (e) {
      note(`gradflow supervise: could not record the stop request: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    session?.stop();
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    record('signal', signal);
    stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Detached, there is no terminal; a hang-up is not a request to stop.
  process.on('SIGHUP', () => undefined);
  // The host went away (window reload, extension host crash): the run goes on.
  process.on('disconnect', () => note('gradflow supervise: the host disconnected; the run goes on (its folder is the channel)'));

  return new Promise((resolve) => {
    const begin = (msg: StartMessage): void => {
      const s = startRun({
        trainerPath: opts.trainerPath,
        config: msg.config,
        sourceFile: msg.sourceFile,
        backend: msg.backend,
        configId: msg.configId,
      });
      session = s;
      if (stopped) s.stop();
      s.handle.onStderr((line) => note(line));
      s.onMessage((m) => {
        // The trainer's own hello is not relayed: this process said hello to the host.
        if (m.type === 'hello') return;
        if (m.type === 'ready') {
          runDir = m.runDir;
          if (pendingStop !== undefined) record(pendingStop.by, pendingStop.detail);
          unwatch = watchStopRequest(m.runDir, () => stop());
        }
        relay(m);
      });
      void s.ended.then(async (outcome) => {
        unwatch?.();
        await chain;
        resolve({ code: outcome.exit.code, signal: outcome.exit.signal as NodeJS.Signals | null });
      });
    };

    const onHostMessage = (raw: unknown): void => {
      if (!isHostMessage(raw)) return;
      const msg: HostToTrainer = raw;
      if (msg.type === 'stop') {
        record('vscode');
        stop();
        return;
      }
      if (session !== undefined) return; // one run per supervisor
      if (msg.protocolVersion !== PROTOCOL_VERSION) {
        relay({ type: 'error', message: `host speaks protocol ${msg.protocolVersion}, supervisor ${PROTOCOL_VERSION}: rebuild (npm run build)` });
        void chain.then(() => resolve({ code: 2, signal: null }));
        return;
      }
      begin(msg);
    };
    process.on('message', onHostMessage);
    relay({ type: 'hello', protocolVersion: PROTOCOL_VERSION, pid: process.pid });
  });
}

/** The command: needs an IPC channel (the extension forks it); ends as its trainer ended. */
export async function superviseCommand(trainerPath: string): Promise<number> {
  if (process.send === undefined) {
    process.stderr.write('gradflow supervise: this command is started by the VS Code extension (with an IPC channel); use `gradflow run FILE` in a terminal\n');
    return 2;
  }
  // Once the host is gone, its end of the stderr pipe is closed: notes are dropped, not fatal.
  process.stderr.on('error', () => undefined);
  process.title = `gradflow-supervisor ${path.basename(process.cwd())}`;
  const exit = await supervise({ trainerPath });
  // Our own disconnect is not the host going away: no note for it.
  process.removeAllListeners('disconnect');
  if (process.connected) process.disconnect();
  if (exit.signal !== null) {
    // Mirror a trainer killed by a signal, so the extension reads the run as killed.
    process.removeAllListeners(exit.signal);
    process.kill(process.pid, exit.signal);
  }
  return exit.code ?? 1;
}
