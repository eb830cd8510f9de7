/**
 * Following a run from its folder: how the extension shows a run it did not start in this window
 * (started by a window before a reload, by `gradflow run` in a terminal, by another window). The run
 * folder is the channel: `metrics.jsonl` is read from where the last read stopped (every trainer
 * message, in order, as the trainer appended it), and the run's status comes from the one reader
 * (`readRun`: summary, stop request, heartbeat and pid), so a run whose trainer died reads `killed`
 * and nothing else does.
 *
 * No `vscode` import: tested in plain Node.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTrainerMessage, type TrainerToHost } from '../../shared/protocol';
import { readRun, type RunRecord } from '../../runs/store';
import { isLive } from '../../runs/status';

/** How often the log is read for new lines. */
export const FOLLOW_POLL_MS = 250;
/** How often the folder's status (summary, heartbeat, pid) is read. */
export const FOLLOW_STATUS_MS = 1000;
/** A line longer than this is not a trainer message: skipped (as `readMetricsLog` does). */
const MAX_LINE_BYTES = 8 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

export interface FollowEvents {
  /** Every trainer message of the log, in order: first the ones already written, then the new ones. */
  message(m: TrainerToHost): void;
  /** The run ended (its folder's status is no longer live); called once, after the last message. */
  ended(record: RunRecord): void;
  /** Something went wrong reading (the follower goes on, from where it was). */
  error?(e: unknown): void;
  /** The log as it was when following began has been read: how many messages, in how long. */
  caughtUp?(messages: number, ms: number): void;
}

export interface FollowOptions {
  pollMs?: number;
  statusMs?: number;
}

export class RunFollower {
  private offset = 0;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private discarding = false;
  private timer: NodeJS.Timeout | undefined;
  private lastStatus = 0;
  private disposed = false;
  private reading = false;
  private readonly startedAt = Date.now();
  private messages = 0;
  private caughtUp = false;
  /** Lines that were not trainer messages (damage, an over-long line). */
  skipped = 0;

  constructor(
    readonly runDir: string,
    private readonly events: FollowEvents,
    private readonly opts: FollowOptions = {},
  ) {}

  /** Reads what the log has, then follows it until the run ends (or `dispose`). */
  start(): void {
    void this.tick();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.disposed) return;
    this.timer = setTimeout(() => void this.tick(), this.opts.pollMs ?? FOLLOW_POLL_MS);
  }

  private async tick(): Promise<void> {
    if (this.disposed || this.reading) return;
    this.reading = true;
    try {
      await this.readNew();
      if (!this.caughtUp) {
        this.caughtUp = true;
        this.events.caughtUp?.(this.messages, Date.now() - this.startedAt);
      }
      const now = Date.now();
      if (now - this.lastStatus >= (this.opts.statusMs ?? FOLLOW_STATUS_MS)) {
        this.lastStatus = now;
        const record = readRun(this.runDir);
        if (record !== undefined && !isLive(record.status)) {
          // The summary is written after the last line is flushed: read the rest, then end.
          await this.readNew();
          if (this.disposed) return;
          this.disposed = true;
          this.events.ended(record);
          return;
        }
      }
    } catch (e) {
      this.events.error?.(e);
    } finally {
      this.reading = false;
    }
    this.schedule();
  }

  /** Reads the log from `offset` to its end, emitting every complete line. */
  private async readNew(): Promise<void> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(path.join(this.runDir, 'metrics.jsonl'), 'r');
    } catch {
      return; // not there yet
    }
    try {
      const buf = Buffer.alloc(CHUNK_BYTES);
      for (;;) {
        if (this.disposed) return;
        const { bytesRead } = await handle.read(buf, 0, buf.length, this.offset);
        if (bytesRead === 0) return;
        this.offset += bytesRead;
        this.push(buf.subarray(0, bytesRead));
      }
    } catch {
      /* an I/O error part-way: read again on the next tick */
    } finally {
      await handle.close();
    }
  }

  private push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      this.take(chunk.subarray(start, nl));
      this.endLine();
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
  }

  private take(part: Buffer): void {
    if (this.discarding || part.length === 0) return;
    if (this.carryBytes + part.length > MAX_LINE_BYTES) {
      this.discarding = true;
      this.carry = [];
      this.carryBytes = 0;
      return;
    }
    this.carry.push(Buffer.from(part)); // copied: the read buffer is reused
    this.carryBytes += part.length;
  }

  private endLine(): void {
    if (this.discarding) {
      this.discarding = false;
      this.skipped++;
      return;
    }
    const text = Buffer.concat(this.carry).toString('utf8');
    this.carry = [];
    this.carryBytes = 0;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.skipped++;
      return;
    }
    const m = readTrainerMessage(value);
    if (m === undefined) {
      this.skipped++;
      return;
    }
    this.messages++;
    this.events.message(m);
  }
}
