/**
 * User text on its way to a terminal, a log or a file name. A name or value from an experiment file
 * (or a run folder) can hold escape sequences that clear the screen, retitle the terminal or hide
 * text; every string Gradflow prints on a user's behalf goes through `stripControl` (printing) or
 * `shownText` (quoting inside a message), and every folder name made from user text through
 * `boundedSlug`.
 */
/**
 * ANSI/VT escape sequences as a whole (so no `]0;title` remains once the ESC is gone): CSI
 * (`ESC [` params final), OSC / DCS / SOS / PM / APC strings up to BEL or ST, and two-byte
 * `ESC x`; also the 8-bit CSI (U+009B) and OSC (U+009D) forms.
 */
export const ESCAPE_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|(?:\u001b[\]PX^_]|[\u009d\u0090\u0098\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[ -~]?/g;

/**
 * Control characters left after the sequences are gone: C0 except tab and newline, DEL, C1, and the
 * bidirectional overrides/isolates that can make a line read differently from what it is.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export interface StripOptions {
  /** Keep `\n` (multi-line messages). Default false: a newline becomes a space. */
  keepNewlines?: boolean;
}

/**
 * `s` without escape sequences and control characters, safe to write to a terminal or a log line.
 * Tabs become spaces; `\r` is dropped (it would let a value overwrite the start of its line).
 */
export function stripControl(s: string, opts: StripOptions = {}): string {
  let out = s.replace(ESCAPE_SEQUENCE, '').replace(/\t/g, ' ');
  if (!opts.keepNewlines) out = out.replace(/\r?\n/g, ' ');
  return out.replace(CONTROL, (c) => (c === '\n' ? c : ''));
}

/** True when `s` holds something `stripControl` would remove. */
export function hasControl(s: string): boolean {
  ESCAPE_SEQUENCE.lastIndex = 0;
  CONTROL.lastIndex = 0;
  const found = ESCAPE_SEQUENCE.test(s) || CONTROL.test(s) || /[\t\n]/.test(s);
  ESCAPE_SEQUENCE.lastIndex = 0;
  CONTROL.lastIndex = 0;
  return found;
}

/**
 * `s` as it should appear quoted inside a message: control characters made visible (`\x1b`, `\n`)
 * rather than executed, and at most `max` characters (then `…` and the full length), so a 1 MB
 * value cannot make a 1 MB message.
 */
export function shownText(s: string, max = 80): string {
  const cut = s.length > max ? s.slice(0, max) : s;
  const visible = cut.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return s.length > max ? `${visible}… (${s.length} characters)` : visible;
}

/**
 * A folder-name fragment from user text: lower-case ASCII letters, digits and `-`, at most
 * `maxBytes` bytes (file systems allow 255 per name). When the text is cut, the last 9 bytes are
 * `-` and 8 hex digits of a hash of the whole text, so two long names that share a prefix still get
 * two folders.
 */
export function boundedSlug(text: string, maxBytes: number, fallback: string): string {
  const slug = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || fallback;
  if (slug.length <= maxBytes) return slug;
  const hash = fnv1a(text).toString(16).padStart(8, '0');
  const keep = Math.max(0, maxBytes - 9);
  return `${slug.slice(0, keep).replace(/-+$/, '')}-${hash}`;
}

/** 32-bit FNV-1a over UTF-16 code units (no Node dependency, so any runtime can import this module). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
