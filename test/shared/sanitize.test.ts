/**
 * Issue 18: the one function per output kind (src/shared/sanitize.ts), each against hand-written
 * expected strings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  csvField,
  htmlAttr,
  htmlText,
  latexText,
  logText,
  markdownCode,
  markdownText,
  shellWord,
  slurmJobName,
  terminalText,
  visibleControls,
  xmlText,
} from '../../src/shared/sanitize';

const ESC = '\u001b';
const BEL = '\u0007';

test('visibleControls: escape sequences removed whole, every other control shown', () => {
  assert.equal(visibleControls(`a${ESC}]0;pwned${BEL}b${ESC}[2Jc`), 'abc');
  assert.equal(visibleControls('one\ntwo\r\tthree'), 'one\\ntwo\\r\\tthree');
  assert.equal(visibleControls('nul\u0000 bell\u0007 del\u007f c1\u0085'), 'nul\\x00 bell\\x07 del\\x7f c1\\x85');
  assert.equal(visibleControls('bidi \u202eevil\u202c ls\u2028ps\u2029'), 'bidi \\u202eevil\\u202c ls\\u2028ps\\u2029');
  assert.equal(visibleControls('plain: µ, ∑, 日本, $(x) `y`'), 'plain: µ, ∑, 日本, $(x) `y`');
});

test('terminalText / logText: one line, the value intact but escaped', () => {
  assert.equal(terminalText(`evil\n$(touch x)\r${ESC}[2J\u009b2Jok`), 'evil\\n$(touch x)\\rok');
  assert.equal(logText('a\nb'), 'a\\nb');
});

test('shellWord: one single-quoted word, nothing expanded', () => {
  assert.equal(shellWord('plain'), "'plain'");
  assert.equal(shellWord("it's $HOME `id` $(x); y\nz"), "'it'\\''s $HOME `id` $(x); y\nz'");
  assert.equal(shellWord(''), "''");
  assert.throws(() => shellWord('a\u0000b'), /NUL character/);
  // Read back by a real shell: each word is exactly what went in.
  const words = ["it's", '$HOME', '`id`', '$(touch /nonexistent/x)', 'a\nb', '\\', '"', ' ', '*', '!'];
  const r = spawnSync('sh', ['-c', `printf '%s\\0' ${words.map(shellWord).join(' ')}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), words);
});

test('slurmJobName: letters, digits and ._-+=,@: only, 100 characters at most', () => {
  assert.equal(slurmJobName('fmnist-study_v2.1'), 'gradflow-fmnist-study_v2.1');
  assert.equal(slurmJobName('a\nb; $(c) `d` \'e\' "f" #g'), 'gradflow-a_b____c___d___e___f___g');
  assert.equal(slurmJobName('x=1,y@h:2+3'), 'gradflow-x=1,y@h:2+3');
  assert.equal(slurmJobName('日本'), 'gradflow-__');
  assert.equal(slurmJobName('n'.repeat(300)), `gradflow-${'n'.repeat(91)}`);
});

test('markdownText: one line, pipes and markup escaped, intraword _ kept', () => {
  assert.equal(markdownText('a | b'), 'a \\| b');
  assert.equal(markdownText('line\nbreak'), 'line\\\\nbreak');
  assert.equal(markdownText('[x](javascript:alert(1)) ![i](u)'), '\\[x\\](javascript:alert(1)) \\!\\[i\\](u)');
  assert.equal(markdownText('<script>alert(1)</script>'), '\\<script\\>alert(1)\\</script\\>');
  assert.equal(markdownText('`code` *em* ~~s~~'), '\\`code\\` \\*em\\* \\~\\~s\\~\\~');
  assert.equal(markdownText('adam_x _em_ __b__'), 'adam_x \\_em\\_ \\_\\_b\\_\\_');
  assert.equal(markdownText('p & q, &amp; &#60;'), 'p & q, \\&amp; \\&#60;');
  assert.equal(markdownText('$x$ $(id)'), '\\$x\\$ \\$(id)');
  assert.equal(markdownText(`a\\b ${ESC}[31mred`), 'a\\\\b red');
});

test('markdownCode: a fence longer than any backtick run inside', () => {
  assert.equal(markdownCode('/runs/sweep-a'), '`/runs/sweep-a`');
  assert.equal(markdownCode('a`b'), '``a`b``');
  assert.equal(markdownCode('``x'), '``` ``x ```');
  assert.equal(markdownCode('dir\nname'), '`dir\\nname`');
  assert.equal(markdownCode(''), '`  `');
});

test('latexText: specials escaped, one line, controls visible and their backslashes escaped', () => {
  assert.equal(latexText('50% of a_b & {c} ~ # $ ^ \\'), '50\\% of a\\_b \\& \\{c\\} \\textasciitilde{} \\# \\$ \\textasciicircum{} \\textbackslash{}');
  assert.equal(latexText('a\n\nb'), 'a\\textbackslash{}n\\textbackslash{}nb');
  assert.equal(latexText(`x${ESC}[2J\u0007y`), 'x\\textbackslash{}x07y');
  assert.equal(latexText('τ̄ ≤ 0.5 × Δ'), '$\\bar{\\tau}$ $\\le$ 0.5 $\\times$ $\\Delta$');
  assert.equal(latexText('<a|b>'), '\\textless{}a\\textbar{}b\\textgreater{}');
});

test('csvField: RFC 4180 quoting, one line, formulas neutralised', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField(' pad'), '" pad"');
  assert.equal(csvField('two\nlines'), 'two\\nlines');
  assert.equal(csvField('=HYPERLINK("http://x","y")'), '"\'=HYPERLINK(""http://x"",""y"")"');
  assert.equal(csvField('+1'), '"\'+1"');
  assert.equal(csvField('-2+3'), '"\'-2+3"');
  assert.equal(csvField('@SUM(A1)'), '"\'@SUM(A1)"');
  assert.equal(csvField('\t=1'), '\\t=1');
  assert.equal(csvField('a-b=c'), 'a-b=c');
});

test('HTML and XML: no markup, no attribute break-out, no raw control in XML', () => {
  assert.equal(htmlText('<b>&</b>'), '&lt;b&gt;&amp;&lt;/b&gt;');
  assert.equal(htmlAttr(`" onload='x'`), "&quot; onload='x'");
  assert.equal(xmlText('a\u0001<b>\n"c"'), 'a\\x01&lt;b&gt;\\n&quot;c&quot;');
});
