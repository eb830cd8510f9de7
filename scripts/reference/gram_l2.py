#!/usr/bin/python3
"""Reference for the Gram-identity raw L2 norm of the sparse path (src/engine/step.ts gramSquaredNorm).

For a layer with input X [B, in] and output gradient D [B, out], the full kernel gradient is
G = X^T D [in, out]; with coupled L2 the raw gradient is G + lam*W (W zero at pruned entries).
This script forms G with PyTorch autograd in float64 (the gradient of sum(D * (X @ W)) w.r.t. W is
X^T D) and writes ||G||_F^2 and ||G + lam*W||_F^2, with the inputs, to
test/fixtures/engine/gram_l2.json. Run: /usr/bin/python3 scripts/reference/gram_l2.py (Debian python3-torch 1.13)
"""
import json
import os
import torch

torch.manual_seed(20261201)
cases = []
for name, B, n_in, n_out, density, lam in [
    ("small", 16, 20, 12, 0.3, 0.0),
    ("relu inputs, coupled L2", 128, 50, 40, 0.1, 1e-3),
    ("batch 37, dense mask, coupled L2", 37, 24, 18, 1.0, 0.05),
]:
    X = torch.randn(B, n_in, dtype=torch.float64)
    if "relu" in name:
        X = torch.relu(X)
    D = torch.randn(B, n_out, dtype=torch.float64) / B
    mask = (torch.rand(n_in, n_out, dtype=torch.float64) < density).to(torch.float64)
    # Float32-representable inputs: the engine works in float32.
    X = X.to(torch.float32).to(torch.float64)
    D = D.to(torch.float32).to(torch.float64)
    W = (torch.randn(n_in, n_out, dtype=torch.float64) * mask).to(torch.float32).to(torch.float64)
    Wv = W.clone().requires_grad_(True)
    (D * (X @ Wv)).sum().backward()
    G = Wv.grad
    raw = G + lam * W
    cases.append({
        "name": name,
        "B": B, "n_in": n_in, "n_out": n_out, "lam": lam,
        "x": X.flatten().tolist(), "d": D.flatten().tolist(),
        "w": W.flatten().tolist(), "mask": mask.flatten().tolist(),
        "g_sq": float((G * G).sum()),
        "raw_sq": float((raw * raw).sum()),
        "raw_l1": float(raw.abs().sum()),
    })

out = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "engine", "gram_l2.json")
with open(out, "w") as f:
    json.dump({"generator": "scripts/reference/gram_l2.py", "torch": torch.__version__, "cases": cases}, f)
print("wrote", os.path.normpath(out))
