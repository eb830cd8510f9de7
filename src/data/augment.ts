/**
 * Data augmentation on normalised NHWC batches: random crop with padding and random horizontal
 * flip (method.md §5: 2 px for 28×28 sets, 4 px + flip for CIFAR; conv nets 4 px everywhere).
 *
 * The crop is the usual "pad by p, take a random h×w window" — equivalently a shift of the image by
 * (dy, dx), each uniform in −p..p, with the uncovered border filled by the pad value. Padding is
 * meant to be black (raw 0), which after normalisation is −mean/std per channel
 * (`Normalization.zero`), not 0; pass it in `opts.padValue` (defaultAugment(name, dataset) does).
 */
import type { Architecture, DatasetName } from '../shared/experiment';
import type { Rng } from '../shared/rng';
import type { AugmentOptions, Dataset } from './types';
import { atF32 } from '../shared/checked';

/**
 * Default options per dataset and architecture. MLPs (method.md §5): 2 px for 28×28 sets, 4 px and
 * a flip for CIFAR. Conv nets (`cnn`, `wrn`): the WRN standard, 4 px on every image set, the flip
 * for CIFAR only ((Fashion-)MNIST keeps MNIST's protocol: a mirrored digit is another image).
 * Synthetic data is never augmented. With `dataset` (a loaded Dataset), padValue is its black-pixel
 * value; without it, padding is 0 in normalised space (the channel mean).
 */
export function defaultAugment(name: DatasetName, dataset?: Pick<Dataset, 'normalization'>, architecture: Architecture = 'mlp'): AugmentOptions {
  const padValue = dataset?.normalization?.zero;
  const base = ((): AugmentOptions => {
    switch (name) {
      case 'fashion-mnist':
      case 'mnist':
        return { pad: architecture === 'mlp' ? 2 : 4, flip: false };
      case 'cifar10':
      case 'cifar100':
        return { pad: 4, flip: true };
      case 'synthetic':
        return { pad: 0, flip: false };
    }
  })();
  return padValue ? { ...base, padValue: [...padValue] } : base;
}

/**
 * Returns a new augmented batch (the input is not modified). Per example, in this order: dy =
 * rng.int(2p+1) − p, dx = rng.int(2p+1) − p, then (if opts.flip) flip = rng.next() < 0.5. Output
 * pixel (i, j) is input pixel (i + dy, j' + dx) where j' = w−1−j when flipped, else j; outside the
 * image it is padValue[c]. No random numbers are drawn when pad is 0 and flip is off.
 */
export function augmentBatch(x: Float32Array, n: number, shape: readonly [number, number, number], opts: AugmentOptions, rng: Rng): Float32Array {
  const [h, w, c] = shape;
  const f = h * w * c;
  if (x.length < n * f) throw new RangeError(`augmentBatch: ${n} examples of ${h}×${w}×${c} need ${n * f} values, got ${x.length}`);
  const p = opts.pad;
  if (!Number.isInteger(p) || p < 0) throw new RangeError(`augmentBatch: pad must be a non-negative integer, got ${p}`);
  if (opts.padValue && opts.padValue.length !== c) throw new RangeError(`augmentBatch: padValue has ${opts.padValue.length} entries, ${c} channels`);
  const out = new Float32Array(n * f);
  if (p === 0 && !opts.flip) {
    out.set(x.subarray(0, n * f));
    return out;
  }
  const fill = Float32Array.from({ length: c }, (_, ch) => opts.padValue?.[ch] ?? 0);
  for (let e = 0; e < n; e++) {
    const dy = p > 0 ? rng.int(2 * p + 1) - p : 0;
    const dx = p > 0 ? rng.int(2 * p + 1) - p : 0;
    const flip = opts.flip && rng.next() < 0.5;
    const base = e * f;
    for (let i = 0; i < h; i++) {
      const si = i + dy;
      const rowOk = si >= 0 && si < h;
      for (let j = 0; j < w; j++) {
        const sj = (flip ? w - 1 - j : j) + dx;
        const o = base + (i * w + j) * c;
        if (rowOk && sj >= 0 && sj < w) {
          const s = base + (si * w + sj) * c;
          for (let ch = 0; ch < c; ch++) out[o + ch] = atF32(x, s + ch);
        } else {
          for (let ch = 0; ch < c; ch++) out[o + ch] = atF32(fill, ch);
        }
      }
    }
  }
  return out;
}
