/**
 * One parse per document version. An `ExperimentDocument` is an experiment file read once: the
 * parser's result (config, issues, key positions and entries) under the editor-settings layer the
 * run manager uses, so every reader — validation, hover, completion, code lens, the run's
 * diagnostics, quick fixes and the alert jump — sees the same resolved configuration as a run of the
 * file would. The server keeps them in a `DocumentCache` keyed by URI and version (as
 * yaml-language-server does), cleared when a document closes or the settings change.
 */
import { fileURLToPath } from 'node:url';
import { fileKeys, type FileKeys } from '../config/keys';
import type { SettingsLayer } from '../config/layers';
import { parseExperiment } from '../config/parse';
import { keyEntries, type KeyEntry, type PositionIndex } from '../config/positions';
import type { ParseResult } from '../config/types';
import type { YamlText } from './yaml-edit';

export interface ExperimentDocument extends YamlText {
  readonly uri: string;
  readonly version: number;
  /** The parser's result: `config` (resolved under the settings) when the file has no error. */
  readonly parsed: ParseResult;
  /** Where the file's keys are (the parse's positions; no second parse). */
  readonly keys: FileKeys;
}

/** A document URI as the file path the config parser reports and resolves relative paths against. */
export function uriToPath(uri: string): string {
  if (uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      // Not a valid file URL (e.g. a UNC form the platform rejects): fall through to the raw text.
    }
  }
  return uri;
}

/** Parse `text` once (the only place the language service calls the parser on a document). */
export function analyse(text: string, uri = 'untitled:experiment.gradflow.yaml', version = 0, settings?: SettingsLayer): ExperimentDocument {
  const parsed = parseExperiment(text, uriToPath(uri), settings !== undefined ? { settings } : {});
  const positions: PositionIndex = parsed;
  return { uri, version, text, parsed, positions, keys: fileKeys(parsed) };
}

/** Entries of the text with one line emptied, per document (completion on a line holding a partial key). */
const blanked = new WeakMap<ExperimentDocument, Map<number, readonly KeyEntry[]>>();

/**
 * The key entries of `doc` read with `line` left empty. A partial key being typed (`  lea`) is not
 * YAML yet and would be read into the next line's key, so completion reads the rest of the file
 * without it. A line holding only blanks changes nothing: the document's own entries are returned,
 * without parsing. Otherwise the blanked text (a different text) is parsed once per version and line.
 */
export function entriesWithoutLine(doc: ExperimentDocument, line: number): readonly KeyEntry[] {
  const lines = doc.text.split(/\r?\n/);
  if ((lines[line] ?? '').trim() === '') return doc.positions.entries;
  let perLine = blanked.get(doc);
  if (perLine === undefined) blanked.set(doc, (perLine = new Map<number, readonly KeyEntry[]>()));
  let entries = perLine.get(line);
  if (entries === undefined) {
    entries = keyEntries(lines.map((l, i) => (i === line ? '' : l)).join('\n'));
    perLine.set(line, entries);
  }
  return entries;
}

/**
 * The parsed documents of the open files, one per URI, replaced when a new version is asked for.
 * `settingsFor` gives the settings layer of a URI (the editor's settings, with the runs folder of
 * the file's workspace folder).
 */
export class DocumentCache {
  private readonly docs = new Map<string, ExperimentDocument>();
  /** How many times a document was parsed (tests count them: one per version). */
  parses = 0;

  constructor(private readonly settingsFor: (uri: string) => SettingsLayer | undefined = () => undefined) {}

  get(uri: string, version: number, text: string): ExperimentDocument {
    const cached = this.docs.get(uri);
    if (cached !== undefined && cached.version === version && cached.text === text) return cached;
    this.parses++;
    const doc = analyse(text, uri, version, this.settingsFor(uri));
    this.docs.set(uri, doc);
    return doc;
  }

  /** The document closed: its parse goes. */
  delete(uri: string): void {
    this.docs.delete(uri);
  }

  /** The settings changed: every parse goes (they were resolved under the old settings). */
  clear(): void {
    this.docs.clear();
  }
}
