/**
 * `gradflow sweep-host PLAN`: the detached scheduler of a local sweep started from VS Code
 * (src/runs/sweep-host.ts). The extension writes the session's plan into the sweep folder and starts
 * this command in its own session and process group, with no IPC channel and its output going to
 * the session's log file, so a window reload (or a crash of the extension host) does not end the
 * sweep: the window that comes back follows the session's events file again.
 */
import * as path from 'node:path';
import { hostSweep, sessionFiles } from '../runs/sweep-host';
import { countsText } from '../runs/sweep';
import { CliUsageError } from './load';

/** `PLAN` is `<sweep folder>/host/<session id>.plan.json`. */
export function planFileSession(planFile: string): ReturnType<typeof sessionFiles> {
  const abs = path.resolve(planFile);
  const base = path.basename(abs);
  if (!base.endsWith('.plan.json') || path.basename(path.dirname(abs)) !== 'host')
    throw new CliUsageError(`sweep-host: expected <sweep folder>/host/<session>.plan.json (written by the VS Code extension), got ${planFile}`);
  return sessionFiles(path.dirname(path.dirname(abs)), base.slice(0, -'.plan.json'.length));
}

export async function sweepHostCommand(planFile: string, trainerPath: string): Promise<number> {
  const files = planFileSession(planFile);
  process.title = `gradflow-sweep-host ${path.basename(path.dirname(files.dir))}`;
  const note = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  note(`gradflow sweep-host: session ${files.id}, pid ${process.pid}`);
  const { counts, cancelled } = await hostSweep({ trainerPath, files, note });
  note(`gradflow sweep-host: ${cancelled ? 'cancelled' : 'done'}: ${countsText(counts)}`);
  return counts.failed + counts.killed > 0 ? 1 : 0;
}
