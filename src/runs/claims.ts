/**
 * Claims: a configuration of a sweep is claimed before it trains, so two schedulers (two
 * `gradflow sweep`, two Slurm tasks, a local sweep and a Slurm sweep, the editor and a terminal)
 * never train it twice.
 *
 * A claim is a file `<sweepDir>/claims/<configId>/<n>.claim`, `n` = 1, 2, … (the attempt), created
 * with O_CREAT|O_EXCL: of all processes creating the same `n`, exactly one succeeds. It holds the
 * holder's host, pid, start time and a token; its modification time is the heartbeat, refreshed by
 * the holder every CLAIM_HEARTBEAT_MS while it trains. The newest attempt is the claim in force:
 * - with a `<n>.released` file beside it, it is free (the holder ended: finished, failed, stopped);
 * - with a heartbeat older than `claimStaleMs()`, its holder is presumed dead: the next claimant
 *   takes it over by creating `<n+1>.claim` (again exclusively, so one taker wins) and logs it;
 * - otherwise it is held.
 * Nothing is deleted or rewritten, so no step needs a lock, and a lost race is always an EEXIST.
 *
 * Guarantees relied on from a shared filesystem: exclusive create (`open` with O_EXCL) is atomic
 * across clients — true on local filesystems, NFSv3 and v4 (Linux ≥ 2.6.5 clients), Lustre, GPFS,
 * BeeGFS and CephFS; a file's mtime set by one client is seen by the others within the attribute
 * cache time (NFS `acregmax`, 60 s by default), which is why the stale limit is well above it; and
 * the hosts' clocks agree to within a few seconds (NTP), because a heartbeat is a timestamp.
 * NFSv2 does not honour O_EXCL and is not supported.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { envSecondsMs } from './store';

/** How often a holder refreshes its claim's heartbeat. */
export const CLAIM_HEARTBEAT_MS = 10_000;

/** A claim whose heartbeat is older than this is stale and may be taken over. `GRADFLOW_CLAIM_STALE_S` overrides it. */
export function claimStaleMs(): number {
  return envSecondsMs('GRADFLOW_CLAIM_STALE_S', 120_000);
}

export interface ClaimInfo {
  host: string;
  pid: number;
  startedAt: string;
  /** Who holds it: `local` (a local sweep), `slurm <jobid>_<task>`, … */
  holder: string;
  token: string;
  /** The attempt number. */
  attempt: number;
}

export type ClaimState =
  | { kind: 'free' }
  | { kind: 'held'; claim: ClaimInfo | undefined; heartbeatAgeMs: number }
  | { kind: 'stale'; claim: ClaimInfo | undefined; heartbeatAgeMs: number; attempt: number }
  | { kind: 'released'; claim: ClaimInfo | undefined; attempt: number };

export interface Claim {
  readonly info: ClaimInfo;
  readonly file: string;
  /** When this claim took over a stale one: what it took over. */
  readonly tookOver?: { attempt: number; claim: ClaimInfo | undefined; heartbeatAgeMs: number };
  /** Refresh the heartbeat now (also done by a timer every CLAIM_HEARTBEAT_MS). */
  beat(): void;
  /** End the claim: the configuration is free again (a finished run keeps it from being redone). */
  release(): void;
}

function claimDir(sweepDir: string, configId: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(configId)) throw new Error(`bad configuration id '${configId}'`);
  return path.join(sweepDir, 'claims', configId);
}

function attempts(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const n of names) {
    const m = /^(\d+)\.claim$/.exec(n);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

function readInfo(file: string): ClaimInfo | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ClaimInfo>;
    if (typeof v.host === 'string' && typeof v.pid === 'number' && typeof v.holder === 'string' && typeof v.token === 'string')
      return v as ClaimInfo;
  } catch {
    /* written by a holder that died mid-write: no info, the heartbeat still decides */
  }
  return undefined;
}

/** The state of a configuration's claim. */
export function claimState(sweepDir: string, configId: string): ClaimState {
  const dir = claimDir(sweepDir, configId);
  const all = attempts(dir);
  const n = all[all.length - 1];
  if (n === undefined) return { kind: 'free' };
  const file = path.join(dir, `${n}.claim`);
  const claim = readInfo(file);
  if (fs.existsSync(path.join(dir, `${n}.released`))) return { kind: 'released', claim, attempt: n };
  let age: number;
  try {
    age = Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return { kind: 'free' };
  }
  // An unreadable claim younger than the limit is one being written right now: held.
  if (age > claimStaleMs()) return { kind: 'stale', claim, heartbeatAgeMs: age, attempt: n };
  return { kind: 'held', claim, heartbeatAgeMs: age };
}

/**
 * Try to claim a configuration. Returns the claim, or undefined when another holder has it (or won
 * the race for it). `log` hears about takeovers of stale claims.
 */
export function tryClaim(sweepDir: string, configId: string, holder: string, log?: (message: string) => void): Claim | undefined {
  const dir = claimDir(sweepDir, configId);
  fs.mkdirSync(dir, { recursive: true });
  const state = claimState(sweepDir, configId);
  let attempt: number;
  let tookOver: Claim['tookOver'];
  switch (state.kind) {
    case 'free':
      attempt = 1;
      break;
    case 'released':
      attempt = state.attempt + 1;
      break;
    case 'stale':
      attempt = state.attempt + 1;
      tookOver = { attempt: state.attempt, claim: state.claim, heartbeatAgeMs: state.heartbeatAgeMs };
      break;
    case 'held':
      return undefined;
    default: {
      const never: never = state;
      return never;
    }
  }
  const info: ClaimInfo = {
    host: os.hostname(),
    pid: process.pid,
    startedAt: new Date().toISOString(),
    holder,
    token: randomBytes(8).toString('hex'),
    attempt,
  };
  const file = path.join(dir, `${attempt}.claim`);
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined; // another claimant won this attempt
    throw e;
  }
  try {
    fs.writeSync(fd, JSON.stringify(info) + '\n');
  } finally {
    fs.closeSync(fd);
  }
  if (tookOver !== undefined && log) {
    const who = tookOver.claim ? `${tookOver.claim.holder} on ${tookOver.claim.host} (pid ${tookOver.claim.pid})` : 'an unknown holder';
    log(`configuration ${configId}: took over the stale claim of ${who}: no heartbeat for ${Math.round(tookOver.heartbeatAgeMs / 1000)} s (limit ${Math.round(claimStaleMs() / 1000)} s)`);
  }
  // Append the takeover to the sweep's claim log too, so it is on record whoever looks later.
  if (tookOver !== undefined) {
    try {
      fs.appendFileSync(
        path.join(sweepDir, 'claims', 'takeovers.log'),
        `${info.startedAt} ${configId} attempt ${attempt} by ${holder} on ${info.host} (pid ${info.pid}) took over attempt ${tookOver.attempt} (heartbeat ${Math.round(tookOver.heartbeatAgeMs / 1000)} s old)\n`,
      );
    } catch {
      /* the log is a courtesy */
    }
  }
  let released = false;
  const beat = (): void => {
    if (released) return;
    try {
      const now = new Date();
      fs.utimesSync(file, now, now);
    } catch {
      /* a missed beat is survivable; many are a stale claim, which is the point */
    }
  };
  const timer = setInterval(beat, CLAIM_HEARTBEAT_MS);
  timer.unref();
  return {
    info,
    file,
    ...(tookOver !== undefined ? { tookOver } : {}),
    beat,
    release: () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        fs.writeFileSync(path.join(dir, `${attempt}.released`), new Date().toISOString() + '\n', { flag: 'wx' });
      } catch {
        /* already released */
      }
    },
  };
}
