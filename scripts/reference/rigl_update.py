#!/usr/bin/python3
"""Independent reference for one RigL mask update (Evci et al. 2020) on a small masked MLP.

Run: /usr/bin/python3 scripts/reference/rigl_update.py > test/fixtures/engine/ref_rigl.json
(Debian python3-torch 1.13). test/engine/dynamic.test.ts feeds the same inputs to the engine.

Written from the paper and docs/pruning.md, not from the engine's code (PyTorch autograd, float64):
  kernel W[l] is [fan_in, fan_out], pruned entries 0, biases 0, relu hidden layers, mean softmax CE.
  fraction f_t = alpha/2 * (1 + cos(pi * t / (until * T)))   (cosine schedule)
  per layer with n1 active: drop floor(f_t * n1) active weights of smallest |w|;
  grow as many among the positions inactive after the drop, largest |dL/dW| of the batch (the dense
  gradient at every position). Ties: larger first, lower flat index first.
"""
import json
import math
import sys
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def f32(t):
    return t.float().double()


def top(values, k, excluded):
    idx = np.arange(len(values))
    order = np.lexsort((idx, -values, excluded))
    m = np.zeros(len(values))
    m[order[:k]] = 1
    return m


def main():
    g = torch.Generator().manual_seed(11)
    d, width, H, C, n = 8, 10, 2, 4, 16
    shapes = [(d, width), (width, width), (width, C)]
    kernels, masks = [], []
    for fi, fo in shapes:
        w = f32(torch.randn(fi, fo, generator=g) * (2.0 / fi) ** 0.5)
        m = torch.zeros(fi * fo)
        m[torch.randperm(fi * fo, generator=g)[: int(0.4 * fi * fo)]] = 1.0
        m = m.reshape(fi, fo)
        kernels.append(w * m)
        masks.append(m)
    x = f32(torch.randn(n, d, generator=g))
    y = torch.randint(0, C, (n,), generator=g)
    alpha, until, every, step, total = 0.3, 0.75, 10, 20, 100
    fraction = alpha / 2 * (1 + math.cos(math.pi * step / (until * total)))
    Ws = [w.clone().requires_grad_(True) for w in kernels]
    h = x
    for l, W in enumerate(Ws):
        z = h @ W
        h = torch.relu(z) if l < H else z
    grads = torch.autograd.grad(F.cross_entropy(h, y), Ws)
    layers = []
    for l, (w, m, gr) in enumerate(zip(kernels, masks, grads)):
        mf = m.reshape(-1).numpy()
        ones = int(mf.sum())
        n_drop = int(math.floor(fraction * ones))
        keep = top(np.abs(w.reshape(-1).numpy()), ones - n_drop, 1 - mf)
        drop = [i for i in range(len(mf)) if mf[i] == 1 and keep[i] == 0]
        grow_m = top(np.abs(gr.reshape(-1).numpy()), n_drop, keep)
        grow = [i for i in range(len(mf)) if grow_m[i] == 1]
        new_mask = keep.copy()
        new_mask[grow] = 1
        layers.append(dict(drop=drop, grow=grow, mask_after=new_mask.tolist(), dense_grad=gr.reshape(-1).tolist()))
    out = dict(d=d, width=width, H=H, C=C, n=n, alpha=alpha, until=until, every=every, step=step, total=total,
               fraction=fraction, kernels=[k.reshape(-1).tolist() for k in kernels],
               masks=[m.reshape(-1).tolist() for m in masks], x=x.reshape(-1).tolist(), y=y.tolist(), layers=layers)
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
