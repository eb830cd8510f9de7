/**
 * Which sweeps the editor runs. It plans a sweep whole before the first run (the sweep view lists
 * every configuration from the start, and the data each needs is fetched first), which for a
 * 10⁶-run sweep took minutes and over a gigabyte before anything showed. Above the bound where the
 * CLI streams, the editor refuses at once, from the run count alone, and points to the CLI.
 */
import { grouped, STREAM_ABOVE_RUNS } from '../config/limits';

/** Why the editor does not run a sweep of `runs` runs (points × seeds), or undefined when it does. */
export function editorSweepRefusal(runs: number, file: string): string | undefined {
  if (runs <= STREAM_ABOVE_RUNS) return undefined;
  return (
    `the sweep has ${grouped(runs)} runs, more than the ${grouped(STREAM_ABOVE_RUNS)} the editor plans ahead; ` +
    `run it from a terminal with \`gradflow sweep ${file}\`, which streams it (the first run starts at once), ` +
    `and open its folder with Gradflow: Open Sweep… to follow it`
  );
}
