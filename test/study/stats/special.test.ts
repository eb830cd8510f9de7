import { test } from 'node:test';
import assert from 'node:assert/strict';
import { erfc, incompleteBeta, logGamma, normCdf, normSf, studentTCdf } from '../../../src/study/stats';
import { Deviation, assertClose, loadReference } from './reference';

const ref = loadReference();

test('erfc matches scipy.special.erfc', () => {
  const dev = new Deviation();
  for (const [x, v] of ref.special.erfc) assertClose(erfc(x), v, `erfc(${x})`, dev);
  console.log(dev.summary('erfc'));
});

test('normal CDF matches scipy.special.ndtr, sf is the mirrored CDF', () => {
  const dev = new Deviation();
  for (const [z, v] of ref.special.ndtr) {
    assertClose(normCdf(z), v, `ndtr(${z})`, dev);
    assertClose(normSf(-z), v, `sf(${-z})`, dev);
  }
  console.log(dev.summary('ndtr'));
});

test('Student t CDF matches scipy.special.stdtr', () => {
  const dev = new Deviation();
  for (const [df, t, v] of ref.special.stdtr) assertClose(studentTCdf(t, df), v, `stdtr(${df}, ${t})`, dev);
  console.log(dev.summary('stdtr'));
});

test('regularised incomplete beta matches scipy.special.betainc', () => {
  const dev = new Deviation();
  for (const [a, b, x, v] of ref.special.betainc) assertClose(incompleteBeta(a, b, x), v, `betainc(${a}, ${b}, ${x})`, dev);
  console.log(dev.summary('betainc'));
});

test('hand-computed special values', () => {
  // Γ(5) = 24, Γ(½) = √π
  assert.ok(Math.abs(logGamma(5) - Math.log(24)) < 1e-14);
  assert.ok(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-14);
  // t with 1 df is Cauchy: F(t) = ½ + atan(t)/π
  for (const t of [-30, -2, -0.3, 0.7, 5]) assert.ok(Math.abs(studentTCdf(t, 1) - (0.5 + Math.atan(t) / Math.PI)) < 1e-14);
  // t with 2 df: F(t) = ½ + t / (2√(2 + t²))
  for (const t of [-9, -1, 0.4, 3]) assert.ok(Math.abs(studentTCdf(t, 2) - (0.5 + t / (2 * Math.sqrt(2 + t * t)))) < 1e-14);
  // I_x(1, 1) = x; I_x(a, 1) = x^a
  assert.ok(Math.abs(incompleteBeta(1, 1, 0.37) - 0.37) < 1e-15);
  assert.ok(Math.abs(incompleteBeta(3.5, 1, 0.6) - 0.6 ** 3.5) < 1e-15);
  assert.equal(normCdf(0), 0.5);
  assert.ok(Math.abs(normSf(1.959963984540054) - 0.025) < 1e-15);
});
