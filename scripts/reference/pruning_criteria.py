#!/usr/bin/python3
"""Independent reference for the pruning criteria at initialisation (SNIP, GraSP, SynFlow).

Run: /usr/bin/python3 scripts/reference/pruning_criteria.py > test/fixtures/engine/ref_pruning.json
(Debian python3-torch 1.13). test/engine/pruning.test.ts feeds the same inputs to the engine and
compares scores (relative tolerance, see the test) and masks (identical).

Written from the papers / published algorithms and docs/pruning.md, not from the engine's code;
derivatives come from PyTorch autograd (GraSP's Hessian-gradient product by double backward), in
float64. Conventions (docs/pruning.md):
  kernel W[l] has shape [fan_in, fan_out], y = x @ W + b, biases 0 at initialisation.
  Hidden layer: Linear -> (BatchNorm, batch stats in training mode) -> activation (+ input if skip,
  for hidden layers after the first whose fan-in equals fan-out).
  loss = mean softmax cross-entropy; over several batches the gradient of the mean loss over the
  set (equal batch sizes here).
  SNIP    score = |W * dL/dW|, keep largest.
  GraSP   g = dL_T/dW with logits / T (T = 200), Hg = d(g_const . dL_T/dW)/dW averaged over the
          batches, score = -W * Hg, keep SMALLEST (rank by W * Hg, keep largest).
  SynFlow all parameters |.|, BatchNorm in eval mode at its initial statistics, input all ones
          [1, d], R = sum(output), score = |W * dR/dW| on the masked net; rounds r = 1..R keep
          n - floor((1 - rho^(r/R)) * n) (exactly k at r = R); weights pruned in an earlier round
          rank below all others.
  Masks: keep the k largest ranking values; ties -> lower flat index (layers concatenated in order
          for global scope).
"""
import json
import math
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
T_GRASP = 200.0
BN_EPS = 1e-5


def f32(t):
    """Round to float32 values (the engine's inputs), kept in float64."""
    return t.float().double()


def act(kind, z):
    if kind == 'relu':
        return torch.relu(z)
    if kind == 'sigmoid':
        return torch.sigmoid(z)
    if kind == 'elu':
        return F.elu(z, alpha=1.0)
    if kind == 'swish':
        return z * torch.sigmoid(z)
    if kind == 'prelu':
        return torch.where(z > 0, z, 0.25 * z)
    raise ValueError(kind)


def shapes_of(d, width, H, C):
    out, fi = [], d
    for _ in range(H):
        out.append((fi, width))
        fi = width
    out.append((fi, C))
    return out


def forward(case, Ws, x, bn_train=True, masks=None, eval_bn=False, abs_act=False):
    H = case['H']
    h = x
    for l in range(H + 1):
        W = Ws[l] if masks is None else Ws[l] * masks[l]
        z = h @ W  # biases are 0
        if l == H:
            return z
        if case['batch_norm']:
            if eval_bn:
                z = F.batch_norm(z, torch.zeros(z.shape[1]), torch.ones(z.shape[1]), training=False, eps=BN_EPS)
            else:
                z = F.batch_norm(z, None, None, training=True, eps=BN_EPS)
        a = act(case['activation'], z)
        skip = case['skip'] and l > 0 and Ws[l].shape[0] == Ws[l].shape[1]
        h = a + h if skip else a


def ce(logits, y):
    return F.cross_entropy(logits, y)


def top_mask(values, k, excluded=None):
    """values: 1-D numpy float64; keep k largest, ties -> lower index; excluded rank last."""
    n = len(values)
    idx = np.arange(n)
    ex = np.zeros(n) if excluded is None else excluded.astype(np.float64)
    vals = np.where(np.isnan(values), -np.inf, values)
    order = np.lexsort((idx, -vals, ex))  # primary: not excluded first, then -value, then index
    m = np.zeros(n)
    m[order[:k]] = 1.0
    return m


def select(rank_vals, counts, scope, excluded=None):
    if scope == 'layerwise':
        return [top_mask(v.reshape(-1), counts[l], None if excluded is None else excluded[l].reshape(-1))
                for l, v in enumerate(rank_vals)]
    flat = np.concatenate([v.reshape(-1) for v in rank_vals])
    ex = None if excluded is None else np.concatenate([e.reshape(-1) for e in excluded])
    m = top_mask(flat, sum(counts), ex)
    out, o = [], 0
    for v in rank_vals:
        out.append(m[o:o + v.size])
        o += v.size
    return out


def make_case(name, seed, d, width, H, C, n, batches, activation, batch_norm, skip, density):
    g = torch.Generator().manual_seed(seed)
    shapes = shapes_of(d, width, H, C)
    kernels = [f32(torch.randn(fi, fo, generator=g) * (2.0 / fi) ** 0.5) for (fi, fo) in shapes]
    xs = [f32(torch.randn(n, d, generator=g)) for _ in range(batches)]
    ys = [torch.randint(0, C, (n,), generator=g) for _ in range(batches)]
    counts = [max(1, int(round(density * fi * fo))) for (fi, fo) in shapes]
    return dict(name=name, d=d, width=width, H=H, C=C, n=n, activation=activation, batch_norm=batch_norm,
                skip=skip, kernels=kernels, xs=xs, ys=ys, counts=counts)


def snip(case):
    Ws = [w.clone().requires_grad_(True) for w in case['kernels']]
    B = len(case['xs'])
    loss = sum(ce(forward(case, Ws, x), y) for x, y in zip(case['xs'], case['ys'])) / B
    grads = torch.autograd.grad(loss, Ws)
    return [(w * gr).abs().detach() for w, gr in zip(case['kernels'], grads)]


def grasp(case):
    Ws = [w.clone().requires_grad_(True) for w in case['kernels']]
    B = len(case['xs'])
    g = None
    for x, y in zip(case['xs'], case['ys']):
        gb = torch.autograd.grad(ce(forward(case, Ws, x) / T_GRASP, y), Ws)
        g = [gi / B for gi in gb] if g is None else [a + gi / B for a, gi in zip(g, gb)]
    g = [t.detach() for t in g]
    hg = None
    for x, y in zip(case['xs'], case['ys']):
        gf = torch.autograd.grad(ce(forward(case, Ws, x) / T_GRASP, y), Ws, create_graph=True)
        z = sum((a * b).sum() for a, b in zip(g, gf))
        hb = torch.autograd.grad(z, Ws)
        hg = [h / B for h in hb] if hg is None else [a + h / B for a, h in zip(hg, hb)]
    scores = [(-w * h).detach() for w, h in zip(case['kernels'], hg)]
    return scores, g, hg


def synflow_scores(case, masks):
    Ws = [w.abs().clone().requires_grad_(True) for w in case['kernels']]
    ms = [torch.tensor(m.reshape(w.shape)) for m, w in zip(masks, case['kernels'])]
    out = forward(case, Ws, torch.ones(1, case['d']), masks=ms, eval_bn=True)
    grads = torch.autograd.grad(out.sum(), Ws)
    return [(gr * w).abs().detach() for gr, w in zip(grads, Ws)]


def keep_count(n, k, r, R):
    if r >= R:
        return k
    keep = n - math.floor((1 - (k / n) ** (r / R)) * n)
    return max(k, min(n, keep))


def synflow(case, scope, rounds):
    sizes = [w.numel() for w in case['kernels']]
    counts = case['counts']
    masks = [np.ones(s) for s in sizes]
    schedule = []
    scores = None
    for r in range(1, rounds + 1):
        scores = synflow_scores(case, masks)
        excluded = [1.0 - m for m in masks]
        vals = [s.numpy().reshape(-1) for s in scores]
        if scope == 'layerwise':
            ks = [keep_count(n, counts[l], r, rounds) for l, n in enumerate(sizes)]
            masks = [top_mask(v, ks[l], excluded[l]) for l, v in enumerate(vals)]
            schedule.append(ks)
        else:
            kt = keep_count(sum(sizes), sum(counts), r, rounds)
            masks = select_global_k(vals, kt, excluded)
            schedule.append([kt])
    return scores, masks, schedule


def select_global_k(vals, k, excluded):
    flat = np.concatenate(vals)
    ex = np.concatenate(excluded)
    m = top_mask(flat, k, ex)
    out, o = [], 0
    for v in vals:
        out.append(m[o:o + v.size])
        o += v.size
    return out


def flat(ts):
    return [t.reshape(-1).tolist() if torch.is_tensor(t) else list(map(float, t)) for t in ts]


def case_json(c):
    return dict(name=c['name'], d=c['d'], width=c['width'], H=c['H'], C=c['C'], n=c['n'],
                activation=c['activation'], batch_norm=c['batch_norm'], skip=c['skip'],
                kernels=flat(c['kernels']), xs=flat(c['xs']), ys=[y.tolist() for y in c['ys']],
                counts=c['counts'])


def main():
    out = {'snip': [], 'grasp': [], 'synflow': []}
    snip_cases = [
        make_case('snip relu 2 batches', 1, 7, 9, 2, 3, 8, 2, 'relu', False, False, 0.3),
        make_case('snip swish bn skip', 2, 6, 8, 3, 4, 10, 1, 'swish', True, True, 0.25),
    ]
    for c in snip_cases:
        s = snip(c)
        vals = [t.numpy() for t in s]
        out['snip'].append(dict(case=case_json(c), scores=flat(s),
                                masks={sc: flat(select(vals, c['counts'], sc)) for sc in ('layerwise', 'global')}))
    grasp_cases = [
        make_case('grasp relu 2 batches', 3, 7, 9, 2, 3, 8, 2, 'relu', False, False, 0.3),
        make_case('grasp elu skip', 4, 6, 8, 3, 4, 10, 1, 'elu', False, True, 0.3),
        make_case('grasp sigmoid', 5, 5, 6, 2, 3, 12, 1, 'sigmoid', False, False, 0.4),
        make_case('grasp swish skip 2 batches', 6, 6, 7, 3, 3, 9, 2, 'swish', False, True, 0.3),
        make_case('grasp prelu', 7, 6, 7, 2, 3, 9, 1, 'prelu', False, False, 0.3),
    ]
    for c in grasp_cases:
        s, g, hg = grasp(c)
        rank = [(-t).numpy() for t in s]
        out['grasp'].append(dict(case=case_json(c), scores=flat(s), g=flat(g), hg=flat(hg),
                                 masks={sc: flat(select(rank, c['counts'], sc)) for sc in ('layerwise', 'global')}))
    syn_cases = [
        (make_case('synflow relu', 8, 7, 9, 2, 3, 1, 1, 'relu', False, False, 0.1), 100),
        (make_case('synflow relu bn skip', 9, 6, 8, 3, 4, 1, 1, 'relu', True, True, 0.15), 20),
    ]
    for c, rounds in syn_cases:
        res = {}
        for sc in ('layerwise', 'global'):
            scores, masks, schedule = synflow(c, sc, rounds)
            res[sc] = dict(scores=flat(scores), masks=flat(masks), schedule=schedule)
        out['synflow'].append(dict(case=case_json(c), rounds=rounds, result=res))
    json.dump(out, __import__('sys').stdout)


if __name__ == '__main__':
    main()
