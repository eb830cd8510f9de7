/**
 * Tiny element builder. Text goes through `textContent` only, never `innerHTML`: run titles, file
 * names and alert messages come from user files and must not become markup. Styles are never set
 * as attributes (CSP `style-src` without 'unsafe-inline' forbids them); use classes or the CSSOM.
 */
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; title?: string; attrs?: Record<string, string> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.title) el.title = props.title;
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) el.setAttribute(k, v);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const intFmt = new Intl.NumberFormat('en-US');
export function fmtInt(n: number): string {
  return intFmt.format(n);
}

/** Compact significant-figure formatting for norms spanning many orders of magnitude. */
export function fmtNum(v: number | null | string): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'NaN';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

export function fmtPct(v: number | null): string {
  return v === null ? '—' : `${(v * 100).toFixed(1)}%`;
}
