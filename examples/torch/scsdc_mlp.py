#!/usr/bin/env python3
"""An SC-SDC pair (method.md §2) on Fashion-MNIST in PyTorch, watched by Gradflow.

A wide sparse MLP (hidden width model.width, random masks made with torch.nn.utils.prune) and a
narrow dense twin (sparsity.dense_width) with the same number of active weights in every layer,
trained side by side on the same batches. Every hyperparameter comes from the experiment file
(scsdc_mlp.gradflow.yaml), so Gradflow's alerts land on its lines and sweeps vary it:

    gradflow run examples/torch/scsdc_mlp.gradflow.yaml     # watched: dashboard, alerts, run folder
    python3 examples/torch/scsdc_mlp.py                     # plain: same training, DEFAULTS below

Gradflow's part is six lines, marked `# gradflow`.
"""
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))  # the client, without pip install
import gradflow  # noqa: E402
from fmnist_data import fashion_mnist  # noqa: E402

# Used when the script runs without Gradflow; under Gradflow the experiment file's values win.
DEFAULTS = {
    "dataset": {"validation_fraction": 0.1, "train_limit": 15000, "test_limit": 5000},
    "model": {"hidden_layers": 2, "width": 1000, "activation": "relu", "batch_norm": False, "skip": False},
    "sparsity": {"method": "random", "dense_width": 100, "pair": True},
    "training": {"optimizer": "adam", "learning_rate": 0.001, "momentum": 0.9, "weight_decay": 0,
                 "epochs": 3, "batch_size": 128, "seed": 0},
    "monitoring": {"on_nan": "stop"},
}

ACTIVATIONS = {"relu": nn.ReLU, "elu": nn.ELU, "sigmoid": nn.Sigmoid, "swish": nn.SiLU}
GAINS = {"relu": math.sqrt(2), "elu": math.sqrt(2), "sigmoid": 1.0, "swish": math.sqrt(2), "prelu": math.sqrt(2 / (1 + 0.25 ** 2))}


class MLP(nn.Module):
    """Linear → (BatchNorm) → activation per hidden layer (+ identity skip between equal widths)."""

    def __init__(self, d, width, hidden, classes, activation, batch_norm, skip):
        super().__init__()
        widths = [d] + [width] * hidden
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:] + [classes]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(width) for _ in range(hidden)) if batch_norm else None
        if activation == "prelu":
            self.acts = nn.ModuleList(nn.PReLU(width, init=0.25) for _ in range(hidden))
        else:
            self.acts = nn.ModuleList(ACTIVATIONS[activation]() for _ in range(hidden))
        self.skip = skip

    def forward(self, x):
        h = x
        for i, act in enumerate(self.acts):
            z = self.linears[i](h)
            if self.norms is not None:
                z = self.norms[i](z)
            a = act(z)
            h = a + h if self.skip and i > 0 else a
        return self.linears[-1](h)


def build(cfg, d, classes, width, dense_width, gen):
    """He-normal with the DENSE twin's fan-in for both nets (sparsity.init: dense-fan-in); sparse
    layers keep exactly the dense twin's number of weights, chosen uniformly (method.md §2)."""
    m, s = cfg["model"], cfg["sparsity"]
    net = MLP(d, width, m["hidden_layers"], classes, m["activation"], m["batch_norm"], m["skip"])
    dense_fan_ins = [d] + [dense_width] * m["hidden_layers"]
    dense_fan_outs = [dense_width] * m["hidden_layers"] + [classes]
    gain = GAINS[m["activation"]]
    with torch.no_grad():
        for lin, fi in zip(net.linears, dense_fan_ins):
            lin.weight.normal_(0, gain / math.sqrt(fi), generator=gen)
            lin.bias.zero_()
    if width != dense_width:
        for lin, fi, fo in zip(net.linears, dense_fan_ins, dense_fan_outs):
            keep = fi * fo
            order = torch.randperm(lin.weight.numel(), generator=gen)
            mask = torch.zeros(lin.weight.numel())
            mask[order[:keep]] = 1
            prune.custom_from_mask(lin, "weight", mask.reshape(lin.weight.shape))
    return net


def optimizer(cfg, params):
    t = cfg["training"]
    name, lr, wd = t["optimizer"], t["learning_rate"], t["weight_decay"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=t.get("momentum", 0.9), weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=wd)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)
    raise gradflow.ConfigError(f"training.optimizer {name!r} is not supported by this script", "training.optimizer")


@torch.no_grad()
def evaluate(net, x, y, batch=1000):
    net.eval()
    loss, correct = 0.0, 0
    for i in range(0, len(y), batch):
        out = net(x[i:i + batch])
        loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    net.train()
    return loss / len(y), correct / len(y)


def main():
    run = gradflow.init(defaults=DEFAULTS)                                   # gradflow
    cfg = run.config
    t, m, s = cfg["training"], cfg["model"], cfg["sparsity"]
    if m["activation"] not in GAINS:
        raise gradflow.ConfigError(f"model.activation {m['activation']!r} is not in this script (use {', '.join(GAINS)})", "model.activation")
    if s["method"] not in ("random", "none"):
        raise gradflow.ConfigError(f"sparsity.method {s['method']!r}: this script makes random masks only", "sparsity.method")
    ds = cfg.get("dataset", {})
    data = fashion_mnist(t["seed"], ds.get("validation_fraction", 0.1), ds.get("train_limit"), ds.get("test_limit"),
                         ds.get("cache_dir"), log=lambda msg: run.log(msg) if run.active else print(msg))
    d, classes = data["train_x"].shape[1], 10
    n = len(data["train_y"])
    steps_per_epoch = math.ceil(n / t["batch_size"])
    run.dataset("fashion-mnist", train=n, validation=len(data["val_y"]), test=len(data["test_y"]))  # gradflow

    gen = torch.Generator().manual_seed(t["seed"])
    width = m["width"]
    dense_width = s.get("dense_width") or width
    roles = [("sparse", width)] + ([("dense", dense_width)] if s["method"] != "none" and s.get("pair", True) else [])
    flow_rows = torch.randperm(n, generator=torch.Generator().manual_seed(t["seed"] + 1))[:4 * t["batch_size"]]
    flow_data = [(data["train_x"][r], data["train_y"][r]) for r in flow_rows.split(t["batch_size"])]
    coupled = 0.0 if t["optimizer"] == "adamw" else t["weight_decay"]
    nets = {}
    for role, w in roles:
        gen_role = torch.Generator().manual_seed(t["seed"] * 1000 + (1 if role == "sparse" else 2))
        net = build(cfg, d, classes, w if role == "sparse" else dense_width, dense_width, gen_role)
        watched = run.watch(net, net=role, steps_per_epoch=steps_per_epoch, flow_data=flow_data,  # gradflow
                            coupled_l2=coupled, width=w)
        nets[role] = (net, optimizer(cfg, net.parameters()), watched)

    started = time.monotonic()
    for epoch in range(t["epochs"]):
        order = torch.randperm(n, generator=gen)
        for i in range(steps_per_epoch):
            rows = order[i * t["batch_size"]:(i + 1) * t["batch_size"]]
            x, y = data["train_x"][rows], data["train_y"][rows]
            for net, opt, watched in nets.values():      # the same batch for both nets (SC-SDC)
                if watched.diverged and cfg["monitoring"].get("on_nan", "stop") == "stop":
                    continue
                opt.zero_grad()
                out = net(x)
                loss = F.cross_entropy(out, y)
                loss.backward()
                watched.step(loss=loss, output=out, target=y)                   # gradflow
                opt.step()
            if run.should_stop:
                break
        for role, (net, _, watched) in nets.items():
            vl, va = evaluate(net, data["val_x"], data["val_y"])
            tl, ta = evaluate(net, data["test_x"], data["test_y"])
            watched.epoch(val_loss=vl, val_accuracy=va, test_loss=tl, test_accuracy=ta)  # gradflow
            if not run.active:
                print(f"epoch {epoch + 1} {role}: val {va:.4f} test {ta:.4f} ({time.monotonic() - started:.0f} s)")
        if run.should_stop:
            break
    run.finish()                                                                 # gradflow


if __name__ == "__main__":
    main()
