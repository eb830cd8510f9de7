/**
 * Structural checks of Gradflow's text outputs, independent of the code that writes them (issue 18:
 * names with control characters in every output format). Not a test file: the fuzz suite and the
 * report's hostile-name test use it. Each function returns the problems it found ([] = none).
 */

/** C0 except newline, DEL, C1, ESC: none may reach a file or a terminal. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

export function rawControls(text: string): string[] {
  const m = RAW_CONTROL.exec(text);
  return m ? [`raw control character U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${m.index}`] : [];
}

/** Cells of a Markdown table row: split on `|` not escaped by a backslash (a `\\` is an escaped backslash). */
export function markdownCells(row: string): string[] {
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < row.length; i++) {
    const c = row[i];
    if (c === '\\' && i + 1 < row.length) {
      cur += c + row[i + 1];
      i++;
    } else if (c === '|') {
      cells.push(cur);
      cur = '';
    } else cur += c;
  }
  cells.push(cur);
  // `| a | b |`: the empty text before the first and after the last pipe are not cells.
  return cells.slice(1, -1);
}

/**
 * Every Markdown table (consecutive lines starting with `|`) has as many cells in each row as in
 * its header; no line is a heading, quote or table row that the report did not write (the caller
 * passes the lines it expects to start with `#`).
 */
export function markdownTableProblems(md: string): string[] {
  const problems: string[] = [...rawControls(md)];
  const lines = md.split('\n');
  let header: number | undefined;
  lines.forEach((line, i) => {
    if (!line.startsWith('|')) {
      header = undefined;
      return;
    }
    const n = markdownCells(line).length;
    if (header === undefined) header = n;
    else if (n !== header) problems.push(`line ${i + 1}: ${n} cells, the header has ${header}: ${line.slice(0, 120)}`);
  });
  return problems;
}

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF or LF rows). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (quoted) throw new Error('CSV ends inside a quoted field');
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** Every row has the header's cell count; no text cell would run as a spreadsheet formula; no raw control. */
export function csvProblems(text: string, expectedRows?: number): string[] {
  const problems = [...rawControls(text)];
  let rows: string[][];
  try {
    rows = parseCsv(text);
  } catch (e) {
    return [...problems, (e as Error).message];
  }
  if (expectedRows !== undefined && rows.length !== expectedRows) problems.push(`${rows.length} rows, expected ${expectedRows}`);
  const width = rows[0]?.length ?? 0;
  rows.forEach((r, i) => {
    if (r.length !== width) problems.push(`row ${i + 1}: ${r.length} cells, the header has ${width}`);
    for (const cell of r) {
      const isNumber = cell.trim() !== '' && Number.isFinite(Number(cell));
      if (!isNumber && /^[=+\-@\t\r]/.test(cell)) problems.push(`row ${i + 1}: formula-like cell ${JSON.stringify(cell.slice(0, 60))}`);
    }
  });
  return problems;
}

/**
 * LaTeX that compiles as the writer meant it: no raw control, braces balanced (outside `\{` `\}`),
 * no `%` comment except on the lines the writer comments on purpose (`% gradflow…` and the
 * `\resizebox…{%`), no blank line (paragraph break) inside the table, and in each tabular row
 * (`… \\`) exactly `columns − 1` alignment `&`s.
 */
export function latexProblems(tex: string, columns?: number): string[] {
  const problems = [...rawControls(tex)];
  // Remove escaped characters (`\&`, `\%`, `\{`, `\}`, `\$`, `\#`, `\_`, `\\`) before counting.
  const unescaped = (line: string): string => line.replace(/\\[&%{}$#_\\]/g, '');
  let depth = 0;
  const lines = tex.split('\n');
  lines.forEach((line, i) => {
    const u = unescaped(line);
    for (const c of u) {
      if (c === '{') depth++;
      else if (c === '}') depth--;
      if (depth < 0) problems.push(`line ${i + 1}: unbalanced }`);
    }
    const pct = u.indexOf('%');
    if (pct >= 0 && !(i === 0 && line.startsWith('% gradflow')) && !/\\resizebox\{\\textwidth\}\{!\}\{%$/.test(line)) problems.push(`line ${i + 1}: unescaped % (the rest of the line is a comment): ${line.slice(0, 120)}`);
    if (line.trim() === '' && i < lines.length - 1) problems.push(`line ${i + 1}: blank line (a paragraph break) inside the table`);
    if (columns !== undefined && /\\\\$/.test(line) && !/\\(toprule|midrule|bottomrule)/.test(line)) {
      const amps = (u.match(/&/g) ?? []).length;
      if (amps !== columns - 1) problems.push(`line ${i + 1}: ${amps} & in a row of ${columns} columns`);
    }
  });
  if (depth !== 0) problems.push(`braces unbalanced at the end (depth ${depth})`);
  return problems;
}

/** One line of terminal output: no escape sequence, control character or line break. */
export function terminalProblems(line: string): string[] {
  const problems: string[] = [];
  if (/[\n\r\u001b\u009b]/.test(line)) problems.push(`line break or ESC in ${JSON.stringify(line.slice(0, 80))}`);
  return [...problems, ...rawControls(line)];
}
