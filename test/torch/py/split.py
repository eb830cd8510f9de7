#!/usr/bin/python3
"""Driver for test/torch/examples.test.ts: examples/torch/fmnist_data.py's split_indices for the
cases given as JSON on argv[1]; one JSON line out."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "examples" / "torch"))
from fmnist_data import split_indices  # noqa: E402

out = []
for c in json.loads(sys.argv[1]):
    tr, va, nt = split_indices(c["nTrain"], c["nTest"], c["seed"], c["f"], c.get("trainLimit"), c.get("testLimit"))
    out.append({"train": tr.tolist(), "validation": va.tolist(), "test": nt})
print(json.dumps(out))
