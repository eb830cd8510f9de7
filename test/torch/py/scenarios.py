#!/usr/bin/python3
"""Driver for test/torch/scenarios.test.ts: small scripts using the client the way a user's loop
does, one per scenario (argv[1]). Each prints what the test needs to check on stdout as one JSON
line at the end, where a scenario has something to say beyond the messages it sent."""
import json
import sys

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

import gradflow


def mlp(seed=0, d=6, h=5, c=3):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, c))


def batch(seed=1, n=8, d=6, c=3):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, c, (n,), generator=g)


def train_steps(run, model, steps, opt=None, net=None, lr=0.05):
    opt = opt or torch.optim.SGD(model.parameters(), lr=lr)
    x, y = batch()
    for _ in range(steps):
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        (net or run).step(loss=loss, output=out, target=y)
        opt.step()
        if run.should_stop:
            break
    return opt


def masks_prune():
    """prune's custom_from_mask, l1_unstructured and a conv net pruned with global_unstructured."""
    run = gradflow.init()
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 1), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    model.add_module("bn", nn.BatchNorm1d(3))
    prune.global_unstructured([(model[0], "weight"), (model[2], "weight")], pruning_method=prune.L1Unstructured, amount=0.5)
    m = torch.ones(3, 32)
    m[0, :] = 0  # output unit 0 has no active incoming weight
    m[1, :5] = 0
    prune.custom_from_mask(model[4], "weight", m)
    run.watch(model)
    x = torch.randn(5, 3, 6, 6)
    y = torch.randint(0, 3, (5,))
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    # What the test compares with: the masks' counts, taken from the modules here.
    counts = [int(model[i].weight_mask.sum()) for i in (0, 2, 4)]
    # Raw gradient of the pruned product, recomputed here by autograd w.r.t. the effective kernels.
    ws = [(model[i].weight_orig * model[i].weight_mask).detach().double().requires_grad_(True) for i in (0, 2, 4)]
    bs = [model[i].bias.detach().double() for i in (0, 2, 4)]
    bn = model.bn
    z = F.conv2d(F.relu(F.conv2d(x.double(), ws[0], bs[0])), ws[1], bs[1]).flatten(1) @ ws[2].t() + bs[2]
    z = F.batch_norm(z, None, None, bn.weight.detach().double(), bn.bias.detach().double(), training=True, eps=bn.eps)
    grads = torch.autograd.grad(F.cross_entropy(z, y), ws)
    ms = [model[i].weight_mask.double() for i in (0, 2, 4)]
    norms = [{"raw": [g.abs().sum().item(), g.pow(2).sum().sqrt().item()], "masked": [(g * mk).abs().sum().item(), (g * mk).pow(2).sum().sqrt().item()]}
             for g, mk in zip(grads, ms)]
    run.step(loss=loss)
    run.finish()
    print(json.dumps({"active": counts, "norms": norms}))


def masks_explicit():
    """Explicit masks by parameter name and by module name; the third layer stays dense."""
    run = gradflow.init()
    model = mlp()
    m0 = (torch.arange(30).reshape(5, 6) % 3 == 0).float()
    m1 = torch.eye(5, dtype=torch.bool)
    with torch.no_grad():
        model[0].weight.mul_(m0)
        model[2].weight.mul_(m1)
    run.watch(model, masks={"0.weight": m0, "2": m1})
    train_steps(run, model, 1, lr=0.0)
    g = [model[i].weight.grad.double() for i in (0, 2, 4)]
    ms = [m0.double(), m1.double(), torch.ones(3, 5, dtype=torch.float64)]
    run.finish()
    print(json.dumps({"norms": [{"raw": [gi.abs().sum().item(), gi.pow(2).sum().sqrt().item()],
                                 "masked": [(gi * mi).abs().sum().item(), (gi * mi).pow(2).sum().sqrt().item()]} for gi, mi in zip(g, ms)]}))


def masks_dense():
    run = gradflow.init()
    model = mlp()
    run.watch(model, net="dense")
    train_steps(run, model, 2)
    run.finish()


def masks_bad():
    """A mask naming nothing: the error names the key and the model's weight layers."""
    run = gradflow.init()
    run.watch(mlp(), masks={"fc9.weight": torch.ones(5, 6)})


def masks_bad_shape():
    run = gradflow.init()
    run.watch(mlp(), masks={"0.weight": torch.ones(6, 5)})


def masks_bad_values():
    run = gradflow.init()
    run.watch(mlp(), masks={"0.weight": torch.full((5, 6), 0.5)})


def every():
    """monitoring.every from the experiment: norms on every 3rd step only."""
    run = gradflow.init()
    model = mlp()
    run.watch(model)
    train_steps(run, model, 7)
    run.finish()


def stop():
    """Train until Gradflow says stop; `done` then says stopped."""
    run = gradflow.init()
    model = mlp()
    run.watch(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = batch()
    import time
    deadline = time.monotonic() + 60
    while not run.should_stop and time.monotonic() < deadline:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        run.step(loss=loss)
        opt.step()
        time.sleep(0.01)
    run.finish()


def raises():
    """An exception in the loop: `error` with the traceback, the script still fails."""
    run = gradflow.init()
    model = mlp()
    run.watch(model)
    train_steps(run, model, 1)

    def inner_failure():
        raise ValueError("the data loader ran dry")
    inner_failure()


def raises_in_with():
    with gradflow.init() as run:
        run.watch(mlp())
        raise RuntimeError("inside the with block")


def config_error():
    run = gradflow.init()
    run.require("training.nonexistent_key")


def config():
    """run.config is the experiment laid over init()'s defaults; get() reads dotted keys."""
    run = gradflow.init(defaults={"training": {"learning_rate": 1.0, "momentum": 0.5}, "trainer": {"args": {"width": 7}}})
    run.watch(mlp())
    run.finish()
    print(json.dumps({"lr": run.get("training.learning_rate"), "momentum": run.get("training.momentum"),
                      "width": run.get("trainer.args.width"), "missing": run.get("training.nope", "dflt"),
                      "run_dir": run.run_dir, "active": run.active}))


def nan():
    """A net whose loss becomes NaN: the step carries null, the net knows it diverged."""
    run = gradflow.init()
    model = mlp()
    net = run.watch(model)
    x, y = batch()
    flags = []
    for s in range(3):
        model.zero_grad()
        xs = x * float("inf") if s == 1 else x
        loss = F.cross_entropy(model(xs), y)
        loss.backward()
        run.step(loss=loss)
        flags.append(net.diverged)
    run.finish()
    print(json.dumps({"diverged": flags}))


def pair():
    """An SC-SDC pair in one script: two nets declared in one ready, steps and epochs per net."""
    run = gradflow.init()
    sparse = mlp(0, h=10)
    prune.random_unstructured(sparse[0], "weight", amount=0.5)
    prune.random_unstructured(sparse[2], "weight", amount=0.75)
    prune.random_unstructured(sparse[4], "weight", amount=0.5)
    dense = mlp(0, h=5)
    x, y = batch()
    s = run.watch(sparse, net="sparse", steps_per_epoch=2, epochs=2, width=10, flow_data=[(x, y)])
    d = run.watch(dense, net="dense", steps_per_epoch=2, epochs=2, width=5, flow_data=[(x, y)])
    opts = {k: torch.optim.SGD(m.parameters(), lr=0.05) for k, m in (("s", sparse), ("d", dense))}
    for _ in range(2):
        for _ in range(2):
            for key, model, w in (("s", sparse, s), ("d", dense, d)):
                opts[key].zero_grad()
                out = model(x)
                loss = F.cross_entropy(out, y)
                loss.backward()
                w.step(loss=loss, output=out, target=y)
                opts[key].step()
        s.epoch(val_loss=0.5, val_accuracy=0.75)
        run.epoch(net="dense", test_loss=torch.tensor(0.25), test_accuracy=0.5)
    run.finish()


def mask_update():
    """RigL-like: an explicit mask moved in place; and a layer pruned during training (gmp)."""
    run = gradflow.init()
    model = mlp()
    m0 = torch.zeros(5, 6)
    m0[:, :3] = 1  # 15 active
    with torch.no_grad():
        model[0].weight.mul_(m0)
    run.watch(model, masks={"0.weight": m0})
    train_steps(run, model, 2)
    m0[0, 0] = 0
    m0[1, 0] = 0  # dropped 2
    m0[4, 5] = 1  # grown 1
    run.masks_changed("rigl", fraction=0.1)
    m0[4, 5] = 0  # dropped 1 (relative to the last update); overlap now 13/15
    prune.l1_unstructured(model[2], "weight", amount=10)  # the dense middle layer loses 10 of 25
    run.masks_changed("gmp")
    train_steps(run, model, 1)
    run.finish()


def flow_without_data():
    """No flow_data: points come from the next step's training gradient; the last one is missing."""
    run = gradflow.init()
    model = mlp()
    run.watch(model, steps_per_epoch=2, epochs=1)
    train_steps(run, model, 2)
    run.epoch()
    run.finish()


def noop():
    """Without Gradflow: one line on stderr, every call a no-op, config = defaults."""
    run = gradflow.init(defaults={"training": {"epochs": 2}})
    model = mlp()
    prune.random_unstructured(model[0], "weight", amount=0.5)
    net = run.watch(model, masks=None, net="sparse")
    train_steps(run, model, 3)
    net.epoch(val_loss=1.0)
    run.epoch(train_loss=1.0)
    run.masks_changed("rigl")
    run.log("hello")
    run.finish()
    assert gradflow.init() is run
    print(json.dumps({"active": run.active, "epochs": run.get("training.epochs"), "should_stop": run.should_stop, "diverged": net.diverged}))


if __name__ == "__main__":
    globals()[sys.argv[1]]()
