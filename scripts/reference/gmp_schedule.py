#!/usr/bin/python3
"""Independent reference for gradual magnitude pruning's schedule (Zhu & Gupta 2017).

Run: /usr/bin/python3 scripts/reference/gmp_schedule.py > test/fixtures/engine/ref_gmp.json
test/engine/gmp.test.ts compares the engine's pruning steps and kept counts.

Written from tensorflow/model-optimization (keras/pruning_schedule.py PolynomialDecay with
power 3, _should_prune_in_step; keras/pruning_impl.py _update_mask), with numpy float32 where
TensorFlow computes in float32:
  prune at step s when begin <= s <= end and (s - begin) % frequency == 0;
  p = min(1, max(0, f32(s - begin) / (end - begin)));
  sparsity = f32(initial - final) * (1 - p)^3 + final      (float32; initial - final in float64)
  k = max(round_half_even(f32(size) * (1 - sparsity)), 1)  (float32)
initial / final sparsity from counts: 1 - k_init / n, 1 - k_final / n.
"""
import json
import sys
import numpy as np

f32 = np.float32


def kept(n, k_init, k_final, step, begin, end):
    s_i = 1 - k_init / n
    s_f = 1 - k_final / n
    p = min(f32(1.0), max(f32(0.0), f32(f32(step - begin) / f32(end - begin))))
    sparsity = f32(f32(s_i - s_f) * f32(f32(1) - p) ** 3) + f32(s_f)
    k = np.round(f32(f32(n) * f32(f32(1) - f32(sparsity))))
    return int(max(k, 1))


def main():
    configs = [
        dict(name='layerwise 3 layers', sizes=[784 * 100, 100 * 100, 100 * 10], k_init=[784 * 100, 100 * 100, 100 * 10], k_final=[7840, 100, 100], begin=10, end=130, every=10),
        dict(name='from 0.5 density', sizes=[300, 1200, 40], k_init=[150, 600, 20], k_final=[30, 12, 4], begin=0, end=60, every=5),
        dict(name='global total', sizes=[784 * 100 + 100 * 100 + 1000], k_init=[784 * 100 + 100 * 100 + 1000], k_final=[8040], begin=3, end=99, every=8),
        dict(name='every 1', sizes=[97, 1001], k_init=[97, 1001], k_final=[1, 3], begin=2, end=40, every=1),
    ]
    out = []
    for c in configs:
        steps = []
        for s in range(0, c['end'] + 5):
            if c['begin'] <= s <= c['end'] and (s - c['begin']) % c['every'] == 0:
                steps.append(dict(step=s, kept=[kept(n, ki, kf, s, c['begin'], c['end']) for n, ki, kf in zip(c['sizes'], c['k_init'], c['k_final'])]))
        out.append(dict(config=c, steps=steps))
    json.dump({'gmp': out}, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
