/**
 * Issue 18, row 6: names with control characters, escape sequences and every format's special
 * characters in every output format (seeded, reproducible: the seed is in the test names;
 * GRADFLOW_FUZZ_SEED picks another). Structural invariants, checked by test/fuzz/output-invariants.ts
 * (written independently of the renderers):
 * - Markdown: the table keeps its row and cell counts, the document its line count, no heading is forged;
 * - LaTeX: no raw control, braces balanced, no stray `%` comment or blank line, `&` count per row;
 * - CSV: parses back to the same rows and cells, no text cell starts a formula;
 * - terminal: no ESC, C0/C1 or line break; Slurm job names within their alphabet; shell words
 *   read back by a real `sh` as exactly what went in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { renderCsv, renderLatex, renderMarkdown, type Table } from '../../src/study/report';
import { logText, shellWord, slurmJobName, terminalText } from '../../src/shared/sanitize';
import { prng } from './corpus';
import { csvProblems, latexProblems, markdownTableProblems, terminalProblems } from './output-invariants';

const SEED = Number(process.env.GRADFLOW_FUZZ_SEED ?? '20261206');
const COUNT = 1000;

const ESC = '\u001b';
const C0 = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i));
const C1 = Array.from({ length: 33 }, (_, i) => String.fromCharCode(0x7f + i));
/** Fragments a hostile name is made of: controls, escape sequences, every format's specials, plain text. */
const FRAGMENTS = [
  ...C0,
  ...C1,
  `${ESC}[2J`, `${ESC}]0;pwned\u0007`, `${ESC}]8;;http://x${ESC}\\link${ESC}]8;;${ESC}\\`, `${ESC}c`, '\u009b31m', `${ESC}[`, ESC,
  '\u202e', '\u2066', '\u2028', '\u2029', '\r\n', '\n\n',
  '|', '\\', '`', '```', '*', '_', '[', ']', '(', ')', '<', '>', '&', '&amp;', '!', '~', '#', '## forged', '- item', '1. item',
  '%', '$', '{', '}', '^', '\\par', '\\input{/etc/passwd}', '\\\\', 'τ', 'τ\u0304', '≤',
  '"', ',', '=', '+', '-', '@', '=HYPERLINK("http://x")', "'",
  '$(touch /tmp/MARKER)', ';', '&&', '>|', '\\n',
  'a', 'b', 'sweep', ' ', '  ', '日本', 'x'.repeat(30),
];

function hostileNames(seed: number, count: number): string[] {
  const rnd = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const parts = 1 + Math.floor(rnd() * 12);
    let s = '';
    for (let k = 0; k < parts; k++) s += FRAGMENTS[Math.floor(rnd() * FRAGMENTS.length)];
    out.push(s);
  }
  return out;
}

const NAMES = hostileNames(SEED, COUNT);

function tableOf(name: string): Table {
  return {
    id: 'fuzz',
    title: `Title ${name}`,
    columns: [
      { key: name, label: name, format: 'text' },
      { key: 'p', label: `p ${name}`, format: 'p', shade: true },
      { key: 'n', label: 'n', format: 'int' },
    ],
    rows: [
      [name, 0.01, 3],
      [`${name}${name}`, 0.97, -4],
      ['plain', NaN, 5],
    ],
    notes: [name, `second ${name}`],
  };
}

test(`fuzz: ${COUNT} hostile names in Markdown tables keep rows, cells and lines (seed ${SEED})`, () => {
  const bad: string[] = [];
  for (const name of NAMES) {
    const md = renderMarkdown(tableOf(name));
    const lines = md.split('\n');
    const problems = markdownTableProblems(md);
    // ### title, blank, header, rule, 3 rows, blank, 2 notes, and the final newline's empty rest.
    if (lines.length !== 11) problems.push(`${lines.length} lines, expected 11`);
    if (lines.slice(1).some((l) => l.startsWith('#'))) problems.push('a forged heading');
    if (lines.filter((l) => l.startsWith('|')).length !== 5) problems.push('table rows changed');
    if (problems.length > 0) bad.push(`${JSON.stringify(name)}: ${problems.join('; ')}`);
  }
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${COUNT}`);
});

test(`fuzz: ${COUNT} hostile names in LaTeX tables stay compile-safe (seed ${SEED})`, () => {
  const bad: string[] = [];
  for (const name of NAMES) {
    const tex = renderLatex(tableOf(name));
    const problems = latexProblems(tex, 3);
    // Fixed lines: comment, begin table, centering, caption, label, begin tabular, toprule, header,
    // midrule, 3 rows, bottomrule, end tabular, par, notes, end table, and the final newline's empty rest.
    if (tex.split('\n').length !== 18) problems.push(`${tex.split('\n').length} lines, expected 18`);
    if (problems.length > 0) bad.push(`${JSON.stringify(name)}: ${problems.join('; ')}`);
  }
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${COUNT}`);
});

test(`fuzz: ${COUNT} hostile names in CSV parse back to 4 rows × 3 cells, no formula (seed ${SEED})`, () => {
  const bad: string[] = [];
  for (const name of NAMES) {
    const problems = csvProblems(renderCsv(tableOf(name)), 4);
    if (problems.length > 0) bad.push(`${JSON.stringify(name)}: ${problems.join('; ')}`);
  }
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${COUNT}`);
});

test(`fuzz: ${COUNT} hostile names on a terminal or log line, as a Slurm job name, as a shell word (seed ${SEED})`, () => {
  const bad: string[] = [];
  for (const name of NAMES) {
    const problems = [...terminalProblems(`sweep ${terminalText(name)}: 1 finished`), ...terminalProblems(logText(name))];
    if (!/^gradflow-[A-Za-z0-9._+=,@:-]{0,91}$/.test(slurmJobName(name))) problems.push(`job name ${JSON.stringify(slurmJobName(name))}`);
    if (problems.length > 0) bad.push(`${JSON.stringify(name)}: ${problems.join('; ')}`);
  }
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${COUNT}`);
  // A program cannot receive a NUL in an argument: shellWord refuses it; every other name is read
  // back by sh exactly (one sh for all of them).
  const words = NAMES.filter((n) => !n.includes('\u0000'));
  for (const n of NAMES.filter((x) => x.includes('\u0000'))) assert.throws(() => shellWord(n), /NUL/);
  const r = spawnSync('sh', ['-c', `printf '%s\\0' ${words.map(shellWord).join(' ')}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), words);
});
