/**
 * Extension host ↔ dashboard webview protocol. Imported by both sides: the host
 * (`src/extension/dashboard/`) and the page (`webview/`), so each message is declared once.
 *
 * Transport: `webview.postMessage` / `acquireVsCodeApi().postMessage`, which serialise as JSON.
 * JSON has no NaN/Infinity, so every metric that can be non-finite is typed `number | null` here
 * (null = "not a finite number"); alert values keep the trainer protocol's string encoding.
 *
 * Trust: the page validates every message it receives (`isHostToPage`), the host validates every
 * message from the page (`isPageToHost`). The guards check every field, not just the tag: a page
 * that was reloaded from an older bundle, or a bug on either side, must not crash the other.
 *
 * Sequence: page → `ready` (also after every reload: VS Code destroys hidden webviews because we do
 * not rely on `retainContextWhenHidden`); host → `init` with the full replay state; then host →
 * incremental notifications at most 4 times per second. Page → commands at any time.
 *
 * Sweeps (the Sweep tab) ride on the same sequence: `init` carries them, `sweepAdded` / `sweepRow` /
 * `sweepStatus` update them (rows coalesced per drain like step series), `focusSweep` shows one;
 * the page answers with `selectSweep`, `openSweepRun` and `exportSweepCsv`. The sweep fields of
 * `init` are optional so a newer page still reads an older host (no protocol version bump).
 *
 * `applyNotification` is the single reducer the page uses to fold notifications into its model.
 * It lives here (pure, DOM-free) so the host tests can prove that replaying a snapshot equals
 * applying the incremental stream.
 */
export * from './webview/types';
export * from './webview/guards';
export * from './webview/reducer';
