/**
 * Moves updates from a `DashboardState` to one page: a full `init` whenever the page says it is
 * ready (first load, and every reload after the tab was hidden), then incremental updates at most
 * once per `intervalMs`. Pure (timers injected), so the throttling is tested without VS Code.
 */
import { WEBVIEW_PROTOCOL_VERSION, type HostToPage } from '../../shared/webview-protocol';
import { realClock, type Clock } from '../throttle';
import type { DashboardState, Disposable } from './state';

/** ≤ 4 updates per second: smooth enough to feel live, cheap enough for 100,000-step runs. */
export const UPDATE_INTERVAL_MS = 250;

export type PumpClock = Clock;

export class UpdatePump {
  private ready = false;
  private timer: unknown = undefined;
  private lastFlush = -Infinity;
  private readonly sub: Disposable;
  private disposed = false;

  constructor(
    private readonly state: DashboardState,
    private readonly post: (m: HostToPage) => void,
    private readonly intervalMs: number = UPDATE_INTERVAL_MS,
    private readonly clock: PumpClock = realClock,
  ) {
    this.sub = state.onDidChange(() => this.schedule());
  }

  /** The page (re)loaded and listens: replay everything; pending updates are in the snapshot. */
  pageReady(): void {
    if (this.disposed) return;
    this.ready = true;
    this.state.drainUpdates();
    this.post({ type: 'init', protocolVersion: WEBVIEW_PROTOCOL_VERSION, model: this.state.snapshot() });
    this.lastFlush = this.clock.now();
    this.cancel();
  }

  /** The page was destroyed (tab hidden, panel closing): hold updates until the next `pageReady`. */
  pageGone(): void {
    this.ready = false;
    this.cancel();
  }

  get isPageReady(): boolean {
    return this.ready;
  }

  dispose(): void {
    this.disposed = true;
    this.ready = false;
    this.cancel();
    this.sub.dispose();
  }

  private schedule(): void {
    if (this.disposed || !this.ready || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.disposed || !this.ready) return;
    this.lastFlush = this.clock.now();
    for (const m of this.state.drainUpdates()) this.post(m);
  }

  private cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
