#!/usr/bin/python3
"""Driver for test/torch/client.test.ts: one masked MLP of test/fixtures/engine/ref_flow.json (the
engine's PyTorch reference cases: kernels, masks, biases, batch) rebuilt as a torch.nn model in
float32 and watched by the client, which reports one step and two flow points on it.

Usage: ref_case.py CASE_JSON_FILE MODE   (MODE: prune = masks through torch.nn.utils.prune's
custom_from_mask; explicit = masks given to watch() as {param_name: mask}).

stdout: one JSON line, an independent computation of what the client must report: the raw kernel
gradients in float64 (a functional forward on float64 copies of the same parameters, autograd
w.r.t. the effective kernels), plus coupled L2, masked by hand, summed with math.fsum.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

import gradflow


class SReLU(nn.Module):
    def __init__(self, units, slide):
        super().__init__()
        self.slide = slide
        self.tl = nn.Parameter(torch.full((units,), -0.4))
        self.al = nn.Parameter(torch.full((units,), 0.4))
        self.tr = nn.Parameter(torch.full((units,), 0.4))
        self.ar = nn.Parameter(torch.full((units,), 2.0))

    def forward(self, z):
        s = 1.0 if self.slide else -1.0
        return torch.where(z >= self.tr, self.tr + self.ar * (z + s * self.tr),
                           torch.where(z <= self.tl, self.tl + self.al * (z + s * self.tl), z))


class Swish(nn.Module):
    def forward(self, z):
        return z * torch.sigmoid(z)


def activation(kind, units):
    return {
        "relu": lambda: nn.ReLU(),
        "sigmoid": lambda: nn.Sigmoid(),
        "elu": lambda: nn.ELU(alpha=1.0),
        "swish": lambda: Swish(),
        "prelu": lambda: nn.PReLU(num_parameters=units, init=0.25),
        "srelu": lambda: SReLU(units, False),
        "srelu-slide": lambda: SReLU(units, True),
    }[kind]()


class RefMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        shapes = []
        fan_in = c["d"]
        for _ in range(c["H"]):
            shapes.append((fan_in, c["width"]))
            fan_in = c["width"]
        shapes.append((fan_in, c["C"]))
        self.shapes = shapes
        self.skip = c["skip"]
        self.linears = nn.ModuleList(nn.Linear(fi, fo) for fi, fo in shapes)
        self.norms = nn.ModuleList(nn.BatchNorm1d(c["width"], eps=1e-5) for _ in range(c["H"])) if c["batch_norm"] else None
        self.acts = nn.ModuleList(activation(c["activation"], c["width"]) for _ in range(c["H"]))
        with torch.no_grad():
            for l, (fi, fo) in enumerate(shapes):
                self.linears[l].weight.copy_(torch.tensor(c["kernels"][l]).reshape(fi, fo).t())
                self.linears[l].bias.copy_(torch.tensor(c["biases"][l]))

    def forward(self, x):
        h = x
        for l in range(len(self.acts)):
            z = self.linears[l](h)
            if self.norms is not None:
                z = self.norms[l](z)
            a = self.acts[l](z)
            h = a + h if (self.skip and l > 0 and h.shape[1] == a.shape[1]) else a
        return self.linears[-1](h)


def independent(c):
    """Raw and masked norms from a float64 functional forward (no module, no client)."""
    def t(v, shape=None):
        x = torch.tensor(v, dtype=torch.float64)
        return x.reshape(shape) if shape else x
    shapes = []
    fan_in = c["d"]
    for _ in range(c["H"]):
        shapes.append((fan_in, c["width"]))
        fan_in = c["width"]
    shapes.append((fan_in, c["C"]))
    Ws = [t(c["kernels"][l], s).requires_grad_(True) for l, s in enumerate(shapes)]
    masks = [t(c["masks"][l], s) for l, s in enumerate(shapes)]
    bs = [t(b) for b in c["biases"]]
    h = t(c["x"], (c["n"], c["d"]))
    for l in range(c["H"]):
        z = h @ Ws[l] + bs[l]
        if c["batch_norm"]:
            mean = z.mean(0)
            var = ((z - mean) ** 2).mean(0)
            z = (z - mean) / torch.sqrt(var + 1e-5)
        k = c["activation"]
        if k == "relu":
            a = torch.relu(z)
        elif k == "sigmoid":
            a = torch.sigmoid(z)
        elif k == "elu":
            a = F.elu(z)
        elif k == "swish":
            a = z * torch.sigmoid(z)
        elif k == "prelu":
            a = torch.where(z > 0, z, 0.25 * z)
        else:
            s = 1.0 if k == "srelu-slide" else -1.0
            a = torch.where(z >= 0.4, 0.4 + 2.0 * (z + s * 0.4), torch.where(z <= -0.4, -0.4 + 0.4 * (z + s * -0.4), z))
        h = a + h if (c["skip"] and l > 0 and h.shape[1] == a.shape[1]) else a
    logits = h @ Ws[-1] + bs[-1]
    loss = F.cross_entropy(logits, torch.tensor(c["y"]))
    grads = torch.autograd.grad(loss, Ws)
    layers = []
    for W, g, m in zip(Ws, grads, masks):
        raw = (g + c["l2"] * W.detach()).flatten().tolist()
        mk = [r * v for r, v in zip(raw, m.flatten().tolist())]
        layers.append({"raw": {"l1": math.fsum(abs(v) for v in raw), "l2": math.sqrt(math.fsum(v * v for v in raw))},
                       "masked": {"l1": math.fsum(abs(v) for v in mk), "l2": math.sqrt(math.fsum(v * v for v in mk))}})
    L = len(layers)
    return {"loss": loss.item(), "layers": layers,
            "egf1": math.fsum(l["masked"]["l1"] for l in layers) / L, "egf2": math.fsum(l["masked"]["l2"] for l in layers) / L,
            "g1": math.fsum(l["raw"]["l1"] for l in layers), "g2": math.sqrt(math.fsum(l["raw"]["l2"] ** 2 for l in layers))}


def main():
    c = json.load(open(sys.argv[1]))
    mode = sys.argv[2]
    torch.manual_seed(0)
    run = gradflow.init()
    model = RefMLP(c)
    masks = {}
    for l, (fi, fo) in enumerate(model.shapes):
        m = torch.tensor(c["masks"][l]).reshape(fi, fo).t().contiguous()
        if mode == "prune":
            prune.custom_from_mask(model.linears[l], "weight", m)
        else:
            masks[f"linears.{l}.weight"] = m.bool() if l % 2 else m
    x = torch.tensor(c["x"]).reshape(c["n"], c["d"])
    y = torch.tensor(c["y"])
    k = c["n"] // 3
    # Two flow batches of different sizes: their size-weighted mean gradient is the full batch's.
    run.watch(model, masks=masks or None, net="sparse", steps_per_epoch=1, epochs=1,
              flow_data=[(x[:k], y[:k]), (x[k:], y[k:])], coupled_l2=c["l2"])
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    run.step(loss=loss, output=logits, target=y)
    run.finish()
    print(json.dumps(independent(c)))


if __name__ == "__main__":
    main()
