/**
 * The trainer process. Started by a host (CLI, VS Code extension, sweep pool) with an IPC channel
 * (`child_process.fork`), or standalone with `--stdio` (JSON lines on stdin/stdout) for other tools.
 *
 * hello → (start) → ready → step/epoch/flow/alert/log … → done | error. Every message is also
 * appended to the run's metrics.jsonl, so a crash keeps what was measured.
 */
import * as path from 'node:path';
import * as readline from 'node:readline';
import { PROTOCOL_VERSION, isHostMessage, type Alert, type HostToTrainer, type RunSummary, type StartMessage, type TrainerToHost } from '../shared/protocol';
import type { BackendName } from '../shared/experiment';
import { RunWriter } from '../runs/store';
import { runExperiment } from './run';

type Sink = (m: TrainerToHost) => Promise<void>;

function ipcSink(): Sink {
  return (m) =>
    new Promise<void>((resolve) => {
      if (!process.connected || !process.send) return resolve();
      process.send(m, undefined, {}, () => resolve());
    });
}

function stdioSink(): Sink {
  return (m) =>
    new Promise<void>((resolve) => {
      process.stdout.write(JSON.stringify(m) + '\n', () => resolve());
    });
}

async function main(): Promise<void> {
  const useStdio = process.argv.includes('--stdio') || !process.send;
  const sink = useStdio ? stdioSink() : ipcSink();
  let stopRequested = false;
  let started = false;
  let writer: RunWriter | undefined;
  // The last step reported: a stop request says where it arrived, since the host reads step
  // messages later than the trainer sends them and cannot know how far the run had got.
  let lastStep = 0;

  // Fire-and-forget sends must not reorder; chain them.
  let chain: Promise<void> = Promise.resolve();
  const send = (m: TrainerToHost): void => {
    if (m.type === 'step') lastStep = Math.max(lastStep, m.metrics.step);
    writer?.append(m);
    chain = chain.then(() => sink(m));
  };

  const requestStop = (): void => {
    if (stopRequested) return;
    stopRequested = true;
    if (started) send({ type: 'log', level: 'info', message: `stop requested after step ${lastStep}: the run ends at the next step boundary` });
  };
  // Ctrl-C in a terminal reaches the whole process group: treat it as a stop request, not death.
  process.on('SIGINT', requestStop);
  process.on('SIGTERM', requestStop);
  // A host that goes away (extension reload, CLI killed) stops the run cleanly.
  process.on('disconnect', requestStop);

  const onHostMessage = (raw: unknown): void => {
    if (!isHostMessage(raw)) {
      send({ type: 'log', level: 'warn', message: `ignored malformed host message: ${JSON.stringify(raw).slice(0, 200)}` });
      return;
    }
    const msg: HostToTrainer = raw;
    switch (msg.type) {
      case 'stop':
        requestStop();
        return;
      case 'start':
        if (started) return;
        started = true;
        void start(msg);
        return;
    }
  };

  /** Write the summary; a summary that cannot be written is said on the channel (and stderr). */
  const finishRun = (summary: RunSummary): void => {
    try {
      writer?.finish(summary);
    } catch (e) {
      const message = `${e instanceof Error ? e.message : String(e)}: the run has no summary.json`;
      process.stderr.write(`gradflow trainer: ${message}\n`);
      void sink({ type: 'log', level: 'error', message });
    }
  };

  const start = async (msg: StartMessage): Promise<void> => {
    if (msg.protocolVersion !== PROTOCOL_VERSION) {
      send({ type: 'error', message: `host speaks protocol ${msg.protocolVersion}, trainer ${PROTOCOL_VERSION}` });
      await chain;
      process.exit(2);
    }
    let exitCode = 0;
    const alerts: Alert[] = [];
    let backend: BackendName | undefined;
    const startedAt = new Date().toISOString();
    try {
      const summary: RunSummary = await runExperiment(msg, {
        wasmDir: __dirname,
        openRun: (config) => {
          writer = RunWriter.create(config.run.runsDir, config, {
            ...(msg.sourceFile !== undefined ? { sourceFile: msg.sourceFile } : {}),
            ...(msg.configId !== undefined ? { configId: msg.configId } : {}),
          });
          return { runId: writer.runId, runDir: writer.runDir };
        },
        send: (m) => {
          if (m.type === 'alert') alerts.push(m.alert);
          send(m);
          // A failed write (disk full, …) ends the run as failed: nothing more could be kept.
          if (writer?.failure) throw writer.failure;
        },
        shouldStop: () => stopRequested,
        onBackend: (b) => {
          backend = b;
        },
      });
      if (writer?.failure) throw writer.failure;
      send({ type: 'done', summary });
      finishRun(summary);
    } catch (e) {
      exitCode = 1;
      const err = e instanceof Error ? e : new Error(String(e));
      const key = (err as Error & { key?: unknown }).key;
      send({
        type: 'error',
        message: err.message,
        ...(typeof key === 'string' ? { key } : {}),
        ...(writer ? { runDir: writer.runDir } : {}),
        ...(err.stack ? { stack: err.stack } : {}),
      });
      if (writer && backend) {
        finishRun({
          runId: writer.runId,
          runDir: writer.runDir,
          backend,
          finished: false,
          stopped: false,
          reason: err.message,
          nets: [],
          alerts,
          startedAt,
          endedAt: new Date().toISOString(),
        });
      } else writer?.close();
    }
    await chain;
    if (process.connected) process.disconnect();
    process.exit(exitCode);
  };

  if (useStdio) {
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      if (line.trim() === '') return;
      try {
        onHostMessage(JSON.parse(line));
      } catch {
        send({ type: 'log', level: 'warn', message: `ignored a line that is not JSON: ${line.slice(0, 200)}` });
      }
    });
  } else {
    process.on('message', onHostMessage);
  }
  send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, pid: process.pid });
}

process.title = `gradflow-trainer ${path.basename(process.argv[1] ?? '')}`;
main().catch((e: unknown) => {
  process.stderr.write(`gradflow trainer: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
