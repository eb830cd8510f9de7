#!/usr/bin/env python3
"""torchvision's Wide ResNet-50-2 with global magnitude pruning, watched by Gradflow: the paper's
extension ("results extend to Wide ResNet-50 and to magnitude pruning", method.md §7).

The network is torchvision's wide_resnet50_2 (Bottleneck blocks, width_per_group 128); the
experiment file's trainer.args can shorten it (`blocks`, torchvision's [3, 4, 6, 3] by default) and
give it the usual CIFAR stem (3×3 stride-1 first convolution, no max-pool). At initialisation every
Conv2d/Linear kernel is pruned together by |w| with torch.nn.utils.prune.global_unstructured,
keeping `sparsity.density` of all kernel weights (the per-layer densities are the ranking's; with
`trainer.args.prune_output: false` the classifier stays dense and is not ranked). Data:
CIFAR-10 through torchvision (from dataset.path, the cache, or a download) where available, else a
seeded synthetic 32×32 image set with learnable class templates, said in the run log.

    gradflow run examples/torch/wrn_magnitude.gradflow.yaml
    python3 examples/torch/wrn_magnitude.py          # without Gradflow: DEFAULTS below
"""
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))  # the client, without pip install
import gradflow  # noqa: E402

DEFAULTS = {
    "dataset": {"name": "cifar10", "validation_fraction": 0.1, "train_limit": 256, "test_limit": 256},
    "sparsity": {"method": "magnitude", "density": 0.1},
    "training": {"optimizer": "momentum", "learning_rate": 0.05, "momentum": 0.9, "weight_decay": 0.0005,
                 "augmentation": False, "epochs": 1, "batch_size": 32, "seed": 0},
    "monitoring": {"on_nan": "stop"},
    "trainer": {"args": {"blocks": [1, 1, 1, 1], "width_per_group": 128, "cifar_stem": True, "synthetic_size": 512}},
}


def build_wrn(args, num_classes=10):
    import torchvision
    from torchvision.models.resnet import Bottleneck, ResNet

    blocks = list(args.get("blocks", [3, 4, 6, 3]))
    wpg = int(args.get("width_per_group", 128))
    if len(blocks) != 4 or not all(isinstance(b, int) and b >= 1 for b in blocks):
        raise gradflow.ConfigError(f"trainer.args.blocks {blocks!r}: four block counts >= 1 (torchvision's WRN-50-2: [3, 4, 6, 3])", "trainer.args.blocks")
    if blocks == [3, 4, 6, 3] and wpg == 128:
        model = torchvision.models.wide_resnet50_2(num_classes=num_classes)
    else:
        model = ResNet(Bottleneck, blocks, width_per_group=wpg, num_classes=num_classes)
    if args.get("cifar_stem", True):
        model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        model.maxpool = nn.Identity()
    return model


def prune_global_magnitude(model, density, include_output=True):
    """Keep the `density` share of the kernel weights with the largest |w|, ranked over all layers
    (without the classifier `fc` when include_output is False: it then stays dense)."""
    kernels = [(m, "weight") for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) and (include_output or m is not model.fc)]
    prune.global_unstructured(kernels, pruning_method=prune.L1Unstructured, amount=1.0 - density)


def synthetic_images(n, seed, classes=10):
    """Seeded 3×32×32 images: a smooth random template per class plus noise (learnable, not trivial)."""
    g = torch.Generator().manual_seed(seed)
    templates = F.interpolate(torch.randn(classes, 3, 8, 8, generator=g), size=32, mode="bilinear", align_corners=False)
    y = torch.randint(0, classes, (n,), generator=g)
    x = templates[y] + 1.5 * torch.randn(n, 3, 32, 32, generator=g)
    return x, y


def load_data(cfg, log):
    ds, t, args = cfg.get("dataset", {}), cfg["training"], cfg.get("trainer", {}).get("args", {})
    train_limit, test_limit = ds.get("train_limit"), ds.get("test_limit")
    source = None
    try:
        from torchvision.datasets import CIFAR10

        root = ds.get("path") or os.path.join(ds.get("cache_dir") or os.path.expanduser("~/.cache/gradflow/datasets"), "torch-examples", "cifar10")
        try:
            tr, te = CIFAR10(root, train=True, download=False), CIFAR10(root, train=False, download=False)
        except RuntimeError:
            if not args.get("download", True):
                raise RuntimeError(f"no CIFAR-10 in {root} (trainer.args.download: false)") from None
            tr, te = CIFAR10(root, train=True, download=True), CIFAR10(root, train=False, download=True)
        to_x = lambda d: torch.tensor(d.data).permute(0, 3, 1, 2).float() / 255  # noqa: E731
        x_all, y_all = to_x(tr), torch.tensor(tr.targets)
        x_te, y_te = to_x(te), torch.tensor(te.targets)
        source = f"CIFAR-10 ({root})"
    except Exception as e:  # no torchvision data, no network: a synthetic set, said in the log
        n = int(args.get("synthetic_size", 512))
        x_all, y_all = synthetic_images(n, t["seed"])
        x_te, y_te = synthetic_images(max(64, n // 5), t["seed"] + 1)
        source = f"synthetic 32×32 images ({n} train; CIFAR-10 unavailable: {str(e).splitlines()[0][:200]})"
    log(f"data: {source}")
    perm = torch.randperm(len(y_all), generator=torch.Generator().manual_seed(t["seed"]))
    n_val = int(math.floor(len(y_all) * ds.get("validation_fraction", 0.1) + 0.5))
    train, val = perm[n_val:], perm[:n_val]
    if train_limit:
        train = train[:train_limit]
        val = val[:max(1, int(train_limit * ds.get("validation_fraction", 0.1)))]
    if test_limit:
        x_te, y_te = x_te[:test_limit], y_te[:test_limit]
    mean = x_all[train].mean(dim=(0, 2, 3), keepdim=True)
    std = x_all[train].std(dim=(0, 2, 3), keepdim=True)
    norm = lambda x: (x - mean) / std  # noqa: E731
    return {"train_x": norm(x_all[train]), "train_y": y_all[train], "val_x": norm(x_all[val]), "val_y": y_all[val],
            "test_x": norm(x_te), "test_y": y_te, "source": source}


def augment(x, gen):
    """Random crop with 4 px padding and horizontal flip (method.md §5, CIFAR)."""
    n = x.shape[0]
    padded = F.pad(x, (4, 4, 4, 4))
    dx, dy = torch.randint(0, 9, (n,), generator=gen), torch.randint(0, 9, (n,), generator=gen)
    out = torch.stack([padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32] for i in range(n)])
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def optimizer(t, params):
    name, lr, wd = t["optimizer"], t["learning_rate"], t.get("weight_decay", 0)
    if name in ("sgd", "momentum"):
        momentum = t.get("momentum", 0.9) if name == "momentum" else 0
        # training.nesterov: the WRN paper's Nesterov momentum, as the engine's (PyTorch's form).
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=bool(t.get("nesterov")) and name == "momentum", weight_decay=wd)
    if name in ("adam", "adamw"):
        return (torch.optim.AdamW if name == "adamw" else torch.optim.Adam)(params, lr=lr, weight_decay=wd)
    raise gradflow.ConfigError(f"training.optimizer {name!r}: this script has sgd, momentum, adam, adamw", "training.optimizer")


@torch.no_grad()
def evaluate(model, x, y, batch=128):
    model.eval()
    loss, correct = 0.0, 0
    for i in range(0, len(y), batch):
        out = model(x[i:i + batch])
        loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return loss / max(1, len(y)), correct / max(1, len(y))


def main():
    run = gradflow.init(defaults=DEFAULTS)
    cfg = run.config
    t, s = cfg["training"], cfg["sparsity"]
    args = cfg.get("trainer", {}).get("args", {}) or {}
    if s.get("method") not in ("magnitude", "none"):
        raise gradflow.ConfigError(f"sparsity.method {s.get('method')!r}: this script prunes by global magnitude (or none)", "sparsity.method")
    torch.manual_seed(t["seed"])
    log = run.log if run.active else print
    data = load_data(cfg, log)
    n = len(data["train_y"])
    steps_per_epoch = math.ceil(n / t["batch_size"])
    run.dataset(data["source"].split(" (")[0], train=n, validation=len(data["val_y"]), test=len(data["test_y"]))
    model = build_wrn(args)
    if s.get("method") == "magnitude":
        density = s.get("density")
        if not isinstance(density, (int, float)) or not 0 < density < 1:
            raise gradflow.ConfigError("sparsity.density: the share of all kernel weights to keep, in (0, 1)", "sparsity.density")
        prune_global_magnitude(model, float(density), include_output=bool(args.get("prune_output", True)))
    flow_data = [(data["train_x"][:t["batch_size"]], data["train_y"][:t["batch_size"]])]
    coupled = 0.0 if t["optimizer"] == "adamw" else t.get("weight_decay", 0)
    net = run.watch(model, net="sparse", steps_per_epoch=steps_per_epoch, flow_data=flow_data, coupled_l2=coupled)
    opt = optimizer(t, model.parameters())
    # training.lr_schedule: MultiStepLR stepped once per epoch, as the engine applies it.
    schedule = t.get("lr_schedule")
    scheduler = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=schedule["milestones"], gamma=schedule.get("gamma", 0.1)) if schedule else None
    gen = torch.Generator().manual_seed(t["seed"] + 7)
    started = time.monotonic()
    for epoch in range(t["epochs"]):
        order = torch.randperm(n, generator=gen)
        for i in range(steps_per_epoch):
            rows = order[i * t["batch_size"]:(i + 1) * t["batch_size"]]
            x, y = data["train_x"][rows], data["train_y"][rows]
            if t.get("augmentation"):
                x = augment(x, gen)
            opt.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            net.step(loss=loss, output=out, target=y)
            opt.step()
            if run.should_stop or (net.diverged and cfg.get("monitoring", {}).get("on_nan", "stop") == "stop"):
                break
            if not run.active and i % 10 == 0:
                print(f"epoch {epoch + 1} step {i + 1}/{steps_per_epoch}: loss {loss.item():.4f} ({time.monotonic() - started:.0f} s)")
        vl, va = evaluate(model, data["val_x"], data["val_y"])
        tl, ta = evaluate(model, data["test_x"], data["test_y"])
        net.epoch(val_loss=vl, val_accuracy=va, test_loss=tl, test_accuracy=ta)
        if not run.active:
            print(f"epoch {epoch + 1}: val {va:.4f} test {ta:.4f}")
        if run.should_stop or net.diverged:
            break
        if scheduler is not None:
            before = opt.param_groups[0]["lr"]
            scheduler.step()
            after = opt.param_groups[0]["lr"]
            if after != before:
                log(f"learning rate {float(f'{after:.6g}')} from epoch {epoch + 2} (training.lr_schedule)")
    run.finish()


if __name__ == "__main__":
    main()
