import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSvg, type Plot } from '../../../src/study/report';

/** Tiny well-formedness check: every start tag is closed in order; attribute quotes balanced; no stray '<'. */
function checkWellFormed(xml: string): Map<string, number> {
  const counts = new Map<string, number>();
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const between = xml.slice(last, m.index);
    assert.ok(!between.includes('<') && !between.includes('>'), `stray markup before offset ${m.index}: ${between.slice(0, 60)}`);
    last = tag.lastIndex;
    const [, close, name, , selfClose] = m;
    assert.ok(name);
    if (close) assert.equal(stack.pop(), name, `closing </${name}> at ${m.index}`);
    else {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (!selfClose) stack.push(name);
    }
  }
  assert.ok(!xml.slice(last).includes('<'), 'trailing markup');
  assert.deepEqual(stack, [], 'unclosed tags');
  return counts;
}

const plot: Plot = {
  id: 'p',
  title: 'final test accuracy vs width — fashion-mnist <&>',
  xLabel: 'dense width h_D',
  yLabel: 'final test accuracy',
  series: [
    { name: 'sparse', net: 'sparse', points: [{ x: 32, mean: 0.6, std: 0.1, min: 0.5, max: 0.7, n: 3 }, { x: 64, mean: 0.8, std: 0.05, min: 0.75, max: 0.85, n: 3 }] },
    { name: 'dense', net: 'dense', points: [{ x: 32, mean: 0.5, std: NaN, min: 0.5, max: 0.5, n: 1 }, { x: 64, mean: 0.7, std: 0, min: 0.7, max: 0.7, n: 3 }] },
  ],
  notes: [],
};

test('SVG is well-formed and holds both series, axes, ticks, legend and title', () => {
  const svg = renderSvg(plot);
  const counts = checkWellFormed(svg);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.includes('data-series="sparse"') && svg.includes('data-series="dense"'));
  assert.equal(counts.get('circle'), 2 + 1, 'two sparse markers and one legend marker');
  assert.ok(svg.includes('fashion-mnist &lt;&amp;&gt;'), 'title escaped');
  assert.ok(svg.includes('>dense width h_D</text>') && svg.includes('>final test accuracy</text>'));
  assert.ok(svg.includes('>32</text>') && svg.includes('>64</text>'), 'x ticks at the width levels');
  assert.equal(counts.get('path'), 2, 'one line per series');
  assert.ok(!/NaN|Infinity|undefined/.test(svg));
  // Error bars (3 lines each) only where sd > 0: the two sparse points.
  assert.equal((svg.match(/stroke-width="1.2"/g) ?? []).length, 6);
});

test('SVG of a single point does not divide by zero', () => {
  const svg = renderSvg({ ...plot, series: [{ name: 'sparse', net: 'sparse', points: [{ x: 64, mean: 0.8, std: NaN, min: 0.8, max: 0.8, n: 1 }] }] });
  checkWellFormed(svg);
  assert.ok(!/NaN|Infinity/.test(svg));
});
