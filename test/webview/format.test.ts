import { test } from 'node:test';
import assert from 'node:assert/strict';
import { densityText, logFloor } from '../../src/shared/format';

test('density: tiny densities keep two significant digits, never "0.0%"', () => {
  assert.equal(densityText(16 / 40000), '0.040%'); // the case: 16 of 40,000 weights
  assert.equal(densityText(1 / 40000), '0.0025%');
  assert.equal(densityText(1 / 1e7), '1.0e-5%');
  assert.equal(densityText(0), '0%');
  assert.equal(densityText(0.02), '2.0%');
  assert.equal(densityText(0.5), '50.0%');
  assert.equal(densityText(1), '100%');
  assert.equal(densityText(39999 / 40000), '99.9975%'); // not "100.0%"
  assert.equal(densityText(0.9995), '99.950%');
  assert.equal(densityText(null), '—');
});

test('log floor: a decade below the smallest positive value, as a power of ten', () => {
  assert.equal(logFloor([3.2e-6, 0, 6.7e-3, null]), 1e-7);
  assert.equal(logFloor([0.5, 2]), 0.01);
  assert.equal(logFloor([0, null]), 1e-12);
  assert.equal(logFloor([]), 1e-12);
});
