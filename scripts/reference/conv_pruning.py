#!/usr/bin/python3
"""Independent reference for SynFlow and GraSP on conv nets (simple CNN with BN and skips, WRN-10-1).

Run: /usr/bin/python3 scripts/reference/conv_pruning.py > test/fixtures/conv/conv_pruning.json
(Debian python3-torch 1.13). test/engine/pruning-conv.test.ts builds the same nets with
src/engine/nn from the spec and kernels stored here and compares scores and masks.

Written from the papers, the published code (ganguli-lab/Synaptic-Flow, alecwangcq/GraSP) and
docs/pruning.md, not from the TypeScript code. torch.nn.functional in NCHW, float64 autograd.
Architectures as scripts/reference/conv_grads.py describes them (docs/conv-nets.md):
  cnn: per block conv3x3 (padding 1; bias without BN) -> [BN] -> act, + block input (identity, or a
       bias-free 1x1 conv where channels change) with skip; 2x2 max-pool while the map is > 1x1;
       global average pool; linear (bias) to the classes.
  wrn (basic, pre-activation): conv3x3 stem 16; groups at 16k, 32k, 64k, strides 1, 2, 2;
       o = act(bn1(x)); y = conv2(act(bn2(conv1(o)))); out = y + (x or conv1x1(o)); BN-act, GAP, linear.
Kernels in Gradflow's layout ([k, k, c_in, c_out], linear [in, out]) flattened row-major, He-normal
std sqrt(2 / fan_in), rounded to float32. Biases 0, BN gamma 1, beta 0, moving mean 0, var 1.

SynFlow (Tanaka et al. 2020, published SynFlow.score / prune_loop): every parameter and buffer made
absolute (so PReLU slope 0.25 and SReLU (t_l, a_l, t_r, a_r) = (0.4, 0.4, 0.4, 2)); EVAL mode (BN at
its moving statistics); input ONE all-ones image; R = sum of the logits; score = |W * dR/dW| with the
kernel used as W * mask. Rounds r = 1..R keep n - floor((1 - rho^(r/R)) n) (exactly k at r = R),
layerwise or over all layers; entries pruned in an earlier round rank below all others; ties ->
lower flat index (layers concatenated in order for global). Max-pooling routes the gradient to the
FIRST maximum of each window in row-major order (PyTorch's rule); on the all-ones image many windows
hold equal values, so values within 1e-9 relative of the window's maximum count as equal here (a
float64 gemm may differ in the last bit between positions that are equal in exact arithmetic).

GraSP (Wang et al. 2020, published GraSP / Synaptic-Flow's GraSP): TRAINING mode (BN batch
statistics: the published code scores a deepcopy of the net without .eval()); logits / T, T = 200;
g = gradient of the mean loss over the criterion batches (batch means weighted by batch size; equal
sizes here), Hg = d(g_const . grad L_T)/dW by double backward, averaged the same way; score =
-W * Hg; keep the SMALLEST (rank -score, keep largest).

Arrays: base64 little-endian float32 (kernels, batches, scores, g, Hg) or uint8 (masks).
"""
import base64
import json
import math
import sys
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
BN_EPS = 1e-5
T_GRASP = 200.0
SRELU = (-0.4, 0.4, 0.4, 2.0)
# The fixture keeps Hg (float32) and not the scores -W * Hg, which the test forms from the stored W
# and Hg in float64 (the file stays near 2.5 MB with a WRN-10-1 in it).


def b64(a, dtype):
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode('ascii')


def layer_list(spec):
    """(name, kind, k, stride, cin, cout) of every weight layer, in execution order."""
    out = []
    h, w, c = spec['input']
    if spec['architecture'] == 'cnn':
        cin = c
        for i, ch in enumerate(spec['channels']):
            name = 'block%d' % (i + 1)
            out.append((name + '.conv', 'conv', 3, 1, cin, ch))
            if spec['skip'] and cin != ch:
                out.append((name + '.shortcut', 'conv', 1, 1, cin, ch))
            cin = ch
    else:
        k = spec['widenFactor']
        n = (spec['depth'] - 4) // 6
        out.append(('stem', 'conv', 3, 1, c, 16))
        cin = 16
        for g, s0 in enumerate((1, 2, 2)):
            wd = 16 * k * 2 ** g
            for b in range(n):
                name = 'group%d.block%d' % (g + 1, b + 1)
                s = s0 if b == 0 else 1
                out.append((name + '.conv1', 'conv', 3, s, cin, wd))
                out.append((name + '.conv2', 'conv', 3, 1, wd, wd))
                if cin != wd or s != 1:
                    out.append((name + '.shortcut', 'conv', 1, s, cin, wd))
                cin = wd
    out.append(('fc', 'dense', 1, 1, cin, spec['classes']))
    return out


def maxpool_first(x):
    """2x2 / stride 2 max-pool (floor), gradient to the first maximum in row-major window order."""
    n, c, h, w = x.shape
    h2, w2 = h // 2, w // 2
    x = x[:, :, :2 * h2, :2 * w2]
    win = x.reshape(n, c, h2, 2, w2, 2).permute(0, 1, 2, 4, 3, 5).reshape(n, c, h2, w2, 4)
    m = win.max(dim=-1, keepdim=True).values
    tie = (win >= m - 1e-9 * m.abs()).double()
    # first index among the (near-)maxima
    first = torch.argmax(tie, dim=-1, keepdim=True)
    return torch.gather(win, -1, first).squeeze(-1)


class Net:
    def __init__(self, spec, kernels, masks=None, mode='train', absolute=False):
        """kernels: numpy float32 in Gradflow layout; mode 'train' (BN batch stats) or 'eval'."""
        self.spec = spec
        self.layers = layer_list(spec)
        self.mode = mode
        self.absolute = absolute
        self.params = []
        for (name, kind, k, s, cin, cout), w in zip(self.layers, kernels):
            t = torch.tensor(np.abs(w) if absolute else w, dtype=torch.float64)
            self.params.append(t.requires_grad_(True))
        self.masks = masks
        self.li = 0

    def weight(self):
        """The next kernel in torch layout (masked)."""
        name, kind, k, s, cin, cout = self.layers[self.li]
        p = self.params[self.li]
        if self.masks is not None:
            p = p * torch.tensor(self.masks[self.li], dtype=torch.float64)
        self.li += 1
        if kind == 'conv':
            return p.reshape(k, k, cin, cout).permute(3, 2, 0, 1), s, k
        return p.reshape(cin, cout).t(), s, k

    def conv(self, x, bias):
        w, s, k = self.weight()
        b = torch.zeros(w.shape[0]) if bias else None
        return F.conv2d(x, w, b, stride=s, padding=(k - 1) // 2)

    def bn(self, x):
        c = x.shape[1]
        if self.mode == 'train':
            return F.batch_norm(x, None, None, torch.ones(c), torch.zeros(c), training=True, eps=BN_EPS)
        return F.batch_norm(x, torch.zeros(c), torch.ones(c), torch.ones(c), torch.zeros(c), training=False, eps=BN_EPS)

    def act(self, x):
        kind = self.spec['activation']
        if kind == 'relu':
            return F.relu(x)
        if kind == 'sigmoid':
            return torch.sigmoid(x)
        if kind == 'elu':
            return F.elu(x, alpha=1.0)
        if kind == 'swish':
            return x * torch.sigmoid(x)
        if kind == 'prelu':
            return torch.where(x > 0, x, 0.25 * x)
        if kind == 'srelu':
            tl, al, tr, ar = (abs(v) for v in SRELU) if self.absolute else SRELU
            return torch.where(x >= tr, tr + ar * (x - tr), torch.where(x <= tl, tl + al * (x - tl), x))
        raise ValueError(kind)

    def forward(self, x):
        self.li = 0
        s = self.spec
        if s['architecture'] == 'cnn':
            for ch in s['channels']:
                y = self.conv(x, bias=not s['batchNorm'])
                if s['batchNorm']:
                    y = self.bn(y)
                y = self.act(y)
                if s['skip']:
                    y = y + (x if x.shape[1] == ch else self.conv(x, bias=False))
                x = y
                if x.shape[2] > 1 and x.shape[3] > 1:
                    x = maxpool_first(x)
        else:
            k = s['widenFactor']
            n = (s['depth'] - 4) // 6
            x = self.conv(x, bias=False)
            for g, s0 in enumerate((1, 2, 2)):
                wd = 16 * k * 2 ** g
                for b in range(n):
                    st = s0 if b == 0 else 1
                    o = self.act(self.bn(x))
                    y = self.conv(o, bias=False)
                    y = self.act(self.bn(y))
                    y = self.conv(y, bias=False)
                    x = y + x if (x.shape[1] == wd and st == 1) else y + self.conv(o, bias=False)
            x = self.act(self.bn(x))
        x = x.mean(dim=(2, 3))
        w, _, _ = self.weight()
        return F.linear(x, w, torch.zeros(w.shape[0]))


def draw(spec, rng):
    ks = []
    for (name, kind, k, s, cin, cout) in layer_list(spec):
        n = k * k * cin * cout
        ks.append((rng.standard_normal(n) * math.sqrt(2.0 / (k * k * cin))).astype(np.float32))
    return ks


def top_mask(values, k, excluded=None):
    n = len(values)
    ex = np.zeros(n) if excluded is None else excluded
    order = np.lexsort((np.arange(n), -values, ex))
    m = np.zeros(n, dtype=np.uint8)
    m[order[:k]] = 1
    return m


def select(vals, counts, scope, excluded=None):
    if scope == 'layerwise':
        return [top_mask(v, counts[l], None if excluded is None else excluded[l]) for l, v in enumerate(vals)]
    flat = np.concatenate(vals)
    ex = None if excluded is None else np.concatenate(excluded)
    m = top_mask(flat, sum(counts), ex)
    out, o = [], 0
    for v in vals:
        out.append(m[o:o + v.size])
        o += v.size
    return out


def keep_count(n, k, r, R):
    if r >= R:
        return k
    return max(k, min(n, n - math.floor((1 - (k / n) ** (r / R)) * n)))


def synflow_scores(spec, kernels, masks):
    net = Net(spec, kernels, masks=masks, mode='eval', absolute=True)
    h, w, c = spec['input']
    out = net.forward(torch.ones(1, c, h, w))
    grads = torch.autograd.grad(out.sum(), net.params)
    return [(g * p * torch.tensor(m, dtype=torch.float64)).abs().detach().numpy()
            for g, p, m in zip(grads, net.params, masks)], float(out.sum())


def synflow(spec, kernels, counts, scope, rounds):
    sizes = [k.size for k in kernels]
    masks = [np.ones(n, dtype=np.uint8) for n in sizes]
    margins = []
    for r in range(1, rounds + 1):
        scores, R = synflow_scores(spec, kernels, masks)
        excluded = [1.0 - m for m in masks]
        if scope == 'layerwise':
            ks = [keep_count(n, counts[l], r, rounds) for l, n in enumerate(sizes)]
            new = [top_mask(s, ks[l], excluded[l]) for l, s in enumerate(scores)]
            for l, s in enumerate(scores):
                margins.append(boundary_margin(s, masks[l], new[l]))
        else:
            kt = keep_count(sum(sizes), sum(counts), r, rounds)
            new = global_k(scores, kt, excluded)
            margins.append(boundary_margin(np.concatenate(scores), np.concatenate(masks), np.concatenate(new)))
        masks = new
    return scores, masks, R, min(margins)


def global_k(vals, k, excluded):
    flat = np.concatenate(vals)
    m = top_mask(flat, k, np.concatenate(excluded))
    out, o = [], 0
    for v in vals:
        out.append(m[o:o + v.size])
        o += v.size
    return out


def boundary_margin(scores, before, after):
    """Relative gap between the smallest kept and the largest dropped score among the entries that
    were active before the round (how far the top-k cut is from a float32 tie)."""
    act = before != 0
    kept = scores[act & (after != 0)]
    dropped = scores[act & (after == 0)]
    if kept.size == 0 or dropped.size == 0:
        return float('inf')
    lo, hi = kept.min(), dropped.max()
    if lo == hi:
        return 0.0 if lo != 0 else float('inf')  # exact ties at 0 (dead paths) are resolved by index
    return float((lo - hi) / max(abs(lo), abs(hi)))


def grasp(spec, kernels, xs, ys):
    net = Net(spec, kernels, mode='train')
    B = len(xs)
    g = None
    for x, y in zip(xs, ys):
        gb = torch.autograd.grad(F.cross_entropy(net.forward(x) / T_GRASP, y), net.params)
        g = [t / B for t in gb] if g is None else [a + t / B for a, t in zip(g, gb)]
    g = [t.detach() for t in g]
    hg = None
    for x, y in zip(xs, ys):
        gf = torch.autograd.grad(F.cross_entropy(net.forward(x) / T_GRASP, y), net.params, create_graph=True)
        z = sum((a * b).sum() for a, b in zip(g, gf))
        hb = torch.autograd.grad(z, net.params)
        hg = [t / B for t in hb] if hg is None else [a + t / B for a, t in zip(hg, hb)]
    scores = [(-p * h).detach().numpy() for p, h in zip(net.params, hg)]
    return scores, [t.numpy() for t in g], [t.detach().numpy() for t in hg]


def cnn(inp, classes, channels, act, bn, skip):
    return {'architecture': 'cnn', 'input': inp, 'classes': classes, 'activation': act, 'batchNorm': bn,
            'channels': channels, 'skip': skip}


WRN = {'architecture': 'wrn', 'input': [8, 8, 3], 'classes': 10, 'activation': 'relu', 'batchNorm': True,
       'depth': 10, 'widenFactor': 1}


def counts_of(kernels, density):
    return [max(1, int(round(density * k.size))) for k in kernels]


def synflow_case(name, spec, density, rounds, seed):
    rng = np.random.default_rng(seed)
    kernels = draw(spec, rng)
    counts = counts_of(kernels, density)
    res = {}
    for scope in ('layerwise', 'global'):
        scores, masks, R, margin = synflow(spec, kernels, counts, scope, rounds)
        res[scope] = {'scores': [b64(s, '<f4') for s in scores], 'masks': [b64(m, 'u1') for m in masks],
                      'R': R, 'margin': margin}
        sys.stderr.write('synflow %s %s: min boundary margin %.3g\n' % (name, scope, margin))
    return {'name': name, 'spec': spec, 'rounds': rounds, 'counts': counts,
            'layers': [l[0] for l in layer_list(spec)], 'kernels': [b64(k, '<f4') for k in kernels], 'result': res}


def grasp_case(name, spec, density, n, batches, seed):
    rng = np.random.default_rng(seed)
    kernels = draw(spec, rng)
    counts = counts_of(kernels, density)
    h, w, c = spec['input']
    xs_nhwc = [rng.standard_normal(n * h * w * c).astype(np.float32) for _ in range(batches)]
    labels = [rng.integers(0, spec['classes'], n) for _ in range(batches)]
    xs = [torch.tensor(x.reshape(n, h, w, c).transpose(0, 3, 1, 2).copy(), dtype=torch.float64) for x in xs_nhwc]
    ys = [torch.tensor(y) for y in labels]
    scores, g, hg = grasp(spec, kernels, xs, ys)
    rank = [-s for s in scores]
    return {'name': name, 'spec': spec, 'counts': counts, 'layers': [l[0] for l in layer_list(spec)],
            'kernels': [b64(k, '<f4') for k in kernels],
            'batches': [{'n': n, 'x': b64(x, '<f4'), 'labels': y.tolist()} for x, y in zip(xs_nhwc, labels)],
            'hg': [b64(t, '<f4') for t in hg],
            'masks': {sc: [b64(m, 'u1') for m in select(rank, counts, sc)] for sc in ('layerwise', 'global')}}


def main():
    out = {
        'torch': torch.__version__,
        'synflow': [
            synflow_case('cnn bn skip relu', cnn([8, 8, 2], 3, [4, 4, 6], 'relu', True, True), 0.2, 20, 21),
            synflow_case('cnn plain srelu', cnn([8, 8, 2], 3, [4, 6, 6], 'srelu', False, False), 0.25, 10, 22),
            synflow_case('wrn-10-1', WRN, 0.1, 20, 23),
        ],
        'grasp': [
            grasp_case('cnn plain relu, 2 batches', cnn([8, 8, 2], 3, [4, 6, 6], 'relu', False, False), 0.3, 6, 2, 31),
            grasp_case('cnn bn skip relu', cnn([8, 8, 2], 3, [4, 4, 6], 'relu', True, True), 0.3, 6, 1, 32),
            grasp_case('cnn bn skip swish', cnn([8, 8, 2], 3, [3, 3, 4], 'swish', True, True), 0.3, 5, 1, 33),
            grasp_case('cnn bn elu', cnn([8, 8, 2], 3, [3, 4, 4], 'elu', True, False), 0.3, 5, 1, 34),
            grasp_case('wrn-10-1', WRN, 0.2, 4, 1, 35),
        ],
    }
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
