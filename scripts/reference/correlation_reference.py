#!/usr/bin/python3
"""Reference values for Gradflow's correlation statistics (src/study/stats/correlation.ts).

Computes, independently of the TypeScript code and with SciPy's kendalltau (tau-b) for every
tau, the granulated Kendall coefficient (Jiang et al. 2019), the partial Kendall tau and the paired
bootstrap of |tau| differences, on seeded synthetic data, and writes
test/fixtures/stats/correlation_reference.json. test/study/stats/correlation.test.ts loads it and
requires agreement to 1e-9.

    /usr/bin/python3 scripts/reference/correlation_reference.py

The bootstrap resample indices are part of the fixture: they are drawn here by a re-implementation
of Gradflow's seeded generator (Mulberry32, index = floor(u * n)), so the test checks both that the
TypeScript generator draws these very indices and that, given them, the bootstrap agrees.

Definitions (docs/statistics.md):
- granulated: for each axis i with at least two values, group the runs by the values of every
  other axis plus the seed; in each group with >= 2 runs and a defined tau-b, tau-b(x, y); m_i =
  mean over those groups; psi = mean of m_i over the axes with at least one group.
- within-level: mean tau-b over the levels of z (levels with >= 2 runs and a defined tau).
- partial: (t_xy - t_xz t_yz) / sqrt((1 - t_xz^2)(1 - t_yz^2)), each t a tau-b.
- bootstrap: best = argmax |stat| on the full sample (first on ties); per resample the |stat| of
  every measure on the same indices; resamples where any stat is NaN are dropped; for each
  measure the percentile interval (numpy linear interpolation) of |stat_m| - |stat_best| at
  (1 - level)/2 and (1 + level)/2.
"""

import itertools
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
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "stats", "correlation_reference.json")

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


def bootstrap_indices(n, resamples, seed):
    nxt = mulberry32(seed)
    return [[int(math.floor(nxt() * n)) for _ in range(n)] for _ in range(resamples)]


def tau(x, y):
    """SciPy tau-b; None when undefined (constant input)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) < 2:
        return None
    t = stats.kendalltau(x, y).statistic
    return float(t) if math.isfinite(t) else None


def partial(x, y, z):
    txy, txz, tyz = tau(x, y), tau(x, z), tau(y, z)
    if txy is None or txz is None or tyz is None:
        return None, txy, txz, tyz
    den = (1 - txz * txz) * (1 - tyz * tyz)
    if not den > 0:
        return None, txy, txz, tyz
    return max(-1.0, min(1.0, (txy - txz * tyz) / math.sqrt(den))), txy, txz, tyz


def granulated(x, y, axes, replicate):
    n = len(x)
    out = []
    for ai, (name, values) in enumerate(axes):
        levels = len(set(values))
        if levels < 2:
            out.append({"name": name, "levels": levels, "status": "single-valued", "groups": 0, "runs": 0, "skippedGroups": 0, "tau": None})
            continue
        groups = {}
        for r in range(n):
            key = tuple(v[r] for j, (_, v) in enumerate(axes) if j != ai) + ((replicate[r],) if replicate is not None else ())
            groups.setdefault(key, []).append(r)
        taus, runs, skipped = [], 0, 0
        for idx in groups.values():
            t = tau([x[i] for i in idx], [y[i] for i in idx]) if len(idx) >= 2 else None
            if t is None:
                skipped += 1
                continue
            taus.append(t)
            runs += len(idx)
        if not taus:
            out.append({"name": name, "levels": levels, "status": "no-groups", "groups": 0, "runs": 0, "skippedGroups": skipped, "tau": None})
        else:
            out.append({"name": name, "levels": levels, "status": "used", "groups": len(taus), "runs": runs, "skippedGroups": skipped, "tau": float(np.mean(taus))})
    used = [a["tau"] for a in out if a["status"] == "used"]
    return {"psi": float(np.mean(used)) if used else None, "axes": out}


def within_level(x, y, levels):
    byl = {}
    for i, l in enumerate(levels):
        byl.setdefault(l, []).append(i)
    taus = []
    for idx in byl.values():
        t = tau([x[i] for i in idx], [y[i] for i in idx]) if len(idx) >= 2 else None
        if t is not None:
            taus.append(t)
    return float(np.mean(taus)) if taus else None


def bootstrap(measures, target, indices, control=None, level=0.95):
    def stat(x, idx):
        xs = [x[i] for i in idx]
        ys = [target[i] for i in idx]
        if control is None:
            t = tau(xs, ys)
        else:
            t = partial(xs, ys, [control[i] for i in idx])[0]
        return math.nan if t is None else t

    n = len(target)
    full = [stat(m, range(n)) for m in measures]
    best = 0
    for i, t in enumerate(full):
        if abs(t) > abs(full[best]):
            best = i
    diffs = [[] for _ in measures]
    dropped = 0
    for idx in indices:
        a = [abs(stat(m, idx)) for m in measures]
        if any(math.isnan(v) for v in a):
            dropped += 1
            continue
        for i, v in enumerate(a):
            diffs[i].append(v - a[best])
    alpha = (1 - level) / 2
    res = []
    for i, d in enumerate(diffs):
        d = np.array(d)
        res.append({
            "tau": full[i], "abs": abs(full[i]), "meanDiff": float(d.mean()),
            "low": float(np.percentile(d, 100 * alpha)), "high": float(np.percentile(d, 100 * (1 - alpha))),
        })
    tied = [i for i, m in enumerate(res) if i == best or m["high"] >= 0]
    return {"best": best, "measures": res, "resamples": len(indices) - dropped, "dropped": dropped,
            "verdict": "best" if len(tied) == 1 else "indistinguishable", "tied": tied}


def r6(a):
    return [float(v) for v in np.round(np.asarray(a, dtype=float), 6)]


def main():
    rng = np.random.default_rng(20190613)
    out = {"scipy": scipy.__version__, "numpy": np.__version__, "granulated": [], "partial": [], "withinLevel": [], "bootstrap": [], "mulberry32": []}

    # Generator check: raw uniforms for a few seeds (incl. 0 and a negative seed's uint32 form).
    for seed in (0, 13, 20190613, 4294967295):
        nxt = mulberry32(seed)
        out["mulberry32"].append({"seed": seed, "values": [nxt() for _ in range(8)]})

    # Granulated cases: a full grid (3 x 2 x 4 levels, 2 seeds), with data that depend on the axes.
    def grid_case(name, levels, seeds, drop=(), constant_group=False, single=False, integer=False):
        axes_vals = {k: [] for k in levels}
        seed_vals, xs, ys = [], [], []
        combos = list(itertools.product(*levels.values(), seeds))
        for combo in combos:
            if combo in drop:
                continue
            for k, v in zip(levels, combo):
                axes_vals[k].append(str(v))
            seed_vals.append(str(combo[-1]))
            effect = sum((i + 1) * (sum(map(ord, str(v))) % 7) for i, v in enumerate(combo[:-1]))
            x = rng.normal(effect * 0.1, 1.0)
            y = 0.5 * x + rng.normal(0, 1.0)
            if integer:
                x, y = round(x), round(y)
            xs.append(float(np.round(x, 6)))
            ys.append(float(np.round(y, 6)))
        if constant_group:
            # make y constant in the first group of the first axis: all runs sharing the other axes' first values and seed 0
            first = [i for i in range(len(xs)) if all(axes_vals[k][i] == str(list(levels[k])[0]) for k in list(levels)[1:]) and seed_vals[i] == str(seeds[0])]
            for i in first:
                ys[i] = 1.0
        axes = [(k, axes_vals[k]) for k in levels]
        if single:
            axes.append(("constant.axis", ["same"] * len(xs)))
        for rep in (seed_vals, None):
            out["granulated"].append({
                "name": f"{name}{'' if rep is not None else ' (no replicate)'}",
                "x": xs, "y": ys, "axes": [{"name": k, "values": v} for k, v in axes],
                "replicate": rep, "expected": granulated(xs, ys, axes, rep),
            })

    grid_case("3x2x4 grid, 2 seeds", {"training.optimizer": ["sgd", "adam", "momentum"], "model.batch_norm": [False, True], "sparsity.dense_width": [50, 150, 250, 350]}, [0, 1])
    grid_case("3x2x4 grid, 2 seeds, integer ties", {"training.optimizer": ["sgd", "adam", "momentum"], "model.batch_norm": [False, True], "sparsity.dense_width": [50, 150, 250, 350]}, [0, 1], integer=True)
    grid_case("2x5 grid, 3 seeds, a single-valued axis, a constant group", {"training.learning_rate": [0.1, 0.001], "sparsity.dense_width": [50, 150, 250, 350, 450]}, [0, 1, 2], constant_group=True, single=True)
    grid_case("2x3x3 grid, 1 seed, missing runs", {"a": ["p", "q"], "b": [1, 2, 3], "c": ["u", "v", "w"]}, [0],
              drop={("p", 1, "u", 0), ("q", 2, "v", 0), ("q", 2, "w", 0), ("p", 3, "v", 0), ("q", 3, "u", 0), ("q", 3, "v", 0), ("q", 3, "w", 0)})

    # Partial tau and within-level tau: continuous, tied, and a z that tracks x strongly.
    for n, kind in ((8, "continuous"), (30, "continuous"), (30, "z levels"), (60, "ties"), (180, "z levels")):
        z = rng.integers(0, 5, n).astype(float) if kind == "z levels" else np.round(rng.normal(0, 1, n), 6)
        x = np.round(0.8 * z + rng.normal(0, 1, n), 6)
        y = np.round(-0.5 * z + 0.3 * x + rng.normal(0, 1, n), 6)
        if kind == "ties":
            x, y, z = np.round(x), np.round(y), np.round(z)
        p, txy, txz, tyz = partial(x, y, z)
        out["partial"].append({"name": f"{kind} n={n}", "x": r6(x), "y": r6(y), "z": r6(z), "tau": p, "tauXY": txy, "tauXZ": txz, "tauYZ": tyz})
        if kind == "z levels":
            levels = [str(int(v)) for v in z]
            out["withinLevel"].append({"name": f"{kind} n={n}", "x": r6(x), "y": r6(y), "levels": levels, "tau": within_level(list(x), list(y), levels)})

    # Bootstrap cases: 4 measures vs a target, with fixed indices from the shared generator.
    def boot_case(name, n, resamples, seed, control=False, strong=0, strength=0.9):
        z = rng.integers(0, 5, n).astype(float)
        y = np.round(rng.normal(0, 1, n) - 0.4 * z, 6)
        measures = []
        for k in range(4):
            m = (strength if k == strong else 0.25) * y + (0.6 if k == 2 else 0) * z + rng.normal(0, 1, n)
            measures.append(r6(m))
        indices = bootstrap_indices(n, resamples, seed)
        exp = bootstrap(measures, list(y), indices, control=list(z) if control else None)
        out["bootstrap"].append({"name": name, "measures": measures, "target": r6(y), "control": list(map(float, z)) if control else None,
                                 "seed": seed, "resamples": resamples, "indices": indices, "level": 0.95, "expected": exp})

    boot_case("n=40, 2000 resamples, one clearly strongest measure", 40, 2000, 13, strong=1, strength=4.0)
    boot_case("n=28, 2000 resamples, one stronger measure", 28, 2000, 21, strong=2)
    boot_case("n=20, 2000 resamples, partial tau given a 5-level control", 20, 2000, 7, control=True, strong=3)
    boot_case("n=12, 500 resamples, indistinguishable", 12, 500, 99, strong=-1)

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)}: {len(out['granulated'])} granulated, {len(out['partial'])} partial, {len(out['withinLevel'])} within-level, {len(out['bootstrap'])} bootstrap cases")


if __name__ == "__main__":
    main()
