#!/usr/bin/python3
"""Independent reference for one conv layer's gradients, every path of src/engine/nn/conv.ts.

Run: /usr/bin/python3 scripts/reference/conv_layer_grads.py > test/fixtures/conv/conv_layer_grads.json
(Debian python3-torch 1.13). test/engine/conv-paths.test.ts (and -wasm) computes the forward pass,
the input gradient on every input-gradient path and the filter gradient on every filter-gradient
path from the x, w and dy stored here and compares them with these.

Per case: a bias-free torch.nn.functional.conv2d (NCHW, float64 autograd) with stride s and
symmetric zero padding p, y = conv2d(x, w); the output gradient dy is drawn, and
(y * dy).sum().backward() gives dx = dL/dx and dw = dL/dw for L = <y, dy>. Nothing here is taken
from the TypeScript code. Arrays are stored in Gradflow's layouts, x / y / dy / dx NHWC and the
kernel [k, k, c_in, c_out], flattened row-major, as base64 little-endian float32 (the inputs are
drawn in float32, so both sides start from exactly the same numbers).
Cases: k = 3 and 1, stride 1 and 2, padding 1 and 0, even and odd maps, channel counts 2 to 32.
"""
import base64
import json
import numpy as np
import torch
import torch.nn.functional as F

CASES = [
    # name, N, H, W, c_in, c_out, k, stride, pad
    ('3x3 s1 p1', 2, 6, 5, 3, 4, 3, 1, 1),
    ('3x3 s1 p1 8->16', 1, 5, 5, 8, 16, 3, 1, 1),
    ('3x3 s1 p1 32->24', 2, 6, 6, 32, 24, 3, 1, 1),
    ('3x3 s1 p0', 1, 6, 7, 2, 3, 3, 1, 0),
    ('3x3 s2 p1 even', 2, 8, 8, 4, 6, 3, 2, 1),
    ('3x3 s2 p1 odd', 2, 7, 9, 5, 3, 3, 2, 1),
    ('3x3 s2 p1 16->32', 2, 8, 8, 16, 32, 3, 2, 1),
    ('3x3 s2 p0', 2, 7, 7, 3, 5, 3, 2, 0),
    ('3x3 s2 p0 even', 1, 8, 6, 4, 2, 3, 2, 0),
    ('1x1 s1 p0', 2, 4, 4, 6, 5, 1, 1, 0),
    ('1x1 s2 p0 even', 2, 6, 8, 4, 8, 1, 2, 0),
    ('1x1 s2 p0 odd', 1, 5, 7, 3, 2, 1, 2, 0),
    ('1x1 s2 p0 16->32', 2, 8, 8, 16, 32, 1, 2, 0),
    ('1x1 s2 p1', 1, 5, 6, 3, 4, 1, 2, 1),
]


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype='<f4').tobytes()).decode('ascii')


def main():
    rng = np.random.default_rng(20261207)
    out = []
    for name, n, h, w, cin, cout, k, s, p in CASES:
        x = rng.standard_normal((n, h, w, cin)).astype(np.float32)
        wk = rng.standard_normal((k, k, cin, cout)).astype(np.float32)
        xt = torch.tensor(x.transpose(0, 3, 1, 2), dtype=torch.float64, requires_grad=True)
        wt = torch.tensor(wk.transpose(3, 2, 0, 1), dtype=torch.float64, requires_grad=True)
        y = F.conv2d(xt, wt, stride=s, padding=p)
        ho, wo = y.shape[2], y.shape[3]
        dy = rng.standard_normal((n, ho, wo, cout)).astype(np.float32)
        dyt = torch.tensor(dy.transpose(0, 3, 1, 2), dtype=torch.float64)
        (y * dyt).sum().backward()
        out.append({
            'name': name,
            'shape': [n, h, w, cin],
            'cOut': cout,
            'g': {'k': k, 'stride': s, 'pad': p},
            'outShape': [n, ho, wo, cout],
            'x': b64(x),
            'w': b64(wk),
            'dy': b64(dy),
            'y': b64(y.detach().numpy().transpose(0, 2, 3, 1)),
            'dx': b64(xt.grad.numpy().transpose(0, 2, 3, 1)),
            'dw': b64(wt.grad.numpy().transpose(2, 3, 1, 0)),
        })
    print(json.dumps({'torch': torch.__version__, 'cases': out}, indent=1))


if __name__ == '__main__':
    main()
