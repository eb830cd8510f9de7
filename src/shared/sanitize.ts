/**
 * User text on its way OUT: one function per kind of output, and every place that writes a name, a
 * path or a value from an experiment file (or a run folder) into that kind of output calls it. The
 * threat model and the table of which input reaches which output are in docs/security.md.
 *
 * | output | function | what it guarantees |
 * |---|---|---|
 * | one line of terminal output, a log line | `terminalText` | no escape sequence, no control character, no line break: the value stays on its line and cannot drive the terminal; newlines and other controls are shown as `\n`, `\x07`, … |
 * | a POSIX shell word (batch scripts) | `shellWord` | one single-quoted word, nothing expanded |
 * | a Slurm job name | `slurmJobName` | letters, digits and `._-+=,@:` only, at most 100 characters |
 * | Markdown inline text and table cells | `markdownText` | one line; no table pipe, link, HTML tag, code span or backslash escape of its own |
 * | Markdown code span (paths) | `markdownCode` | a code span whose fence is longer than any run of backticks inside |
 * | LaTeX text | `latexText` | one line; every special escaped (`\ & % $ # _ { } ~ ^ < > |`), so it compiles |
 * | CSV field | `csvField` | RFC 4180 quoting, one line, and no formula (`= + - @` first) |
 * | HTML text / attribute value | `htmlText` / `htmlAttr` | no markup, no attribute break-out |
 * | XML (SVG) text and attributes | `xmlText` | one line, no markup, and no character XML 1.0 forbids (C0 controls make an SVG unreadable) |
 *
 * Every text output first makes control characters visible (`visibleControls`): escape sequences are
 * removed whole (as `stripControl` does: a `]0;title` must not be left behind), and each remaining
 * control, line break, bidirectional override or line/paragraph separator becomes a visible escape.
 * So a hostile name stays recognisable (`evil\n$(touch x)`) but can neither forge a line nor drive
 * a terminal, in any output.
 *
 * In text.ts: `shownText` quotes a value inside an error message (controls visible, ESC included,
 * length bounded), `stripControl` is the last filter at the terminal and log sinks, `boundedSlug`
 * makes file and folder names.
 */
import { ESCAPE_SEQUENCE } from './text';

/** C0 (tab and newline included), DEL, C1, bidirectional overrides/isolates, U+2028/U+2029 line and paragraph separators. */
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * `s` on one line with its escape sequences removed and every other control character visible:
 * `\n`, `\r`, `\t`, `\xNN` (C0, DEL, C1), `\uNNNN` (bidi controls, U+2028/9).
 */
export function visibleControls(s: string): string {
  return s.replace(ESCAPE_SEQUENCE, '').replace(ANY_CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

// -------------------------------------------------------------------------------------------------
// Terminal and log files

/**
 * A value (name, path, message part) inside one line a terminal or a log file shows: no escape
 * sequence, no control character and no line break (they are shown as `\n`, `\x07`, …), so the
 * value can neither drive the terminal nor start a line of its own.
 */
export function terminalText(s: string): string {
  return visibleControls(s);
}

/** A log line (Slurm task logs, the extension's output channel): the same guarantee as `terminalText`. */
export const logText = terminalText;

// -------------------------------------------------------------------------------------------------
// Shell and Slurm

/**
 * `s` as one POSIX shell word: single-quoted, with `'` written `'\''`. Inside single quotes the
 * shell expands nothing (`$`, backticks, `;`, newlines are literal). A NUL cannot be passed to a
 * program at all, so it is refused rather than silently cut.
 */
export function shellWord(s: string): string {
  if (s.includes('\u0000')) throw new Error(`a NUL character cannot be passed to a shell command: ${visibleControls(s)}`);
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Slurm's limit on a job name shown by squeue is not fixed; 100 characters keeps it readable. */
export const SLURM_JOB_NAME_MAX = 100;

/**
 * `gradflow-<name>` as a Slurm job name: every character other than ASCII letters, digits and
 * `. _ - + = , @ :` becomes `_` (newlines, control characters, spaces, quotes and every shell
 * metacharacter among them), at most SLURM_JOB_NAME_MAX characters. The job name is passed to
 * sbatch as one argv element, never through a shell; the filtering is for whoever later pastes
 * `squeue` output into one, and for Slurm's own `%x` file-name patterns.
 */
export function slurmJobName(name: string): string {
  return `gradflow-${name}`.replace(/[^A-Za-z0-9._+=,@:-]/g, '_').slice(0, SLURM_JOB_NAME_MAX);
}

// -------------------------------------------------------------------------------------------------
// Markdown

/**
 * Markdown inline text (a table cell, or text after a heading's `#`s or a list item's `-`) that
 * renders as exactly `s`: on one line (controls visible), with the characters that could start
 * markup backslash-escaped — `|` (a table row keeps its cells), `\`, `<`, and `&` before `name;` (no HTML tag or
 * entity), `[ ] !` (no link or image), a backtick (no code span), `$` (no math on GitHub), `* ~` and a `_` at a word
 * boundary (no emphasis; GFM never reads an intraword `_` as one, so `adam_x` stays as it is).
 */
export function markdownText(s: string): string {
  return visibleControls(s)
    .replace(/[\\|`*[\]<>!~$]|&(?=#?[A-Za-z0-9]+;)/g, (c) => `\\${c}`)
    .replace(/_/g, (u, at: number, all: string) => (/[A-Za-z0-9]/.test(all.charAt(at - 1)) && /[A-Za-z0-9]/.test(all.charAt(at + 1)) ? u : '\\_'));
}

/**
 * `s` as a Markdown code span (paths): the fence is one backtick longer than the longest run of
 * backticks in `s`, with a space inside when `s` starts or ends with a backtick. One line: controls
 * are made visible first (a code span shows a newline as a space, which would hide it).
 */
export function markdownCode(s: string): string {
  const one = visibleControls(s);
  const longest = Math.max(0, ...[...one.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = one.startsWith('`') || one.endsWith('`') || one === '' ? ' ' : '';
  return `${fence}${pad}${one}${pad}${fence}`;
}

// -------------------------------------------------------------------------------------------------
// LaTeX

const LATEX_SPECIALS: Readonly<Record<string, string>> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  // OT1 (LaTeX's default font encoding) prints these as other glyphs in text mode.
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '|': '\\textbar{}',
  '^': '\\textasciicircum{}',
  // Unicode that pdfLaTeX's default inputenc does not know:
  τ: '$\\tau$',
  α: '$\\alpha$',
  Δ: '$\\Delta$',
  '×': '$\\times$',
  '−': '$-$',
  '≤': '$\\le$',
  '≥': '$\\ge$',
  '≠': '$\\neq$',
  '±': '$\\pm$',
  '·': '$\\cdot$',
  '→': '$\\to$',
  '—': '---',
  '–': '--',
  '’': "'",
  '‘': '`',
  Ψ: '$\\Psi$',
  '√': '$\\surd$',
  '²': '$^2$',
  '…': '\\ldots{}',
  '≈': '$\\approx$',
};

/** τ̄ (τ + combining macron, the report's "mean τ") as one math symbol. */
const TAU_BAR = 'τ\u0304';

/**
 * LaTeX text mode that typesets as `s`: on one line (controls visible, their backslashes escaped
 * like any other), every special character escaped, the few non-ASCII symbols the report uses
 * written as math. A blank line (`\par`) or a raw control character cannot reach the file.
 */
export function latexText(s: string): string {
  return visibleControls(s)
    .split(TAU_BAR)
    .map((part) => Array.from(part, (ch) => LATEX_SPECIALS[ch] ?? ch).join(''))
    .join('$\\bar{\\tau}$');
}

// -------------------------------------------------------------------------------------------------
// CSV

/**
 * One CSV field (RFC 4180): one line (controls visible), quoted when it holds `"`, `,` or leading /
 * trailing space, and — text that a spreadsheet would run as a formula (first character `=`, `+`,
 * `-`, `@`) — prefixed with `'` and quoted (the OWASP "CSV injection" rule). Numbers are not text:
 * write them with `String(x)`, not through this function.
 */
export function csvField(s: string): string {
  let v = visibleControls(s);
  const formula = /^[=+\-@]/.test(v);
  if (formula) v = `'${v}`;
  return formula || /[",]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

// -------------------------------------------------------------------------------------------------
// HTML

/** Element text: `& < >` as entities. (The dashboard page builds its DOM with textContent; this is for HTML written as a string.) */
export function htmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A double-quoted attribute value (the only quoting Gradflow writes): `& < > "` as entities. */
export function htmlAttr(s: string): string {
  return htmlText(s).replace(/"/g, '&quot;');
}

/** Text or double-quoted attribute value in an XML document (the report's SVGs): controls visible (XML 1.0 forbids C0 controls outright), `& < > "` as entities. */
export function xmlText(s: string): string {
  return htmlAttr(visibleControls(s));
}
