#!/usr/bin/python3
"""Reference values for the paired difference |tau_a| - |tau_b| of the report's bootstrap table
(docs/statistics.md, "Paired bootstrap of |tau| differences" and "Minimum n ... paired SE").

Input: a per-net table as `gradflow report` writes it (nets.jsonl; default the committed fixture
test/fixtures/stats/paired_difference_nets.jsonl). For every net (sparse, dense), target (test loss,
test accuracy) and resampling unit (run; configuration = the grid point without the seed, a cluster
bootstrap), computed here with numpy and SciPy only:

- the nets that enter: finite measures, loss and accuracy, not blown up (the rule of
  src/study/report/blowup.ts, restated below);
- the resample draws: Mulberry32 seeded with 13, index = floor(u * units), 2000 resamples, units
  in order of first appearance (re-implemented here from the published algorithm);
- on every resample, |tau_b| of each measure (g1, g2, EGF1, EGF2 11-point averages) with the target
  via scipy.stats.kendalltau; a resample with any tau undefined is dropped for every measure;
- best = the largest |tau| on the full sample (first on ties); per measure the mean, the standard
  deviation (ddof = 1: the SE of the paired difference) and the 2.5 / 97.5 % percentiles (numpy's
  linear interpolation) of |tau_m| - |tau_best| over the used resamples.

Writes test/fixtures/stats/paired_difference_reference.json. Needs Debian's SciPy 1.10:

    /usr/bin/python3 scripts/reference/paired_difference.py
"""
import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
from scipy import stats

if not scipy.__version__.startswith("1.10."):
    sys.exit(f"need SciPy 1.10.x (Debian python3-scipy, run /usr/bin/python3), found {scipy.__version__}")

warnings.simplefilter("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "test", "fixtures", "stats")
TABLE = os.path.join(FIX, "paired_difference_nets.jsonl")
OUT = os.path.join(FIX, "paired_difference_reference.json")

MEASURES = ["g1", "g2", "egf1", "egf2"]
RESAMPLES = 2000
SEED = 13
LEVEL = 0.95
M32 = 0xFFFFFFFF


def mulberry32(seed):
    state = seed & M32

    def nxt():
        nonlocal state
        state = (state + 0x6D2B79F5) & M32
        t = state
        t = ((t ^ (t >> 15)) * (t | 1)) & M32
        t = ((t + (((t ^ (t >> 7)) * (t | 61)) & M32)) & M32) ^ t
        return ((t ^ (t >> 14)) & M32) / 4294967296.0

    return nxt


def finite(v):
    return v is not None and math.isfinite(v)


def blown_up(net, twin):
    """blowup.ts: loss > 10 ln K, a flow average > 1e8, or accuracy <= 1/K + 0.05 while the twin >= 1/K + 0.25 (K = 10)."""
    k = 10
    loss, acc = net["final"]["test"]["loss"], net["final"]["test"]["accuracy"]
    if finite(loss) and loss > 10 * math.log(k):
        return True
    if any(finite(net["flowAverage"][m]) and net["flowAverage"][m] > 1e8 for m in MEASURES):
        return True
    twin_acc = twin["final"]["test"]["accuracy"] if twin is not None else None
    return finite(acc) and acc <= 1 / k + 0.05 and finite(twin_acc) and twin_acc >= 1 / k + 0.25


def load(path):
    with open(path) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    return lines[0], lines[1:]


def nets_of(rows, role):
    out = []
    for r in rows:
        nets = {n["net"]: n for n in r["nets"]}
        n = nets.get(role)
        if n is None:
            continue
        vals = [n["final"]["test"]["loss"], n["final"]["test"]["accuracy"]] + [n["flowAverage"][m] for m in MEASURES]
        if not all(finite(v) for v in vals):
            continue
        if blown_up(n, nets.get("dense" if role == "sparse" else "sparse")):
            continue
        config = tuple(sorted((k, json.dumps(v)) for k, v in r["point"].items() if k != "training.seed"))
        out.append({"row": r["runId"], "config": config, "loss": vals[0], "accuracy": vals[1], "x": vals[2:]})
    return out


def abs_tau(x, y):
    t = stats.kendalltau(x, y, variant="b").statistic
    return abs(t) if math.isfinite(t) else None


def bootstrap(nets, target, unit):
    y = np.array([n[target] for n in nets])
    xs = [np.array([n["x"][m] for n in nets]) for m in range(len(MEASURES))]
    if unit == "run":
        members = [[i] for i in range(len(nets))]
    else:
        order, groups = [], {}
        for i, n in enumerate(nets):
            if n["config"] not in groups:
                groups[n["config"]] = []
                order.append(n["config"])
            groups[n["config"]].append(i)
        members = [groups[c] for c in order]
    units = len(members)
    full = [stats.kendalltau(x, y, variant="b").statistic for x in xs]
    best = int(np.argmax(np.abs(full)))  # first on ties, as Gradflow
    nxt = mulberry32(SEED)
    diffs = [[] for _ in MEASURES]
    dropped = 0
    for _ in range(RESAMPLES):
        draw = [int(math.floor(nxt() * units)) for _ in range(units)]
        idx = [i for d in draw for i in members[d]]
        a = [abs_tau(x[idx], y[idx]) for x in xs]
        if any(v is None for v in a):
            dropped += 1
            continue
        for m in range(len(MEASURES)):
            diffs[m].append(a[m] - a[best])
    alpha = (1 - LEVEL) / 2
    measures = []
    for m in range(len(MEASURES)):
        d = np.array(diffs[m])
        measures.append({
            "measure": MEASURES[m],
            "tau": float(full[m]),
            "abs": float(abs(full[m])),
            "meanDiff": float(d.mean()),
            "se": float(d.std(ddof=1)),
            "low": float(np.percentile(d, 100 * alpha)),
            "high": float(np.percentile(d, 100 * (1 - alpha))),
        })
    return {"units": units, "best": best, "resamples": RESAMPLES - dropped, "dropped": dropped, "measures": measures}


def main():
    table = sys.argv[1] if len(sys.argv) > 1 else TABLE
    head, rows = load(table)
    out = {
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "table": os.path.basename(table),
        "resamples": RESAMPLES,
        "seed": SEED,
        "level": LEVEL,
        "cases": [],
    }
    for role in ("sparse", "dense"):
        nets = nets_of(rows, role)
        for target in ("loss", "accuracy"):
            for unit in ("run", "configuration"):
                r = bootstrap(nets, target, unit)
                out["cases"].append({"net": role, "target": target, "unit": unit, "n": len(nets), **r})
                m = r["measures"]
                print(f"{role:6} {target:8} {unit:13} n={len(nets)} units={r['units']} best={MEASURES[r['best']]} dropped={r['dropped']} "
                      + " ".join(f"{x['measure']}:{x['meanDiff']:+.3f}[{x['low']:+.3f},{x['high']:+.3f}]se{x['se']:.3f}" for x in m))
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
