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
 * Runs `fn` at most once per `intervalMs`: a call runs it at once when the last run is that old;
 * calls within the interval fold into one run at its end, which reads the state then (the latest).
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
    const wait = this.last + this.intervalMs - this.clock.now();
    if (wait <= 0) {
      this.run();
      return;
    }
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, wait);
  }

  /** No more runs, not even a pending one. */
  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private run(): void {
    if (this.disposed) return;
    this.last = this.clock.now();
    this.fn();
  }
}
