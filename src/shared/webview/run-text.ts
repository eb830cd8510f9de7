/**
 * Texts of a run's header that the page draws and the host's first-paint shell repeats
 * (`renderDashboardHtml`'s boot view): one definition, so the shell and the page agree to the letter.
 */
import { startLabel, statusDescription, statusLabel } from '../run-status';
import type { RunMeta } from './types';

/** A run in the selector: runs with the same name told apart by start time and id. */
export function runOptionText(meta: RunMeta): string {
  const parts = [`${meta.title} — ${statusLabel(meta.status, meta.diverged)}`];
  if (meta.startedAt !== undefined) parts.push(startLabel(meta.startedAt));
  // A starting entry's id is provisional (`starting-…`, see RunRemovedNotification): the real id
  // follows when the trainer names the run; one that failed before that never has one.
  if (meta.status !== 'starting' && !meta.runId.startsWith('starting-')) parts.push(meta.runId);
  return parts.join(' · ');
}

/** The line under the header while a run starts (backend, data, networks). */
export function startingText(meta: Pick<RunMeta, 'title' | 'message'>): string {
  return `Starting ${meta.title}: ${meta.message ?? 'starting the trainer process'}…`;
}

/** The status badge's tooltip: what the status means, and why when known. */
export function statusTitle(meta: Pick<RunMeta, 'status' | 'diverged' | 'message'>): string {
  const { status, diverged, message } = meta;
  return statusDescription(status, diverged) + (message !== undefined && message !== '' ? `\n${message}` : '');
}
