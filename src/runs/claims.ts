/**
 * Claims: a configuration of a sweep is claimed before it trains, so two schedulers (two
 * `gradflow sweep`, two Slurm tasks, a local sweep and a Slurm sweep, the editor and a terminal)
 * never train it twice.
 *
 * A claim is a file `<sweepDir>/claims/<configId>/<n>.claim`, `n` = 1, 2, … (the attempt), created
 * with O_CREAT|O_EXCL: of all processes creating the same `n`, exactly one succeeds. It holds the
 * holder's host, pid, start time and a token, and — where Linux's /proc can tell — the boot id, the
 * pid namespace and the process's start time (so a reused pid is not mistaken for the holder); its
 * modification time is the heartbeat, refreshed by the holder every CLAIM_HEARTBEAT_MS while it
 * trains. The newest attempt is the claim in force:
 * - with a `<n>.released` file beside it, it is free (the holder ended: finished, failed, stopped);
 * - held by a process of this host (same host name, boot and pid namespace) that no longer exists
 *   (no such pid, or the pid now belongs to a process started at another time), it is dead: the
 *   next claimant takes it over at once (a sweep resumed right after `kill -9` finishes everything);
 * - with a heartbeat older than `claimStaleMs()`, its holder is presumed dead (the only test there is
 *   for a holder on another host): the next claimant takes it over;
 * - otherwise it is held.
 * A takeover creates `<n+1>.claim` (again exclusively, so one taker wins) and is logged.
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
import { readBoundedText } from '../shared/bounded-read';

/** A claim file is a few hundred bytes (host, pid, holder, token, …); a bigger one is not read. */
export const MAX_CLAIM_BYTES = 64 * 1024;

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
  /** The kernel's boot id (`/proc/sys/kernel/random/boot_id`) when readable: pids of an earlier boot mean nothing. */
  bootId?: string;
  /** The holder's pid namespace (`/proc/self/ns/pid` link) when readable: a pid is only comparable within one. */
  pidNs?: string;
  /** The holder's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22) when readable: guards against pid reuse. */
  pidStart?: number;
  /** Who holds it: `local` (a local sweep), `slurm <jobid>_<task>`, … */
  holder: string;
  token: string;
  /** The attempt number. */
  attempt: number;
}

export type ClaimState =
  | { kind: 'free' }
  | { kind: 'held'; claim: ClaimInfo | undefined; heartbeatAgeMs: number }
  /** Takeable: `heartbeat` = no heartbeat for longer than the limit; `gone` = its holder, a process of this host, no longer exists. */
  | { kind: 'stale'; claim: ClaimInfo | undefined; heartbeatAgeMs: number; attempt: number; reason: 'heartbeat' | 'gone' }
  | { kind: 'released'; claim: ClaimInfo | undefined; attempt: number };

export interface Claim {
  readonly info: ClaimInfo;
  readonly file: string;
  /** When this claim took over a stale one: what it took over. */
  readonly tookOver?: { attempt: number; claim: ClaimInfo | undefined; heartbeatAgeMs: number; reason: 'heartbeat' | 'gone' };
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
    // Past its bound (damaged or planted) it is refused from its size, like a cut one: no info.
    const v = JSON.parse(readBoundedText(file, { maxBytes: MAX_CLAIM_BYTES, what: 'claim file' })) as Partial<ClaimInfo>;
    if (typeof v.host === 'string' && typeof v.pid === 'number' && typeof v.holder === 'string' && typeof v.token === 'string') {
      const info: ClaimInfo = { host: v.host, pid: v.pid, startedAt: typeof v.startedAt === 'string' ? v.startedAt : '', holder: v.holder, token: v.token, attempt: typeof v.attempt === 'number' ? v.attempt : 0 };
      if (typeof v.bootId === 'string') info.bootId = v.bootId;
      if (typeof v.pidNs === 'string') info.pidNs = v.pidNs;
      if (typeof v.pidStart === 'number') info.pidStart = v.pidStart;
      return info;
    }
  } catch {
    /* written by a holder that died mid-write: no info, the heartbeat still decides */
  }
  return undefined;
}

function readTrimmed(file: string): string | undefined {
  try {
    const t = fs.readFileSync(file, 'utf8').trim();
    return t === '' ? undefined : t;
  } catch {
    return undefined;
  }
}

/** This boot's id (Linux), cached: it cannot change while we run. */
let ownBootId: string | null | undefined;
function bootId(): string | undefined {
  if (ownBootId === undefined) ownBootId = readTrimmed('/proc/sys/kernel/random/boot_id') ?? null;
  return ownBootId ?? undefined;
}

/** Our pid namespace (Linux: `pid:[4026531836]`), cached. */
let ownPidNs: string | null | undefined;
function pidNamespace(): string | undefined {
  if (ownPidNs === undefined) {
    try {
      ownPidNs = fs.readlinkSync('/proc/self/ns/pid');
    } catch {
      ownPidNs = null;
    }
  }
  return ownPidNs ?? undefined;
}

/**
 * A process's start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`), or undefined
 * where there is no /proc or the process is gone. The command name (field 2) may hold spaces and
 * parentheses, so fields are counted from the last `)`.
 */
export function processStartTicks(pid: number): number | undefined {
  const stat = readTrimmed(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): field 22 is fields[19].
  const ticks = Number(fields[19]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

/**
 * Whether a claim's holder process still exists: `gone` only when it provably does not — the claim
 * was made on this host, in this boot and pid namespace (when recorded), and its pid is free or
 * belongs to a process started at another time. A holder on another host (or one whose claim could
 * not be read) is `unknown`: only its heartbeat can tell.
 */
export function holderLiveness(claim: ClaimInfo | undefined): 'alive' | 'gone' | 'unknown' {
  if (claim === undefined || claim.host !== os.hostname()) return 'unknown';
  const boot = bootId();
  if (claim.bootId !== undefined && boot !== undefined && claim.bootId !== boot) return 'gone'; // the host rebooted since
  const ns = pidNamespace();
  if (claim.pidNs !== undefined && ns !== undefined && claim.pidNs !== ns) return 'unknown'; // another container's pids
  if (!Number.isSafeInteger(claim.pid) || claim.pid <= 0) return 'unknown';
  try {
    process.kill(claim.pid, 0);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return 'gone';
    if (code !== 'EPERM') return 'unknown'; // EPERM: it exists, under another user
  }
  if (claim.pidStart !== undefined) {
    const now = processStartTicks(claim.pid);
    if (now !== undefined && now !== claim.pidStart) return 'gone'; // the pid was reused
  }
  return 'alive';
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
  if (age > claimStaleMs()) return { kind: 'stale', claim, heartbeatAgeMs: age, attempt: n, reason: 'heartbeat' };
  if (holderLiveness(claim) === 'gone') return { kind: 'stale', claim, heartbeatAgeMs: age, attempt: n, reason: 'gone' };
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
      tookOver = { attempt: state.attempt, claim: state.claim, heartbeatAgeMs: state.heartbeatAgeMs, reason: state.reason };
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
  const boot = bootId();
  if (boot !== undefined) info.bootId = boot;
  const ns = pidNamespace();
  if (ns !== undefined) info.pidNs = ns;
  const started = processStartTicks(process.pid);
  if (started !== undefined) info.pidStart = started;
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
  const why = (t: NonNullable<Claim['tookOver']>): string =>
    t.reason === 'gone'
      ? `its process (pid ${t.claim?.pid ?? '?'}) no longer exists on this host`
      : `no heartbeat for ${Math.round(t.heartbeatAgeMs / 1000)} s (limit ${Math.round(claimStaleMs() / 1000)} s)`;
  if (tookOver !== undefined && log) {
    const who = tookOver.claim ? `${tookOver.claim.holder} on ${tookOver.claim.host} (pid ${tookOver.claim.pid})` : 'an unknown holder';
    log(`configuration ${configId}: took over the ${tookOver.reason === 'gone' ? 'dead' : 'stale'} claim of ${who}: ${why(tookOver)}`);
  }
  // Append the takeover to the sweep's claim log too, so it is on record whoever looks later.
  if (tookOver !== undefined) {
    try {
      fs.appendFileSync(
        path.join(sweepDir, 'claims', 'takeovers.log'),
        `${info.startedAt} ${configId} attempt ${attempt} by ${holder} on ${info.host} (pid ${info.pid}) took over attempt ${tookOver.attempt} (${why(tookOver)}; heartbeat ${Math.round(tookOver.heartbeatAgeMs / 1000)} s old)\n`,
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
