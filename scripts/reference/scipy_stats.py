#!/usr/bin/python3
"""Reference values for Gradflow's statistics library (src/study/stats/).

Generates test cases (hand-picked edge cases + seeded random data), runs SciPy on them and writes
test/fixtures/stats/scipy_reference.json (inputs, SciPy outputs, versions). The TypeScript tests in
test/study/stats/ load that file and must agree to 1e-6.

Run with Debian's SciPy 1.10 (the version the library mirrors), not a newer pip SciPy:

    apt-get install -y python3-scipy python3-statsmodels
    /usr/bin/python3 scripts/reference/scipy_stats.py

(statsmodels 0.13 provides the Holm reference: multipletests(method='holm').)

The script refuses to run with another SciPy minor version, because the 'auto' rules of wilcoxon /
mannwhitneyu / kendalltau changed after 1.10.

Conventions of the fixture (what the TS tests rely on):
- every case carries the exact keyword arguments given to SciPy (`kwargs`);
- wilcoxon: SciPy 1.10 'auto' with ties among |d| (and no zeros) uses the exact no-ties
  distribution on a truncated mid-rank sum; Gradflow uses the normal approximation there instead
  (docs/statistics.md). Tied inputs are therefore generated with method='approx' explicitly, and
  'auto' is only used for inputs without ties or with zeros, where both implementations agree.
- cases with `exact_max_n` check Gradflow's `exactMaxN` option against SciPy with the
  corresponding explicit method.
"""

import json
import math
import os
import platform
import sys
import warnings

import numpy as np
import scipy
from scipy import special, stats
from statsmodels.stats.multitest import multipletests
import statsmodels

if not scipy.__version__.startswith("1.10."):
    sys.exit(f"need SciPy 1.10.x (Debian python3-scipy, run /usr/bin/python3), found {scipy.__version__} at {scipy.__file__}")

warnings.simplefilter("ignore")  # SciPy warns on small-n approximations and zero switching

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "stats", "scipy_reference.json")


def fl(v):
    """Plain float for JSON; NaN/inf become None (the TS side treats None as 'not reported')."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def lst(a):
    return [float(v) for v in np.asarray(a, dtype=float)]


def rnd(rng, n, decimals=6, loc=0.0, scale=1.0):
    """Continuous data rounded so that JSON round-trips exactly and x - y is identical in TS."""
    return np.round(rng.normal(loc, scale, n), decimals)


# ---------------------------------------------------------------------------------------------
# Kendall tau-b
# ---------------------------------------------------------------------------------------------

kendall = []


def add_kendall(name, x, y, method="auto", alternative="two-sided"):
    x, y = lst(x), lst(y)
    res = stats.kendalltau(x, y, method=method, alternative=alternative)
    if not math.isfinite(res.statistic) or not math.isfinite(res.pvalue):
        raise RuntimeError(f"kendall case {name} is degenerate in SciPy")
    kendall.append({
        "name": name, "x": x, "y": y,
        "kwargs": {"method": method, "alternative": alternative},
        "statistic": fl(res.statistic), "pvalue": fl(res.pvalue),
    })


def kendall_cases():
    alts = ["two-sided", "greater", "less"]
    # hand-picked
    add_kendall("scipy docstring example", [12, 2, 1, 12, 2], [1, 4, 7, 1, 0])
    add_kendall("perfect order n=5", [1, 2, 3, 4, 5], [1, 2, 3, 4, 5])
    add_kendall("reverse order n=5", [1, 2, 3, 4, 5], [5, 4, 3, 2, 1])
    add_kendall("n=2", [1, 2], [2, 1])
    add_kendall("n=3 one swap", [1, 2, 3], [1, 3, 2])
    add_kendall("ties in x only", [1, 1, 2, 3, 4, 4, 5], [3, 1, 2, 5, 4, 6, 7])
    add_kendall("ties in y only", [1, 2, 3, 4, 5, 6, 7], [1, 1, 1, 2, 2, 3, 3])
    add_kendall("joint ties", [1, 1, 2, 2, 3, 3, 4], [1, 1, 2, 2, 1, 3, 3])
    add_kendall("heavy ties binary", [0, 0, 0, 1, 1, 1, 0, 1, 0, 1], [0, 1, 0, 1, 1, 1, 0, 0, 0, 1])
    add_kendall("tau exactly zero, n=4", [1, 2, 3, 4], [2, 4, 1, 3])
    for alt in alts:
        add_kendall(f"docstring example {alt}", [12, 2, 1, 12, 2], [1, 4, 7, 1, 0], alternative=alt)
        add_kendall(f"n=6 untied {alt}", [1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5], alternative=alt)
        add_kendall(f"n=4 centre {alt}", [1, 2, 3, 4], [2, 4, 1, 3], alternative=alt)
    # exact/asymptotic boundary n = 1..40 (auto: exact iff no ties and n <= 33)
    rng = np.random.default_rng(1001)
    for n in range(3, 41):
        x = rnd(rng, n)
        y = np.round(0.4 * x + rnd(rng, n), 6)
        add_kendall(f"random untied n={n}", x, y)
        if n in (5, 12, 20, 33, 34, 40):
            for alt in ("greater", "less"):
                add_kendall(f"random untied n={n} {alt}", x, y, alternative=alt)
            add_kendall(f"random untied n={n} asymptotic", x, y, method="asymptotic")
    for n in (10, 25, 33, 34, 60):
        xi = rng.integers(0, 4, n)
        yi = xi + rng.integers(0, 3, n)
        add_kendall(f"random integer ties n={n}", xi, yi)
        add_kendall(f"random integer ties n={n} greater", xi, yi, alternative="greater")
    # min(dis, tot - dis) <= 1 keeps 'exact' above n = 33
    for n in (40, 50, 120, 175, 200):
        x = np.arange(n, dtype=float)
        add_kendall(f"perfect order n={n}", x, x)
        y = x.copy()
        y[[3, 4]] = y[[4, 3]]
        add_kendall(f"one adjacent swap n={n}", x, y)
        add_kendall(f"reverse one swap n={n} greater", x, -y, alternative="greater")
    # explicit exact above the auto range, including SciPy's n >= 171 scaled recurrence
    for n, seed in ((45, 1), (80, 2), (175, 3)):
        r = np.random.default_rng(seed)
        x = rnd(r, n)
        y = np.round(0.1 * x + rnd(r, n), 6)
        for alt in alts:
            add_kendall(f"explicit exact n={n} {alt}", x, y, method="exact", alternative=alt)
    # large samples (study size: ~600 runs per dataset)
    for n, seed in ((100, 11), (100, 12), (600, 13), (2000, 14)):
        r = np.random.default_rng(seed)
        x = rnd(r, n)
        y = np.round(-0.2 * x + rnd(r, n), 6)
        add_kendall(f"random n={n} seed={seed}", x, y)
        add_kendall(f"random n={n} seed={seed} less", x, y, alternative="less")
        add_kendall(f"random rounded ties n={n} seed={seed}", np.round(x, 1), np.round(y, 1))


# ---------------------------------------------------------------------------------------------
# Wilcoxon signed-rank
# ---------------------------------------------------------------------------------------------

wilcoxon = []


def d_has_ties(d):
    nz = np.abs(np.asarray(d, dtype=float))
    nz = nz[nz != 0]
    return len(np.unique(nz)) < len(nz)


def wilcoxon_rank_biserial(d, zero_method):
    """Matched-pairs rank-biserial r = (R+ - R-)/(R+ + R-) (Kerby 2014), ranks as SciPy's wilcoxon."""
    d = np.asarray(d, dtype=float)
    if zero_method == "wilcox":
        d = d[d != 0]
    r = stats.rankdata(np.abs(d))
    r_plus = float(np.sum(r[d > 0]))
    r_minus = float(np.sum(r[d < 0]))
    if zero_method == "zsplit":
        r_zero = float(np.sum(r[d == 0]))
        r_plus += r_zero / 2
        r_minus += r_zero / 2
    tot = r_plus + r_minus
    return (r_plus - r_minus) / tot if tot > 0 else None


def add_wilcoxon(name, x, y=None, zero_method="wilcox", correction=False, alternative="two-sided",
                 method="auto", exact_max_n=None):
    x = lst(x)
    y = None if y is None else lst(y)
    d = np.asarray(x) - (0 if y is None else np.asarray(y))
    n_zero = int(np.sum(d == 0))
    if method == "auto" and d_has_ties(d) and n_zero == 0 and len(d) <= 50:
        raise RuntimeError(f"wilcoxon case {name}: tied |d| under 'auto' — use method='approx' (see module doc)")
    scipy_method = method
    if exact_max_n is not None:
        # Gradflow's auto with exactMaxN: exact iff n <= exactMaxN and no zeros and no ties
        scipy_method = "exact" if (len(d) <= exact_max_n and n_zero == 0 and not d_has_ties(d)) else "approx"
    res = stats.wilcoxon(x, y, zero_method=zero_method, correction=correction,
                         alternative=alternative, method=scipy_method)
    used = scipy_method
    if used == "auto":
        used = "exact" if (len(d) <= 50 and n_zero == 0) else "approx"
    elif used == "exact" and n_zero > 0:
        used = "approx"
    case = {
        "name": name, "x": x, "y": y,
        "kwargs": {"zero_method": zero_method, "correction": correction,
                   "alternative": alternative, "method": scipy_method},
        "ts_method": method,
        "exact_max_n": exact_max_n,
        "method_used": used,
        "statistic": fl(res.statistic), "pvalue": fl(res.pvalue),
        # SciPy 1.10 reports z only when method='approx' is requested explicitly
        "zstatistic": fl(getattr(res, "zstatistic", None)),
        "rank_biserial": wilcoxon_rank_biserial(d, zero_method),
    }
    wilcoxon.append(case)


def wilcoxon_cases():
    alts = ["two-sided", "greater", "less"]
    zms = ["wilcox", "pratt", "zsplit"]
    # hand-picked
    d_doc = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75]  # SciPy docstring (Fisher)
    for alt in alts:
        add_wilcoxon(f"fisher docstring exact {alt}", d_doc, alternative=alt)
        add_wilcoxon(f"fisher docstring approx {alt}", d_doc, alternative=alt, method="approx")
        add_wilcoxon(f"fisher docstring approx corrected {alt}", d_doc, alternative=alt, method="approx",
                     correction=True)
    add_wilcoxon("n=1 positive", [0.5])
    add_wilcoxon("n=1 positive greater", [0.5], alternative="greater")
    add_wilcoxon("n=2", [1.0, -2.0])
    add_wilcoxon("all positive n=6 greater", [1, 2, 3, 4, 5, 6.5], alternative="greater")
    add_wilcoxon("all negative n=6 less", [-1, -2, -3, -4, -5, -6.5], alternative="less")
    add_wilcoxon("centre of distribution n=4", [1, -2, -3, 4])
    add_wilcoxon("paired x,y n=8", [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06],
                 [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14])
    add_wilcoxon("paired x,y n=8 greater", [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06],
                 [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14], alternative="greater")
    # zeros and ties: every zero_method x alternative x correction
    d_zero_ties = [0, 0, 1, -1, 2, 2, -3, 4, 4, 4, 5, -6, 7, 0, 8, 9, -2, 3]
    d_zero = [0, 1.5, -0.5, 2.25, 3.0, -4.0, 5.5, 0, 6.0, 7.0, 8.25, 9.0]
    d_ties = [1, 1, -1, 2, 2, 3, -3, 3, 4, 5, 6, 6, 7, -8, 9]
    for alt in alts:
        for zm in zms:
            for corr in (False, True):
                add_wilcoxon(f"zeros+ties {zm} corr={corr} {alt}", d_zero_ties, zero_method=zm,
                             correction=corr, alternative=alt)
                add_wilcoxon(f"zeros only {zm} corr={corr} {alt}", d_zero, zero_method=zm,
                             correction=corr, alternative=alt)
                add_wilcoxon(f"ties only {zm} corr={corr} {alt}", d_ties, zero_method=zm,
                             correction=corr, alternative=alt, method="approx")
    add_wilcoxon("all zero zsplit", [0, 0, 0, 0, 0, 0], zero_method="zsplit")
    add_wilcoxon("single non-zero among zeros wilcox", [0, 0, 0, 2.0])
    add_wilcoxon("single non-zero among zeros pratt", [0, 0, 0, 2.0], zero_method="pratt")
    add_wilcoxon("all |d| equal (one tie group)", [1, 1, -1, 1, 1, -1, 1, 1, 1, 1, 1, 1], method="approx")
    add_wilcoxon("all |d| equal greater corrected", [1, 1, -1, 1, 1, -1, 1, 1, 1, 1, 1, 1], method="approx",
                 alternative="greater", correction=True)
    # exact/asymptotic boundary: n = 1..60 untied, auto (SciPy 1.10: exact iff n <= 50, no zeros)
    rng = np.random.default_rng(2002)
    for n in range(1, 61):
        x = rnd(rng, n, loc=0.3)
        y = rnd(rng, n)
        if d_has_ties(x - y):
            continue
        add_wilcoxon(f"random untied n={n}", x, y)
        if n in (5, 10, 24, 25, 26, 30, 50, 51):
            for alt in ("greater", "less"):
                add_wilcoxon(f"random untied n={n} {alt}", x, y, alternative=alt)
                add_wilcoxon(f"random untied n={n} {alt} approx corrected", x, y, alternative=alt,
                             method="approx", correction=True)
        if 20 <= n <= 30:
            # method.md §4 asks for exact only up to n = 25
            add_wilcoxon(f"random untied n={n} exactMaxN=25 greater", x, y, alternative="greater",
                         exact_max_n=25)
            add_wilcoxon(f"random untied n={n} exactMaxN=25 corrected", x, y, correction=True,
                         exact_max_n=25)
    # ties/zeros from rounding (accuracy values on a test set of 1000 images are multiples of 0.001)
    for n, seed in ((10, 21), (25, 22), (26, 23), (30, 24), (100, 25), (300, 26)):
        r = np.random.default_rng(seed)
        base = r.uniform(0.80, 0.95, n)
        sparse = np.round(base + r.normal(0.003, 0.004, n), 3)
        dense = np.round(base, 3)
        d = sparse - dense
        meth = "approx" if (d_has_ties(d) and not np.any(d == 0)) else "auto"
        for alt in alts:
            for zm in zms:
                add_wilcoxon(f"rounded accuracies n={n} seed={seed} {zm} {alt}", sparse, dense,
                             zero_method=zm, alternative=alt, method=meth, correction=(alt != "two-sided"))
    # large continuous samples
    for n, seed in ((100, 31), (100, 32), (1000, 33)):
        r = np.random.default_rng(seed)
        x = rnd(r, n, loc=0.1)
        y = rnd(r, n)
        for alt in alts:
            add_wilcoxon(f"random n={n} seed={seed} {alt}", x, y, alternative=alt)
            add_wilcoxon(f"random n={n} seed={seed} {alt} corrected", x, y, alternative=alt, correction=True)
    # strong effect: tiny p-values
    r = np.random.default_rng(41)
    add_wilcoxon("strong effect n=40 exact greater", rnd(r, 40, loc=3.0), alternative="greater")
    add_wilcoxon("strong effect n=200 approx greater", rnd(r, 200, loc=3.0), alternative="greater")
    add_wilcoxon("strong effect n=200 approx less", rnd(r, 200, loc=3.0), alternative="less")


# ---------------------------------------------------------------------------------------------
# Mann-Whitney U
# ---------------------------------------------------------------------------------------------

mwu = []


def add_mwu(name, x, y, use_continuity=True, alternative="two-sided", method="auto"):
    x, y = lst(x), lst(y)
    res = stats.mannwhitneyu(x, y, use_continuity=use_continuity, alternative=alternative, method=method)
    pooled = np.concatenate([x, y])
    ties = len(np.unique(pooled)) < len(pooled)
    if method == "exact" and ties:
        raise RuntimeError(f"mwu case {name}: exact with ties is not supported by Gradflow")
    used = method
    if used == "auto":
        used = "exact" if ((len(x) <= 8 or len(y) <= 8) and not ties) else "asymptotic"
    mwu.append({
        "name": name, "x": x, "y": y,
        "kwargs": {"use_continuity": use_continuity, "alternative": alternative, "method": method},
        "method_used": used,
        "statistic": fl(res.statistic), "pvalue": fl(res.pvalue),
        # common-language effect size U1/(n1 n2) from SciPy's U1
        "common_language": fl(res.statistic / (len(x) * len(y))),
    })


def mwu_cases():
    alts = ["two-sided", "greater", "less"]
    males = [19, 22, 16, 29, 24]  # SciPy docstring
    females = [20, 11, 17, 12]
    for alt in alts:
        add_mwu(f"docstring exact {alt}", males, females, alternative=alt)
        add_mwu(f"docstring asymptotic {alt}", males, females, alternative=alt, method="asymptotic")
        add_mwu(f"docstring asymptotic no continuity {alt}", males, females, alternative=alt,
                method="asymptotic", use_continuity=False)
    add_mwu("n1=n2=1", [1.0], [2.0])
    add_mwu("n1=1 n2=5 greater", [10.0], [1, 2, 3, 4, 5], alternative="greater")
    add_mwu("complete separation 8 vs 8", range(8), range(10, 18))
    add_mwu("complete separation 8 vs 8 less", range(8), range(10, 18), alternative="less")
    add_mwu("ties across samples", [1, 2, 2, 3, 4, 4, 5], [2, 3, 3, 4, 6, 7])
    add_mwu("ties across samples greater no continuity", [1, 2, 2, 3, 4, 4, 5], [2, 3, 3, 4, 6, 7],
            alternative="greater", use_continuity=False)
    add_mwu("heavy ties binary", [0, 0, 1, 1, 1, 1, 1, 0, 1, 1], [0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1])
    rng = np.random.default_rng(3003)
    # exact/asymptotic boundary: sizes around 8
    for n1 in (1, 2, 3, 5, 7, 8, 9, 10):
        for n2 in (1, 4, 8, 9, 12):
            x = rnd(rng, n1, loc=0.5)
            y = rnd(rng, n2)
            add_mwu(f"random {n1} vs {n2}", x, y)
            if (n1, n2) in ((5, 8), (8, 9), (9, 9), (3, 12)):
                for alt in ("greater", "less"):
                    add_mwu(f"random {n1} vs {n2} {alt}", x, y, alternative=alt)
                    add_mwu(f"random {n1} vs {n2} {alt} asymptotic", x, y, alternative=alt, method="asymptotic")
    # explicit exact beyond the auto range, and exact with one small sample vs a big one
    # (40, 50) and (30, 30): counts exceed 2^53, checks the floating-point Gaussian-binomial recurrence
    for n1, n2, seed in ((10, 12, 1), (15, 15, 2), (4, 200, 3), (8, 60, 4), (20, 25, 5), (40, 50, 6)):
        r = np.random.default_rng(seed)
        x = rnd(r, n1, loc=0.4)
        y = rnd(r, n2)
        for alt in alts:
            add_mwu(f"explicit exact {n1} vs {n2} {alt}", x, y, alternative=alt, method="exact")
    # rounded (tied) accuracies, large samples
    for n1, n2, seed in ((30, 30, 11), (100, 100, 12), (300, 280, 13)):
        r = np.random.default_rng(seed)
        x = np.round(r.uniform(0.80, 0.95, n1) + 0.004, 2)
        y = np.round(r.uniform(0.80, 0.95, n2), 2)
        for alt in alts:
            add_mwu(f"rounded {n1} vs {n2} {alt}", x, y, alternative=alt)
        add_mwu(f"continuous {n1} vs {n2}", rnd(r, n1, loc=0.2), rnd(r, n2))
    r = np.random.default_rng(21)
    add_mwu("strong effect 60 vs 60 greater", rnd(r, 60, loc=4.0), rnd(r, 60), alternative="greater")
    add_mwu("strong effect 6 vs 7 greater (exact)", rnd(r, 6, loc=4.0), rnd(r, 7), alternative="greater")
    x, y = rnd(r, 30, loc=1.5), rnd(r, 30)
    for alt in alts:
        add_mwu(f"strong effect 30 vs 30 exact {alt}", x, y, alternative=alt, method="exact")
    add_mwu("complete separation 30 vs 30 exact", np.arange(30) + 100.0, np.arange(30), alternative="greater",
            method="exact")


# ---------------------------------------------------------------------------------------------
# Paired t-test
# ---------------------------------------------------------------------------------------------

ttest = []


def add_ttest(name, x, y, alternative="two-sided"):
    x, y = lst(x), lst(y)
    res = stats.ttest_rel(x, y, alternative=alternative)
    ttest.append({
        "name": name, "x": x, "y": y, "kwargs": {"alternative": alternative},
        "statistic": fl(res.statistic), "pvalue": fl(res.pvalue), "df": fl(res.df),
        "mean_difference": fl(res._estimate), "standard_error": fl(res._standard_error),
        # Cohen's d_z = mean(d) / sd(d, ddof=1)
        "cohens_dz": fl(np.mean(np.subtract(x, y)) / np.std(np.subtract(x, y), ddof=1)),
    })


def ttest_cases():
    alts = ["two-sided", "greater", "less"]
    for alt in alts:
        add_ttest(f"n=2 {alt}", [1.0, 2.0], [0.5, 0.7], alternative=alt)
        add_ttest(f"n=3 {alt}", [1.0, 2.0, 3.5], [0.5, 2.7, 1.0], alternative=alt)
        add_ttest(f"student sleep {alt}", [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0],
                  [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4], alternative=alt)
    rng = np.random.default_rng(4004)
    for n in (4, 5, 8, 10, 15, 20, 25, 30, 50, 100, 600, 2000):
        x = rnd(rng, n, loc=0.2)
        y = rnd(rng, n)
        for alt in alts:
            add_ttest(f"random n={n} {alt}", x, y, alternative=alt)
    for n, shift in ((10, 3.0), (50, 2.0), (200, 1.0), (30, -2.5)):
        x = rnd(rng, n, loc=shift)
        y = rnd(rng, n)
        for alt in alts:
            add_ttest(f"strong effect n={n} shift={shift} {alt}", x, y, alternative=alt)


# ---------------------------------------------------------------------------------------------
# Special functions
# ---------------------------------------------------------------------------------------------

holm = []


def add_holm(name, pvals, alpha=0.05):
    pvals = [float(p) for p in pvals]
    reject, adjusted, _, _ = multipletests(pvals, alpha=alpha, method="holm")
    holm.append({"name": name, "pvalues": pvals, "alpha": alpha,
                 "adjusted": [float(v) for v in adjusted], "reject": [bool(v) for v in reject]})


def holm_cases():
    add_holm("single", [0.03])
    add_holm("hand example", [0.01, 0.04, 0.03, 0.005])
    add_holm("ties", [0.01, 0.01, 0.01, 0.2])
    add_holm("exact zeros and ones", [0.0, 1.0, 0.5, 0.0, 1e-300])
    add_holm("boundary alpha/m", [0.0125, 0.05 / 3, 0.025, 0.05])
    add_holm("capped", [0.5, 0.6, 0.7, 0.01])
    add_holm("alpha 0.1", [0.02, 0.03, 0.04, 0.05, 0.2], alpha=0.1)
    add_holm("alpha 0.01", [0.001, 0.002, 0.0049, 0.3], alpha=0.01)
    rng = np.random.default_rng(5005)
    for m in (2, 3, 8, 16, 40, 100):
        # mixture: some true effects (tiny p) and nulls (uniform)
        k = m // 3
        p = np.concatenate([rng.uniform(0, 0.01, k) ** 2, rng.uniform(0, 1, m - k)])
        rng.shuffle(p)
        add_holm(f"random m={m}", p)


def special_cases():
    xs = sorted(set([-6, -3, -2.5, -2.0001, -2, -1.9999, -1, -0.5, -1e-8, 0, 1e-10, 0.1, 0.5, 1, 1.5,
                     1.9999, 2, 2.0001, 2.5, 3, 4, 5, 6, 8, 10, 15, 20, 25, 26.5]))
    erfc = [[x, float(special.erfc(x))] for x in xs]
    zs = sorted(set([-38, -30, -20, -10, -8.3, -5, -3, -1.96, -1, -0.1, 0, 0.1, 1, 1.6449, 1.96, 3, 5, 10, 20, 37]))
    ndtr = [[z, float(special.ndtr(z))] for z in zs]
    stdtr = []
    for df in (1, 2, 3, 4, 5, 7, 9, 10, 19, 29, 30, 49, 99, 199, 599, 999, 4999):
        for t in (-1e4, -200, -50, -20, -10, -6, -4, -3, -2, -1.5, -1, -0.5, -0.1, -1e-6, 0, 0.3, 1, 2.5, 8, 40):
            stdtr.append([df, t, float(special.stdtr(df, t))])
    betainc = []
    for a in (0.5, 1, 2.5, 10, 50, 300):
        for b in (0.5, 1, 3, 20, 250):
            for x in (1e-6, 0.01, 0.2, 0.5, 0.8, 0.99, 0.999999):
                betainc.append([a, b, x, float(special.betainc(a, b, x))])
    return {"erfc": erfc, "ndtr": ndtr, "stdtr": stdtr, "betainc": betainc}


def main():
    kendall_cases()
    wilcoxon_cases()
    mwu_cases()
    ttest_cases()
    holm_cases()
    out = {
        "generator": "scripts/reference/scipy_stats.py",
        "scipy_version": scipy.__version__,
        "numpy_version": np.__version__,
        "statsmodels_version": statsmodels.__version__,
        "python_version": platform.python_version(),
        "kendalltau": kendall,
        "wilcoxon": wilcoxon,
        "mannwhitneyu": mwu,
        "ttest_rel": ttest,
        "holm": holm,
        "special": special_cases(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    sp = out["special"]
    print(f"wrote {os.path.relpath(OUT)}: kendalltau {len(kendall)}, wilcoxon {len(wilcoxon)}, "
          f"mannwhitneyu {len(mwu)}, ttest_rel {len(ttest)}, holm {len(holm)}, special "
          f"{sum(len(v) for v in sp.values())} (SciPy {scipy.__version__})")


if __name__ == "__main__":
    main()
