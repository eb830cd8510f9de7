/**
 * Rate limits for what the extension shows while trainers stream: a trainer reports every step of
 * every net (tens of messages a second), and redrawing the workbench that often (a progress
 * notification, the dashboard) only keeps the editor's main thread busy. Pure: the clock is injected,
 * so the timing is tested without waiting.
 */

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Runs `fn` at most once per `intervalMs`. A call schedules a run: on the next tick when the last run
 * is that old (so calls made in one go fold into one run), else when it will be; calls before the run
 * fold into it, and it reads the state then (the latest).
 */
export class Throttle {
  private timer: unknown = undefined;
  private last = -Infinity;
  private disposed = false;

  constructor(
    private readonly fn: () => void,
    private readonly intervalMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  call(): void {
    if (this.disposed || this.timer !== undefined) return;
    const wait = Math.max(0, this.last + this.intervalMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, wait);
  }

  /** Drops a pending run. */
  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** What `fn` would do was done another way just now: drop a pending run, and count the interval from now. */
  ranNow(): void {
    this.cancel();
    this.last = this.clock.now();
  }

  /** No more runs, not even a pending one. */
  dispose(): void {
    this.disposed = true;
    this.cancel();
  }

  private run(): void {
    if (this.disposed) return;
    this.last = this.clock.now();
    this.fn();
  }
}
