/**
 * Layered resolution of an experiment: schema defaults ← settings (the editor's `gradflow.*`
 * settings, or a CLI caller's) ← the file. A setting only replaces a default; whatever the file
 * writes wins. The layers meet in `resolveExperiment` (via `parseExperiment`'s `settings` option),
 * the one function the CLI and the extension both call, so a file resolves the same on both paths.
 */
import { isRecord } from '../shared/guards';
import { keyInfo } from './keys';
import type { ConfigIssue, Range } from './types';
import { makeIssue, validateValue } from './validate';
import { last } from '../shared/checked';

/** A settings layer: dotted snake_case key (as in the file) → value (as YAML would give it). */
export type SettingsLayer = Readonly<Record<string, unknown>>;

/** `{'run.backend': 'cpu'}` → `{ run: { backend: 'cpu' } }`. */
export function nestLayer(layer: SettingsLayer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(layer)) {
    if (value === undefined) continue;
    const segments = path.split('.');
    let cur = out;
    for (const seg of segments.slice(0, -1)) {
      const next = cur[seg];
      cur = isRecord(next) ? next : (cur[seg] = {});
    }
    cur[last(segments)] = value;
  }
  return out;
}

/** `file` with every setting it does not write filled in (the file's own values untouched). */
export function overlay(file: Record<string, unknown>, layer: SettingsLayer): Record<string, unknown> {
  const merge = (lower: Record<string, unknown>, upper: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...upper };
    for (const [k, v] of Object.entries(lower)) {
      if (!(k in upper) || upper[k] === undefined) out[k] = v;
      else if (isRecord(v) && isRecord(upper[k])) out[k] = merge(v, upper[k]);
    }
    return out;
  };
  return merge(nestLayer(layer), file);
}

/**
 * Problems of the settings themselves: an unknown key or a value the schema refuses. Placed at `at`
 * (line 1 of the file: a setting has no line there), named "setting <key>".
 */
export function settingsIssues(layer: SettingsLayer, file: string, at: Range): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [path, value] of Object.entries(layer)) {
    if (value === undefined) continue;
    const info = keyInfo(path);
    if (info === undefined || info.section || info.snake !== path) {
      issues.push(makeIssue(file, '', at, `setting ${path}: not a key of an experiment file`, 'unknown-key'));
      continue;
    }
    const found: ConfigIssue[] = [];
    validateValue(value, info.node, path, { file, locate: { key: () => at, value: () => at }, issues: found });
    for (const i of found) issues.push({ ...i, key: '', message: `setting ${path}: ${i.message}` });
  }
  return issues;
}
