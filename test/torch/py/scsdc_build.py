#!/usr/bin/python3
"""Driver for test/torch/examples.test.ts: the nets examples/torch/scsdc_mlp.py builds for the
model/sparsity given as JSON on argv[1]; per net and layer (fan_in, fan_out, active, total) from
the modules' own weights and prune masks; one JSON line out."""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "examples" / "torch"))
from scsdc_mlp import build  # noqa: E402

c = json.loads(sys.argv[1])
cfg = {"model": c["model"], "sparsity": c["sparsity"]}
out = {}
for role, width in (("sparse", c["model"]["width"]), ("dense", c["sparsity"]["dense_width"])):
    net = build(cfg, c["inputs"], c["classes"], width, c["sparsity"]["dense_width"], torch.Generator().manual_seed(3))
    layers = []
    for lin in net.linears:
        mask = getattr(lin, "weight_mask", None)
        w = lin.weight
        layers.append([w.shape[1], w.shape[0], int(mask.sum()) if mask is not None else w.numel(), w.numel(),
                       int((w != 0).sum())])
    out[role] = layers
print(json.dumps(out))
