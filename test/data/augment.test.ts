import assert from 'node:assert/strict';
import { test } from 'node:test';
import { augmentBatch, defaultAugment } from '../../src/data/index';
import { createRng } from '../../src/shared/rng';
import { scriptedRng } from './helpers';
import { atF32 } from '../../src/shared/checked';

/** 4×5 single-channel image with value 10·row + col + 1 (so 0 means "padding"). */
const H = 4;
const W = 5;
const img = Float32Array.from({ length: H * W }, (_, k) => 10 * Math.floor(k / W) + (k % W) + 1);
const px = (a: Float32Array, r: number, c: number, base = 0): number => atF32(a, base + r * W + c);

test('crop shifts by (dy, dx) = (int − pad) and fills the uncovered border with padValue', () => {
  // pad 2: ints 3 and 0 → dy = +1, dx = −2. Output (r, c) = input (r+1, c−2).
  const rng = scriptedRng([3, 0]);
  const out = augmentBatch(img, 1, [H, W, 1], { pad: 2, flip: false, padValue: [-9] }, rng);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const sr = r + 1;
      const sc = c - 2;
      const want = sr < H && sc >= 0 ? 10 * sr + sc + 1 : -9;
      assert.equal(px(out, r, c), want, `(${r},${c})`);
    }
  }
  assert.deepEqual(rng.used(), { ints: 2, uniforms: 0 });
  assert.equal(img[0], 1, 'input untouched');
});

test('flip mirrors columns; crop then flip; flip decided by next() < 0.5', () => {
  const flipped = augmentBatch(img, 1, [H, W, 1], { pad: 0, flip: true }, scriptedRng([], [0.49]));
  for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) assert.equal(px(flipped, r, c), 10 * r + (W - 1 - c) + 1);
  const kept = augmentBatch(img, 1, [H, W, 1], { pad: 0, flip: true }, scriptedRng([], [0.5]));
  assert.deepEqual(kept, img);
  // pad 1: dy = 0, dx = +1, flipped. Cropped (r, c) = in(r, c+1) (last column padding); then mirrored.
  const both = augmentBatch(img, 1, [H, W, 1], { pad: 1, flip: true, padValue: [0] }, scriptedRng([1, 2], [0.1]));
  assert.deepEqual(Array.from(both.subarray(0, W)), [0, 5, 4, 3, 2]);
});

test('multi-channel: per-channel pad value, channels move together, examples independent', () => {
  // 2 examples of 2×2×3; example e, pixel p, channel c = 100e + 10p + c
  const x = Float32Array.from({ length: 2 * 12 }, (_, k) => 100 * Math.floor(k / 12) + 10 * Math.floor((k % 12) / 3) + (k % 3));
  // pad 1: example 0 dy=−1, dx=0 (ints 0, 1); example 1 dy=0, dx=+1 (ints 1, 2)
  const out = augmentBatch(x, 2, [2, 2, 3], { pad: 1, flip: false, padValue: [-1, -2, -3] }, scriptedRng([0, 1, 1, 2]));
  // example 0: row 0 is padding, row 1 = input row 0
  assert.deepEqual(Array.from(out.subarray(0, 12)), [-1, -2, -3, -1, -2, -3, 0, 1, 2, 10, 11, 12]);
  // example 1: column 0 = input column 1, column 1 is padding
  assert.deepEqual(Array.from(out.subarray(12, 24)), [110, 111, 112, -1, -2, -3, 130, 131, 132, -1, -2, -3]);
});

test('seeded augmentation: offsets stay within ±pad, all offsets occur, reproducible, no-op options copy', () => {
  const n = 400;
  // one-hot "dot" at the centre of 9×9; its position after augmentation gives the offset
  const x = new Float32Array(n * 81);
  for (let e = 0; e < n; e++) x[e * 81 + 4 * 9 + 4] = 1;
  const a = augmentBatch(x, n, [9, 9, 1], { pad: 2, flip: false }, createRng(5));
  const b = augmentBatch(x, n, [9, 9, 1], { pad: 2, flip: false }, createRng(5));
  assert.deepEqual(a, b);
  const seen = new Set<string>();
  for (let e = 0; e < n; e++) {
    const k = a.subarray(e * 81, (e + 1) * 81).indexOf(1);
    const [r, c] = [Math.floor(k / 9), k % 9];
    // output (r, c) = input (r + dy, c + dx) → dot moves by (−dy, −dx)
    assert.ok(Math.abs(r - 4) <= 2 && Math.abs(c - 4) <= 2);
    seen.add(`${r},${c}`);
  }
  assert.equal(seen.size, 25);
  const same = augmentBatch(x, n, [9, 9, 1], { pad: 0, flip: false }, scriptedRng([]));
  assert.deepEqual(same, x);
  assert.notEqual(same, x, 'a copy, not the input');
});

test('defaultAugment: 2 px for 28×28 sets, 4 px + flip for CIFAR, none for synthetic; pad value from the dataset', () => {
  assert.deepEqual(defaultAugment('fashion-mnist'), { pad: 2, flip: false });
  assert.deepEqual(defaultAugment('mnist'), { pad: 2, flip: false });
  assert.deepEqual(defaultAugment('cifar10'), { pad: 4, flip: true });
  assert.deepEqual(defaultAugment('cifar100'), { pad: 4, flip: true });
  assert.deepEqual(defaultAugment('synthetic'), { pad: 0, flip: false });
  const ds = { normalization: { mean: [0.5, 0.25, 0.2], std: [0.25, 0.5, 0.1], zero: [-2, -0.5, -2] } };
  assert.deepEqual(defaultAugment('cifar10', ds), { pad: 4, flip: true, padValue: [-2, -0.5, -2] });
});

test('augmentBatch rejects inconsistent arguments', () => {
  assert.throws(() => augmentBatch(new Float32Array(10), 1, [4, 5, 1], { pad: 1, flip: false }, createRng(1)), RangeError);
  assert.throws(() => augmentBatch(img, 1, [H, W, 1], { pad: -1, flip: false }, createRng(1)), /pad must be a non-negative integer/);
  assert.throws(() => augmentBatch(img, 1, [H, W, 1], { pad: 1, flip: false, padValue: [0, 0] }, createRng(1)), /padValue has 2 entries/);
});

test('defaultAugment for conv nets: 4 px on every image set, flip only for CIFAR, none for synthetic', () => {
  for (const arch of ['cnn', 'wrn'] as const) {
    assert.deepEqual(defaultAugment('fashion-mnist', undefined, arch), { pad: 4, flip: false });
    assert.deepEqual(defaultAugment('mnist', undefined, arch), { pad: 4, flip: false });
    assert.deepEqual(defaultAugment('cifar10', undefined, arch), { pad: 4, flip: true });
    assert.deepEqual(defaultAugment('cifar100', undefined, arch), { pad: 4, flip: true });
    assert.deepEqual(defaultAugment('synthetic', undefined, arch), { pad: 0, flip: false });
  }
  assert.deepEqual(defaultAugment('fashion-mnist', undefined, 'mlp'), { pad: 2, flip: false });
});

test('conv defaults on NHWC batches: shape-preserving, seeded, every value from its own example or the black pad', () => {
  for (const [shape, name] of [
    [[28, 28, 1], 'fashion-mnist'],
    [[32, 32, 3], 'cifar10'],
  ] as const) {
    const [h, w, c] = shape;
    const f = h * w * c;
    const n = 6;
    // Distinct values per example and position (e·f + i + 1), so each output value names its source.
    const x = Float32Array.from({ length: n * f }, (_, i) => i + 1);
    const opts = defaultAugment(name, { normalization: { mean: [], std: [], zero: Array.from({ length: c }, () => -7) } }, 'cnn');
    const a = augmentBatch(x, n, shape, opts, createRng(11).fork('augment'));
    const b = augmentBatch(x, n, shape, opts, createRng(11).fork('augment'));
    const other = augmentBatch(x, n, shape, opts, createRng(12).fork('augment'));
    assert.equal(a.length, x.length);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, other);
    for (let e = 0; e < n; e++) {
      for (let i = 0; i < f; i++) {
        const v = atF32(a, e * f + i);
        if (v === -7) continue;
        assert.ok(v > e * f && v <= (e + 1) * f, `example ${e} value ${v} comes from another example`);
        assert.equal((v - 1) % c, i % c, 'channels stay in place');
      }
    }
  }
});
