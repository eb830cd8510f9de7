#!/usr/bin/python3
"""Per-step overhead of the Python client's run.step on the WRN example (npm run bench; started by
torch-client.bench.ts). CPU, one thread (torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1).

The model is examples/torch/wrn_magnitude.py's: torchvision's Wide ResNet-50-2 design shortened to
one Bottleneck block per stage (`--blocks`), CIFAR stem, 90 % of the kernel weights pruned by
global magnitude through torch.nn.utils.prune (the classifier dense, as in the example's
experiment file); a batch of synthetic 32×32 images. A training step
is zero_grad, forward, backward, optimizer step (SGD + momentum); "with" adds run.step(loss=...,
output=..., target=...) between backward and the optimizer step, under a real client whose
messages go through a pipe to a reader thread (norms of every layer at every step, one transfer).
Times are CPU seconds of the process (time.process_time: one thread,
so the machine's other load does not count). Steps with and without alternate (order swapped every pair) so that load drifts hit both; the
figures are medians. Target: overhead ≤ 5 % of the step.

Options: --pairs N (default 4), --warmup N (2), --batch N (16), --blocks a,b,c,d (1,1,1,1).
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "clients" / "python"))
sys.path.insert(0, str(ROOT / "examples" / "torch"))


def under_sink():
    """Gradflow's environment with a sink as the host: messages are read and counted."""
    out_r, out_w = os.pipe()
    in_r, in_w = os.pipe()
    os.environ.update(GRADFLOW_PROTOCOL="1", GRADFLOW_FD_OUT=str(out_w), GRADFLOW_FD_IN=str(in_r))
    counts = {"lines": 0, "bytes": 0}

    def drain():
        with os.fdopen(out_r, "rb") as f:
            for line in f:
                counts["lines"] += 1
                counts["bytes"] += len(line)
                if counts["lines"] == 1:
                    os.write(in_w, (json.dumps({"type": "start", "protocolVersion": 1, "config": {}, "runId": "bench", "runDir": "/nonexistent"}) + "\n").encode())

    threading.Thread(target=drain, daemon=True).start()
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--blocks", default="1,1,1,1")
    a = ap.parse_args()
    torch.set_num_threads(1)
    counts = under_sink()
    import gradflow
    from wrn_magnitude import build_wrn, prune_global_magnitude, synthetic_images

    run = gradflow.init()
    torch.manual_seed(0)
    model = build_wrn({"blocks": [int(b) for b in a.blocks.split(",")], "width_per_group": 128, "cifar_stem": True})
    prune_global_magnitude(model, 0.1, include_output=False)  # as the example's file: fc dense
    net = run.watch(model)
    kernels = sum(l.total for l in net.layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x, y = synthetic_images(a.batch, 0)

    clock = time.process_time  # CPU seconds of this process: the machine's other load does not count

    def step(watch):
        w0, t0 = time.perf_counter(), clock()
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        t1 = clock()
        if watch:
            net.step(loss=loss, output=out, target=y)
        t2 = clock()
        opt.step()
        return clock() - t0, t2 - t1, time.perf_counter() - w0

    for i in range(a.warmup):
        step(i % 2 == 1)
    plain, watched, calls, wall = [], [], [], []
    for i in range(a.pairs):
        for w in ((False, True) if i % 2 == 0 else (True, False)):
            total, call, elapsed = step(w)
            (watched if w else plain).append(total)
            wall.append(elapsed)
            if w:
                calls.append(call)
    run.finish()
    p, w, c = statistics.median(plain), statistics.median(watched), statistics.median(calls)
    print(f"torch client bench: WRN-50-2 design, blocks {a.blocks}, CIFAR stem, {kernels / 1e6:.1f}M kernel weights, 10 % of the convolutions' kept (fc dense), "
          f"{len(net.layers)} weight layers, batch {a.batch}, CPU 1 thread, torch {torch.__version__}")
    print(f"  CPU time (process_time; wall-clock per step, median {statistics.median(wall) * 1e3:.0f} ms, depends on the machine's load):")
    print(f"  step without run.step: median {p * 1e3:.0f} ms over {len(plain)} (min {min(plain) * 1e3:.0f})")
    print(f"  step with run.step:    median {w * 1e3:.0f} ms over {len(watched)} (min {min(watched) * 1e3:.0f})")
    print(f"  run.step alone:        median {c * 1e3:.1f} ms (min {min(calls) * 1e3:.1f}); {counts['lines']} messages, {counts['bytes']} bytes sent")
    print(f"  overhead: run.step / step without = {100 * c / p:.2f} %  (target <= 5 %); "
          f"median with / median without - 1 = {100 * (w / p - 1):+.2f} %")


if __name__ == "__main__":
    main()
