/**
 * `gradflow run FILE`: one experiment (or an SC-SDC pair) in a trainer process, with a progress bar
 * on stderr, a summary table at the end, and clean Ctrl-C handling that keeps the run log.
 */
import * as path from 'node:path';
import type { BackendPreference, ExperimentConfig } from '../shared/experiment';
import type { RunSummary, TrainerToHost } from '../shared/protocol';
import { startRun, type RunOutcome } from '../runs/session';
import { statusLabel, stopSourceText, stoppedReason, type StopSource } from '../runs/status';
import { readStopRequest, requestStop, watchStopRequest } from '../runs/store';
import { num, progressLine, summaryTable, type ProgressState } from './format';
import { stripControl } from '../shared/text';
import { terminalText } from '../shared/sanitize';

export interface RunCliOptions {
  json: boolean;
  backend?: BackendPreference | undefined;
  trainerPath: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WriteStream | NodeJS.WritableStream;
}

/** A CLI run: the run's outcome (the one `RunOutcome` of runs/session.ts) and the process exit code it means. */
export interface CliRunResult {
  exitCode: number;
  outcome: RunOutcome;
}

const isTty = (s: NodeJS.WritableStream): s is NodeJS.WriteStream => 'isTTY' in s && s.isTTY === true;

export async function runOne(config: ExperimentConfig, sourceFile: string | undefined, opts: RunCliOptions): Promise<CliRunResult> {
  const session = startRun({
    trainerPath: opts.trainerPath,
    config,
    sourceFile,
    backend: opts.backend,
  });
  const handle = session.handle;
  const err = opts.err;
  const tty = isTty(err);
  const columns = tty ? (err as NodeJS.WriteStream).columns || 100 : 100;
  // Names, values and trainer lines are user text: no escape sequence of theirs reaches the terminal.
  const say = (s: string): void => {
    if (tty) err.write('\r\x1b[K');
    err.write(stripControl(s, { keepNewlines: true }) + '\n');
  };

  // Who asked the run to stop is recorded in its folder (stop-request.json), so that the run says
  // `stopped (by Ctrl-C in the terminal)`; a request recorded there by someone else (Stop in VS
  // Code on this run) stops it too.
  let runDir: string | undefined;
  let stopBy: StopSource | undefined;
  let unwatch: (() => void) | undefined;
  const recordStop = (by: StopSource): void => {
    stopBy ??= by;
    if (runDir === undefined) return;
    try {
      requestStop(runDir, { by });
    } catch (e) {
      say(`gradflow: could not record the stop request: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      say('stopping after the current step (the run log is kept); press Ctrl-C again to kill');
      recordStop('ctrl-c');
      handle.stop();
    } else handle.kill();
  };
  process.on('SIGINT', onSigint);

  // A reader that goes away (`gradflow run FILE --json | head -2`) closes stdout: the run stops after
  // the current step as on Ctrl-C, keeps its log, and nothing more is written to the closed pipe
  // (an unhandled EPIPE would otherwise end the CLI with a stack trace and orphan the trainer).
  let outClosed = false;
  const onOutError = (e: NodeJS.ErrnoException): void => {
    if (outClosed) return;
    outClosed = true;
    say(`gradflow: stdout closed (${e.code ?? e.message}): stopping after the current step (the run log is kept)`);
    recordStop('stdout-closed');
    handle.stop();
  };
  opts.out.on('error', onOutError);
  const write = (s: string): void => {
    if (!outClosed) opts.out.write(s);
  };

  const progress: ProgressState = { step: 0, totalSteps: 0, epoch: 0, epochs: config.training.epochs, stepsPerSecond: 0, nets: [] };
  const startTime = Date.now();
  let lastDraw = 0;
  let lastPlainLine = 0;
  let summary: RunSummary | undefined;
  let failure: string | undefined;

  const draw = (force = false): void => {
    const now = Date.now();
    if (tty) {
      if (!force && now - lastDraw < 100) return;
      lastDraw = now;
      err.write('\r\x1b[K' + stripControl(progressLine(progress, columns)));
    } else if (force || now - lastPlainLine > 10_000) {
      // Logs (CI, pipes) get a line every 10 s instead of a redrawn bar.
      lastPlainLine = now;
      err.write(stripControl(progressLine(progress, 160)) + '\n');
    }
  };

  handle.onStderr((line) => say(`[trainer] ${line}`));
  handle.onMessage((m: TrainerToHost) => {
    if (opts.json) write(JSON.stringify(m) + '\n');
    switch (m.type) {
      case 'hello':
        break;
      case 'ready': {
        progress.totalSteps = m.totalSteps;
        const nets = m.nets.map((n) => `${n.net} (width ${n.width}, ${n.activeWeights} active weights)`).join(' vs ');
        if (!opts.json || tty) {
          say(`gradflow: ${terminalText(config.name)} on ${terminalText(m.dataset.name)}: ${m.dataset.train} train / ${m.dataset.validation} validation / ${m.dataset.test} test`);
          say(`data from ${terminalText(m.dataset.source)}`);
          say(`backend ${m.backend}; ${nets}; ${m.totalSteps} steps (${m.stepsPerEpoch}/epoch)`);
          say(`run folder: ${terminalText(m.runDir)}`);
        }
        runDir = m.runDir;
        if (stopBy !== undefined) recordStop(stopBy);
        unwatch = watchStopRequest(m.runDir, (r) => {
          if (r.pid === process.pid) return; // our own Ctrl-C
          say(`stopping after the current step: asked by ${stopSourceText(r)} (the run log is kept)`);
          handle.stop();
        });
        progress.nets = m.nets.map((n) => ({ net: n.net }));
        break;
      }
      case 'step': {
        const s = m.metrics;
        progress.step = Math.max(progress.step, s.step);
        progress.epoch = s.epoch;
        const elapsed = (Date.now() - startTime) / 1000;
        progress.stepsPerSecond = elapsed > 0 ? progress.step / elapsed : 0;
        const slot = progress.nets.find((n) => n.net === s.net);
        if (slot) {
          slot.loss = s.loss;
          if (s.layers.length > 0) slot.egf2 = s.egf2;
        }
        draw();
        break;
      }
      case 'epoch': {
        const e = m.metrics;
        say(`epoch ${e.epoch} ${e.net}: train loss ${num(e.train.loss)} acc ${(100 * e.train.accuracy).toFixed(2)}% │ val acc ${(100 * e.validation.accuracy).toFixed(2)}% │ test acc ${(100 * e.test.accuracy).toFixed(2)}% loss ${num(e.test.loss)}`);
        draw(true);
        break;
      }
      case 'flow':
        break;
      case 'alert':
        say(`${m.alert.severity === 'error' ? 'ERROR' : 'warning'} [${m.alert.kind}] ${m.alert.message}`);
        break;
      case 'log':
        if (m.level !== 'info' || !opts.json) say(`${m.level === 'info' ? '' : m.level + ': '}${m.message}`);
        break;
      case 'done':
        summary = m.summary;
        break;
      case 'error':
        failure = m.message + (m.key ? ` (key: ${m.key})` : '');
        break;
    }
  });

  const outcome = await session.ended;
  const exit = outcome.exit;
  unwatch?.();
  process.off('SIGINT', onSigint);
  if (tty) err.write('\r\x1b[K');

  if (summary) {
    if (!opts.json) {
      write('\n' + stripControl(summaryTable(summary), { keepNewlines: true }) + '\n\n');
      const why = outcome.status === 'stopped' ? ` (${stoppedReason(summary.reason, readStopRequest(summary.runDir))})` : outcome.status === 'failed' ? ` (${summary.reason ?? 'unknown reason'})` : '';
      write(stripControl(`run ${summary.runId}: ${statusLabel(outcome.status, outcome.diverged)}${why}; log and summary in ${terminalText(path.relative(process.cwd(), summary.runDir) || summary.runDir)}`) + '\n');
    }
    const diverged = summary.nets.filter((n) => n.diverged);
    if (summary.finished && diverged.length > 0) {
      say(`gradflow: ${diverged.map((n) => n.diverged?.reason).join('; ')} (monitoring.on_nan: stop)`);
      // The run is complete (a sweep keeps it) but training failed: scripts should notice.
      return { exitCode: 1, outcome };
    }
    if (summary.finished) return { exitCode: 0, outcome };
    // A user stop is not a failure of the run but the shell should know it was interrupted.
    return { exitCode: summary.stopped ? 130 : 1, outcome };
  }
  say(`gradflow: run ${outcome.status}: ${failure ?? `trainer exited with code ${exit.code}`}`);
  if (outcome.runDir !== undefined) say(`what was measured is kept in ${terminalText(outcome.runDir)}`);
  return { exitCode: 1, outcome };
}
