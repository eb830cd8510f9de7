#!/usr/bin/python3
"""Independent reference for RigL and SET mask updates as the published code does them.

Run: /usr/bin/python3 scripts/reference/rigl_update.py > test/fixtures/engine/ref_rigl.json
(Debian python3-torch 1.13). test/engine/dynamic.test.ts feeds the same inputs to the engine.

Written from google-research/rigl, rigl/sparse_optimizers_base.py (SparseSETOptimizerBase,
SparseRigLOptimizerBase), re-implemented with PyTorch in float64 (the engine is float32), with
PyTorch's SGD-momentum and Adam in place of the TF optimizers (the engine's optimizers follow
PyTorch's update rules):
  - the weights variable W is kept raw; the network uses W * mask (masked weights), so gradients
    of W are masked, and the dense gradient (RigL's grow score) is the gradient w.r.t. W * mask;
  - timing: global step g = optimizer steps applied; last_update starts at -every; an update is due
    when begin <= g <= end and last + every <= g;
      RigL: cond(due(g), mask_update, optimizer_step) -- the update REPLACES the step, g stays;
      SET:  optimizer_step (g += 1), then cond(due(g), mask_update, no_op);
  - drop fraction: cosine_decay(alpha, g, end - begin) = alpha * 0.5 * (1 + cos(pi * min(g, end) / end))
    (float32 in the reference; done in float32 here too); n_prune = int(f32(n_ones) * f32(frac));
  - score_drop = |W * mask| (+ noise, 0 here); mask1 = top n_keep of score_drop over ALL entries
    (tf.nn.top_k: equal values, lower index first);
  - score_grow = |dense gradient| (RigL) or uniform random (SET; the draws are in the output, so the
    engine can use the same ones); entries of mask1 lifted to min - 1; mask2 = top n_prune;
  - new_connections = mask2 & (old mask == 0): W = 0 and every optimizer slot = 0 there;
    mask = mask1 + mask2. Dropped entries keep their raw W and slots (invisible: masked, and reset
    when grown again later).
Biases are trained with the same optimizer (unmasked, initialised at 0). relu hidden layers, mean
softmax cross-entropy. Output: per scenario the updates (g, fraction, drop and grow indices per
layer) and after the last iteration the masks, the effective kernels W * mask and the kernel
optimizer slots at the active positions (0 elsewhere).
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


def top_mask(score, k):
    """tf.nn.top_k order: larger first, ties by lower index; ones at the first k."""
    n = len(score)
    order = np.lexsort((np.arange(n), -score))
    m = np.zeros(n)
    m[order[:k]] = 1
    return m


def fraction_at(g, end, alpha, schedule):
    if schedule == 'constant':
        return float(np.float32(alpha))
    done = np.float32(min(g, end) / end)
    return float(np.float32(np.float32(alpha) * np.float32(0.5 * np.float32(1 + np.float32(math.cos(np.float32(math.pi * done)))))))


def run(method, optimizer, seed):
    g = torch.Generator().manual_seed(seed)
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
    iters, total, until, every, alpha, schedule = 14, 16, 0.75, 3, 0.3, 'cosine'
    end = math.floor(until * total)
    xs = [f32(torch.randn(n, d, generator=g)) for _ in range(iters)]
    ys = [torch.randint(0, C, (n,), generator=g) for _ in range(iters)]
    W = [k.clone().requires_grad_(True) for k in kernels]
    b = [torch.zeros(fo, requires_grad=True) for _, fo in shapes]
    M = [m.clone() for m in masks]
    params = W + b
    if optimizer == 'momentum':
        opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    else:
        opt = torch.optim.Adam(params, lr=0.01)
    steps = 0
    stale = [0]
    last = -every
    updates = []

    def due(gs):
        return 0 <= gs <= end and last + every <= gs

    def grads(x, y):
        Wm = [w * m for w, m in zip(W, M)]
        h = x
        for l in range(H + 1):
            z = h @ Wm[l] + b[l]
            h = torch.relu(z) if l < H else z
        loss = F.cross_entropy(h, y)
        return torch.autograd.grad(loss, Wm + W + b)

    def mask_update(gs, dense):
        frac = fraction_at(gs, end, alpha, schedule)
        layers = []
        for l in range(H + 1):
            mf = M[l].reshape(-1).numpy()
            n_ones = int(mf.sum())
            n_prune = int(np.float32(n_ones) * np.float32(frac))
            n_keep = n_ones - n_prune
            score_drop = np.abs((W[l].detach() * M[l]).reshape(-1).numpy())
            mask1 = top_mask(score_drop, n_keep)
            if method == 'rigl':
                score_grow = np.abs(dense[l].reshape(-1).numpy())
                draws = None
            else:
                score_grow = torch.rand(mf.shape[0], generator=g).numpy()
                draws = score_grow.tolist()
            lifted = np.where(mask1 == 1, score_grow.min() - 1, score_grow)
            mask2 = top_mask(lifted, n_prune)
            assert (mask1 * mask2).sum() == 0
            # Revived by the drop ranking (inactive, kept in mask1): the published code keeps their
            # raw W, which is stale (non-zero) if they were active before. Gradflow starts them at 0
            # (docs/pruning.md); the fixture's seeds are chosen so that this never happens.
            revived = (mask1 == 1) & (mf == 0)
            stale[0] += int(np.count_nonzero(W[l].detach().reshape(-1).numpy()[revived]))
            new = (mask2 == 1) & (mf == 0)
            newt = torch.from_numpy(new).reshape(M[l].shape)
            with torch.no_grad():
                W[l][newt] = 0.0
                for v in opt.state[W[l]].values():
                    if torch.is_tensor(v) and v.shape == W[l].shape:
                        v[newt] = 0.0
            M[l] = torch.from_numpy(mask1 + mask2).reshape(M[l].shape)
            drop = [int(i) for i in np.nonzero((mf == 1) & (mask1 == 0))[0]]
            grow = [int(i) for i in np.nonzero(mask2 == 1)[0]]
            layers.append({'drop': drop, 'grow': grow, 'grow_scores': draws})
        updates.append({'g': gs, 'fraction': frac, 'layers': layers})

    def opt_step(gr):
        for p, gg in zip(params, gr):
            p.grad = gg.clone()
        opt.step()

    for it in range(iters):
        gr = grads(xs[it], ys[it])
        dense, gW, gb = gr[: H + 1], gr[H + 1: 2 * (H + 1)], gr[2 * (H + 1):]
        if method == 'rigl':
            if due(steps):
                mask_update(steps, dense)
                last = steps
                updates[-1]['iteration'] = it
            else:
                opt_step(list(gW) + list(gb))
                steps += 1
        else:
            opt_step(list(gW) + list(gb))
            steps += 1
            if due(steps):
                mask_update(steps, None)
                last = steps
                updates[-1]['iteration'] = it

    slot_names = ['momentum_buffer'] if optimizer == 'momentum' else ['exp_avg', 'exp_avg_sq']
    out = {
        'method': method,
        'optimizer': optimizer,
        'lr': 0.05 if optimizer == 'momentum' else 0.01,
        'momentum': 0.9,
        'steps': steps,
        'stale_revivals': stale[0],
        'updates': updates,
        'masks_after': [m.reshape(-1).tolist() for m in M],
        'kernels_after': [(w.detach() * m).reshape(-1).tolist() for w, m in zip(W, M)],
        'state_after': [[(opt.state[w][s] * m).reshape(-1).tolist() for s in slot_names] for w, m in zip(W, M)],
    }
    return {
        'd': d, 'width': width, 'H': H, 'C': C, 'n': n,
        'iterations': iters, 'total': total, 'until': until, 'every': every, 'alpha': alpha,
        'schedule': schedule, 'end': end,
        'kernels': [k.reshape(-1).tolist() for k in kernels],
        'masks': [m.reshape(-1).tolist() for m in masks],
        'x': [x.reshape(-1).tolist() for x in xs],
        'y': [y.tolist() for y in ys],
        **out,
    }


# Seed 14 revives a dropped weight through the drop ranking (see mask_update); 15 does not.
SET_ADAM_SEED = 15


def main():
    seeds = {('rigl', 'momentum'): 11, ('rigl', 'adam'): 12, ('set', 'momentum'): 13, ('set', 'adam'): SET_ADAM_SEED}
    scenarios = [run(m, o, seeds[(m, o)]) for m, o in [('rigl', 'momentum'), ('rigl', 'adam'), ('set', 'momentum'), ('set', 'adam')]]
    for sc in scenarios:
        assert sc['stale_revivals'] == 0, (sc['method'], sc['optimizer'])
        assert any(set(l['drop']) & set(l['grow']) for u in sc['updates'] for l in u['layers']), 'no regrown weight'
    json.dump({'scenarios': scenarios}, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
