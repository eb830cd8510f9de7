/**
 * Issue 18, row 1: a newline in an experiment's name (or in its file name, when it has no `name`)
 * used to become a shell line of the Slurm batch script, run on the compute node. Through the REAL
 * one-node cluster (scripts/setup-slurm.sh): hostile names, in a project folder whose path holds
 * spaces, quotes, `$`, backticks and a newline. The sweep runs; no marker file exists anywhere;
 * the name is shown intact but escaped where it is shown (the sweep's output, the report, the job
 * name); the batch script holds no user text.
 *
 * Not a test file of its own: `slurm.test.ts` registers these tests (`injectionTests`), so they run
 * in its process between its `before` (start the cluster) and `after` (stop it if it started it) —
 * two test files starting and stopping the one cluster concurrently would stop it under each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJobs } from '../../src/runs/slurm';
import { cliPath, tmpDir } from '../trainer/helpers';
import { tinySweepYaml } from './cluster';
import { at } from '../../src/shared/checked';

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

function gradflow(args: string[], cwd: string): Promise<Done> {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, GRADFLOW_CLAIM_STALE_S: '600' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A project folder whose own path is hostile: the batch script must quote it. */
function hostileRoot(): string {
  const root = path.join(tmpDir('inject'), "we ird 'q' $HOME `id`\nline");
  fs.mkdirSync(root, { recursive: true });
  return root;
}

/** Every file under `dir` named like a marker (a command of the name that ran would have created one). */
function markers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (/^(ABS-)?MARKER(-\d)?$/.test(e.name)) out.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function onlySweepDir(runsDir: string): string {
  const dirs = fs.readdirSync(runsDir).filter((n) => n.startsWith('sweep-'));
  assert.equal(dirs.length, 1, dirs.join(', '));
  return path.join(runsDir, at(dirs, 0));
}

/** `squeue`'s job name of a job (%j), while Slurm still lists it (MinJobAge: 300 s). */
function jobName(jobId: string): string {
  const r = spawnSync('squeue', ['-h', '-r', '-t', 'all', '-j', jobId, '-o', '%j'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const names = [...new Set(r.stdout.split('\n').filter((l) => l !== ''))];
  const [name] = names;
  assert.ok(name !== undefined && names.length === 1, r.stdout);
  return name;
}

/** Registers the injection tests; `skip` is the cluster suite's skip value (clusterSkip()). */
export function injectionTests(skip: string | false): void {
  test('a name with a newline and shell metacharacters runs nothing on the node and is shown escaped', { skip, timeout: 240_000 }, async () => {
    const root = hostileRoot();
    const abs = path.join(root, 'ABS-MARKER');
    const name = `evil\n$(touch MARKER-1)\n\`touch MARKER-2\`; touch MARKER-3\n#SBATCH --wrap="touch MARKER-4"\ntouch '${abs}'`;
    const file = path.join(root, 'exp.gradflow.yaml');
    fs.writeFileSync(file, tinySweepYaml(JSON.stringify(name), 1, { runsDir: 'runs' }));
    const r = await gradflow(['sweep', file, '--executor', 'slurm', '--wait'], root);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /1 finished/);
    assert.deepEqual(markers(path.dirname(root)), [], 'no command of the name ran');

    // Shown intact, one line, escaped (hand-written: newlines as \n, the rest as typed).
    const shown = `evil\\n$(touch MARKER-1)\\n\`touch MARKER-2\`; touch MARKER-3\\n#SBATCH --wrap="touch MARKER-4"\\ntouch '${root.replace('\n', '\\n')}/ABS-MARKER'`;
    assert.ok(r.stderr.includes(`sweep ${shown}: 1 runs`), r.stderr);
    assert.ok(r.stdout.includes(`sweep ${shown}: 1 finished`), r.stdout);

    const sweepDir = onlySweepDir(path.join(root, 'runs'));
    const [job] = readJobs(sweepDir);
    assert.ok(job);
    // Newlines, spaces, quotes, `$ ( ) ; # " '` and backticks become `_`; cut at 100 characters (hand-written from the name above).
    assert.equal(jobName(job.jobId), 'gradflow-evil___touch_MARKER-1___touch_MARKER-2___touch_MARKER-3__SBATCH_--wrap=_touch_MARKER-4__tou');
    // The batch script: no user text but the quoted paths, which the shell reads back as exactly
    // the intended arguments (its `exec` replaced by printing each argument).
    const script = fs.readFileSync(job.batch.replace(/\.json$/, '.sh'), 'utf8');
    assert.doesNotMatch(script, /MARKER|SBATCH|\$\(touch/, 'no user text in the batch script');
    const argv = spawnSync('sh', ['-c', script.replace(/^exec /m, "printf '%s\\0' ")], { encoding: 'utf8', env: { ...process.env, SLURM_ARRAY_TASK_ID: '7' } });
    assert.equal(argv.status, 0, argv.stderr);
    assert.deepEqual(argv.stdout.split('\0').slice(0, -1), [process.execPath, cliPath, 'sweep-task', sweepDir, '7', '--batch', job.batch]);

    // The report: the name is one heading line, its specials escaped.
    const rep = await gradflow(['report', sweepDir, '--format', 'md,csv,tex'], root);
    assert.equal(rep.code, 0, rep.stderr);
    const md = fs.readFileSync(path.join(sweepDir, 'report', 'report.md'), 'utf8');
    const heading = md.split('\n')[0];
    assert.equal(
      heading,
      `# Sweep report: evil\\\\n\\$(touch MARKER-1)\\\\n\\\`touch MARKER-2\\\`; touch MARKER-3\\\\n#SBATCH --wrap="touch MARKER-4"\\\\ntouch '${root.replace('\n', '\\\\n').replace(/[`$]/g, '\\$&')}/ABS-MARKER'`,
    );
    assert.equal(md.split('\n')[1], '', 'the heading is one line');
    assert.deepEqual(markers(path.dirname(root)), []);

    // `gradflow runs`: one row for the one run; the sweep cell is the folder's slug.
    const runs = await gradflow(['runs', path.join(root, 'runs')], root);
    assert.equal(runs.code, 0, runs.stderr);
    const rows = runs.stdout.trimEnd().split('\n').slice(2);
    assert.equal(rows.length, 1, runs.stdout);
    assert.ok(at(rows, 0).includes(path.basename(sweepDir).slice('sweep-'.length)), runs.stdout);
  });

  test('a hostile file name (no name key) runs nothing either', { skip, timeout: 240_000 }, async () => {
    const root = hostileRoot();
    const file = path.join(root, "x\n$(touch MARKER-5); `touch MARKER-6` 'q.gradflow.yaml");
    // No `name:` line: the experiment is named after its file.
    fs.writeFileSync(file, tinySweepYaml('unused', 1, { runsDir: 'runs' }).replace(/^name: unused\n/, ''));
    const r = await gradflow(['sweep', file, '--executor', 'slurm', '--wait'], root);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /1 finished/);
    assert.deepEqual(markers(path.dirname(root)), [], 'no command of the file name ran');
    assert.ok(r.stdout.includes("sweep x\\n$(touch MARKER-5); `touch MARKER-6` 'q: 1 finished"), r.stdout);
    const [job] = readJobs(onlySweepDir(path.join(root, 'runs')));
    assert.ok(job);
    assert.equal(jobName(job.jobId), 'gradflow-x___touch_MARKER-5____touch_MARKER-6___q');
  });
}
