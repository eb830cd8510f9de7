#!/usr/bin/python3
"""Independent reference for the conv nets' gradients and gradient-flow measures.

Run: /usr/bin/python3 scripts/reference/conv_grads.py > test/fixtures/conv/conv_grads.json
(Debian python3-torch 1.13). test/engine/conv-reference.test.ts builds the same nets with
src/engine/nn from the spec, kernels, masks and batch stored here and compares.

Everything is written from the architecture descriptions (docs/conv-nets.md), with torch.nn.functional
ops in NCHW and float64 autograd, not from the TypeScript code:
  - cnn: per block conv3x3 (padding 1, bias when there is no BN) -> [BatchNorm2d] -> activation,
    plus, with skip, the block input (identity when the channel count is unchanged, else a bias-free
    1x1 conv); 2x2 max-pool after the block while the map is larger than 1x1; global average
    pool; linear (bias) to the classes;
  - wrn (basic): conv3x3 stem 16; groups of pre-activation basic blocks at 16k, 32k, 64k, strides
    1, 2, 2: o = act(bn1(x)), y = conv2(act(bn2(conv1(o)))), out = y + (x if shapes match else
    conv1x1(o)); final BN-act, global average pool, linear. Convs bias-free, padding 1.
BatchNorm in training mode (batch statistics, biased variance, eps 1e-5, gamma 1, beta 0);
activations of method.md section 6 per channel (PReLU slope 0.25, SReLU t_l, a_l, t_r, a_r =
-0.4, 0.4, 0.4, 2, continuous; 'srelu-slide' the x + t variant).
Kernels are stored in Gradflow's layout, conv [k, k, c_in, c_out] and linear [in, out], flattened
row-major, with pruned entries already zero: the forward pass uses them as they are, so weight.grad
is the RAW gradient (pruned positions included) and the masked gradient is grad * mask.
Measures (method.md section 3): per layer raw and masked L1 / L2 norms; g_p of all raw gradients
concatenated; EGF_p = mean over the L weight layers of the masked L_p norms.
Arrays of numbers are base64 little-endian float32 (kernels, batch, gradients) or uint8 (masks).
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


def b64(a, dtype):
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode('ascii')


class Net:
    """Creates parameters in execution order as the forward pass meets them."""

    def __init__(self, spec, rng, density):
        self.spec = spec
        self.rng = rng
        self.density = density
        self.layers = []  # name, kind, ts_shape, kernel (np float32, pruned zero), mask, param
        self.biases = []
        self.bns = []
        self.acts = []

    # ---- weight layers -------------------------------------------------------------------------
    def _kernel(self, name, kind, ts_shape, fan_in):
        n = int(np.prod(ts_shape))
        w = (self.rng.standard_normal(n) * math.sqrt(2.0 / fan_in)).astype(np.float32)
        k = max(1, int(round(self.density * n)))
        mask = np.zeros(n, dtype=np.uint8)
        mask[self.rng.permutation(n)[:k]] = 1
        w[mask == 0] = 0
        self.layers.append({'name': name, 'kind': kind, 'shape': list(ts_shape), 'kernel': w, 'mask': mask})
        return w

    def conv(self, name, x, cout, k, stride, bias):
        cin = x.shape[1]
        w = self._kernel(name, 'conv', (k, k, cin, cout), k * k * cin)
        # [k, k, cin, cout] -> torch [cout, cin, k, k]
        p = torch.tensor(w.reshape(k, k, cin, cout).transpose(3, 2, 0, 1).copy(), dtype=torch.float64, requires_grad=True)
        self.layers[-1]['param'] = p
        b = None
        if bias:
            b = torch.zeros(cout, requires_grad=True)
            self.biases.append(b)
        return F.conv2d(x, p, b, stride=stride, padding=(k - 1) // 2)

    def linear(self, name, x, cout):
        cin = x.shape[1]
        w = self._kernel(name, 'dense', (cin, cout), cin)
        p = torch.tensor(w.reshape(cin, cout).T.copy(), dtype=torch.float64, requires_grad=True)
        self.layers[-1]['param'] = p
        b = torch.zeros(cout, requires_grad=True)
        self.biases.append(b)
        return F.linear(x, p, b)

    # ---- other layers --------------------------------------------------------------------------
    def bn(self, x):
        c = x.shape[1]
        g = torch.ones(c, requires_grad=True)
        b = torch.zeros(c, requires_grad=True)
        self.bns.append((g, b))
        return F.batch_norm(x, None, None, g, b, training=True, eps=BN_EPS)

    def act(self, x):
        kind = self.spec['activation']
        c = x.shape[1]
        view = lambda v: v.view(1, c, 1, 1) if x.dim() == 4 else v.view(1, c)
        if kind == 'relu':
            self.acts.append([])
            return F.relu(x)
        if kind == 'sigmoid':
            self.acts.append([])
            return torch.sigmoid(x)
        if kind == 'elu':
            self.acts.append([])
            return F.elu(x, alpha=1.0)
        if kind == 'swish':
            self.acts.append([])
            return x * torch.sigmoid(x)
        if kind == 'prelu':
            a = torch.full((c,), 0.25, requires_grad=True)
            self.acts.append([a])
            return F.prelu(x, a)
        if kind in ('srelu', 'srelu-slide'):
            ps = [torch.full((c,), v, requires_grad=True) for v in (-0.4, 0.4, 0.4, 2.0)]
            self.acts.append(ps)
            tl, al, tr, ar = (view(p) for p in ps)
            if kind == 'srelu-slide':
                hi = x >= tr
                lo = (x <= tl) & ~hi
                return torch.where(hi, tr + ar * (x + tr), torch.where(lo, tl + al * (x + tl), x))
            return torch.where(x >= tr, tr + ar * (x - tr), torch.where(x <= tl, tl + al * (x - tl), x))
        raise ValueError(kind)

    # ---- architectures -------------------------------------------------------------------------
    def forward(self, x):
        s = self.spec
        if s['architecture'] == 'cnn':
            for i, ch in enumerate(s['channels']):
                name = 'block%d' % (i + 1)
                y = self.conv(name + '.conv', x, ch, 3, 1, bias=not s['batchNorm'])
                if s['batchNorm']:
                    y = self.bn(y)
                y = self.act(y)
                if s['skip']:
                    y = y + (x if x.shape[1] == ch else self.conv(name + '.shortcut', x, ch, 1, 1, bias=False))
                x = y
                if x.shape[2] > 1 and x.shape[3] > 1:
                    x = F.max_pool2d(x, 2)
        else:
            d, k = s['depth'], s['widenFactor']
            n = (d - 4) // 6
            x = self.conv('stem', x, 16, 3, 1, bias=False)
            for g, stride0 in enumerate((1, 2, 2)):
                w = 16 * k * 2 ** g
                for b in range(n):
                    name = 'group%d.block%d' % (g + 1, b + 1)
                    stride = stride0 if b == 0 else 1
                    o = self.act(self.bn(x))
                    y = self.conv(name + '.conv1', o, w, 3, stride, bias=False)
                    y = self.act(self.bn(y))
                    y = self.conv(name + '.conv2', y, w, 3, 1, bias=False)
                    if x.shape[1] == w and stride == 1:
                        x = y + x
                    else:
                        x = y + self.conv(name + '.shortcut', o, w, 1, stride, bias=False)
            x = self.act(self.bn(x))
        x = x.mean(dim=(2, 3))
        return self.linear('fc', x, s['classes'])


def run_case(name, spec, batch, density, seed):
    rng = np.random.default_rng(seed)
    h, w, c = spec['input']
    x_nhwc = rng.standard_normal(batch * h * w * c).astype(np.float32)
    labels = rng.integers(0, spec['classes'], batch)
    net = Net(spec, rng, density)
    x = torch.tensor(x_nhwc.reshape(batch, h, w, c).transpose(0, 3, 1, 2).copy(), dtype=torch.float64)
    logits = net.forward(x)
    loss = F.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    layers = []
    egf1 = egf2 = g1 = g2sq = 0.0
    for L in net.layers:
        p = L['param']
        if L['kind'] == 'conv':
            g = p.grad.detach().numpy().transpose(2, 3, 1, 0).reshape(-1)  # [cout, cin, k, k] -> [k, k, cin, cout]
        else:
            g = p.grad.detach().numpy().T.reshape(-1)  # [out, in] -> [in, out]
        m = L['mask'].astype(np.float64)
        gm = g * m
        raw = {'l1': float(np.abs(g).sum()), 'l2': float(np.sqrt((g * g).sum()))}
        masked = {'l1': float(np.abs(gm).sum()), 'l2': float(np.sqrt((gm * gm).sum()))}
        egf1 += masked['l1']
        egf2 += masked['l2']
        g1 += raw['l1']
        g2sq += raw['l2'] ** 2
        layers.append({
            'name': L['name'], 'kind': L['kind'], 'shape': L['shape'], 'active': int(L['mask'].sum()),
            'kernel': b64(L['kernel'], '<f4'), 'mask': b64(L['mask'], 'u1'), 'grad': b64(g, '<f4'),
            'raw': raw, 'masked': masked,
        })
    nl = len(layers)
    other = [b.grad.tolist() for b in net.biases]
    for g_, b_ in net.bns:
        other += [g_.grad.tolist(), b_.grad.tolist()]
    for ps in net.acts:
        other += [p.grad.tolist() for p in ps]
    return {
        'name': name, 'spec': spec, 'batch': {'n': batch, 'x': b64(x_nhwc, '<f4'), 'labels': labels.tolist()},
        'loss': float(loss), 'layers': layers, 'other': other,
        'egf1': egf1 / nl, 'egf2': egf2 / nl, 'g1': g1, 'g2': math.sqrt(g2sq),
    }


def cnn(inp, classes, channels, act, bn, skip):
    return {'architecture': 'cnn', 'input': inp, 'classes': classes, 'activation': act, 'batchNorm': bn,
            'channels': channels, 'skip': skip}


def main():
    cases = [
        run_case('cnn plain', cnn([8, 8, 2], 3, [4, 6, 6], 'relu', False, False), 4, 0.5, 1),
        run_case('cnn bn', cnn([8, 8, 2], 3, [4, 6, 6], 'relu', True, False), 4, 0.5, 2),
        run_case('cnn skip', cnn([8, 8, 2], 3, [4, 4, 6], 'relu', False, True), 4, 0.5, 3),
        run_case('cnn bn skip', cnn([8, 8, 2], 3, [4, 4, 6], 'relu', True, True), 4, 0.5, 4),
        run_case('wrn-10-1', {'architecture': 'wrn', 'input': [8, 8, 3], 'classes': 10, 'activation': 'relu',
                              'batchNorm': True, 'depth': 10, 'widenFactor': 1}, 2, 0.5, 5),
    ]
    for i, act in enumerate(('relu', 'prelu', 'elu', 'sigmoid', 'swish', 'srelu', 'srelu-slide')):
        cases.append(run_case('activation ' + act, cnn([8, 8, 2], 3, [3, 3, 4], act, True, True), 4, 0.6, 10 + i))
    json.dump({'torch': torch.__version__, 'cases': cases}, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
