import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { at, atF32, atF64, atI32, atI8, atU32, atU8, last } from '../../src/shared/checked';

describe('checked reads', () => {
  it('at reads in-range elements of arrays and typed arrays, undefined elements included', () => {
    assert.equal(at([10, 20, 30], 0), 10);
    assert.equal(at([10, 20, 30], 2), 30);
    assert.equal(at(new Float32Array([0.5, -1]), 1), -1);
    assert.equal(at(new Uint32Array(3), 2), 0);
    // An element that is undefined is still an element: no error.
    assert.equal(at([1, undefined, 3], 1), undefined);
    assert.equal(at('abc', 1), 'b');
  });

  it('at throws a RangeError naming the index and the length when out of range', () => {
    assert.throws(() => at([1, 2, 3], 3), { name: 'RangeError', message: 'index 3 is out of range for a length of 3' });
    assert.throws(() => at(new Float64Array(2), -1), { name: 'RangeError', message: 'index -1 is out of range for a length of 2' });
    assert.throws(() => at([1, 2], 0.5), { name: 'RangeError', message: 'index 0.5 is out of range for a length of 2' });
    assert.throws(() => at([], 0), RangeError);
    assert.throws(() => at([1], NaN), RangeError);
  });

  it('last reads the final element and refuses an empty list', () => {
    assert.equal(last([4, 5, 6]), 6);
    assert.equal(last(new Int8Array([-3])), -3);
    assert.throws(() => last([]), { name: 'RangeError', message: 'index -1 is out of range for a length of 0' });
  });

  it('the typed accessors read in range and throw a RangeError out of range', () => {
    // 0.1 as float32 is 0.100000001490116…, read back exactly as stored.
    assert.equal(atF32(new Float32Array([0.1, 2]), 0), Math.fround(0.1));
    assert.equal(atF64(new Float64Array([0.1, 2]), 0), 0.1);
    assert.equal(atU8(Buffer.from([7, 255]), 1), 255);
    assert.equal(atU32(new Uint32Array([4294967295]), 0), 4294967295);
    assert.equal(atI32(new Int32Array([-5, 6]), 0), -5);
    assert.equal(atI8(new Int8Array([-1, 0, 1]), 0), -1);
    const reads: Array<[string, () => number]> = [
      ['atF32', () => atF32(new Float32Array(2), 2)],
      ['atF64', () => atF64(new Float64Array(2), -1)],
      ['atU8', () => atU8(new Uint8Array(0), 0)],
      ['atU32', () => atU32(new Uint32Array(3), 1.5)],
      ['atI32', () => atI32(new Int32Array(1), 7)],
      ['atI8', () => atI8(new Int8Array(4), 4)],
    ];
    for (const [name, read] of reads) assert.throws(read, RangeError, name);
  });
});
