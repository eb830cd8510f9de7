/**
 * The key registry: every key of an experiment file once, with its snake_case path (as the file
 * writes it), its camelCase path (as `ExperimentConfig` names it) and its schema node; and, for a
 * parsed file, where each key is. Validation, hover, completion, resolution, run diagnostics and
 * quick fixes look keys up here instead of spelling paths or converting cases themselves.
 */
import { allKeyPaths, GRADFLOW_SCHEMA, schemaAt, type SchemaNode } from './schema';
import type { Locator, ParseResult, Range } from './types';

export interface KeyInfo {
  /** Dotted snake_case path, as written in the file: `training.learning_rate`. */
  readonly snake: string;
  /** Dotted camelCase path, as in `ExperimentConfig`: `training.learningRate`. */
  readonly camel: string;
  readonly segments: readonly string[];
  readonly node: SchemaNode;
  /** A section (a mapping of keys), not a value. */
  readonly section: boolean;
}

export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function camelToSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** A dotted path in either spelling → snake_case (`training.learningRate` → `training.learning_rate`). */
export function toSnakePath(keyPath: string): string {
  return keyPath.split('.').map(camelToSnake).join('.');
}

function build(root: SchemaNode): KeyInfo[] {
  return allKeyPaths(root).map((snake) => {
    const node = schemaAt(snake, root) ?? {};
    const segments = snake.split('.');
    return { snake, camel: segments.map(snakeToCamel).join('.'), segments, node, section: node.properties !== undefined };
  });
}

/** Every key the schema declares (sections and leaves), in schema order. */
export const KEYS: readonly KeyInfo[] = build(GRADFLOW_SCHEMA);

const BY_PATH = new Map<string, KeyInfo>();
for (const k of KEYS) {
  BY_PATH.set(k.snake, k);
  BY_PATH.set(k.camel, k);
}

/** The key at a dotted path in either spelling, or undefined for a key the schema does not declare. */
export function keyInfo(path: string): KeyInfo | undefined {
  return BY_PATH.get(path) ?? BY_PATH.get(toSnakePath(path));
}

/** Like `keyInfo`, for a path the code itself names: an unknown one is a bug, so it throws. */
export function key(path: string): KeyInfo {
  const k = keyInfo(path);
  if (k === undefined) throw new Error(`not a key of the experiment schema: ${path}`);
  return k;
}

/**
 * Keys that state one quantity two ways; a file writes one of them. `sparsity.density` and
 * `sparsity.dense_width` both give the dense twin's width (density = dense_width / model.width); a
 * wrn's `sparsity.dense_widen_factor` gives its density (k_D / k).
 */
const ALTERNATIVES: Readonly<Record<string, readonly string[]>> = {
  'sparsity.dense_width': ['sparsity.density', 'sparsity.dense_widen_factor'],
  'sparsity.density': ['sparsity.dense_width', 'sparsity.dense_widen_factor'],
  'sparsity.dense_widen_factor': ['sparsity.density', 'sparsity.dense_width'],
};

/** 0-based range (LSP / VS Code convention). */
export interface ZeroRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

/** The one 1-based (compiler style, `src/config`) → 0-based (editor) range conversion. */
export function zeroRange(r: Pick<Range, 'line' | 'column' | 'endLine' | 'endColumn'>): ZeroRange {
  return {
    start: { line: r.line - 1, character: r.column - 1 },
    end: { line: r.endLine - 1, character: r.endColumn - 1 },
  };
}

/** Where the keys of one parsed file are. Paths may be given in either spelling. */
export interface FileKeys {
  /** Whether the file writes the key itself. */
  has(path: string): boolean;
  /**
   * The key the file writes for this quantity: the key itself, else an alternative spelling of it
   * that the file uses (`sparsity.density` for `sparsity.dense_width`), else the key (unwritten).
   */
  written(path: string): string;
  /**
   * Range of the key and its value. For a key the file does not write: its alternative spelling if
   * written, else the nearest enclosing section (or line 1), so a defaulted setting still points
   * somewhere visible.
   */
  range(path: string): Range;
  /** Range of the key's name alone, with the same fallbacks. */
  nameRange(path: string): Range;
  /** The deepest key whose name starts on a 0-based line, if any. */
  keyOnLine(line: number): string | undefined;
}

type Positions = Pick<ParseResult, 'keyRanges' | 'keyNameRanges' | 'valueRanges' | 'firstLine'>;

/**
 * The range a dotted path (as written: snake_case, list items as `.0`) maps to in one of a file's
 * range maps; for a path the file does not have, the name of the nearest enclosing section present,
 * else line 1, so a problem with a defaulted setting still points somewhere visible.
 */
export function nearestRange(positions: Positions, map: Map<string, Range>, path: string): Range {
  const exact = map.get(path);
  if (exact) return exact;
  const segments = path.split('.');
  for (let n = segments.length - 1; n > 0; n--) {
    const parent = positions.keyNameRanges.get(segments.slice(0, n).join('.'));
    if (parent) return parent;
  }
  return positions.firstLine;
}

/** Key and value ranges of the paths the validator reports (exact paths: no alternative spellings). */
export function locator(positions: Positions): Locator {
  return { key: (p) => nearestRange(positions, positions.keyNameRanges, p), value: (p) => nearestRange(positions, positions.valueRanges, p) };
}

/** For a text that was not parsed: `fileKeys(positionsOfText(text))`. */
export function fileKeys(positions: Positions): FileKeys {
  const has = (p: string): boolean => positions.keyRanges.has(toSnakePath(p));
  const written = (p: string): string => {
    const snake = toSnakePath(p);
    if (has(snake)) return snake;
    return (ALTERNATIVES[snake] ?? []).find(has) ?? snake;
  };
  return {
    has,
    written,
    range: (p) => nearestRange(positions, positions.keyRanges, written(p)),
    nameRange: (p) => nearestRange(positions, positions.keyNameRanges, written(p)),
    keyOnLine(line) {
      let best: string | undefined;
      for (const [k, r] of positions.keyNameRanges) {
        if (r.line - 1 === line && (best === undefined || k.split('.').length > best.split('.').length)) best = k;
      }
      return best;
    },
  };
}
