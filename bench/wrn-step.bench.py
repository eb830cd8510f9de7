#!/usr/bin/python3
"""PyTorch reference for the dense WRN-16-4 training step (npm run bench; driven by wrn-step.bench.ts).

One training step of a dense WRN-16-4 (Zagoruyko & Komodakis 2016, pre-activation basic blocks) on a
batch of 64 random 32x32x3 images, 10 classes, CPU, ONE thread: torch.set_num_threads(1) and
OPENBLAS_NUM_THREADS=1 / OMP_NUM_THREADS=1 (the caller also unsets OPENBLAS_CORETYPE so OpenBLAS
picks its kernels for this CPU itself). A step is zero_grad, forward, cross-entropy, backward,
SGD + momentum 0.9 update, as Gradflow's step on the same net (no norm collection).

The net is written here from the architecture description (docs/conv-nets.md), not from the
TypeScript code: conv3x3 stem 16 (bias-free, padding 1); three groups of (16 - 4) / 6 = 2 blocks at
16k, 32k, 64k channels (k = 4), strides 1, 2, 2; block: o = relu(bn1(x)),
y = conv2(relu(bn2(conv1(o)))), out = y + (x if shapes match else conv1x1(o)); final BN-ReLU,
global average pool, linear with bias.

Protocol (so the caller can alternate samples with its own): prints one JSON line
{"ready": true, "params": N} after building and one warm-up step, then for every line "step" read on
stdin runs one step and prints {"wall": ms, "cpu": ms} (wall: time.perf_counter, cpu:
time.process_time of this process); "quit" or end of input ends it.
Options: --depth 16 --widen 4 --batch 64 (and --steps N to run N steps standalone and print medians).
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ.pop("OPENBLAS_CORETYPE", None)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=False) if (cin != cout or stride != 1) else None

    def forward(self, x):
        o = F.relu(self.bn1(x))
        y = self.conv2(F.relu(self.bn2(self.conv1(o))))
        return y + (x if self.shortcut is None else self.shortcut(o))


class WRN(nn.Module):
    def __init__(self, depth, k, classes=10):
        super().__init__()
        n = (depth - 4) // 6
        self.stem = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        blocks = []
        cin = 16
        for g, stride in enumerate([1, 2, 2]):
            w = 16 * k * 2 ** g
            for b in range(n):
                blocks.append(Block(cin, w, stride if b == 0 else 1))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        h = F.relu(self.bn(self.blocks(self.stem(x))))
        return self.fc(h.mean(dim=(2, 3)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--widen", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(1)
    net = WRN(a.depth, a.widen)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, 10, (a.batch,))

    def step():
        c0 = time.process_time()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        loss.item()
        t1 = time.perf_counter()
        c1 = time.process_time()
        return {"wall": (t1 - t0) * 1000, "cpu": (c1 - c0) * 1000}

    step()
    params = sum(p.numel() for p in net.parameters())
    if a.steps > 0:
        s = [step() for _ in range(a.steps)]
        print(json.dumps({"params": params, "threads": torch.get_num_threads(), "wall": statistics.median(r["wall"] for r in s), "cpu": statistics.median(r["cpu"] for r in s)}))
        return
    print(json.dumps({"ready": True, "params": params, "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "quit":
            break
        if cmd == "step":
            print(json.dumps(step()), flush=True)


if __name__ == "__main__":
    main()
