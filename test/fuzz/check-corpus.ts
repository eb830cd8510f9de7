/**
 * Child process of the fuzz test (run with a capped heap, so a file that blew up memory would kill
 * it): validates every file of the corpus with `parseExperiment` (and converts the issues to the
 * language server's diagnostics), checks each result, and prints one JSON report on stdout. Runs only when
 * GRADFLOW_FUZZ_CHILD=1 (the test runner also loads every .js file under out/test/).
 */
import * as path from 'node:path';
import { parseExperiment } from '../../src/config/parse';
import { issueToDiagnostic } from '../../src/languageservice/validate';
import { corpus, type FuzzFile } from './corpus';

export interface FileReport {
  name: string;
  bytes: number;
  /** Wall-clock time. */
  ms: number;
  /** CPU time of this process (user + system): what the 2 s bound is checked on, since the tests share a loaded machine. */
  cpuMs: number;
  issues: number;
  errors: number;
  /** Everything wrong with how this file was handled (empty: fine). */
  problems: string[];
}

export interface CorpusReport {
  seed: number;
  files: FileReport[];
  peakHeapBytes: number;
  totalMs: number;
}

/** 1-based line and column of `offset`, counted here independently of the parser. */
function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

const STACK = /\n\s+at |\bat .*\(.*:\d+:\d+\)|TypeError|ReferenceError|Cannot read propert|is not a function|undefined is not|Maximum call stack/;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

export function checkFile(file: FuzzFile): FileReport {
  const problems: string[] = [];
  const { text } = file;
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let issues = 0;
  let errors = 0;
  try {
    const result = parseExperiment(text, '/tmp/gradflow-fuzz/exp.gradflow.yaml');
    issues = result.issues.length;
    for (const i of result.issues) {
      if (i.severity === 'error') errors++;
      const where = `${i.line}:${i.column} ${i.key}: ${i.message.slice(0, 120)}`;
      if (!(i.offset >= 0 && i.endOffset >= i.offset && i.endOffset <= Math.max(text.length, 1))) problems.push(`offsets outside the file: ${i.offset}..${i.endOffset} of ${text.length}: ${where}`);
      const at = lineCol(text, Math.min(i.offset, text.length));
      if (at.line !== i.line || at.column !== i.column) problems.push(`position ${i.line}:${i.column} does not match offset ${i.offset} (${at.line}:${at.column}): ${where}`);
      if (i.line < 1 || i.column < 1 || i.endLine < i.line) problems.push(`bad range: ${where}`);
      if (STACK.test(i.message)) problems.push(`stack trace or internal error in message: ${where}`);
      // The key path is kept as written (quick fixes use it); printers escape it (CLI, language server).
      if (CONTROL.test(i.message)) problems.push(`raw control character in message: ${JSON.stringify(where)}`);
      if (i.message.length > 2000) problems.push(`message of ${i.message.length} characters: ${where}`);
    }
    // A file is usable or refused, never both or neither.
    if (errors === 0 && !result.config) problems.push('no error and no config');
    if (errors > 0 && result.config) problems.push('errors and a config');
    // What the language server publishes for the same issues (its `validate` is this conversion).
    for (const d of result.issues.map(issueToDiagnostic)) {
      if (d.range.start.line < 0 || d.range.start.character < 0 || d.range.end.line < d.range.start.line) problems.push(`bad diagnostic range ${JSON.stringify(d.range)}`);
      if (CONTROL.test(d.message)) problems.push(`raw control character in diagnostic: ${JSON.stringify(d.message.slice(0, 120))}`);
    }
  } catch (e) {
    problems.push(`threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  return { name: file.name, bytes: text.length, ms, cpuMs: (cpu.user + cpu.system) / 1000, issues, errors, problems };
}

export function runCorpus(root: string, seed: number): CorpusReport {
  const started = Date.now();
  let peak = 0;
  const files: FileReport[] = [];
  for (const f of corpus(root, seed)) {
    files.push(checkFile(f));
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  return { seed, files, peakHeapBytes: peak, totalMs: Date.now() - started };
}

if (require.main === module && process.env.GRADFLOW_FUZZ_CHILD === '1') {
  const root = process.argv[2] ?? path.resolve(__dirname, '..', '..', '..');
  const seed = Number(process.argv[3] ?? '1');
  process.stdout.write(JSON.stringify(runCorpus(root, seed)));
}
