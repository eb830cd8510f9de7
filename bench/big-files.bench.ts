/**
 * Peak RSS and wall time of the three big-file cases of issue 18 (not part of `npm run bench`:
 * it writes a 1 GB log and inflates gigabytes). Each case runs in its own child process, so its
 * peak RSS (`process.resourceUsage().maxRSS`) is its own:
 *
 *   experiment  a 3 GB `*.gradflow.yaml` (a sparse file) through the CLI loader
 *   log         a metrics.jsonl of --log-mb MB (default 1024) through readMetricsLog
 *   bomb        an IDX gzip bomb (header: 60,000 images; inflates to 3 GiB) through a folder source
 *
 * Usage: scripts/run-ts.sh bench/big-files.bench.ts [--cases experiment,log,bomb] [--log-mb 1024]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { loadForCli } from '../src/cli/load';
import { readMetricsLog } from '../src/runs/store';
import { folderSource } from '../src/data/files';
import { idxRule } from '../src/data/idx';
import { arg } from './util';
import { at } from '../src/shared/checked';

type Case = 'experiment' | 'log' | 'bomb';

/** Runs one case in this (child) process and prints one JSON line. */
async function child(kind: Case, where: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  let outcome: string;
  try {
    if (kind === 'experiment') {
      loadForCli(where, []);
      outcome = 'accepted';
    } else if (kind === 'log') {
      const log = readMetricsLog(where) as { messages: unknown[]; skipped: number; omittedSteps?: number };
      outcome = `${log.messages.length} messages kept, ${log.skipped} skipped${log.omittedSteps !== undefined ? `, ${log.omittedSteps} steps left out` : ''}`;
    } else {
      const buf = await folderSource(where).get('train-images-idx3-ubyte', idxRule(3));
      outcome = `read ${buf?.length ?? 0} bytes`;
    }
  } catch (e) {
    outcome = `refused: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}`;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const ru = process.resourceUsage();
  const cpuMs = Math.round((ru.userCPUTime + ru.systemCPUTime) / 1000);
  process.stdout.write(`${JSON.stringify({ kind, ms: Math.round(ms), cpuMs, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024), outcome })}\n`);
}

function stepLine(net: string, step: number): string {
  const layer = { active: 241_472, raw: { l1: 12.345678, l2: 0.8765432 }, masked: { l1: 6.1234567, l2: 0.4567891 } };
  return JSON.stringify({ type: 'step', metrics: { net, step, epoch: Math.floor(step / 469), loss: 2.302585 / step, accuracy: 0.734375, egf1: 0.01234567, egf2: 0.00345678, g1: 123.456789, g2: 1.23456789, layers: [layer, layer, layer, layer] } });
}

/** A metrics.jsonl of about `mb` MB: real step lines of two nets, an epoch-ish log line every 469 steps. */
function makeLog(dir: string, mb: number): void {
  const fd = fs.openSync(path.join(dir, 'metrics.jsonl'), 'w');
  let bytes = 0;
  let step = 1;
  while (bytes < mb * 1e6) {
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++, step++) {
      lines.push(stepLine('sparse', step), stepLine('dense', step));
      if (step % 469 === 0) lines.push(JSON.stringify({ type: 'log', level: 'info', message: `epoch ${step / 469}` }));
    }
    const text = lines.join('\n') + '\n';
    fs.writeSync(fd, text);
    bytes += Buffer.byteLength(text);
  }
  fs.closeSync(fd);
}

function makeBomb(dir: string): number {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x803, 0);
  header.writeUInt32BE(60_000, 4);
  header.writeUInt32BE(28, 8);
  header.writeUInt32BE(28, 12);
  // gzip members concatenated: a valid stream of 3 GiB + 16 bytes, about 3 MB compressed.
  const zeros = zlib.gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  const parts = [zlib.gzipSync(header), ...new Array<Buffer>(3 * 1024).fill(zeros)];
  const body = Buffer.concat(parts);
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), body);
  return body.length;
}

async function main(): Promise<void> {
  const childKind = arg('child') as Case | undefined;
  if (childKind !== undefined) return child(childKind, arg('where') ?? '');
  const cases = (arg('cases') ?? 'experiment,log,bomb').split(',') as Case[];
  const logMb = Number(arg('log-mb') ?? 1024);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradflow-bigfiles-'));
  try {
    for (const kind of cases) {
      let where: string;
      let made: string;
      if (kind === 'experiment') {
        where = path.join(dir, 'huge.gradflow.yaml');
        const fd = fs.openSync(where, 'w');
        fs.ftruncateSync(fd, 3 * 1024 ** 3);
        fs.closeSync(fd);
        made = '3 GiB sparse file';
      } else if (kind === 'log') {
        where = dir;
        makeLog(dir, logMb);
        made = `${(fs.statSync(path.join(dir, 'metrics.jsonl')).size / 1e6).toFixed(0)} MB log`;
      } else {
        where = dir;
        made = `${(makeBomb(dir) / 1e6).toFixed(1)} MB gzip → 3 GiB`;
      }
      const r = spawnSync(process.execPath, [at(process.argv, 1), '--child', kind, '--where', where], { encoding: 'utf8', maxBuffer: 1 << 20 });
      const line = r.stdout.trim().split('\n').at(-1) ?? '';
      process.stdout.write(`${kind} (${made}): ${line !== '' ? line : `child exited ${r.status ?? r.signal} ${r.stderr.slice(-300)}`}\n`);
      if (kind === 'log') fs.rmSync(path.join(dir, 'metrics.jsonl'));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
