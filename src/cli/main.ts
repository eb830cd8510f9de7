/**
 * gradflow — command-line runner sharing the extension's engine and trainer process.
 *
 *   gradflow run FILE [--json] [--backend auto|tensorflow|wasm|cpu] [--set key=value ...]
 *   gradflow sweep FILE [--executor local|slurm ...]   run a sweep (local pool or one Slurm array)
 *   gradflow sweep --status DIR | --cancel DIR
 *   gradflow sweep-task SWEEP_DIR I --batch FILE       one array task (run by Slurm, not by hand)
 *   gradflow supervise             the detached host of a run started from VS Code (not by hand)
 *   gradflow sweep-host PLAN       the detached scheduler of a local sweep started from VS Code (not by hand)
 *   gradflow runs [DIR]            list runs
 *   gradflow help
 */
import * as path from 'node:path';
import { stripControl } from '../shared/text';
import { terminalText } from '../shared/sanitize';
import { BACKENDS, type BackendPreference } from '../shared/experiment';
import { runOne } from './run';
import { loadForCli, CliUsageError } from './load';
import { listPastRuns } from '../runs/folders';
import { runLabel, startLabel } from '../runs/status';
import type { SlurmRequest } from '../runs/slurm';
import { table } from './format';
import { sweepCommand, sweepStatusCommand, sweepCancelCommand, sweepTaskCommand, EXECUTORS, type Executor } from './sweep';
import { reportCommand } from '../study/report';
import { earlyWarningCommand } from '../study/early-warning/cli';
import { superviseCommand } from './supervise';
import { sweepHostCommand } from './sweep-host';
import { at } from '../shared/checked';

const USAGE = `gradflow — live gradient flow for sparse neural networks

usage:
  gradflow run FILE [options]     train the experiment (an SC-SDC pair when the file says so)
  gradflow sweep FILE [options]   run the file's sweep (resumable): a local worker pool, or one
                                  Slurm job array with --executor slurm
  gradflow sweep --status DIR     a Slurm sweep's tasks: Slurm state, run status, failures' log tails
  gradflow sweep --cancel DIR     scancel a Slurm sweep's arrays (finished runs are kept)
  gradflow report SWEEP_DIR | --from-table FILE [--out DIR] [--format md,csv,tex,svg,png]
                                  correlation and sparse-vs-dense significance tables, width plots,
                                  a pruning-criteria comparison when the sweep varies sparsity.method
  gradflow early-warning SWEEP_DIR [--out DIR]
                                  measures how well the first 5/10/20 % of each run predict its end
                                  from EGF vs early loss, accuracy and ||g||_2 (AUC, Kendall τ)
  gradflow runs [DIR]             list runs, sweeps' runs included (default: .gradflow/runs)
  gradflow help                   this text

run options:
  --json                 stream the trainer protocol's events as JSON lines on stdout
  --backend NAME         force a TensorFlow.js backend: ${BACKENDS.join(' | ')}
  --set KEY=VALUE        override a key of the file, e.g. --set training.epochs=1 (repeatable)
  --workers N            sweep: parallel trainer processes (default: sweep.workers, else one per core)

report options (see docs/study.md):
  --out DIR                  where to write (default SWEEP_DIR/report)
  --format LIST              comma-separated md,csv,tex,svg,png (default all)
  --bootstrap-resamples N    resamples of the paired bootstrap of |τ| differences (default 2000)
  --bootstrap-seed N         seed of the bootstrap resampler, 0 to 4294967295 (default 13)
  --confidence L             level of the bootstrap intervals, between 0 and 1 (default 0.95)
  --bootstrap-unit U         auto | run | configuration: the bootstrap's resampling unit (default
                             auto: configuration, i.e. all seeds together, when seeds repeat)
  --include-blown-up         keep blown-up nets in the correlation tables (default: left out, listed)
  --export-table FILE        where to write the per-net table (default OUT/nets.jsonl)
  --from-table FILE          build the report from a per-net table instead of SWEEP_DIR

sweep on Slurm (see docs/cluster.md; the runs folder must be on storage the nodes share):
  --executor local|slurm  where the sweep's configurations train (default local)
  --partition NAME        sbatch --partition
  --max-parallel N        at most N array tasks at once (the array's %N)
  --time T                sbatch --time per task, e.g. 2:00:00
  --cpus-per-task N       sbatch --cpus-per-task
  --mem SIZE              sbatch --mem, e.g. 4G
  --sbatch-arg ARG        passed to sbatch as it is (repeatable), e.g. --sbatch-arg=--qos=short
  --wait                  follow the array to its end with the progress bar (else return once submitted)

Ctrl-C stops after the current step and keeps the run log; press it twice to kill.
Exit codes: 0 finished, 1 failed or a net diverged (NaN/Inf), 2 bad input, 130 stopped by the user.`;

/** The command line; the Slurm fields are the sweep's sbatch request (`--partition`, …). */
interface ParsedArgs extends SlurmRequest {
  command: string;
  positional: string[];
  json: boolean;
  backend?: BackendPreference;
  sets: string[];
  workers?: number;
  out?: string;
  format?: string;
  bootstrapResamples?: string;
  bootstrapSeed?: string;
  confidence?: string;
  bootstrapUnit?: string;
  includeBlownUp?: boolean;
  fromTable?: string;
  exportTable?: string;
  executor: Executor;
  wait: boolean;
  status?: string;
  cancel?: string;
  batch?: string;
}

function positiveInt(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliUsageError(`${flag}: expected a positive integer, got '${v ?? ''}'`);
  return n;
}

function parseArgs(argv: string[]): ParsedArgs {
  const out: ParsedArgs = { command: argv[0] ?? 'help', positional: [], json: false, sets: [], executor: 'local', sbatchArgs: [], wait: false };
  for (let i = 1; i < argv.length; i++) {
    const a = at(argv, i);
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      const v = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new CliUsageError(`${flag}: missing value`);
      return v;
    };
    if (a === '--json') out.json = true;
    else if (a === '--wait') out.wait = true;
    else if (flag === '--executor') {
      const v = value();
      if (!(EXECUTORS as readonly string[]).includes(v)) throw new CliUsageError(`--executor: expected one of ${EXECUTORS.join(', ')}, got '${v}'`);
      out.executor = v as Executor;
    } else if (flag === '--partition') out.partition = value();
    else if (flag === '--max-parallel') out.maxParallel = positiveInt(flag, value());
    else if (flag === '--time') out.time = value();
    else if (flag === '--cpus-per-task') out.cpusPerTask = positiveInt(flag, value());
    else if (flag === '--mem') out.mem = value();
    else if (flag === '--sbatch-arg') out.sbatchArgs.push(value());
    else if (flag === '--status') out.status = value();
    else if (flag === '--cancel') out.cancel = value();
    else if (flag === '--batch') out.batch = value();
    else if (flag === '--bootstrap-resamples') out.bootstrapResamples = value();
    else if (flag === '--bootstrap-seed') out.bootstrapSeed = value();
    else if (flag === '--confidence') out.confidence = value();
    else if (flag === '--bootstrap-unit') out.bootstrapUnit = value();
    else if (a === '--include-blown-up') out.includeBlownUp = true;
    else if (flag === '--from-table') out.fromTable = value();
    else if (flag === '--export-table') out.exportTable = value();
    else if (a === '--backend' || a.startsWith('--backend=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v || !(BACKENDS as readonly string[]).includes(v)) throw new CliUsageError(`--backend: expected one of ${BACKENDS.join(', ')}, got '${v ?? ''}'`);
      out.backend = v as BackendPreference;
    } else if (a === '--set' || a.startsWith('--set=')) {
      const v = a.includes('=') && a.startsWith('--set=') ? a.slice(6) : argv[++i];
      if (!v || !v.includes('=')) throw new CliUsageError(`--set: expected KEY=VALUE, got '${v ?? ''}'`);
      out.sets.push(v);
    } else if (a === '--workers' || a.startsWith('--workers=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new CliUsageError(`--workers: expected a positive integer, got '${v ?? ''}'`);
      out.workers = n;
    } else if (a === '--out' || a === '--format') {
      const v = argv[++i];
      if (!v) throw new CliUsageError(`${a}: missing value`);
      if (a === '--out') out.out = v;
      else out.format = v;
    } else if (a === '-h' || a === '--help') out.command = 'help';
    else if (a.startsWith('-')) throw new CliUsageError(`unknown option ${a}`);
    else out.positional.push(a);
  }
  return out;
}

/**
 * Every command but `run` (which stops its trainer first, run.ts) ends quietly when its reader goes
 * away (`gradflow runs | head`): exit status 141 as for SIGPIPE, no EPIPE stack trace.
 */
function endOnClosedStdout(e: NodeJS.ErrnoException): void {
  if (e.code !== 'EPIPE') throw e;
  process.exit(141);
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.command !== 'run') process.stdout.on('error', endOnClosedStdout);
  const trainerPath = path.join(__dirname, 'trainer.js');
  switch (args.command) {
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return 0;
    case 'run': {
      const file = args.positional[0];
      if (!file) throw new CliUsageError('run: missing FILE (an experiment file, e.g. examples/quick-synthetic.gradflow.yaml)');
      const { config, sourceFile, sweep } = loadForCli(file, args.sets);
      if (sweep) throw new CliUsageError(`${terminalText(file)} declares a sweep: run it with \`gradflow sweep ${terminalText(file)}\` (or remove the sweep section to train one configuration)`);
      const outcome = await runOne(config, sourceFile, {
        json: args.json,
        trainerPath,
        out: process.stdout,
        err: process.stderr,
        backend: args.backend,
      });
      return outcome.exitCode;
    }
    case 'sweep': {
      if (args.status !== undefined) return sweepStatusCommand(path.resolve(args.status), { out: process.stdout, json: args.json });
      if (args.cancel !== undefined) return sweepCancelCommand(path.resolve(args.cancel), { out: process.stdout });
      const file = args.positional[0];
      if (!file) throw new CliUsageError('sweep: missing FILE (an experiment file with a sweep section)');
      const { config, sourceFile, sweep } = loadForCli(file, args.sets);
      if (!sweep) throw new CliUsageError(`${terminalText(file)} has no sweep section: run it with \`gradflow run ${terminalText(file)}\``);
      return sweepCommand(config, sweep, sourceFile, {
        trainerPath,
        json: args.json,
        out: process.stdout,
        err: process.stderr,
        workers: args.workers,
        backend: args.backend,
        executor: args.executor,
        wait: args.wait,
        slurm: {
          partition: args.partition,
          maxParallel: args.maxParallel,
          time: args.time,
          cpusPerTask: args.cpusPerTask,
          mem: args.mem,
          sbatchArgs: args.sbatchArgs,
          cliPath: __filename,
        },
      });
    }
    case 'sweep-task': {
      const [dir, index] = args.positional;
      if (dir === undefined || index === undefined || args.batch === undefined) throw new CliUsageError('sweep-task: usage gradflow sweep-task SWEEP_DIR INDEX --batch FILE (Slurm runs this)');
      const i = Number(index);
      if (!Number.isInteger(i) || i < 0) throw new CliUsageError(`sweep-task: INDEX must be a task index (0, 1, …), got '${index}'`);
      return sweepTaskCommand(path.resolve(dir), i, path.resolve(args.batch), trainerPath, process.stdout);
    }
    case 'supervise':
      return superviseCommand(trainerPath);
    case 'sweep-host': {
      const plan = args.positional[0];
      if (!plan) throw new CliUsageError('sweep-host: missing PLAN (started by the VS Code extension, not by hand)');
      return sweepHostCommand(plan, trainerPath);
    }
    case 'report': {
      const dir = args.positional[0];
      if (!dir && args.fromTable === undefined) throw new CliUsageError('report: missing SWEEP_DIR (the folder `gradflow sweep` printed) or --from-table FILE');
      return reportCommand(dir ? path.resolve(dir) : undefined, {
        bootstrapUnit: args.bootstrapUnit,
        ...(args.includeBlownUp === true ? { includeBlownUp: true } : {}),
        fromTable: args.fromTable,
        exportTable: args.exportTable,
        out: args.out,
        format: args.format,
        bootstrapResamples: args.bootstrapResamples,
        bootstrapSeed: args.bootstrapSeed,
        confidence: args.confidence,
        stdout: process.stdout,
        stderr: process.stderr,
      });
    }
    case 'early-warning': {
      const dir = args.positional[0];
      if (!dir) throw new CliUsageError('early-warning: missing SWEEP_DIR (the folder `gradflow sweep` printed)');
      return earlyWarningCommand(path.resolve(dir), {
        out: args.out,
        bootstrapResamples: args.bootstrapResamples,
        bootstrapSeed: args.bootstrapSeed,
        confidence: args.confidence,
        stdout: process.stdout,
        stderr: process.stderr,
      });
    }
    case 'runs': {
      const dir = path.resolve(args.positional[0] ?? '.gradflow/runs');
      const runs = listPastRuns([dir], Infinity);
      if (runs.length === 0) {
        process.stdout.write(`no runs in ${terminalText(dir)}\n`);
        return 0;
      }
      if (args.json) {
        for (const r of runs) process.stdout.write(JSON.stringify(r) + '\n');
        return 0;
      }
      process.stdout.write(
        table(
          ['started', 'run', 'status', 'backend', 'sweep', 'note'],
          runs.map((r) =>
            [startLabel(r.startedAt), r.runId, runLabel(r), r.backend ?? '', r.sweep ?? '', at((r.reason ?? '').split('\n'), 0).slice(0, 80)].map((cell) => terminalText(cell)),
          ),
        ) + '\n',
      );
      return 0;
    }
    default:
      throw new CliUsageError(`unknown command '${args.command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof CliUsageError) {
      process.stderr.write(`gradflow: ${stripControl(e.message, { keepNewlines: true })}\n`);
      if (e.showUsage) process.stderr.write(`\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    // No stack trace for users (GRADFLOW_DEBUG=1 shows it): the message says what went wrong.
    const shown = e instanceof Error ? (process.env.GRADFLOW_DEBUG ? (e.stack ?? e.message) : e.message) : String(e);
    process.stderr.write(`gradflow: ${stripControl(shown, { keepNewlines: true })}\n`);
    process.exitCode = 1;
  },
);
