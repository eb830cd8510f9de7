/** `gradflow sweep FILE`: expand the file's sweep and run it in a worker pool, with a progress bar over runs. */
import type { BackendPreference, ExperimentConfig } from '../shared/experiment';
import { stripControl } from '../shared/text';
import type { SweepSpec } from '../config';
import { expandSweep } from '../config';
import { planSweep, runSweep, type SweepEvent } from '../study/sweep-runner';
import { bar, formatDuration, num, pct } from './format';
import { GRADFLOW_VERSION } from '../shared/version';

export interface SweepCliOptions {
  trainerPath: string;
  workers?: number;
  backend?: BackendPreference;
  err: NodeJS.WritableStream;
  out: NodeJS.WritableStream;
  json: boolean;
}

export async function sweepCommand(config: ExperimentConfig, spec: SweepSpec, sourceFile: string, opts: SweepCliOptions): Promise<number> {
  const runs = expandSweep(config, spec);
  const plan = planSweep(config.name, runs, config.run.runsDir, sourceFile);
  const err = opts.err;
  const tty = (err as NodeJS.WriteStream).isTTY === true;
  const started = Date.now();
  let total = 0;
  let ended = 0;
  let toRun = 0;
  const progress = new Map<string, number>();
  const line = (): string => {
    const partial = [...progress.values()].reduce((a, b) => a + b, 0);
    const frac = toRun > 0 ? (ended + partial) / toRun : 1;
    const elapsed = (Date.now() - started) / 1000;
    const eta = frac > 0 ? (elapsed / frac) * (1 - frac) : NaN;
    return `|${bar(frac, 24)}| ${ended}/${toRun} runs (${total - toRun} already done) ${progress.size} running, ETA ${formatDuration(eta)}`;
  };
  let lastDraw = 0;
  const draw = (force = false): void => {
    const now = Date.now();
    if (!force && now - lastDraw < (tty ? 200 : 15_000)) return;
    lastDraw = now;
    err.write(tty ? '\r\x1b[K' + line() : line() + '\n');
  };
  const say = (s: string): void => {
    err.write((tty ? '\r\x1b[K' : '') + stripControl(s, { keepNewlines: true }) + '\n');
    draw(true);
  };

  const handle = runSweep(plan, {
    trainerPath: opts.trainerPath,
    ...(opts.workers !== undefined ? { workers: opts.workers } : spec.workers !== undefined ? { workers: spec.workers } : {}),
    ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
    onEvent: (e: SweepEvent) => {
      if (opts.json) opts.out.write(JSON.stringify(e) + '\n');
      switch (e.type) {
        case 'plan':
          total = e.total;
          toRun = e.toRun;
          say(`sweep ${plan.name}: ${e.total} runs, ${e.skipped} already finished, ${e.toRun} to run on ${e.workers} worker(s); folder ${plan.dir}`);
          for (const o of e.otherVersions)
            say(`note: ${o.runs} of the finished runs were made by gradflow ${o.version}, not ${GRADFLOW_VERSION}; they are reused (delete their folders to redo them)`);
          break;
        case 'start':
          progress.set(e.id, 0);
          draw();
          break;
        case 'progress':
          progress.set(e.id, e.totalSteps > 0 ? e.step / e.totalSteps : 0);
          draw();
          break;
        case 'end': {
          progress.delete(e.id);
          ended++;
          const accs = e.summary?.nets.map((n) => `${n.net} ${pct(n.final.test.accuracy)} EGF₂ ${num(n.flowAverage.egf2, 3)}`).join(', ') ?? '';
          say(`${e.status.padEnd(8)} ${e.id} ${accs}${e.error ? ` — ${e.error.split('\n')[0]}` : ''}`);
          break;
        }
      }
    },
  });
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    say(interrupts === 1 ? 'stopping: running trainers finish their step; finished runs are kept. Re-run to resume.' : 'still stopping…');
    handle.stop();
  };
  process.on('SIGINT', onSigint);
  const counts = await handle.done;
  process.off('SIGINT', onSigint);
  if (tty) err.write('\r\x1b[K');
  opts.out.write(stripControl(`sweep ${plan.name}: ${counts.finished} finished, ${counts.skipped} skipped (done before), ${counts.stopped} stopped, ${counts.failed} failed`) + '\n');
  opts.out.write(stripControl(`report: gradflow report ${plan.dir}`) + '\n');
  if (interrupts > 0) return 130;
  return counts.failed > 0 ? 1 : 0;
}
