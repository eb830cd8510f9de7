/**
 * Moves updates from a `DashboardState` to one page: a full `init` whenever the page says it is
 * ready (first load, and every reload after the tab was hidden), then incremental updates at most
 * once per `intervalMs` (a `Throttle`). Pure (timers injected), so the throttling is tested without VS Code.
 */
import { WEBVIEW_PROTOCOL_VERSION, type HostToPage } from '../../shared/webview-protocol';
import { Throttle, realClock, type Clock } from '../throttle';
import type { DashboardState, Disposable } from './state';

/** ≤ 4 updates per second: smooth enough to feel live, cheap enough for 100,000-step runs. */
export const UPDATE_INTERVAL_MS = 250;

export class UpdatePump {
  private ready = false;
  private readonly throttle: Throttle;
  private readonly sub: Disposable;
  private disposed = false;

  constructor(
    private readonly state: DashboardState,
    private readonly post: (m: HostToPage) => void,
    intervalMs: number = UPDATE_INTERVAL_MS,
    clock: Clock = realClock,
  ) {
    this.throttle = new Throttle(() => this.flush(), intervalMs, clock);
    this.sub = state.onDidChange(() => {
      if (!this.disposed && this.ready) this.throttle.call();
    });
  }

  /** The page (re)loaded and listens: replay everything; pending updates are in the snapshot. */
  pageReady(): void {
    if (this.disposed) return;
    this.ready = true;
    this.state.drainUpdates();
    this.post({ type: 'init', protocolVersion: WEBVIEW_PROTOCOL_VERSION, model: this.state.snapshot() });
    this.throttle.ranNow();
  }

  /** The page was destroyed (tab hidden, panel closing): hold updates until the next `pageReady`. */
  pageGone(): void {
    this.ready = false;
    this.throttle.cancel();
  }

  get isPageReady(): boolean {
    return this.ready;
  }

  dispose(): void {
    this.disposed = true;
    this.ready = false;
    this.throttle.dispose();
    this.sub.dispose();
  }

  private flush(): void {
    if (this.disposed || !this.ready) return;
    for (const m of this.state.drainUpdates()) this.post(m);
  }
}
