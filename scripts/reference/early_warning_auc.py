#!/usr/bin/python3
"""Reference values for the early warning's AUC (src/study/early-warning/model.ts `auc`):
AUC = U / (n1 n2) with U = scipy.stats.mannwhitneyu(positives' scores, negatives' scores).statistic
(SciPy's U of the first sample: #{pos > neg} + 1/2 #{pos = neg}), on seeded score sets with and
without ties, plus the Kendall tau-b of the rank task on the same scores (scipy.stats.kendalltau).

Writes test/fixtures/stats/early_warning_auc.json. Needs Debian's SciPy 1.10:

    /usr/bin/python3 scripts/reference/early_warning_auc.py
"""
import json
import os
import sys

import numpy as np
import scipy
from scipy import stats

if not scipy.__version__.startswith("1.10."):
    sys.exit(f"need SciPy 1.10.x (Debian python3-scipy, run /usr/bin/python3), found {scipy.__version__}")

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "stats", "early_warning_auc.json")


def case(name, scores, labels, target):
    scores = [float(s) for s in scores]
    labels = [int(l) for l in labels]
    pos = [s for s, l in zip(scores, labels) if l == 1]
    neg = [s for s, l in zip(scores, labels) if l != 1]
    u = stats.mannwhitneyu(pos, neg, alternative="two-sided").statistic
    tau = stats.kendalltau(scores, target, variant="b").statistic
    return {"name": name, "scores": scores, "labels": labels, "target": [float(t) for t in target],
            "auc": float(u / (len(pos) * len(neg))), "tau": float(tau)}


def main():
    rng = np.random.default_rng(22)
    out = {"scipy": scipy.__version__, "numpy": np.__version__, "cases": []}
    # Hand cases: perfect, reversed, all tied, one of each.
    out["cases"].append(case("perfect", [0.1, 0.2, 0.3, 0.9, 1.0], [0, 0, 0, 1, 1], [1, 2, 3, 4, 5]))
    out["cases"].append(case("reversed", [3, 2, 1, 0], [0, 0, 1, 1], [1, 2, 3, 4]))
    out["cases"].append(case("tied scores", [1, 1, 1, 1, 2, 2], [0, 1, 0, 1, 1, 0], [1, 2, 3, 4, 5, 6]))
    out["cases"].append(case("one each", [0.3, 0.7], [1, 0], [0.5, 0.25]))
    for n in (10, 37, 72, 200):
        for rounded in (False, True):
            s = rng.normal(size=n)
            if rounded:
                s = np.round(s, 1)
            lab = (s + rng.normal(scale=1.5, size=n) > 0).astype(int)
            if lab.sum() in (0, n):
                lab[0] = 1 - lab[0]
            target = np.round(0.5 + 0.1 * s + rng.normal(scale=0.1, size=n), 3)
            out["cases"].append(case(f"random n={n}{' rounded' if rounded else ''}", s, lab, target))
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
