#!/usr/bin/python3
"""Independent reference for SynFlow as published, on every activation Gradflow offers.

Run: /usr/bin/python3 scripts/reference/synflow_activations.py > test/fixtures/engine/ref_synflow_act.json
(Debian python3-torch 1.13). test/engine/synflow.test.ts feeds the same kernels to the engine.

Written from ganguli-lab/Synaptic-Flow (Pruners/pruners.py SynFlow.score, prune.py prune_loop) with
PyTorch modules, in float64 (the published code's `model.double()`, commented out there):
  - the model is torch.nn modules: Linear (bias 0) -> BatchNorm1d (fresh: running mean 0, var 1)
    -> activation (+ identity skip between equal-width hidden layers), last Linear; the kernels of
    the masked layers are multiplied by their masks in the forward pass (the published masked layers);
  - score(): model.eval(); every entry of model.state_dict() is replaced by its absolute value
    (linearize), input = torch.ones([1, d]), torch.sum(output).backward(),
    score = |grad * weight| of every masked kernel; then the signs are restored;
  - prune_loop(): rounds r = 1..R, exponential schedule: kept share rho^(r/R). The masks use exact
    counts with Gradflow's tie rule (larger first, lower index first; weights pruned in an earlier
    round rank last) instead of the published kthvalue threshold, which can keep more or fewer
    weights on ties: kept count n - floor((1 - rho^(r/R)) * n), exactly k at the last round.
Activations (method.md section 6): relu, prelu (learnable slope, 0.25), elu (alpha 1), sigmoid,
swish x*sigmoid(x), srelu (t_l, a_l, t_r, a_r) = (-0.4, 0.4, 0.4, 2) continuous, srelu-slide (the
x + t variant). Their parameters are part of the state_dict, so SynFlow's linearize takes their
absolute values too.
"""
import json
import math
import sys
import numpy as np
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
BN_EPS = 1e-5


class SReLU(nn.Module):
    def __init__(self, units, slide):
        super().__init__()
        self.tl = nn.Parameter(torch.full((units,), -0.4))
        self.al = nn.Parameter(torch.full((units,), 0.4))
        self.tr = nn.Parameter(torch.full((units,), 0.4))
        self.ar = nn.Parameter(torch.full((units,), 2.0))
        self.slide = slide

    def forward(self, z):
        tl, al, tr, ar = self.tl, self.al, self.tr, self.ar
        if self.slide:
            hi = z >= tr
            lo = (z <= tl) & ~hi
            return torch.where(hi, tr + ar * (z + tr), torch.where(lo, tl + al * (z + tl), z))
        return torch.where(z >= tr, tr + ar * (z - tr), torch.where(z <= tl, tl + al * (z - tl), z))


def make_act(kind, units):
    if kind == 'relu':
        return nn.ReLU()
    if kind == 'prelu':
        return nn.PReLU(num_parameters=units, init=0.25)
    if kind == 'elu':
        return nn.ELU(alpha=1.0)
    if kind == 'sigmoid':
        return nn.Sigmoid()
    if kind == 'swish':
        return nn.SiLU()
    if kind in ('srelu', 'srelu-slide'):
        return SReLU(units, kind == 'srelu-slide')
    raise ValueError(kind)


class MaskedLinear(nn.Linear):
    def __init__(self, fi, fo, kernel):
        super().__init__(fi, fo, bias=True)
        with torch.no_grad():
            self.weight.copy_(kernel.t())
            self.bias.zero_()
        self.register_buffer('weight_mask', torch.ones(fo, fi))

    def forward(self, x):
        return nn.functional.linear(x, self.weight * self.weight_mask, self.bias)


class MLP(nn.Module):
    def __init__(self, case, kernels):
        super().__init__()
        H = case['H']
        self.linears = nn.ModuleList([MaskedLinear(k.shape[0], k.shape[1], k) for k in kernels])
        self.bns = nn.ModuleList([nn.BatchNorm1d(kernels[l].shape[1], eps=BN_EPS) for l in range(H)]) if case['batch_norm'] else None
        self.acts = nn.ModuleList([make_act(case['activation'], kernels[l].shape[1]) for l in range(H)])
        self.skips = [case['skip'] and l > 0 and kernels[l].shape[0] == kernels[l].shape[1] for l in range(H)]

    def forward(self, x):
        h = x
        for l, lin in enumerate(self.linears):
            z = lin(h)
            if l == len(self.linears) - 1:
                return z
            if self.bns is not None:
                z = self.bns[l](z)
            a = self.acts[l](z)
            h = a + h if self.skips[l] else a


def synflow_score(model, d):
    """Pruners/pruners.py SynFlow.score, in float64."""
    @torch.no_grad()
    def linearize(model):
        signs = {}
        for name, param in model.state_dict().items():
            signs[name] = torch.sign(param)
            param.abs_()
        return signs

    @torch.no_grad()
    def nonlinearize(model, signs):
        for name, param in model.state_dict().items():
            param.mul_(signs[name])

    signs = linearize(model)
    out = model(torch.ones([1, d]))
    torch.sum(out).backward()
    scores = []
    for lin in model.linears:
        scores.append(torch.clone(lin.weight.grad * lin.weight).detach().abs_().t().contiguous())
        lin.weight.grad.data.zero_()
    model.zero_grad()
    nonlinearize(model, signs)
    return scores


def top_mask(values, k, excluded):
    n = len(values)
    order = np.lexsort((np.arange(n), -values, excluded))
    m = np.zeros(n)
    m[order[:k]] = 1
    return m


def keep_count(n, k, r, R):
    if r >= R:
        return k
    keep = n - math.floor((1 - (k / n) ** (r / R)) * n)
    return max(k, min(n, keep))


def run_case(case, scope, rounds):
    kernels = [torch.tensor(k).reshape(fi, fo) for k, (fi, fo) in zip(case['kernels'], case['shapes'])]
    model = MLP(case, kernels)
    model.eval()
    sizes = [fi * fo for fi, fo in case['shapes']]
    masks = [np.ones(n) for n in sizes]
    scores = None
    for r in range(1, rounds + 1):
        for lin, m, (fi, fo) in zip(model.linears, masks, case['shapes']):
            lin.weight_mask.copy_(torch.tensor(m).reshape(fi, fo).t())
        scores = [s.reshape(-1).numpy() for s in synflow_score(model, case['d'])]
        excluded = [1.0 - m for m in masks]
        if scope == 'layerwise':
            masks = [top_mask(v, keep_count(n, case['counts'][l], r, rounds), excluded[l]) for l, (v, n) in enumerate(zip(scores, sizes))]
        else:
            k = keep_count(sum(sizes), sum(case['counts']), r, rounds)
            allm = top_mask(np.concatenate(scores), k, np.concatenate(excluded))
            masks, o = [], 0
            for n in sizes:
                masks.append(allm[o:o + n])
                o += n
    return [s.tolist() for s in scores], [m.tolist() for m in masks]


def make_case(name, seed, d, width, H, C, activation, batch_norm, skip, density):
    g = torch.Generator().manual_seed(seed)
    shapes, fi = [], d
    for _ in range(H):
        shapes.append((fi, width))
        fi = width
    shapes.append((fi, C))
    # float32-representable kernels (the engine's inputs), He-normal-like scale.
    kernels = [(torch.randn(a, b, generator=g) * (2.0 / a) ** 0.5).float().double().reshape(-1).tolist() for a, b in shapes]
    counts = [max(1, int(round(density * a * b))) for a, b in shapes]
    return dict(name=name, d=d, width=width, H=H, C=C, activation=activation, batch_norm=batch_norm, skip=skip,
                shapes=shapes, kernels=kernels, counts=counts)


def main():
    cases = [
        (make_case('sigmoid', 21, 7, 9, 2, 3, 'sigmoid', False, False, 0.15), 100),
        (make_case('swish', 22, 7, 9, 2, 3, 'swish', False, False, 0.15), 100),
        (make_case('swish bn skip', 23, 6, 8, 3, 4, 'swish', True, True, 0.2), 20),
        (make_case('sigmoid bn', 24, 6, 8, 3, 4, 'sigmoid', True, False, 0.2), 20),
        (make_case('srelu', 25, 7, 9, 2, 3, 'srelu', False, False, 0.15), 20),
        (make_case('srelu-slide', 26, 7, 9, 2, 3, 'srelu-slide', False, False, 0.15), 20),
        (make_case('prelu', 27, 7, 9, 2, 3, 'prelu', False, False, 0.15), 20),
        (make_case('elu skip', 28, 6, 8, 3, 4, 'elu', False, True, 0.2), 20),
        (make_case('relu bn', 29, 6, 8, 2, 4, 'relu', True, False, 0.2), 20),
    ]
    out = []
    for case, rounds in cases:
        res = {}
        for scope in ('layerwise', 'global'):
            scores, masks = run_case(case, scope, rounds)
            res[scope] = dict(scores=scores, masks=masks)
        out.append(dict(case=case, rounds=rounds, result=res))
    json.dump({'synflow': out}, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
